//! Test helpers shared by the layers' unit tests.

use crate::{Ctx, Mode, ModelState, Module};
use descent_autodiff::Tape;
use nalgebra::DMatrix;
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;

/// One forward pass of a parameter-free `module` on `x` in `mode`, drawing
/// randomness from a ChaCha8 stream seeded with `seed`.
pub(crate) fn forward_once(
    module: &impl Module<f64>,
    mode: Mode,
    x: &DMatrix<f64>,
    seed: u64,
) -> DMatrix<f64> {
    let mut state = ModelState::<f64>::new();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let tape = Tape::new();
    let mut ctx = Ctx::new(&tape, &mut state, mode, &mut rng);
    module.forward(&mut ctx, tape.constant(x)).value()
}
