//! The embedded default storage: an append-only JSON-lines journal.
//!
//! Invariant: loading a journal never fails on its content: unparsable lines
//! and repeated trial numbers are skipped and returned as `LoadWarning`s, a
//! torn last line is cut, a whole last record without its newline is kept,
//! and an append that fails part-way is rolled back.

use super::{LoadWarning, Loaded, Storage};
use crate::{Error, FrozenTrial, Result};
use std::collections::BTreeSet;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// One finished trial per line, as JSON, appended and `fsync`ed before the
/// study starts another trial.
///
/// Loading skips, and reports as a [`LoadWarning`], any line that does not
/// parse (a write torn by a crash, a corrupt byte) and any repeated trial
/// number; it is never fatal to the other lines. A last line without its
/// newline that holds a whole record is kept and its newline written; a torn
/// one is cut off the file, so the next record starts on a line of its own.
/// An append that fails part-way (a full disk) is rolled back.
///
/// # Examples
///
/// ```
/// use descent_hpo::{JournalStorage, Study, StudyConfig};
///
/// let path = std::env::temp_dir().join(format!("descent-hpo-doc-{}.jsonl", std::process::id()));
/// # let _ = std::fs::remove_file(&path);
/// let objective = |t: &mut descent_hpo::Trial| Ok::<_, descent_hpo::Error>(t.suggest_float("x", 0.0, 1.0)?);
/// let study = Study::new(StudyConfig::default()).with_storage(JournalStorage::open(&path)?)?;
/// study.optimize(objective, 3, 1)?;
/// drop(study);
/// let resumed = Study::new(StudyConfig::default()).with_storage(JournalStorage::open(&path)?)?;
/// assert_eq!(resumed.trials().len(), 3);
/// # std::fs::remove_file(&path).unwrap();
/// # Ok::<(), descent_hpo::Error>(())
/// ```
#[derive(Debug)]
pub struct JournalStorage {
    path: PathBuf,
    file: File,
}

impl JournalStorage {
    /// Opens (or creates) the journal at `path`.
    /// A new file's directory entry is synced too, so the journal itself
    /// survives a power cut, not only a killed process.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_owned();
        let existed = path.exists();
        let file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)
            .map_err(|source| Error::Io {
                path: path.clone(),
                source,
            })?;
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
        if !existed && let Some(dir) = dir {
            // Best effort: some platforms cannot open a directory for syncing.
            let _ = File::open(dir).and_then(|d| d.sync_all());
        }
        Ok(JournalStorage { path, file })
    }

    /// The journal's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn truncate(&mut self, len: u64) -> Result<()> {
        self.file
            .set_len(len)
            .and_then(|()| self.file.sync_data())
            .map_err(|e| self.io(e))
    }

    fn io(&self, source: std::io::Error) -> Error {
        Error::Io {
            path: self.path.clone(),
            source,
        }
    }
}

impl Storage for JournalStorage {
    fn load(&mut self) -> Result<Loaded> {
        let mut bytes = Vec::new();
        let mut reader = File::open(&self.path).map_err(|e| self.io(e))?;
        reader.read_to_end(&mut bytes).map_err(|e| self.io(e))?;
        let complete = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let mut loaded = Loaded::default();
        let mut seen = BTreeSet::new();
        let warn = |line: usize, reason: String| LoadWarning::CorruptLine {
            path: self.path.clone(),
            line,
            reason,
        };
        let mut tail_kept = false;
        for (idx, raw) in bytes.split(|&b| b == b'\n').enumerate() {
            let line = idx + 1;
            if raw.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let is_tail =
                raw.as_ptr_range().end == bytes.as_ptr_range().end && complete < bytes.len();
            let parsed = std::str::from_utf8(raw)
                .map_err(|e| e.to_string())
                .and_then(|s| serde_json::from_str::<FrozenTrial>(s).map_err(|e| e.to_string()));
            match parsed {
                Ok(t) if !t.state.is_finished() => {
                    loaded.warnings.push(warn(line, "a running trial".into()))
                }
                Ok(t) if !seen.insert(t.number) => {
                    loaded.warnings.push(LoadWarning::DuplicateTrial {
                        path: self.path.clone(),
                        line,
                        number: t.number,
                    })
                }
                Ok(t) => {
                    tail_kept |= is_tail;
                    loaded.trials.push(t)
                }
                Err(reason) => loaded.warnings.push(warn(line, reason)),
            }
        }
        if complete < bytes.len() {
            if tail_kept {
                // A whole record that lost only its newline: finish its line.
                self.file.write_all(b"\n").map_err(|e| self.io(e))?;
                self.file.sync_data().map_err(|e| self.io(e))?;
            } else {
                // A torn last line: cut it so the next append starts a clean line.
                self.truncate(complete as u64)?;
            }
        }
        Ok(loaded)
    }

