//! f32 training follows f64 training: a conv + batch-norm model trained in
//! f32 and in f64 from the same weights on the same batches stays within
//! PyTorch's own f32 noise of the f64 run.
//!
//! The tolerance is fixed here, before any run: PyTorch 2.15's f32 run of a
//! small CNN with BatchNorm2d stays within 3e-3 relative of its float64 run
//! in loss over 64 steps (issue 15), so every step's loss and the final
//! running statistics must agree to 3e-3 relative. The inputs are raw
//! MNIST-like pixels 0..=255, which is what made running f32 sums over the
//! 36,864 values per channel drift.

use descent_autodiff::{CrossEntropyConfig, ImageShape, Tape};
use descent_core::Scalar;
use descent_nn::*;
use descent_optim::{Optimizer, SgdConfig};
use nalgebra::DMatrix;
use rand_chacha::ChaCha8Rng;
use rand_core::{Rng, SeedableRng};

const TOLERANCE: f64 = 3e-3;
const STEPS: usize = 64;
const BATCH: usize = 64;
/// MNIST's side; a 5×5 convolution without padding leaves 24×24, so each
/// channel's statistics run over 64·24·24 = 36,864 values, as in the issue.
const SIDE: usize = 28;
const OUT: usize = SIDE - 4;

fn model<S: Scalar>(state: &mut ModelState<S>) -> Sequential<S> {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut b = Builder::new(state, &mut rng);
    let mut m = Sequential::new();
    m.add(&mut b, |b| Conv2d::new(b, Conv2dConfig::new(1, 8, 5, 5)))
        .and_then(|m| m.add(&mut b, |b| BatchNorm2d::new(b, BatchNormConfig::new(8))))
        .map(|m| m.push(Relu))
        .and_then(|m| m.add(&mut b, |_| MaxPool2d::new(MaxPool2dConfig::new(2, 2))))
        .map(|m| m.push(Flatten))
        .and_then(|m| {
            m.add(&mut b, |b| {
                Linear::new(b, LinearConfig::new(8 * (OUT / 2) * (OUT / 2), 10))
            })
        })
        .expect("valid model");
    m
}

/// One batch of raw MNIST-like inputs: integer pixels 0..=255, four in five
/// of them 0 (the background), and labels.
fn batch(step: usize) -> (DMatrix<f64>, Vec<usize>) {
    let mut rng = ChaCha8Rng::seed_from_u64(1000 + step as u64);
    let x = DMatrix::from_fn(BATCH, SIDE * SIDE, |_, _| {
        let r = rng.next_u32();
        if r % 5 == 0 {
            ((r >> 8) % 256) as f64
        } else {
            0.0
        }
    });
    let labels = (0..BATCH).map(|_| (rng.next_u32() % 10) as usize).collect();
    (x, labels)
}

struct Run<S: Scalar> {
    model: Sequential<S>,
    state: ModelState<S>,
    opt: Optimizer<S>,
    tape: Tape<S>,
}

impl<S: Scalar> Run<S> {
    fn new(weights: &ModelState<f64>) -> Self {
        let mut state = ModelState::<S>::new();
        let model = model(&mut state);
        // the same initial weights as the f64 run, rounded once
        let values: Vec<_> = weights
            .params
            .iter()
            .map(|(id, _, v)| (id, v.map(S::cast)))
            .collect();
        for (id, v) in values {
            state.params.params_mut().set_value(id, v).unwrap();
        }
        let cfg = SgdConfig {
            lr: 0.01,
            momentum: 0.9,
            ..SgdConfig::default()
        };
        let opt = cfg.build(&state.params).unwrap();
        Run {
            model,
            state,
            opt,
            tape: Tape::new(),
        }
    }

    fn step(&mut self, step: usize) -> f64 {
        let (x, labels) = batch(step);
        let x = x.map(S::cast);
        self.tape.reset();
        self.state.params.zero_grad();
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let loss = {
            let mut ctx = Ctx::new(&self.tape, &mut self.state, Mode::Train, &mut rng);
            self.model
                .forward(
                    &mut ctx,
                    self.tape.constant_image(&x, ImageShape::new(1, SIDE, SIDE)),
                )
                .cross_entropy(&labels, &CrossEntropyConfig::default())
        };
        self.tape.backward(loss, &mut self.state.params);
        self.opt.step(&mut self.state.params).unwrap();
        loss.item().as_f64()
    }

    fn running_var(&self) -> Vec<f64> {
        let id = self.state.buffers.id("1.running_var").unwrap();
        self.state
            .buffers
            .tensor(id)
            .iter()
            .map(|v| v.as_f64())
            .collect()
    }
}

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(1e-12)
}

#[test]
fn conv_batch_norm_training_in_f32_stays_within_pytorch_noise_of_f64() {
    let mut wide = Run::<f64>::new(&{
        let mut s = ModelState::new();
        model::<f64>(&mut s);
        s
    });
    let mut narrow = Run::<f32>::new(&wide.state);
    let mut worst = 0.0f64;
    for step in 0..STEPS {
        let (l64, l32) = (wide.step(step), narrow.step(step));
        assert!(
            l64.is_finite() && l32.is_finite(),
            "step {step}: {l64} vs {l32}"
        );
        worst = worst.max(rel(l32, l64));
        assert!(
            rel(l32, l64) <= TOLERANCE,
            "step {step}: f32 loss {l32} vs f64 {l64} (relative {:.2e})",
            rel(l32, l64)
        );
    }
    for (a, b) in narrow.running_var().iter().zip(wide.running_var()) {
        assert!(rel(*a, b) <= TOLERANCE, "running var {a} vs {b}");
    }
    eprintln!("worst relative loss difference over {STEPS} steps: {worst:.2e}");
}
