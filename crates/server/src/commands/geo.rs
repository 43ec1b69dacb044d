//! Geo commands (Redis's geo.c command half): GEOADD, GEODIST, GEOHASH,
//! GEOPOS, GEORADIUS, GEORADIUSBYMEMBER and their `_RO` forms, GEOSEARCH
//! and GEOSEARCHSTORE. A geo set is a sorted set scored by geohashes;
//! `types::geo` does the computation, this file the arguments and replies.
//!
//! GEOADD is ZADD underneath, as in Redis 7.0: it turns each `longitude
//! latitude member` into `score member` and runs ZADD on the rewritten
//! arguments, so its reply, its `zadd` event, its dirty count and what it
//! propagates (the `zadd …` command itself) are ZADD's.
//!
//! The searches check what Redis checks in Redis's order: the source key's
//! type, then the centre and radius (GEORADIUS*), then each option as it
//! comes (a FROMMEMBER that is missing fails there), then the combinations.
//! A missing source key answers an empty array, or 0 with STORE after
//! deleting the destination. STORE, STOREDIST and GEOSEARCHSTORE write a
//! sorted set (scores are the geohashes, or the distances in the unit with
//! STOREDIST) with a `georadiusstore` or `geosearchstore` event and one
//! dirty change per member stored, and propagate as themselves.

use bytes::Bytes;
use resp::encode as enc;

use super::f::*;
use super::zset::{reply_per_member, store_result, zadd, zset_read};
use super::{cmd, eq, lookup_read_in, parse_float, parse_int, CommandSpec, Ctx, KeywordKey, KEY1};
use crate::engine::Engine;
use crate::error::*;
use crate::keyspace::Value;
use crate::types::geo::{self, Extent, Order, Shape};
use crate::types::zset::{ZAddFlags, ZSet};
use crate::util::num::{fmt_fixed, fmt_human, parse_f64};

const G: &str = "geo";
/// GEOSEARCHSTORE: the destination at 1, the source at 2.
const KEYS12: (i32, i32, i32) = (1, 2, 1);
/// GEORADIUS's STORE and STOREDIST destinations.
const STORE_KEYS_AFTER_6: &[KeywordKey] = &[
    KeywordKey {
        keyword: "STORE",
        from: 6,
    },
    KeywordKey {
        keyword: "STOREDIST",
        from: 6,
    },
];
/// GEORADIUSBYMEMBER's STORE and STOREDIST destinations.
const STORE_KEYS_AFTER_5: &[KeywordKey] = &[
    KeywordKey {
        keyword: "STORE",
        from: 5,
    },
    KeywordKey {
        keyword: "STOREDIST",
        from: 5,
    },
];

/// The geo commands.
pub static COMMANDS: &[CommandSpec] = &[
    cmd("geoadd", -5, WRITE | DENYOOM, KEY1, G, "3.2.0",
        "Add one or more geospatial items in the geospatial index represented using a sorted set", geoadd),
    cmd("geodist", -4, READONLY, KEY1, G, "3.2.0",
        "Returns the distance between two members of a geospatial index", geodist),
    cmd("geohash", -2, READONLY, KEY1, G, "3.2.0",
        "Returns members of a geospatial index as standard geohash strings", geohash),
    cmd("geopos", -2, READONLY, KEY1, G, "3.2.0",
        "Returns longitude and latitude of members of a geospatial index", geopos),
    cmd("georadius", -6, WRITE | DENYOOM, KEY1, G, "3.2.0",
        "Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a point", georadius)
        .keys_after(STORE_KEYS_AFTER_6),
    cmd("georadius_ro", -6, READONLY, KEY1, G, "3.2.10",
        "A read-only variant for GEORADIUS", georadius_ro),
    cmd("georadiusbymember", -5, WRITE | DENYOOM, KEY1, G, "3.2.0",
        "Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a member", georadiusbymember)
        .keys_after(STORE_KEYS_AFTER_5),
    cmd("georadiusbymember_ro", -5, READONLY, KEY1, G, "3.2.10",
        "A read-only variant for GEORADIUSBYMEMBER", georadiusbymember_ro),
    cmd("geosearch", -7, READONLY, KEY1, G, "6.2.0",
        "Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle.", geosearch),
    cmd("geosearchstore", -8, WRITE | DENYOOM, KEYS12, G, "6.2.0",
        "Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle, and store the result in another key.", geosearchstore),
];

