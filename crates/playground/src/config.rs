//! What the page sends: the data set, one or two runs (network, optimizer,
//! schedule, regularization), the bounds that keep a tab from exhausting the
//! machine, and their validation.
//!
//! Every field has a default, so `{}` is a valid configuration (two moons,
//! a 2 × 8 tanh network, SGD with momentum); unknown fields are rejected so a
//! misspelt name is an error, not a silent default.

use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// Bounds on every size a page may ask for.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Limits {
    /// Points in a data set (train and test together).
    pub max_points: usize,
    /// Hidden layers.
    pub max_layers: usize,
    /// Units in a hidden layer.
    pub max_width: usize,
    /// Epochs a run may train.
    pub max_epochs: u64,
    /// Classes of spirals and blobs.
    pub max_classes: usize,
    /// Cells per side of the decision-boundary grid (not configurable by a page).
    pub grid: usize,
}

/// The bounds the server enforces.
pub const LIMITS: Limits = Limits {
    max_points: 2000,
    max_layers: 6,
    max_width: 64,
    max_epochs: 20_000,
    max_classes: 5,
    grid: 50,
};

/// The 2-D data sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataKind {
    /// scikit-learn's `make_moons`: two interleaving half circles.
    Moons,
    /// CS231n's spiral arms, one class per arm.
    Spirals,
    /// scikit-learn's `make_circles`: a circle inside another.
    Circles,
    /// The XOR quadrants: the label is the sign of `x·y`.
    Xor,
    /// scikit-learn's `make_blobs`: Gaussian clusters, one class each.
    Blobs,
}

/// The data set of a session, shared by both runs of compare mode.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DataConfig {
    /// Which set.
    pub kind: DataKind,
    /// Points, train and test together.
    pub n_points: usize,
    /// Classes (spirals and blobs; the other sets have 2).
    pub n_classes: usize,
    /// Noise in `[0, 1]`: the coordinates' standard deviation for moons,
    /// circles and XOR, the angular noise (radians) of spirals, and
    /// `0.5 + 10·noise` the blobs' standard deviation.
    pub noise: f64,
    /// Fraction of the points held out as the test set, in `[0.1, 0.9]`.
    pub test_fraction: f64,
    /// Fraction of training labels replaced by a different class, in `[0, 0.5]`.
    pub label_noise: f64,
}

impl Default for DataConfig {
    fn default() -> Self {
        DataConfig {
            kind: DataKind::Moons,
            n_points: 400,
            n_classes: 2,
            noise: 0.2,
            test_fraction: 0.5,
            label_noise: 0.0,
        }
    }
}

impl DataConfig {
    /// Classes of the set this configuration generates.
    pub fn classes(&self) -> usize {
        match self.kind {
            DataKind::Spirals | DataKind::Blobs => self.n_classes,
            _ => 2,
        }
    }

    /// Training points (the rest are test points).
    pub fn n_test(&self) -> usize {
        (self.n_points as f64 * self.test_fraction).round() as usize
    }

    /// Training points.
    pub fn n_train(&self) -> usize {
        self.n_points - self.n_test().min(self.n_points)
    }

    /// Checks every field against [`LIMITS`].
    pub fn validate(&self) -> Result<()> {
        let n = self.n_points;
        if !(20..=LIMITS.max_points).contains(&n) {
            return Err(Error::invalid(
                "data.n_points",
                format!("is {n}, must be in 20 ..= {}", LIMITS.max_points),
            ));
        }
        if matches!(self.kind, DataKind::Spirals | DataKind::Blobs)
            && !(2..=LIMITS.max_classes).contains(&self.n_classes)
        {
            return Err(Error::invalid(
                "data.n_classes",
                format!(
                    "is {}, must be in 2 ..= {}",
                    self.n_classes, LIMITS.max_classes
                ),
            ));
        }
        in_range("data.noise", self.noise, 0.0, 1.0)?;
        in_range("data.test_fraction", self.test_fraction, 0.1, 0.9)?;
        in_range("data.label_noise", self.label_noise, 0.0, 0.5)?;
        Ok(())
    }
}

/// The hidden layers' nonlinearity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    /// `max(0, x)`.
    Relu,
    /// `tanh x`.
    Tanh,
    /// `1 / (1 + e^{−x})`.
    Sigmoid,
    /// `max(0.01·x, x)`.
    LeakyRelu,
    /// ELU with α = 1.
    Elu,
    /// GELU (exact, erf form).
    Gelu,
    /// None: the network is linear, whatever its depth.
    Linear,
}

