//! Geo commands against a real redis-server: every command and option,
//! the error texts, RESP2 and RESP3, seeded random searches worldwide and
//! near the poles and the antimeridian (replies compared byte for byte,
//! order included), the sorted sets the STORE forms write, their events,
//! dirty counts and WATCH, and the replication of all writes to a
//! redis-server replica.

use std::time::Duration;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use crate::util::{wait_for, wait_same_digest, wait_up, Diff, Raw, Server};

/// A command written as one string, arguments separated by spaces.
fn words(c: &str) -> Vec<&str> {
    c.split(' ').collect()
}

/// Sends each command to both servers, requiring identical replies.
fn all_same(d: &mut Diff, cmds: &[&str]) {
    for c in cmds {
        d.same_str(&words(c));
    }
}

/// Redis's unit/geo example set.
const NYC: &str = concat!(
    "GEOADD nyc -73.9454966 40.747533 lic_market -73.9733487 40.7648057 central_park_n/q/r ",
    "-73.9903085 40.7362513 union_square -74.0131604 40.7126674 wtc_one ",
    "-73.7858139 40.6428986 jfk -73.9375699 40.7498929 q4 -73.9564142 40.7480973 4545"
);

/// Fixed cases: each command, each option, each error, in both protocols.
#[test]
fn geo_commands_match_redis() {
    let mut d = Diff::start(&[]);
    for proto in ["2", "3"] {
        d.both(&[b"HELLO", proto.as_bytes()]);
        d.same_str(&["FLUSHALL"]);
        d.same_str(&["SET", "str", "x"]);
        all_same(&mut d, &[NYC]);
        all_same(
            &mut d,
            &[
                // GEOADD: options, CH, updates, errors in Redis's order.
                "GEOADD nyc -73.9454966 40.747533 lic_market",
                "GEOADD nyc CH 40.747533 -73.9454966 lic_market",
                "GEOADD nyc NX -73.9454966 40.747533 lic_market",
                "GEOADD nyc XX -83.9454966 40.747533 lic_market",
                "GEOADD nyc ch nx -73.9454966 40.747533 lic_market",
                "GEOADD nyc CH XX -73.9454966 40.747533 lic_market",
                "GEOADD nyc XX 1 2 nosuch",
                "GEOADD nyc xx nx 1 2 m",
                "GEOADD nyc ch xx foo 1 2 m",
                "GEOADD nyc CH NX XX",
                "GEOADD nyc CH CH CH",
                "GEOADD nyc 1 2 m 3",
                "GEOADD nyc GT 1 2 m",
                "GEOADD nyc INCR 1 2",
                "GEOADD nyc 1 2 m foo bar luck",
                "GEOADD nyc 1 2 m 3 bar luck",
                "GEOADD nyc 200 100 m",
                "GEOADD nyc 10 85.06 m",
                "GEOADD nyc -180.0000001 0 m",
                "GEOADD nyc 1e300 -1e300 m",
                "GEOADD nyc inf 0 m",
                "GEOADD nyc -0 -inf m",
                "GEOADD nyc 0.0078125 100.0000005 m",
                "GEOADD nyc nan 0 m",
                "GEOADD nyc _1 0 m",
                "GEOADD nyc 1e400 0 m",
                "GEOADD str 1 2 m",
                "GEOADD str 1 200 m",
                "GEOADD nyc 1 2",
                "GEOADD nyc 1",
                // The limits themselves are valid.
                "GEOADD edge 180 85.05112878 ne -180 -85.05112878 sw 180 -85.05112878 se -180 85.05112878 nw 0x10 0 hex -0 0 zero",
                "ZRANGE edge 0 -1 WITHSCORES",
                "GEOPOS edge ne sw se nw hex zero none",
                "GEOHASH edge ne sw se nw hex zero none",
                "GEODIST edge ne sw",
                "GEODIST edge ne nw km",
                "GEORADIUS edge 180 85.05112878 100 km WITHCOORD WITHHASH",
                "GEORADIUS edge -180 -85 1000 km WITHDIST ASC",
                "ZRANGE nyc 0 -1 WITHSCORES",
                // GEOPOS / GEOHASH.
                "GEOPOS nyc jfk nosuch q4 4545",
                "GEOPOS nyc",
                "GEOPOS nokey a b",
                "GEOPOS str a",
                "GEOHASH nyc jfk nosuch wtc_one",
                "GEOHASH nyc",
                "GEOHASH nokey a",
                "GEOHASH str a",
                // GEODIST.
                "GEODIST nyc jfk q4",
                "GEODIST nyc q4 jfk",
                "GEODIST nyc jfk jfk",
                "GEODIST nyc jfk q4 km",
                "GEODIST nyc jfk q4 KM",
                "GEODIST nyc jfk q4 ft",
                "GEODIST nyc jfk q4 Mi",
                "GEODIST nyc jfk q4 m",
                "GEODIST nyc jfk q4 yd",
                "GEODIST nyc jfk q4 km x",
                "GEODIST nyc jfk nosuch",
                "GEODIST nyc nosuch jfk km",
                "GEODIST nokey a b",
                "GEODIST nokey a b yd",
                "GEODIST str a b",
                "GEODIST str a b yd",
                "GEODIST nyc jfk",
                // GEORADIUS and GEORADIUS_RO.
                "GEORADIUS nyc -73.9798091 40.7598464 3 km asc",
                "GEORADIUS nyc -73.9798091 40.7598464 3 km",
                "GEORADIUS nyc -73.9798091 40.7598464 10 km desc",
                "GEORADIUS nyc -73.9798091 40.7598464 10 km WITHDIST WITHHASH WITHCOORD",
                "GEORADIUS nyc -73.9798091 40.7598464 10 km withcoord desc",
                "GEORADIUS nyc -73.9798091 40.7598464 10 km WithHash",
                "GEORADIUS nyc -73.9798091 40.7598464 10 km COUNT 3",
                "GEORADIUS nyc -73.9798091 40.7598464 10 km COUNT 3 ANY",
                "GEORADIUS nyc -73.9798091 40.7598464 10 km COUNT 3 ANY ASC",
                "GEORADIUS nyc -73.9798091 40.7598464 10 km COUNT 2 DESC",
                "GEORADIUS nyc -73.9798091 40.7598464 10 km COUNT 100",
                "GEORADIUS nyc -73.9798091 40.7598464 10 km ANY ASC",
                "GEORADIUS nyc -73.9798091 40.7598464 10 km COUNT",
                "GEORADIUS nyc -73.9798091 40.7598464 10 km COUNT 0",
                "GEORADIUS nyc -73.9798091 40.7598464 10 km COUNT -2",
                "GEORADIUS nyc -73.9798091 40.7598464 10 km COUNT x",
                "GEORADIUS nyc -73.9798091 40.7598464 10 km FOO",
                "GEORADIUS nyc -73.9798091 40.7598464 10 km STORE",
                "GEORADIUS nyc -73.9798091 40.7598464 10 km STORE d WITHDIST",
                "GEORADIUS nyc -73.9798091 40.7598464 10 km WITHCOORD STOREDIST d",
                "GEORADIUS nyc -73.9798091 40.7598464 10 km BYBOX",
                "GEORADIUS nyc -73.9798091 40.7598464 10 yd",
                "GEORADIUS nyc -73.9798091 40.7598464 -1 km",
                "GEORADIUS nyc -73.9798091 40.7598464 x km",
                "GEORADIUS nyc -73.9798091 40.7598464 -0 km",
                "GEORADIUS nyc -73.9798091 40.7598464 0 km",
                "GEORADIUS nyc -73.9798091 40.7598464 inf km COUNT 3",
                "GEORADIUS nyc -73.9798091 95 10 km",
                "GEORADIUS nyc x 40 10 km",
                "GEORADIUS nyc 0 0 50000 km WITHCOORD",
                "GEORADIUS nyc -73.9798091 40.7598464 10",
                "GEORADIUS str x 40 10 km",
                "GEORADIUS nokey x 40 10 km",
                "GEORADIUS nokey 1 40 10 km WITHDIST",
                "GEORADIUS nokey 1 40 10 km ANY",
                "GEORADIUS_RO nyc -73.9798091 40.7598464 10 km WITHDIST ASC",
                "GEORADIUS_RO nyc -73.9798091 40.7598464 10 km STORE d",
                "GEORADIUS_RO nyc -73.9798091 40.7598464 10 km STOREDIST d",
                // GEORADIUSBYMEMBER and its _RO form.
                "GEORADIUSBYMEMBER nyc wtc_one 7 km",
                "GEORADIUSBYMEMBER nyc wtc_one 7 km withdist",
                "GEORADIUSBYMEMBER nyc wtc_one 7 km withdist withhash asc",
                "GEORADIUSBYMEMBER nyc wtc_one 7 km count 2 any",
                "GEORADIUSBYMEMBER nyc nosuch 7 km",
                "GEORADIUSBYMEMBER nyc nosuch x km",
                "GEORADIUSBYMEMBER nyc jfk x km",
                "GEORADIUSBYMEMBER nyc jfk 7 parsec",
                "GEORADIUSBYMEMBER nokey jfk x parsec",
                "GEORADIUSBYMEMBER nokey jfk x parsec STORE d",
                "GEORADIUSBYMEMBER nokey jfk x parsec bogus",
                "GEORADIUSBYMEMBER str jfk x parsec",
                "GEORADIUSBYMEMBER_RO nyc q4 5 mi WITHCOORD DESC",
                "GEORADIUSBYMEMBER_RO nyc q4 5 mi STORE d",
                // GEOSEARCH.
                "GEOSEARCH nyc FROMLONLAT -73.9798091 40.7598464 BYBOX 6 6 km ASC",
                "GEOSEARCH nyc fromlonlat -73.9798091 40.7598464 bybox 6 6 km withdist withcoord withhash desc",
                "GEOSEARCH nyc FROMMEMBER wtc_one BYBOX 14 14 km",
                "GEOSEARCH nyc FROMMEMBER wtc_one BYRADIUS 7 km COUNT 3 ANY WITHDIST",
                "GEOSEARCH nyc FROMMEMBER a FROMMEMBER wtc_one BYRADIUS 7 km",
                "GEOSEARCH nyc BYRADIUS x km BYRADIUS 7 km FROMLONLAT -74 40.7",
                "GEOSEARCH nyc FROMLONLAT -73.9798091 40.7598464 FROMMEMBER xxx BYBOX 6 6 km ASC",
                "GEOSEARCH nyc FROMMEMBER jfk FROMLONLAT 1 2 BYBOX 6 6 km",
                "GEOSEARCH nyc BYBOX 3 3 km ASC DESC WITHHASH",
                "geosearch nyc BYBOX 3 3 km ASC DESC WITHHASH",
                "GeoSearch nyc FROMLONLAT 1 2 ASC DESC WITHDIST",
                "GEOSEARCH nyc FROMLONLAT 1 2 BYRADIUS 3 km BYBOX 3 3 km",
                "GEOSEARCH nyc FROMLONLAT 1 2 BYBOX 3 3 km BYRADIUS 3 km",
                "GEOSEARCH nyc FROMLONLAT 1 2 BYBOX 3 3 km STOREDIST",
                "GEOSEARCH nyc FROMLONLAT 1 2 BYBOX 3 3 km STORE d",
                "GEOSEARCH nyc FROMLONLAT 1 2 BYBOX x 3 km",
                "GEOSEARCH nyc FROMLONLAT 1 2 BYBOX 3 x km",
                "GEOSEARCH nyc FROMLONLAT 1 2 BYBOX -3 3 km",
                "GEOSEARCH nyc FROMLONLAT 1 2 BYBOX 3 -3 yd",
                "GEOSEARCH nyc FROMLONLAT 1 2 BYBOX 3 3 yd",
                "GEOSEARCH nyc FROMLONLAT 1 2 BYBOX 3 3",
                "GEOSEARCH nyc FROMLONLAT 1 200 BYBOX 3 3 km",
                "GEOSEARCH nyc FROMLONLAT 1 BYBOX 3 3 km",
                "GEOSEARCH nyc FROMMEMBER nosuch BYBOX 3 3 km",
                "GEOSEARCH nyc FROMMEMBER nosuch BYBOX x 3 km",
                "GEOSEARCH nokey FROMMEMBER nosuch BYBOX 3 3 km",
                "GEOSEARCH nokey FROMMEMBER nosuch BYBOX x 3 km",
                "GEOSEARCH nokey FROMMEMBER nosuch WITHDIST ANY",
                "GEOSEARCH str FROMMEMBER nosuch BYBOX 3 3 km",
                "GEOSEARCH nyc FROMLONLAT -73.9798091 40.7598464 BYRADIUS 10 km COUNT 2 ANY DESC WITHCOORD",
                // GEOSEARCHSTORE.
                "GEOSEARCHSTORE dst nyc FROMLONLAT -73.9798091 40.7598464 BYRADIUS 10 km",
                "ZRANGE dst 0 -1 WITHSCORES",
                "GEOSEARCHSTORE dst nyc FROMLONLAT -73.9798091 40.7598464 BYRADIUS 10 km STOREDIST COUNT 3 DESC",
                "ZRANGE dst 0 -1 WITHSCORES",
                "GEOSEARCHSTORE dst nyc FROMLONLAT -73.9798091 40.7598464 BYRADIUS 10 km WITHDIST",
                "GEOSEARCHSTORE dst nyc FROMLONLAT -73.9798091 40.7598464 BYRADIUS 10 km STORE x",
                "GEOSEARCHSTORE dst nyc FROMLONLAT 0 0 BYRADIUS 10 km",
                "EXISTS dst",
                "GEOSEARCHSTORE nyc nyc FROMMEMBER jfk BYRADIUS 10 km STOREDIST",
                "ZRANGE nyc 0 -1 WITHSCORES",
                "GEOSEARCHSTORE str nokey FROMLONLAT 0 0 BYBOX 1 1 m",
                "EXISTS str",
                "GEOSEARCHSTORE d2 str FROMLONLAT 0 0 BYBOX 1 1 m",
                // Arity.
                "GEOSEARCHSTORE d nyc FROMLONLAT 0 0 BYBOX",
                "GEOSEARCH nyc FROMLONLAT 0 0 BYBOX",
                "GEORADIUSBYMEMBER nyc a 1",
                "GEORADIUS_RO nyc 1 2 3",
                "GEODIST nyc a",
                "GEOHASH",
                "GEOPOS",
            ],
        );
        all_same(&mut d, &[NYC]);
        all_same(
            &mut d,
            &[
                // STORE forms of GEORADIUS*.
                "GEORADIUS nyc -73.9798091 40.7598464 10 km STORE r",
                "ZRANGE r 0 -1 WITHSCORES",
                "OBJECT ENCODING r",
                "GEORADIUS nyc -73.9798091 40.7598464 10 km STOREDIST r ASC COUNT 2",
                "ZRANGE r 0 -1 WITHSCORES",
                "GEORADIUS nyc -73.9798091 40.7598464 10 mi STORE r STOREDIST r2",
                "ZRANGE r2 0 -1 WITHSCORES",
                "GEORADIUSBYMEMBER nyc jfk 30 ft STORE r",
                "ZRANGE r 0 -1 WITHSCORES",
                "GEORADIUSBYMEMBER nyc jfk 30 km storedist r desc",
                "ZRANGE r 0 -1 WITHSCORES",
                "GEORADIUS nyc 0 0 1 km STORE r",
                "EXISTS r",
                "GEORADIUS nokey 0 0 1 km STORE r2",
                "EXISTS r2",
                "DEBUG DIGEST",
            ],
        );
    }
}

