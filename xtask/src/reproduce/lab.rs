//! What an experiment sees and returns: its context ([`Ctx`]: quick mode,
//! seed, data directory, progress) and its [`Outcome`] (setup, data used,
//! tables, figures, claims judged against thresholds fixed in code, and the
//! numbers written to its JSON file).

use super::plot::Figure;
use anyhow::{Context, Result};
use descent_data::{Dataset, InMemory, Split};
use indicatif::ProgressBar;
use serde::Serialize;
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The two halves of the main job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Group {
    /// How optimizers, learning rates and schedules find a minimum.
    Optimization,
    /// Which minimum generalizes, and what regularization does to it.
    Generalization,
}

impl Group {
    pub fn as_str(self) -> &'static str {
        match self {
            Group::Optimization => "optimization",
            Group::Generalization => "generalization",
        }
    }
}

/// An experiment: a name, the claim it tests, where the claim comes from,
/// and how to run it once for one seed.
pub struct Experiment {
    /// `cargo xtask reproduce NAME`.
    pub name: &'static str,
    pub group: Group,
    /// The claim, in one sentence.
    pub claim: &'static str,
    /// Where it comes from: paper, figure or table, or the course.
    pub source: &'static str,
    pub run: fn(&Ctx) -> Result<Outcome>,
}

/// Everything an experiment may read: mode, seed, data directory, progress.
pub struct Ctx {
    /// The small version CI runs (the whole quick run: at most 3 minutes).
    pub quick: bool,
    /// This run's seed: derive every RNG of the experiment from it.
    pub seed: u64,
    data: Option<PathBuf>,
    bar: ProgressBar,
    plain: bool,
    name: &'static str,
}

impl Ctx {
    pub(super) fn new(
        quick: bool,
        seed: u64,
        data: Option<PathBuf>,
        bar: ProgressBar,
        plain: bool,
        name: &'static str,
    ) -> Self {
        Ctx {
            quick,
            seed,
            data,
            bar,
            plain,
            name,
        }
    }

    /// `--data DIR`, when given (the data-directory rule then falls back to
    /// `$DESCENT_DATA` and `../shared/datasets`).
    pub fn data_dir(&self) -> Option<&Path> {
        self.data.as_deref()
    }

    /// `full` normally, `quick` under `--quick`.
    pub fn pick<T>(&self, full: T, quick: T) -> T {
        if self.quick { quick } else { full }
    }

    /// Announces a stage of the experiment: the bar's message on a
    /// terminal, a plain line otherwise.
    pub fn stage(&self, msg: impl AsRef<str>) {
        if self.plain {
            println!("   [{}] {}", self.name, msg.as_ref());
        } else {
            self.bar.set_message(msg.as_ref().to_owned());
        }
    }

    /// Sets how many [`tick`](Self::tick)s make this run complete.
    pub fn steps(&self, total: u64) {
        self.bar.set_length(total);
        self.bar.set_position(0);
    }

    /// One unit of [`steps`](Self::steps) done.
    pub fn tick(&self) {
        self.bar.inc(1);
    }
}

/// How a measured quantity must compare with its threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Cmp {
    #[serde(rename = "<")]
    Below,
    #[serde(rename = "<=")]
    AtMost,
    #[serde(rename = ">")]
    Above,
    #[serde(rename = ">=")]
    AtLeast,
}

impl Cmp {
    pub fn symbol(self) -> &'static str {
        match self {
            Cmp::Below => "<",
            Cmp::AtMost => "≤",
            Cmp::Above => ">",
            Cmp::AtLeast => "≥",
        }
    }

    /// Whether `value` passes against `threshold` (NaN never passes).
    pub fn passes(self, value: f64, threshold: f64) -> bool {
        match self {
            Cmp::Below => value < threshold,
            Cmp::AtMost => value <= threshold,
            Cmp::Above => value > threshold,
            Cmp::AtLeast => value >= threshold,
        }
    }

    /// The value one standard deviation towards failing: `mean + sd` for
    /// an upper bound, `mean − sd` for a lower one.
    pub fn pessimistic(self, mean: f64, sd: f64) -> f64 {
        match self {
            Cmp::Below | Cmp::AtMost => mean + sd,
            Cmp::Above | Cmp::AtLeast => mean - sd,
        }
    }
}

/// One checkable part of an experiment's claim: a measured quantity, a
/// comparison, and a threshold that was fixed in code before the run.
#[derive(Debug, Clone, Serialize)]
pub struct Claim {
    /// Stable key (matched across seeds), e.g. `"momentum_escapes"`.
    pub id: &'static str,
    /// What is measured, in words, e.g. "final loss of momentum minus GD's".
    pub quantity: &'static str,
    pub measured: f64,
    pub cmp: Cmp,
    pub threshold: f64,
}

impl Claim {
    pub fn held(&self) -> bool {
        self.cmp.passes(self.measured, self.threshold)
    }
}

/// A table of numbers for the report (first seed's run).
#[derive(Debug, Clone, Serialize)]
pub struct Table {
    pub title: String,
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(title: impl Into<String>, header: &[&str]) -> Self {
        Table {
            title: title.into(),
            header: header.iter().map(|h| (*h).to_owned()).collect(),
            rows: Vec::new(),
        }
    }

    /// Appends a row (as many cells as the header has).
    pub fn row(&mut self, cells: Vec<String>) -> &mut Self {
        self.rows.push(cells);
        self
    }
}

