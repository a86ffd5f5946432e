//! The cheap way to write a stage: a per-element rule, written once.
//!
//! - [`ElementRule`]: a stateless stage is one scalar per step (`coef`) and
//!   one rule per element (`apply`); it is a [`BlockTransform`] by a blanket
//!   impl (through [`ElementStage`]).
//! - [`ElementStage`]: a stateful stage writes its state, its per-step
//!   scalars and its per-element update `element` once; both block paths of
//!   [`BlockTransform`] (`apply_block`, in place, and `apply_block_from`,
//!   reading the incoming updates from the gradient) are derived from it by
//!   a blanket impl, through the [`Lanes`] of its state view.
//! - [`map_elements`]: a stage from a per-element closure and a name.
//!
//! `BlockTransform` stays the general form (stages that reduce their input,
//! wrappers, chains); these are the short forms most stages fit.
//!
//! Worked examples are on [`ElementRule`] and [`ElementStage`]; in the crate,
//! `transform/decay.rs` (`AddDecayedWeights`, a coefficient and a rule) and
//! `transform/trace.rs` (`Trace`, SGD's momentum buffer) are the shortest real
//! pair.

use crate::buf::SplitAt;
use crate::transform::{BlockTransform, Hyper, Mask, MomentumKind, Tensors};
use descent_core::{Params, Scalar, StepCtx};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// A stateless stage: `u ← apply(coef(ctx), u, p)` on every element.
///
/// Implementing it makes the type a [`BlockTransform`] (a blanket impl), so
/// it enters chains and optimizers, fused into their single pass.
///
/// # Examples
///
/// ```
/// use descent_core::{Scalar, StepCtx};
/// use descent_optim::Optimizer;
/// use descent_optim::transform::{ElementRule, chain, scale_by_learning_rate};
///
/// /// Adds `λ·p³` to the updates (the gradient of `λ/4·Σp⁴`).
/// struct AddQuarticDecay(f64);
///
/// impl ElementRule for AddQuarticDecay {
///     fn coef(&self, _: &StepCtx) -> f64 {
///         self.0
///     }
///     fn apply<S: Scalar>(&self, k: S, u: S, p: S) -> S {
///         u + k * p * p * p
///     }
/// }
///
/// let mut store = descent_core::ParamStore::<f64>::new();
/// let w = store.register("w", descent_core::Tags::WEIGHT, nalgebra::DMatrix::from_element(1, 1, 2.0))?;
/// let mut opt = Optimizer::new(&store, 0.1, chain((AddQuarticDecay(0.5), scale_by_learning_rate())))?;
/// opt.step(&mut store)?; // zero gradient: u = 0.5·8 = 4, p ← 2 − 0.1·4
/// assert!((store.value(w)[0] - 1.6).abs() < 1e-15);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait ElementRule: Send + Sync {
    /// The step's coefficient (a factor, a decay, a bound), once per step.
    fn coef(&self, ctx: &StepCtx) -> f64;

    /// The new update of one element from its coefficient `k`, its incoming
    /// update `u` and its parameter `p`.
    fn apply<S: Scalar>(&self, k: S, u: S, p: S) -> S;

    /// The rule's configured value of `key`, when `coef` reads it from the
    /// step context so an optimizer can drive it (see [`BlockTransform::hyperparam`]).
    fn hyperparam(&self, key: Hyper) -> Option<f64> {
        let _ = key;
        None
    }
}

