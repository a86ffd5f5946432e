//! The issue's training-step workloads W1–W4 and W7: a model, an optimizer
//! and one fixed random batch, stepped with one reused tape as real training
//! does.

use descent_autodiff::{CrossEntropyConfig, ImageShape, Tape};
use descent_nn::{
    BatchNorm1d, BatchNorm2d, BatchNormConfig, Builder, Conv2d, Conv2dConfig, Ctx, Dropout,
    Flatten, Linear, LinearConfig, MaxPool2d, MaxPool2dConfig, Mode, ModelState, Module, Relu,
    Sequential, Tanh,
};
use descent_optim::{AdamConfig, AdamWConfig, Optimizer, SgdConfig};
use nalgebra::DMatrix;
use rand_chacha::ChaCha8Rng;
use rand_core::{Rng, SeedableRng};

/// One of the issue's workloads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum WorkloadId {
    /// MLP 784-512-256-10, ReLU, batch 128, SGD with momentum 0.9.
    W1Sgd,
    /// MLP 784-512-256-10, ReLU, batch 128, Adam.
    W1Adam,
    /// MLP 2-64-64-2, tanh, batch 32, Adam (per-step overhead dominates).
    W2Adam,
    /// CNN on 3×32×32, batch 64: two conv3×3-ReLU-maxpool2 stages and a
    /// Linear(2048→10), Adam.
    W3Adam,
    /// W1 with BatchNorm1d before each ReLU and Dropout(0.5) after, AdamW.
    W4AdamW,
    /// LeNet-style CNN on MNIST-shaped 1×28×28 images, batch 64, SGD with
    /// momentum 0.9 (lr 0.01): the layers of [`W7_ARCHITECTURE`].
    W7Sgd,
    /// The W7 CNN with AdamW (PyTorch's defaults).
    W7AdamW,
}

/// W7's model, layer by layer, exactly as `benches/torch_workloads.py`
/// builds it (`lenet()`): PyTorch's default layer arguments (conv stride 1,
/// no padding, bias on; batch norm eps 1e-5, momentum 0.1, affine; max-pool
/// stride = kernel).
pub const W7_ARCHITECTURE: &str = "Conv2d(1→8, 5×5) → BatchNorm2d(8) → ReLU → MaxPool2d(2) → \
Conv2d(8→16, 5×5) → BatchNorm2d(16) → ReLU → MaxPool2d(2) → Flatten(16·4·4 = 256) → \
Linear(256→120) → ReLU → Linear(120→10)";

/// Width of W7's hidden linear layer (LeNet-5's 120).
pub const W7_HIDDEN: usize = 120;

impl WorkloadId {
    /// Every workload, in the order the table lists them.
    pub const ALL: [WorkloadId; 7] = [
        WorkloadId::W1Sgd,
        WorkloadId::W1Adam,
        WorkloadId::W2Adam,
        WorkloadId::W3Adam,
        WorkloadId::W4AdamW,
        WorkloadId::W7Sgd,
        WorkloadId::W7AdamW,
    ];

