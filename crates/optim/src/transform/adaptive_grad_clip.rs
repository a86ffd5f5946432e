//! `adaptive_grad_clip`: unit-wise clipping relative to the parameter norm
//! (Brock et al. 2021; optax `adaptive_grad_clip`).

use crate::ArgError;
use crate::buf::SplitAt;
use crate::error::{Error, Result, positive};
use crate::transform::{BlockTransform, Mask, Tensors, gradient_transform_via_blocks};
use descent_core::{Params, Scalar, StepCtx};
use serde::{Deserialize, Serialize};

/// Clips each unit's update to at most `clipping` times the unit's
/// parameter norm.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdaptiveGradClip {
    /// λ, the largest ratio of update norm to parameter norm let through.
    pub clipping: f64,
    /// The smallest parameter norm used (so zero-initialized units still move).
    pub eps: f64,
}

/// Adaptive gradient clipping (Brock et al., 2021, "High-Performance
/// Large-Scale Image Recognition Without Normalization"; optax
/// `adaptive_grad_clip`): for each unit, with `‖·‖` the unit's L2 norm,
/// `max = λ·max(‖p‖, eps)` and `u ← u` when `‖u‖ < max`, else
/// `u ← u · max / max(‖u‖, 1e-6)`.
///
/// A unit is a row of a matrix with more than one row and column — an
/// output unit: a Linear weight is `out × in` and a convolution's
/// `out × (in·kh·kw)` here, so this is optax's reduction over the input axes
/// of its `in × out` and HWIO layouts — and the whole tensor for a vector
/// (one row or one column: biases, norm scales), as optax reduces a tensor
/// that squeezes to one dimension. Norms accumulate in `f64`.
///
/// It reads its whole input before any block moves (one extra read of the
/// gradients, or of the workspace when stages run before it), like
/// [`clip_by_global_norm`](crate::transform::clip_by_global_norm).
///
/// Errors: [`Error::OutOfRange`] naming `clipping` or `eps` unless positive
/// and finite.
///
/// # Examples
///
/// ```
/// use descent_core::{GradientTransform, ParamStore, StepCtx, Tags};
/// use descent_optim::transform::adaptive_grad_clip;
/// use nalgebra::DMatrix;
///
/// let mut store = ParamStore::<f64>::new();
/// // Two output units (rows): ‖p₀‖ = 5, ‖p₁‖ = 1.
/// let w = store.register("w", Tags::WEIGHT, DMatrix::from_row_slice(2, 2, &[3.0, 4.0, 0.6, 0.8]))?;
/// store.grad_mut(w).copy_from_slice(&[0.3, 0.0, 0.4, 0.0]); // column-major: rows (0.3, 0.4), (0, 0)
/// let agc = adaptive_grad_clip(0.01, 1e-3)?;
/// let (params, grads) = store.split_mut();
/// agc.update(grads, &mut agc.init(params), params, &StepCtx::new(0, 1.0));
/// // Row 0's update norm 0.5 exceeds 0.01·5: it is scaled to norm 0.05.
/// assert!((store.grad(w)[(0, 0)] - 0.03).abs() < 1e-7 && (store.grad(w)[(0, 1)] - 0.04).abs() < 1e-7);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn adaptive_grad_clip(clipping: f64, eps: f64) -> Result<AdaptiveGradClip> {
    for (name, value) in [("clipping", clipping), ("eps", eps)] {
        positive(name, value)?;
        if !value.is_finite() {
            return Err(Error::Arg(ArgError::new(
                name,
                value,
                "expected finite and > 0",
            )));
        }
    }
    Ok(AdaptiveGradClip { clipping, eps })
}

/// State of [`AdaptiveGradClip`]: the step's factor for each unit of each
/// tensor (scratch refilled every step, not saved).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct AdaptiveGradClipState<S: Scalar> {
    #[serde(skip)]
    factors: Vec<(usize, Vec<S>)>,
}

/// One tensor's (or block's) unit factors: `factors[(offset + i) % rows]`
/// scales element `i` of the block (elements are column-major, so element
/// `k` of a tensor is in row `k % rows`).
#[derive(Debug)]
pub struct UnitFactors<'a, S> {
    factors: &'a [S],
    rows: usize,
    offset: usize,
}

impl<S> SplitAt for UnitFactors<'_, S> {
    fn split_at(self, mid: usize) -> (Self, Self) {
        let tail = UnitFactors {
            offset: self.offset + mid,
            ..self
        };
        (self, tail)
    }
}

/// The units of a `rows × cols` tensor: its rows, or one unit when it is a vector.
fn n_units(rows: usize, cols: usize) -> usize {
    if rows > 1 && cols > 1 { rows } else { 1 }
}

/// Each unit's L2 norm, in `f64` (column-major `x`, `units` rows or one).
fn unit_norms<S: Scalar>(x: &[S], units: usize, out: &mut Vec<f64>) {
    out.clear();
    out.resize(units, 0.0);
    for (k, v) in x.iter().enumerate() {
        let v = v.as_f64();
        out[k % units] += v * v;
    }
    out.iter_mut().for_each(|s| *s = s.sqrt());
}

impl<S: Scalar> BlockTransform<S> for AdaptiveGradClip {
    type State = AdaptiveGradClipState<S>;
    type Coefs = ();
    type View<'a> = Option<UnitFactors<'a, S>>;

