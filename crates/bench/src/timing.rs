//! Wall-clock timing of a repeated step: warm-up, then per-iteration times.

use std::time::Instant;

/// Per-iteration wall-clock times of a step, in milliseconds.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Timing {
    /// One entry per timed iteration, in the order they ran.
    pub samples_ms: Vec<f64>,
}

impl Timing {
    /// The median iteration time (mean of the middle two for an even count);
    /// NaN when there are no samples.
    ///
    /// # Examples
    ///
    /// ```
    /// let t = descent_bench::Timing { samples_ms: vec![3.0, 1.0, 2.0, 10.0] };
    /// assert_eq!(t.median_ms(), 2.5);
    /// assert_eq!(t.min_ms(), 1.0);
    /// ```
    pub fn median_ms(&self) -> f64 {
        let mut s = self.samples_ms.clone();
        if s.is_empty() {
            return f64::NAN;
        }
        s.sort_by(f64::total_cmp);
        let n = s.len();
        if n % 2 == 1 {
            s[n / 2]
        } else {
            0.5 * (s[n / 2 - 1] + s[n / 2])
        }
    }

    /// The fastest iteration; NaN when there are no samples.
    pub fn min_ms(&self) -> f64 {
        self.samples_ms
            .iter()
            .copied()
            .min_by(f64::total_cmp)
            .unwrap_or(f64::NAN)
    }

    /// Appends another run's samples (runs alternated with another tool).
    pub fn extend(&mut self, other: &Timing) {
        self.samples_ms.extend_from_slice(&other.samples_ms);
    }
}

/// Runs `step` `warmup` times untimed, then `iters` times, timing each call.
///
/// # Examples
///
/// ```
/// let mut n = 0;
/// let t = descent_bench::time_steps(2, 5, || n += 1);
/// assert_eq!((n, t.samples_ms.len()), (7, 5));
/// ```
pub fn time_steps(warmup: usize, iters: usize, mut step: impl FnMut()) -> Timing {
    time_prepared_steps(warmup, iters, &mut (), |_| {}, |_| step())
}

/// Like [`time_steps`] over a `state` both closures work on, running
/// `prepare` untimed before every call of `step` (warm-up included), e.g. to
/// restore an input that `step` rewrites in place.
///
/// # Examples
///
/// ```
/// let mut v = vec![0; 4];
/// let t = descent_bench::time_prepared_steps(1, 3, &mut v, |v| v.fill(1), |v| v[0] += 1);
/// assert_eq!((v, t.samples_ms.len()), (vec![2, 1, 1, 1], 3));
/// ```
pub fn time_prepared_steps<S: ?Sized>(
    warmup: usize,
    iters: usize,
    state: &mut S,
    mut prepare: impl FnMut(&mut S),
    mut step: impl FnMut(&mut S),
) -> Timing {
    for _ in 0..warmup {
        prepare(state);
        step(state);
    }
    let samples_ms = (0..iters)
        .map(|_| {
            prepare(state);
            let start = Instant::now();
            step(state);
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    Timing { samples_ms }
}
