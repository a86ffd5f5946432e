//! `scale_by_sophia`: Sophia's clipped, Hessian-preconditioned momentum
//! (optax `contrib.scale_by_sophia`), fed its Hessian-diagonal estimates
//! through a [`HessianFeed`].
//!
//! `optim` never sees the objective: the Hessian-diagonal estimates come from
//! the training loop, taken only on the steps that want one.

use crate::buf::{Bufs, SplitAt};
use crate::transform::{
    BlockTransform, Mask, MomentumKind, Tensors, gradient_transform_via_blocks,
};
use descent_core::{Params, Scalar, StepCtx};
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex, PoisonError};

/// Where the training loop hands Sophia its Hessian-diagonal estimates.
///
/// This crate never sees the objective, so the estimate (optax's default is
/// Hutchinson's `r ⊙ (H r)` for a Rademacher vector `r`, one
/// Hessian-vector product) is computed by the caller, at the current
/// parameters, before a step that wants one
/// ([`SophiaConfig::wants_hessian`](crate::SophiaConfig::wants_hessian)),
/// and given here: one `Vec` per parameter in id order, in the store's
/// element order. Clones share the same slot.
#[derive(Clone, Debug, Default)]
pub struct HessianFeed(Arc<Mutex<Option<Vec<Vec<f64>>>>>);

impl PartialEq for HessianFeed {
    /// The same slot.
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl HessianFeed {
    /// An empty slot.
    pub fn new() -> Self {
        Self::default()
    }

    /// Gives the estimate the next step that wants one uses (replacing one
    /// not used yet).
    pub fn provide(&self, estimate: Vec<Vec<f64>>) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(estimate);
    }

    /// True when an estimate waits to be used.
    pub fn is_pending(&self) -> bool {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some()
    }

    fn take(&self) -> Option<Vec<Vec<f64>>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).take()
    }
}

/// Sophia's scaling (Liu et al. 2023; optax `scale_by_sophia`).
#[derive(Clone, Debug, PartialEq)]
pub struct ScaleBySophia {
    /// β₁, the momentum's decay.
    pub b1: f64,
    /// β₂, the decay of the Hessian-diagonal average.
    pub b2: f64,
    /// ε, the least denominator.
    pub eps: f64,
    /// γ, the Hessian's scale in the denominator.
    pub gamma: f64,
    /// Updates are clipped to ±this; `None`: no clipping.
    pub clip_threshold: Option<f64>,
    /// The Hessian average is updated on 0-based steps `k` with `k % update_interval == 0` (at least 1).
    pub update_interval: u64,
    /// Where the estimates come from.
    pub feed: HessianFeed,
}

/// optax's `scale_by_sophia` with the Hessian diagonal from `feed`:
/// `m ← (1−β₁)g + β₁m`, `u ← clip((m/(1−β₁ᵗ)) / max(γ·h, ε), ±clip_threshold)`
/// with `h` the average *before* this step; then, on 0-based steps `k` with
/// `k % update_interval == 0`, `h ← (1−β₂)ĥ + β₂h` for the estimate `ĥ` in
/// the feed. A step that wants an estimate and finds none (or one of the
/// wrong shape) keeps `h` and counts a miss (`hessian_misses` in the state).
///
/// # Examples
///
/// ```
/// use descent_optim::transform::{HessianFeed, scale_by_sophia};
///
/// let feed = HessianFeed::new();
/// let sophia = scale_by_sophia(0.965, 0.99, 1e-8, 0.01, Some(1.0), 10, feed.clone());
/// feed.provide(vec![vec![1.0, 2.0]]);
/// assert!(sophia.feed.is_pending());
/// ```
pub fn scale_by_sophia(
    b1: f64,
    b2: f64,
    eps: f64,
    gamma: f64,
    clip_threshold: Option<f64>,
    update_interval: u64,
    feed: HessianFeed,
) -> ScaleBySophia {
    ScaleBySophia {
        b1,
        b2,
        eps,
        gamma,
        clip_threshold,
        update_interval,
        feed,
    }
}

/// State of [`ScaleBySophia`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct ScaleBySophiaState<S: Scalar> {
    /// Steps taken.
    pub count: u64,
    /// Momentum.
    pub mu: Bufs<S>,
    /// The average of the Hessian-diagonal estimates.
    pub nu: Bufs<S>,
    /// Steps that wanted an estimate and found none (or a wrongly shaped one).
    pub hessian_misses: u64,
    /// This step's estimate, while it is applied.
    #[serde(skip)]
    estimate: Option<Vec<Vec<S>>>,
}

/// Per-step scalars of Sophia.
#[derive(Clone, Copy, Debug)]
pub struct SophiaCoefs<S> {
    b1: S,
    w1: S,
    b2: S,
    w2: S,
    bc1: S,
    gamma: S,
    eps: S,
    clip: Option<S>,
}

