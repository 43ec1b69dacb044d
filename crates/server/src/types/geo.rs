//! Geospatial indexes: the computation behind the GEO commands (Redis's
//! `geohash.c` and `geohash_helper.c`, and the search half of `geo.c`).
//!
//! A geo set is a plain sorted set whose scores are 52-bit geohashes: 26
//! bits of longitude (-180..180) and 26 of latitude (-85.05112878..
//! 85.05112878, the Web Mercator limits) interleaved, latitude in the even
//! bits. Nearby points therefore share score prefixes, and an area search
//! becomes at most nine score ranges: the geohash cell around the centre,
//! at a precision (step) chosen from the radius, plus its eight neighbours.
//! Every candidate in those ranges is then checked against the real shape.
//!
//! Clients see the results byte for byte: which points a search finds near
//! its edges, the distances, the decoded coordinates, and the order of
//! equal distances all depend on the exact floating-point operations and
//! their order, so this module keeps Redis's: the same formulas evaluated
//! the same way (libm's `sin`/`cos`/`asin`, no fused multiply-adds), the
//! same step estimate and neighbour pruning, and the same sorts (glibc's
//! merge sort for a full sort, Bentley–McIlroy's partial quicksort when
//! COUNT keeps fewer than were found). Conversions that C leaves to the
//! x86-64 instructions (a score cast to an unsigned hash) behave as they do
//! there.

use std::cmp::Ordering;
use std::f64::consts::PI;

use super::zset::{ScoreRange, ZSet};

/// Westmost longitude.
pub const LON_MIN: f64 = -180.0;
/// Eastmost longitude.
pub const LON_MAX: f64 = 180.0;
/// Southmost latitude that can be indexed (Web Mercator's limit).
pub const LAT_MIN: f64 = -85.05112878;
/// Northmost latitude that can be indexed.
pub const LAT_MAX: f64 = 85.05112878;
/// Precision of stored points: 26 bits per coordinate, 52 in all.
pub const STEP_MAX: u8 = 26;

/// The Earth's quadratic mean radius (WGS-84), in metres, as Redis uses it.
pub const EARTH_RADIUS: f64 = 6372797.560856;
const MERCATOR_MAX: f64 = 20037726.37;
const DEG_RAD: f64 = PI / 180.0;

fn deg_rad(deg: f64) -> f64 {
    deg * DEG_RAD
}

fn rad_deg(rad: f64) -> f64 {
    rad / DEG_RAD
}

/// A closed coordinate interval.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
struct Span {
    min: f64,
    max: f64,
}

const LONS: Span = Span {
    min: LON_MIN,
    max: LON_MAX,
};
/// Latitudes as the index encodes them.
const LATS: Span = Span {
    min: LAT_MIN,
    max: LAT_MAX,
};
/// Latitudes as standard geohash strings encode them.
const LATS_STANDARD: Span = Span {
    min: -90.0,
    max: 90.0,
};

/// A geohash cell: `2 * step` interleaved bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GeoHash {
    /// Latitude bits in the even positions, longitude bits in the odd.
    pub bits: u64,
    /// Bits per coordinate (1..=26); 0 with zero bits marks "no cell".
    pub step: u8,
}

impl GeoHash {
    /// "No cell" (a neighbour pruned from a search).
    const NONE: GeoHash = GeoHash { bits: 0, step: 0 };

    fn is_none(self) -> bool {
        self == Self::NONE
    }

    /// The cell's lowest score: its bits shifted up to 52 bits.
    pub fn align52(self) -> u64 {
        self.bits << (52 - 2 * u32::from(self.step))
    }
}

/// Spreads the 32 bits of `v` over the even bit positions of a u64.
fn spread(v: u32) -> u64 {
    let mut x = u64::from(v);
    for (shift, mask) in [
        (16, 0x0000_FFFF_0000_FFFF),
        (8, 0x00FF_00FF_00FF_00FF),
        (4, 0x0F0F_0F0F_0F0F_0F0F),
        (2, 0x3333_3333_3333_3333),
        (1, 0x5555_5555_5555_5555u64),
    ] {
        x = (x | (x << shift)) & mask;
    }
    x
}

