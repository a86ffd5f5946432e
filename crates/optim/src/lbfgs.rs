//! `Lbfgs`: PyTorch's L-BFGS, closure-based, with and without the
//! strong-Wolfe line search.

mod line_search;

use crate::check;
use crate::error::{Error, Result, non_negative};
use crate::float::Wide;
use descent_core::range::check;
use descent_core::{ParamStore, Params, Scalar};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::VecDeque;

/// The line search of [`Lbfgs`] (PyTorch's `line_search_fn`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineSearch {
    /// A fixed step of `lr` (PyTorch's `None`).
    #[default]
    None,
    /// Cubic-interpolating search for the strong Wolfe conditions
    /// (`"strong_wolfe"`, minFunc's, c₁ = 1e-4, c₂ = 0.9, at most 25 evaluations).
    StrongWolfe,
}

/// Arguments of [`Lbfgs`]; `Default` is PyTorch's.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LbfgsConfig {
    /// Learning rate: the step length (1).
    pub lr: f64,
    /// Iterations per `step` at most (20).
    pub max_iter: usize,
    /// Closure evaluations per `step` at most; `None` is `max_iter·5/4`.
    pub max_eval: Option<usize>,
    /// Stop when the largest |gradient| is at most this (1e-7).
    pub tolerance_grad: f64,
    /// Stop when the loss, the step or the directional derivative changes
    /// by less than this (1e-9).
    pub tolerance_change: f64,
    /// Curvature pairs kept (100).
    pub history_size: usize,
    /// The line search (none).
    pub line_search: LineSearch,
}

impl Default for LbfgsConfig {
    fn default() -> Self {
        LbfgsConfig {
            lr: 1.0,
            max_iter: 20,
            max_eval: None,
            tolerance_grad: 1e-7,
            tolerance_change: 1e-9,
            history_size: 100,
            line_search: LineSearch::None,
        }
    }
}

impl LbfgsConfig {
    /// `max_eval`, or PyTorch's default `max_iter * 5 // 4`.
    pub fn max_eval(&self) -> usize {
        self.max_eval.unwrap_or(self.max_iter * 5 / 4)
    }

    /// Checks the arguments: finite non-negative rate and tolerances, at
    /// least one iteration, evaluation and history pair (PyTorch checks
    /// none of these; a history of 0 fails inside its step).
    pub fn validate(&self) -> Result<()> {
        check::lr(self.lr)?;
        non_negative("tolerance_grad", self.tolerance_grad)?;
        non_negative("tolerance_change", self.tolerance_change)?;
        let at_least_one = |name, n: usize| check(name, n as f64, n >= 1, "at least 1");
        at_least_one("max_iter", self.max_iter)?;
        at_least_one("max_eval", self.max_eval())?;
        at_least_one("history_size", self.history_size)?;
        Ok(())
    }
}

/// What one [`Lbfgs::step`] did.
#[derive(Clone, Debug, PartialEq)]
pub struct LbfgsStep {
    /// The loss at the parameters before the step: the first closure
    /// evaluation, which is what PyTorch's `step` returns.
    pub loss: f64,
    /// Every loss the closure returned during the step, in order (the
    /// first is `loss`; line-search trials included).
    pub losses: Vec<f64>,
    /// L-BFGS iterations run (0 when the first gradient already met
    /// `tolerance_grad`); PyTorch's growth of `state["n_iter"]`.
    pub n_iters: u64,
}

/// A flat vector that serializes losslessly (NaN and infinities as strings).
#[derive(Clone, Debug, Default, PartialEq)]
struct Flat(Vec<f64>);

impl Serialize for Flat {
    fn serialize<Z: Serializer>(&self, ser: Z) -> std::result::Result<Z::Ok, Z::Error> {
        let wide: Vec<Wide> = self.0.iter().map(|&x| Wide(x)).collect();
        wide.serialize(ser)
    }
}

impl<'de> Deserialize<'de> for Flat {
    fn deserialize<D: Deserializer<'de>>(de: D) -> std::result::Result<Self, D::Error> {
        let wide = Vec::<Wide>::deserialize(de)?;
        Ok(Flat(wide.into_iter().map(|w| w.0).collect()))
    }
}

/// Everything [`Lbfgs`] carries from one `step` to the next (PyTorch's
/// `state`): serialize it to resume a run exactly.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LbfgsState {
    /// Closure evaluations so far.
    pub func_evals: u64,
    /// Iterations so far.
    pub n_iter: u64,
    d: Flat,
    #[serde(with = "crate::float")]
    t: f64,
    old_dirs: VecDeque<Flat>,
    old_stps: VecDeque<Flat>,
    ro: Flat,
    #[serde(with = "crate::float")]
    h_diag: f64,
    prev_flat_grad: Flat,
    #[serde(with = "crate::float")]
    prev_loss: f64,
}