/// A stateful element-wise stage, written once: its state, its per-step
/// scalars, and its update of one element.
///
/// Implementing it makes the type a [`BlockTransform`] (a blanket impl)
/// whose block kernels — in place, and reading the gradient directly as the
/// first stage of a chain — are both loops over [`element`](Self::element).
/// The view's [`Lanes`] load each element's state into a small value
/// (`Lane`: a scalar, a tuple, with an `Option` for a buffer only some
/// configurations keep) and store it back; the loop is chosen once per
/// block, so an absent optional buffer costs nothing per element.
///
/// # Examples
///
/// ```
/// use descent_core::{Params, Scalar, StepCtx};
/// use descent_optim::transform::{ElementStage, Mask};
/// use descent_optim::Bufs;
/// use serde::{Deserialize, Serialize};
///
/// /// An exponential moving average of the gradient (optax `ema`, no debias).
/// struct Ema(f64);
///
/// #[derive(Serialize, Deserialize)]
/// #[serde(bound = "")]
/// struct EmaState<S: Scalar>(Bufs<S>);
///
/// impl ElementStage for Ema {
///     type State<S: Scalar> = EmaState<S>;
///     type Coefs<S: Scalar> = S;
///     type Lane<S: Scalar> = S;
///     type View<'a, S: Scalar> = &'a mut [S];
///
///     fn init_masked<S: Scalar>(&self, params: &Params<S>, mask: Mask<'_>) -> EmaState<S> {
///         EmaState(Bufs::zeros(params, mask))
///     }
///     fn prepare<S: Scalar>(&self, _: &mut EmaState<S>, _: &StepCtx) -> S {
///         S::cast(self.0)
///     }
///     fn views<'a, S: Scalar>(&self, state: &'a mut EmaState<S>) -> impl Iterator<Item = &'a mut [S]> {
///         state.0.slices_mut()
///     }
///     fn element<S: Scalar>(&self, decay: &S, g: S, _p: S, m: &mut S) -> S {
///         *m = *m * *decay + g * (S::one() - *decay);
///         *m
///     }
/// }
///
/// let mut store = descent_core::ParamStore::<f64>::new();
/// let w = store.register("w", descent_core::Tags::WEIGHT, nalgebra::DMatrix::from_element(1, 1, 0.0))?;
/// let mut opt = descent_optim::Optimizer::new(&store, 1.0, descent_optim::transform::chain((
///     Ema(0.5),
///     descent_optim::transform::scale_by_learning_rate(),
/// )))?;
/// store.grad_mut(w).fill(1.0);
/// opt.step(&mut store)?; // m = 0.5
/// assert_eq!(store.value(w)[0], -0.5);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait ElementStage: Send + Sync {
    /// Per-run state; serializable so a run can stop and resume exactly.
    type State<S: Scalar>: Send + Serialize + DeserializeOwned;
    /// Scalars computed once per step by `prepare`.
    type Coefs<S: Scalar>: Copy + Send + Sync;
    /// One element's state, loaded from the view and stored back.
    type Lane<S: Scalar>: Copy;
    /// The element-wise state of one tensor, or of a block of it.
    type View<'a, S: Scalar>: Lanes<S, Lane = Self::Lane<S>> + Send;

    /// Fresh state, keeping element-wise buffers only where `mask` is true.
    fn init_masked<S: Scalar>(&self, params: &Params<S>, mask: Mask<'_>) -> Self::State<S>;

    /// Once-per-step work (counts, bias corrections) before any element.
    fn prepare<S: Scalar>(&self, state: &mut Self::State<S>, ctx: &StepCtx) -> Self::Coefs<S>;

    /// One view per parameter, in id order (endless for stateless stages).
    fn views<'a, S: Scalar>(
        &self,
        state: &'a mut Self::State<S>,
    ) -> impl Iterator<Item = Self::View<'a, S>>;

    /// The update of one element: `g` its incoming update, `p` its
    /// parameter, `lane` its state (rewritten in place); returns the outgoing update.
    fn element<S: Scalar>(&self, c: &Self::Coefs<S>, g: S, p: S, lane: &mut Self::Lane<S>) -> S;

    /// The stage's momentum hyperparameter and configured value, if any
    /// (see [`BlockTransform::momentum`]).
    fn momentum(&self) -> Option<(MomentumKind, f64)> {
        None
    }

    /// The stage's configured value of `key`, when `prepare` reads it from
    /// the step context (see [`BlockTransform::hyperparam`]).
    fn hyperparam(&self, key: Hyper) -> Option<f64> {
        let _ = key;
        None
    }
}

impl<T: ElementRule> ElementStage for T {
    type State<S: Scalar> = ();
    type Coefs<S: Scalar> = S;
    type Lane<S: Scalar> = ();
    type View<'a, S: Scalar> = ();