/// The inverse of [`spread`]: the even bits of `x`, packed.
fn squeeze(x: u64) -> u32 {
    let mut x = x & 0x5555_5555_5555_5555;
    for (shift, mask) in [
        (1, 0x3333_3333_3333_3333),
        (2, 0x0F0F_0F0F_0F0F_0F0F),
        (4, 0x00FF_00FF_00FF_00FF),
        (8, 0x0000_FFFF_0000_FFFF),
        (16, 0x0000_0000_FFFF_FFFFu64),
    ] {
        x = (x | (x >> shift)) & mask;
    }
    x as u32
}

/// Encodes a point in the given spans at `step` bits per coordinate; None
/// outside the indexable limits or the spans.
// The limit checks compare as C does (a NaN passes them), hence no
// `contains`.
#[allow(clippy::manual_range_contains)]
fn encode_in(lons: Span, lats: Span, lon: f64, lat: f64, step: u8) -> Option<GeoHash> {
    if step == 0 || step > 32 {
        return None;
    }
    if lon > LON_MAX || lon < LON_MIN || lat > LAT_MAX || lat < LAT_MIN {
        return None;
    }
    if lat < lats.min || lat > lats.max || lon < lons.min || lon > lons.max {
        return None;
    }
    let cells = (1u64 << step) as f64;
    let lat_offset = (lat - lats.min) / (lats.max - lats.min) * cells;
    let lon_offset = (lon - lons.min) / (lons.max - lons.min) * cells;
    // A coordinate on the upper limit gives offset 2^step: one bit more than
    // the step, kept as C's conversion keeps it.
    Some(GeoHash {
        bits: spread(lat_offset as u32) | (spread(lon_offset as u32) << 1),
        step,
    })
}

/// Encodes a point for the index (GEOADD's score before alignment).
pub fn encode(lon: f64, lat: f64, step: u8) -> Option<GeoHash> {
    encode_in(LONS, LATS, lon, lat, step)
}

/// The rectangle a cell covers.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
struct Cell {
    lon: Span,
    lat: Span,
}

fn decode_in(lons: Span, lats: Span, h: GeoHash) -> Option<Cell> {
    if h.is_none() {
        return None;
    }
    let ilat = squeeze(h.bits);
    let ilon = squeeze(h.bits >> 1);
    let cells = (1u64 << h.step) as f64;
    let lat_scale = lats.max - lats.min;
    let lon_scale = lons.max - lons.min;
    // The upper edges use the next cell index in 32-bit arithmetic, as C's
    // `uint32_t + 1` wraps.
    Some(Cell {
        lat: Span {
            min: lats.min + (f64::from(ilat) / cells) * lat_scale,
            max: lats.min + (f64::from(ilat.wrapping_add(1)) / cells) * lat_scale,
        },
        lon: Span {
            min: lons.min + (f64::from(ilon) / cells) * lon_scale,
            max: lons.min + (f64::from(ilon.wrapping_add(1)) / cells) * lon_scale,
        },
    })
}

fn decode(h: GeoHash) -> Option<Cell> {
    decode_in(LONS, LATS, h)
}

/// A cell's centre, clamped to the indexable limits.
fn centre(c: &Cell) -> [f64; 2] {
    let lon = ((c.lon.min + c.lon.max) / 2.0).clamp(LON_MIN, LON_MAX);
    let lat = ((c.lat.min + c.lat.max) / 2.0).clamp(LAT_MIN, LAT_MAX);
    [lon, lat]
}

/// A double cast to `uint64_t` as x86-64 code does it: truncation below
/// 2^63, 2^63 subtracted and the top bit flipped above, and the
/// instruction's "integer indefinite" (2^63) for NaN and values out of
/// range (which the flip turns into 0 above 2^64).
fn to_u64_like_c(x: f64) -> u64 {
    const TWO63: f64 = 9_223_372_036_854_775_808.0;
    let cvtt = |v: f64| -> u64 {
        if v.is_nan() || !(-TWO63..TWO63).contains(&v) {
            1 << 63
        } else {
            v as i64 as u64
        }
    };
    if x >= TWO63 {
        cvtt(x - TWO63) ^ (1 << 63)
    } else {
        cvtt(x)
    }
}

