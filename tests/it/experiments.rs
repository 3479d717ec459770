//! Experiments end to end: compare is byte-identical whatever --jobs,
//! shards merge into the unsharded table, resume skips finished runs,
//! merge fails on a missing or duplicated shard, failures name the run,
//! and every plot renders as PNG and SVG.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use kubesim::experiment::compare::compare;
use kubesim::experiment::sweep::{self, Shard};
use kubesim::experiment::{merge, ExecOptions, Policy};

use crate::repo;

fn policies() -> Vec<Policy> {
    ["default", "best-fit"]
        .iter()
        .map(|p| Policy::parse(p).expect("policy"))
        .collect()
}

fn opts(jobs: usize) -> ExecOptions {
    ExecOptions {
        jobs,
        ..Default::default()
    }
}

fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn compare_is_identical_for_any_jobs() {
    let file = repo("scenarios/quickstart.yaml");
    let a = tempfile::tempdir().expect("tmp");
    let b = tempfile::tempdir().expect("tmp");
    let r1 = compare(
        &file,
        &[],
        &policies(),
        &[1, 2, 3],
        &opts(1),
        a.path(),
        &|_| {},
    )
    .expect("compare");
    let r2 = compare(
        &file,
        &[],
        &policies(),
        &[1, 2, 3],
        &opts(2),
        b.path(),
        &|_| {},
    )
    .expect("compare");
    assert!(r1.failures.is_empty() && r2.failures.is_empty());
    assert_eq!(r1.runs.rows.len(), 6);
    for f in ["runs.csv", "summary.csv", "cdf.csv"] {
        assert_eq!(
            read(&a.path().join(f)),
            read(&b.path().join(f)),
            "{f} differs"
        );
    }
    // Seeds differ between runs of one policy (the table is not constant).
    let digests: std::collections::BTreeSet<&String> = r1.runs.rows.iter().map(|r| &r[5]).collect();
    assert!(digests.len() > 1);
    // summary.csv: one row per policy and metric, with a CI for n = 3.
    let s = String::from_utf8(read(&a.path().join("summary.csv"))).expect("utf8");
    assert!(s.starts_with("scenario,overrides,policy,metric,n,mean,sd,ci95_lo,ci95_hi,median\n"));
    let row = s
        .lines()
        .find(|l| l.contains(",best-fit,makespan_us,"))
        .expect("makespan row");
    assert!(row.contains(",3,"), "{row}");
}

fn sweep_file(dir: &Path, bad: bool) -> PathBuf {
    let p = dir.join("sweep.yaml");
    let values = if bad { "[3, abc]" } else { "[3, 4]" };
    std::fs::write(
        &p,
        format!(
            "scenarios: [{}]\nset:\n- path: spec.cluster.nodePools[0].count\n  values: {values}\npolicies: [default, best-fit]\nseeds: 1..3\nuntil: 10m\n",
            repo("scenarios/quickstart.yaml").display()
        ),
    )
    .expect("write sweep");
    p
}

#[test]
fn shards_merge_into_the_unsharded_table() {
    let tmp = tempfile::tempdir().expect("tmp");
    let sw = sweep::load(&sweep_file(tmp.path(), false)).expect("sweep");
    assert_eq!(sw.plan.runs.len(), 12);
    let whole = tmp.path().join("whole");
    sweep::run(&sw, &whole, None, opts(2), false, &|_| {}, &|_| {}).expect("whole");
    // Shards in two directories, as on two machines.
    let (d0, d1) = (tmp.path().join("m0"), tmp.path().join("m1"));
    for (i, d) in [(0, &d0), (1, &d1), (2, &d1)] {
        let r = sweep::run(
            &sw,
            d,
            Some(Shard { index: i, count: 3 }),
            opts(1),
            false,
            &|_| {},
            &|_| {},
        )
        .expect("shard");
        assert!(r.failures.is_empty());
    }
    let (runs, summary) = merge::merge(&[d0.clone(), d1.clone()]).expect("merge");
    assert_eq!(runs.to_bytes(), read(&whole.join("runs.csv")));
    assert_eq!(summary.to_bytes(), read(&whole.join("summary.csv")));

    // A missing shard fails the merge and names it.
    let e = merge::merge(std::slice::from_ref(&d1)).expect_err("missing shard");
    let msg = e.to_string();
    assert!(msg.contains("4 of 12 runs are missing"), "{msg}");
    assert!(msg.contains("shard(s) without output: 0/3"), "{msg}");

    // A duplicated shard (copied into a second directory) fails too.
    let d2 = tmp.path().join("dup");
    std::fs::create_dir_all(&d2).expect("mkdir");
    for ext in ["csv", "json"] {
        let n = format!("shard-0000-of-0003.{ext}");
        std::fs::copy(d0.join(&n), d2.join(&n)).expect("copy");
    }
    let e = merge::merge(&[d0, d1, d2]).expect_err("duplicate");
    assert!(e.to_string().contains("appears twice"), "{e}");
}