// ---- random searches ----------------------------------------------------------

fn lon(rng: &mut SmallRng) -> f64 {
    rng.gen_range(-180.0..=180.0)
}

fn lat(rng: &mut SmallRng) -> f64 {
    rng.gen_range(-85.05112878..=85.05112878)
}

/// Places where points and search centres crowd: Sicily, both sides of
/// the antimeridian, near both poles, Manhattan.
const HOTSPOTS: &[(f64, f64)] = &[
    (14.0, 37.5),
    (179.8, 12.0),
    (-179.8, -12.0),
    (0.0, 84.9),
    (100.0, -84.9),
    (-73.98, 40.75),
];

/// A point somewhere interesting: anywhere, near a pole, near the
/// antimeridian, on an exact limit, or around a hotspot.
fn point(rng: &mut SmallRng) -> (String, String) {
    let sign = |rng: &mut SmallRng| if rng.gen_bool(0.5) { 1.0 } else { -1.0 };
    let (x, y) = match rng.gen_range(0..10) {
        0 | 1 => (lon(rng), lat(rng)),
        2 => (lon(rng), rng.gen_range(78.0..=85.05112878) * sign(rng)),
        3 => (rng.gen_range(170.0..=180.0) * sign(rng), lat(rng)),
        4 => (
            *[-180.0, 180.0, 0.0, 179.99999, -179.99999]
                .get(rng.gen_range(0..5))
                .unwrap_or(&0.0),
            *[85.05112878, -85.05112878, 0.0, 85.0, -85.0]
                .get(rng.gen_range(0..5))
                .unwrap_or(&0.0),
        ),
        _ => {
            let (hx, hy) = HOTSPOTS[rng.gen_range(0..HOTSPOTS.len())];
            let spread = 10f64.powf(rng.gen_range(-3.0..0.7));
            let x = hx + rng.gen_range(-spread..spread);
            let y = hy + rng.gen_range(-spread..spread);
            // Past the antimeridian: the other side.
            let x = if x > 180.0 {
                x - 360.0
            } else if x < -180.0 {
                x + 360.0
            } else {
                x
            };
            (x, y.clamp(-85.05112878, 85.05112878))
        }
    };
    (format!("{x}"), format!("{y}"))
}

