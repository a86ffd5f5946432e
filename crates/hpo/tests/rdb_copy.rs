//! A study copies between storages (journal → SQLite → journal), and a
//! database storage refuses what it cannot honour with typed errors.

use descent_hpo::{
    Direction, Error, JournalStorage, MedianConfig, MedianPruner, RdbConfig, RdbStorage, Storage,
    Study, StudyConfig, TrialState, copy_study,
};

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("descent-hpo-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn a_study_copies_from_a_journal_to_sqlite_and_back() {
    let dir = temp_dir("copy");
    let journal = dir.join("a.jsonl");
    let study = Study::new(StudyConfig {
        seed: 3,
        ..Default::default()
    })
    .with_pruner(MedianPruner::new(MedianConfig::default()).unwrap())
    .with_storage(JournalStorage::open(&journal).unwrap())
    .unwrap();
    study
        .optimize(
            |t| {
                let x = t.suggest_float("x", -2.0, 2.0)?;
                let opt: &str = t.suggest_categorical("opt", &["sgd", "adam"])?;
                for step in 0..4 {
                    t.report(step, x * x + step as f64);
                    if t.should_prune() {
                        break;
                    }
                }
                if opt == "sgd" && x > 0.5 {
                    return Err(Error::NoCompletedTrial);
                }
                Ok(x * x)
            },
            30,
            1,
        )
        .unwrap();
    let original = study.trials();
    drop(study);

    let url = format!("sqlite:///{}", dir.join("b.db").display());
    let mut db =
        RdbStorage::open(&url, "copied", Direction::Minimize, RdbConfig::default()).unwrap();
    let mut src = JournalStorage::open(&journal).unwrap();
    assert_eq!(copy_study(&mut src, &mut db).unwrap(), 30);
    assert!(
        copy_study(&mut src, &mut db).is_err(),
        "the destination must be empty"
    );
    let back_path = dir.join("c.jsonl");
    let mut back = JournalStorage::open(&back_path).unwrap();
    assert_eq!(copy_study(&mut db, &mut back).unwrap(), 30);
    let copied = back.load().unwrap().trials;
    assert_eq!(copied.len(), original.len());
    for (a, b) in original.iter().zip(&copied) {
        assert_eq!((a.number, a.state, a.value), (b.number, b.state, b.value));
        assert_eq!(a.params, b.params);
        assert_eq!(a.distributions, b.distributions);
        assert_eq!(a.intermediate, b.intermediate);
        assert_eq!(a.message, b.message);
    }
    assert!(copied.iter().any(|t| t.state == TrialState::Fail));
    drop((db, src, back));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_database_storage_refuses_what_it_cannot_honour_with_typed_errors() {
    let dir = temp_dir("refuse");
    let url = format!("sqlite:///{}", dir.join("s.db").display());
    assert!(matches!(
        RdbStorage::open(
            "mysql://x@y/z",
            "s",
            Direction::Minimize,
            RdbConfig::default()
        ),
        Err(Error::StorageUrl { .. })
    ));
    assert!(matches!(
        RdbStorage::open("sqlite:///", "s", Direction::Minimize, RdbConfig::default()),
        Err(Error::StorageUrl { .. })
    ));
    drop(RdbStorage::open(&url, "s", Direction::Minimize, RdbConfig::default()).unwrap());
    assert!(matches!(
        RdbStorage::open(&url, "s", Direction::Maximize, RdbConfig::default()),
        Err(Error::StudyMismatch { .. })
    ));
    let conn = rusqlite::Connection::open(dir.join("s.db")).unwrap();
    conn.execute("UPDATE alembic_version SET version_num = 'v3.0.0.d'", [])
        .unwrap();
    drop(conn);
    let err = RdbStorage::open(&url, "s", Direction::Minimize, RdbConfig::default()).unwrap_err();
    assert!(
        matches!(&err, Error::SchemaVersion { found, .. } if found == "v3.0.0.d"),
        "{err}"
    );
    assert!(matches!(
        RdbStorage::open(
            "postgresql://nobody@127.0.0.1:1/none",
            "s",
            Direction::Minimize,
            RdbConfig::default()
        ),
        Err(Error::Database { op: "connect", .. })
    ));
    std::fs::remove_dir_all(&dir).unwrap();
}
