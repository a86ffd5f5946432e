//! Clipping stages: by global p-norm (PyTorch's rule) and by value.

use crate::ArgError;
use crate::error::{Error, Result};
use crate::transform::{BlockTransform, ElementRule, Mask, Tensors, gradient_transform_via_blocks};
use descent_core::{Params, Scalar, StepCtx};
use serde::{Deserialize, Serialize};

/// The order `p` of a vector norm: any `p > 0`, or infinity (the largest |x|).
///
/// # Examples
///
/// ```
/// use descent_optim::transform::NormType;
///
/// assert_eq!(NormType::new(2.0)?, NormType::L2);
/// assert_eq!(NormType::new(f64::INFINITY)?, NormType::INF);
/// assert!(NormType::new(0.0).is_err());
/// # Ok::<(), descent_optim::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct NormType(f64);

impl NormType {
    /// The Euclidean norm.
    pub const L2: NormType = NormType(2.0);
    /// The maximum norm.
    pub const INF: NormType = NormType(f64::INFINITY);

    /// The `p`-norm; `p` must be positive (infinity allowed).
    pub fn new(p: f64) -> Result<NormType> {
        if p > 0.0 {
            Ok(NormType(p))
        } else {
            Err(Error::Arg(ArgError::new(
                "norm_type",
                p,
                "expected p > 0 or inf",
            )))
        }
    }

    /// The order `p`.
    pub fn p(self) -> f64 {
        self.0
    }

    /// The norm of one tensor, accumulated in `f64`.
    fn of<S: Scalar>(self, x: &[S]) -> f64 {
        let p = self.0;
        if p == f64::INFINITY {
            x.iter().fold(0.0, |m: f64, v| m.max(v.as_f64().abs()))
        } else if p == 2.0 {
            x.iter()
                .map(|v| v.as_f64() * v.as_f64())
                .sum::<f64>()
                .sqrt()
        } else if p == 1.0 {
            x.iter().map(|v| v.as_f64().abs()).sum()
        } else {
            x.iter()
                .map(|v| v.as_f64().abs().powf(p))
                .sum::<f64>()
                .powf(1.0 / p)
        }
    }

    /// The norm of per-tensor norms (PyTorch stacks them and takes the norm again).
    fn combine(self, norms: impl Iterator<Item = f64>) -> f64 {
        let p = self.0;
        if p == f64::INFINITY {
            norms.fold(0.0, f64::max)
        } else {
            norms.map(|n| n.powf(p)).sum::<f64>().powf(1.0 / p)
        }
    }
}

/// The total `norm_type`-norm over the tensors `ids` of `input`, as
/// PyTorch's `clip_grad_norm_` computes it (norm of the per-tensor norms).
pub fn global_norm<'a, S: Scalar>(
    tensors: impl Iterator<Item = &'a [S]>,
    norm_type: NormType,
) -> f64 {
    norm_type.combine(tensors.map(|t| norm_type.of(t)))
}

/// PyTorch's clip factor: `max_norm / (total + 1e-6)`, capped at 1.
pub(crate) fn clip_coef(max_norm: f64, total_norm: f64) -> f64 {
    (max_norm / (total_norm + 1e-6)).min(1.0)
}

/// Scales the updates so that their global norm is at most `max_norm`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClipByGlobalNorm {
    /// The largest total norm let through.
    pub max_norm: f64,
    /// The norm's order.
    pub norm_type: NormType,
}

/// `u ← u · min(1, max_norm / (‖u‖ + 1e-6))` with the norm taken over every
/// tensor the stage applies to (PyTorch `clip_grad_norm_`). It needs the whole
/// input before any block moves, so the stages before it run in full first;
/// put it first in a chain to keep the step at one pass over memory.
///
/// # Examples
///
/// ```
/// use descent_optim::transform::{NormType, clip_by_global_norm};
///
/// assert_eq!(clip_by_global_norm(1.0, NormType::L2).max_norm, 1.0);
/// ```
pub fn clip_by_global_norm(max_norm: f64, norm_type: NormType) -> ClipByGlobalNorm {
    ClipByGlobalNorm {
        max_norm,
        norm_type,
    }
}

/// State of [`ClipByGlobalNorm`]: the last total norm seen, for logging.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ClipByGlobalNormState {
    /// The total norm of the most recent step's input (0 before the first step).
    #[serde(with = "crate::float")]
    pub last_norm: f64,
}

impl<S: Scalar> BlockTransform<S> for ClipByGlobalNorm {
    type State = ClipByGlobalNormState;
    type Coefs = S;
    type View<'a> = ();

    fn init_masked(&self, _params: &Params<S>, _mask: Mask<'_>) -> Self::State {
        ClipByGlobalNormState::default()
    }

    fn reads_input(&self) -> bool {
        true
    }

    fn prepare(
        &self,
        state: &mut Self::State,
        input: Tensors<'_, S>,
        params: &Params<S>,
        mask: Mask<'_>,
        _: &StepCtx,
    ) -> S {
        let selected = params.ids().filter(|&id| mask.contains(id));
        state.last_norm = global_norm(selected.map(|id| input.get(id)), self.norm_type);
        S::cast(clip_coef(self.max_norm, state.last_norm))
    }

    fn views(&self, _state: &mut Self::State) -> impl Iterator<Item = ()> {
        std::iter::repeat(())
    }

