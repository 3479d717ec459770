//! Golden test: the quickstart's result files, byte for byte. After an
//! intended change, regenerate with `UPDATE_GOLDEN=1 cargo test golden`
//! and review the diff.

use kubesim::runner::run_to_dir;

use crate::{load, repo, spec};

const FILES: [&str; 5] = [
    "pods.csv",
    "nodes.csv",
    "timeseries.csv",
    "summary.json",
    "events.jsonl",
];

#[test]
fn quickstart_outputs_are_pinned() {
    let dir = tempfile::tempdir().expect("tempdir");
    run_to_dir(load("scenarios/quickstart.yaml"), &spec(None), dir.path()).expect("run");
    let golden = repo("tests/golden/quickstart");
    let update = std::env::var("UPDATE_GOLDEN").is_ok_and(|v| v == "1");
    for f in FILES {
        let got = std::fs::read_to_string(dir.path().join(f)).expect("result file");
        let path = golden.join(f);
        if update {
            std::fs::create_dir_all(&golden).expect("mkdir");
            std::fs::write(&path, &got).expect("write golden");
            continue;
        }
        let want = std::fs::read_to_string(&path)
            .unwrap_or_else(|_| panic!("missing {}; run with UPDATE_GOLDEN=1", path.display()));
        if got != want {
            let line = got
                .lines()
                .zip(want.lines())
                .position(|(a, b)| a != b)
                .map(|i| i + 1)
                .unwrap_or(got.lines().count().min(want.lines().count()) + 1);
            panic!(
                "{f} differs from the golden copy at line {line}\n got: {:?}\nwant: {:?}",
                got.lines().nth(line - 1),
                want.lines().nth(line - 1)
            );
        }
    }
}
