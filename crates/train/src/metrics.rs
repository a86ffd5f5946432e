//! What a run measured: per-epoch metrics on train, validation and test,
//! the history `Trainer::fit` returns, and its JSON-lines, CSV and table forms.

use crate::Result;
use descent_regularize::{GuardEvent, Instability};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::path::Path;

/// Loss and accuracies of one split in one epoch.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SplitMetrics {
    /// Mean loss over the split's samples.
    pub loss: f64,
    /// Fraction of samples whose top class is the label (classification
    /// only); with [`Loss::PixelCrossEntropy`](crate::Loss::PixelCrossEntropy),
    /// the fraction of scored pixels.
    pub accuracy: Option<f64>,
    /// Fraction of samples whose label is among the `k` top classes.
    pub top_k: Option<f64>,
    /// Mean intersection over union over the classes (per-pixel
    /// classification, evaluation splits only).
    #[serde(default)]
    pub mean_iou: Option<f64>,
}

/// Everything measured in one epoch.
///
/// `train` is the running mean over the epoch's training batches, as they
/// were seen (training mode, augmented), as Keras reports it; `validation`
/// and `test` are full passes in evaluation mode after the epoch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochMetrics {
    /// The epoch (0-based).
    pub epoch: u64,
    /// Optimizer steps completed at the end of the epoch.
    pub step: u64,
    /// The learning rate of the epoch's last step (first parameter group).
    pub lr: f64,
    /// Mean over the epoch's steps of the global L2 norm of the gradient,
    /// before clipping.
    pub grad_norm: f64,
    /// Training metrics.
    pub train: SplitMetrics,
    /// Validation metrics, when a validation set was given.
    pub validation: Option<SplitMetrics>,
    /// Test metrics, when a test set was given.
    pub test: Option<SplitMetrics>,
    /// Seconds spent on the epoch's training batches (not evaluation).
    pub wall_time: f64,
    /// Training samples per second.
    pub samples_per_sec: f64,
}

impl EpochMetrics {
    /// A metric by name: `train_loss`, `val_accuracy`, `test_top_k`, ...
    /// (`val_` and `validation_` both name the validation split).
    pub fn get(&self, name: &str) -> Option<f64> {
        let (split, metric) = name.split_once('_')?;
        let (split, metric) = match (split, metric) {
            ("validation", m) => ("val", m),
            _ => (split, metric),
        };
        let m = match split {
            "train" => Some(&self.train),
            "val" => self.validation.as_ref(),
            "test" => self.test.as_ref(),
            _ => None,
        }?;
        match metric {
            "loss" => Some(m.loss),
            "accuracy" => m.accuracy,
            "top_k" => m.top_k,
            "mean_iou" => m.mean_iou,
            _ => None,
        }
    }

    /// The metrics without wall time and throughput, which differ from run
    /// to run: what an exact resume must reproduce bit for bit.
    pub fn without_timing(&self) -> EpochMetrics {
        EpochMetrics {
            wall_time: 0.0,
            samples_per_sec: 0.0,
            ..self.clone()
        }
    }
}

/// One rollback of the instability guard, as the history records it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rollback {
    /// Optimizer steps completed when the bad loss was observed.
    pub step: u64,
    /// The loss observed; `None` when it was not finite.
    pub loss: Option<f64>,
    /// What was wrong.
    pub kind: Instability,
    /// The optimizer step of the snapshot restored; the lower rate starts there.
    pub restored_step: u64,
    /// The global micro-batch position the run resumed from.
    pub resume_at: u64,
}

impl From<GuardEvent> for Rollback {
    fn from(e: GuardEvent) -> Self {
        Rollback {
            step: e.step,
            loss: e.loss.is_finite().then_some(e.loss),
            kind: e.kind,
            restored_step: e.restored_step,
            resume_at: e.resume_at,
        }
    }
}

/// Why a run ended before its last epoch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stop {
    /// Early stopping: the monitored metric stopped improving (or was not finite).
    EarlyStopping {
        /// The epoch at which it stopped.
        epoch: u64,
        /// The best epoch (restored when `restore_best` is set).
        best_epoch: Option<u64>,
    },
    /// A callback asked to stop.
    Callback {
        /// The epoch.
        epoch: u64,
        /// Micro-batches of that epoch completed.
        batch: u64,
    },
}