/// A sorted-set score cast to `long long` as x86-64 does (WITHHASH).
pub fn score_as_i64(x: f64) -> i64 {
    const TWO63: f64 = 9_223_372_036_854_775_808.0;
    if x.is_nan() || !(-TWO63..TWO63).contains(&x) {
        i64::MIN
    } else {
        x as i64
    }
}

/// The longitude and latitude a score stands for. Any score decodes (a
/// score GEOADD did not write gives some point within the limits).
pub fn decode_score(score: f64) -> [f64; 2] {
    let h = GeoHash {
        bits: to_u64_like_c(score),
        step: STEP_MAX,
    };
    decode(h).map_or([0.0, 0.0], |c| centre(&c))
}

/// The score GEOADD stores for a point (None outside the limits).
pub fn score_of(lon: f64, lat: f64) -> Option<u64> {
    encode(lon, lat, STEP_MAX).map(GeoHash::align52)
}

/// The 11-character standard geohash of a score, as GEOHASH replies: the
/// decoded point re-encoded with latitudes -90..90, its 52 bits in base 32,
/// and a last character of `0` (the index has no 53rd to 55th bits).
pub fn geohash_string(score: f64) -> [u8; 11] {
    const ALPHABET: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";
    let [lon, lat] = decode_score(score);
    let bits = encode_in(LONS, LATS_STANDARD, lon, lat, STEP_MAX).map_or(0, |h| h.bits);
    let mut out = [b'0'; 11];
    for (i, c) in out.iter_mut().take(10).enumerate() {
        let idx = (bits >> (52 - (i + 1) * 5)) & 0x1f;
        *c = ALPHABET[idx as usize];
    }
    out
}

// ---------------------------------------------------------------------------
// Neighbours
// ---------------------------------------------------------------------------

const EVEN: u64 = 0x5555_5555_5555_5555;
const ODD: u64 = 0xAAAA_AAAA_AAAA_AAAA;

/// Moves a cell one step along the bits selected by `mine` (longitude in
/// the odd bits, latitude in the even), wrapping around at the edges.
fn shift_cell(h: GeoHash, up: bool, mine: u64) -> GeoHash {
    let width = 64 - 2 * u32::from(h.step);
    let other = !mine;
    let coord = h.bits & mine;
    let rest = h.bits & other;
    // Filling the other coordinate's bits with ones lets the carry (or
    // borrow) run through them to the next bit of this coordinate.
    let filler = other >> width;
    let moved = if up {
        coord.wrapping_add(filler + 1)
    } else {
        (coord | filler).wrapping_sub(filler + 1)
    };
    GeoHash {
        bits: (moved & (mine >> width)) | rest,
        step: h.step,
    }
}

fn east(h: GeoHash) -> GeoHash {
    shift_cell(h, true, ODD)
}

fn west(h: GeoHash) -> GeoHash {
    shift_cell(h, false, ODD)
}

fn north(h: GeoHash) -> GeoHash {
    shift_cell(h, true, EVEN)
}

fn south(h: GeoHash) -> GeoHash {
    shift_cell(h, false, EVEN)
}

/// The eight neighbours, in Redis's order: north, south, east, west,
/// north-east, north-west, south-east, south-west. A move along one
/// coordinate leaves the other's bits as they were, out-of-step bits
/// included.
fn neighbours(h: GeoHash) -> [GeoHash; 8] {
    [
        north(h),
        south(h),
        east(h),
        west(h),
        north(east(h)),
        north(west(h)),
        south(east(h)),
        south(west(h)),
    ]
}

// ---------------------------------------------------------------------------
// Distances and shapes
// ---------------------------------------------------------------------------

/// Distance along a meridian between two latitudes (degrees), in metres.
fn lat_distance(lat1: f64, lat2: f64) -> f64 {
    EARTH_RADIUS * (deg_rad(lat2) - deg_rad(lat1)).abs()
}

