//! Weight averaging: an exponential moving average (EMA) or the equal-weight
//! stochastic weight average (SWA) of a model's parameters, and optionally
//! its buffers, exactly as PyTorch's `torch.optim.swa_utils.AveragedModel`.
//!
//! It lives here, not in `descent-optim`, because it averages a model's
//! whole state: buffers (batch norm's running statistics) are a `descent-nn`
//! notion.
//!
//! Invariant: an averaged model has exactly the tensors of its model (checked
//! on every update, `Error::StateMismatch` otherwise).

use crate::ArgError;
use crate::buffers::Buffer;
use crate::state::ModelState;
use crate::{Error, Result, TensorMismatch};
use descent_core::Scalar;
use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};

/// How the average `A` takes in the current value `C`, with `n` the number
/// of models averaged before this update (PyTorch's `avg_fn` /
/// `multi_avg_fn`). The first update always copies.
///
/// | here | PyTorch | rule |
/// |---|---|---|
/// | `Swa` | both `None` (the default, CPU path) | `A + (C − A)/(n + 1)` |
/// | `SwaMulti` | `multi_avg_fn=get_swa_multi_avg_fn()` | `lerp(A, C, 1/(n + 1))` |
/// | `EmaMulti { decay }` | `multi_avg_fn=get_ema_multi_avg_fn(decay)` | `lerp(A, C, 1 − decay)` |
/// | `Ema { decay }` | `avg_fn=get_ema_avg_fn(decay)` | `decay·A + (1 − decay)·C` |
///
/// `lerp(a, b, w)` is PyTorch's: `a + w(b − a)` when `w < 0.5`, else
/// `b − (b − a)(1 − w)`. Integer buffers (`num_batches_tracked`) are
/// averaged in f64 and truncated toward zero, as PyTorch writes a float
/// result into an int64 tensor; an EMA of them uses `decay·A + (1 − decay)·C`
/// (PyTorch's integer branch). PyTorch raises on `SwaMulti` over integer
/// buffers; here they take the `Swa` rule.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "fn", rename_all = "snake_case")]
pub enum AvgFn {
    /// The equal-weight running mean (PyTorch's default).
    Swa,
    /// The running mean through `lerp` (`get_swa_multi_avg_fn`).
    SwaMulti,
    /// An exponential moving average through `lerp` (`get_ema_multi_avg_fn`,
    /// PyTorch's recommended EMA).
    EmaMulti {
        /// Weight of the old average, in `[0, 1]`; PyTorch's default is 0.999.
        decay: f64,
    },
    /// An exponential moving average written out (`get_ema_avg_fn`).
    Ema {
        /// Weight of the old average, in `[0, 1]`; PyTorch's default is 0.999.
        decay: f64,
    },
}

impl AvgFn {
    fn check(self) -> Result<Self> {
        match self {
            AvgFn::Ema { decay } | AvgFn::EmaMulti { decay } if !(0.0..=1.0).contains(&decay) => {
                Err(Error::Arg(ArgError::new(
                    "decay",
                    decay,
                    "must be in [0, 1] (in AveragedModel)",
                )))
            }
            ok => Ok(ok),
        }
    }

    /// The new average of one float element.
    fn float(self, a: f64, c: f64, n: u64) -> f64 {
        match self {
            AvgFn::Swa => a + (c - a) / (n as f64 + 1.0),
            AvgFn::SwaMulti => lerp(a, c, 1.0 / (n as f64 + 1.0)),
            AvgFn::EmaMulti { decay } => lerp(a, c, 1.0 - decay),
            AvgFn::Ema { decay } => decay * a + (1.0 - decay) * c,
        }
    }

    /// The new average of one integer buffer, truncated toward zero.
    fn count(self, a: i64, c: i64, n: u64) -> i64 {
        let (a_f, c_f) = (a as f64, c as f64);
        let v = match self {
            AvgFn::Swa | AvgFn::SwaMulti => a_f + (c - a) as f64 / (n as f64 + 1.0),
            AvgFn::EmaMulti { decay } | AvgFn::Ema { decay } => a_f * decay + c_f * (1.0 - decay),
        };
        v.trunc() as i64
    }
}

/// PyTorch's `torch.lerp` on floats: exact at both ends.
fn lerp(a: f64, b: f64, w: f64) -> f64 {
    if w.abs() < 0.5 {
        a + w * (b - a)
    } else {
        b - (b - a) * (1.0 - w)
    }
}

