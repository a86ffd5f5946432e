//! Golden parity with torchvision 0.29 (`transforms.v2.functional`): every
//! case of the golden directory's `augment.json` (its `FORMAT-next.md`
//! section describes the fields) through [`descent_augment::image::functional`].
//!
//! Cases are dispatched on their `op`, `dtype` and `hyper` fields, never on
//! names; an op, dtype or hyperparameter this harness does not read fails
//! the case. Tolerances (absolute, on values in `[0, 1]`):
//! - float64 cases in f64: 1e-12 (the grids and blends are a few ulps from
//!   torchvision's, whose reductions sum in another order);
//! - the same cases again in f32: 1e-5 (inputs rounded to f32 first);
//! - float32 cases (`adjust_hue`, computed in f32 by torchvision): 1e-6, the
//!   bound FORMAT-next.md gives;
//! - uint8 cases (`posterize`, `equalize`): exact.

use descent_augment::image::ImageShape;
use descent_augment::image::functional::{self as F, Image, Interpolation, PaddingMode};
use descent_core::Scalar;
use descent_testkit::Hyper;
use descent_testkit::golden::{self, Case, Harness, Tensor, number};
use serde_json::Value;

const INTERPOLATION: &[(&str, Interpolation)] = &[
    ("nearest", Interpolation::Nearest),
    ("bilinear", Interpolation::Bilinear),
];

fn image(v: &Value, what: &str) -> Result<(ImageShape, Vec<f64>), String> {
    let t = Tensor::parse(v).map_err(|e| format!("{what}: {e}"))?;
    match t.shape.as_slice() {
        &[c, h, w] => Ok((ImageShape::new(c, h, w), t.data)),
        s => Err(format!("{what}: shape {s:?} is not [C, H, W]")),
    }
}

fn cast<T: Scalar>(v: &[f64]) -> Vec<T> {
    v.iter().map(|&x| T::cast(x)).collect()
}

/// `fill`: null, a number, or a list of numbers.
fn fill<T: Scalar>(h: &Hyper) -> Result<Option<Vec<T>>, String> {
    match h.get("fill")? {
        Value::Null => Ok(None),
        Value::Array(a) => a
            .iter()
            .map(|x| number(x).map(T::cast).ok_or("non-numeric fill"))
            .collect::<Result<Vec<T>, _>>()
            .map(Some)
            .map_err(String::from),
        v => number(v)
            .map(|x| Some(vec![T::cast(x)]))
            .ok_or_else(|| format!("bad fill {v}")),
    }
}

fn points(h: &Hyper, key: &str) -> Result<[[f64; 2]; 4], String> {
    let list = h.list(key)?;
    let mut out = [[0.0; 2]; 4];
    if list.len() != 4 {
        return Err(format!("`{key}` needs four points"));
    }
    for (o, p) in out.iter_mut().zip(list) {
        match p.as_array().map(Vec::as_slice) {
            Some([x, y]) => *o = [number(x).ok_or("bad x")?, number(y).ok_or("bad y")?],
            _ => return Err(format!("`{key}`: a point is not [x, y]")),
        }
    }
    Ok(out)
}

fn size(h: &Hyper, key: &str) -> Result<[usize; 2], String> {
    let (a, b) = h.pair_usize(key)?;
    Ok([a, b])
}