/// L-BFGS as PyTorch's `torch.optim.LBFGS` (PyTorch 2.15): one step runs up
/// to `max_iter` iterations, each re-evaluating the loss and gradient
/// through a closure, with or without the strong-Wolfe line search; the
/// curvature history, direction and step carry over between steps.
///
/// Like PyTorch's, it has one parameter group and treats every parameter
/// of the store as one flat vector (in the store's column-major element
/// order). Vectors and history are kept in `f64` whatever `S` is.
///
/// The closure computes the loss at the store's current values, adds its
/// gradient into the store's gradients and returns the loss; the step
/// zeroes the gradients before each call (what a PyTorch closure's
/// `optimizer.zero_grad()` does), so a closure that runs a tape's
/// `backward` needs nothing more. After the step the store holds the last
/// iterate and the gradient of the last closure call, which need not be
/// taken at that iterate (as in PyTorch).
///
/// # Examples
///
/// ```
/// use descent_core::{ParamStore, Tags};
/// use descent_optim::{Lbfgs, LbfgsConfig, LineSearch};
/// use nalgebra::DMatrix;
///
/// // f(x, y) = (x − 1)² + 10 (y + 2)²
/// let mut store = ParamStore::<f64>::new();
/// let w = store.register("w", Tags::WEIGHT, DMatrix::zeros(1, 2))?;
/// let closure = |s: &mut ParamStore<f64>| {
///     let (x, y) = (s.value(w)[0], s.value(w)[1]);
///     s.grad_mut(w).copy_from_slice(&[2.0 * (x - 1.0), 20.0 * (y + 2.0)]);
///     (x - 1.0).powi(2) + 10.0 * (y + 2.0).powi(2)
/// };
/// let cfg = LbfgsConfig { line_search: LineSearch::StrongWolfe, ..LbfgsConfig::default() };
/// let mut opt = Lbfgs::new(&store, cfg)?;
/// let step = opt.step(&mut store, closure)?;
/// assert_eq!(step.loss, 41.0); // the loss before the step, as PyTorch returns
/// assert!((store.value(w)[0] - 1.0).abs() < 1e-6 && (store.value(w)[1] + 2.0).abs() < 1e-6);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct Lbfgs {
    config: LbfgsConfig,
    numels: Vec<usize>,
    state: LbfgsState,
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn max_abs(a: &[f64]) -> f64 {
    a.iter()
        .fold(0.0, |m: f64, x| if x.abs() > m { x.abs() } else { m })
}

/// Python's `min(a, b)`: `a` unless `b < a`.
pub(crate) fn py_min(a: f64, b: f64) -> f64 {
    if b < a { b } else { a }
}

/// Python's `max(a, b)`: `a` unless `b > a`.
pub(crate) fn py_max(a: f64, b: f64) -> f64 {
    if b > a { b } else { a }
}

impl Lbfgs {
    /// L-BFGS over every parameter of `params`.
    pub fn new<S: Scalar>(params: &Params<S>, config: LbfgsConfig) -> Result<Self> {
        config.validate()?;
        Ok(Lbfgs {
            config,
            numels: params.iter().map(|(_, _, v)| v.len()).collect(),
            state: LbfgsState::default(),
        })
    }

    /// The arguments.
    pub fn config(&self) -> &LbfgsConfig {
        &self.config
    }

    /// A snapshot to resume from.
    pub fn state(&self) -> LbfgsState {
        self.state.clone()
    }

    /// Restores a snapshot taken from an L-BFGS over parameters of the same
    /// sizes; on error nothing changes.
    pub fn load_state(&mut self, saved: &LbfgsState) -> Result<()> {
        let n: usize = self.numels.iter().sum();
        let fits = |v: &Flat| v.0.is_empty() || v.0.len() == n;
        let ok = fits(&saved.d)
            && fits(&saved.prev_flat_grad)
            && saved.old_dirs.len() == saved.old_stps.len()
            && saved.old_dirs.len() == saved.ro.0.len()
            && saved.old_dirs.len() <= self.config.history_size
            && saved
                .old_dirs
                .iter()
                .chain(&saved.old_stps)
                .all(|v| v.0.len() == n);
        if !ok {
            return Err(Error::StateMismatch {
                reason: format!(
                    "an L-BFGS state for another number of parameters (here {n}) or history size"
                ),
            });
        }
        self.state = saved.clone();
        Ok(())
    }