    fn init_masked<S: Scalar>(&self, _: &Params<S>, _: Mask<'_>) {}

    fn prepare<S: Scalar>(&self, _: &mut (), ctx: &StepCtx) -> S {
        S::cast(self.coef(ctx))
    }

    fn views<S: Scalar>(&self, _: &mut ()) -> impl Iterator<Item = ()> {
        std::iter::repeat(())
    }

    #[inline(always)]
    fn element<S: Scalar>(&self, k: &S, g: S, p: S, _: &mut ()) -> S {
        self.apply(*k, g, p)
    }

    fn hyperparam(&self, key: Hyper) -> Option<f64> {
        ElementRule::hyperparam(self, key)
    }
}

impl<S: Scalar, T: ElementStage> BlockTransform<S> for T {
    type State = T::State<S>;
    type Coefs = T::Coefs<S>;
    type View<'a> = T::View<'a, S>;

    fn init_masked(&self, params: &Params<S>, mask: Mask<'_>) -> Self::State {
        ElementStage::init_masked(self, params, mask)
    }

    fn prepare(
        &self,
        state: &mut Self::State,
        _: Tensors<'_, S>,
        _: &Params<S>,
        _: Mask<'_>,
        ctx: &StepCtx,
    ) -> Self::Coefs {
        ElementStage::prepare(self, state, ctx)
    }

    fn views<'a>(&self, state: &'a mut Self::State) -> impl Iterator<Item = Self::View<'a>> {
        ElementStage::views(self, state)
    }

    fn momentum(&self) -> Option<(MomentumKind, f64)> {
        ElementStage::momentum(self)
    }

    fn hyperparam(&self, key: Hyper) -> Option<f64> {
        ElementStage::hyperparam(self, key)
    }

    #[inline(always)]
    fn apply_block(&self, c: &Self::Coefs, view: &mut Self::View<'_>, u: &mut [S], p: &[S]) {
        view.each(u, p, |lane, g, p| self.element(c, g, p, lane));
    }

    #[inline(always)]
    fn apply_block_from(
        &self,
        c: &Self::Coefs,
        view: &mut Self::View<'_>,
        src: &[S],
        u: &mut [S],
        p: &[S],
    ) {
        view.each_from(src, u, p, |lane, g, p| self.element(c, g, p, lane));
    }
}

/// A view of element-wise state that runs a per-element function over a
/// block: each element's state is loaded into a `Lane`, passed with the
/// element's update and parameter, and stored back.
///
/// Implemented for `()` (no state), one to three buffers (`&mut [S]` and
/// tuples of them), and one or two buffers followed by an optional one
/// (`Option<&mut [S]>`: AMSGrad's maximum, centered RMSprop's mean), whose
/// lane is an `Option<S>` fixed for the whole block.
pub trait Lanes<S: Scalar>: SplitAt {
    /// One element's state.
    type Lane: Copy;

    /// `u[i] ← f(lane i, u[i], p[i])` over the block, in place.
    fn each(&mut self, u: &mut [S], p: &[S], f: impl FnMut(&mut Self::Lane, S, S) -> S);

    /// `u[i] ← f(lane i, src[i], p[i])` over the block (`u`'s contents on entry unused).
    fn each_from(
        &mut self,
        src: &[S],
        u: &mut [S],
        p: &[S],
        f: impl FnMut(&mut Self::Lane, S, S) -> S,
    );
}

impl<S: Scalar> Lanes<S> for () {
    type Lane = ();

    #[inline(always)]
    fn each(&mut self, u: &mut [S], p: &[S], mut f: impl FnMut(&mut (), S, S) -> S) {
        for (u, &p) in u.iter_mut().zip(p) {
            *u = f(&mut (), *u, p);
        }
    }

    #[inline(always)]
    fn each_from(
        &mut self,
        src: &[S],
        u: &mut [S],
        p: &[S],
        mut f: impl FnMut(&mut (), S, S) -> S,
    ) {
        for ((u, &g), &p) in u.iter_mut().zip(src).zip(p) {
            *u = f(&mut (), g, p);
        }
    }
}

impl<S: Scalar> Lanes<S> for &mut [S] {
    type Lane = S;

    #[inline(always)]
    fn each(&mut self, u: &mut [S], p: &[S], mut f: impl FnMut(&mut S, S, S) -> S) {
        for ((u, &p), a) in u.iter_mut().zip(p).zip(self.iter_mut()) {
            *u = f(a, *u, p);
        }
    }

