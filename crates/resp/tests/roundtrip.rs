//! Property tests: what we encode, we decode back unchanged, however the
//! bytes are chunked on the way.

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;
use resp::{decode_frame, encode, encode_frame, split_args, Frame, Limits, RequestDecoder};

/// Bytes for a line type: anything but `\r` and `\n`.
fn line() -> impl Strategy<Value = Bytes> {
    proptest::collection::vec(
        any::<u8>().prop_filter("no CR/LF", |b| *b != b'\r' && *b != b'\n'),
        0..16,
    )
    .prop_map(Bytes::from)
}

fn blob() -> impl Strategy<Value = Bytes> {
    proptest::collection::vec(any::<u8>(), 0..32).prop_map(Bytes::from)
}

fn leaf() -> impl Strategy<Value = Frame> {
    prop_oneof![
        line().prop_map(Frame::Simple),
        line().prop_map(Frame::Error),
        any::<i64>().prop_map(Frame::Integer),
        blob().prop_map(Frame::Bulk),
        Just(Frame::NullBulk),
        Just(Frame::NullArray),
        Just(Frame::Null),
        // NaN != NaN, so it is tested by hand in frame.rs.
        any::<f64>()
            .prop_filter("not NaN", |d| !d.is_nan())
            .prop_map(Frame::Double),
        Just(Frame::Double(f64::INFINITY)),
        Just(Frame::Double(f64::NEG_INFINITY)),
        any::<bool>().prop_map(Frame::Boolean),
        "-?[0-9]{1,40}".prop_map(|s| Frame::BigNumber(Bytes::from(s))),
        (any::<[u8; 3]>(), blob()).prop_map(|(format, text)| Frame::Verbatim { format, text }),
        blob().prop_map(Frame::BulkError),
    ]
}

fn frame() -> impl Strategy<Value = Frame> {
    leaf().prop_recursive(4, 64, 6, |inner| {
        let items = proptest::collection::vec(inner.clone(), 0..6);
        let pairs = proptest::collection::vec((inner.clone(), inner.clone()), 0..4);
        prop_oneof![
            items.clone().prop_map(Frame::Array),
            items.clone().prop_map(Frame::Set),
            items.prop_map(Frame::Push),
            pairs.clone().prop_map(Frame::Map),
            (pairs, inner).prop_map(|(attrs, value)| Frame::Attribute {
                attrs,
                value: Box::new(value)
            }),
        ]
    })
}

/// Cuts `len` bytes into pieces at the given (sorted, deduplicated) points.
fn pieces(data: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (data.len() + 1)).collect();
    points.push(0);
    points.push(data.len());
    points.sort_unstable();
    points.dedup();
    points
        .windows(2)
        .filter_map(|w| data.get(w[0]..w[1]).map(<[u8]>::to_vec))
        .collect()
}

proptest! {
    #[test]
    fn frame_round_trip(frames in proptest::collection::vec(frame(), 1..4), cuts in proptest::collection::vec(any::<usize>(), 0..8)) {
        let mut wire = Vec::new();
        for f in &frames {
            encode_frame(&mut wire, f);
        }
        // Whole buffer: frames come back one by one.
        let limits = Limits::default();
        let mut pos = 0;
        for f in &frames {
            let (g, n) = decode_frame(&wire[pos..], &limits).unwrap().unwrap();
            prop_assert_eq!(&g, f);
            pos += n;
        }
        prop_assert_eq!(pos, wire.len());
        // Growing buffer, as a reader would see it.
        let mut buf = Vec::new();
        let mut got = Vec::new();
        for piece in pieces(&wire, &cuts) {
            buf.extend_from_slice(&piece);
            while let Some((g, n)) = decode_frame(&buf, &limits).unwrap() {
                got.push(g);
                buf.drain(..n);
            }
        }
        prop_assert!(buf.is_empty());
        prop_assert_eq!(got, frames);
    }

    #[test]
    fn every_strict_prefix_is_incomplete(f in frame()) {
        let mut wire = Vec::new();
        encode_frame(&mut wire, &f);
        for cut in 0..wire.len() {
            prop_assert_eq!(decode_frame(&wire[..cut], &Limits::default()), Ok(None));
        }
    }

    #[test]
    fn command_round_trip(
        cmds in proptest::collection::vec(proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 1..6), 1..5),
        cuts in proptest::collection::vec(any::<usize>(), 0..12),
    ) {
        let mut wire = Vec::new();
        for c in &cmds {
            let args: Vec<&[u8]> = c.iter().map(Vec::as_slice).collect();
            encode::command(&mut wire, &args);
        }
        let limits = Limits::default();
        let mut dec = RequestDecoder::new();
        let mut buf = BytesMut::new();
        let mut got: Vec<Vec<Vec<u8>>> = Vec::new();
        for piece in pieces(&wire, &cuts) {
            buf.extend_from_slice(&piece);
            while let Some(args) = dec.decode(&mut buf, &limits).unwrap() {
                got.push(args.iter().map(|a| a.to_vec()).collect());
            }
        }
        prop_assert!(buf.is_empty());
        prop_assert!(!dec.in_progress());
        prop_assert_eq!(got, cmds);
    }

    /// The request decoder never panics and never errs on a prefix of
    /// valid input, and whatever garbage it gets it either errs, waits, or
    /// makes progress.
    #[test]
    fn request_decoder_survives_garbage(data in proptest::collection::vec(any::<u8>(), 0..200)) {
        let limits = Limits { max_inline_len: 64, ..Limits::default() };
        let mut dec = RequestDecoder::new();
        let mut buf = BytesMut::from(&data[..]);
        for _ in 0..1000 {
            let before = buf.len();
            match dec.decode(&mut buf, &limits) {
                Ok(Some(args)) => prop_assert!(!args.is_empty()),
                Ok(None) | Err(_) => break,
            }
            prop_assert!(buf.len() < before || dec.in_progress());
        }
    }

    #[test]
    fn frame_decoder_survives_garbage(data in proptest::collection::vec(any::<u8>(), 0..200)) {
        if let Ok(Some((f, n))) = decode_frame(&data, &Limits::default()) {
            prop_assert!(n <= data.len());
            // What it accepted, it can write out and read again.
            let mut out = Vec::new();
            encode_frame(&mut out, &f);
            let again = decode_frame(&out, &Limits::default()).unwrap().unwrap().0;
            // NaN aside, the value survives.
            let same = again == f || format!("{:?}", again).contains("NaN");
            prop_assert!(same);
        }
    }

    /// A line of plain words always splits back into them.
    #[test]
    fn split_args_words(words in proptest::collection::vec("[a-zA-Z0-9_:.-]{1,8}", 0..8)) {
        let line = words.join(" ");
        let got = split_args(line.as_bytes()).unwrap();
        let want: Vec<Vec<u8>> = words.iter().map(|w| w.as_bytes().to_vec()).collect();
        prop_assert_eq!(got, want);
    }

    /// Any bytes, quoted with \xHH escapes, split back into themselves (the
    /// form `sdscatrepr` writes and `CONFIG REWRITE` relies on).
    #[test]
    fn split_args_hex_quoted(args in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..12), 0..5)) {
        let mut line = Vec::new();
        for a in &args {
            line.extend_from_slice(b" \"");
            for b in a {
                line.extend_from_slice(format!("\\x{b:02x}").as_bytes());
            }
            line.push(b'"');
        }
        prop_assert_eq!(split_args(&line).unwrap(), args);
    }
}
