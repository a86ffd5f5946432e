//! The results table of a study.

use crate::FrozenTrial;

/// One row per trial: number, state, value, duration and configuration, in
/// aligned plain-text columns.
pub(crate) fn render(trials: &[FrozenTrial]) -> String {
    let multi = trials.iter().any(|t| t.values.len() > 1);
    let value = if multi { "values" } else { "value" };
    let header = ["number", "state", value, "duration_s", "params"].map(String::from);
    let mut rows = vec![header];
    for t in trials {
        rows.push([
            t.number.to_string(),
            format!("{:?}", t.state).to_uppercase(),
            match t.objective_values() {
                [] => "-".into(),
                vs => vs
                    .iter()
                    .map(|v| format!("{v:.6}"))
                    .collect::<Vec<_>>()
                    .join(", "),
            },
            format!("{:.3}", t.duration_secs),
            t.params.to_string(),
        ]);
    }
    let widths: Vec<usize> = (0..5)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in &rows {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::{Study, StudyConfig};

    #[test]
    fn the_table_has_a_row_per_trial_with_state_and_params() {
        let study = Study::new(StudyConfig::default());
        study
            .optimize(
                |t| {
                    let x = t.suggest_int("x", 0, 1).map_err(|e| e.to_string())?;
                    if x == 0 {
                        Err("x = 0 is not allowed".to_string())
                    } else {
                        Ok(x as f64)
                    }
                },
                8,
                1,
            )
            .unwrap();
        let table = study.results_table();
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 9);
        assert!(lines[0].starts_with("number  state"));
        assert!(lines[1..].iter().all(|l| l.contains("x=")));
        let n_failed = study
            .trials()
            .iter()
            .filter(|t| t.message.is_some())
            .count();
        assert_eq!(
            lines.iter().filter(|l| l.contains("FAIL")).count(),
            n_failed
        );
    }
}