    fn init_masked(&self, _params: &Params<S>, _mask: Mask<'_>) -> Self::State {
        AdaptiveGradClipState::default()
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
    ) {
        state.factors.resize_with(params.len(), Default::default);
        let (mut g_norm, mut p_norm) = (Vec::new(), Vec::new());
        for ((id, _, value), (rows, factors)) in params.iter().zip(state.factors.iter_mut()) {
            factors.clear();
            if !mask.contains(id) {
                continue;
            }
            let units = n_units(value.nrows(), value.ncols());
            unit_norms(input.get(id), units, &mut g_norm);
            unit_norms(value.as_slice(), units, &mut p_norm);
            *rows = units;
            factors.extend(g_norm.iter().zip(&p_norm).map(|(&g, &p)| {
                let max_norm = self.clipping * p.max(self.eps);
                match g < max_norm {
                    true => S::one(),
                    false => S::cast(max_norm / g.max(1e-6)),
                }
            }));
        }
    }

    fn views<'a>(&self, state: &'a mut Self::State) -> impl Iterator<Item = Self::View<'a>> {
        let made = state.factors.iter().map(|(rows, factors)| {
            (!factors.is_empty()).then_some(UnitFactors {
                factors,
                rows: *rows,
                offset: 0,
            })
        });
        made.chain(std::iter::repeat_with(|| None))
    }

    #[inline(always)]
    fn apply_block(&self, _: &(), view: &mut Self::View<'_>, u: &mut [S], _p: &[S]) {
        let Some(f) = view else { return };
        if f.rows == 1 {
            let k = f.factors[0];
            if k != S::one() {
                u.iter_mut().for_each(|x| *x *= k);
            }
            return;
        }
        let mut row = f.offset % f.rows;
        for x in u.iter_mut() {
            *x *= f.factors[row];
            row += 1;
            if row == f.rows {
                row = 0;
            }
        }
    }
}
gradient_transform_via_blocks!(AdaptiveGradClip);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Optimizer;
    use crate::transform::{chain, scale_by_learning_rate};
    use descent_core::{ParamStore, Tags};
    use nalgebra::DMatrix;
    use proptest::collection::vec;
    use proptest::prelude::*;

    /// The rule written out on one tensor, row by row (or whole, for a vector).
    fn by_hand(p: &DMatrix<f64>, g: &DMatrix<f64>, clipping: f64, eps: f64) -> DMatrix<f64> {
        let units: Vec<Vec<(usize, usize)>> = if p.nrows() > 1 && p.ncols() > 1 {
            (0..p.nrows())
                .map(|r| (0..p.ncols()).map(|c| (r, c)).collect())
                .collect()
        } else {
            vec![
                (0..p.nrows())
                    .flat_map(|r| (0..p.ncols()).map(move |c| (r, c)))
                    .collect(),
            ]
        };
        let mut out = g.clone();
        for unit in units {
            let norm = |m: &DMatrix<f64>| unit.iter().map(|&i| m[i] * m[i]).sum::<f64>().sqrt();
            let (gn, pn) = (norm(g), norm(p));
            let max_norm = clipping * pn.max(eps);
            if gn >= max_norm {
                for &i in &unit {
                    out[i] = g[i] * (max_norm / gn.max(1e-6));
                }
            }
        }
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Each unit's update is the rule's (to rounding), never longer than
        /// λ·max(‖p‖, eps), unchanged bit for bit below it, on any thread count.
        #[test]
        fn agc_clips_each_unit_to_a_fraction_of_its_parameter_norm(
            shapes in vec((1usize..40, 1usize..40), 1..4),
            seed in vec(-3.0f64..3.0, 64),
            clipping in 0.01f64..2.0,
            threads in 1usize..4,
        ) {
            let mut store = ParamStore::<f64>::new();
            let mut k = 0;
            let mut next = || { k += 1; seed[k % seed.len()] * (1.0 + (k % 7) as f64) };
            for (i, &(r, c)) in shapes.iter().enumerate() {
                let id = store.register(format!("p{i}"), Tags::WEIGHT, DMatrix::from_fn(r, c, |_, _| next())).unwrap();
                let g = DMatrix::from_fn(r, c, |_, _| next() * 0.1);
                store.grad_mut(id).copy_from(&g);
            }
            let agc = adaptive_grad_clip(clipping, 1e-3).unwrap();
            let mut opt = Optimizer::new(&store, 1.0, chain((agc, scale_by_learning_rate()))).unwrap();
            opt.set_parallelism(descent_testkit::exact_parallelism(threads));
            let before = store.clone();
            opt.step(&mut store).unwrap();
            for (id, _, v) in store.iter() {
                let (p, g) = (before.value(id), before.grad(id));
                let want = by_hand(p, g, clipping, 1e-3);
                for ((new, old), (w, gi)) in v.iter().zip(p.iter()).zip(want.iter().zip(g.iter())) {
                    let applied = old - new;
                    prop_assert!((applied - w).abs() <= 1e-12 * (1.0 + w.abs()), "{applied} vs {w}");
                    if w == gi {
                        prop_assert_eq!((old - gi).to_bits(), new.to_bits());
                    }
                }
            }
        }
    }

    #[test]
    fn invalid_clipping_or_eps_are_typed_errors() {
        for (c, e, name) in [
            (0.0, 1e-3, "clipping"),
            (f64::INFINITY, 1e-3, "clipping"),
            (0.1, -1.0, "eps"),
        ] {
            assert!(
                matches!(adaptive_grad_clip(c, e), Err(Error::Arg(ArgError { name: n, .. })) if n == name)
            );
        }
    }
}