// ---- error texts (Redis 7.0's, exactly) ---------------------------------

const BAD_UNIT: &str = "ERR unsupported unit provided. please use M, KM, FT, MI";
const NO_MEMBER: &str = "ERR could not decode requested zset member";
const RADIUS_NOT_NUMBER: &str = "ERR need numeric radius";
const RADIUS_NEGATIVE: &str = "ERR radius cannot be negative";
const WIDTH_NOT_NUMBER: &str = "ERR need numeric width";
const HEIGHT_NOT_NUMBER: &str = "ERR need numeric height";
const BOX_NEGATIVE: &str = "ERR height or width cannot be negative";
const COUNT_NOT_POSITIVE: &str = "ERR COUNT must be > 0";
const ANY_WITHOUT_COUNT: &str = "ERR the ANY argument requires COUNT argument";

// ---- argument helpers -------------------------------------------------------

/// An option word, compared as C's `strcasecmp` sees the argument: up to
/// its first NUL byte.
fn is(arg: &[u8], word: &str) -> bool {
    let end = arg.iter().position(|&b| b == 0).unwrap_or(arg.len());
    eq(&arg[..end], word)
}

/// `longitude latitude`, both floats within the indexable limits.
fn parse_lon_lat(lon: &[u8], lat: &[u8]) -> CmdResult<[f64; 2]> {
    let lon = parse_float(lon)?;
    let lat = parse_float(lat)?;
    if !(geo::LON_MIN..=geo::LON_MAX).contains(&lon)
        || !(geo::LAT_MIN..=geo::LAT_MAX).contains(&lat)
    {
        return Err(CmdError::msg(format!(
            "ERR invalid longitude,latitude pair {lon:.6},{lat:.6}"
        )));
    }
    Ok([lon, lat])
}

/// Metres per unit.
fn parse_unit(arg: &[u8]) -> CmdResult<f64> {
    if is(arg, "m") {
        Ok(1.0)
    } else if is(arg, "km") {
        Ok(1000.0)
    } else if is(arg, "ft") {
        Ok(0.3048)
    } else if is(arg, "mi") {
        Ok(1609.34)
    } else {
        Err(BAD_UNIT.into())
    }
}

/// A non-negative float, or the error `msg`.
fn parse_size(arg: &[u8], msg: &'static str) -> CmdResult<f64> {
    parse_f64(arg).ok_or(CmdError::fixed(msg))
}

/// `radius unit`: the radius and metres per unit.
fn parse_radius(radius: &[u8], unit: &[u8]) -> CmdResult<(Extent, f64)> {
    let r = parse_size(radius, RADIUS_NOT_NUMBER)?;
    if r < 0.0 {
        return Err(RADIUS_NEGATIVE.into());
    }
    Ok((Extent::Radius(r), parse_unit(unit)?))
}

/// `width height unit`: the box and metres per unit.
fn parse_box(width: &[u8], height: &[u8], unit: &[u8]) -> CmdResult<(Extent, f64)> {
    let width = parse_size(width, WIDTH_NOT_NUMBER)?;
    let height = parse_size(height, HEIGHT_NOT_NUMBER)?;
    if height < 0.0 || width < 0.0 {
        return Err(BOX_NEGATIVE.into());
    }
    Ok((Extent::Box { width, height }, parse_unit(unit)?))
}

/// Where `member` of the geo set is.
fn member_point(z: &ZSet, member: &[u8]) -> CmdResult<[f64; 2]> {
    z.score(member)
        .map(geo::decode_score)
        .ok_or(CmdError::fixed(NO_MEMBER))
}