const UNITS: &[&str] = &["m", "km", "ft", "mi", "KM", "Mi"];

fn pick<'a>(rng: &mut SmallRng, v: &[&'a str]) -> &'a str {
    v[rng.gen_range(0..v.len())]
}

/// Metres per unit of `UNITS`.
fn metres_per(unit: &str) -> f64 {
    match unit.to_ascii_lowercase().as_str() {
        "km" => 1000.0,
        "ft" => 0.3048,
        "mi" => 1609.34,
        _ => 1.0,
    }
}

/// A size in `unit`: mostly from a kilometre to the size of the Earth,
/// sometimes tiny, zero or more than the Earth.
fn size(rng: &mut SmallRng, unit: &str) -> String {
    let metres = match rng.gen_range(0..20) {
        0 => 0.0,
        1 => 4e7,
        2 | 3 => 10f64.powf(rng.gen_range(-1.0..3.0)),
        _ => 10f64.powf(rng.gen_range(3.0..7.3)),
    };
    format!("{:.4}", metres / metres_per(unit))
}

/// A random search (GEORADIUS*, GEOSEARCH) or STORE form on `key`.
fn random_search(rng: &mut SmallRng, key: &str, members: usize) -> Vec<String> {
    let mut c: Vec<String> = Vec::new();
    let member = |rng: &mut SmallRng| format!("m{}", rng.gen_range(0..members + 3));
    match rng.gen_range(0..6) {
        0 | 1 => {
            let (x, y) = point(rng);
            c.extend([
                pick(rng, &["GEORADIUS", "GEORADIUS_RO"]).into(),
                key.into(),
                x,
                y,
            ]);
            let unit = pick(rng, UNITS);
            c.extend([size(rng, unit), unit.into()]);
        }
        2 => {
            c.extend([
                pick(rng, &["GEORADIUSBYMEMBER", "GEORADIUSBYMEMBER_RO"]).into(),
                key.into(),
                member(rng),
            ]);
            let unit = pick(rng, UNITS);
            c.extend([size(rng, unit), unit.into()]);
        }
        _ => {
            c.extend(["GEOSEARCH".into(), key.into()]);
            if rng.gen_bool(0.5) {
                let (x, y) = point(rng);
                c.extend(["FROMLONLAT".into(), x, y]);
            } else {
                c.extend(["FROMMEMBER".into(), member(rng)]);
            }
            let unit = pick(rng, UNITS);
            if rng.gen_bool(0.5) {
                c.extend(["BYRADIUS".into(), size(rng, unit), unit.into()]);
            } else {
                c.extend([
                    "BYBOX".into(),
                    size(rng, unit),
                    size(rng, unit),
                    unit.into(),
                ]);
            }
        }
    }
    // The read-write GEORADIUS forms may store.
    let store_ok = !c[0].ends_with("_RO") && c[0] != "GEOSEARCH";
    let store = store_ok && rng.gen_bool(0.15);
    if store {
        c.extend([pick(rng, &["STORE", "STOREDIST"]).into(), "dst".into()]);
    } else {
        for w in ["WITHDIST", "WITHHASH", "WITHCOORD"] {
            if rng.gen_bool(0.3) {
                c.push(w.into());
            }
        }
    }
    match rng.gen_range(0..4) {
        0 => c.push("ASC".into()),
        1 => c.push("DESC".into()),
        _ => {}
    }
    if rng.gen_bool(0.4) {
        c.extend(["COUNT".into(), rng.gen_range(1..12).to_string()]);
        if rng.gen_bool(0.3) {
            c.push("ANY".into());
        }
    }
    c
}

