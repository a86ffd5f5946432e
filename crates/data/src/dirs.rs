//! The data-directory rule: where datasets are looked for.

use crate::{Error, Result};
use std::path::{Path, PathBuf};

/// The environment variable naming a data directory.
pub const DATA_ENV: &str = "DESCENT_DATA";

/// The ordered list of data directories a dataset is looked for in.
///
/// The rule, everywhere in descent: the explicit directory (`--data DIR`),
/// then `$DESCENT_DATA`, then `../shared/datasets` (from the current
/// directory, then from the workspace root), then `/usr/share/datasets`.
/// Set `NAME` is found in the first directory that has a folder `NAME`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataDirs {
    roots: Vec<PathBuf>,
}

impl DataDirs {
    /// The rule's directories, reading `$DESCENT_DATA` and the current
    /// directory.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_data::DataDirs;
    /// use std::path::Path;
    ///
    /// let dirs = DataDirs::from_env(Some(Path::new("/tmp/my-data")));
    /// assert_eq!(dirs.roots()[0], Path::new("/tmp/my-data"));
    /// assert_eq!(dirs.roots().last().unwrap(), Path::new("/usr/share/datasets"));
    /// ```
    pub fn from_env(explicit: Option<&Path>) -> Self {
        let mut roots = Vec::new();
        roots.extend(explicit.map(Path::to_owned));
        if let Some(env) = std::env::var_os(DATA_ENV).filter(|v| !v.is_empty()) {
            roots.push(PathBuf::from(env));
        }
        if let Ok(cwd) = std::env::current_dir() {
            roots.push(cwd.join("../shared/datasets"));
        }
        // This crate lives at <workspace>/crates/data.
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        roots.push(workspace.join("../shared/datasets"));
        roots.push(PathBuf::from("/usr/share/datasets"));
        Self::new(roots)
    }

    /// Exactly these directories, in this order (duplicates dropped).
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_data::{DataDirs, Error};
    ///
    /// let dirs = DataDirs::new(vec!["/nowhere/a".into(), "/nowhere/b".into()]);
    /// let err = dirs.resolve("mnist").unwrap_err();
    /// assert!(matches!(err, Error::MissingDataset { ref looked, .. } if looked.len() == 2));
    /// ```
    pub fn new(roots: Vec<PathBuf>) -> Self {
        let mut unique: Vec<PathBuf> = Vec::with_capacity(roots.len());
        for root in roots {
            let key = root.canonicalize().unwrap_or_else(|_| root.clone());
            let seen = unique
                .iter()
                .any(|u| u.canonicalize().unwrap_or_else(|_| u.clone()) == key);
            if !seen {
                unique.push(root);
            }
        }
        DataDirs { roots: unique }
    }

    /// The directories, in search order.
    pub fn roots(&self) -> &[PathBuf] {
        &self.roots
    }

    /// The folder of dataset `set` (e.g. `"mnist"`), or
    /// [`Error::MissingDataset`] naming the set and every place looked.
    pub fn resolve(&self, set: &str) -> Result<PathBuf> {
        let looked: Vec<PathBuf> = self.roots.iter().map(|r| r.join(set)).collect();
        looked
            .iter()
            .find(|p| p.is_dir())
            .cloned()
            .ok_or_else(|| Error::MissingDataset {
                set: set.to_owned(),
                looked,
            })
    }
}

/// The folder of dataset `set` under the data-directory rule
/// ([`DataDirs::from_env`]).
pub fn resolve(set: &str, explicit: Option<&Path>) -> Result<PathBuf> {
    DataDirs::from_env(explicit).resolve(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_directory_holding_the_set_wins() {
        let tmp = std::env::temp_dir().join(format!("descent-data-dirs-{}", std::process::id()));
        let (a, b) = (tmp.join("a"), tmp.join("b"));
        std::fs::create_dir_all(a.join("digits")).unwrap();
        std::fs::create_dir_all(b.join("digits")).unwrap();
        std::fs::create_dir_all(b.join("mnist")).unwrap();
        let dirs = DataDirs::new(vec![tmp.join("none"), a.clone(), b.clone()]);
        assert_eq!(dirs.resolve("digits").unwrap(), a.join("digits"));
        assert_eq!(dirs.resolve("mnist").unwrap(), b.join("mnist"));
        std::fs::remove_dir_all(&tmp).unwrap();
    }

    #[test]
    fn a_missing_set_names_itself_and_every_place_looked() {
        let dirs = DataDirs::new(vec!["/nonexistent/x".into(), "/nonexistent/y".into()]);
        let err = dirs.resolve("cifar10-samples").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("`cifar10-samples`"), "{msg}");
        assert!(msg.contains("/nonexistent/x/cifar10-samples"), "{msg}");
        assert!(msg.contains("/nonexistent/y/cifar10-samples"), "{msg}");
        assert!(msg.contains("DESCENT_DATA"), "{msg}");
    }

    #[test]
    fn the_rule_ends_with_the_system_directory() {
        let dirs = DataDirs::from_env(Some(Path::new("/explicit")));
        assert_eq!(dirs.roots()[0], Path::new("/explicit"));
        assert_eq!(
            dirs.roots().last().unwrap(),
            Path::new("/usr/share/datasets")
        );
    }
}