// ---- GEOADD / GEODIST / GEOHASH / GEOPOS ---------------------------------------

/// GEOADD key [NX|XX] [CH] longitude latitude member [...]: ZADD with the
/// points' geohashes as scores.
fn geoadd(c: &mut Ctx) -> CmdResult {
    let argc = c.args.len();
    let (mut nx, mut xx) = (false, false);
    let mut first = 2;
    // The options go on to ZADD as they are (CH included), so they are
    // recognised as ZADD recognises them.
    while first < argc {
        let o = c.arg(first);
        if eq(o, "nx") {
            nx = true;
        } else if eq(o, "xx") {
            xx = true;
        } else if !eq(o, "ch") {
            break;
        }
        first += 1;
    }
    if (argc - first) % 3 != 0 || (nx && xx) {
        return Err(SYNTAX.into());
    }
    let mut zadd_args = Vec::with_capacity(first + (argc - first) / 3 * 2);
    zadd_args.push(Bytes::from_static(b"zadd"));
    zadd_args.extend_from_slice(&c.args[1..first]);
    for point in c.args[first..].chunks_exact(3) {
        let [lon, lat] = parse_lon_lat(&point[0], &point[1])?;
        let score = geo::score_of(lon, lat).unwrap_or(0);
        let text = itoa::Buffer::new().format(score).as_bytes().to_vec();
        zadd_args.push(Bytes::from(text));
        zadd_args.push(point[2].clone());
    }
    // Run as ZADD and propagate as ZADD (as Redis rewrites the command),
    // while the slow log and MONITOR keep the GEOADD the client sent.
    let original = std::mem::replace(&mut c.args, zadd_args);
    let res = zadd(c);
    let ran = std::mem::replace(&mut c.args, original);
    if c.propagate_as.is_none() {
        c.propagate_instead(vec![ran.iter().map(|a| a.to_vec()).collect()]);
    }
    res
}

/// GEODIST key member1 member2 [unit]
fn geodist(c: &mut Ctx) -> CmdResult {
    let to_meters = match c.args.len() {
        4 => 1.0,
        5 => parse_unit(c.arg(4))?,
        _ => return Err(SYNTAX.into()),
    };
    let key = c.args[1].clone();
    let (a, b) = (c.args[2].clone(), c.args[3].clone());
    let (z, out, proto) = zset_read(c, &key)?;
    match z.and_then(|z| Some((z.score(&a)?, z.score(&b)?))) {
        None => enc::null(out, proto),
        Some((sa, sb)) => {
            let [lon1, lat1] = geo::decode_score(sa);
            let [lon2, lat2] = geo::decode_score(sb);
            let d = geo::distance(lon1, lat1, lon2, lat2) / to_meters;
            enc::bulk(out, fmt_fixed(d, 4).as_bytes());
        }
    }
    Ok(())
}

/// GEOHASH key [member ...]: 11-character standard geohashes.
fn geohash(c: &mut Ctx) -> CmdResult {
    reply_per_member(
        c,
        |out, _, score| enc::bulk(out, &geo::geohash_string(score)),
        enc::null,
    )
}

/// GEOPOS key [member ...]: [longitude, latitude] pairs.
fn geopos(c: &mut Ctx) -> CmdResult {
    reply_per_member(
        c,
        |out, proto, score| {
            let [lon, lat] = geo::decode_score(score);
            enc::array_len(out, 2);
            enc::double(out, proto, fmt_human(lon).as_bytes());
            enc::double(out, proto, fmt_human(lat).as_bytes());
        },
        enc::null_array,
    )
}

// ---- the searches ---------------------------------------------------------------

/// How a search command names its centre.
#[derive(Clone, Copy, PartialEq, Eq)]
enum From {
    /// GEORADIUS[_RO]: longitude and latitude after the key.
    Coords,
    /// GEORADIUSBYMEMBER[_RO]: a member after the key.
    Member,
    /// GEOSEARCH[STORE]: FROMMEMBER or FROMLONLAT among the options.
    Options,
}