/// GEOSEARCHSTORE with random options.
fn random_searchstore(rng: &mut SmallRng, key: &str, members: usize) -> Vec<String> {
    let mut c = random_search(rng, key, members);
    if c[0] != "GEOSEARCH" {
        return c;
    }
    c.retain(|a| !a.starts_with("WITH"));
    c[0] = "GEOSEARCHSTORE".into();
    c.insert(1, "dst".into());
    if rng.gen_bool(0.5) {
        c.push("STOREDIST".into());
    }
    c
}

/// Adds `n` random points (some sharing coordinates, for ties) to `key`.
fn fill(d: &mut Diff, rng: &mut SmallRng, key: &str, n: usize) {
    let mut args: Vec<String> = vec!["GEOADD".into(), key.into()];
    let mut last = point(rng);
    for i in 0..n {
        if !rng.gen_bool(0.1) {
            last = point(rng);
        }
        args.extend([last.0.clone(), last.1.clone(), format!("m{i}")]);
        if args.len() > 300 {
            let v: Vec<&str> = args.iter().map(String::as_str).collect();
            d.same_str(&v);
            args.truncate(2);
        }
    }
    if args.len() > 2 {
        let v: Vec<&str> = args.iter().map(String::as_str).collect();
        d.same_str(&v);
    }
}