/// What to average and how (PyTorch `AveragedModel`'s arguments).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct AveragedModelConfig {
    /// The averaging rule; default [`AvgFn::Swa`].
    pub avg_fn: AvgFn,
    /// Average the buffers too (running statistics); `false` (the default)
    /// copies the model's buffers at every update instead.
    pub use_buffers: bool,
}

impl Default for AveragedModelConfig {
    /// PyTorch's defaults: equal-weight average, buffers copied.
    fn default() -> Self {
        AveragedModelConfig {
            avg_fn: AvgFn::Swa,
            use_buffers: false,
        }
    }
}

/// A running average of a model's state (PyTorch
/// `torch.optim.swa_utils.AveragedModel`): a copy of the model's
/// [`ModelState`] that [`update_parameters`](Self::update_parameters) moves
/// towards the model's current weights.
///
/// The model's structure (a [`Module`](crate::Module)) holds no values, so the averaged
/// weights are evaluated by running the same module over [`state`](Self::state).
/// After SWA without `use_buffers`, recompute the batch-norm statistics for
/// the averaged weights with [`update_bn`](crate::update_bn).
///
/// # Examples
///
/// ```
/// use descent_core::Tags;
/// use descent_nn::{AveragedModel, AveragedModelConfig, AvgFn, ModelState};
/// use nalgebra::DMatrix;
///
/// let mut model = ModelState::<f64>::new();
/// let w = model.register_param("w", Tags::WEIGHT, &[2], DMatrix::from_row_slice(1, 2, &[1.0, 2.0]))?;
/// let mut swa = AveragedModel::new(&model, AveragedModelConfig::default())?;
/// for v in [1.0, 2.0, 6.0] {
///     model.params.params_mut().value_mut(w).fill(v);
///     swa.update_parameters(&model)?;
/// }
/// assert_eq!(swa.n_averaged(), 3);
/// assert_eq!(swa.state().params.value(w)[0], 3.0); // (1 + 2 + 6) / 3
///
/// let ema = AveragedModelConfig { avg_fn: AvgFn::EmaMulti { decay: 0.9 }, ..Default::default() };
/// let mut ema = AveragedModel::new(&model, ema)?;
/// ema.update_parameters(&model)?; // the first update copies
/// assert_eq!(ema.state().params.value(w)[0], 6.0);
/// # Ok::<(), descent_nn::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct AveragedModel<S: Scalar> {
    state: ModelState<S>,
    config: AveragedModelConfig,
    n_averaged: u64,
}

impl<S: Scalar> AveragedModel<S> {
    /// An average of the model whose state is `model` (copied, as PyTorch
    /// deep-copies the module), with nothing averaged yet.
    pub fn new(model: &ModelState<S>, config: AveragedModelConfig) -> Result<Self> {
        config.avg_fn.check()?;
        let mut state = model.clone();
        state.params.zero_grad();
        Ok(AveragedModel {
            state,
            config,
            n_averaged: 0,
        })
    }

    /// The averaged parameters and buffers.
    pub fn state(&self) -> &ModelState<S> {
        &self.state
    }

    /// The averaged parameters and buffers, mutably (for
    /// [`update_bn`](crate::update_bn), or a forward pass).
    pub fn state_mut(&mut self) -> &mut ModelState<S> {
        &mut self.state
    }

    /// The configuration.
    pub fn config(&self) -> &AveragedModelConfig {
        &self.config
    }

    /// How many models have been averaged (PyTorch's `n_averaged`).
    pub fn n_averaged(&self) -> u64 {
        self.n_averaged
    }

    /// Puts back a saved average: `state` (checked against this average's
    /// names and shapes) and its `n_averaged`. On error nothing changes.
    pub fn restore(&mut self, state: ModelState<S>, n_averaged: u64) -> Result<()> {
        check_fits(&self.state, &state)?;
        self.state = state;
        self.n_averaged = n_averaged;
        Ok(())
    }