/// Which search command runs.
#[derive(Clone, Copy)]
struct Variant {
    from: From,
    /// The `_RO` forms: no STORE/STOREDIST.
    read_only: bool,
    /// GEOSEARCHSTORE: the destination comes first, STOREDIST is a flag.
    search_store: bool,
}

/// A parsed search.
struct Search {
    shape: Shape,
    /// Destination of STORE/STOREDIST or GEOSEARCHSTORE.
    store: Option<Bytes>,
    /// Store distances instead of geohashes.
    store_dist: bool,
    with_dist: bool,
    with_hash: bool,
    with_coord: bool,
    order: Option<Order>,
    /// COUNT (0 = all).
    count: usize,
    /// COUNT … ANY: stop at `count` found instead of the nearest `count`.
    any: bool,
}

const fn variant(from: From, read_only: bool, search_store: bool) -> Variant {
    Variant {
        from,
        read_only,
        search_store,
    }
}

fn georadius(c: &mut Ctx) -> CmdResult {
    search_generic(c, 1, variant(From::Coords, false, false))
}

fn georadius_ro(c: &mut Ctx) -> CmdResult {
    search_generic(c, 1, variant(From::Coords, true, false))
}

fn georadiusbymember(c: &mut Ctx) -> CmdResult {
    search_generic(c, 1, variant(From::Member, false, false))
}

fn georadiusbymember_ro(c: &mut Ctx) -> CmdResult {
    search_generic(c, 1, variant(From::Member, true, false))
}

fn geosearch(c: &mut Ctx) -> CmdResult {
    search_generic(c, 1, variant(From::Options, false, false))
}

fn geosearchstore(c: &mut Ctx) -> CmdResult {
    search_generic(c, 2, variant(From::Options, false, true))
}

