//! INCRBYFLOAT bit for bit with Redis's x87 long double arithmetic: a seeded
//! random stream of increments of every magnitude and syntax, compared with
//! redis-server reply by reply.

use rand::{Rng, SeedableRng};

use crate::util::Diff;

fn random_number(rng: &mut rand::rngs::SmallRng) -> String {
    let sign = if rng.gen_bool(0.3) { "-" } else { "" };
    match rng.gen_range(0..10) {
        0 => format!("{sign}{}", rng.gen_range(0..1000)),
        1 => format!(
            "{sign}{}.{}",
            rng.gen_range(0..100000),
            rng.gen_range(0..1000000)
        ),
        2 => format!("{sign}{}e{}", rng.gen_range(1..10), rng.gen_range(-30..30)),
        3 => format!(
            "{sign}{}e{}",
            rng.gen_range(1..10),
            rng.gen_range(-4950..4940)
        ),
        4 => format!(
            "{sign}0.{:018}",
            rng.gen_range(0u64..1_000_000_000_000_000_000)
        ),
        5 => format!(
            "{sign}0x{:x}p{}",
            rng.gen_range(1u32..0xffff),
            rng.gen_range(-70..70)
        ),
        6 => format!(
            "{sign}{}",
            rng.gen::<f64>() * 10f64.powi(rng.gen_range(-20..20))
        ),
        7 => [
            "inf", "-inf", "nan", "1e", " 1", "1 ", "abc", "", "+.5", "5.", "1e99999",
        ][rng.gen_range(0..11)]
        .to_string(),
        8 => format!("{sign}{}", rng.gen::<i64>()),
        _ => format!(
            "{sign}{}.{}e{}",
            rng.gen_range(0..10),
            rng.gen_range(0..1000),
            rng.gen_range(-300..300)
        ),
    }
}

#[test]
fn incrbyfloat_differential_against_redis() {
    let mut d = Diff::start(&[]);
    let mut rng = rand::rngs::SmallRng::seed_from_u64(0x1d0b1e);
    for i in 0..1500 {
        let key = format!("k{}", i % 7);
        if rng.gen_range(0..20) == 0 {
            let v = random_number(&mut rng);
            d.same_str(&["SET", &key, &v]);
        }
        let by = random_number(&mut rng);
        d.same_str(&["INCRBYFLOAT", &key, &by]);
        if rng.gen_range(0..10) == 0 {
            d.same_str(&["GET", &key]);
        }
    }
}
