//! A former `BENCH.md` (`--previous`), read back so the W6 rows of a new run
//! show the figures a committed table recorded (`benches/BENCH-augment.md`).
//!
//! Only rows whose first cell names a W6 row (`w6…`) are kept, under the
//! thread count of the `## N thread(s)` section they sit in; a W6 row's
//! second cell is its median ms and its seventh its descent/PyTorch ratio.
//! Anything else in the file is ignored, so an older or newer layout with
//! those two columns still reads.

use std::collections::BTreeMap;

/// One row of the former table, its cells as printed.
#[derive(Clone, Debug, PartialEq)]
pub struct PreviousRow {
    /// The median ms cell.
    pub median_ms: String,
    /// The descent/PyTorch (or descent/torchvision) cell.
    pub ratio: String,
}

/// The W6 rows of a former report, by thread count and row name.
#[derive(Debug, Default)]
pub struct Previous {
    rows: BTreeMap<(usize, String), PreviousRow>,
}

impl Previous {
    /// Reads the W6 rows out of a report's markdown.
    pub fn parse(md: &str) -> Previous {
        let mut rows = BTreeMap::new();
        let mut threads = None;
        for line in md.lines() {
            if let Some(rest) = line.strip_prefix("## ") {
                threads = rest
                    .strip_suffix(" thread(s)")
                    .and_then(|n| n.trim().parse().ok());
                continue;
            }
            let (Some(t), Some(body)) = (threads, line.strip_prefix('|')) else {
                continue;
            };
            let cells: Vec<&str> = body.split('|').map(str::trim).collect();
            if cells.len() > 6 && cells[0].starts_with("w6") {
                let row = PreviousRow {
                    median_ms: cells[1].to_owned(),
                    ratio: cells[6].to_owned(),
                };
                rows.insert((t, cells[0].to_owned()), row);
            }
        }
        Previous { rows }
    }

    /// The former row `name` at `threads` threads, if it had one.
    pub fn row(&self, threads: usize, name: &str) -> Option<&PreviousRow> {
        self.rows.get(&(threads, name.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn w6_rows_are_read_per_thread_section_and_the_rest_ignored() {
        let md = "# descent workload benchmarks\n\n## 1 thread(s)\n\n\
                  | w1_sgd | 5.000 | 4.000 | 25600 | 3.0 | 1.67× | 1 | 1 | 1 | 1 |\n\
                  | w6_augment | 2.524 | 2.048 | 405705 | 20.480 | 50000 | 0.12× |\n\
                  \n## 2 thread(s)\n\n\
                  | row | median ms | min ms | images/s | torchvision median ms | torchvision images/s | descent/torchvision |\n\
                  | w6op_invert | 0.500 | 0.400 | 2048000 | 10.000 | 102400 | 0.05× | – | – | `RandomInvert(p=1)` |\n";
        let p = Previous::parse(md);
        assert_eq!(
            p.row(1, "w6_augment"),
            Some(&PreviousRow {
                median_ms: "2.524".into(),
                ratio: "0.12×".into()
            })
        );
        assert_eq!(p.row(2, "w6op_invert").unwrap().ratio, "0.05×");
        assert_eq!(p.row(2, "w6_augment"), None, "other thread count");
        assert_eq!(p.row(1, "w1_sgd"), None, "not a W6 row");
        assert!(Previous::parse("no table here").rows.is_empty());
    }
}
