//! Progress output: an indicatif bar per epoch on a terminal, one plain line
//! per epoch otherwise, or nothing.

use crate::metrics::EpochMetrics;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;

/// How a run shows its progress.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Progress {
    /// A bar when stdout is a terminal, plain lines otherwise (the default).
    #[default]
    Auto,
    /// Always a bar (drawn on stderr).
    Bar,
    /// One line per epoch on stdout.
    Plain,
    /// Nothing.
    Quiet,
}

pub(crate) struct Reporter {
    mode: Progress,
    bar: Option<ProgressBar>,
}

impl Reporter {
    pub fn new(mode: Progress) -> Self {
        let mode = match mode {
            Progress::Auto if std::io::stdout().is_terminal() => Progress::Bar,
            Progress::Auto => Progress::Plain,
            m => m,
        };
        Reporter { mode, bar: None }
    }

    pub fn start_epoch(&mut self, epoch: u64, epochs: u64, n_batches: u64, done: u64) {
        if self.mode != Progress::Bar {
            return;
        }
        let bar = ProgressBar::new(n_batches);
        bar.set_style(
            ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {msg} eta {eta}")
                .expect("valid template")
                .progress_chars("=> "),
        );
        bar.set_prefix(format!("epoch {}/{}", epoch + 1, epochs));
        bar.set_position(done);
        self.bar = Some(bar);
    }

    pub fn batch(&mut self, loss: f64, accuracy: Option<f64>, lr: f64) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
            let acc = accuracy.map_or(String::new(), |a| format!(" acc {:.2}%", 100.0 * a));
            bar.set_message(format!("loss {loss:.4}{acc} lr {lr:.3e}"));
        }
    }

    pub fn end_epoch(&mut self, m: &EpochMetrics, epochs: u64) {
        let line = epoch_line(m, epochs);
        match self.mode {
            Progress::Bar => {
                if let Some(bar) = self.bar.take() {
                    bar.finish_and_clear();
                }
                eprintln!("{line}");
            }
            Progress::Plain => println!("{line}"),
            _ => {}
        }
    }

    pub fn message(&self, text: &str) {
        match self.mode {
            Progress::Bar => match &self.bar {
                Some(bar) => bar.println(text),
                None => eprintln!("{text}"),
            },
            Progress::Plain => println!("{text}"),
            _ => {}
        }
    }

    pub fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

fn epoch_line(m: &EpochMetrics, epochs: u64) -> String {
    let acc = |a: Option<f64>| a.map_or(String::new(), |a| format!(" acc {:.2}%", 100.0 * a));
    let mut line = format!(
        "epoch {}/{}: train loss {:.4}{}",
        m.epoch + 1,
        epochs,
        m.train.loss,
        acc(m.train.accuracy)
    );
    if let Some(v) = &m.validation {
        line += &format!(", val loss {:.4}{}", v.loss, acc(v.accuracy));
    }
    if let Some(t) = &m.test {
        line += &format!(", test loss {:.4}{}", t.loss, acc(t.accuracy));
    }
    line += &format!(
        ", lr {:.3e}, {:.1} s, {:.0} samples/s",
        m.lr, m.wall_time, m.samples_per_sec
    );
    line
}