/// The record of a run: one entry per completed epoch, rollbacks of the
/// instability guard, and why the run stopped early, if it did.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct History {
    /// Completed epochs, in order.
    pub epochs: Vec<EpochMetrics>,
    /// Every rollback of the instability guard (each lowered the learning rate).
    pub guard_events: Vec<Rollback>,
    /// Why the run stopped before its last epoch.
    pub stopped: Option<Stop>,
    /// The epoch whose parameters the model holds at the end, when early
    /// stopping restored its best epoch.
    pub restored_epoch: Option<u64>,
}

impl History {
    /// The last completed epoch.
    pub fn last(&self) -> Option<&EpochMetrics> {
        self.epochs.last()
    }

    /// The history without timing figures (see [`EpochMetrics::without_timing`]).
    pub fn without_timing(&self) -> History {
        History {
            epochs: self
                .epochs
                .iter()
                .map(EpochMetrics::without_timing)
                .collect(),
            ..self.clone()
        }
    }

    /// The epochs as JSON lines, one object per epoch.
    pub fn to_json_lines(&self) -> String {
        let mut out = String::new();
        for e in &self.epochs {
            out.push_str(&serde_json::to_string(e).expect("metrics serialize"));
            out.push('\n');
        }
        out
    }

    /// The epochs as CSV with a header; absent values are empty cells.
    pub fn to_csv(&self) -> String {
        let mut out = String::from(
            "epoch,step,lr,grad_norm,train_loss,train_accuracy,train_top_k,\
             val_loss,val_accuracy,val_top_k,test_loss,test_accuracy,test_top_k,\
             wall_time,samples_per_sec\n",
        );
        let opt = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
        for e in &self.epochs {
            let split = |m: Option<&SplitMetrics>| {
                format!(
                    "{},{},{}",
                    opt(m.map(|m| m.loss)),
                    opt(m.and_then(|m| m.accuracy)),
                    opt(m.and_then(|m| m.top_k))
                )
            };
            let _ = writeln!(
                out,
                "{},{},{},{},{},{},{},{},{}",
                e.epoch,
                e.step,
                e.lr,
                e.grad_norm,
                split(Some(&e.train)),
                split(e.validation.as_ref()),
                split(e.test.as_ref()),
                e.wall_time,
                e.samples_per_sec
            );
        }
        out
    }

    /// Writes `metrics.jsonl` and `metrics.csv` into `dir`, each atomically,
    /// rewritten whole so a resumed run never leaves lines of a lost future.
    pub fn write(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(|e| crate::Error::io(dir, e))?;
        for (name, text) in [
            ("metrics.jsonl", self.to_json_lines()),
            ("metrics.csv", self.to_csv()),
        ] {
            let path = dir.join(name);
            descent_core::fs::write_atomic(&path, text.as_bytes())
                .map_err(|e| crate::Error::io(&path, e))?;
        }
        Ok(())
    }

    /// A plain-text table of every epoch (the end-of-run summary).
    pub fn summary_table(&self) -> String {
        let pct = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{:.2}%", 100.0 * v));
        let loss = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.4}"));
        let mut out = format!(
            "{:>5} {:>8} {:>10} {:>10} {:>9} {:>10} {:>9} {:>10} {:>9} {:>9}\n",
            "epoch",
            "step",
            "lr",
            "train_loss",
            "train_acc",
            "val_loss",
            "val_acc",
            "test_loss",
            "test_acc",
            "samples/s"
        );
        for e in &self.epochs {
            let _ = writeln!(
                out,
                "{:>5} {:>8} {:>10.3e} {:>10} {:>9} {:>10} {:>9} {:>10} {:>9} {:>9.0}",
                e.epoch + 1,
                e.step,
                e.lr,
                loss(Some(e.train.loss)),
                pct(e.train.accuracy),
                loss(e.validation.as_ref().map(|m| m.loss)),
                pct(e.validation.as_ref().and_then(|m| m.accuracy)),
                loss(e.test.as_ref().map(|m| m.loss)),
                pct(e.test.as_ref().and_then(|m| m.accuracy)),
                e.samples_per_sec
            );
        }
        for ev in &self.guard_events {
            let _ = writeln!(
                out,
                "guard: rolled back at step {} (loss {}) to step {}, learning rate lowered",
                ev.step,
                ev.loss.map_or("not finite".into(), |l| format!("{l:.4e}")),
                ev.restored_step
            );
        }
        match &self.stopped {
            Some(Stop::EarlyStopping { epoch, best_epoch }) => {
                let _ = writeln!(
                    out,
                    "early stopping at epoch {}; best epoch {}",
                    epoch + 1,
                    best_epoch.map_or("-".into(), |b| (b + 1).to_string())
                );
            }
            Some(Stop::Callback { epoch, batch }) => {
                let _ = writeln!(
                    out,
                    "stopped by a callback in epoch {} after batch {batch}",
                    epoch + 1
                );
            }
            None => {}
        }
        if let Some(r) = self.restored_epoch {
            let _ = writeln!(out, "restored the parameters of epoch {}", r + 1);
        }
        out
    }
}