/// The network: hidden layers of `Linear → [BatchNorm1d] → activation →
/// [GaussianNoise] → [Dropout]`, then a `Linear` to the class logits.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NetConfig {
    /// Widths of the hidden layers (at least one layer).
    pub hidden: Vec<usize>,
    /// The nonlinearity after each hidden layer.
    pub activation: Activation,
    /// Batch normalization after each hidden `Linear`.
    pub batch_norm: bool,
    /// Dropout probability after each hidden activation, in `[0, 0.9]`.
    pub dropout: f64,
    /// Standard deviation of Gaussian noise added to each hidden activation
    /// while training, in `[0, 2]`.
    pub gaussian_noise: f64,
}

impl Default for NetConfig {
    fn default() -> Self {
        NetConfig {
            hidden: vec![8, 8],
            activation: Activation::Tanh,
            batch_norm: false,
            dropout: 0.0,
            gaussian_noise: 0.0,
        }
    }
}

/// The optimizers of `descent-optim` the page offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OptimKind {
    /// Full-batch gradient descent: SGD on batches of the whole training set.
    Gd,
    /// Mini-batch SGD, no momentum.
    Sgd,
    /// SGD with heavy-ball momentum.
    Momentum,
    /// SGD with Nesterov momentum.
    Nesterov,
    /// AdaGrad.
    Adagrad,
    /// RMSprop (with `momentum` when it is non-zero).
    Rmsprop,
    /// Adam.
    Adam,
    /// AdamW (decoupled weight decay is `train.weight_decay`).
    Adamw,
    /// NAdam.
    Nadam,
    /// RAdam.
    Radam,
    /// Adamax.
    Adamax,
    /// Adadelta.
    Adadelta,
    /// Lion.
    Lion,
}

/// Learning-rate schedules, counted in epochs on the page and converted to
/// optimizer steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScheduleKind {
    /// The learning rate throughout.
    Constant,
    /// PyTorch's `StepLR`: times `gamma` every `step_epochs` epochs.
    Step,
    /// PyTorch's `CosineAnnealingLR` over `epochs` epochs down to 0.
    Cosine,
    /// Linear warm-up over `warmup_epochs`, then cosine to 0 at `epochs`.
    WarmupCosine,
}

/// The optimizer and its learning rate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OptimConfig {
    /// Which optimizer.
    pub kind: OptimKind,
    /// Learning rate, in `(0, 10]`.
    pub lr: f64,
    /// Momentum (momentum, Nesterov, RMSprop), in `[0, 0.999]`.
    pub momentum: f64,
    /// The schedule.
    pub schedule: ScheduleKind,
    /// `StepLR`'s period, in epochs.
    pub step_epochs: u64,
    /// `StepLR`'s factor, in `(0, 1]`.
    pub gamma: f64,
    /// Warm-up length, in epochs.
    pub warmup_epochs: u64,
    /// The cosine schedules' length, in epochs.
    pub schedule_epochs: u64,
}

impl Default for OptimConfig {
    fn default() -> Self {
        OptimConfig {
            kind: OptimKind::Momentum,
            lr: 0.03,
            momentum: 0.9,
            schedule: ScheduleKind::Constant,
            step_epochs: 100,
            gamma: 0.5,
            warmup_epochs: 20,
            schedule_epochs: 500,
        }
    }
}

/// Batch size and regularization of a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainSettings {
    /// Samples per batch, 1 ..= the training set (ignored by `gd`).
    pub batch_size: usize,
    /// λ of an L1 penalty `λ·Σ|w|` on the weights (not biases), in `[0, 1]`.
    pub l1: f64,
    /// λ of an L2 penalty `λ/2·Σw²` on the weights (not biases), in `[0, 1]`.
    pub l2: f64,
    /// λ of decoupled weight decay `w ← w − lr·λ·w` (AdamW's), in `[0, 1]`.
    pub weight_decay: f64,
    /// Early stopping on the test loss with this patience in epochs, best
    /// weights restored (0: off).
    pub early_stopping: u64,
    /// Clip the gradient's global L2 norm to this (0: off).
    pub clip_norm: f64,
    /// Epochs after which the run ends.
    pub max_epochs: u64,
}

impl Default for TrainSettings {
    fn default() -> Self {
        TrainSettings {
            batch_size: 10,
            l1: 0.0,
            l2: 0.0,
            weight_decay: 0.0,
            early_stopping: 0,
            clip_norm: 0.0,
            max_epochs: 2000,
        }
    }
}

