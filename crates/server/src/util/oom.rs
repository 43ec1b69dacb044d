//! `oom-score-adj`, as Redis's setOOMScoreAdj: the kernel's OOM-killer
//! score of this process (`/proc/self/oom_score_adj`) set from
//! `oom-score-adj-values` for its class (master or replica; relica has no
//! snapshot child), relative to the score the process had before relica
//! first changed it (`yes` / `relative`) or as given (`absolute`); turning
//! it off restores that first score.

use std::sync::Mutex;

const PATH: &str = "/proc/self/oom_score_adj";

/// The score before relica changed it, once it has.
static BASE: Mutex<Option<i64>> = Mutex::new(None);

/// Process classes, indexes into `oom-score-adj-values`.
pub const MASTER: usize = 0;
/// A replica.
pub const REPLICA: usize = 1;

/// Parse `oom-score-adj-values` (three integers in -2000..=2000), as
/// Redis's setConfigOOMScoreAdjValuesOption; the normalized text.
pub fn parse_values(words: &[String]) -> Result<String, String> {
    if words.len() != 3 {
        return Err("wrong number of arguments".into());
    }
    let mut v = [0i64; 3];
    for (slot, w) in v.iter_mut().zip(words) {
        *slot = crate::util::num::parse_i64(w.as_bytes())
            .filter(|n| (-2000..=2000).contains(n))
            .ok_or("Invalid oom-score-adj-values, elements must be between -2000 and 2000.")?;
    }
    if v[1] < v[0] || v[2] < v[1] {
        tracing::warn!(
            "The oom-score-adj-values configuration may not work for non-privileged processes! Please consult the documentation."
        );
    }
    Ok(format!("{} {} {}", v[0], v[1], v[2]))
}

/// Apply `oom-score-adj` (`mode`) with `values` for `class`. False
/// (logged) when the proc file cannot be read or written.
pub fn apply(mode: &str, values: &str, class: usize) -> bool {
    let mut base = BASE.lock().unwrap_or_else(|p| p.into_inner());
    let val = if mode != "no" {
        let b = match *base {
            Some(b) => b,
            None => {
                let read = match std::fs::read_to_string(PATH) {
                    Ok(r) => r,
                    Err(e) => {
                        tracing::warn!("Unable to read oom_score_adj: {e}");
                        return false;
                    }
                };
                let b = read.trim().parse().unwrap_or(0);
                *base = Some(b);
                b
            }
        };
        let mut v: i64 = values
            .split(' ')
            .nth(class)
            .and_then(|w| w.parse().ok())
            .unwrap_or(0);
        if mode != "absolute" {
            v += b;
        }
        v.clamp(-1000, 1000)
    } else if let Some(b) = base.take() {
        b
    } else {
        return true;
    };
    if let Err(e) = std::fs::write(PATH, format!("{val}\n")) {
        tracing::warn!("Unable to write oom_score_adj: {e}");
        return false;
    }
    true
}