/// Running sums over an epoch's training batches.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Running {
    pub loss_sum: f64,
    pub correct: u64,
    pub correct_k: u64,
    pub seen: u64,
    pub grad_norm_sum: f64,
    pub steps: u64,
    pub last_lr: f64,
    /// Scored pixels seen (per-pixel classification; `correct` then counts
    /// pixels).
    #[serde(default)]
    pub pixels: u64,
}

impl Running {
    pub fn split(&self, classification: bool, top_k: usize) -> SplitMetrics {
        let n = self.seen.max(1) as f64;
        if self.pixels > 0 {
            return SplitMetrics {
                loss: self.loss_sum / n,
                accuracy: Some(self.correct as f64 / self.pixels as f64),
                ..SplitMetrics::default()
            };
        }
        SplitMetrics {
            loss: self.loss_sum / n,
            accuracy: classification.then(|| self.correct as f64 / n),
            top_k: (classification && top_k > 0).then(|| self.correct_k as f64 / n),
            mean_iou: None,
        }
    }
}

/// Counts, for each row of `logits`, whether its label is the top class and
/// whether it is among the `k` top classes (ties counted in the label's favour
/// only when strictly fewer than `k` classes score higher).
pub(crate) fn count_correct<S: descent_core::Scalar>(
    logits: &nalgebra::DMatrix<S>,
    labels: &[usize],
    k: usize,
) -> (u64, u64) {
    let (mut top1, mut topk) = (0, 0);
    for (i, &y) in labels.iter().enumerate() {
        let row = logits.row(i);
        let target = row[y].as_f64();
        let above = row.iter().filter(|v| v.as_f64() > target).count();
        let first = row
            .iter()
            .enumerate()
            .fold((0, f64::NEG_INFINITY), |best, (j, v)| {
                if v.as_f64() > best.1 {
                    (j, v.as_f64())
                } else {
                    best
                }
            })
            .0;
        top1 += u64::from(first == y);
        topk += u64::from(above < k);
    }
    (top1, topk)
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::DMatrix;

    #[test]
    fn top1_takes_the_first_maximum_and_top_k_counts_ranks() {
        let z = DMatrix::from_row_slice(3, 3, &[0.1, 0.9, 0.5, 1.0, 1.0, 0.0, 0.0, 0.2, 0.1]);
        let (t1, t2) = count_correct(&z, &[1, 1, 0], 2);
        // row 0: label 1 is max; row 1: tie, argmax is 0, label 1 is top-2; row 2: label 0 is last
        assert_eq!((t1, t2), (1, 2));
    }

    #[test]
    fn metrics_are_found_by_name() {
        let e = EpochMetrics {
            epoch: 0,
            step: 1,
            lr: 0.1,
            grad_norm: 1.0,
            train: SplitMetrics {
                loss: 0.5,
                accuracy: Some(0.9),
                top_k: None,
                mean_iou: None,
            },
            validation: Some(SplitMetrics {
                loss: 0.7,
                accuracy: Some(0.8),
                top_k: Some(1.0),
                mean_iou: None,
            }),
            test: None,
            wall_time: 1.0,
            samples_per_sec: 10.0,
        };
        assert_eq!(e.get("val_loss"), Some(0.7));
        assert_eq!(e.get("validation_accuracy"), Some(0.8));
        assert_eq!(e.get("train_accuracy"), Some(0.9));
        assert_eq!(e.get("test_loss"), None);
        assert_eq!(e.get("nonsense"), None);
        let h = History {
            epochs: vec![e],
            ..History::default()
        };
        assert_eq!(h.to_csv().lines().count(), 2);
        assert!(h.summary_table().contains("90.00%"));
    }
}
