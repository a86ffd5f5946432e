//! A journal append cut short by a full disk is rolled back, so the next
//! append starts a clean line and no record is lost.
//!
//! The disk is made "full" with `RLIMIT_FSIZE` (writes past the limit fail
//! with `EFBIG` after a partial write); this file holds one test so the limit
//! touches nothing else.

use descent_hpo::{FrozenTrial, JournalStorage, Storage, TrialState};

fn done(number: u64) -> FrozenTrial {
    let mut t = FrozenTrial::running(number);
    t.state = TrialState::Complete;
    t.value = Some(number as f64 + 0.25);
    t.params.insert("lr", 0.001 * number as f64);
    t
}

fn set_file_size_limit(limit: libc::rlim_t) {
    let mut current = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: plain libc calls with valid pointers.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_FSIZE, &mut current), 0);
        let wanted = libc::rlimit {
            rlim_cur: limit.min(current.rlim_max),
            rlim_max: current.rlim_max,
        };
        assert_eq!(libc::setrlimit(libc::RLIMIT_FSIZE, &wanted), 0);
    }
}

#[test]
fn a_partial_append_on_a_full_disk_is_rolled_back() {
    // SAFETY: ignoring SIGXFSZ makes an oversized write fail with EFBIG instead of killing us.
    unsafe { libc::signal(libc::SIGXFSZ, libc::SIG_IGN) };
    let path = std::env::temp_dir().join(format!(
        "descent-hpo-disk-full-{}.jsonl",
        std::process::id()
    ));
    let _ = std::fs::remove_file(&path);
    let mut journal = JournalStorage::open(&path).unwrap();
    journal.append(&done(0)).unwrap();
    journal.append(&done(1)).unwrap();
    let len = std::fs::metadata(&path).unwrap().len();
    // Room for 20 more bytes: the next record is torn part-way.
    set_file_size_limit(len + 20);
    assert!(journal.append(&done(2)).is_err(), "the disk is full");
    set_file_size_limit(libc::RLIM_INFINITY);
    assert_eq!(
        std::fs::metadata(&path).unwrap().len(),
        len,
        "the fragment is rolled back"
    );
    journal.append(&done(3)).unwrap();
    drop(journal);
    let loaded = JournalStorage::open(&path).unwrap().load().unwrap();
    assert_eq!(loaded.trials, [done(0), done(1), done(3)]);
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    std::fs::remove_file(&path).unwrap();
}