    #[inline(always)]
    fn each_from(&mut self, src: &[S], u: &mut [S], p: &[S], mut f: impl FnMut(&mut S, S, S) -> S) {
        for (((u, &g), &p), a) in u.iter_mut().zip(src).zip(p).zip(self.iter_mut()) {
            *u = f(a, g, p);
        }
    }
}

impl<S: Scalar> Lanes<S> for (&mut [S], &mut [S]) {
    type Lane = (S, S);

    #[inline(always)]
    fn each(&mut self, u: &mut [S], p: &[S], mut f: impl FnMut(&mut (S, S), S, S) -> S) {
        let it = u
            .iter_mut()
            .zip(p)
            .zip(self.0.iter_mut())
            .zip(self.1.iter_mut());
        for (((u, &p), a), b) in it {
            let mut l = (*a, *b);
            *u = f(&mut l, *u, p);
            (*a, *b) = l;
        }
    }

    #[inline(always)]
    fn each_from(
        &mut self,
        src: &[S],
        u: &mut [S],
        p: &[S],
        mut f: impl FnMut(&mut (S, S), S, S) -> S,
    ) {
        let it = u.iter_mut().zip(src).zip(p);
        for ((((u, &g), &p), a), b) in it.zip(self.0.iter_mut()).zip(self.1.iter_mut()) {
            let mut l = (*a, *b);
            *u = f(&mut l, g, p);
            (*a, *b) = l;
        }
    }
}

impl<S: Scalar> Lanes<S> for (&mut [S], Option<&mut [S]>) {
    type Lane = (S, Option<S>);

    #[inline(always)]
    fn each(&mut self, u: &mut [S], p: &[S], mut f: impl FnMut(&mut (S, Option<S>), S, S) -> S) {
        match &mut self.1 {
            None => self.0.each(u, p, |a, g, p| {
                let mut l = (*a, None);
                let out = f(&mut l, g, p);
                *a = l.0;
                out
            }),
            Some(opt) => (&mut *self.0, &mut **opt).each(u, p, |(a, b), g, p| {
                let mut l = (*a, Some(*b));
                let out = f(&mut l, g, p);
                *a = l.0;
                *b = l.1.unwrap_or(*b);
                out
            }),
        }
    }

    #[inline(always)]
    fn each_from(
        &mut self,
        src: &[S],
        u: &mut [S],
        p: &[S],
        mut f: impl FnMut(&mut (S, Option<S>), S, S) -> S,
    ) {
        match &mut self.1 {
            None => self.0.each_from(src, u, p, |a, g, p| {
                let mut l = (*a, None);
                let out = f(&mut l, g, p);
                *a = l.0;
                out
            }),
            Some(opt) => (&mut *self.0, &mut **opt).each_from(src, u, p, |(a, b), g, p| {
                let mut l = (*a, Some(*b));
                let out = f(&mut l, g, p);
                *a = l.0;
                *b = l.1.unwrap_or(*b);
                out
            }),
        }
    }
}

impl<S: Scalar> Lanes<S> for (&mut [S], &mut [S], &mut [S]) {
    type Lane = (S, S, S);

    #[inline(always)]
    fn each(&mut self, u: &mut [S], p: &[S], mut f: impl FnMut(&mut (S, S, S), S, S) -> S) {
        let it = u
            .iter_mut()
            .zip(p)
            .zip(self.0.iter_mut())
            .zip(self.1.iter_mut());
        for ((((u, &p), a), b), c) in it.zip(self.2.iter_mut()) {
            let mut l = (*a, *b, *c);
            *u = f(&mut l, *u, p);
            (*a, *b, *c) = l;
        }
    }

    #[inline(always)]
    fn each_from(
        &mut self,
        src: &[S],
        u: &mut [S],
        p: &[S],
        mut f: impl FnMut(&mut (S, S, S), S, S) -> S,
    ) {
        let it = u.iter_mut().zip(src).zip(p).zip(self.0.iter_mut());
        for (((((u, &g), &p), a), b), c) in it.zip(self.1.iter_mut()).zip(self.2.iter_mut()) {
            let mut l = (*a, *b, *c);
            *u = f(&mut l, g, p);
            (*a, *b, *c) = l;
        }
    }
}

