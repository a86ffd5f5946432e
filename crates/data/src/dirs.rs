//! The data-directory rule: where datasets are looked for.
//!
//! The rule: `--data DIR`, `$DESCENT_DATA`, `../shared/datasets` (from the
//! current directory, then from the workspace root), `/usr/share/datasets`; a
//! folder counts only when it holds the set's files.
//! Invariant: an explicit data directory is authoritative: the set is looked
//! for in `DIR/<set>` and in `DIR` itself and nowhere else, and its absence
//! is `Error::NotInDataDir` naming the files and both places.

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
    /// let err = dirs.resolve("mnist", &[]).unwrap_err();
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

    /// The folder of dataset `set` (e.g. `"mnist"`): the first `root/set`
    /// holding every file of `files` (each plain or with `.gz` appended), or
    /// [`Error::MissingDataset`] naming the set, the files and every place
    /// looked.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_data::{DataDirs, Error};
    ///
    /// let dirs = DataDirs::new(vec!["/nowhere".into()]);
    /// let err = dirs.resolve("digits", &["digits.csv.gz"]).unwrap_err();
    /// assert!(err.to_string().contains("digits.csv.gz"));
    /// ```
    pub fn resolve(&self, set: &str, files: &[&str]) -> Result<PathBuf> {
        let looked: Vec<PathBuf> = self.roots.iter().map(|r| r.join(set)).collect();
        looked
            .iter()
            .find(|p| holds(p, files))
            .cloned()
            .ok_or_else(|| Error::MissingDataset {
                set: set.to_owned(),
                files: files.iter().map(|&f| f.to_owned()).collect(),
                looked,
            })
    }
}

/// Whether `dir` holds every file of `files`, plain or gzipped.
fn holds(dir: &Path, files: &[&str]) -> bool {
    dir.is_dir()
        && files
            .iter()
            .all(|f| dir.join(f).is_file() || dir.join(format!("{f}.gz")).is_file())
}

/// The folder of dataset `set` holding `files` (each plain or with `.gz`
/// appended).
///
/// An explicit directory is authoritative: the set is looked for in
/// `explicit/set`, then in `explicit` itself (the set's own folder), and
/// nowhere else; when neither holds the files the error is
/// [`Error::NotInDataDir`], naming the directory, the files and both places.
/// Without one, the data-directory rule applies ([`DataDirs::from_env`]).
///
/// # Examples
///
/// ```
/// use descent_data::{resolve, Error};
/// use std::path::Path;
///
/// let err = resolve("mnist", &["train-images-idx3-ubyte"], Some(Path::new("/nowhere"))).unwrap_err();
/// assert!(matches!(err, Error::NotInDataDir { ref looked, .. } if looked.len() == 2));
/// ```
pub fn resolve(set: &str, files: &[&str], explicit: Option<&Path>) -> Result<PathBuf> {
    match explicit {
        Some(dir) => {
            let looked = vec![dir.join(set), dir.to_owned()];
            looked
                .iter()
                .find(|p| holds(p, files))
                .cloned()
                .ok_or_else(|| Error::NotInDataDir {
                    dir: dir.to_owned(),
                    set: set.to_owned(),
                    files: files.iter().map(|&f| f.to_owned()).collect(),
                    looked,
                })
        }
        None => DataDirs::from_env(None).resolve(set, files),
    }
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
        assert_eq!(dirs.resolve("digits", &[]).unwrap(), a.join("digits"));
        assert_eq!(dirs.resolve("mnist", &[]).unwrap(), b.join("mnist"));
        std::fs::remove_dir_all(&tmp).unwrap();
    }

    #[test]
    fn a_missing_set_names_itself_and_every_place_looked() {
        let dirs = DataDirs::new(vec!["/nonexistent/x".into(), "/nonexistent/y".into()]);
        let err = dirs.resolve("cifar10-samples", &[]).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("`cifar10-samples`"), "{msg}");
        assert!(msg.contains("/nonexistent/x/cifar10-samples"), "{msg}");
        assert!(msg.contains("/nonexistent/y/cifar10-samples"), "{msg}");
        assert!(msg.contains("DESCENT_DATA"), "{msg}");
    }

    #[test]
    fn an_explicit_directory_is_authoritative() {
        let tmp =
            std::env::temp_dir().join(format!("descent-data-explicit-{}", std::process::id()));
        let set = tmp.join("root").join("digits");
        std::fs::create_dir_all(&set).unwrap();
        std::fs::create_dir_all(tmp.join("empty")).unwrap();
        std::fs::write(set.join("digits.csv.gz"), b"x").unwrap();
        let files = ["digits.csv.gz"];
        // the root and the set's own folder are both accepted
        assert_eq!(
            resolve("digits", &files, Some(&tmp.join("root"))).unwrap(),
            set
        );
        assert_eq!(resolve("digits", &files, Some(&set)).unwrap(), set);
        // a directory without the files is an error, never a fall-back
        // (even with $DESCENT_DATA or ../shared/datasets holding the set)
        let err = resolve("digits", &files, Some(&tmp.join("empty"))).unwrap_err();
        match &err {
            Error::NotInDataDir {
                set, files, looked, ..
            } => {
                assert_eq!(set, "digits");
                assert_eq!(files, &["digits.csv.gz"]);
                assert_eq!(looked, &[tmp.join("empty/digits"), tmp.join("empty")]);
            }
            other => panic!("{other}"),
        }
        assert!(err.to_string().contains("digits.csv.gz"), "{err}");
        // a folder named like the set but without the files does not count
        std::fs::create_dir_all(tmp.join("empty/digits")).unwrap();
        assert!(resolve("digits", &files, Some(&tmp.join("empty"))).is_err());
        std::fs::remove_dir_all(&tmp).unwrap();
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