#[test]
fn resume_skips_finished_runs() {
    let tmp = tempfile::tempdir().expect("tmp");
    let sw = sweep::load(&sweep_file(tmp.path(), false)).expect("sweep");
    let out = tmp.path().join("out");
    let count = AtomicUsize::new(0);
    let done = |_: &kubesim::experiment::RunDef| {
        count.fetch_add(1, Ordering::SeqCst);
    };
    let first = sweep::run(&sw, &out, None, opts(2), false, &|_| {}, &done).expect("first");
    assert_eq!((first.ran, first.skipped), (12, 0));
    assert_eq!(count.load(Ordering::SeqCst), 12);
    let table = read(&out.join("runs.csv"));
    let again = sweep::run(&sw, &out, None, opts(2), false, &|_| {}, &done).expect("again");
    assert_eq!((again.ran, again.skipped), (0, 12));
    assert_eq!(count.load(Ordering::SeqCst), 12, "no run executed again");
    assert_eq!(read(&out.join("runs.csv")), table);
    // Remove one run's record: only that run runs again.
    let rec = out
        .join("runs")
        .join(format!("{}.json", sw.plan.runs[5].id()));
    std::fs::remove_file(&rec).expect("remove record");
    let third = sweep::run(&sw, &out, None, opts(2), false, &|_| {}, &done).expect("third");
    assert_eq!((third.ran, third.skipped), (1, 11));
    assert_eq!(count.load(Ordering::SeqCst), 13);
    assert_eq!(read(&out.join("runs.csv")), table);
}

#[test]
fn a_failing_run_is_named_and_does_not_lose_the_others() {
    let tmp = tempfile::tempdir().expect("tmp");
    let sw = sweep::load(&sweep_file(tmp.path(), true)).expect("sweep");
    let out = tmp.path().join("out");
    let r = sweep::run(
        &sw,
        &out,
        Some(Shard { index: 0, count: 1 }),
        opts(2),
        false,
        &|_| {},
        &|_| {},
    )
    .expect("sweep runs");
    assert_eq!(r.failures.len(), 6, "the count=abc half fails");
    assert_eq!(r.runs.rows.len(), 6, "the count=3 half is kept");
    let msg = r.failures[0].to_string();
    assert!(
        msg.contains("overrides [spec.cluster.nodePools[0].count=abc]"),
        "{msg}"
    );
    assert!(msg.contains("policy default, seed 1"), "{msg}");
    assert!(msg.contains("reproduce it alone: kubesim run "), "{msg}");
    assert!(
        msg.contains(
            "--set spec.cluster.nodePools[0].count=abc --policy default --seed 1 --until 10m"
        ),
        "{msg}"
    );
    // The merge refuses the incomplete sweep and repeats why.
    let e = merge::merge(&[out]).expect_err("incomplete");
    assert!(e.to_string().contains("6 of 12 runs are missing"), "{e}");
    assert!(e.to_string().contains("reproduce it alone"), "{e}");
}