/// Great-circle distance in metres (haversine), as GEODIST computes it.
pub fn distance(lon1: f64, lat1: f64, lon2: f64, lat2: f64) -> f64 {
    let lon1r = deg_rad(lon1);
    let lon2r = deg_rad(lon2);
    let v = ((lon2r - lon1r) / 2.0).sin();
    // Same meridian: the haversine reduces to the latitude difference.
    if v == 0.0 {
        return lat_distance(lat1, lat2);
    }
    let lat1r = deg_rad(lat1);
    let lat2r = deg_rad(lat2);
    let u = ((lat2r - lat1r) / 2.0).sin();
    let a = u * u + lat1r.cos() * lat2r.cos() * v * v;
    2.0 * EARTH_RADIUS * a.sqrt().asin()
}

/// What a search covers around its centre.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Extent {
    /// BYRADIUS / GEORADIUS: a circle of this radius.
    Radius(f64),
    /// BYBOX: a rectangle along the parallels and meridians.
    Box {
        /// East–west size.
        width: f64,
        /// North–south size.
        height: f64,
    },
}

/// A search area: centre, extent, and the extent's unit in metres.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shape {
    /// Centre longitude.
    pub lon: f64,
    /// Centre latitude.
    pub lat: f64,
    /// Metres per unit of the extent (1, 1000, 0.3048, 1609.34).
    pub to_meters: f64,
    /// Radius or box, in the unit.
    pub extent: Extent,
}

impl Shape {
    /// Half height and half width in metres.
    fn half_sizes(&self) -> (f64, f64) {
        match self.extent {
            Extent::Radius(r) => (self.to_meters * r, self.to_meters * r),
            Extent::Box { width, height } => (
                self.to_meters * (height / 2.0),
                self.to_meters * (width / 2.0),
            ),
        }
    }

    /// The radius the cell size is chosen for: the circle's, or the
    /// centre-to-corner distance of the box.
    fn reach(&self) -> f64 {
        let r = match self.extent {
            Extent::Radius(r) => r,
            Extent::Box { width, height } => {
                ((width / 2.0) * (width / 2.0) + (height / 2.0) * (height / 2.0)).sqrt()
            }
        };
        r * self.to_meters
    }

    /// [min lon, min lat, max lon, max lat] of the area. Meridians
    /// converge towards the pole, so the box is widest on its side nearer
    /// the pole.
    fn bounds(&self) -> [f64; 4] {
        let (half_h, half_w) = self.half_sizes();
        let lat_delta = rad_deg(half_h / EARTH_RADIUS);
        let top = rad_deg(half_w / EARTH_RADIUS / deg_rad(self.lat + lat_delta).cos());
        let bottom = rad_deg(half_w / EARTH_RADIUS / deg_rad(self.lat - lat_delta).cos());
        let lon_delta = if self.lat < 0.0 { bottom } else { top };
        [
            self.lon - lon_delta,
            self.lat - lat_delta,
            self.lon + lon_delta,
            self.lat + lat_delta,
        ]
    }

    /// Whether the point at `score` is inside; its coordinates and its
    /// distance from the centre (metres) when it is.
    fn contains(&self, score: f64) -> Option<([f64; 2], f64)> {
        let xy = decode_score(score);
        let [lon, lat] = xy;
        let dist = match self.extent {
            Extent::Radius(r) => {
                let d = distance(self.lon, self.lat, lon, lat);
                if d > r * self.to_meters {
                    return None;
                }
                d
            }
            Extent::Box { width, height } => {
                // The cheaper latitude test first.
                if lat_distance(lat, self.lat) > height * self.to_meters / 2.0 {
                    return None;
                }
                if distance(lon, lat, self.lon, lat) > width * self.to_meters / 2.0 {
                    return None;
                }
                distance(self.lon, self.lat, lon, lat)
            }
        };
        Some((xy, dist))
    }
}

