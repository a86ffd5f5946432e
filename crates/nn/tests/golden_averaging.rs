//! Golden parity of weight averaging with PyTorch 2.15
//! (`torch.optim.swa_utils`): every `averaged_model` and `update_bn` case of
//! every golden file (`$DESCENT_GOLDEN_DIR`, default the repository's
//! `tests/golden/`), in f64.
//!
//! - `averaged_model`: the model is built from its layer specs, each
//!   snapshot is loaded into it and `AveragedModel::update_parameters` is
//!   called; the averaged parameters, buffers and `n_averaged` must match
//!   after every call (relative 1e-12, absolute floor 1e-15; counts exactly).
//! - `update_bn`: the model is built with its recorded values and stale
//!   statistics, `update_bn` runs over the batches, and every batch norm's
//!   running statistics, count and restored momentum must match (relative
//!   1e-9, the batch-norm parity tolerance).
//!
//! Cases come from `descent_testkit::golden::cases`, which fails on any case
//! no parity test recognises; they are read through their fields, never by
//! name, and a layer-spec or `hyper` key this test does not read fails it.

use descent_nn::{
    AveragedModel, AveragedModelConfig, AvgFn, BatchNorm1d, BatchNormConfig, Buffer, Builder,
    Linear, LinearConfig, ModelState, Module, Relu, Sequential, update_bn,
};
use descent_testkit::golden::{self, Harness, Tensor};
use descent_testkit::{Hyper, assert_close};
use nalgebra::DMatrix;
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;
use serde_json::Value;