    fn append(&mut self, trial: &FrozenTrial) -> Result<()> {
        let mut line = serde_json::to_vec(trial).map_err(|source| Error::Encode {
            number: trial.number,
            source,
        })?;
        line.push(b'\n');
        let len = self.file.metadata().map_err(|e| self.io(e))?.len();
        let written = self
            .file
            .write_all(&line)
            .and_then(|()| self.file.sync_data());
        if let Err(e) = written {
            // A partial write (a full disk): roll it back so the next record
            // does not land glued to the fragment. If even that fails, the
            // next load cuts the torn line.
            let _ = self.truncate(len);
            return Err(self.io(e));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TrialState;

    fn temp(name: &str) -> PathBuf {
        let p =
            std::env::temp_dir().join(format!("descent-hpo-{name}-{}.jsonl", std::process::id()));
        let _ = std::fs::remove_file(&p);
        p
    }

    fn done(number: u64) -> FrozenTrial {
        let mut t = FrozenTrial::running(number);
        t.state = TrialState::Complete;
        t.value = Some(number as f64);
        t
    }

    #[test]
    fn a_torn_last_line_is_reported_skipped_and_cut() {
        let path = temp("torn");
        let mut j = JournalStorage::open(&path).unwrap();
        j.append(&done(0)).unwrap();
        j.append(&done(1)).unwrap();
        let full = std::fs::read(&path).unwrap();
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(&serde_json::to_vec(&done(2)).unwrap()[..20])
            .unwrap();
        drop(f);
        let mut j = JournalStorage::open(&path).unwrap();
        let loaded = j.load().unwrap();
        assert_eq!(loaded.trials, [done(0), done(1)]);
        assert!(matches!(
            &loaded.warnings[..],
            [LoadWarning::CorruptLine { line: 3, .. }]
        ));
        assert_eq!(std::fs::read(&path).unwrap(), full, "the torn tail is cut");
        j.append(&done(2)).unwrap();
        let again = JournalStorage::open(&path).unwrap().load().unwrap();
        assert_eq!(again.trials, [done(0), done(1), done(2)]);
        assert!(again.warnings.is_empty());
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn a_complete_last_record_without_its_newline_is_kept_on_disk() {
        let path = temp("no-newline");
        let mut text = serde_json::to_vec(&done(0)).unwrap();
        text.push(b'\n');
        text.extend(serde_json::to_vec(&done(1)).unwrap());
        std::fs::write(&path, &text).unwrap();
        let mut j = JournalStorage::open(&path).unwrap();
        let loaded = j.load().unwrap();
        assert_eq!(loaded.trials, [done(0), done(1)]);
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
        j.append(&done(2)).unwrap();
        drop(j);
        let again = JournalStorage::open(&path).unwrap().load().unwrap();
        assert_eq!(again.trials, [done(0), done(1), done(2)]);
        assert!(again.warnings.is_empty(), "{:?}", again.warnings);
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn corrupt_and_repeated_lines_are_skipped_without_losing_the_rest() {
        let path = temp("corrupt");
        let mut text = String::new();
        for line in [
            serde_json::to_string(&done(0)).unwrap(),
            "{\"number\": 1, garbage".to_owned(),
            serde_json::to_string(&done(2)).unwrap(),
            serde_json::to_string(&done(0)).unwrap(),
            "\u{0}\u{0}\u{0}".to_owned(),
        ] {
            text.push_str(&line);
            text.push('\n');
        }
        std::fs::write(&path, text).unwrap();
        let loaded = JournalStorage::open(&path).unwrap().load().unwrap();
        assert_eq!(loaded.trials, [done(0), done(2)]);
        assert_eq!(loaded.warnings.len(), 3);
        assert!(matches!(
            loaded.warnings[1],
            LoadWarning::DuplicateTrial {
                line: 4,
                number: 0,
                ..
            }
        ));
        assert!(loaded.warnings[0].to_string().contains("line 2 skipped"));
        std::fs::remove_file(&path).unwrap();
    }
}