/// Bits per coordinate for cells about as large as `range` metres (fewer
/// near the poles, where cells narrow).
#[allow(clippy::manual_range_contains)] // compared as C compares
pub fn estimate_steps(range: f64, lat: f64) -> u8 {
    if range == 0.0 {
        return STEP_MAX;
    }
    let mut range = range;
    let mut step: i32 = 1;
    while range < MERCATOR_MAX {
        range *= 2.0;
        step += 1;
    }
    // Two steps coarser, so that the range fits in the common cases.
    step -= 2;
    if lat > 66.0 || lat < -66.0 {
        step -= 1;
        if lat > 80.0 || lat < -80.0 {
            step -= 1;
        }
    }
    step.clamp(1, i32::from(STEP_MAX)) as u8
}

/// The cells to scan for `shape`, in Redis's order: the centre's cell,
/// then north, south, east, west, north-east, north-west, south-east and
/// south-west; neighbours that cannot hold a match are [`GeoHash::NONE`].
fn search_cells(shape: &Shape) -> [GeoHash; 9] {
    let [min_lon, min_lat, max_lon, max_lat] = shape.bounds();
    let at = |step: u8| {
        let h = encode(shape.lon, shape.lat, step).unwrap_or_default();
        (h, decode(h).unwrap_or_default())
    };
    let mut steps = estimate_steps(shape.reach(), shape.lat);
    let (mut h, mut cell) = at(steps);
    // The estimate can be too fine near a cell's edge: when a neighbour
    // does not reach the far side of the area, one step coarser.
    let too_fine = |h: GeoHash| {
        let area = |n: GeoHash| decode(n).unwrap_or_default();
        area(north(h)).lat.max < max_lat
            || area(south(h)).lat.min > min_lat
            || area(east(h)).lon.max < max_lon
            || area(west(h)).lon.min > min_lon
    };
    if steps > 1 && too_fine(h) {
        steps -= 1;
        (h, cell) = at(steps);
    }
    let mut cells = [h; 9];
    cells[1..].copy_from_slice(&neighbours(h));
    // Neighbours beyond an edge of the area that the centre cell already
    // covers are left out (not at the coarsest step, whose cells wrap).
    if steps >= 2 {
        const N: usize = 1;
        const S: usize = 2;
        const E: usize = 3;
        const W: usize = 4;
        const NE: usize = 5;
        const NW: usize = 6;
        const SE: usize = 7;
        const SW: usize = 8;
        let mut drop = |ids: [usize; 3]| ids.iter().for_each(|&i| cells[i] = GeoHash::NONE);
        if cell.lat.min < min_lat {
            drop([S, SW, SE]);
        }
        if cell.lat.max > max_lat {
            drop([N, NE, NW]);
        }
        if cell.lon.min < min_lon {
            drop([W, SW, NW]);
        }
        if cell.lon.max > max_lon {
            drop([E, SE, NE]);
        }
    }
    cells
}

/// A point found by a search.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Found<'a> {
    /// The member.
    pub member: &'a [u8],
    /// Its score (the geohash).
    pub score: f64,
    /// Decoded longitude.
    pub lon: f64,
    /// Decoded latitude.
    pub lat: f64,
    /// Distance from the centre, in metres.
    pub dist: f64,
}

/// The members of `z` inside `shape`, in scan order (cell by cell, by
/// score within a cell), stopping at `limit` found when it is not 0 (COUNT
/// … ANY).
pub fn search<'a>(z: &'a ZSet, shape: &Shape, limit: usize) -> Vec<Found<'a>> {
    let cells = search_cells(shape);
    let mut found = Vec::new();
    let full = |n: usize| limit > 0 && n >= limit;
    // Huge areas can make adjacent neighbours the same cell: a cell equal
    // to the last one scanned is skipped. As in Redis, "the last one" is
    // tracked by index, and index 0 (the centre) reads as "none yet".
    let mut last = 0;
    for (i, &h) in cells.iter().enumerate() {
        if h.is_none() || (last != 0 && h == cells[last]) {
            continue;
        }
        if full(found.len()) {
            break;
        }
        let lo = h.align52();
        let hi = GeoHash {
            bits: h.bits.wrapping_add(1),
            step: h.step,
        }
        .align52();
        let range = ScoreRange {
            min: lo as f64,
            min_exclusive: false,
            max: hi as f64,
            max_exclusive: true,
        };
        for (member, score) in z.range_by_score(&range, false, 0, None) {
            if let Some(([lon, lat], dist)) = shape.contains(score) {
                found.push(Found {
                    member,
                    score,
                    lon,
                    lat,
                    dist,
                });
            }
            if full(found.len()) {
                break;
            }
        }
        last = i;
    }
    found
}