#[test]
fn every_golden_averaging_case_matches_pytorch() {
    let cases = golden::cases(Harness::Averaging).unwrap_or_else(|e| panic!("{e}"));
    let mut failures = Vec::new();
    for case in &cases {
        let result = match case.what.as_str() {
            "averaged_model" => averaged_model(&case.value),
            "update_bn" => update_bn_case(&case.value),
            other => Err(format!("routed here, but no arm checks `{other}`")),
        };
        if let Err(e) = result {
            failures.push(format!("{}: {e}", case.at()));
        }
    }
    println!(
        "checked {} golden averaging cases, {} failed",
        cases.len(),
        failures.len()
    );
    assert!(!cases.is_empty(), "no averaging cases");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn tensor(v: &Value) -> Result<Tensor, String> {
    Tensor::parse(v)
}

/// A model, its state, and the spec index of each batch norm.
type Built = (Sequential<f64>, ModelState<f64>, Vec<usize>);

/// A model from layer specs; with `values`, each layer's recorded tensors
/// (and batch norms' stale statistics) are loaded. Returns the model, its
/// state and each batch norm's index in the spec list.
fn build(specs: &Value, values: bool) -> Result<Built, String> {
    let specs = specs.as_array().ok_or("`model` is not a list")?;
    let mut state = ModelState::new();
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let mut model = Sequential::new();
    let mut bn_layers = Vec::new();
    for (i, spec) in specs.iter().enumerate() {
        let h = Hyper::named(spec, format!("model[{i}]"))?;
        let layer = h.str("layer")?;
        let mut b = Builder::new(&mut state, &mut rng);
        let mut loads: Vec<(&str, Tensor)> = Vec::new();
        let mut count = None;
        match layer {
            "Linear" => {
                let cfg = LinearConfig::new(h.usize("in")?, h.usize("out")?);
                model
                    .add(&mut b, |b| Linear::new(b, cfg))
                    .map_err(|e| e.to_string())?;
                if values {
                    loads.push(("weight", tensor(h.get("weight")?)?));
                    loads.push(("bias", tensor(h.get("bias")?)?));
                }
            }
            "BatchNorm1d" => {
                let cfg = BatchNormConfig {
                    eps: h.f64("eps")?,
                    momentum: h.opt_f64("momentum")?,
                    affine: h.bool("affine")?,
                    track_running_stats: h.bool("track_running_stats")?,
                    ..BatchNormConfig::new(h.usize("num_features")?)
                };
                model
                    .add(&mut b, |b| BatchNorm1d::new(b, cfg))
                    .map_err(|e| e.to_string())?;
                bn_layers.push(i);
                if values {
                    if cfg.affine {
                        loads.push(("weight", tensor(h.get("weight")?)?));
                        loads.push(("bias", tensor(h.get("bias")?)?));
                    }
                    if cfg.track_running_stats {
                        loads.push(("running_mean", tensor(h.get("running_mean")?)?));
                        loads.push(("running_var", tensor(h.get("running_var")?)?));
                        count = Some(h.i64("num_batches_tracked")?);
                    }
                }
            }
            "ReLU" => {
                model.push(Relu);
            }
            other => return Err(format!("unsupported layer `{other}`")),
        }
        h.finish()?;
        for (field, t) in loads {
            put(&mut state, &format!("{i}.{field}"), &t)?;
        }
        if let Some(n) = count {
            let id = state
                .buffers
                .id(&format!("{i}.num_batches_tracked"))
                .ok_or("no count")?;
            *state.buffers.count_mut(id) = n;
        }
    }
    Ok((model, state, bn_layers))
}

/// Writes `t` into the parameter or buffer `name`.
fn put(state: &mut ModelState<f64>, name: &str, t: &Tensor) -> Result<(), String> {
    if let Some(id) = state.params.id(name) {
        let m = t.to_matrix(state.params.meta(id).shape.0, state.params.meta(id).shape.1);
        return state
            .params
            .params_mut()
            .set_value(id, m)
            .map_err(|e| e.to_string());
    }
    let id = state
        .buffers
        .id(name)
        .ok_or(format!("no tensor `{name}`"))?;
    match state.buffers.get_mut(id) {
        Buffer::Tensor(m) if m.len() == t.data.len() => {
            let (r, c) = m.shape();
            m.copy_from(&DMatrix::from_row_slice(r, c, &t.data));
            Ok(())
        }
        Buffer::Count(n) if t.shape.is_empty() => {
            *n = t.data[0] as i64;
            Ok(())
        }
        _ => Err(format!("`{name}` does not take shape {:?}", t.shape)),
    }
}

fn names(v: &Value, field: &str) -> Result<Vec<String>, String> {
    v[field]
        .as_array()
        .ok_or(format!("no `{field}`"))?
        .iter()
        .map(|n| {
            n.as_str()
                .map(str::to_owned)
                .ok_or(format!("`{field}` holds {n}"))
        })
        .collect()
}

fn avg_fn(h: &Hyper) -> Result<AvgFn, String> {
    let spec = |key: &str| -> Result<Option<(String, Option<f64>)>, String> {
        let v = h.get(key)?;
        if v.is_null() {
            return Ok(None);
        }
        Hyper::read(v, |f| {
            let name = f.str("fn")?.to_owned();
            let decay = if f.has("decay") {
                Some(f.f64("decay")?)
            } else {
                None
            };
            Ok(Some((name, decay)))
        })
    };
    match (spec("avg_fn")?, spec("multi_avg_fn")?) {
        (None, None) => Ok(AvgFn::Swa),
        (Some((f, Some(decay))), None) if f == "get_ema_avg_fn" => Ok(AvgFn::Ema { decay }),
        (None, Some((f, None))) if f == "get_swa_multi_avg_fn" => Ok(AvgFn::SwaMulti),
        (None, Some((f, Some(decay)))) if f == "get_ema_multi_avg_fn" => {
            Ok(AvgFn::EmaMulti { decay })
        }
        (a, m) => Err(format!("unsupported avg_fn {a:?} / multi_avg_fn {m:?}")),
    }
}

/// Compares a state's parameters and buffers with `{"params", "buffers"}`.
fn compare(
    state: &ModelState<f64>,
    param_names: &[String],
    buffer_names: &[String],
    want: &Value,
) -> Result<(), String> {
    let params = want["params"].as_array().ok_or("no `params`")?;
    let buffers = want["buffers"].as_array().ok_or("no `buffers`")?;
    if params.len() != param_names.len() || buffers.len() != buffer_names.len() {
        return Err("tensor lists and name lists differ in length".into());
    }
    for (name, t) in param_names.iter().zip(params) {
        let id = state
            .params
            .id(name)
            .ok_or(format!("no parameter `{name}`"))?;
        let t = tensor(t)?;
        let (r, c) = state.params.meta(id).shape;
        assert_close(
            name,
            state.params.value(id),
            &t.to_matrix(r, c),
            1e-12,
            1e-15,
        )?;
    }
    for (name, t) in buffer_names.iter().zip(buffers) {
        let id = state
            .buffers
            .id(name)
            .ok_or(format!("no buffer `{name}`"))?;
        let t = tensor(t)?;
        match state.buffers.get(id) {
            Buffer::Tensor(m) => {
                assert_close(name, m, &t.to_matrix(m.nrows(), m.ncols()), 1e-12, 1e-15)?
            }
            Buffer::Count(n) if t.data.len() == 1 && *n as f64 == t.data[0] => {}
            Buffer::Count(n) => return Err(format!("{name}: {n}, expected {:?}", t.data)),
        }
    }
    Ok(())
}

fn averaged_model(case: &Value) -> Result<(), String> {
    let config = Hyper::read(&case["hyper"], |h| {
        Ok(AveragedModelConfig {
            avg_fn: avg_fn(h)?,
            use_buffers: h.bool("use_buffers")?,
        })
    })?;
    let (_, mut state, _) = build(&case["model"], false)?;
    let param_names = names(case, "param_names")?;
    let buffer_names = names(case, "buffer_names")?;
    let ours: Vec<String> = state
        .params
        .iter()
        .map(|(_, m, _)| m.name.clone())
        .collect();
    let our_buffers: Vec<String> = state.buffers.iter().map(|(_, n, _)| n.to_owned()).collect();
    if ours != param_names || our_buffers != buffer_names {
        return Err(format!(
            "model tensors {ours:?} {our_buffers:?} differ from the case's"
        ));
    }
    let mut avg = AveragedModel::new(&state, config).map_err(|e| e.to_string())?;
    let snapshots = case["snapshots"].as_array().ok_or("no `snapshots`")?;
    let averaged = case["averaged"].as_array().ok_or("no `averaged`")?;
    if snapshots.len() != averaged.len() || snapshots.is_empty() {
        return Err("`snapshots` and `averaged` differ in length".into());
    }
    for (k, (snap, want)) in snapshots.iter().zip(averaged).enumerate() {
        let at = |e: String| format!("update {k}: {e}");
        let lists = [("params", &param_names), ("buffers", &buffer_names)];
        for (field, list) in lists {
            let tensors = snap[field].as_array().ok_or(at(format!("no `{field}`")))?;
            for (name, t) in list.iter().zip(tensors) {
                put(&mut state, name, &tensor(t)?).map_err(at)?;
            }
        }
        avg.update_parameters(&state)
            .map_err(|e| at(e.to_string()))?;
        compare(avg.state(), &param_names, &buffer_names, want).map_err(at)?;
        let n = want["n_averaged"]
            .as_u64()
            .ok_or(at("no `n_averaged`".into()))?;
        if avg.n_averaged() != n {
            return Err(at(format!("n_averaged {}, expected {n}", avg.n_averaged())));
        }
    }
    Ok(())
}

fn update_bn_case(case: &Value) -> Result<(), String> {
    Hyper::read(&case["hyper"], |_| Ok(()))?;
    // The mode before the call: descent passes the mode per call and keeps
    // none in the model, so there is nothing to restore; it must be a bool.
    case["model_training"]
        .as_bool()
        .ok_or("no `model_training`")?;
    let (mut model, mut state, bn_layers) = build(&case["model"], true)?;
    let batches: Vec<DMatrix<f64>> = case["batches"]
        .as_array()
        .ok_or("no `batches`")?
        .iter()
        .map(|b| tensor(b).map(|t| t.matrix()))
        .collect::<Result<_, _>>()?;
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let ran =
        update_bn(&mut model, &mut state, &batches, None, &mut rng).map_err(|e| e.to_string())?;
    if ran != batches.len() as u64 {
        return Err(format!("ran {ran} of {} batches", batches.len()));
    }
    let mut momenta = Vec::new();
    model.visit_batch_norms(&mut |bn| momenta.push(bn.momentum()));
    let stats = case["running_stats"]
        .as_array()
        .ok_or("no `running_stats`")?;
    if stats.len() != bn_layers.len() {
        return Err(format!(
            "{} running_stats for {} batch norms",
            stats.len(),
            bn_layers.len()
        ));
    }
    for (j, s) in stats.iter().enumerate() {
        let h = Hyper::named(s, format!("running_stats[{j}]"))?;
        let i = h.usize("layer_index")?;
        if bn_layers[j] != i {
            return Err(format!(
                "running_stats[{j}] is layer {i}, expected {}",
                bn_layers[j]
            ));
        }
        for field in ["running_mean", "running_var"] {
            let id = state
                .buffers
                .id(&format!("{i}.{field}"))
                .ok_or("no buffer")?;
            let m = state.buffers.tensor(id);
            let want = tensor(h.get(field)?)?.to_matrix(m.nrows(), m.ncols());
            assert_close(&format!("{i}.{field}"), m, &want, 1e-9, 0.0)?;
        }
        let id = state
            .buffers
            .id(&format!("{i}.num_batches_tracked"))
            .ok_or("no count")?;
        let n = h.i64("num_batches_tracked")?;
        if state.buffers.count(id) != n {
            return Err(format!(
                "{i}.num_batches_tracked {}, expected {n}",
                state.buffers.count(id)
            ));
        }
        let m = h.opt_f64("momentum")?;
        if momenta[j] != m {
            return Err(format!(
                "layer {i}: momentum {:?} restored, expected {m:?}",
                momenta[j]
            ));
        }
        h.finish()?;
    }
    Ok(())
}