#[test]
fn a_bad_override_path_is_an_error_naming_it() {
    use kubesim::scenario::set::SetOverride;
    use kubesim::scenario::{load_file_with, LoadOptions};
    let file = repo("scenarios/quickstart.yaml");
    for (set, want) in [
        (
            "spec.cluster.nodePools[7].count=1",
            "index [7] is out of range",
        ),
        ("spec.cluster.nodePoolz[0].count=1", "not a list"),
        (
            "spec.cluster.nodePools[0].cuont=1",
            "kubesim has no such field",
        ),
        ("Pod/nope:spec.priority=1", "no Pod document named \"nope\""),
    ] {
        let s = SetOverride::parse(set).expect("parse");
        let e = load_file_with(&file, LoadOptions::default(), &[s]).expect_err(set);
        let msg = e.to_string();
        assert!(msg.contains(set), "{set}: {msg}");
        assert!(msg.contains(want), "{set}: {msg}");
    }
    let s = SetOverride::parse("spec.cluster.nodePools[0].count=5").expect("parse");
    let sc = load_file_with(&file, LoadOptions::default(), &[s]).expect("valid override");
    assert_eq!(sc.node_pools[0].count, 5);
}

fn assert_renders(files: &[PathBuf], name: &str) {
    for ext in ["png", "svg"] {
        let p = files
            .iter()
            .find(|f| f.file_name().and_then(|n| n.to_str()) == Some(&format!("{name}.{ext}")))
            .unwrap_or_else(|| panic!("{name}.{ext} not drawn; got {files:?}"));
        let b = read(p);
        assert!(b.len() > 5_000, "{} is only {} bytes", p.display(), b.len());
        if ext == "png" {
            assert_eq!(&b[..8], b"\x89PNG\r\n\x1a\n", "{}", p.display());
        } else {
            let s = String::from_utf8_lossy(&b);
            assert!(
                s.contains("<svg") && s.trim_end().ends_with("</svg>"),
                "{}",
                p.display()
            );
            assert!(s.contains("<text"), "{} has no text", p.display());
        }
    }
}

#[test]
fn plots_render() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("run");
    kubesim::runner::run_to_dir(
        crate::load("scenarios/quickstart.yaml"),
        &crate::spec(None),
        &dir,
    )
    .expect("run");
    let files = kubesim::plot::run::draw(&dir).expect("plots");
    for n in ["cluster", "heatmap-requests", "latency", "jobs", "gantt"] {
        assert_renders(&files, n);
    }
    // Files other components write: drawn only when present.
    assert!(!files
        .iter()
        .any(|f| f.to_string_lossy().contains("rollout")));
    for f in [
        "workloads.csv",
        "hpa.csv",
        "services.csv",
        "node_usage.csv",
        "events.jsonl",
    ] {
        std::fs::copy(repo("tests/data/plots").join(f), dir.join(f)).expect("fixture");
    }
    let files = kubesim::plot::run::draw(&dir).expect("plots with fixtures");
    for n in [
        "rollout-default-web",
        "hpa-default-web",
        "services",
        "heatmap-usage",
        "jobs",
    ] {
        assert_renders(&files, n);
    }

    // Comparison plots.
    let cmp = tmp.path().join("cmp");
    compare(
        &repo("scenarios/quickstart.yaml"),
        &[],
        &policies(),
        &[1, 2],
        &opts(2),
        &cmp,
        &|_| {},
    )
    .expect("compare");
    let files = kubesim::plot::compare::draw(&cmp).expect("compare plots");
    assert_renders(&files, "compare-bars");
    assert_renders(&files, "compare-cdf");
}

