//! `chain`: stages applied one after the other, fused block by block.

use crate::buf::SplitAt;
use crate::transform::{BlockTransform, Hyper, Mask, MomentumKind, Tensors, route};
use crate::walk::BLOCK;
use descent_core::{GradientTransform, Grads, Params, Scalar, StepCtx};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::ops::Range;

/// Stages applied in order; its state is the tuple of their states.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Chain<T>(pub T);

/// Chains a tuple of 1 to 10 stages (optax `chain`).
///
/// The stages run fused: each block of each tensor goes through all of them
/// while it is in cache. A stage whose `prepare` needs a global view of its
/// input (such as [`clip_by_global_norm`](crate::transform::clip_by_global_norm))
/// makes the stages before it run in full first, into a workspace the chain keeps.
///
/// # Examples
///
/// ```
/// use descent_optim::transform::{add_decayed_weights, chain, scale_by_adam, scale_by_learning_rate};
///
/// // Adam with an L2 term and AdamW: the same parts in a different order.
/// let adam_l2 = chain((add_decayed_weights(0.01), scale_by_adam(0.9, 0.999, 1e-8, false), scale_by_learning_rate()));
/// let adamw = chain((scale_by_adam(0.9, 0.999, 1e-8, false), add_decayed_weights(0.01), scale_by_learning_rate()));
/// assert_eq!(adam_l2.0.0, adamw.0.1);
/// ```
pub fn chain<T>(stages: T) -> Chain<T> {
    Chain(stages)
}

/// The state of a [`Chain`]: its stages' states, plus a workspace that is
/// used (and not saved) only when a reducing stage sits after the first.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(bound(serialize = "T: Serialize", deserialize = "T: DeserializeOwned"))]
pub struct ChainState<S: Scalar, T> {
    /// The stages' states, in order.
    pub stages: T,
    #[serde(skip)]
    workspace: Vec<Vec<S>>,
    #[serde(skip)]
    from: usize,
}

/// Zips a tuple of iterators.
struct ZipN<T>(T);