/// One run: network, optimizer, training settings.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RunConfig {
    /// A label for the page ("Adam + L2", ...); empty is fine.
    pub label: String,
    /// The network.
    pub net: NetConfig,
    /// The optimizer.
    pub optim: OptimConfig,
    /// Batch size and regularization.
    pub train: TrainSettings,
}

/// A session's configuration: the data, a run, and optionally a second run
/// trained side by side on the same data with the same seed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionConfig {
    /// The seed of the data, the initialization, shuffling and dropout.
    pub seed: u64,
    /// The data set.
    pub data: DataConfig,
    /// The run.
    pub run: RunConfig,
    /// Compare mode's second run.
    pub compare: Option<RunConfig>,
    /// Epochs per second at most, so the eye can follow (0: as fast as the
    /// machine trains), in `[0, 1000]`.
    pub epochs_per_sec: f64,
}

impl SessionConfig {
    /// Parses a configuration from JSON, naming the offending field on error.
    pub fn from_json(text: &str) -> Result<Self> {
        serde_json::from_str(text).map_err(|e| Error::BadRequest(e.to_string()))
    }

    /// Checks every field against [`LIMITS`] and against the data set's size.
    pub fn validate(&self) -> Result<()> {
        in_range("epochs_per_sec", self.epochs_per_sec, 0.0, 1000.0)?;
        self.data.validate()?;
        self.run.validate("run", &self.data)?;
        if let Some(c) = &self.compare {
            c.validate("compare", &self.data)?;
        }
        Ok(())
    }

    /// The runs: one, or two in compare mode.
    pub fn runs(&self) -> Vec<&RunConfig> {
        std::iter::once(&self.run)
            .chain(self.compare.as_ref())
            .collect()
    }
}

impl RunConfig {
    /// Checks the run's fields; `at` prefixes field names (`run`, `compare`).
    pub fn validate(&self, at: &str, data: &DataConfig) -> Result<()> {
        let field = |f: &str| format!("{at}.{f}");
        let net = &self.net;
        if net.hidden.is_empty() {
            return Err(Error::invalid(
                field("net.hidden"),
                "the network has no hidden layer; give at least one",
            ));
        }
        if net.hidden.len() > LIMITS.max_layers {
            return Err(Error::invalid(
                field("net.hidden"),
                format!(
                    "has {} layers, at most {} are allowed",
                    net.hidden.len(),
                    LIMITS.max_layers
                ),
            ));
        }
        for (i, &w) in net.hidden.iter().enumerate() {
            if !(1..=LIMITS.max_width).contains(&w) {
                return Err(Error::invalid(
                    field(&format!("net.hidden[{i}]")),
                    format!("is {w} units, must be in 1 ..= {}", LIMITS.max_width),
                ));
            }
        }
        in_range(&field("net.dropout"), net.dropout, 0.0, 0.9)?;
        in_range(&field("net.gaussian_noise"), net.gaussian_noise, 0.0, 2.0)?;
        let o = &self.optim;
        if !(o.lr > 0.0 && o.lr <= 10.0) {
            return Err(Error::invalid(
                field("optim.lr"),
                format!("is {}, must be in (0, 10]", o.lr),
            ));
        }
        in_range(&field("optim.momentum"), o.momentum, 0.0, 0.999)?;
        if matches!(o.kind, OptimKind::Momentum | OptimKind::Nesterov) && o.momentum <= 0.0 {
            return Err(Error::invalid(
                field("optim.momentum"),
                "momentum and Nesterov need a momentum above 0 (or choose SGD)",
            ));
        }
        let max = LIMITS.max_epochs;
        match o.schedule {
            ScheduleKind::Constant => {}
            ScheduleKind::Step => {
                count_in(&field("optim.step_epochs"), o.step_epochs, 1, max)?;
                if !(o.gamma > 0.0 && o.gamma <= 1.0) {
                    return Err(Error::invalid(
                        field("optim.gamma"),
                        format!("is {}, must be in (0, 1]", o.gamma),
                    ));
                }
            }
            ScheduleKind::Cosine => {
                count_in(&field("optim.schedule_epochs"), o.schedule_epochs, 1, max)?
            }
            ScheduleKind::WarmupCosine => {
                count_in(&field("optim.schedule_epochs"), o.schedule_epochs, 1, max)?;
                if o.warmup_epochs >= o.schedule_epochs {
                    return Err(Error::invalid(
                        field("optim.warmup_epochs"),
                        format!(
                            "is {}, must be below the schedule's {} epochs",
                            o.warmup_epochs, o.schedule_epochs
                        ),
                    ));
                }
            }
        }
        let t = &self.train;
        let n_train = data.n_train();
        if o.kind != OptimKind::Gd && !(1..=n_train).contains(&t.batch_size) {
            return Err(Error::invalid(
                field("train.batch_size"),
                format!(
                    "is {}, must be in 1 ..= {n_train} (the training set)",
                    t.batch_size
                ),
            ));
        }
        if net.batch_norm && o.kind != OptimKind::Gd && t.batch_size < 2 {
            return Err(Error::invalid(
                field("train.batch_size"),
                "is 1, but batch norm needs batches of at least 2 (its statistics are over the batch)",
            ));
        }
        in_range(&field("train.l1"), t.l1, 0.0, 1.0)?;
        in_range(&field("train.l2"), t.l2, 0.0, 1.0)?;
        in_range(&field("train.weight_decay"), t.weight_decay, 0.0, 1.0)?;
        count_in(&field("train.early_stopping"), t.early_stopping, 0, 1000)?;
        in_range(&field("train.clip_norm"), t.clip_norm, 0.0, 1000.0)?;
        count_in(&field("train.max_epochs"), t.max_epochs, 1, max)?;
        if self.label.chars().count() > 60 {
            return Err(Error::invalid(
                field("label"),
                "is longer than 60 characters",
            ));
        }
        Ok(())
    }

