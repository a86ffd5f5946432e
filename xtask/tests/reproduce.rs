//! `cargo xtask reproduce --quick` on a subset, end to end: the report
//! names every selected experiment, each JSON file has its fields, and
//! every figure's PNG decodes and its SVG is there.

use serde_json::Value;
use std::path::Path;
use std::process::Command;

/// Cheap experiments (the plot module's own test draws every panel kind).
const SUBSET: &[&str] = &["learning-rate", "implicit-bias", "double-descent"];

fn decode_png(path: &Path) -> (u32, u32) {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut reader = png::Decoder::new(std::io::BufReader::new(file))
        .read_info()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut buf = vec![0; reader.output_buffer_size().expect("PNG size fits memory")];
    let info = reader
        .next_frame(&mut buf)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (info.width, info.height)
}

#[test]
fn quick_subset_writes_report_json_and_figures() {
    let out = std::env::temp_dir().join(format!("descent-reproduce-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let status = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["reproduce", "--quick", "--seeds", "2", "--out"])
        .arg(&out)
        .args(SUBSET)
        .status()
        .expect("xtask runs");
    assert!(status.success(), "reproduce --quick failed: {status}");

    let report = std::fs::read_to_string(out.join("REPORT.md")).expect("REPORT.md written");
    for name in SUBSET {
        assert!(
            report.contains(&format!("## {name}")),
            "report lacks a section for {name}"
        );
        let json: Value = serde_json::from_str(
            &std::fs::read_to_string(out.join(format!("{name}.json"))).expect("JSON written"),
        )
        .expect("valid JSON");
        for field in [
            "name",
            "group",
            "claim",
            "source",
            "quick",
            "seeds",
            "wall_time_s",
            "held",
            "claims",
            "metrics",
            "figures",
            "runs",
        ] {
            assert!(json.get(field).is_some(), "{name}.json lacks `{field}`");
        }
        assert_eq!(json["name"], *name);
        assert_eq!(json["seeds"].as_array().map(Vec::len), Some(2));
        let claims = json["claims"].as_array().expect("claims is a list");
        assert!(!claims.is_empty(), "{name} measured no claim");
        for c in claims {
            for field in [
                "id",
                "quantity",
                "cmp",
                "threshold",
                "measured",
                "mean",
                "sd",
                "held",
                "seeds_passing",
            ] {
                assert!(c.get(field).is_some(), "{name}: a claim lacks `{field}`");
            }
            assert_eq!(c["measured"].as_array().map(Vec::len), Some(2));
        }
        let runs = json["runs"].as_array().expect("runs is a list");
        assert!(
            runs.iter()
                .all(|r| r["data"].as_str().is_some_and(|d| !d.is_empty()))
        );
        let figures = json["figures"].as_array().expect("figures is a list");
        assert!(!figures.is_empty(), "{name} drew no figure");
        for f in figures {
            let png = out.join(f["png"].as_str().expect("png path"));
            let (w, h) = decode_png(&png);
            assert!(w >= 400 && h >= 300, "{}: {w} × {h}", png.display());
            let svg = std::fs::read_to_string(out.join(f["svg"].as_str().expect("svg path")))
                .expect("SVG written");
            assert!(
                svg.starts_with("<svg"),
                "{name}: SVG does not start with <svg"
            );
            assert!(
                report.contains(f["png"].as_str().unwrap_or_default()),
                "figure not embedded"
            );
        }
    }
    std::fs::remove_dir_all(&out).expect("clean up");
}

#[test]
fn an_unknown_experiment_is_a_clear_error() {
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["reproduce", "--quick", "no_such_experiment"])
        .output()
        .expect("xtask runs");
    assert!(!output.status.success());
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(
        err.contains("no_such_experiment") && err.contains("optimization"),
        "{err}"
    );
}

#[test]
fn help_names_the_command_users_type() {
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["reproduce", "--help"])
        .output()
        .expect("xtask runs");
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(help.contains("Usage: cargo xtask reproduce"), "{help}");
    assert!(
        help.contains("--seeds") && help.contains("--strict"),
        "{help}"
    );
}