/// Applies the case's float op in `T`.
fn run_float<T: Scalar>(case: &Value, img: &Image<T>) -> Result<Image<T>, String> {
    let op = case["op"].as_str().ok_or("no `op`")?;
    let e = |r: descent_augment::Result<Image<T>>| r.map_err(|e| e.to_string());
    Hyper::read(&case["hyper"], |h| match op {
        "hflip" => Ok(F::hflip(img)),
        "vflip" => Ok(F::vflip(img)),
        "rotate" => {
            h.expect("expand", false)?;
            h.null("center")?;
            let interp = h.choice("interpolation", INTERPOLATION)?;
            let fill = fill::<T>(h)?;
            e(F::rotate(img, h.f64("angle")?, interp, fill.as_deref()))
        }
        "affine" => {
            h.null("center")?;
            let (tx, ty) = h.pair_f64("translate")?;
            let (sx, sy) = h.pair_f64("shear")?;
            let interp = h.choice("interpolation", INTERPOLATION)?;
            let fill = fill::<T>(h)?;
            let (angle, scale) = (h.f64("angle")?, h.f64("scale")?);
            e(F::affine(
                img,
                angle,
                [tx, ty],
                scale,
                [sx, sy],
                interp,
                fill.as_deref(),
            ))
        }
        "resized_crop" => {
            h.expect("antialias", false)?;
            let interp = h.choice("interpolation", INTERPOLATION)?;
            e(F::resized_crop(
                img,
                h.usize("top")?,
                h.usize("left")?,
                h.usize("height")?,
                h.usize("width")?,
                size(h, "size")?,
                interp,
            ))
        }
        "pad" => {
            let padding: Vec<usize> = h
                .counts("padding")?
                .into_iter()
                .map(|p| p as usize)
                .collect();
            let mode = h.choice(
                "padding_mode",
                &[
                    ("constant", PaddingMode::Constant),
                    ("reflect", PaddingMode::Reflect),
                    ("edge", PaddingMode::Edge),
                    ("symmetric", PaddingMode::Symmetric),
                ],
            )?;
            let fill = fill::<T>(h)?;
            e(F::pad(img, &padding, mode, fill.as_deref()))
        }
        "center_crop" => e(F::center_crop(img, size(h, "output_size")?)),
        "adjust_brightness" => e(F::adjust_brightness(img, h.f64("brightness_factor")?)),
        "adjust_contrast" => e(F::adjust_contrast(img, h.f64("contrast_factor")?)),
        "adjust_saturation" => e(F::adjust_saturation(img, h.f64("saturation_factor")?)),
        "adjust_hue" => e(F::adjust_hue(img, h.f64("hue_factor")?)),
        "rgb_to_grayscale" => e(F::rgb_to_grayscale(img, h.usize("num_output_channels")?)),
        "gaussian_blur" => {
            let k = size(h, "kernel_size")?;
            let sigma = match h.get("sigma")? {
                Value::Null => None,
                _ => Some(<[f64; 2]>::from(h.pair_f64("sigma")?)),
            };
            e(F::gaussian_blur(img, k, sigma))
        }
        "solarize" => e(F::solarize(img, h.f64("threshold")?)),
        "autocontrast" => e(F::autocontrast(img)),
        "adjust_sharpness" => e(F::adjust_sharpness(img, h.f64("sharpness_factor")?)),
        "invert" => Ok(F::invert(img)),
        "erase" => {
            h.expect("inplace", false)?;
            let (vd, v) = image(h.get("v")?, "v")?;
            let v = Image::new(vd, cast::<T>(&v)).map_err(|e| e.to_string())?;
            e(F::erase(
                img,
                h.usize("i")?,
                h.usize("j")?,
                h.usize("h")?,
                h.usize("w")?,
                &v,
            ))
        }
        "perspective" => {
            h.null("coefficients")?;
            let (start, end) = (points(h, "startpoints")?, points(h, "endpoints")?);
            let ours = F::perspective_coefficients(start, end).map_err(|e| e.to_string())?;
            // torchvision's coefficients: its lstsq and ours agree to f32
            // rounding; FORMAT-next.md asks to warp with its own.
            let used = case["coefficients_used"]
                .as_array()
                .ok_or("perspective case without `coefficients_used`")?;
            let used: Vec<f64> = used.iter().filter_map(number).collect();
            let used: [f64; 8] = used.try_into().map_err(|_| "need 8 coefficients")?;
            for (a, b) in ours.iter().zip(&used) {
                if (a - b).abs() > 1e-6 * b.abs().max(1.0) {
                    return Err(format!("coefficients {ours:?}, torchvision {used:?}"));
                }
            }
            let interp = h.choice("interpolation", INTERPOLATION)?;
            let fill = fill::<T>(h)?;
            e(F::perspective(img, used, interp, fill.as_deref()))
        }
        "elastic" => {
            let t = Tensor::parse(h.get("displacement")?)?;
            let d = img.dims();
            if t.shape != [1, d.h, d.w, 2] {
                return Err(format!("displacement shape {:?}", t.shape));
            }
            let interp = h.choice("interpolation", INTERPOLATION)?;
            let fill = fill::<T>(h)?;
            e(F::elastic(
                img,
                &cast::<T>(&t.data),
                interp,
                fill.as_deref(),
            ))
        }
        other => Err(format!("op `{other}` has no float arm")),
    })
}

