//! End-to-end parity with PyTorch: every case of `training.json` in the
//! golden directory trains a small classifier here through descent-train's
//! `Trainer` — descent-nn layers, the tape's cross-entropy,
//! descent-regularize penalties, clipping, a descent-optim optimizer and a
//! descent-schedule scheduler as its learning-rate source — and must follow
//! PyTorch's losses, learning rates, final parameters and running statistics.
//!
//! Everything is built from the case's specs and `hyper` objects (never its
//! name), with the same PyTorch-name builders the optim and schedule golden
//! tests use (`descent_testkit::torch`); a field, layer, hyperparameter or
//! value this test does not read fails the case. Tolerance: relative 1e-9;
//! cases with a BatchNorm1d layer also allow 1e-8 absolute, as FORMAT.md
//! asks (a bias feeding batch norm has a round-off gradient that
//! Adam-family optimizers amplify), and the others none.

use descent_data::InMemory;
use descent_nn::{
    BatchNorm1d, BatchNormConfig, Builder, Linear, LinearConfig, ModelState, Relu, Sequential, Tanh,
};
use descent_optim::Selector;
use descent_optim::transform::NormType;
use descent_regularize::{L1, L2};
use descent_testkit::golden::{self, Harness, Tensor};
use descent_testkit::torch::{self, Built};
use descent_testkit::{Hyper, assert_close};
use descent_train::{
    BatchInfo, Callback, Clip, Control, Data, Loss, PlateauFeed, Progress, TrainConfig, Trainer,
};
use nalgebra::DMatrix;
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;
use serde_json::Value;
use std::sync::{Arc, Mutex};

const RTOL: f64 = 1e-9;