impl<S: Scalar> Lanes<S> for (&mut [S], &mut [S], Option<&mut [S]>) {
    type Lane = (S, S, Option<S>);

    #[inline(always)]
    fn each(&mut self, u: &mut [S], p: &[S], mut f: impl FnMut(&mut (S, S, Option<S>), S, S) -> S) {
        match &mut self.2 {
            None => (&mut *self.0, &mut *self.1).each(u, p, |(a, b), g, p| {
                let mut l = (*a, *b, None);
                let out = f(&mut l, g, p);
                (*a, *b) = (l.0, l.1);
                out
            }),
            Some(opt) => (&mut *self.0, &mut *self.1, &mut **opt).each(u, p, |(a, b, c), g, p| {
                let mut l = (*a, *b, Some(*c));
                let out = f(&mut l, g, p);
                (*a, *b, *c) = (l.0, l.1, l.2.unwrap_or(*c));
                out
            }),
        }
    }

    #[inline(always)]
    fn each_from(
        &mut self,
        src: &[S],
        u: &mut [S],
        p: &[S],
        mut f: impl FnMut(&mut (S, S, Option<S>), S, S) -> S,
    ) {
        match &mut self.2 {
            None => (&mut *self.0, &mut *self.1).each_from(src, u, p, |(a, b), g, p| {
                let mut l = (*a, *b, None);
                let out = f(&mut l, g, p);
                (*a, *b) = (l.0, l.1);
                out
            }),
            Some(opt) => {
                (&mut *self.0, &mut *self.1, &mut **opt).each_from(src, u, p, |(a, b, c), g, p| {
                    let mut l = (*a, *b, Some(*c));
                    let out = f(&mut l, g, p);
                    (*a, *b, *c) = (l.0, l.1, l.2.unwrap_or(*c));
                    out
                })
            }
        }
    }
}

/// A stateless stage from a per-element closure `(u, p) → u` and a name
/// (see [`map_elements`]).
#[derive(Clone, Copy)]
pub struct MapElements<F> {
    /// What the stage is called (shown by `Debug`).
    pub name: &'static str,
    /// The per-element rule.
    pub f: F,
}

impl<F> std::fmt::Debug for MapElements<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MapElements")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// A stage that rewrites every update element as `u ← f(u, p)`, fused into
/// the chain's pass like any other stage.
///
/// # Examples
///
/// ```
/// use descent_core::{ParamStore, Tags};
/// use descent_optim::Optimizer;
/// use descent_optim::transform::{chain, map_elements, scale_by_learning_rate};
/// use nalgebra::DMatrix;
///
/// let mut store = ParamStore::<f32>::new();
/// let w = store.register("w", Tags::WEIGHT, DMatrix::from_element(1, 2, 1.0))?;
/// store.grad_mut(w).copy_from_slice(&[-4.0, 9.0]);
/// let sign_sqrt = map_elements("sign_sqrt", |u: f32, _p: f32| u.signum() * u.abs().sqrt());
/// let mut opt = Optimizer::new(&store, 0.5, chain((sign_sqrt, scale_by_learning_rate())))?;
/// opt.step(&mut store)?;
/// assert_eq!(store.value(w).as_slice(), &[2.0, -0.5]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn map_elements<S, F>(name: &'static str, f: F) -> MapElements<F>
where
    S: Scalar,
    F: Fn(S, S) -> S + Send + Sync,
{
    MapElements { name, f }
}

impl<S: Scalar, F: Fn(S, S) -> S + Send + Sync> BlockTransform<S> for MapElements<F> {
    type State = ();
    type Coefs = ();
    type View<'a> = ();

    fn init_masked(&self, _: &Params<S>, _: Mask<'_>) {}

    fn prepare(&self, _: &mut (), _: Tensors<'_, S>, _: &Params<S>, _: Mask<'_>, _: &StepCtx) {}

    fn views(&self, _: &mut ()) -> impl Iterator<Item = ()> {
        std::iter::repeat(())
    }

    #[inline(always)]
    fn apply_block(&self, _: &(), _: &mut (), u: &mut [S], p: &[S]) {
        ().each(u, p, |_, u, p| (self.f)(u, p));
    }
}
