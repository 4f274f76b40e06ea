//! Interleaved measurement: every implementation of an operation takes turns in short slices of the same round,
//! so each ratio to the floor compares the same machine.
//!
//! On a VM whose speed drifts by ±20 % over seconds, timing the floor and the runtime in separate blocks (even a
//! second apart) compares different machines: the same operation gave ratios from 0.94 to 1.76 in three runs.
//! Here each round runs the floor and every contender for the same number of iterations back to back, a ratio is
//! taken per round against the floor *of that round*, and the reported ratio is the median over rounds. The
//! order of the contenders alternates from round to round so that none always runs right after the floor.

use std::time::{Duration, Instant};

use super::rigs::{CallOp, Rig};

/// What one operation gave: per rig, the median ns per operation and the median ratio to its floor.
#[derive(Clone, Debug)]
pub struct Interleaved {
    /// Per rig (in the order given): its name, median ns per operation, and the median of its per-round ratios
    /// to its floor (`None` for floors).
    pub rows: Vec<(String, f64, Option<f64>)>,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Times `n` runs of `op` on `rig`, in seconds.
fn slice(rig: &mut dyn Rig, op: CallOp, n: u64) -> anyhow::Result<f64> {
    let t = Instant::now();
    for _ in 0..n {
        rig.run(op)?;
    }
    Ok(t.elapsed().as_secs_f64())
}

/// Measures `op` on `rigs` interleaved, for about `budget` per rig in `rounds` rounds. `floor_of[i]` is the
/// index of rig `i`'s floor (itself for a floor).
pub fn measure(
    rigs: &mut [Box<dyn Rig>],
    floor_of: &[usize],
    op: CallOp,
    budget: Duration,
    rounds: usize,
) -> anyhow::Result<Interleaved> {
    let active: Vec<usize> = (0..rigs.len()).collect();
    // Calibrate on the slowest rig, so that no slice is too short to time: iterations per slice such that the
    // slowest rig's slice takes its share of the budget.
    let target = (budget / rounds.max(1) as u32).as_secs_f64();
    let mut n = 1u64;
    loop {
        let mut slowest = 0f64;
        for &i in &active {
            slowest = slowest.max(slice(rigs[i].as_mut(), op, n)?);
        }
        if slowest >= target / 4.0 || n >= 1 << 30 {
            n = ((n as f64 * target / slowest.max(1e-9)) as u64).max(1);
            break;
        }
        n *= 4;
    }
    let mut times: Vec<Vec<f64>> = vec![Vec::with_capacity(rounds); rigs.len()];
    for round in 0..rounds {
        let order: Vec<usize> = if round % 2 == 0 { active.clone() } else { active.iter().rev().copied().collect() };
        for i in order {
            times[i].push(slice(rigs[i].as_mut(), op, n)?);
        }
    }
    let per_op = n as f64 * op.per_run();
    let rows = active
        .iter()
        .map(|&i| {
            let ns = median(times[i].iter().map(|t| t * 1e9 / per_op).collect());
            let f = floor_of[i];
            let ratio = (f != i && !times[f].is_empty())
                .then(|| median(times[i].iter().zip(&times[f]).map(|(t, base)| t / base.max(1e-12)).collect()));
            (rigs[i].name().to_owned(), ns, ratio)
        })
        .collect();
    Ok(Interleaved { rows })
}