#[test]
fn every_training_case_follows_pytorch() {
    let cases = golden::cases(Harness::Training).unwrap_or_else(|e| panic!("{e}"));
    let mut failures = Vec::new();
    for case in &cases {
        if let Err(e) = run_case(&case.value) {
            failures.push(format!("{}: {e}", case.at()));
        }
    }
    println!(
        "checked {} training cases, {} failed",
        cases.len(),
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn num(v: &Value, what: &str) -> Result<f64, String> {
    golden::number(v).ok_or_else(|| format!("`{what}` is not a number"))
}

fn count(v: &Value, what: &str) -> Result<usize, String> {
    v.as_u64()
        .map(|n| n as usize)
        .ok_or_else(|| format!("`{what}` is not a count"))
}

/// A class target: a whole number, not PyTorch's `ignore_index` (unsupported).
fn class_index(v: f64, ignore_index: f64) -> Result<usize, String> {
    if v == ignore_index {
        Err(format!("unsupported: a target uses ignore_index {v}"))
    } else if v >= 0.0 && v.fract() == 0.0 {
        Ok(v as usize)
    } else {
        Err(format!("target {v} is not a class index"))
    }
}

fn matrix(v: &Value, what: &str) -> Result<DMatrix<f64>, String> {
    Tensor::parse(v)
        .map(|t| t.matrix())
        .map_err(|e| format!("{what}: {e}"))
}

/// The model of `specs`, with the recorded initial weights; returns whether
/// it has a batch-norm layer.
fn build_model(
    specs: &[Value],
    state: &mut ModelState<f64>,
) -> Result<(Sequential<f64>, bool), String> {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let mut model = Sequential::new();
    let mut has_bn = false;
    {
        let mut b = Builder::new(state, &mut rng);
        for (i, spec) in specs.iter().enumerate() {
            let h = Hyper::named(spec, format!("model[{i}]"))?;
            match h.str("layer")? {
                "Linear" => {
                    let cfg = LinearConfig::new(h.usize("in")?, h.usize("out")?);
                    h.get("weight")?;
                    h.get("bias")?;
                    model
                        .add(&mut b, |b| Linear::new(b, cfg))
                        .map_err(|e| e.to_string())?;
                }
                "BatchNorm1d" => {
                    has_bn = true;
                    let cfg = BatchNormConfig {
                        num_features: h.usize("num_features")?,
                        eps: h.f64("eps")?,
                        momentum: h.opt_f64("momentum")?,
                        affine: h.bool("affine")?,
                        track_running_stats: h.bool("track_running_stats")?,
                    };
                    h.get("weight")?;
                    h.get("bias")?;
                    model
                        .add(&mut b, |b| BatchNorm1d::new(b, cfg))
                        .map_err(|e| e.to_string())?;
                }
                "ReLU" => {
                    model.push(Relu);
                }
                "Tanh" => {
                    model.push(Tanh);
                }
                other => return Err(format!("unsupported layer `{other}`")),
            }
            h.finish()?;
        }
    }
    for (i, spec) in specs.iter().enumerate() {
        for field in ["weight", "bias"] {
            if spec.get(field).is_some_and(|v| !v.is_null()) {
                let id = state
                    .params
                    .require(&format!("{i}.{field}"))
                    .map_err(|e| e.to_string())?;
                let value = matrix(&spec[field], field)?;
                state
                    .params
                    .params_mut()
                    .set_value(id, value)
                    .map_err(|e| e.to_string())?;
            }
        }
    }
    Ok((model, has_bn))
}

/// The trainer with the case's l1 and l2 terms added as penalties.
fn with_penalties(
    case: &Value,
    mut trainer: Trainer<f64, Sequential<f64>>,
) -> Result<Trainer<f64, Sequential<f64>>, String> {
    let l1 = num(&case["l1"], "l1")?;
    if l1 > 0.0 {
        trainer = trainer.with_penalty(L1::new(l1).map_err(|e| e.to_string())?);
    }
    let l2 = num(&case["l2"], "l2")?;
    if l2 > 0.0 {
        let penalty = L2::new(l2).map_err(|e| e.to_string())?;
        trainer = match case["l2_applies_to"].as_str() {
            Some("weights") => trainer.with_penalty(penalty),
            Some("all") => trainer.with_penalty(penalty.with_selector(Selector::All)),
            other => return Err(format!("unsupported l2_applies_to {other:?}")),
        };
    } else if !case["l2_applies_to"].is_string() {
        return Err("`l2_applies_to` is not a string".into());
    }
    Ok(trainer)
}

/// Records each optimizer step's loss (penalties included) and rate.
struct Record(Arc<Mutex<(Vec<f64>, Vec<f64>)>>);

impl Callback for Record {
    fn on_batch_end(&mut self, info: &BatchInfo) -> Control {
        if let Some(loss) = info.step_loss {
            let mut r = self.0.lock().unwrap();
            r.0.push(loss);
            r.1.push(info.lr);
        }
        Control::Continue
    }
}

/// Installs the case's scheduler as the optimizer's learning-rate source
/// (and momentum source, for schedulers that cycle momentum): PyTorch's
/// schedulers give absolute rates, as descent's do, so the optimizer uses
/// them as they are. Returns whether it is a plateau schedule
/// (fed each step's loss).
fn install_scheduler(
    case: &Value,
    base_lr: f64,
    opt: &mut descent_optim::Optimizer<f64>,
) -> Result<bool, String> {
    let spec = &case["scheduler"];
    if spec.is_null() {
        return Ok(false);
    }
    let spec = Hyper::named(spec, "scheduler")?;
    let name = spec.str("scheduler")?;
    let built = torch::scheduler(name, spec.get("hyper")?, base_lr)?;
    spec.finish()?;
    match built {
        Built::Pure { lr, momentum } => {
            opt.set_lr_schedule(lr);
            // OneCycleLR and CyclicLR drive the optimizer's momentum (or β₁)
            // too, when their momentum cycling is on.
            if let Some(m) = momentum.filter(|m| m(0).is_some()) {
                opt.set_momentum_schedule(move |t: u64| m(t).unwrap_or(f64::NAN))
                    .map_err(|e| e.to_string())?;
            }
            Ok(false)
        }
        Built::Plateau(p) => {
            opt.set_lr_plateau(p);
            Ok(true)
        }
    }
}

/// The fields of a training case (FORMAT.md); any other fails the case.
const FIELDS: [&str; 14] = [
    "name",
    "model",
    "loss",
    "l1",
    "l2",
    "l2_applies_to",
    "optimizer",
    "scheduler",
    "clip_grad_norm",
    "batches",
    "losses",
    "lrs",
    "final_params",
    "final_running_stats",
];

fn run_case(case: &Value) -> Result<(), String> {
    let fields = Hyper::named(case, "case")?;
    for f in FIELDS {
        fields.get(f)?;
    }
    fields.finish()?;
    let specs = case["model"].as_array().ok_or("no `model` list")?;
    let mut state = ModelState::<f64>::new();
    let (model, has_bn) = build_model(specs, &mut state)?;
    let atol = if has_bn { 1e-8 } else { 0.0 };

    let loss = Hyper::named(&case["loss"], "loss")?;
    loss.expect("fn", "cross_entropy")?;
    let (label_smoothing, ignore_index) = Hyper::read(loss.get("hyper")?, |h| {
        h.null("weight")?;
        h.expect("reduction", "mean")?;
        Ok((h.f64("label_smoothing")?, h.f64("ignore_index")?))
    })?;
    loss.finish()?;

    let optimizer = Hyper::named(&case["optimizer"], "optimizer")?;
    let class = optimizer.str("optimizer")?;
    let mut opt = torch::optimizer(&state.params, class, optimizer.get("hyper")?)?;
    optimizer.finish()?;
    let base_lr = num(&case["optimizer"]["hyper"]["lr"], "lr")?;
    let plateau = install_scheduler(case, base_lr, &mut opt)?;
    let clip = match &case["clip_grad_norm"] {
        Value::Null => None,
        v => Some(Clip::Norm {
            max_norm: num(v, "clip_grad_norm")?,
            norm_type: NormType::L2,
        }),
    };

    // The batches, in order, as one dataset walked without shuffling.
    let batches = case["batches"].as_array().ok_or("no `batches`")?;
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    for batch in batches {
        xs.push(matrix(&batch["x"], "x")?);
        for &v in &Tensor::parse(&batch["y"]).map_err(|e| e.to_string())?.data {
            ys.push(class_index(v, ignore_index)?);
        }
    }
    let batch_size = xs.first().ok_or("no batches")?.nrows();
    if xs.iter().any(|x| x.nrows() != batch_size) {
        return Err("batches of different sizes".into());
    }
    let n_features = xs[0].ncols();
    let x = DMatrix::from_fn(ys.len(), n_features, |i, j| {
        xs[i / batch_size][(i % batch_size, j)]
    });
    let n_classes = state
        .params
        .params()
        .iter()
        .last()
        .map(|(_, meta, _)| meta.shape.1)
        .ok_or("no parameters")?;
    let data = InMemory::classification(x, ys, n_classes).map_err(|e| e.to_string())?;

    let record = Arc::new(Mutex::new((Vec::new(), Vec::new())));
    let config = TrainConfig {
        epochs: 1,
        batch_size,
        shuffle: false,
        clip,
        top_k: 0,
        progress: Progress::Quiet,
        ..TrainConfig::default()
    };
    let mut trainer = Trainer::new(
        model,
        state,
        opt,
        Loss::CrossEntropy { label_smoothing },
        config,
    )
    .map_err(|e| e.to_string())?
    .with_callback(Record(record.clone()));
    trainer = with_penalties(case, trainer)?;
    if plateau {
        trainer = trainer.with_plateau(PlateauFeed::StepLoss);
    }
    trainer.fit(Data::train(&data)).map_err(|e| e.to_string())?;
    let (losses, used_lrs) = record.lock().unwrap().clone();
    let state = trainer.state();

    let row = |v: &[f64]| DMatrix::from_row_slice(1, v.len(), v);
    let want = |k: &str| -> Result<Vec<f64>, String> {
        case[k]
            .as_array()
            .ok_or(format!("no `{k}`"))?
            .iter()
            .map(|v| num(v, k))
            .collect()
    };
    assert_close("losses", &row(&losses), &row(&want("losses")?), RTOL, atol)?;
    assert_close("lrs", &row(&used_lrs), &row(&want("lrs")?), RTOL, 0.0)?;

    let mut finals = case["final_params"]
        .as_array()
        .ok_or("no `final_params`")?
        .iter();
    for (i, spec) in specs.iter().enumerate() {
        for field in ["weight", "bias"] {
            if spec.get(field).is_some_and(|v| !v.is_null()) {
                let id = state
                    .params
                    .require(&format!("{i}.{field}"))
                    .map_err(|e| e.to_string())?;
                let expected =
                    matrix(finals.next().ok_or("too few final_params")?, "final_params")?;
                assert_close(
                    &format!("final {i}.{field}"),
                    state.params.value(id),
                    &expected,
                    RTOL,
                    atol,
                )?;
            }
        }
    }
    if finals.next().is_some() {
        return Err("more final_params than model parameters".into());
    }
    for stats in case["final_running_stats"]
        .as_array()
        .ok_or("no `final_running_stats`")?
    {
        let i = count(&stats["layer_index"], "layer_index")?;
        for field in ["running_mean", "running_var"] {
            let id = state
                .buffers
                .id(&format!("{i}.{field}"))
                .ok_or(format!("no buffer {i}.{field}"))?;
            assert_close(
                &format!("{i}.{field}"),
                state.buffers.tensor(id),
                &matrix(&stats[field], field)?,
                RTOL,
                atol,
            )?;
        }
        let id = state
            .buffers
            .id(&format!("{i}.num_batches_tracked"))
            .ok_or("no num_batches_tracked")?;
        let (got, want) = (
            state.buffers.count(id),
            count(&stats["num_batches_tracked"], "num_batches_tracked")?,
        );
        if got != want as i64 {
            return Err(format!("{i}.num_batches_tracked is {got}, expected {want}"));
        }
    }
    Ok(())
}