// ---------------------------------------------------------------------------
// Sorting by distance
// ---------------------------------------------------------------------------

/// ASC or DESC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Nearest first.
    Asc,
    /// Farthest first.
    Desc,
}

/// Redis's comparison of two distances: "greater", "equal", or otherwise
/// "less" (so NaN compares less than everything, and everything less than
/// NaN).
fn cmp_dist(a: f64, b: f64) -> Ordering {
    if a > b {
        Ordering::Greater
    } else if a == b {
        Ordering::Equal
    } else {
        Ordering::Less
    }
}

/// Sorts `found` by distance so that its first `keep` entries are the ones
/// Redis replies, in Redis's order: a full sort is glibc's stable merge
/// sort, and a partial one (`keep` below the length) is Redis's `pqsort`,
/// whose order among equal distances differs.
pub fn sort_found(found: &mut [Found], order: Order, keep: usize) {
    let cmp = |a: &Found, b: &Found| {
        let o = cmp_dist(a.dist, b.dist);
        match order {
            Order::Asc => o,
            Order::Desc => o.reverse(),
        }
    };
    if keep >= found.len() {
        let mut tmp = Vec::with_capacity(found.len());
        merge_sort(found, &mut tmp, &cmp);
    } else if keep > 0 {
        crate::util::pqsort::pqsort(found, 0, keep as i64 - 1, cmp);
    }
}