    /// The short name shared with `benches/torch_workloads.py` (`w1_sgd`, ...).
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_bench::WorkloadId;
    /// assert_eq!(WorkloadId::from_name("w3_adam"), Some(WorkloadId::W3Adam));
    /// assert_eq!(WorkloadId::W3Adam.name(), "w3_adam");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            WorkloadId::W1Sgd => "w1_sgd",
            WorkloadId::W1Adam => "w1_adam",
            WorkloadId::W2Adam => "w2_adam",
            WorkloadId::W3Adam => "w3_adam",
            WorkloadId::W4AdamW => "w4_adamw",
            WorkloadId::W7Sgd => "w7_sgd",
            WorkloadId::W7AdamW => "w7_adamw",
        }
    }

    /// The workload called `name`, if any.
    pub fn from_name(name: &str) -> Option<WorkloadId> {
        Self::ALL.into_iter().find(|w| w.name() == name)
    }

    /// Samples per step.
    pub fn batch(self) -> usize {
        match self {
            WorkloadId::W1Sgd | WorkloadId::W1Adam | WorkloadId::W4AdamW => 128,
            WorkloadId::W2Adam => 32,
            WorkloadId::W3Adam | WorkloadId::W7Sgd | WorkloadId::W7AdamW => 64,
        }
    }

    /// Floating-point operations of one step's matrix products, counted as
    /// the issue does: 2 per multiply-add forward and 4 backward (6 × MACs),
    /// ignoring elementwise work (W1: 411 MFLOP).
    pub fn flops(self) -> f64 {
        let macs_per_sample: usize = match self {
            WorkloadId::W1Sgd | WorkloadId::W1Adam | WorkloadId::W4AdamW => {
                784 * 512 + 512 * 256 + 256 * 10
            }
            WorkloadId::W2Adam => 2 * 64 + 64 * 64 + 64 * 2,
            // conv1: 16 × 32² outputs of 3·9 taps; conv2: 32 × 16² of 16·9.
            WorkloadId::W3Adam => 16 * 1024 * 27 + 32 * 256 * 144 + 2048 * 10,
            // conv1: 8 × 24² outputs of 1·25 taps; conv2: 16 × 8² of 8·25;
            // then 256 → 120 → 10 (W7: 135 MFLOP).
            WorkloadId::W7Sgd | WorkloadId::W7AdamW => {
                8 * 576 * 25 + 16 * 64 * 200 + 256 * W7_HIDDEN + W7_HIDDEN * 10
            }
        };
        6.0 * (macs_per_sample * self.batch()) as f64
    }

    /// Bytes the optimizer streams per parameter: SGD with momentum reads p,
    /// g, b and writes p, b (20); Adam and AdamW read p, g, m, v and write
    /// p, m, v (28).
    pub fn optimizer_bytes_per_param(self) -> usize {
        match self {
            WorkloadId::W1Sgd | WorkloadId::W7Sgd => 20,
            _ => 28,
        }
    }

    /// Builds the model, the optimizer and one random batch from `seed`; the
    /// optimizer's default `Parallelism` runs on
    /// [`descent_core::threads::num_threads`] threads.
    ///
    /// Panics only if a fixed layer or optimizer config is rejected, which
    /// is a bug in this file.
    pub fn build(self, seed: u64) -> Workload {
        let (parts, rng) = self.parts_and_rng(seed);
        Workload {
            id: self,
            tape: Tape::new(),
            state: parts.state,
            model: parts.model,
            opt: parts.opt,
            rng,
            x: parts.x,
            labels: parts.labels,
            image: parts.image,
            ce: CrossEntropyConfig::default(),
        }
    }

    /// The workload's model, state, optimizer and fixed batch, for a caller
    /// that runs the step itself (the Trainer row of the benchmarks).
    pub fn parts(self, seed: u64) -> WorkloadParts {
        self.parts_and_rng(seed).0
    }

    fn parts_and_rng(self, seed: u64) -> (WorkloadParts, ChaCha8Rng) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut state = ModelState::<f32>::new();
        let model = {
            let mut b = Builder::new(&mut state, &mut rng);
            match self {
                WorkloadId::W1Sgd | WorkloadId::W1Adam => mlp(&mut b, &[784, 512, 256, 10], false),
                WorkloadId::W2Adam => mlp(&mut b, &[2, 64, 64, 2], true),
                WorkloadId::W3Adam => cnn(&mut b),
                WorkloadId::W4AdamW => mlp_bn_dropout(&mut b),
                WorkloadId::W7Sgd | WorkloadId::W7AdamW => lenet(&mut b),
            }
            .expect("fixed, valid layer configs")
        };
        let opt = match self {
            WorkloadId::W1Sgd | WorkloadId::W7Sgd => {
                let cfg = SgdConfig {
                    lr: 0.01,
                    momentum: 0.9,
                    ..SgdConfig::default()
                };
                cfg.build(&state.params)
            }
            WorkloadId::W4AdamW | WorkloadId::W7AdamW => {
                AdamWConfig::default().build(&state.params)
            }
            _ => AdamConfig::default().build(&state.params),
        }
        .expect("fixed, valid optimizer config");
        let (n, d_in, classes) = match self {
            WorkloadId::W2Adam => (32, 2, 2),
            WorkloadId::W3Adam => (64, 3 * 32 * 32, 10),
            // W7 reads MNIST's 784 pixels as one 1×28×28 image per row.
            _ => (self.batch(), 784, 10),
        };
        let x = DMatrix::from_fn(n, d_in, |_, _| uniform(&mut rng));
        let labels = (0..n).map(|_| rng.next_u32() as usize % classes).collect();
        let image = match self {
            WorkloadId::W3Adam => Some(ImageShape::new(3, 32, 32)),
            WorkloadId::W7Sgd | WorkloadId::W7AdamW => Some(ImageShape::new(1, 28, 28)),
            _ => None,
        };
        let parts = WorkloadParts {
            model,
            state,
            opt,
            x,
            labels,
            image,
        };
        (parts, rng)
    }
}

