//! What the `resp_decode` fuzz target checks. Any input may be refused
//! with an error; what must hold is:
//!
//! - `RequestDecoder` never panics or loops, every command it returns
//!   consumed bytes and has at least one argument, and feeding the same
//!   bytes in pieces yields the same commands (one side may stop earlier
//!   with an error: the inline length limit depends on how much is
//!   buffered without a line end, in Redis too);
//! - `decode_frame` never panics, and a frame it returns re-encodes to
//!   bytes that decode whole to a frame encoding to the same bytes, with
//!   every strict prefix of them incomplete.

use bytes::{Bytes, BytesMut};
use resp::{decode_frame, encode_frame, Limits, RequestDecoder};

/// Runs every check on `data`.
pub fn decode(data: &[u8]) {
    requests(data);
    frames(data);
}

fn limits(data: &[u8]) -> Limits {
    // The first byte picks tight limits sometimes, to reach their errors.
    match data.first().map(|b| b % 4) {
        Some(0) => Limits {
            max_inline_len: 32,
            max_bulk_len: 64,
            max_multibulk_len: 16,
            auth_required: false,
        },
        Some(1) => Limits {
            auth_required: true,
            ..Limits::default()
        },
        _ => Limits::default(),
    }
}

/// Decodes commands from `pieces` appended one after the other; stops at
/// the first error. Returns the commands and whether an error ended it.
fn commands<'a>(
    pieces: impl Iterator<Item = &'a [u8]>,
    limits: &Limits,
) -> (Vec<Vec<Bytes>>, bool) {
    let mut dec = RequestDecoder::new();
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for piece in pieces {
        buf.extend_from_slice(piece);
        loop {
            let before = buf.len();
            match dec.decode(&mut buf, limits) {
                Ok(Some(args)) => {
                    assert!(!args.is_empty(), "a command without arguments");
                    assert!(buf.len() < before, "a command consumed no bytes");
                    out.push(args);
                }
                Ok(None) => break,
                Err(e) => {
                    let _ = e.message();
                    return (out, true);
                }
            }
        }
    }
    (out, false)
}

fn requests(data: &[u8]) {
    let limits = limits(data);
    let (whole, whole_err) = commands(std::iter::once(data), &limits);
    // Pieces of 1 to 16 bytes, sizes taken from the data itself.
    let mut pieces = Vec::new();
    let mut rest = data;
    let mut i = 0;
    while !rest.is_empty() {
        let n = 1 + usize::from(data.get(i % data.len()).copied().unwrap_or(0) % 16);
        let (piece, tail) = rest.split_at(n.min(rest.len()));
        pieces.push(piece);
        rest = tail;
        i += 1;
    }
    let (split, split_err) = commands(pieces.into_iter(), &limits);
    let common = whole.len().min(split.len());
    assert_eq!(
        whole.get(..common),
        split.get(..common),
        "chunking changed the commands"
    );
    if !whole_err && !split_err {
        assert_eq!(whole.len(), split.len(), "chunking changed the commands");
    }
}

fn frames(data: &[u8]) {
    let limits = Limits::default();
    let mut rest = data;
    while let Ok(Some((frame, n))) = decode_frame(rest, &limits) {
        assert!(
            n > 0 && n <= rest.len(),
            "frame length {n} of {}",
            rest.len()
        );
        let mut wire = Vec::new();
        encode_frame(&mut wire, &frame);
        let (again, m) = match decode_frame(&wire, &limits) {
            Ok(Some(x)) => x,
            other => panic!("re-encoded {frame:?} as {wire:?}, which decodes as {other:?}"),
        };
        assert_eq!(m, wire.len(), "re-encoded frame not decoded whole");
        let mut wire2 = Vec::new();
        encode_frame(&mut wire2, &again);
        assert_eq!(wire, wire2, "frame changed through encode/decode");
        if wire.len() <= 256 {
            for cut in 0..wire.len() {
                let prefix = wire.get(..cut).unwrap_or_default();
                assert_eq!(decode_frame(prefix, &limits), Ok(None), "prefix {cut}");
            }
        }
        rest = rest.get(n..).unwrap_or_default();
    }
}