/// Parses a search's arguments after the source key, in Redis's order
/// (`z` is the source, when it exists: FROMMEMBER and GEORADIUSBYMEMBER
/// look their member up as they parse it).
fn parse_search(args: &[Bytes], z: Option<&ZSet>, v: Variant) -> CmdResult<Search> {
    let argc = args.len();
    let mut q = Search {
        shape: Shape {
            lon: 0.0,
            lat: 0.0,
            to_meters: 0.0,
            extent: Extent::Radius(0.0),
        },
        store: None,
        store_dist: false,
        with_dist: false,
        with_hash: false,
        with_coord: false,
        order: None,
        count: 0,
        any: false,
    };
    let set_centre = |q: &mut Search, [lon, lat]: [f64; 2]| {
        q.shape.lon = lon;
        q.shape.lat = lat;
    };
    let set_extent = |q: &mut Search, (extent, to_meters): (Extent, f64)| {
        q.shape.extent = extent;
        q.shape.to_meters = to_meters;
    };
    let mut i = match v.from {
        From::Coords => {
            set_centre(&mut q, parse_lon_lat(&args[2], &args[3])?);
            set_extent(&mut q, parse_radius(&args[4], &args[5])?);
            6
        }
        From::Member => {
            // Without a source there is nothing to look up; the options
            // are still checked.
            if let Some(z) = z {
                set_centre(&mut q, member_point(z, &args[2])?);
                set_extent(&mut q, parse_radius(&args[3], &args[4])?);
            }
            5
        }
        From::Options if v.search_store => {
            q.store = Some(args[1].clone());
            3
        }
        From::Options => 2,
    };
    let search = v.from == From::Options;
    let can_store = !v.read_only && !search;
    let (mut from_member, mut from_lonlat, mut by_radius, mut by_box) =
        (false, false, false, false);
    while i < argc {
        let a = &args[i];
        // How many arguments follow this one.
        let more = argc - i - 1;
        if is(a, "withdist") {
            q.with_dist = true;
        } else if is(a, "withhash") {
            q.with_hash = true;
        } else if is(a, "withcoord") {
            q.with_coord = true;
        } else if is(a, "any") {
            q.any = true;
        } else if is(a, "asc") {
            q.order = Some(Order::Asc);
        } else if is(a, "desc") {
            q.order = Some(Order::Desc);
        } else if is(a, "count") && more >= 1 {
            let n = parse_int(&args[i + 1])?;
            if n <= 0 {
                return Err(COUNT_NOT_POSITIVE.into());
            }
            q.count = usize::try_from(n).unwrap_or(usize::MAX);
            i += 1;
        } else if (is(a, "store") || is(a, "storedist")) && more >= 1 && can_store {
            q.store = Some(args[i + 1].clone());
            q.store_dist = is(a, "storedist");
            i += 1;
        } else if is(a, "storedist") && v.search_store {
            q.store_dist = true;
        } else if is(a, "frommember") && more >= 1 && search && !from_lonlat {
            if let Some(z) = z {
                set_centre(&mut q, member_point(z, &args[i + 1])?);
            }
            from_member = true;
            i += 1;
        } else if is(a, "fromlonlat") && more >= 2 && search && !from_member {
            set_centre(&mut q, parse_lon_lat(&args[i + 1], &args[i + 2])?);
            from_lonlat = true;
            i += 2;
        } else if is(a, "byradius") && more >= 2 && search && !by_box {
            set_extent(&mut q, parse_radius(&args[i + 1], &args[i + 2])?);
            by_radius = true;
            i += 2;
        } else if is(a, "bybox") && more >= 3 && search && !by_radius {
            set_extent(&mut q, parse_box(&args[i + 1], &args[i + 2], &args[i + 3])?);
            by_box = true;
            i += 3;
        } else {
            return Err(SYNTAX.into());
        }
        i += 1;
    }
    if q.store.is_some() && (q.with_dist || q.with_hash || q.with_coord) {
        let what = if v.search_store {
            "GEOSEARCHSTORE"
        } else {
            "STORE option in GEORADIUS"
        };
        return Err(CmdError::msg(format!(
            "ERR {what} is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
        )));
    }
    let name = String::from_utf8_lossy(&args[0]);
    if search && !(from_member || from_lonlat) {
        return Err(CmdError::msg(format!(
            "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for {name}"
        )));
    }
    if search && !(by_radius || by_box) {
        return Err(CmdError::msg(format!(
            "ERR exactly one of BYRADIUS and BYBOX can be specified for {name}"
        )));
    }
    if q.any && q.count == 0 {
        return Err(ANY_WITHOUT_COUNT.into());
    }
    Ok(q)
}

/// The search's source as its lookup found it (`exists`): a replica may
/// keep an expired key that reads as missing.
fn source<'e>(eng: &'e Engine, db: usize, key: &[u8], exists: bool) -> Option<&'e ZSet> {
    match eng.keyspace().db(db).get(key).map(|e| &e.value) {
        Some(Value::ZSet(z)) if exists => Some(z),
        _ => None,
    }
}

