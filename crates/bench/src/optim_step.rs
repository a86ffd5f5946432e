//! The issue's workload W5: one optimizer step over 10M f32 parameters, as
//! one tensor and as 100 tensors of 100k, for Adam, AdamW and SGD with
//! momentum. The criterion group `benches/benchmarks/optim.rs` builds the
//! same store and optimizers.

use descent_core::{ParamStore, Tags};
use descent_optim::{AdamConfig, AdamWConfig, Optimizer, SgdConfig};
use nalgebra::DMatrix;

/// Parameters W5 updates per step (all layouts).
pub const W5_PARAMS: usize = 10_000_000;

/// The optimizers W5 times, with the configs of the criterion group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OptimKind {
    /// `Adam` with PyTorch's defaults.
    Adam,
    /// `AdamW` with PyTorch's defaults (weight decay 0.01).
    AdamW,
    /// `Sgd` with lr 0.01 and momentum 0.9.
    SgdMomentum,
}

impl OptimKind {
    /// Every optimizer, in the order the table lists them.
    pub const ALL: [OptimKind; 3] = [OptimKind::Adam, OptimKind::AdamW, OptimKind::SgdMomentum];

    /// The short name used in workload names (`adam`, `adamw`, `sgd`).
    pub fn name(self) -> &'static str {
        match self {
            OptimKind::Adam => "adam",
            OptimKind::AdamW => "adamw",
            OptimKind::SgdMomentum => "sgd",
        }
    }

    /// Bytes a fused step must stream per parameter: Adam and AdamW read p,
    /// g, m, v and write p, m, v (28); SGD with momentum reads p, g, b and
    /// writes p, b (20).
    pub fn bytes_per_param(self) -> usize {
        match self {
            OptimKind::Adam | OptimKind::AdamW => 28,
            OptimKind::SgdMomentum => 20,
        }
    }

    /// The optimizer over `store`'s parameters; its default `Parallelism`
    /// uses [`descent_core::threads::num_threads`] threads.
    ///
    /// Panics only if a fixed config is rejected, which is a bug in this file.
    pub fn build(self, store: &ParamStore<f32>) -> Optimizer<f32> {
        match self {
            OptimKind::Adam => AdamConfig::default().build(store),
            OptimKind::AdamW => AdamWConfig::default().build(store),
            OptimKind::SgdMomentum => SgdConfig {
                lr: 0.01,
                momentum: 0.9,
                ..SgdConfig::default()
            }
            .build(store),
        }
        .expect("fixed, valid optimizer config")
    }
}

/// A store of `n_params` parameters split into `n_tensors` equal row
/// vectors, with deterministic values and gradients (the criterion group's).
///
/// Panics if `n_tensors` is 0 or does not divide `n_params`.
///
/// # Examples
///
/// ```
/// let store = descent_bench::optim_store(1000, 10);
/// assert_eq!((store.params().len(), store.params().numel()), (10, 1000));
/// ```
pub fn optim_store(n_params: usize, n_tensors: usize) -> ParamStore<f32> {
    assert!(
        n_tensors > 0 && n_params.is_multiple_of(n_tensors),
        "{n_tensors} tensors do not split {n_params} parameters evenly"
    );
    let mut store = ParamStore::new();
    let len = n_params / n_tensors;
    for t in 0..n_tensors {
        let value = DMatrix::from_fn(1, len, |_, j| ((j * 7 + t) % 13) as f32 * 0.01 - 0.06);
        let id = store
            .register(format!("p{t}"), Tags::WEIGHT, value)
            .expect("fresh, distinct names");
        let grad = store.grad_mut(id);
        for (j, g) in grad.iter_mut().enumerate() {
            *g = ((j * 5 + t) % 11) as f32 * 0.001 - 0.005;
        }
    }
    store
}

/// One W5 case: an optimizer and a parameter layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OptimStepId {
    /// The optimizer.
    pub kind: OptimKind,
    /// How many equal tensors hold the [`W5_PARAMS`] parameters (1 or 100).
    pub n_tensors: usize,
}

impl OptimStepId {
    /// Every W5 case: each optimizer over 1 × 10M, then over 100 × 100k.
    pub const ALL: [OptimStepId; 6] = {
        let k = OptimKind::ALL;
        [
            OptimStepId::new(k[0], 1),
            OptimStepId::new(k[1], 1),
            OptimStepId::new(k[2], 1),
            OptimStepId::new(k[0], 100),
            OptimStepId::new(k[1], 100),
            OptimStepId::new(k[2], 100),
        ]
    };

    const fn new(kind: OptimKind, n_tensors: usize) -> Self {
        OptimStepId { kind, n_tensors }
    }

    /// The layout as the issue writes it: `1x10m`, `100x100k`.
    pub fn layout(self) -> String {
        format!("{}x{}", self.n_tensors, short(W5_PARAMS / self.n_tensors))
    }

    /// The name shared with `benches/torch_workloads.py`, e.g. `w5_adam_1x10m`.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_bench::OptimStepId;
    /// let names: Vec<String> = OptimStepId::ALL.iter().map(|w| w.name()).collect();
    /// assert_eq!(names[0], "w5_adam_1x10m");
    /// assert_eq!(names[5], "w5_sgd_100x100k");
    /// ```
    pub fn name(self) -> String {
        format!("w5_{}_{}", self.kind.name(), self.layout())
    }

    /// Bytes streamed per step ([`OptimKind::bytes_per_param`] × [`W5_PARAMS`]).
    pub fn bytes(self) -> usize {
        self.kind.bytes_per_param() * W5_PARAMS
    }

    /// Builds the store and the optimizer.
    pub fn build(self) -> OptimStep {
        let store = optim_store(W5_PARAMS, self.n_tensors);
        let opt = self.kind.build(&store);
        OptimStep { store, opt }
    }
}

/// `10000000` → `10m`, `100000` → `100k`.
fn short(n: usize) -> String {
    match n {
        n if n >= 1_000_000 && n % 1_000_000 == 0 => format!("{}m", n / 1_000_000),
        n if n >= 1_000 && n % 1_000 == 0 => format!("{}k", n / 1_000),
        n => n.to_string(),
    }
}

/// A built W5 case: call [`step`](OptimStep::step) repeatedly (the
/// gradients stay in place, as PyTorch keeps `.grad`).
pub struct OptimStep {
    store: ParamStore<f32>,
    opt: Optimizer<f32>,
}

impl OptimStep {
    /// One optimizer step over every parameter.
    pub fn step(&mut self) -> descent_optim::Result<()> {
        self.opt.step(&mut self.store)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_case_has_a_distinct_name_in_the_issues_spelling() {
        let names: Vec<String> = OptimStepId::ALL.iter().map(|w| w.name()).collect();
        assert_eq!(
            names,
            [
                "w5_adam_1x10m",
                "w5_adamw_1x10m",
                "w5_sgd_1x10m",
                "w5_adam_100x100k",
                "w5_adamw_100x100k",
                "w5_sgd_100x100k"
            ]
        );
        assert_eq!(OptimStepId::ALL[2].bytes(), 200_000_000);
    }

    #[test]
    fn each_optimizer_moves_every_tensor_of_a_small_store() {
        for kind in OptimKind::ALL {
            let mut store = optim_store(600, 3);
            let before = store.params().clone();
            kind.build(&store).step(&mut store).unwrap();
            for (id, _, v) in store.params().iter() {
                assert!(v != before.value(id), "{kind:?} left {id:?} unchanged");
            }
        }
    }
}