#[test]
fn stranding_counts_cpu_left_on_memory_full_nodes() {
    // One node, 4 CPU / 4Gi; two pods of 500m / 2Gi fill its memory, so
    // 3 of its 4 CPUs are stranded while both run (the typical pod is
    // 500m / 2Gi and cannot land there).
    let sc = crate::load_text(
        r#"
apiVersion: kubesim.dev/v1alpha1
kind: Scenario
metadata: {name: strand}
spec:
  seed: 1
  duration: 10m
  sampleInterval: 1m
  cluster:
    nodePools:
    - name: pool
      count: 1
      capacity: {cpu: "4", memory: 4Gi, pods: "110"}
---
apiVersion: v1
kind: Pod
metadata: {name: a}
spec:
  containers:
  - {name: c, image: x, resources: {requests: {cpu: 500m, memory: 2Gi}}}
---
apiVersion: v1
kind: Pod
metadata: {name: b}
spec:
  containers:
  - {name: c, image: x, resources: {requests: {cpu: 500m, memory: 2Gi}}}
"#,
    );
    let r = crate::run(sc);
    let s = kubesim::output::Summary::of(&r);
    assert_eq!(s.stranding.typical_pod_cpu_m, 500);
    assert_eq!(s.stranding.typical_pod_memory_bytes, 2 << 30);
    // The engine skips the idle stretch: samples at 0 (one pod assumed,
    // 2Gi free: nothing stranded), 1m and 10m (both running). Weighted by
    // the time each holds (60 s, 540 s, 0 s): 3000 of 4000 millicores
    // stranded for 540 of 600 s.
    let t: Vec<u64> = r.samples.iter().map(|s| s.t_us).collect();
    assert_eq!(t, vec![0, 60_000_000, 600_000_000]);
    assert_eq!(s.stranding.cpu_ppm, 750_000 * 540 / 600);
    assert_eq!(s.stranding.memory_ppm, 0);
    assert_eq!(
        s.utilization.memory_requested_ppm,
        (500_000 * 60 + 1_000_000 * 540) / 600
    );
    assert_eq!(s.node_seconds, 600);
}

#[test]
fn example_sweep_files_load() {
    let sw = sweep::load(&repo("examples/sweeps/quickstart-sweep.yaml")).expect("quickstart sweep");
    assert_eq!(sw.plan.runs.len(), 16);
    let sw = sweep::load(&repo("examples/sweeps/k8s-sweep.yaml")).expect("k8s sweep");
    assert_eq!(sw.plan.runs.len(), 120);
    let tmp = tempfile::tempdir().expect("tmp");
    let bad = tmp.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "scenarios: [a.yaml]\npolicies: [default]\nseeds: 1..2\nsedes: 3\n",
    )
    .expect("write");
    let e = sweep::load(&bad).expect_err("unknown field");
    assert!(e.to_string().contains("sedes"), "{e}");
}

/// The command line: shards chosen by JOB_COMPLETION_INDEX and by a
/// 1-based Slurm array merge into the unsharded table; --json is JSON.
#[test]
fn cli_shards_from_batch_environments_merge() {
    use std::process::Command;
    let bin = env!("CARGO_BIN_EXE_kubesim");
    let tmp = tempfile::tempdir().expect("tmp");
    let file = sweep_file(tmp.path(), false);
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let mut c = Command::new(bin);
        c.args(args);
        for k in [
            "JOB_COMPLETION_INDEX",
            "SLURM_ARRAY_TASK_ID",
            "SLURM_ARRAY_TASK_MIN",
            "SLURM_ARRAY_TASK_COUNT",
        ] {
            c.env_remove(k);
        }
        for (k, v) in env {
            c.env(k, v);
        }
        let o = c.output().expect("kubesim runs");
        assert!(
            o.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let f = file.to_str().expect("utf8 path");
    let whole = tmp.path().join("whole");
    let out = run(
        &[
            "sweep",
            f,
            "--out",
            whole.to_str().expect("p"),
            "--json",
            "-j",
            "2",
        ],
        &[],
    );
    let v: serde_json::Value = serde_json::from_str(&out).expect("--json prints JSON");
    assert_eq!(v["ran"], 12);
    let k8s = tmp.path().join("k8s");
    let k = k8s.to_str().expect("p");
    for i in ["0", "1"] {
        run(
            &["sweep", f, "--out", k, "--shards", "3", "-q"],
            &[("JOB_COMPLETION_INDEX", i)],
        );
    }
    // The third shard from a Slurm array numbered 1..3 (task 3 = shard 2).
    run(
        &["sweep", f, "--out", k, "-q"],
        &[
            ("SLURM_ARRAY_TASK_ID", "3"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
            ("SLURM_ARRAY_TASK_COUNT", "3"),
        ],
    );
    let merged = tmp.path().join("merged");
    run(
        &["merge", k, "--out", merged.to_str().expect("p"), "-q"],
        &[],
    );
    for t in ["runs.csv", "summary.csv"] {
        assert_eq!(read(&merged.join(t)), read(&whole.join(t)), "{t}");
    }
}