/// Applies the case's uint8 op.
fn run_u8(case: &Value, img: &Image<u8>) -> Result<Image<u8>, String> {
    let op = case["op"].as_str().ok_or("no `op`")?;
    Hyper::read(&case["hyper"], |h| match op {
        "posterize" => {
            let bits = u8::try_from(h.u64("bits")?).map_err(|e| e.to_string())?;
            F::posterize_u8(img, bits).map_err(|e| e.to_string())
        }
        "equalize" => Ok(F::equalize_u8(img)),
        other => Err(format!("op `{other}` has no uint8 arm")),
    })
}

/// The largest absolute difference, or an error on a shape mismatch.
fn max_diff(got: (ImageShape, Vec<f64>), want: &(ImageShape, Vec<f64>)) -> Result<f64, String> {
    if got.0 != want.0 {
        return Err(format!("shape {}, expected {}", got.0, want.0));
    }
    Ok(got
        .1
        .iter()
        .zip(&want.1)
        .map(|(a, b)| {
            if a.is_nan() {
                f64::INFINITY
            } else {
                (a - b).abs()
            }
        })
        .fold(0.0, f64::max))
}

fn float_case<T: Scalar>(
    case: &Value,
    input: &(ImageShape, Vec<f64>),
    want: &(ImageShape, Vec<f64>),
    tol: f64,
) -> Result<f64, String> {
    let img = Image::new(input.0, cast::<T>(&input.1)).map_err(|e| e.to_string())?;
    let out = run_float(case, &img)?;
    let got = (out.dims(), out.data().iter().map(|v| v.as_f64()).collect());
    let d = max_diff(got, want)?;
    if d <= tol {
        Ok(d)
    } else {
        Err(format!("{}: max |diff| {d:e} > {tol:e}", T::NAME))
    }
}

fn check(case: &Case) -> Result<String, String> {
    let v = &case.value;
    let input = image(&v["input"], "input")?;
    let want = image(&v["output"], "output")?;
    match v["dtype"].as_str() {
        Some("float64") => {
            let d64 = float_case::<f64>(v, &input, &want, 1e-12)?;
            let d32 = float_case::<f32>(v, &input, &want, 1e-5)?;
            Ok(format!("f64 {d64:.1e}, f32 {d32:.1e}"))
        }
        Some("float32") => {
            let d32 = float_case::<f32>(v, &input, &want, 1e-6)?;
            Ok(format!("f32 {d32:.1e}"))
        }
        Some("uint8") => {
            let bytes = |x: &[f64]| -> Result<Vec<u8>, String> {
                x.iter()
                    .map(|&x| {
                        if x.fract() == 0.0 && (0.0..=255.0).contains(&x) {
                            Ok(x as u8)
                        } else {
                            Err(format!("{x} is not a uint8"))
                        }
                    })
                    .collect()
            };
            let img = Image::new(input.0, bytes(&input.1)?).map_err(|e| e.to_string())?;
            let out = run_u8(v, &img)?;
            let got = (out.dims(), out.data().iter().map(|&b| b as f64).collect());
            let d = max_diff(got, &want)?;
            if d == 0.0 {
                Ok("u8 exact".into())
            } else {
                Err(format!("u8: max |diff| {d}"))
            }
        }
        other => Err(format!("unsupported dtype {other:?}")),
    }
}

#[test]
fn every_torchvision_case_matches() {
    let cases = golden::cases(Harness::Augment).unwrap_or_else(|e| panic!("{e}"));
    assert!(!cases.is_empty(), "no augment cases");
    let mut failures = Vec::new();
    for case in &cases {
        match check(case) {
            Ok(report) => println!("ok   {}: {report}", case.at()),
            Err(e) => failures.push(format!("{}: {e}", case.at())),
        }
    }
    println!(
        "augment parity: {} passed, {} failed",
        cases.len() - failures.len(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} case(s) differ:\n  {}",
        failures.len(),
        failures.join("\n  ")
    );
}