    /// Takes the model's current state into the average (PyTorch
    /// `update_parameters(model)`): the first call copies it, later calls
    /// apply the [`AvgFn`] to every parameter (and, with `use_buffers`, every
    /// buffer); without `use_buffers` the buffers are copied.
    ///
    /// A `model` with other tensor names or shapes than the averaged one is
    /// [`Error::StateMismatch`], and nothing changes.
    pub fn update_parameters(&mut self, model: &ModelState<S>) -> Result<()> {
        check_fits(&self.state, model)?;
        let (n, rule) = (self.n_averaged, self.config.avg_fn);
        let (avg_params, _) = self.state.params.split_mut();
        for ((_, a), (_, _, c)) in avg_params.values_mut().zip(model.params.iter()) {
            average(a, c, n, rule);
        }
        let use_buffers = self.config.use_buffers;
        let ids: Vec<_> = self.state.buffers.iter().map(|(id, _, _)| id).collect();
        for id in ids {
            match (self.state.buffers.get_mut(id), model.buffers.get(id)) {
                (Buffer::Tensor(a), Buffer::Tensor(c)) if use_buffers => average(a, c, n, rule),
                (Buffer::Tensor(a), Buffer::Tensor(c)) => a.copy_from(c),
                (Buffer::Count(a), Buffer::Count(c)) if use_buffers && n > 0 => {
                    *a = rule.count(*a, *c, n)
                }
                // a count copied; check_fits compared the kinds
                (a, c) => a.clone_from(c),
            }
        }
        self.n_averaged += 1;
        Ok(())
    }
}

fn average<S: Scalar>(avg: &mut DMatrix<S>, current: &DMatrix<S>, n: u64, rule: AvgFn) {
    if n == 0 {
        avg.copy_from(current);
        return;
    }
    for (a, &c) in avg.iter_mut().zip(current.iter()) {
        *a = S::cast(rule.float(a.as_f64(), c.as_f64(), n));
    }
}