    fn check_store<S: Scalar>(&self, store: &ParamStore<S>) -> Result<()> {
        let got: Vec<usize> = store.iter().map(|(_, _, v)| v.len()).collect();
        if got == self.numels {
            return Ok(());
        }
        Err(Error::StoreMismatch {
            expected: self.numels.len(),
            expected_numel: self.numels.clone(),
            got: got.len(),
            got_numel: got,
        })
    }

    /// One PyTorch `step(closure)`: evaluates the closure, then runs up to
    /// `max_iter` iterations (stopping on `max_eval`, `tolerance_grad`,
    /// `tolerance_change`), and leaves the store at the last iterate.
    pub fn step<S: Scalar>(
        &mut self,
        store: &mut ParamStore<S>,
        mut closure: impl FnMut(&mut ParamStore<S>) -> f64,
    ) -> Result<LbfgsStep> {
        self.check_store(store)?;
        let cfg = self.config;
        let mut losses = Vec::new();
        let mut eval = |store: &mut ParamStore<S>| {
            store.zero_grad();
            let loss = closure(store);
            losses.push(loss);
            (loss, gather(store))
        };
        let st = &mut self.state;
        let (orig_loss, mut flat_grad) = eval(store);
        let mut loss = orig_loss;
        let mut current_evals = 1;
        st.func_evals += 1;
        let mut opt_cond = max_abs(&flat_grad) <= cfg.tolerance_grad;
        let mut n_iter = 0u64;
        while !opt_cond && n_iter < cfg.max_iter as u64 {
            n_iter += 1;
            st.n_iter += 1;
            // The descent direction.
            if st.n_iter == 1 {
                st.d = Flat(flat_grad.iter().map(|g| -g).collect());
                st.old_dirs.clear();
                st.old_stps.clear();
                st.ro.0.clear();
                st.h_diag = 1.0;
            } else {
                st.update_direction(&flat_grad, cfg.history_size);
            }
            st.prev_flat_grad = Flat(flat_grad.clone());
            st.prev_loss = loss;
            // The step length.
            st.t = if st.n_iter == 1 {
                let sum: f64 = flat_grad.iter().map(|g| g.abs()).sum();
                py_min(1.0, 1.0 / sum) * cfg.lr
            } else {
                cfg.lr
            };
            let gtd = dot(&flat_grad, &st.d.0);
            if gtd > -cfg.tolerance_change {
                break;
            }
            let mut ls_func_evals = 0;
            match cfg.line_search {
                LineSearch::StrongWolfe => {
                    let x_init = values(store);
                    let d = st.d.0.clone();
                    let mut obj = |t: f64| {
                        add_scaled(store, t, &d);
                        let out = eval(store);
                        set_values(store, &x_init);
                        out
                    };
                    let found =
                        line_search::strong_wolfe(&mut obj, st.t, &d, loss, &flat_grad, gtd);
                    (loss, flat_grad, st.t, ls_func_evals) = found;
                    add_scaled(store, st.t, &st.d.0);
                    opt_cond = max_abs(&flat_grad) <= cfg.tolerance_grad;
                }
                LineSearch::None => {
                    add_scaled(store, st.t, &st.d.0);
                    if n_iter != cfg.max_iter as u64 {
                        (loss, flat_grad) = eval(store);
                        opt_cond = max_abs(&flat_grad) <= cfg.tolerance_grad;
                        ls_func_evals = 1;
                    }
                }
            }
            current_evals += ls_func_evals;
            st.func_evals += ls_func_evals as u64;
            // The stopping rules, in PyTorch's order (`opt_cond` in the loop test).
            if n_iter == cfg.max_iter as u64 || current_evals >= cfg.max_eval() {
                break;
            }
            let t = st.t;
            if !opt_cond
                && (max_abs(&st.d.0.iter().map(|d| d * t).collect::<Vec<_>>())
                    <= cfg.tolerance_change
                    || (loss - st.prev_loss).abs() < cfg.tolerance_change)
            {
                break;
            }
        }
        Ok(LbfgsStep {
            loss: orig_loss,
            losses,
            n_iters: n_iter,
        })
    }
}

