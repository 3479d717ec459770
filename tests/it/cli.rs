//! The `kubesim` binary: exit codes, and nothing written for invalid input.

use std::process::Command;

use crate::repo;

fn kubesim() -> Command {
    Command::new(env!("CARGO_BIN_EXE_kubesim"))
}

#[test]
fn run_writes_results_and_prints_a_summary() {
    let out = tempfile::tempdir().expect("tempdir");
    let o = kubesim()
        .arg("run")
        .arg(repo("scenarios/quickstart.yaml"))
        .arg("--out")
        .arg(out.path())
        .output()
        .expect("runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("event digest"), "{stdout}");
    for f in [
        "events.jsonl",
        "pods.csv",
        "nodes.csv",
        "timeseries.csv",
        "summary.json",
    ] {
        assert!(out.path().join(f).is_file(), "{f} missing");
    }
}

#[test]
fn invalid_scenarios_write_nothing_and_fail() {
    let out = tempfile::tempdir().expect("tempdir");
    let dir = out.path().join("results");
    let o = kubesim()
        .arg("run")
        .arg(repo("tests/data/invalid.yaml"))
        .arg("--out")
        .arg(&dir)
        .output()
        .expect("runs");
    assert_eq!(o.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("invalid.yaml:29:18: error"), "{stderr}");
    assert!(stderr.contains("nothing was run"), "{stderr}");
    assert!(
        !dir.exists(),
        "no results directory for an invalid scenario"
    );

    let v = kubesim()
        .arg("validate")
        .arg(repo("tests/data/invalid.yaml"))
        .output()
        .expect("runs");
    assert_eq!(v.status.code(), Some(1));
    let ok = kubesim()
        .arg("validate")
        .arg(repo("scenarios/quickstart.yaml"))
        .output()
        .expect("runs");
    assert!(ok.status.success());
}

#[test]
fn missing_files_and_bad_flags_are_clear_errors() {
    let o = kubesim()
        .args(["run", "/nonexistent/x.yaml"])
        .output()
        .expect("runs");
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("failed to read /nonexistent/x.yaml"));
    let o = kubesim()
        .arg("run")
        .arg(repo("scenarios/quickstart.yaml"))
        .args(["--until", "soon"])
        .output()
        .expect("runs");
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--until"));
}