/// `Ok` when `got` has the tensors of `want`, in the same order, with the
/// same shapes and kinds; else the mismatch, as a state load reports it.
fn check_fits<S: Scalar>(want: &ModelState<S>, got: &ModelState<S>) -> Result<()> {
    let names = |s: &ModelState<S>| -> Vec<(String, (usize, usize), &'static str)> {
        let params = s
            .params
            .iter()
            .map(|(_, m, v)| (m.name.clone(), v.shape(), "param"));
        let buffers = s.buffers.iter().map(|(_, n, b)| match b {
            Buffer::Tensor(m) => (n.to_owned(), m.shape(), "tensor"),
            Buffer::Count(_) => (n.to_owned(), (1, 1), "count"),
        });
        params.chain(buffers).collect()
    };
    let (w, g) = (names(want), names(got));
    if w == g {
        return Ok(());
    }
    let missing = w
        .iter()
        .filter(|x| !g.iter().any(|y| y.0 == x.0))
        .map(|x| x.0.clone())
        .collect();
    let unexpected = g
        .iter()
        .filter(|y| !w.iter().any(|x| x.0 == y.0))
        .map(|y| y.0.clone())
        .collect();
    let mismatched = w
        .iter()
        .filter_map(|x| {
            let y = g
                .iter()
                .find(|y| y.0 == x.0 && (y.1 != x.1 || y.2 != x.2))?;
            Some(TensorMismatch {
                name: x.0.clone(),
                expected_shape: vec![x.1.0, x.1.1],
                got_shape: vec![y.1.0, y.1.1],
                expected_dtype: x.2.to_owned(),
                got_dtype: y.2.to_owned(),
            })
        })
        .collect();
    Err(Error::StateMismatch {
        missing,
        unexpected,
        mismatched,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use descent_core::Tags;
    use descent_testkit::strategies::matrix_of;
    use proptest::prelude::*;

    fn model(values: &DMatrix<f64>, count: i64) -> ModelState<f64> {
        let mut s = ModelState::new();
        s.register_param(
            "w",
            Tags::WEIGHT,
            &[values.nrows(), values.ncols()],
            values.clone(),
        )
        .unwrap();
        s.register_buffer("m", &[values.len()], DMatrix::zeros(1, values.len()))
            .unwrap();
        s.register_count("n", count).unwrap();
        s
    }

    fn set(s: &mut ModelState<f64>, v: &DMatrix<f64>, count: i64) {
        let id = s.params.id("w").unwrap();
        s.params.params_mut().value_mut(id).copy_from(v);
        let m = s.buffers.id("m").unwrap();
        s.buffers.tensor_mut(m).copy_from_slice(v.as_slice());
        let n = s.buffers.id("n").unwrap();
        *s.buffers.count_mut(n) = count;
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn ema_with_decay_0_is_the_last_weights(
            snaps in proptest::collection::vec(matrix_of(2, 3, -5.0, 5.0), 1..6),
            multi in any::<bool>(),
        ) {
            let mut m = model(&snaps[0], 0);
            let avg_fn = if multi { AvgFn::EmaMulti { decay: 0.0 } } else { AvgFn::Ema { decay: 0.0 } };
            let cfg = AveragedModelConfig { avg_fn, use_buffers: true };
            let mut avg = AveragedModel::new(&m, cfg).unwrap();
            for (k, s) in snaps.iter().enumerate() {
                set(&mut m, s, k as i64 * 7);
                avg.update_parameters(&m).unwrap();
                prop_assert_eq!(avg.state().params.value(w(&avg)), s);
                let n = avg.state().buffers.id("n").unwrap();
                prop_assert_eq!(avg.state().buffers.count(n), k as i64 * 7);
            }
        }

        #[test]
        fn swa_is_the_running_mean(
            snaps in proptest::collection::vec(matrix_of(2, 3, -5.0, 5.0), 1..8),
            multi in any::<bool>(),
        ) {
            let mut m = model(&snaps[0], 0);
            let avg_fn = if multi { AvgFn::SwaMulti } else { AvgFn::Swa };
            let cfg = AveragedModelConfig { avg_fn, use_buffers: true };
            let mut avg = AveragedModel::new(&m, cfg).unwrap();
            let mut sum = DMatrix::<f64>::zeros(2, 3);
            for (k, s) in snaps.iter().enumerate() {
                set(&mut m, s, 0);
                avg.update_parameters(&m).unwrap();
                sum += s;
                let mean = &sum / (k + 1) as f64;
                let got = avg.state().params.value(w(&avg));
                for (g, w) in got.iter().zip(mean.iter()) {
                    prop_assert!((g - w).abs() <= 1e-12 * (1.0 + w.abs()), "{g} vs {w}");
                }
                let buf = avg.state().buffers.tensor(avg.state().buffers.id("m").unwrap());
                for (g, w) in buf.iter().zip(mean.iter()) {
                    prop_assert!((g - w).abs() <= 1e-12 * (1.0 + w.abs()));
                }
            }
            prop_assert_eq!(avg.n_averaged(), snaps.len() as u64);
        }
    }

    fn w(avg: &AveragedModel<f64>) -> descent_core::ParamId {
        avg.state().params.id("w").unwrap()
    }

    #[test]
    fn buffers_are_copied_without_use_buffers() {
        let a = DMatrix::from_element(1, 2, 1.0);
        let b = DMatrix::from_element(1, 2, 3.0);
        let mut m = model(&a, 4);
        let mut avg = AveragedModel::new(&m, AveragedModelConfig::default()).unwrap();
        avg.update_parameters(&m).unwrap();
        set(&mut m, &b, 9);
        avg.update_parameters(&m).unwrap();
        let s = avg.state();
        assert_eq!(s.params.value(s.params.id("w").unwrap())[0], 2.0);
        assert_eq!(s.buffers.tensor(s.buffers.id("m").unwrap())[0], 3.0);
        assert_eq!(s.buffers.count(s.buffers.id("n").unwrap()), 9);
    }

    #[test]
    fn an_ema_of_a_count_truncates_toward_zero() {
        assert_eq!(AvgFn::EmaMulti { decay: 0.95 }.count(18, 19, 3), 18);
        assert_eq!(AvgFn::Swa.count(13, 16, 1), 14);
    }

    #[test]
    fn another_model_or_a_bad_decay_is_a_typed_error() {
        let m = model(&DMatrix::zeros(2, 2), 0);
        let mut avg = AveragedModel::new(&m, AveragedModelConfig::default()).unwrap();
        let other = model(&DMatrix::zeros(2, 3), 0);
        let err = avg.update_parameters(&other).unwrap_err();
        assert!(
            matches!(&err, Error::StateMismatch { mismatched, .. } if mismatched[0].name == "w"),
            "{err}"
        );
        assert_eq!(avg.n_averaged(), 0);
        let bad = AveragedModelConfig {
            avg_fn: AvgFn::Ema { decay: 1.5 },
            use_buffers: false,
        };
        assert!(matches!(
            AveragedModel::new(&m, bad),
            Err(Error::Arg(ArgError { name: "decay", .. }))
        ));
    }
}