/// Random searches over a small (listpack) and a big (skiplist) geo set,
/// every reply compared byte for byte, order included (ties too: Redis's
/// sorts are reproduced).
#[test]
fn random_searches_match_redis() {
    let mut d = Diff::start(&[]);
    let mut rng = SmallRng::seed_from_u64(0x6e0_5ea7c);
    fill(&mut d, &mut rng, "small", 90);
    fill(&mut d, &mut rng, "big", 2500);
    d.same_str(&["OBJECT", "ENCODING", "small"]);
    d.same_str(&["OBJECT", "ENCODING", "big"]);
    for i in 0..1500 {
        if i == 1000 {
            d.both(&[b"HELLO", b"3"]);
        }
        let (key, n) = if i % 3 == 0 {
            ("small", 90)
        } else {
            ("big", 2500)
        };
        let c = if i % 7 == 0 {
            random_searchstore(&mut rng, key, n)
        } else {
            random_search(&mut rng, key, n)
        };
        let v: Vec<&str> = c.iter().map(String::as_str).collect();
        d.same_str(&v);
        if c.iter().any(|a| a == "dst") {
            d.same_str(&["ZRANGE", "dst", "0", "-1", "WITHSCORES"]);
            d.same_str(&["OBJECT", "ENCODING", "dst"]);
        }
        if i % 10 == 0 {
            let m = format!("m{}", rng.gen_range(0..n + 2));
            let m2 = format!("m{}", rng.gen_range(0..n + 2));
            d.same_str(&["GEOPOS", key, &m, &m2]);
            d.same_str(&["GEOHASH", key, &m, &m2]);
            d.same_str(&["GEODIST", key, &m, &m2, pick(&mut rng, UNITS)]);
        }
    }
    d.same_str(&["DEBUG", "DIGEST"]);
}

