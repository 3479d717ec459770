//! Same scenario and seed ⇒ byte-identical results; another seed ⇒
//! different results where randomness is used.

use std::collections::BTreeMap;
use std::path::Path;

use kubesim::runner::{run_to_dir, RunSpec};

use crate::{load, node_name, spec};

fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut m = BTreeMap::new();
    for e in std::fs::read_dir(dir).expect("read_dir") {
        let e = e.expect("entry");
        m.insert(
            e.file_name().to_string_lossy().into_owned(),
            std::fs::read(e.path()).expect("read"),
        );
    }
    m
}

#[test]
fn same_seed_gives_identical_bytes() {
    for scenario in ["scenarios/quickstart.yaml", "tests/data/ties.yaml"] {
        let a = tempfile::tempdir().expect("tempdir");
        let b = tempfile::tempdir().expect("tempdir");
        run_to_dir(load(scenario), &spec(Some(7)), a.path()).expect("run a");
        run_to_dir(load(scenario), &spec(Some(7)), b.path()).expect("run b");
        let (fa, fb) = (files(a.path()), files(b.path()));
        assert_eq!(fa.keys().collect::<Vec<_>>(), fb.keys().collect::<Vec<_>>());
        assert_eq!(
            fa.len(),
            5,
            "five result files, no temporary leftovers: {:?}",
            fa.keys()
        );
        for (k, v) in &fa {
            assert!(
                v == &fb[k],
                "{scenario}: {k} differs between identical runs"
            );
        }
    }
}

#[test]
fn different_seeds_change_random_choices() {
    let placements = |seed: u64| {
        let r = kubesim::runner::run_in_memory(load("tests/data/ties.yaml"), &spec(Some(seed)))
            .expect("run");
        let v: Vec<(String, Option<String>)> = r
            .pods
            .iter()
            .map(|p| (p.meta.name.clone(), node_name(&r, p)))
            .collect();
        (v, r.event_digest)
    };
    let (a, da) = placements(1);
    let (b, db) = placements(2);
    assert_ne!(a, b, "tie-breaking and generated names depend on the seed");
    assert_ne!(da, db);
    assert!(a.iter().all(|(_, n)| n.is_some()), "every pod fits");
}

#[test]
fn determinism_check_mode_runs_twice_and_passes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = RunSpec {
        check_determinism: true,
        ..spec(None)
    };
    run_to_dir(load("tests/data/ties.yaml"), &s, dir.path()).expect("two identical runs");
    assert_eq!(
        files(dir.path()).len(),
        5,
        "the second run's log is removed"
    );
}

#[test]
fn progress_reports_do_not_change_the_run() {
    let sc = load("scenarios/quickstart.yaml");
    let opts = spec(Some(7)).options(&sc);
    let plain = kubesim::cluster::World::new(sc.clone(), &opts, None)
        .expect("world")
        .run()
        .expect("run");
    let mut reports = Vec::new();
    let watched = kubesim::cluster::World::new(sc, &opts, None)
        .expect("world")
        .run_with_progress(&mut |p| reports.push(p))
        .expect("run");
    assert_eq!(plain.event_digest, watched.event_digest);
    // The first report comes before the first event; later ones every
    // PROGRESS_EVERY events, with simulated time never going back.
    assert!(!reports.is_empty());
    assert_eq!(reports[0].events, 0);
    assert!(reports.windows(2).all(|w| w[0].now <= w[1].now));
    let expected = watched
        .counters
        .events
        .div_ceil(kubesim::cluster::PROGRESS_EVERY);
    assert_eq!(reports.len() as u64, expected.max(1));
}
