//! Every example scenario in `scenarios/` (top level) loads with
//! `--strict` (no error, no unused field). Scenarios that replay the
//! public traces need them beside the repository (`../shared/traces`,
//! as their relative paths say); without them they are skipped, saying so.

use std::path::PathBuf;

use kubesim::scenario::{load_file, LoadOptions};

use crate::repo;

fn examples() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(repo("scenarios"))
        .expect("scenarios/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    v.sort();
    v
}

#[test]
fn every_example_scenario_loads_strictly() {
    let traces_here = repo("../shared/traces").is_dir();
    let files = examples();
    assert!(files.len() >= 20, "examples found: {}", files.len());
    let mut failed = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).expect("read");
        if text.contains("shared/traces/") && !traces_here {
            eprintln!(
                "SKIPPED {}: it replays a public trace and ../shared/traces is not beside the repository",
                f.display()
            );
            continue;
        }
        if let Err(e) = load_file(f, LoadOptions { strict: true }) {
            failed.push(format!("{}: {e}", f.display()));
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}
