//! Save/load round trips, all-or-nothing loading and PyTorch's layout.

use crate::*;
use descent_autodiff::{ImageShape, Tape};
use nalgebra::DMatrix;
use proptest::prelude::*;
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;
use safetensors::tensor::{Dtype, TensorView};

/// conv(1→2, 3×3) → bn2d → relu → flatten → linear(2·4·4 → hidden) → bn1d → linear(hidden → 3)
fn model<S: descent_core::Scalar>(seed: u64, hidden: usize) -> (Sequential<S>, ModelState<S>) {
    let mut state = ModelState::new();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut b = Builder::new(&mut state, &mut rng);
    let mut m = Sequential::new();
    m.add(&mut b, |b| {
        Conv2d::new(b, Conv2dConfig::new(1, 2, 3, 3).padding(1, 1))
    })
    .and_then(|m| m.add(&mut b, |b| BatchNorm2d::new(b, BatchNormConfig::new(2))))
    .map(|m| m.push(Relu).push(Flatten))
    .and_then(|m| m.add(&mut b, |b| Linear::new(b, LinearConfig::new(32, hidden))))
    .and_then(|m| {
        m.add(&mut b, |b| {
            BatchNorm1d::new(b, BatchNormConfig::new(hidden))
        })
    })
    .and_then(|m| m.add(&mut b, |b| Linear::new(b, LinearConfig::new(hidden, 3))))
    .expect("valid model");
    (m, state)
}

/// One training pass, so the running statistics move away from 0 and 1.
fn train_once<S: descent_core::Scalar>(m: &Sequential<S>, state: &mut ModelState<S>, seed: u64) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let x = DMatrix::from_fn(4, 16, |i, j| {
        S::cast(((i * 16 + j) as f64 * 0.37 + seed as f64).sin())
    });
    let tape = Tape::new();
    let mut ctx = Ctx::new(&tape, state, Mode::Train, &mut rng);
    m.forward(&mut ctx, tape.constant_image(&x, ImageShape::new(1, 4, 4)));
}

fn same<S: descent_core::Scalar>(a: &ModelState<S>, b: &ModelState<S>) -> bool {
    a.params
        .iter()
        .zip(b.params.iter())
        .all(|(x, y)| x.1 == y.1 && x.2 == y.2)
        && a.buffers == b.buffers
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]
    #[test]
    fn save_then_load_is_exact(seed: u64, other: u64) {
        let (m, mut state) = model::<f32>(seed, 5);
        train_once(&m, &mut state, seed);
        let (_, mut copy) = model::<f32>(other, 5);
        copy.load_safetensors(&state.to_safetensors().unwrap()).unwrap();
        prop_assert!(same(&state, &copy));

        let (m, mut state) = model::<f64>(seed, 5);
        train_once(&m, &mut state, seed);
        let path = std::env::temp_dir().join(format!("descent-nn-{}-{seed}.safetensors", std::process::id()));
        state.save(&path).unwrap();
        let (_, mut copy) = model::<f64>(other, 5);
        let loaded = copy.load(&path);
        std::fs::remove_file(&path).ok();
        loaded.unwrap();
        prop_assert!(same(&state, &copy));
    }
}

#[test]
fn one_mis_shaped_tensor_fails_and_leaves_the_model_unchanged() {
    let (_, saved) = model::<f32>(1, 5);
    let (m, mut target) = model::<f32>(2, 6);
    train_once(&m, &mut target, 3);
    let before = target.clone();
    let err = target
        .load_safetensors(&saved.to_safetensors().unwrap())
        .unwrap_err();
    let Error::StateMismatch {
        missing,
        unexpected,
        mismatched,
    } = err
    else {
        panic!("expected StateMismatch, got {err}");
    };
    assert!(missing.is_empty() && unexpected.is_empty());
    let names: Vec<&str> = mismatched.iter().map(|t| t.name.as_str()).collect();
    // hidden width 5 vs 6: the tensors whose shape involves it
    assert_eq!(
        names,
        [
            "4.bias",
            "4.weight",
            "5.bias",
            "5.running_mean",
            "5.running_var",
            "5.weight",
            "6.weight"
        ]
    );
    assert_eq!(
        (
            mismatched[1].expected_shape.clone(),
            mismatched[1].got_shape.clone()
        ),
        (vec![6, 32], vec![5, 32])
    );
    assert!(same(&before, &target), "nothing may be partially loaded");
}

