//! The `Module` trait and the context a forward pass runs in.
//!
//! Invariant: the mode is an argument of every forward pass, never state in a
//! layer; layers are immutable after construction, and only training passes
//! write buffers.
//! Invariant: buffers are never trainable parameters: optimizers see
//! `ModelState::params` only, and [`Module::visit`] reports the two apart.

use crate::buffers::{BufferId, Buffers};
use crate::layers::batch_norm::RunningStatsLayer;
use crate::mode::Mode;
use crate::state::ModelState;
use descent_autodiff::{Tape, Var};
use descent_core::{ParamId, Params, Scalar};
use rand_core::Rng;

/// Everything a forward pass may touch besides its input: the tape it
/// records on, the parameter values, the buffers (batch norm updates its
/// running statistics here in training), the mode, and the RNG that dropout
/// masks and noise are drawn from.
pub struct Ctx<'a, 't, S: Scalar> {
    /// The tape the pass records on.
    pub tape: &'t Tape<S>,
    /// Parameter values (read only: gradients go through the tape).
    pub params: &'a Params<S>,
    /// Buffers, updated by training passes.
    pub buffers: &'a mut Buffers<S>,
    /// Training or evaluation.
    pub mode: Mode,
    /// The only source of randomness of the pass.
    pub rng: &'a mut dyn Rng,
}

impl<'a, 't, S: Scalar> Ctx<'a, 't, S> {
    /// A context over a whole model state.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_autodiff::Tape;
    /// use descent_nn::{Ctx, Mode, ModelState};
    /// use rand_chacha::ChaCha8Rng;
    /// use rand_core::SeedableRng;
    ///
    /// let mut state = ModelState::<f32>::new();
    /// let mut rng = ChaCha8Rng::seed_from_u64(0);
    /// let tape = Tape::new();
    /// let ctx = Ctx::new(&tape, &mut state, Mode::Eval, &mut rng);
    /// assert!(!ctx.mode.is_train());
    /// ```
    pub fn new(
        tape: &'t Tape<S>,
        state: &'a mut ModelState<S>,
        mode: Mode,
        rng: &'a mut dyn Rng,
    ) -> Self {
        Ctx {
            tape,
            params: state.params.params(),
            buffers: &mut state.buffers,
            mode,
            rng,
        }
    }

    /// Parameter `id` on the tape (its gradient flows to the store on backward).
    pub fn param(&self, id: ParamId) -> Var<'t, S> {
        self.tape.param(self.params, id)
    }
}

/// A tensor a module owns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Entry {
    /// A trainable parameter.
    Param(ParamId),
    /// A buffer (non-trainable state).
    Buffer(BufferId),
}

/// A layer or a composition of layers: a forward pass on the tape in an
/// explicit mode, and a visit of the tensors it owns.
pub trait Module<S: Scalar> {
    /// Records the layer applied to `x` on `ctx.tape`.
    fn forward<'t>(&self, ctx: &mut Ctx<'_, 't, S>, x: Var<'t, S>) -> Var<'t, S>;

    /// Calls `f` on every parameter and buffer, in registration order;
    /// the default owns nothing.
    fn visit(&self, f: &mut dyn FnMut(Entry)) {
        let _ = f;
    }

    /// Calls `f` on every batch-norm layer this module holds, mutably, in
    /// order (PyTorch's walk of `model.modules()` for `_BatchNorm`):
    /// [`update_bn`](crate::update_bn) resets their statistics and swaps
    /// their momenta through it. The default holds none; a module that
    /// contains batch norms forwards the call to them.
    fn visit_batch_norms(&mut self, f: &mut dyn FnMut(&mut dyn RunningStatsLayer)) {
        let _ = f;
    }

    /// Every parameter, in registration order.
    fn params(&self) -> Vec<ParamId> {
        let mut out = Vec::new();
        self.visit(&mut |e| {
            if let Entry::Param(id) = e {
                out.push(id);
            }
        });
        out
    }

    /// Every buffer, in registration order.
    fn buffers(&self) -> Vec<BufferId> {
        let mut out = Vec::new();
        self.visit(&mut |e| {
            if let Entry::Buffer(id) = e {
                out.push(id);
            }
        });
        out
    }
}