impl LbfgsState {
    /// Adds the last curvature pair (when `yᵀs > 1e-10`) and sets the
    /// direction to −H·g by the two-loop recursion.
    fn update_direction(&mut self, flat_grad: &[f64], history_size: usize) {
        let y: Vec<f64> = flat_grad
            .iter()
            .zip(&self.prev_flat_grad.0)
            .map(|(g, p)| g - p)
            .collect();
        let s: Vec<f64> = self.d.0.iter().map(|d| d * self.t).collect();
        let ys = dot(&y, &s);
        if ys > 1e-10 {
            if self.old_dirs.len() == history_size {
                self.old_dirs.pop_front();
                self.old_stps.pop_front();
                self.ro.0.remove(0);
            }
            self.h_diag = ys / dot(&y, &y);
            self.old_dirs.push_back(Flat(y));
            self.old_stps.push_back(Flat(s));
            self.ro.0.push(1.0 / ys);
        }
        let n_old = self.old_dirs.len();
        let mut al = vec![0.0; n_old];
        let mut q: Vec<f64> = flat_grad.iter().map(|g| -g).collect();
        for i in (0..n_old).rev() {
            al[i] = dot(&self.old_stps[i].0, &q) * self.ro.0[i];
            for (q, y) in q.iter_mut().zip(&self.old_dirs[i].0) {
                *q += y * -al[i];
            }
        }
        let mut r: Vec<f64> = q.iter().map(|q| q * self.h_diag).collect();
        for i in 0..n_old {
            let be_i = dot(&self.old_dirs[i].0, &r) * self.ro.0[i];
            for (r, s) in r.iter_mut().zip(&self.old_stps[i].0) {
                *r += s * (al[i] - be_i);
            }
        }
        self.d = Flat(r);
    }
}

/// Every gradient of the store, flattened in id order.
fn gather<S: Scalar>(store: &ParamStore<S>) -> Vec<f64> {
    store
        .grads()
        .iter()
        .flat_map(|(_, g)| g.iter().map(|v| v.as_f64()))
        .collect()
}

/// Every value of the store, flattened in id order.
fn values<S: Scalar>(store: &ParamStore<S>) -> Vec<f64> {
    store
        .iter()
        .flat_map(|(_, _, v)| v.iter().map(|x| x.as_f64()).collect::<Vec<_>>())
        .collect()
}

/// `p ← p + t·d` (PyTorch's `_add_grad`).
fn add_scaled<S: Scalar>(store: &mut ParamStore<S>, t: f64, d: &[f64]) {
    let mut d = d;
    for (_, v) in store.params_mut().values_mut() {
        let (mine, rest) = d.split_at(v.len());
        d = rest;
        for (p, &d) in v.iter_mut().zip(mine) {
            *p = S::cast(p.as_f64() + t * d);
        }
    }
}

/// `p ← x` (PyTorch's `_set_param`).
fn set_values<S: Scalar>(store: &mut ParamStore<S>, x: &[f64]) {
    let mut x = x;
    for (_, v) in store.params_mut().values_mut() {
        let (mine, rest) = x.split_at(v.len());
        x = rest;
        for (p, &x) in v.iter_mut().zip(mine) {
            *p = S::cast(x);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ArgError;
    use descent_core::Tags;
    use nalgebra::DMatrix;

    fn store(n: usize) -> ParamStore<f64> {
        let mut s = ParamStore::new();
        s.register("x", Tags::WEIGHT, DMatrix::from_element(1, n, 1.0))
            .unwrap();
        s
    }

    #[test]
    fn invalid_arguments_and_foreign_states_are_typed_errors() {
        let bad = LbfgsConfig {
            history_size: 0,
            ..LbfgsConfig::default()
        };
        assert!(matches!(
            Lbfgs::new(&store(2), bad),
            Err(Error::Arg(ArgError {
                name: "history_size",
                ..
            }))
        ));
        let lr = LbfgsConfig {
            lr: f64::NAN,
            ..LbfgsConfig::default()
        };
        assert!(Lbfgs::new(&store(2), lr).is_err());
        // A state from a run over three parameters does not fit two.
        let mut three = store(3);
        let mut opt = Lbfgs::new(&three, LbfgsConfig::default()).unwrap();
        let id = three.ids().next().unwrap();
        opt.step(&mut three, |s| {
            s.grad_mut(id).fill(1.0);
            3.0
        })
        .unwrap();
        let mut two = Lbfgs::new(&store(2), LbfgsConfig::default()).unwrap();
        let before = two.state();
        assert!(matches!(
            two.load_state(&opt.state()),
            Err(Error::StateMismatch { .. })
        ));
        assert_eq!(two.state(), before);
        // Stepping another store is refused.
        assert!(matches!(
            two.step(&mut three, |_| 0.0),
            Err(Error::StoreMismatch { .. })
        ));
    }

    #[test]
    fn max_eval_defaults_to_five_quarters_of_max_iter() {
        let cfg = LbfgsConfig {
            max_iter: 7,
            ..LbfgsConfig::default()
        };
        assert_eq!(cfg.max_eval(), 8);
        assert_eq!(LbfgsConfig::default().max_eval(), 25);
    }
}