/// What a workload is made of: the model, its state, the optimizer and the
/// fixed batch (`x`, one row per sample; `labels`; the image shape, if any).
pub struct WorkloadParts {
    /// The model.
    pub model: Sequential<f32>,
    /// Its parameters and buffers.
    pub state: ModelState<f32>,
    /// The optimizer over `state.params`.
    pub opt: Optimizer<f32>,
    /// The batch's features.
    pub x: DMatrix<f32>,
    /// The batch's labels.
    pub labels: Vec<usize>,
    /// The image shape of a row of `x`, for the CNN.
    pub image: Option<ImageShape>,
}

/// A uniform draw in [-1, 1).
fn uniform(rng: &mut impl Rng) -> f32 {
    (rng.next_u32() >> 8) as f32 / (1u32 << 23) as f32 - 1.0
}

/// Linear layers of `dims` with an activation between them (ReLU or tanh).
fn mlp(
    b: &mut Builder<'_, f32>,
    dims: &[usize],
    tanh: bool,
) -> descent_nn::Result<Sequential<f32>> {
    let mut model = Sequential::new();
    for (i, w) in dims.windows(2).enumerate() {
        model.add(b, |b| Linear::new(b, LinearConfig::new(w[0], w[1])))?;
        if i + 2 < dims.len() {
            if tanh {
                model.push(Tanh);
            } else {
                model.push(Relu);
            }
        }
    }
    Ok(model)
}

/// W4: Linear-BatchNorm1d-ReLU-Dropout(0.5) twice, then Linear(256→10).
fn mlp_bn_dropout(b: &mut Builder<'_, f32>) -> descent_nn::Result<Sequential<f32>> {
    let mut model = Sequential::new();
    for (d_in, d_out) in [(784, 512), (512, 256)] {
        model
            .add(b, |b| Linear::new(b, LinearConfig::new(d_in, d_out)))?
            .add(b, |b| BatchNorm1d::new(b, BatchNormConfig::new(d_out)))?
            .push(Relu)
            .push(Dropout::new(0.5)?);
    }
    model.add(b, |b| Linear::new(b, LinearConfig::new(256, 10)))?;
    Ok(model)
}

/// W3: conv3×3(3→16, pad 1)-ReLU-maxpool2-conv3×3(16→32, pad 1)-ReLU-maxpool2-flatten-Linear(2048→10).
fn cnn(b: &mut Builder<'_, f32>) -> descent_nn::Result<Sequential<f32>> {
    let mut model = Sequential::new();
    for (c_in, c_out) in [(3, 16), (16, 32)] {
        model
            .add(b, |b| {
                Conv2d::new(b, Conv2dConfig::new(c_in, c_out, 3, 3).padding(1, 1))
            })?
            .push(Relu)
            .push(MaxPool2d::new(MaxPool2dConfig::new(2, 2))?);
    }
    model
        .push(Flatten)
        .add(b, |b| Linear::new(b, LinearConfig::new(2048, 10)))?;
    Ok(model)
}