/// What one run of an experiment found.
#[derive(Default)]
pub struct Outcome {
    /// Markdown: the setup (model, optimizer, budget, what is varied).
    pub setup: String,
    /// Which data the run used, e.g. "MNIST (first 2,000 train images) from
    /// ../shared/datasets/mnist" or "embedded UCI digits (MNIST absent)".
    pub data: String,
    pub tables: Vec<Table>,
    pub figures: Vec<Figure>,
    pub claims: Vec<Claim>,
    /// Scalars worth a mean ± std across seeds (name → value).
    pub metrics: Vec<(String, f64)>,
    /// Free text for the report: what to read in the figures, caveats.
    pub notes: String,
    /// Everything else worth keeping, written to `NAME.json` under `"numbers"`.
    pub numbers: Map<String, Value>,
}

impl Outcome {
    /// Adds a claim part: `measured cmp threshold`.
    pub fn claim(
        &mut self,
        id: &'static str,
        quantity: &'static str,
        measured: f64,
        cmp: Cmp,
        threshold: f64,
    ) -> &mut Self {
        self.claims.push(Claim {
            id,
            quantity,
            measured,
            cmp,
            threshold,
        });
        self
    }

    /// Adds a scalar reported as mean ± std across seeds.
    pub fn metric(&mut self, name: impl Into<String>, value: f64) -> &mut Self {
        self.metrics.push((name.into(), value));
        self
    }

    /// Records any serializable value in the JSON file under `key`.
    pub fn record(&mut self, key: &str, value: impl Serialize) -> Result<&mut Self> {
        let v = serde_json::to_value(value).with_context(|| format!("recording `{key}`"))?;
        self.numbers.insert(key.to_owned(), v);
        Ok(self)
    }
}

/// Formats a duration as seconds with one decimal.
pub fn secs(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

/// Which labelled image set an experiment asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageSet {
    Mnist,
    /// No experiment asks for it yet; `--data` users may point one at it.
    #[allow(dead_code)]
    FashionMnist,
}

/// A train/test pair of labelled images with pixel values in [0, 1], and a
/// sentence for the report naming where they came from.
pub struct Images {
    pub train: InMemory<f32>,
    pub test: InMemory<f32>,
    pub source: String,
}

/// The first `n_train` training and `n_test` test images of `set`, found by
/// the data-directory rule (`--data DIR`, `$DESCENT_DATA`,
/// `../shared/datasets`); when the set is absent, the embedded UCI digits
/// (1,797 images of 8 × 8, values 0–16), shuffled with `seed` and split
/// into at most `n_train` and `n_test` (the test part first taken from the
/// end).
pub fn images(ctx: &Ctx, set: ImageSet, n_train: usize, n_test: usize) -> Result<Images> {
    type Loader = fn(Split, Option<&Path>, usize) -> descent_data::Result<InMemory<f32>>;
    let (name, load): (&str, Loader) = match set {
        ImageSet::Mnist => ("MNIST", descent_data::mnist_prefix::<f32>),
        ImageSet::FashionMnist => ("Fashion-MNIST", descent_data::fashion_mnist_prefix::<f32>),
    };
    let real = load(Split::Train, ctx.data_dir(), n_train)
        .and_then(|tr| Ok((tr, load(Split::Test, ctx.data_dir(), n_test)?)));
    match real {
        Ok((train, test)) => Ok(Images {
            source: format!(
                "{name}: the first {} training and {} test images (1 × 28 × 28, scaled to [0, 1])",
                train.len(),
                test.len()
            ),
            train: train.scaled(1.0 / 255.0),
            test: test.scaled(1.0 / 255.0),
        }),
        // Absent by the data-directory rule, or from an explicit `--data DIR`.
        Err(
            descent_data::Error::MissingDataset { .. } | descent_data::Error::NotInDataDir { .. },
        ) => digits_split(ctx, n_train, n_test).map(|mut i| {
            i.source = format!("{} ({name} not found)", i.source);
            i
        }),
        Err(e) => Err(e).with_context(|| format!("loading {name}")),
    }
}

/// The embedded UCI digits, shuffled with the run's seed, split into at
/// most `n_train` training and `n_test` test images (test taken first,
/// so both stay disjoint), values scaled to [0, 1].
pub fn digits_split(ctx: &Ctx, n_train: usize, n_test: usize) -> Result<Images> {
    use rand::seq::SliceRandom;
    let all = descent_data::digits::<f32>()?.scaled(1.0 / 16.0);
    let mut order: Vec<usize> = (0..all.len()).collect();
    order.shuffle(&mut rng(ctx.seed, "digits-split"));
    let n_test = n_test.min(all.len() / 3);
    let n_train = n_train.min(all.len() - n_test);
    let test = all.select(&order[..n_test])?;
    let train = all.select(&order[n_test..n_test + n_train])?;
    Ok(Images {
        source: format!(
            "embedded UCI digits: {n_train} training and {n_test} test images (1 × 8 × 8, scaled to [0, 1])"
        ),
        train,
        test,
    })
}

/// A ChaCha8 RNG for `purpose` under `seed`: distinct purposes give
/// independent streams, the same pair always the same one.
pub fn rng(seed: u64, purpose: &str) -> rand_chacha::ChaCha8Rng {
    use rand::SeedableRng;
    // FNV-1a of the purpose, mixed with the seed.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in purpose.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    rand_chacha::ChaCha8Rng::seed_from_u64(h ^ seed.wrapping_mul(0x9e37_79b9_7f4a_7c15))
}
