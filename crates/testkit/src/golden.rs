//! Reading the golden reference files (`FORMAT.md` in the golden directory)
//! and routing each case to the parity test that checks it.

mod routes;

pub use routes::{Case, Harness, ROUTES, Route, cases, route};

use nalgebra::DMatrix;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The environment variable that overrides the golden directory.
pub const DIR_ENV: &str = "DESCENT_GOLDEN_DIR";

/// The golden directory: `$DESCENT_GOLDEN_DIR`, else the reference files
/// vendored in the repository at `tests/golden/` (found from this crate's
/// manifest, so the current directory does not matter).
pub fn dir() -> PathBuf {
    match std::env::var_os(DIR_ENV).filter(|d| !d.is_empty()) {
        Some(d) => PathBuf::from(d),
        // This crate lives at <workspace>/crates/testkit.
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/golden"),
    }
}

/// One golden file: its kind and its cases.
#[derive(Debug)]
pub struct File {
    /// File name, e.g. `losses.json`.
    pub file_name: String,
    /// The `kind` field.
    pub kind: String,
    /// The cases, as JSON objects.
    pub cases: Vec<Value>,
}

/// Loads every `*.json` file in [`dir()`], sorted by name.
///
/// A missing directory or a malformed file is an error naming the path:
/// parity tests must not pass by reading nothing.
pub fn load_all() -> Result<Vec<File>, String> {
    let d = dir();
    let entries = std::fs::read_dir(&d).map_err(|e| {
        format!(
            "golden directory {} unreadable ({e}); set {DIR_ENV}",
            d.display()
        )
    })?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    if paths.is_empty() {
        return Err(format!("no *.json golden files in {}", d.display()));
    }
    paths.iter().map(|p| load(p)).collect()
}

/// Loads one golden file.
pub fn load(path: &Path) -> Result<File, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let v: Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let kind = v["kind"]
        .as_str()
        .ok_or_else(|| format!("{}: no `kind`", path.display()))?
        .to_owned();
    let cases = v["cases"]
        .as_array()
        .ok_or_else(|| format!("{}: no `cases`", path.display()))?
        .clone();
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(File {
        file_name,
        kind,
        cases,
    })
}

/// A golden tensor: shape plus row-major data.
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    /// Dimensions; empty for a scalar.
    pub shape: Vec<usize>,
    /// Values in row-major (C) order.
    pub data: Vec<f64>,
}

impl Tensor {
    /// Parses `{"shape": [...], "data": [...]}`.
    pub fn parse(v: &Value) -> Result<Tensor, String> {
        let shape: Vec<usize> = v["shape"]
            .as_array()
            .ok_or("tensor without `shape`")?
            .iter()
            .map(|d| d.as_u64().map(|d| d as usize).ok_or("bad dimension"))
            .collect::<Result<_, _>>()?;
        let data: Vec<f64> = v["data"]
            .as_array()
            .ok_or("tensor without `data`")?
            .iter()
            .map(|x| number(x).ok_or("non-numeric data"))
            .collect::<Result<_, _>>()?;
        if data.len() != shape.iter().product::<usize>() {
            return Err(format!(
                "tensor data has {} values for shape {shape:?}",
                data.len()
            ));
        }
        Ok(Tensor { shape, data })
    }

    /// The tensor as a `rows × cols` matrix read in row-major order;
    /// `rows · cols` must equal the number of elements.
    pub fn to_matrix(&self, rows: usize, cols: usize) -> DMatrix<f64> {
        assert_eq!(
            rows * cols,
            self.data.len(),
            "reshape {:?} to {rows}x{cols}",
            self.shape
        );
        DMatrix::from_row_slice(rows, cols, &self.data)
    }

    /// The natural matrix view: `[]` is 1×1, `[n]` is 1×n, `[a, b]` is a×b,
    /// and `[n, d1, ..., dk]` is n × (d1·…·dk), the image layout of descent.
    pub fn matrix(&self) -> DMatrix<f64> {
        let (r, c) = match self.shape.as_slice() {
            [] => (1, 1),
            [n] => (1, *n),
            [n, rest @ ..] => (*n, rest.iter().product()),
        };
        self.to_matrix(r, c)
    }
}

/// A JSON number, or `"inf"`, `"-inf"`, `"nan"` strings.
pub fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => match s.as_str() {
            "inf" | "Infinity" => Some(f64::INFINITY),
            "-inf" | "-Infinity" => Some(f64::NEG_INFINITY),
            "nan" | "NaN" => Some(f64::NAN),
            _ => None,
        },
        _ => None,
    }
}
