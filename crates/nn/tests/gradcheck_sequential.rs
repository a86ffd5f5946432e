//! A small convolutional `Sequential` (conv → relu → max-pool → flatten →
//! linear, then cross-entropy) against central finite differences, for every
//! parameter element and every input element, in f64.

use descent_autodiff::{CrossEntropyConfig, ImageShape, MaxPool2dConfig, Tape};
use descent_nn::*;
use nalgebra::DMatrix;
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;

const H: f64 = 1e-6;
const TOL: f64 = 1e-6;
const IMG: ImageShape = ImageShape { c: 1, h: 4, w: 4 };
const LABELS: [usize; 3] = [0, 2, 1];

fn build(seed: u64) -> (Sequential<f64>, ModelState<f64>) {
    let mut state = ModelState::new();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut b = Builder::new(&mut state, &mut rng);
    let mut model = Sequential::new();
    model
        .add(&mut b, |b| {
            Conv2d::new(b, Conv2dConfig::new(1, 2, 3, 3).padding(1, 1))
        })
        .unwrap()
        .push(Relu)
        .push(MaxPool2d::new(MaxPool2dConfig::new(2, 2)).unwrap())
        .push(Flatten)
        .add(&mut b, |b| Linear::new(b, LinearConfig::new(8, 3)))
        .unwrap();
    (model, state)
}

/// The loss at the current parameters and `x`; with `grads`, also backward.
fn loss(
    model: &Sequential<f64>,
    state: &mut ModelState<f64>,
    x: &DMatrix<f64>,
    grads: bool,
) -> (f64, Option<DMatrix<f64>>) {
    let tape = Tape::new();
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let (input, l) = {
        let mut ctx = Ctx::new(&tape, state, Mode::Train, &mut rng);
        let input = if grads {
            tape.leaf_image(x, IMG)
        } else {
            tape.constant_image(x, IMG)
        };
        let logits = model.forward(&mut ctx, input);
        (
            input,
            logits.cross_entropy(&LABELS, &CrossEntropyConfig::default()),
        )
    };
    if !grads {
        return (l.item(), None);
    }
    state.params.zero_grad();
    tape.backward(l, &mut state.params);
    (l.item(), tape.grad(input))
}

fn compare(what: &str, analytic: f64, numeric: f64) {
    assert!(
        (analytic - numeric).abs() <= TOL * (1.0 + numeric.abs()),
        "{what}: analytic {analytic:e}, numeric {numeric:e}"
    );
}

#[test]
fn conv_relu_pool_linear_gradients_match_finite_differences() {
    for seed in 0..4u64 {
        let (model, mut state) = build(seed);
        let x = DMatrix::from_fn(3, 16, |i, j| {
            ((i * 16 + j) as f64 * 0.71 + seed as f64).sin() * 2.0
        });
        let (_, grad_x) = loss(&model, &mut state, &x, true);
        let grad_x = grad_x.expect("input gradient");
        let ids = model.params();
        assert_eq!(ids.len(), 4, "conv weight and bias, linear weight and bias");
        for id in ids {
            let analytic = state.params.grad(id).clone();
            for e in 0..analytic.len() {
                let x0 = state.params.value(id)[e];
                state.params.params_mut().value_mut(id)[e] = x0 + H;
                let up = loss(&model, &mut state, &x, false).0;
                state.params.params_mut().value_mut(id)[e] = x0 - H;
                let down = loss(&model, &mut state, &x, false).0;
                state.params.params_mut().value_mut(id)[e] = x0;
                let name = state.params.name(id).to_owned();
                compare(
                    &format!("seed {seed} {name}[{e}]"),
                    analytic[e],
                    (up - down) / (2.0 * H),
                );
            }
        }
        let mut xs = x.clone();
        for e in 0..x.len() {
            xs[e] = x[e] + H;
            let up = loss(&model, &mut state, &xs, false).0;
            xs[e] = x[e] - H;
            let down = loss(&model, &mut state, &xs, false).0;
            xs[e] = x[e];
            compare(
                &format!("seed {seed} input[{e}]"),
                grad_x[e],
                (up - down) / (2.0 * H),
            );
        }
    }
}
