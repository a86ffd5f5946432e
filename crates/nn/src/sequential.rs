//! `Sequential`: modules applied in order, named `0`, `1`, … as in PyTorch.

use crate::Result;
use crate::builder::Builder;
use crate::layers::batch_norm::RunningStatsLayer;
use crate::module::{Ctx, Entry, Module};
use descent_autodiff::Var;
use descent_core::Scalar;

/// Modules applied one after the other. The `i`-th module's tensors are
/// named `i.weight`, `i.running_mean`, … (PyTorch's `nn.Sequential`), and
/// parameter-free modules take an index too.
///
/// # Examples
///
/// ```
/// use descent_nn::{Builder, Linear, LinearConfig, ModelState, Relu, Sequential};
/// use rand_chacha::ChaCha8Rng;
/// use rand_core::SeedableRng;
///
/// let mut state = ModelState::<f32>::new();
/// let mut rng = ChaCha8Rng::seed_from_u64(0);
/// let mut b = Builder::new(&mut state, &mut rng);
/// let mut model = Sequential::new();
/// model
///     .add(&mut b, |b| Linear::new(b, LinearConfig::new(4, 8)))?
///     .push(Relu)
///     .add(&mut b, |b| Linear::new(b, LinearConfig::new(8, 2)))?;
/// assert_eq!(model.len(), 3);
/// assert!(state.params.id("2.bias").is_some());
/// # Ok::<(), descent_nn::Error>(())
/// ```
pub struct Sequential<S: Scalar> {
    layers: Vec<Box<dyn Module<S>>>,
}

impl<S: Scalar> Default for Sequential<S> {
    fn default() -> Self {
        Sequential { layers: Vec::new() }
    }
}

impl<S: Scalar> Sequential<S> {
    /// No modules.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of modules.
    pub fn len(&self) -> usize {
        self.layers.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.layers.is_empty()
    }

    /// Appends a module that owns no tensors (or was built elsewhere).
    pub fn push(&mut self, module: impl Module<S> + 'static) -> &mut Self {
        self.layers.push(Box::new(module));
        self
    }

    /// Builds the next module under the prefix of its index and appends it.
    pub fn add<M: Module<S> + 'static>(
        &mut self,
        b: &mut Builder<'_, S>,
        make: impl FnOnce(&mut Builder<'_, S>) -> Result<M>,
    ) -> Result<&mut Self> {
        let module = make(&mut b.pp(self.layers.len()))?;
        Ok(self.push(module))
    }
}

impl<S: Scalar> Module<S> for Sequential<S> {
    fn forward<'t>(&self, ctx: &mut Ctx<'_, 't, S>, x: Var<'t, S>) -> Var<'t, S> {
        self.layers.iter().fold(x, |x, m| m.forward(ctx, x))
    }

    fn visit(&self, f: &mut dyn FnMut(Entry)) {
        for m in &self.layers {
            m.visit(f);
        }
    }

    fn visit_batch_norms(&mut self, f: &mut dyn FnMut(&mut dyn RunningStatsLayer)) {
        for m in &mut self.layers {
            m.visit_batch_norms(f);
        }
    }
}