/// Redis's georadiusGeneric: every search command, with the source key at
/// `src`.
fn search_generic(c: &mut Ctx, src: usize, v: Variant) -> CmdResult {
    let key = c.args[src].clone();
    let (db, from_master) = (c.cl.db, c.from_master);
    let exists = match lookup_read_in(c.eng, db, &key, from_master) {
        None => false,
        Some(e) if matches!(e.value, Value::ZSet(_)) => true,
        Some(_) => return Err(WRONGTYPE.into()),
    };
    let limits = c.zset_limits();
    let q = parse_search(&c.args, source(c.eng, db, &key, exists), v)?;
    let Some(z) = source(c.eng, db, &key, exists) else {
        match &q.store {
            Some(dst) => store_result(c, dst, ZSet::new(), "", 0),
            None => c.array(0),
        }
        return Ok(());
    };
    // COUNT alone means the nearest ones.
    let order = q.order.or((q.count != 0 && !q.any).then_some(Order::Asc));
    let mut found = geo::search(z, &q.shape, if q.any { q.count } else { 0 });
    if found.is_empty() && q.store.is_none() {
        c.array(0);
        return Ok(());
    }
    let n = if q.count == 0 {
        found.len()
    } else {
        found.len().min(q.count)
    };
    if let Some(order) = order {
        geo::sort_found(&mut found, order, n);
    }
    let to_meters = q.shape.to_meters;
    let Some(dst) = q.store else {
        let (proto, out) = (c.cl.proto, &mut *c.out);
        let extras =
            usize::from(q.with_dist) + usize::from(q.with_hash) + usize::from(q.with_coord);
        enc::array_len(out, n);
        for f in &found[..n] {
            if extras > 0 {
                enc::array_len(out, extras + 1);
            }
            enc::bulk(out, f.member);
            if q.with_dist {
                enc::bulk(out, fmt_fixed(f.dist / to_meters, 4).as_bytes());
            }
            if q.with_hash {
                enc::integer(out, geo::score_as_i64(f.score));
            }
            if q.with_coord {
                enc::array_len(out, 2);
                enc::double(out, proto, fmt_human(f.lon).as_bytes());
                enc::double(out, proto, fmt_human(f.lat).as_bytes());
            }
        }
        return Ok(());
    };
    let mut result = ZSet::new_skiplist();
    for f in &found[..n] {
        let score = if q.store_dist {
            f.dist / to_meters
        } else {
            f.score
        };
        // Only a NaN distance could fail, which points GEOADD wrote never
        // have (Redis would stop on an assertion).
        let _ = result.add(f.member, score, ZAddFlags::default(), &limits);
    }
    result.convert_to_listpack_if_fits(&limits);
    let event = if v.from == From::Options {
        "geosearchstore"
    } else {
        "georadiusstore"
    };
    store_result(c, &dst, result, event, n as u64);
    Ok(())
}

#[cfg(test)]
mod tests {
    //! What geo writes propagate: GEOADD as the ZADD it runs, the STORE
    //! forms as themselves, and nothing when nothing changed.

    use crate::commands::testkit::Harness as T;

    #[test]
    fn propagates_as_redis() {
        let mut t = T::new();
        let a = t.client();
        t.run(
            a,
            &["GEOADD", "g", "CH", "13.361389", "38.115556", "Palermo"],
        );
        t.run(
            a,
            &["GEOADD", "g", "nx", "15.087269", "37.502669", "Catania"],
        );
        t.run(
            a,
            &["GEORADIUS", "g", "15", "37", "200", "km", "STORE", "r"],
        );
        t.run(
            a,
            &[
                "GEOSEARCHSTORE",
                "s",
                "g",
                "FROMLONLAT",
                "15",
                "37",
                "BYRADIUS",
                "1",
                "m",
            ],
        );
        t.run(a, &["GEORADIUS", "g", "15", "37", "200", "km", "WITHDIST"]);
        assert_eq!(
            t.propagated(),
            [
                "zadd g CH 3479099956230698 Palermo",
                "zadd g nx 3479447370796909 Catania",
                "GEORADIUS g 15 37 200 km STORE r",
            ]
        );
        // No change: no propagation (NX on a member, XX on none, an empty
        // result over a missing destination).
        t.run(a, &["GEOADD", "g", "NX", "1", "1", "Palermo"]);
        t.run(a, &["GEOADD", "g", "XX", "1", "1", "nosuch"]);
        t.run(a, &["GEOADD", "g", "1", "100", "bad"]);
        t.run(
            a,
            &["GEORADIUS", "nokey", "0", "0", "1", "km", "STORE", "none"],
        );
        assert_eq!(t.propagated(), Vec::<String>::new());
        t.run(
            a,
            &["GEORADIUS", "nokey", "0", "0", "1", "km", "STOREDIST", "r"],
        );
        assert_eq!(t.propagated(), ["GEORADIUS nokey 0 0 1 km STOREDIST r"]);
    }
}