/// Many members at a few shared points: the order among equal distances
/// is the sorts' (a full sort keeps scan order; COUNT's partial sort
/// shuffles ties its own way), and must be Redis's.
#[test]
fn ties_keep_redis_order() {
    let mut d = Diff::start(&[]);
    let mut rng = SmallRng::seed_from_u64(0x71e5);
    let spots: Vec<(String, String)> = (0..6).map(|_| point(&mut rng)).collect();
    let mut add: Vec<String> = vec!["GEOADD".into(), "ties".into()];
    for i in 0..400 {
        let (x, y) = if i % 9 == 8 {
            point(&mut rng)
        } else {
            spots[rng.gen_range(0..spots.len())].clone()
        };
        add.extend([x, y, format!("t{i}")]);
    }
    let v: Vec<&str> = add.iter().map(String::as_str).collect();
    d.same_str(&v);
    for i in 0..300 {
        let (x, y) = &spots[rng.gen_range(0..spots.len())];
        let count = rng.gen_range(1..420).to_string();
        let order = pick(&mut rng, &["ASC", "DESC", "WITHHASH"]);
        let c: Vec<&str> = match i % 3 {
            0 => vec![
                "GEORADIUS",
                "ties",
                x,
                y,
                "20000",
                "km",
                "COUNT",
                &count,
                order,
                "WITHDIST",
            ],
            1 => vec![
                "GEOSEARCH",
                "ties",
                "FROMLONLAT",
                x,
                y,
                "BYBOX",
                "40000",
                "40000",
                "km",
                "COUNT",
                &count,
                order,
            ],
            _ => vec!["GEORADIUS", "ties", x, y, "5000", "km", order],
        };
        d.same_str(&c);
    }
}

/// Scores GEOADD never writes (a sorted set used as a geo set) decode as
/// Redis decodes them, through C's cast of the score to a 64-bit hash.
#[test]
fn odd_scores_decode_as_redis() {
    let mut d = Diff::start(&[]);
    let scores = [
        "-1",
        "-1e300",
        "1e300",
        "inf",
        "-inf",
        "0.5",
        "0",
        "-0",
        "4503599627370496",
        "4503599627370495",
        "9007199254740993",
        "18014398509481984",
        "9223372036854775808",
        "9.3e18",
        "18446744073709551616",
        "1.8e19",
        "-9223372036854775808",
        "-9.3e18",
        "123.75",
    ];
    let mut add = vec!["ZADD", "odd"];
    let names: Vec<String> = (0..scores.len()).map(|i| format!("s{i}")).collect();
    for (s, n) in scores.iter().zip(&names) {
        add.extend([*s, n.as_str()]);
    }
    d.same_str(&add);
    for proto in ["2", "3"] {
        d.both(&[b"HELLO", proto.as_bytes()]);
        for n in &names {
            d.same_str(&["GEOPOS", "odd", n]);
            d.same_str(&["GEOHASH", "odd", n]);
            d.same_str(&["GEODIST", "odd", n, "s0", "km"]);
            d.same_str(&[
                "GEORADIUSBYMEMBER",
                "odd",
                n,
                "100",
                "km",
                "WITHHASH",
                "WITHCOORD",
            ]);
        }
        d.same_str(&words(
            "GEORADIUS odd 0 0 20000 km WITHDIST WITHHASH WITHCOORD ASC",
        ));
    }
}

// ---- writes: events, dirty counts, WATCH, replication ---------------------------

/// The writes the STORE tests run, in order, on a fresh server.
const WRITES: &[&str] = &[
    "GEOADD g 13.361389 38.115556 Palermo 15.087269 37.502669 Catania",
    "GEOADD g NX 13.361389 38.115556 Palermo 12 37 Marsala",
    "GEOADD g XX CH 13.4 38.1 Palermo 12 37 nosuch",
    "GEOADD g CH 13.4 38.1 Palermo",
    "GEOADD g XX 1 1 nosuch",
    "GEOADD g 200 0 bad",
    "GEORADIUS g 15 37 200 km STORE r1",
    "GEORADIUS g 15 37 200 km STOREDIST r2 DESC COUNT 1",
    "GEORADIUS g 15 37 200 km WITHDIST",
    "GEORADIUSBYMEMBER g Palermo 500 km STORE r3",
    "GEORADIUSBYMEMBER g Palermo 500 km STOREDIST r3",
    "GEOSEARCHSTORE r4 g FROMLONLAT 15 37 BYBOX 400 400 km",
    "GEOSEARCHSTORE r5 g FROMMEMBER Catania BYRADIUS 300 km STOREDIST",
    "GEORADIUS g 0 0 1 km STORE r1",
    "GEORADIUS nokey 0 0 1 km STORE r2",
    "GEORADIUS nokey 0 0 1 km STORE r2",
    "GEOSEARCHSTORE r3 g FROMLONLAT 0 0 BYRADIUS 1 m",
    "GEOSEARCHSTORE r4 nokey FROMLONLAT 0 0 BYRADIUS 1 m",
    "GEOSEARCHSTORE g g FROMLONLAT 15 37 BYRADIUS 200 km",
    "GEOADD g CH 1 1 x 2 2 y",
];

