//! Which parity test checks which golden case.
//!
//! A case is told apart by its file's `kind` and, within a kind, by one
//! field (`fn`, `layer`, `optimizer`, `scheduler`). [`ROUTES`] lists every
//! value some parity test checks and which tests check it. [`cases`] hands
//! a test its cases and fails, in every test, on a file kind or a value no
//! test checks: an unrecognised case is a failure, never a skip.

use super::{File, load_all};
use serde_json::Value;
use std::collections::BTreeSet;

/// A parity test over the golden files.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Harness {
    /// `descent-autodiff`'s `tests/golden_parity.rs`: losses and the layers
    /// that are single tape ops.
    Autodiff,
    /// `descent-nn`'s `tests/golden_batch_norm.rs`.
    BatchNorm,
    /// `descent-optim`'s `tests/parity.rs`: PyTorch's optimizers and clipping.
    Optim,
    /// `descent-optim`'s `tests/parity_optax.rs`: optax's optimizers.
    Optax,
    /// `descent-schedule`'s `tests/golden.rs`: schedulers, and the learning
    /// rates of training cases.
    Schedule,
    /// The root `tests/golden_training.rs`: whole training runs.
    Training,
    /// `descent-optim`'s `tests/scheduled_golden.rs`: every scheduler
    /// driving a running SGD's rate and momentum.
    ScheduledSgd,
    /// `descent-augment`'s `tests/golden_augment.rs`: torchvision's
    /// functional image ops.
    Augment,
    /// `descent-nn`'s `tests/golden_averaging.rs`: `AveragedModel` and `update_bn`.
    Averaging,
}

/// One row of [`ROUTES`].
#[derive(Debug)]
pub struct Route {
    /// The file kind (`kind` at the top of the file).
    pub kind: &'static str,
    /// The case field that names what the case checks; `None` when every
    /// case of the kind goes to the same tests.
    pub field: Option<&'static str>,
    /// The values of `field` this row covers.
    pub values: &'static [&'static str],
    /// The tests that check these cases.
    pub harnesses: &'static [Harness],
}

/// Every kind of case some parity test checks. A new value in a golden file
/// (a new optimizer, say) fails every parity test until a row here and an
/// arm in its test handle it.
pub const ROUTES: &[Route] = &[
    Route {
        kind: "optimizers",
        field: Some("optimizer"),
        values: &[
            "SGD", "Adagrad", "RMSprop", "Adam", "AdamW", "NAdam", "RAdam", "Adamax", "Adadelta",
        ],
        harnesses: &[Harness::Optim],
    },
    // optax 0.2.8's names (`optimizers_optax.json`): those the optax table builds.
    Route {
        kind: "optimizers",
        field: Some("optimizer"),
        values: crate::optax::NAMES,
        harnesses: &[Harness::Optax],
    },
    // PyTorch 2.15's newer optimizers (`optimizers_torch2.json`).
    Route {
        kind: "optimizers",
        field: Some("optimizer"),
        values: &["Rprop", "ASGD", "Adafactor", "Muon", "LBFGS"],
        harnesses: &[Harness::Optim],
    },
    Route {
        kind: "clipping",
        field: Some("fn"),
        values: &["clip_grad_norm_", "clip_grad_value_"],
        harnesses: &[Harness::Optim],
    },
    Route {
        kind: "schedulers",
        field: Some("scheduler"),
        values: &[
            "StepLR",
            "MultiStepLR",
            "ExponentialLR",
            "CosineAnnealingLR",
            "CosineAnnealingWarmRestarts",
            "LinearLR",
            "ConstantLR",
            "PolynomialLR",
            "OneCycleLR",
            "CyclicLR",
            "SequentialLR",
            "ChainedScheduler",
            "ReduceLROnPlateau",
        ],
        harnesses: &[Harness::Schedule, Harness::ScheduledSgd],
    },
    Route {
        kind: "losses",
        field: Some("fn"),
        values: &[
            "cross_entropy",
            "mse_loss",
            "l1_loss",
            "binary_cross_entropy_with_logits",
            "log_softmax",
            "softmax",
        ],
        harnesses: &[Harness::Autodiff],
    },
    Route {
        kind: "layers",
        field: Some("layer"),
        values: &[
            "Linear",
            "Conv2d",
            "MaxPool2d",
            "AvgPool2d",
            "ReLU",
            "Tanh",
            "Sigmoid",
            "GELU",
        ],
        harnesses: &[Harness::Autodiff],
    },
    Route {
        kind: "layers",
        field: Some("layer"),
        values: &["BatchNorm1d", "BatchNorm2d"],
        harnesses: &[Harness::BatchNorm],
    },
    Route {
        kind: "augment",
        field: Some("op"),
        values: &[
            "hflip",
            "vflip",
            "rotate",
            "affine",
            "resized_crop",
            "pad",
            "center_crop",
            "adjust_brightness",
            "adjust_contrast",
            "adjust_saturation",
            "adjust_hue",
            "rgb_to_grayscale",
            "gaussian_blur",
            "posterize",
            "solarize",
            "equalize",
            "autocontrast",
            "adjust_sharpness",
            "invert",
            "erase",
            "perspective",
            "elastic",
        ],
        harnesses: &[Harness::Augment],
    },
    Route {
        kind: "averaging",
        field: Some("type"),
        values: &["averaged_model", "update_bn"],
        harnesses: &[Harness::Averaging],
    },
    Route {
        kind: "averaging",
        field: Some("type"),
        values: &["swalr"],
        harnesses: &[Harness::Schedule],
    },
    Route {
        kind: "training",
        field: None,
        values: &[],
        harnesses: &[Harness::Training, Harness::Schedule],
    },
];