    #[inline(always)]
    fn apply_block(&self, k: &S, _: &mut (), u: &mut [S], _p: &[S]) {
        if *k != S::one() {
            for x in u.iter_mut() {
                *x *= *k;
            }
        }
    }
}
gradient_transform_via_blocks!(ClipByGlobalNorm);

/// Clamps every update element into `[-clip_value, clip_value]`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClipByValue {
    /// The bound.
    pub clip_value: f64,
}

/// `u ← clamp(u, −c, c)` (PyTorch `clip_grad_value_`).
///
/// # Examples
///
/// ```
/// use descent_optim::transform::clip_by_value;
///
/// assert_eq!(clip_by_value(0.5).clip_value, 0.5);
/// ```
pub fn clip_by_value(clip_value: f64) -> ClipByValue {
    ClipByValue { clip_value }
}

impl ElementRule for ClipByValue {
    fn coef(&self, _: &StepCtx) -> f64 {
        self.clip_value
    }

    #[inline(always)]
    fn apply<S: Scalar>(&self, c: S, u: S, _p: S) -> S {
        if u > c {
            c
        } else if u < -c {
            -c
        } else {
            u
        }
    }
}
gradient_transform_via_blocks!(ClipByValue);

#[cfg(test)]
mod tests {
    use crate::ArgError;
    use crate::clip_grad_norm;
    use crate::testing::store_of;
    use crate::transform::NormType;
    use proptest::collection::vec;
    use proptest::prelude::*;

    fn norm_type() -> impl Strategy<Value = NormType> {
        prop_oneof![
            Just(1.0),
            Just(2.0),
            Just(3.0),
            1.1..6.0,
            Just(f64::INFINITY)
        ]
        .prop_map(|p| NormType::new(p).unwrap())
    }

    fn flat(store: &descent_core::ParamStore<f64>) -> Vec<f64> {
        store
            .grads()
            .iter()
            .flat_map(|(_, g)| g.iter().copied().collect::<Vec<_>>())
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn global_norm_clipping_never_raises_the_norm_keeps_direction_and_is_idempotent(
            grads in vec(vec(-5.0..5.0, 1..7), 1..5),
            max_norm in 0.0..4.0,
            p in norm_type(),
        ) {
            let mut store = store_of(&grads);
            for ((_, g), src) in store.grads_mut().iter_mut().zip(&grads) {
                g.copy_from_slice(src);
            }
            let before = flat(&store);
            let total = clip_grad_norm(store.grads_mut(), max_norm, p, false).unwrap();
            let once = flat(&store);
            let after = clip_grad_norm(store.grads_mut(), max_norm, p, false).unwrap();
            let twice = flat(&store);
            // Never raises the norm; at most max_norm afterwards.
            prop_assert!(after <= total * (1.0 + 1e-12) + 1e-300);
            prop_assert!(after <= max_norm * (1.0 + 1e-12) + 1e-12);
            // Keeps the direction: one common factor in (0, 1].
            let k = if total > 0.0 { after / total } else { 1.0 };
            prop_assert!(k <= 1.0 + 1e-12);
            for (b, o) in before.iter().zip(&once) {
                prop_assert!((o - k * b).abs() <= 1e-12 * b.abs().max(1.0));
            }
            // Idempotent up to PyTorch's 1e-6 in the denominator.
            for (o, t) in once.iter().zip(&twice) {
                prop_assert!((o - t).abs() <= 2e-6 * o.abs().max(1e-300) / max_norm.max(1e-6) + 1e-12);
            }
            // Below the threshold nothing changes, exactly.
            if total + 1e-6 <= max_norm {
                prop_assert_eq!(&before, &once);
            }
        }
    }

    #[test]
    fn inf_norm_is_the_largest_magnitude_and_invalid_orders_are_errors() {
        let mut store = store_of(&[vec![0.5, -3.0], vec![2.0]]);
        for ((_, g), v) in store
            .grads_mut()
            .iter_mut()
            .zip([[0.5, -3.0].as_slice(), &[2.0]])
        {
            g.copy_from_slice(v);
        }
        let total = clip_grad_norm(store.grads_mut(), 10.0, NormType::INF, false).unwrap();
        assert_eq!(total, 3.0);
        assert!(NormType::new(-1.0).is_err() && NormType::new(f64::NAN).is_err());
        let err = clip_grad_norm(store.grads_mut(), -1.0, NormType::L2, false).unwrap_err();
        assert!(matches!(
            err,
            crate::Error::Arg(ArgError {
                name: "max_norm",
                ..
            })
        ));
    }

    #[test]
    fn non_finite_norm_is_an_error_only_when_asked_and_leaves_gradients_alone() {
        let mut store = store_of(&[vec![1.0, 2.0]]);
        store
            .grads_mut()
            .iter_mut()
            .next()
            .unwrap()
            .1
            .copy_from_slice(&[f64::INFINITY, 1.0]);
        let err = clip_grad_norm(store.grads_mut(), 1.0, NormType::L2, true).unwrap_err();
        assert!(matches!(err, crate::Error::NonFiniteNorm { .. }));
        assert_eq!(flat(&store), vec![f64::INFINITY, 1.0]);
        assert!(clip_grad_norm(store.grads_mut(), 1.0, NormType::L2, false).is_ok());
    }
}