/// Replies, keyspace events and dirty counts of every write, compared with
/// redis-server's.
#[test]
fn writes_events_and_dirty_match_redis() {
    let args = ["--notify-keyspace-events", "KEA"];
    let ours = Server::start(&args);
    let theirs = Server::redis(&args);
    let (mut a, mut b) = (ours.raw(), theirs.raw());
    let (mut sa, mut sb) = (ours.raw(), theirs.raw());
    sa.call(&["PSUBSCRIBE", "*"]);
    sb.call(&["PSUBSCRIBE", "*"]);
    let events = |s: &mut Raw| {
        let mut v = Vec::new();
        loop {
            let e = s.reply_str();
            if e.contains("\r\n$3\r\nend\r\n") {
                return v;
            }
            v.push(e);
        }
    };
    for w in WRITES {
        let before = (
            a.info_field("rdb_changes_since_last_save"),
            b.info_field("rdb_changes_since_last_save"),
        );
        assert_eq!(a.call(&words(w)), b.call(&words(w)), "{w:?}");
        let after = (
            a.info_field("rdb_changes_since_last_save"),
            b.info_field("rdb_changes_since_last_save"),
        );
        assert_eq!(before.0, before.1, "{w:?}");
        assert_eq!(after.0, after.1, "dirty count after {w:?}");
        // A message on channel "end" closes this write's events.
        a.call(&["PUBLISH", "end", "x"]);
        b.call(&["PUBLISH", "end", "x"]);
        assert_eq!(events(&mut sa), events(&mut sb), "events of {w:?}");
    }
    assert_eq!(a.call(&["DEBUG", "DIGEST"]), b.call(&["DEBUG", "DIGEST"]));
}

/// Geo writes invalidate WATCH on the keys they change; reads and writes
/// that change nothing do not.
#[test]
fn writes_invalidate_watch() {
    let s = Server::start(&[]);
    let mut r = s.raw();
    let mut other = s.raw();
    let cases: &[(&str, &[&str])] = &[
        ("GEOADD g 1 2 new", &["g"]),
        ("GEOADD g CH 1 2 Palermo", &["g"]),
        ("GEOADD g NX 1 2 Palermo", &[]),
        ("GEOADD g XX 1 2 nosuch", &[]),
        ("GEORADIUS g 15 37 200 km STORE dst", &["dst"]),
        ("GEORADIUS g 0 0 1 km STORE dst", &["dst"]),
        ("GEORADIUS nokey 0 0 1 km STORE dst", &["dst"]),
        ("GEORADIUSBYMEMBER g Palermo 1 km STOREDIST dst", &["dst"]),
        (
            "GEOSEARCHSTORE dst g FROMMEMBER Palermo BYRADIUS 1 km",
            &["dst"],
        ),
        ("GEORADIUS g 15 37 200 km WITHDIST", &[]),
        ("GEOSEARCH g FROMMEMBER Palermo BYRADIUS 1 km", &[]),
        ("GEOPOS g Palermo", &[]),
        ("GEODIST g Palermo Catania", &[]),
    ];
    for (w, changes) in cases {
        for watched in ["g", "dst"] {
            r.call(&["DEL", "g", "dst"]);
            r.call(&words(
                "GEOADD g 13.361389 38.115556 Palermo 15.087269 37.502669 Catania",
            ));
            r.call(&["GEOADD", "dst", "1", "1", "x"]);
            assert_eq!(r.call(&["WATCH", watched]), "+OK\r\n");
            assert_ne!(other.call(&words(w)).as_bytes()[0], b'-', "{w:?}");
            r.call(&["MULTI"]);
            r.call(&["PING"]);
            let want = if changes.contains(&watched) {
                "*-1\r\n"
            } else {
                "*1\r\n+PONG\r\n"
            };
            assert_eq!(r.call(&["EXEC"]), want, "{w:?} watching {watched}");
        }
    }
}