#[test]
fn missing_and_unexpected_tensors_are_listed() {
    let (_, saved) = model::<f64>(1, 5);
    let mut target = ModelState::<f64>::new();
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    Linear::new(
        &mut Builder::new(&mut target, &mut rng).pp("9"),
        LinearConfig::new(2, 2),
    )
    .unwrap();
    let err = target
        .load_safetensors(&saved.to_safetensors().unwrap())
        .unwrap_err();
    let Error::StateMismatch {
        missing,
        unexpected,
        ..
    } = err
    else {
        panic!("{err}")
    };
    assert_eq!(missing, ["9.bias", "9.weight"]);
    assert!(unexpected.contains(&"1.num_batches_tracked".to_owned()) && unexpected.len() == 16);
}

#[test]
fn a_pytorch_state_dict_loads_with_its_layout() {
    // what safetensors.torch.save_file(model.state_dict()) writes for
    // Sequential(Conv2d(2, 1, 2), BatchNorm1d(...)): OIHW row-major, counts as I64
    let conv: Vec<f32> = (0..8).map(|k| k as f32).collect(); // [1, 2, 2, 2]
    let bytes = |v: &[f32]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
    let (w, b) = (bytes(&conv), bytes(&[0.5]));
    let (rm, rv, nbt) = (
        bytes(&[1.0, 2.0]),
        bytes(&[3.0, 4.0]),
        7i64.to_le_bytes().to_vec(),
    );
    let views = vec![
        (
            "0.weight",
            TensorView::new(Dtype::F32, vec![1, 2, 2, 2], &w).unwrap(),
        ),
        ("0.bias", TensorView::new(Dtype::F32, vec![1], &b).unwrap()),
        (
            "1.running_mean",
            TensorView::new(Dtype::F32, vec![2], &rm).unwrap(),
        ),
        (
            "1.running_var",
            TensorView::new(Dtype::F32, vec![2], &rv).unwrap(),
        ),
        (
            "1.num_batches_tracked",
            TensorView::new(Dtype::I64, vec![], &nbt).unwrap(),
        ),
    ];
    let file = safetensors::serialize(views, None).unwrap();
    let mut state = ModelState::<f64>::new();
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let mut b = Builder::new(&mut state, &mut rng);
    Conv2d::new(&mut b.pp(0), Conv2dConfig::new(2, 1, 2, 2)).unwrap();
    let mut cfg = BatchNormConfig::new(2);
    cfg.affine = false;
    BatchNorm1d::new(&mut b.pp(1), cfg).unwrap();
    state.load_safetensors(&file).unwrap();
    let w = state
        .params
        .value(state.params.require("0.weight").unwrap());
    // element [o, i, y, x] is column (i·kH + y)·kW + x of row o
    assert_eq!(w.as_slice(), &[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]);
    assert_eq!(w.shape(), (1, 8));
    let nbt = state.buffers.id("1.num_batches_tracked").unwrap();
    assert_eq!(state.buffers.count(nbt), 7);
    assert_eq!(
        state
            .buffers
            .tensor(state.buffers.id("1.running_var").unwrap())
            .as_slice(),
        &[3.0, 4.0]
    );
    // and back: the f64 model writes F64 with the same shapes
    let back = state.to_safetensors().unwrap();
    let st = safetensors::SafeTensors::deserialize(&back).unwrap();
    let t = st.tensor("0.weight").unwrap();
    assert_eq!((t.dtype(), t.shape()), (Dtype::F64, &[1usize, 2, 2, 2][..]));
    assert_eq!(
        st.tensor("1.num_batches_tracked").unwrap().dtype(),
        Dtype::I64
    );
}

#[test]
fn concurrent_saves_to_one_path_always_leave_a_whole_state() {
    let dir = std::env::temp_dir().join(format!("descent-nn-concurrent-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("model.safetensors");
    // four states of different sizes, so a mixed-up file cannot parse as one
    let states: Vec<ModelState<f32>> = (0..4)
        .map(|k| model::<f32>(k, 8 + 8 * k as usize).1)
        .collect();
    std::thread::scope(|s| {
        for state in &states {
            let path = &path;
            s.spawn(move || {
                for _ in 0..25 {
                    state.save(path).expect("every save succeeds");
                }
            });
        }
    });
    let bytes = std::fs::read(&path).unwrap();
    let whole = states
        .iter()
        .any(|st| st.to_safetensors().unwrap() == bytes);
    assert!(whole, "the file is none of the states saved");
    // no temporary file is left behind
    let left: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, [std::ffi::OsString::from("model.safetensors")]);
    std::fs::remove_dir_all(&dir).unwrap();
}