macro_rules! chain_impl {
    ($n:expr; $($T:ident $i:tt),+) => {
        impl<$($T: Iterator),+> Iterator for ZipN<($($T,)+)> {
            type Item = ($($T::Item,)+);
            fn next(&mut self) -> Option<Self::Item> {
                Some(($(self.0.$i.next()?,)+))
            }
        }

        impl<$($T),+> Chain<($($T,)+)> {
            /// Runs stages `lo..hi` on one block.
            #[allow(unused_comparisons)]
            #[inline(always)]
            fn apply_range<S: Scalar>(
                &self,
                coefs: &($(Option<$T::Coefs>,)+),
                view: &mut ($($T::View<'_>,)+),
                u: &mut [S],
                p: &[S],
                lo: usize,
                hi: usize,
            ) where $($T: BlockTransform<S>),+ {
                $(
                    if ($i >= lo && $i < hi) {
                        if let Some(c) = &coefs.$i {
                            self.0.$i.apply_block(c, &mut view.$i, u, p);
                        }
                    }
                )+
            }

            /// Runs stages `lo..hi` on one block whose input is `src`: the first
            /// stage that is not an identity reads it directly.
            #[inline(always)]
            #[allow(unused_comparisons)]
            fn apply_range_from<S: Scalar>(
                &self,
                coefs: &($(Option<$T::Coefs>,)+),
                view: &mut ($($T::View<'_>,)+),
                src: &[S],
                u: &mut [S],
                p: &[S],
                lo: usize,
            ) where $($T: BlockTransform<S>),+ {
                let mut loaded = false;
                $(
                    if $i >= lo && !self.0.$i.is_identity() {
                        if let Some(c) = &coefs.$i {
                            if loaded {
                                self.0.$i.apply_block(c, &mut view.$i, u, p);
                            } else {
                                self.0.$i.apply_block_from(c, &mut view.$i, src, u, p);
                                loaded = true;
                            }
                        }
                    }
                )+
                if !loaded {
                    u.copy_from_slice(src);
                }
            }

            /// Applies `stages` (`lo..hi`) in full to the workspace (copying
            /// the input in first when `lo == 0`).
            fn materialize<S: Scalar>(
                &self,
                state: &mut ChainState<S, ($($T::State,)+)>,
                coefs: &($(Option<$T::Coefs>,)+),
                input: Tensors<'_, S>,
                params: &Params<S>,
                mask: Mask<'_>,
                stages: Range<usize>,
            ) where $($T: BlockTransform<S>),+ {
                let (lo, hi) = (stages.start, stages.end);
                let ws = &mut state.workspace;
                if lo == 0 {
                    ws.resize_with(params.len(), Vec::new);
                    for (id, _, _) in params.iter() {
                        let w = &mut ws[id.index()];
                        w.clear();
                        if mask.contains(id) {
                            w.extend_from_slice(input.get(id));
                        }
                    }
                }
                let views = ZipN(($(self.0.$i.views(&mut state.stages.$i),)+));
                for (((id, _, value), view), w) in params.iter().zip(views).zip(ws.iter_mut()) {
                    if !mask.contains(id) {
                        continue;
                    }
                    let (mut view, mut u, mut p) = (view, w.as_mut_slice(), value.as_slice());
                    while !u.is_empty() {
                        let n = u.len().min(BLOCK);
                        let (mut v_head, v_tail) = view.split_at(n);
                        view = v_tail;
                        let (u_head, u_tail) = std::mem::take(&mut u).split_at_mut(n);
                        u = u_tail;
                        let (p_head, p_tail) = p.split_at(n);
                        p = p_tail;
                        self.apply_range(coefs, &mut v_head, u_head, p_head, lo, hi);
                    }
                }
            }
        }

        impl<S: Scalar, $($T: BlockTransform<S>),+> BlockTransform<S> for Chain<($($T,)+)> {
            type State = ChainState<S, ($($T::State,)+)>;
            type Coefs = (($(Option<$T::Coefs>,)+), usize);
            type View<'a> = (($($T::View<'a>,)+), Option<&'a mut [S]>);

            fn init_masked(&self, params: &Params<S>, mask: Mask<'_>) -> Self::State {
                ChainState {
                    stages: ($(self.0.$i.init_masked(params, mask),)+),
                    workspace: Vec::new(),
                    from: 0,
                }
            }

            fn reads_input(&self) -> bool {
                self.0.0.reads_input()
            }

            fn check_params(&self, params: &Params<S>, mask: Mask<'_>) -> crate::Result<()> {
                $(self.0.$i.check_params(params, mask)?;)+
                Ok(())
            }

            fn is_identity(&self) -> bool {
                true $(&& self.0.$i.is_identity())+
            }

            /// Every stage's, in chain order.
            fn eval_params(&self, state: &Self::State, params: &mut Params<S>, mask: Mask<'_>) {
                $(self.0.$i.eval_params(&state.stages.$i, params, mask);)+
            }

            /// The first stage's momentum that has one, in chain order.
            fn momentum(&self) -> Option<(MomentumKind, f64)> {
                None $(.or_else(|| self.0.$i.momentum()))+
            }

            /// The first stage's value of `key` that has it, in chain order.
            fn hyperparam(&self, key: Hyper) -> Option<f64> {
                None $(.or_else(|| self.0.$i.hyperparam(key)))+
            }

            #[inline(always)]
            fn apply_block_from(&self, coefs: &Self::Coefs, view: &mut Self::View<'_>, src: &[S], u: &mut [S], p: &[S]) {
                match view.1.as_deref() {
                    Some(ws) => {
                        u.copy_from_slice(ws);
                        self.apply_range(&coefs.0, &mut view.0, u, p, coefs.1, $n);
                    }
                    None => self.apply_range_from(&coefs.0, &mut view.0, src, u, p, coefs.1),
                }
            }

            #[allow(unused_comparisons)]
            fn prepare(
                &self,
                state: &mut Self::State,
                input: Tensors<'_, S>,
                params: &Params<S>,
                mask: Mask<'_>,
                ctx: &StepCtx,
            ) -> Self::Coefs {
                let mut coefs = ($(Option::<$T::Coefs>::None,)+);
                let mut from = 0;
                // A driven hyperparameter goes to the first stage that has it only.
                let mut pending = *ctx;
                $(
                    let ctx = &route(&self.0.$i, &mut pending, ctx);
                    if $i > 0 && self.0.$i.reads_input() {
                        self.materialize(state, &coefs, input, params, mask, from..$i);
                        from = $i;
                    }
                    let stage_input = if from > 0 { Tensors::Bufs(&state.workspace) } else { input };
                    coefs.$i = Some(self.0.$i.prepare(&mut state.stages.$i, stage_input, params, mask, ctx));
                )+
                state.from = from;
                (coefs, from)
            }

            fn views<'a>(&self, state: &'a mut Self::State) -> impl Iterator<Item = Self::View<'a>> {
                let use_ws = state.from > 0;
                let ws = state
                    .workspace
                    .iter_mut()
                    .map(move |w| use_ws.then_some(w.as_mut_slice()))
                    .chain(std::iter::repeat_with(|| None));
                ZipN(($(self.0.$i.views(&mut state.stages.$i),)+)).zip(ws)
            }

            #[inline(always)]
            fn apply_block(&self, coefs: &Self::Coefs, view: &mut Self::View<'_>, u: &mut [S], p: &[S]) {
                if let Some(ws) = view.1.as_deref() {
                    u.copy_from_slice(ws);
                }
                self.apply_range(&coefs.0, &mut view.0, u, p, coefs.1, $n);
            }
        }

        impl<S: Scalar, $($T: BlockTransform<S>),+> GradientTransform<S> for Chain<($($T,)+)> {
            type State = <Self as BlockTransform<S>>::State;

            fn init(&self, params: &Params<S>) -> Self::State {
                self.init_masked(params, Mask::ALL)
            }

            fn update(&self, grads: &mut Grads<S>, state: &mut Self::State, params: &Params<S>, ctx: &StepCtx) {
                crate::walk::update_in_place(self, grads, state, params, ctx);
            }
        }
    };
}

chain_impl!(1; A 0);
chain_impl!(2; A 0, B 1);
chain_impl!(3; A 0, B 1, C 2);
chain_impl!(4; A 0, B 1, C 2, D 3);
chain_impl!(5; A 0, B 1, C 2, D 3, E 4);
chain_impl!(6; A 0, B 1, C 2, D 3, E 4, F 5);
chain_impl!(7; A 0, B 1, C 2, D 3, E 4, F 5, G 6);
chain_impl!(8; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);
chain_impl!(9; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8);
chain_impl!(10; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9);