/// Top-down merge sort splitting at `n / 2`, taking from the left run on
/// ties: glibc's `qsort` (its `msort`) for these inputs, which also fixes
/// the outcome when NaN distances make the comparison inconsistent.
fn merge_sort<T: Copy>(v: &mut [T], tmp: &mut Vec<T>, cmp: &impl Fn(&T, &T) -> Ordering) {
    let n = v.len();
    if n <= 1 {
        return;
    }
    let (a, b) = v.split_at_mut(n / 2);
    merge_sort(a, tmp, cmp);
    merge_sort(b, tmp, cmp);
    tmp.clear();
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if cmp(&a[i], &b[j]) != Ordering::Greater {
            tmp.push(a[i]);
            i += 1;
        } else {
            tmp.push(b[j]);
            j += 1;
        }
    }
    tmp.extend_from_slice(&a[i..]);
    // What is left of `b` is already in place at the end.
    v[..tmp.len()].copy_from_slice(tmp);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bits_of(lon: f64, lat: f64) -> u64 {
        score_of(lon, lat).expect("in range")
    }

    #[test]
    fn scores_match_redis() {
        // From Redis's unit/geo "Check geoset values".
        assert_eq!(bits_of(-74.0131604, 40.7126674), 1791873972053020);
        assert_eq!(bits_of(-73.9903085, 40.7362513), 1791875485187452);
        assert_eq!(bits_of(-73.7858139, 40.6428986), 1791895905559723);
        assert_eq!(bits_of(-73.9564142, 40.7480973), 1791875796750882);
        assert_eq!(score_of(180.1, 0.0), None);
        assert_eq!(score_of(0.0, 85.06), None);
    }

    #[test]
    fn geohash_strings_match_redis() {
        let s = bits_of(-5.6, 42.6) as f64;
        assert_eq!(&geohash_string(s), b"ezs42e44yx0");
    }

    #[test]
    fn decoding_returns_the_cell_centre() {
        let s = bits_of(13.361389, 38.115556) as f64;
        let [lon, lat] = decode_score(s);
        assert_eq!(crate::util::num::fmt_human(lon), "13.36138933897018433");
        assert_eq!(crate::util::num::fmt_human(lat), "38.11555639549629859");
        // Scores GEOADD never writes still decode somewhere in range.
        for s in [-1.0, f64::NAN, f64::INFINITY, 1e300, -1e300, 0.5] {
            let [lon, lat] = decode_score(s);
            assert!((LON_MIN..=LON_MAX).contains(&lon), "{s}");
            assert!((LAT_MIN..=LAT_MAX).contains(&lat), "{s}");
        }
    }

    #[test]
    fn interleaving_round_trips() {
        for (a, b) in [
            (0u32, 0u32),
            (1, 0),
            (0, 1),
            (u32::MAX, 0),
            (0x1234_5678, 0x9abc_def0),
        ] {
            let x = spread(a) | (spread(b) << 1);
            assert_eq!((squeeze(x), squeeze(x >> 1)), (a, b));
        }
    }

    #[test]
    fn neighbours_wrap_around() {
        let h = encode(179.9, 0.0, 4).expect("in range");
        let e = east(h);
        let back = west(e);
        assert_eq!(back, h);
        let cell = decode(e).expect("cell");
        assert_eq!(cell.lon.min, -180.0);
        for n in neighbours(h) {
            assert_eq!(n.step, 4);
            assert!(n.bits < 1 << 8);
        }
    }

    #[test]
    fn distances_match_redis() {
        let p = decode_score(bits_of(13.361389, 38.115556) as f64);
        let c = decode_score(bits_of(15.087269, 37.502669) as f64);
        let d = distance(p[0], p[1], c[0], c[1]);
        assert_eq!(crate::util::num::fmt_fixed(d, 4), "166274.1516");
        assert_eq!(distance(p[0], p[1], p[0], p[1]), 0.0);
    }

    #[test]
    fn steps_follow_the_radius() {
        assert_eq!(estimate_steps(0.0, 0.0), 26);
        assert_eq!(estimate_steps(1.0, 0.0), 24);
        assert_eq!(estimate_steps(5_000_000.0, 0.0), 2);
        assert_eq!(estimate_steps(10_000_000.0, 0.0), 1);
        assert_eq!(
            estimate_steps(1000.0, 70.0),
            estimate_steps(1000.0, 0.0) - 1
        );
        assert_eq!(
            estimate_steps(1000.0, -85.0),
            estimate_steps(1000.0, 0.0) - 2
        );
        assert_eq!(estimate_steps(f64::INFINITY, 0.0), 1);
    }

    fn dists(v: &[Found]) -> Vec<f64> {
        v.iter().map(|f| f.dist).collect()
    }

    fn found(ds: &[f64]) -> Vec<Found<'static>> {
        ds.iter()
            .map(|&dist| Found {
                member: b"",
                score: 0.0,
                lon: 0.0,
                lat: 0.0,
                dist,
            })
            .collect()
    }

    #[test]
    fn partial_sort_puts_the_nearest_first() {
        let mut seed = 7u64;
        for n in [1usize, 5, 7, 8, 41, 100, 500] {
            let ds: Vec<f64> = (0..n)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    (seed % 50) as f64
                })
                .collect();
            let mut sorted = ds.clone();
            sorted.sort_by(|a, b| a.total_cmp(b));
            for keep in [1, n / 2, n.saturating_sub(1)] {
                if keep == 0 || keep >= n {
                    continue;
                }
                let mut v = found(&ds);
                sort_found(&mut v, Order::Asc, keep);
                assert_eq!(dists(&v)[..keep], sorted[..keep], "n={n} keep={keep}");
                let mut v = found(&ds);
                sort_found(&mut v, Order::Desc, keep);
                let rev: Vec<f64> = sorted.iter().rev().copied().collect();
                assert_eq!(dists(&v)[..keep], rev[..keep], "n={n} keep={keep}");
            }
            let mut v = found(&ds);
            sort_found(&mut v, Order::Asc, n);
            assert_eq!(dists(&v), sorted);
        }
        // NaN breaks the order but never the sort.
        let mut v = found(&[3.0, f64::NAN, 1.0, 2.0, f64::NAN, 0.5, 9.0, 8.0, 7.0]);
        sort_found(&mut v, Order::Asc, 9);
        sort_found(&mut v, Order::Desc, 3);
    }
}