    /// The batch size this run trains with (`gd`: the whole training set).
    pub fn batch_size(&self, n_train: usize) -> usize {
        if self.optim.kind == OptimKind::Gd {
            n_train
        } else {
            self.train.batch_size
        }
    }
}

fn in_range(field: &str, v: f64, lo: f64, hi: f64) -> Result<()> {
    if v >= lo && v <= hi {
        Ok(())
    } else {
        Err(Error::invalid(
            field,
            format!("is {v}, must be in [{lo}, {hi}]"),
        ))
    }
}

fn count_in(field: &str, v: u64, lo: u64, hi: u64) -> Result<()> {
    if (lo..=hi).contains(&v) {
        Ok(())
    } else {
        Err(Error::invalid(
            field,
            format!("is {v}, must be in {lo} ..= {hi}"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_empty_object_is_the_default_and_valid() {
        let c = SessionConfig::from_json("{}").unwrap();
        assert_eq!(c, SessionConfig::default());
        c.validate().unwrap();
    }

    #[test]
    fn a_misspelt_field_is_an_error_naming_it() {
        let e =
            SessionConfig::from_json(r#"{"run": {"optim": {"learning_rate": 0.1}}}"#).unwrap_err();
        assert!(e.to_string().contains("learning_rate"), "{e}");
    }

    type Edit = Box<dyn Fn(&mut SessionConfig)>;

    #[test]
    fn bad_values_name_their_field() {
        let cases: Vec<(&str, Edit)> = vec![
            ("run.optim.lr", Box::new(|c| c.run.optim.lr = -0.1)),
            ("run.optim.lr", Box::new(|c| c.run.optim.lr = f64::NAN)),
            ("run.net.hidden", Box::new(|c| c.run.net.hidden.clear())),
            (
                "run.net.hidden",
                Box::new(|c| c.run.net.hidden = vec![4; 7]),
            ),
            (
                "run.net.hidden[1]",
                Box::new(|c| c.run.net.hidden = vec![4, 100_000]),
            ),
            ("data.n_points", Box::new(|c| c.data.n_points = 10_000_000)),
            (
                "run.train.batch_size",
                Box::new(|c| c.run.train.batch_size = 0),
            ),
            (
                "run.train.batch_size",
                Box::new(|c| c.run.train.batch_size = 201),
            ),
            (
                "compare.net.dropout",
                Box::new(|c| {
                    let mut r = RunConfig::default();
                    r.net.dropout = 1.0;
                    c.compare = Some(r);
                }),
            ),
            (
                "run.optim.warmup_epochs",
                Box::new(|c| {
                    c.run.optim.schedule = ScheduleKind::WarmupCosine;
                    c.run.optim.warmup_epochs = 600;
                }),
            ),
        ];
        for (field, edit) in cases {
            let mut c = SessionConfig::default();
            edit(&mut c);
            let e = c.validate().unwrap_err();
            assert_eq!(e.field(), Some(field), "{e}");
        }
    }

    #[test]
    fn full_batch_gd_ignores_the_batch_size() {
        let mut c = SessionConfig::default();
        c.run.optim.kind = OptimKind::Gd;
        c.run.train.batch_size = 0;
        c.validate().unwrap();
        assert_eq!(c.run.batch_size(c.data.n_train()), 200);
    }
}