impl<S: Scalar> SophiaCoefs<S> {
    /// One element: updates the momentum and, with an estimate `e`, the
    /// Hessian average; returns the update (from the average before).
    #[inline(always)]
    fn step(&self, g: S, m: &mut S, h: &mut S, e: Option<S>) -> S {
        *m = self.w1 * g + self.b1 * *m;
        let gh = self.gamma * *h;
        // jnp.maximum: NaN wins.
        let denom = if gh > self.eps || gh.partial_cmp(&gh).is_none() {
            gh
        } else {
            self.eps
        };
        let mut u = (*m / self.bc1) / denom;
        if let Some(c) = self.clip {
            // jnp.clip: NaN stays NaN.
            if u > c {
                u = c;
            } else if u < -c {
                u = -c;
            }
        }
        if let Some(e) = e {
            *h = self.w2 * e + self.b2 * *h;
        }
        u
    }
}

/// A block of this step's estimate, when the step has one.
#[derive(Debug)]
pub struct Estimate<'a, S>(Option<&'a [S]>);

impl<S> SplitAt for Estimate<'_, S> {
    fn split_at(self, mid: usize) -> (Self, Self) {
        match self.0 {
            Some(e) => {
                let (a, b) = e.split_at(mid);
                (Estimate(Some(a)), Estimate(Some(b)))
            }
            None => (Estimate(None), Estimate(None)),
        }
    }
}

impl<S: Scalar> BlockTransform<S> for ScaleBySophia {
    type State = ScaleBySophiaState<S>;
    type Coefs = SophiaCoefs<S>;
    type View<'a> = (&'a mut [S], &'a mut [S], Estimate<'a, S>);

    fn init_masked(&self, params: &Params<S>, mask: Mask<'_>) -> Self::State {
        ScaleBySophiaState {
            count: 0,
            mu: Bufs::zeros(params, mask),
            nu: Bufs::zeros(params, mask),
            hessian_misses: 0,
            estimate: None,
        }
    }

    fn momentum(&self) -> Option<(MomentumKind, f64)> {
        Some((MomentumKind::Beta1, self.b1))
    }

    fn prepare(
        &self,
        state: &mut Self::State,
        _: Tensors<'_, S>,
        params: &Params<S>,
        mask: Mask<'_>,
        ctx: &StepCtx,
    ) -> SophiaCoefs<S> {
        let due = state.count % self.update_interval.max(1) == 0;
        state.estimate = None;
        if due {
            let fits = |e: &Vec<Vec<f64>>| {
                e.len() == params.len()
                    && params
                        .iter()
                        .zip(e)
                        .all(|((id, _, v), e)| !mask.contains(id) || e.len() == v.len())
            };
            match self.feed.take() {
                Some(e) if fits(&e) => {
                    state.estimate = Some(
                        e.into_iter()
                            .map(|t| t.into_iter().map(S::cast).collect())
                            .collect(),
                    );
                }
                _ => state.hessian_misses += 1,
            }
        }
        state.count += 1;
        let b1 = ctx.momentum.unwrap_or(self.b1);
        SophiaCoefs {
            b1: S::cast(b1),
            w1: S::cast(1.0 - b1),
            b2: S::cast(self.b2),
            w2: S::cast(1.0 - self.b2),
            bc1: S::cast(1.0 - b1.powf(state.count as f64)),
            gamma: S::cast(self.gamma),
            eps: S::cast(self.eps),
            clip: self.clip_threshold.map(S::cast),
        }
    }

    fn views<'a>(&self, state: &'a mut Self::State) -> impl Iterator<Item = Self::View<'a>> {
        let estimates = state
            .estimate
            .iter()
            .flat_map(|e| e.iter().map(|t| Estimate(Some(t.as_slice()))))
            .chain(std::iter::repeat_with(|| Estimate(None)));
        state
            .mu
            .slices_mut()
            .zip(state.nu.slices_mut())
            .zip(estimates)
            .map(|((m, v), e)| (m, v, e))
    }

    #[inline(always)]
    fn apply_block(&self, c: &SophiaCoefs<S>, view: &mut Self::View<'_>, u: &mut [S], _p: &[S]) {
        let (mu, nu, est) = view;
        match est.0 {
            Some(e) => {
                for (((g, m), h), &e) in u.iter_mut().zip(mu.iter_mut()).zip(nu.iter_mut()).zip(e) {
                    *g = c.step(*g, m, h, Some(e));
                }
            }
            None => {
                for ((g, m), h) in u.iter_mut().zip(mu.iter_mut()).zip(nu.iter_mut()) {
                    *g = c.step(*g, m, h, None);
                }
            }
        }
    }
}
gradient_transform_via_blocks!(ScaleBySophia);