/// W7: the LeNet-style CNN of [`W7_ARCHITECTURE`].
fn lenet(b: &mut Builder<'_, f32>) -> descent_nn::Result<Sequential<f32>> {
    let mut model = Sequential::new();
    for (c_in, c_out) in [(1, 8), (8, 16)] {
        model
            .add(b, |b| Conv2d::new(b, Conv2dConfig::new(c_in, c_out, 5, 5)))?
            .add(b, |b| BatchNorm2d::new(b, BatchNormConfig::new(c_out)))?
            .push(Relu)
            .push(MaxPool2d::new(MaxPool2dConfig::new(2, 2))?);
    }
    model
        .push(Flatten)
        .add(b, |b| {
            Linear::new(b, LinearConfig::new(16 * 4 * 4, W7_HIDDEN))
        })?
        .push(Relu)
        .add(b, |b| Linear::new(b, LinearConfig::new(W7_HIDDEN, 10)))?;
    Ok(model)
}

/// A built workload: call [`step`](Workload::step) repeatedly.
pub struct Workload {
    id: WorkloadId,
    tape: Tape<f32>,
    state: ModelState<f32>,
    model: Sequential<f32>,
    opt: Optimizer<f32>,
    rng: ChaCha8Rng,
    x: DMatrix<f32>,
    labels: Vec<usize>,
    image: Option<ImageShape>,
    ce: CrossEntropyConfig,
}

impl Workload {
    /// Which workload this is.
    pub fn id(&self) -> WorkloadId {
        self.id
    }

    /// Number of trainable parameters.
    pub fn n_params(&self) -> usize {
        self.state.params.numel()
    }

    /// One full training step: reset the tape, zero the gradients, forward
    /// in train mode, cross-entropy, backward, optimizer step. Returns the
    /// loss.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_bench::WorkloadId;
    ///
    /// let mut w = WorkloadId::W2Adam.build(0);
    /// let first = w.step()?;
    /// for _ in 0..20 {
    ///     w.step()?;
    /// }
    /// assert!(w.step()? < first, "Adam fits the fixed batch");
    /// # Ok::<(), descent_optim::Error>(())
    /// ```
    pub fn step(&mut self) -> descent_optim::Result<f32> {
        self.tape.reset();
        self.state.params.zero_grad();
        let loss = {
            let mut ctx = Ctx::new(&self.tape, &mut self.state, Mode::Train, &mut self.rng);
            let x = match self.image {
                Some(shape) => self.tape.constant_image(&self.x, shape),
                None => self.tape.constant(&self.x),
            };
            self.model
                .forward(&mut ctx, x)
                .cross_entropy(&self.labels, &self.ce)
        };
        self.tape.backward(loss, &mut self.state.params);
        self.opt.step(&mut self.state.params)?;
        Ok(loss.item())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_workload_builds_and_steps_to_a_finite_loss() {
        for id in WorkloadId::ALL {
            let mut w = id.build(1);
            assert_eq!(WorkloadId::from_name(id.name()), Some(id));
            let loss = w.step().unwrap();
            assert!(w.step().unwrap().is_finite() && loss.is_finite(), "{id:?}");
        }
    }

    #[test]
    fn w1_counts_the_issues_411_mflop_and_its_parameters() {
        assert_eq!(WorkloadId::W1Sgd.flops().round(), 410_910_720.0);
        assert_eq!(WorkloadId::W1Sgd.build(0).n_params(), 535_818);
    }

    #[test]
    fn w7_is_lenet_with_pytorchs_parameter_count_and_learns_its_batch() {
        // conv 8·25+8, bn 2·8, conv 16·200+16, bn 2·16, fc 256·120+120, fc 120·10+10:
        // what `sum(p.numel() for p in lenet().parameters())` gives.
        let expected = 208 + 16 + 3216 + 32 + 30_840 + 1_210;
        for id in [WorkloadId::W7Sgd, WorkloadId::W7AdamW] {
            let mut w = id.build(2);
            assert_eq!(w.n_params(), expected, "{id:?}");
            let first = w.step().unwrap();
            for _ in 0..30 {
                w.step().unwrap();
            }
            let last = w.step().unwrap();
            assert!(last < 0.5 * first, "{id:?}: {first} -> {last}");
        }
        // 6 × 64 samples × 351 920 multiply-adds.
        assert_eq!(WorkloadId::W7Sgd.flops().round(), 135_137_280.0);
    }
}