/// A golden case handed to a parity test.
#[derive(Clone, Debug)]
pub struct Case {
    /// The file it came from, e.g. `losses.json`.
    pub file: String,
    /// The file's kind.
    pub kind: String,
    /// The case's `name`.
    pub name: String,
    /// The value of its route's field (`"Adam"`, `"cross_entropy"`), or the
    /// kind when the route has no field.
    pub what: String,
    /// The case object.
    pub value: Value,
}

impl Case {
    /// `file / name (what)`, for messages.
    pub fn at(&self) -> String {
        format!("{} / {} ({})", self.file, self.name, self.what)
    }
}

/// The cases of the golden directory that `harness` checks.
///
/// Fails when the directory is unreadable, when a file's kind or a case's
/// field value has no row in [`ROUTES`], when a case has no name or repeats
/// one, and when a kind `harness` checks has no file: a parity test never
/// passes by skipping or reading nothing.
pub fn cases(harness: Harness) -> Result<Vec<Case>, String> {
    route(&load_all()?, harness)
}

/// [`cases`] over already loaded files.
pub fn route(files: &[File], harness: Harness) -> Result<Vec<Case>, String> {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    let mut kinds_seen = BTreeSet::new();
    for file in files {
        let rows: Vec<&Route> = ROUTES.iter().filter(|r| r.kind == file.kind).collect();
        if rows.is_empty() {
            problems.push(format!(
                "{}: kind `{}` is checked by no parity test",
                file.file_name, file.kind
            ));
            continue;
        }
        kinds_seen.insert(file.kind.as_str());
        let mut names = BTreeSet::new();
        for (i, case) in file.cases.iter().enumerate() {
            let Some(name) = case.get("name").and_then(Value::as_str) else {
                problems.push(format!("{}: case {i} has no `name`", file.file_name));
                continue;
            };
            if !names.insert(name) {
                problems.push(format!("{}: case name `{name}` repeats", file.file_name));
            }
            match pick(&rows, case) {
                Ok((row, what)) => {
                    if row.harnesses.contains(&harness) {
                        out.push(Case {
                            file: file.file_name.clone(),
                            kind: file.kind.clone(),
                            name: name.to_owned(),
                            what,
                            value: case.clone(),
                        });
                    }
                }
                Err(e) => problems.push(format!("{} / {name}: {e}", file.file_name)),
            }
        }
    }
    for kind in ROUTES
        .iter()
        .filter(|r| r.harnesses.contains(&harness))
        .map(|r| r.kind)
        .collect::<BTreeSet<_>>()
    {
        if !kinds_seen.contains(kind) {
            problems.push(format!(
                "no golden file of kind `{kind}` in {}",
                super::dir().display()
            ));
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(format!(
            "{} problem(s) in the golden files:\n  {}",
            problems.len(),
            problems.join("\n  ")
        ))
    }
}

/// The row of `rows` (all of one kind) that covers `case`, and its value.
fn pick<'r>(rows: &[&'r Route], case: &Value) -> Result<(&'r Route, String), String> {
    let field = match rows[0].field {
        None => return Ok((rows[0], rows[0].kind.to_owned())),
        Some(f) => f,
    };
    let value = case
        .get(field)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("no string `{field}`"))?;
    rows.iter()
        .find(|r| r.values.contains(&value))
        .map(|r| (*r, value.to_owned()))
        .ok_or_else(|| format!("`{field}` = {value:?} is checked by no parity test"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn file(kind: &str, cases: Vec<Value>) -> File {
        File {
            file_name: format!("{kind}.json"),
            kind: kind.to_owned(),
            cases,
        }
    }

    fn all_kinds() -> Vec<File> {
        let mut kinds: Vec<&str> = ROUTES.iter().map(|r| r.kind).collect();
        kinds.dedup();
        kinds.into_iter().map(|k| file(k, vec![])).collect()
    }

    #[test]
    fn cases_go_to_the_harness_of_their_row() {
        let mut files = all_kinds();
        files.push(file(
            "layers",
            vec![
                json!({"name": "a", "layer": "Linear"}),
                json!({"name": "b", "layer": "BatchNorm2d"}),
            ],
        ));
        let bn = route(&files, Harness::BatchNorm).unwrap();
        assert_eq!(bn.len(), 1);
        assert_eq!(
            (bn[0].name.as_str(), bn[0].what.as_str()),
            ("b", "BatchNorm2d")
        );
        assert_eq!(route(&files, Harness::Autodiff).unwrap()[0].name, "a");
    }

    #[test]
    fn an_unknown_value_or_kind_fails_every_harness() {
        let mut files = all_kinds();
        files.push(file(
            "optimizers",
            vec![json!({"name": "x", "optimizer": "Lion"})],
        ));
        for h in [Harness::Optim, Harness::Training] {
            let e = route(&files, h).unwrap_err();
            assert!(e.contains("Lion"), "{e}");
        }
        let mut files = all_kinds();
        files.push(file("mystery", vec![json!({"name": "x"})]));
        assert!(
            route(&files, Harness::Optim)
                .unwrap_err()
                .contains("mystery")
        );
        let mut files = all_kinds();
        files.push(file("losses", vec![json!({"name": "x"})]));
        assert!(route(&files, Harness::Optim).unwrap_err().contains("`fn`"));
    }

    #[test]
    fn a_missing_kind_or_a_repeated_name_fails() {
        let files: Vec<File> = all_kinds()
            .into_iter()
            .filter(|f| f.kind != "clipping")
            .collect();
        assert!(
            route(&files, Harness::Optim)
                .unwrap_err()
                .contains("clipping")
        );
        assert!(route(&files, Harness::Autodiff).is_ok());
        let mut files = all_kinds();
        let case = json!({"name": "x", "fn": "softmax"});
        files.push(file("losses", vec![case.clone(), case]));
        assert!(
            route(&files, Harness::Autodiff)
                .unwrap_err()
                .contains("repeats")
        );
    }
}