/// GEOADD and the STORE forms reach a redis-server replica (and a relica
/// one) with the same effect: the datasets end up with the same digest as
/// the master's, and as a redis-server that ran the same commands.
#[test]
fn writes_replicate_to_redis() {
    let m = Server::start(&["--repl-diskless-sync-delay", "0"]);
    let port = m.port.to_string();
    let rr = Server::redis(&["--replicaof", "127.0.0.1", &port]);
    let ours = Server::start(&["--replicaof", "127.0.0.1", &port]);
    let alone = Server::redis(&[]);
    let (mut mc, mut rc, mut oc, mut ac) = (m.raw(), rr.raw(), ours.raw(), alone.raw());
    wait_up(&mut rc);
    wait_up(&mut oc);
    let mut rng = SmallRng::seed_from_u64(77);
    for w in WRITES {
        assert_eq!(mc.call(&words(w)), ac.call(&words(w)), "{w:?}");
    }
    // In a transaction, and random geo sets and searches stored.
    let tx: &[&str] = &[
        "MULTI",
        "GEOADD t 1 1 a 2 2 b",
        "GEORADIUS t 1 1 500 km STOREDIST t2",
        "GEOSEARCHSTORE t3 t FROMMEMBER b BYBOX 300 300 km",
        "EXEC",
    ];
    for w in tx {
        assert_eq!(mc.call(&words(w)), ac.call(&words(w)), "{w:?}");
    }
    for i in 0..300 {
        let (x, y) = point(&mut rng);
        let w = ["GEOADD", "rand", &x, &y, &format!("m{i}")];
        assert_eq!(mc.call(&w), ac.call(&w), "{w:?}");
    }
    for _ in 0..60 {
        let c = if rng.gen_bool(0.5) {
            random_searchstore(&mut rng, "rand", 300)
        } else {
            random_search(&mut rng, "rand", 300)
        };
        if !c.iter().any(|a| a == "dst") {
            continue;
        }
        let v: Vec<&str> = c.iter().map(String::as_str).collect();
        assert_eq!(mc.call(&v), ac.call(&v), "{v:?}");
    }
    mc.call(&["SET", "last", "1"]);
    for r in [&mut rc, &mut oc] {
        wait_for(
            "the replica has the last key",
            Duration::from_secs(60),
            || r.call(&["EXISTS", "last"]) == ":1\r\n",
        );
    }
    ac.call(&["SET", "last", "1"]);
    wait_same_digest(&mut mc, &mut rc);
    wait_same_digest(&mut mc, &mut oc);
    assert_eq!(mc.call(&["DEBUG", "DIGEST"]), ac.call(&["DEBUG", "DIGEST"]));
}

/// COMMAND GETKEYS finds STORE destinations as Redis's key specs do, and
/// COMMAND INFO shows the geo rows.
#[test]
fn command_keys_and_info() {
    let mut d = Diff::start(&[]);
    all_same(
        &mut d,
        &[
            "COMMAND GETKEYS GEORADIUS k 0 0 1 km",
            "COMMAND GETKEYS GEORADIUS k 0 0 1 km STORE a",
            "COMMAND GETKEYS GEORADIUS k 0 0 1 km store a storedist b",
            "COMMAND GETKEYS GEORADIUS k 0 0 1 km STOREDIST b STORE a",
            "COMMAND GETKEYS GEORADIUS k 0 0 1 km STORE",
            "COMMAND GETKEYS GEORADIUS k 0 0 1 km COUNT STORE x y",
            "COMMAND GETKEYS GEORADIUS k 0 0 1 STORE x",
            "COMMAND GETKEYS GEORADIUSBYMEMBER k m 1 km STORE x",
            "COMMAND GETKEYS GEORADIUSBYMEMBER k m 1 STORE x",
            "COMMAND GETKEYS GEORADIUS_RO k 0 0 1 km STORE a",
            "COMMAND GETKEYS GEOSEARCHSTORE d s FROMLONLAT 0 0 BYRADIUS 1 m",
            "COMMAND GETKEYS GEOSEARCH s FROMLONLAT 0 0 BYRADIUS 1 m",
            "COMMAND GETKEYS GEOADD k 1 2 m",
            "COMMAND GETKEYS GEODIST k a b",
            "COMMAND GETKEYS GEOPOS k",
            "COMMAND GETKEYS GEOHASH k a",
            "COMMAND GETKEYS GEORADIUS k",
        ],
    );
    let info = d.ours.call(&["COMMAND", "INFO", "georadius"]);
    assert!(info.contains("$9\r\ngeoradius\r\n:-6\r\n"), "{info}");
    assert!(
        info.contains("+write\r\n+denyoom\r\n+movablekeys\r\n:1\r\n:1\r\n:1\r\n"),
        "{info}"
    );
    assert!(info.contains("$7\r\nkeyword\r\n$4\r\nspec\r\n*4\r\n$7\r\nkeyword\r\n$9\r\nSTOREDIST\r\n$9\r\nstartfrom\r\n:6\r\n"), "{info}");
    let info = d.ours.call(&["COMMAND", "INFO", "geosearchstore"]);
    assert!(info.contains(":-8\r\n"), "{info}");
    assert!(info.contains(":1\r\n:2\r\n:1\r\n"), "{info}");
    assert!(info.contains("+@geo\r\n"), "{info}");
    let info = d.ours.call(&["COMMAND", "INFO", "geopos", "georadius_ro"]);
    assert!(!info.contains("movablekeys"), "{info}");
    assert!(info.contains("+readonly\r\n"), "{info}");
    let docs = d.ours.call(&["COMMAND", "DOCS", "georadiusbymember_ro"]);
    assert!(docs.contains("$3\r\ngeo\r\n"), "{docs}");
    assert!(docs.contains("$6\r\n3.2.10\r\n"), "{docs}");
}
