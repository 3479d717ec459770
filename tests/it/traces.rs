//! Trace importers on the real public traces (row counts and totals from
//! each folder's README), round trips (import → YAML → load gives the same
//! objects as a direct replay), malformed rows, `spec.traces` replay, and
//! the FGD study's invariants on the openb `default` workload.
//!
//! The traces are found through `$KUBESIM_TRACES` or `../shared/traces`
//! beside the repository; when absent, the tests that need them print why
//! they skip.

use std::path::{Path, PathBuf};

use kubesim::engine::Duration;
use kubesim::fgd::{self, report, Policy, Workload};
use kubesim::model::gpu;
use kubesim::scenario::{load_file, load_str, Action, LoadOptions, Object};
use kubesim::trace::{self, philly, replay, Format, ImportOptions, Trace};

fn traces_dir() -> Option<PathBuf> {
    let p = std::env::var_os("KUBESIM_TRACES")
        .map(PathBuf::from)
        .unwrap_or_else(|| super::repo("../shared/traces"));
    if p.join("alibaba-gpu-v2023-openb").is_dir() {
        Some(p)
    } else {
        eprintln!(
            "SKIPPED: the traces are not at {} (set KUBESIM_TRACES to the traces directory)",
            p.display()
        );
        None
    }
}

fn imp(format: Format, files: &[PathBuf], with_times: bool) -> Trace {
    let opts = ImportOptions {
        skip_bad_rows: false,
        with_times,
    };
    trace::import(format, files, &opts).unwrap_or_else(|e| panic!("{e}"))
}

fn gpus(t: &Trace) -> u64 {
    t.nodes
        .iter()
        .map(|n| u64::from(n.gpus.as_ref().map_or(0, |g| g.0)))
        .sum()
}

#[test]
fn openb_node_lists() {
    let Some(d) = traces_dir() else { return };
    let o = d.join("alibaba-gpu-v2023-openb");
    let t = imp(
        Format::AlibabaGpuV2023,
        &[o.join("openb_node_list_gpu_node.csv")],
        false,
    );
    assert_eq!(t.nodes.len(), 1213);
    assert_eq!(gpus(&t), 6212);
    assert_eq!(
        t.nodes.iter().map(|n| n.capacity.cpu_m).sum::<i64>(),
        107_018_000
    );
    assert_eq!(
        t.nodes.iter().map(|n| n.capacity.memory).sum::<i64>(),
        503_828_480 * trace::MIB
    );
    let by_model = |m: &str| {
        let ns: Vec<_> = t
            .nodes
            .iter()
            .filter(|n| n.gpus.as_ref().is_some_and(|g| g.1 == m))
            .collect();
        (
            ns.len(),
            ns.iter()
                .map(|n| n.gpus.as_ref().map_or(0, |g| g.0))
                .sum::<u32>(),
        )
    };
    assert_eq!(by_model("G2"), (549, 4392));
    assert_eq!(by_model("T4"), (404, 842));
    assert_eq!(by_model("A10"), (2, 2));
    let all = imp(
        Format::AlibabaGpuV2023,
        &[o.join("openb_node_list_all_node.csv")],
        false,
    );
    assert_eq!(all.nodes.len(), 1523);
    assert_eq!(gpus(&all), 6212);
    assert_eq!(all.nodes.iter().filter(|n| n.gpus.is_none()).count(), 310);
}

#[test]
fn openb_pod_lists() {
    let Some(d) = traces_dir() else { return };
    let o = d.join("alibaba-gpu-v2023-openb");
    let t = imp(
        Format::AlibabaGpuV2023,
        &[o.join("openb_pod_list_default.csv")],
        true,
    );
    assert_eq!(t.pods.len(), 8152);
    let count = |k: u32| {
        t.pods
            .iter()
            .filter(|p| p.gpu.as_ref().map_or(0, |g| g.num_gpu) == k)
            .count()
    };
    assert_eq!(
        [count(0), count(1), count(2), count(4), count(8)],
        [1088, 6989, 16, 15, 44]
    );
    let sharing = t
        .pods
        .iter()
        .filter(|p| p.gpu.as_ref().is_some_and(|g| g.is_sharing()))
        .count();
    assert_eq!(sharing, 3078);
    let total: i64 = t
        .pods
        .iter()
        .filter_map(|p| p.gpu.as_ref())
        .map(|g| g.total_milli())
        .sum();
    assert_eq!(total, 6_086_800);
    // 897 pods were never scheduled; the others have run times.
    assert!(t.pods.iter().filter(|p| p.duration.is_some()).count() > 7000);
    // EXPERIMENT.md §5: 91 distinct specs, the top 35 cover 95%.
    let beh = kubesim::model::pod::PodBehavior {
        startup: Duration::ZERO,
        run: None,
        exit_code: 0,
        shutdown: Duration::ZERO,
        ..Default::default()
    };
    let pods: Vec<_> = t
        .pods
        .iter()
        .map(|p| replay::pod(p, p.name.clone(), None, &beh))
        .collect();
    assert_eq!(gpu::shape_counts(&pods).len(), 91);
    assert_eq!(gpu::typical_pods(&pods).pods.len(), 35);
    // gpuspec files set models; multigpu files have five columns.
    let s = imp(
        Format::AlibabaGpuV2023,
        &[o.join("openb_pod_list_gpuspec10.csv")],
        false,
    );
    assert_eq!(
        s.pods
            .iter()
            .filter(|p| p.gpu.as_ref().is_some_and(|g| !g.models.is_empty()))
            .count(),
        732
    );
    let m = imp(
        Format::AlibabaGpuV2023,
        &[o.join("openb_pod_list_multigpu20.csv")],
        false,
    );
    assert_eq!(m.pods.len(), 8324);
    assert_eq!(
        m.pods
            .iter()
            .filter(|p| p.gpu.as_ref().is_some_and(|g| g.num_gpu > 1))
            .count(),
        247
    );
    // Times asked of a file without them: an error naming file, line and column.
    let opts = ImportOptions {
        skip_bad_rows: false,
        with_times: true,
    };
    let e = trace::import(
        Format::AlibabaGpuV2023,
        &[o.join("openb_pod_list_multigpu20.csv")],
        &opts,
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("openb_pod_list_multigpu20.csv:2: column creation_time"),
        "{e}"
    );
}

#[test]
fn dlrm_v2017_pai_and_philly() {
    let Some(d) = traces_dir() else { return };
    let t = imp(
        Format::AlibabaGpuV2025Dlrm,
        &[d.join("alibaba-gpu-v2025-dlrm/disaggregated_DLRM_trace.csv")],
        true,
    );
    assert_eq!(t.pods.len(), 23_871);
    let role = |r: &str| {
        t.pods
            .iter()
            .filter(|p| p.labels.get("alibaba.com/role").map(String::as_str) == Some(r))
            .count()
    };
    assert_eq!((role("CN"), role("HN")), (16_485, 7_386));
    assert_eq!(t.pods.iter().filter(|p| p.gpu.is_some()).count(), 7_386);
    assert_eq!(
        t.pods.iter().filter(|p| p.duration.is_none()).count(),
        8_878
    );
    assert!(t
        .pods
        .iter()
        .all(|p| p.requests.get(trace::dlrm::RDMA) >= 1));

    let v = d.join("alibaba-v2017-batch");
    let t = imp(
        Format::AlibabaV2017,
        &[v.join("batch_task.csv"), v.join("server_event.csv")],
        true,
    );
    assert_eq!(t.pods.len(), 80_553);
    assert_eq!(
        t.pods.iter().map(|p| u64::from(p.replicas)).sum::<u64>(),
        11_909_321
    );
    assert_eq!(
        t.pods.iter().filter(|p| p.requests.cpu_m == 0).count(),
        9_017
    );
    assert_eq!(t.nodes.len(), 1_313);
    assert!(t.nodes.iter().all(|n| n.capacity.cpu_m == 64_000));
    assert_eq!(t.stats.ignored.get("server_event softerror"), Some(&39));

    let p = d.join("alibaba-gpu-v2020-pai-samples");
    let t = imp(
        Format::AlibabaPaiMachines,
        &[p.join("pai_machine_spec.csv")],
        true,
    );
    assert_eq!(t.nodes.len(), 1_897);
    assert_eq!(gpus(&t), 6_742);
    let ty = |m: &str| {
        t.nodes
            .iter()
            .filter(|n| n.labels.get(trace::pai::LABEL_GPU_TYPE).map(String::as_str) == Some(m))
            .count()
    };
    assert_eq!(
        [
            ty("CPU"),
            ty("MISC"),
            ty("P100"),
            ty("T4"),
            ty("V100"),
            ty("V100M32")
        ],
        [83, 280, 798, 497, 104, 135]
    );

    let (dist, stats) =
        philly::import(&p.join("philly_runtime.csv"), &ImportOptions::default()).unwrap();
    assert_eq!(stats.rows, 83_154);
    assert_eq!(dist.values.len(), 83_154);
    assert_eq!(dist.percentile(25), Some(Duration::from_secs(131)));
    assert_eq!(dist.percentile(50), Some(Duration::from_secs(1186)));
    assert_eq!(dist.percentile(100), Some(Duration::from_secs(4_628_239)));
}

/// The pods and nodes a loaded scenario holds, in order.
fn objects(
    sc: &kubesim::scenario::Scenario,
) -> (Vec<kubesim::model::Node>, Vec<kubesim::model::Pod>) {
    let mut nodes = vec![];
    let mut pods = vec![];
    let all = sc
        .objects
        .iter()
        .chain(sc.timeline.iter().filter_map(|a| match &a.action {
            Action::Apply(o) => Some(o),
            _ => None,
        }));
    for o in all {
        match o {
            Object::Node(n) => nodes.push((**n).clone()),
            Object::Pod(p) => pods.push((**p).clone()),
            _ => {}
        }
    }
    pods.sort_by(|a, b| a.meta.name.cmp(&b.meta.name));
    (nodes, pods)
}

fn write(dir: &Path, name: &str, body: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, body).unwrap();
    p
}

#[test]
fn openb_round_trip_import_load_same_objects() {
    let Some(d) = traces_dir() else { return };
    let o = d.join("alibaba-gpu-v2023-openb");
    let tmp = tempfile::tempdir().unwrap();
    // A sub-sample: the first 40 nodes and 300 pods, with times.
    let head = |f: &str, n: usize| {
        let s = std::fs::read_to_string(o.join(f)).unwrap();
        s.lines().take(n + 1).collect::<Vec<_>>().join("\n") + "\n"
    };
    let nodes = write(
        tmp.path(),
        "nodes.csv",
        &head("openb_node_list_gpu_node.csv", 40),
    );
    let pods = write(
        tmp.path(),
        "pods.csv",
        &head("openb_pod_list_gpuspec33.csv", 300),
    );
    let t = imp(Format::AlibabaGpuV2023, &[nodes, pods], true);
    let ex = replay::expand(
        &t,
        &replay::ReplayOptions::default(),
        &super::load_text("").pod_defaults,
    );
    let text = trace::yaml::scenario_yaml("rt", 1, &t, &ex);
    let sc = load_str(&text, Path::new("rt.yaml"), LoadOptions { strict: true })
        .unwrap_or_else(|e| panic!("{e}"));
    let (ln, lp) = objects(&sc);
    let mut direct: Vec<_> = ex.pods.iter().map(|(_, p)| p.clone()).collect();
    direct.sort_by(|a, b| a.meta.name.cmp(&b.meta.name));
    assert_eq!(lp.len(), 300);
    assert_eq!(ln, ex.nodes);
    assert_eq!(lp, direct);
    // Arrival times survive too.
    let at: Vec<_> = sc.timeline.iter().map(|a| a.at).collect();
    let mut want: Vec<_> = ex
        .pods
        .iter()
        .map(|(t, _)| *t)
        .filter(|t| t.as_micros() > 0)
        .collect();
    want.sort();
    assert_eq!(at, want);
}

#[test]
fn generic_csv_round_trip_and_malformed_rows() {
    let tmp = tempfile::tempdir().unwrap();
    let f = write(
        tmp.path(),
        "mine.csv",
        "name,arrival,duration,cpu_request,memory_request,cpu_limit,memory_limit,gpu_count,gpu_milli,gpu_model,labels,priority\n\
         web-1,0,90s,500m,1Gi,1,2Gi,,,,app=web;tier=front,100\n\
         batch-1,1.5,1h,2,4Gi,,,1,250,T4|A10,app=batch,\n\
         late,10m,,,,250m,,,,,,-5\n",
    );
    let t = imp(Format::Generic, std::slice::from_ref(&f), true);
    assert_eq!(t.pods.len(), 3);
    assert_eq!(t.pods[0].requests.cpu_m, 500);
    assert_eq!(t.pods[0].limits.memory, 2 << 30);
    assert_eq!(t.pods[1].arrival, Duration::from_millis(1500));
    assert_eq!(
        t.pods[2].requests.cpu_m, 250,
        "a limit alone sets the request"
    );
    let ex = replay::expand(
        &t,
        &replay::ReplayOptions::default(),
        &super::load_text("").pod_defaults,
    );
    assert_eq!(ex.priority_classes.len(), 2);
    let text = trace::yaml::scenario_yaml("generic", 3, &t, &ex);
    let sc = load_str(&text, Path::new("g.yaml"), LoadOptions { strict: true })
        .unwrap_or_else(|e| panic!("{e}\n{text}"));
    let (_, lp) = objects(&sc);
    let mut direct: Vec<_> = ex.pods.iter().map(|(_, p)| p.clone()).collect();
    direct.sort_by(|a, b| a.meta.name.cmp(&b.meta.name));
    assert_eq!(lp, direct);
    assert_eq!(
        lp.iter()
            .find(|p| p.meta.name == "late")
            .unwrap()
            .spec
            .priority,
        -5
    );

    // Malformed rows: file and line, or skipped and counted.
    let bad = write(
        tmp.path(),
        "bad.csv",
        "name,arrival,cpu_request,labels\nok,0,1,\nBad_Name,0,1,\nx,soon,1,\ny,0,1.5.5,\nz,0,1,novalue\nw,0,1\n",
    );
    let e = trace::import(
        Format::Generic,
        std::slice::from_ref(&bad),
        &ImportOptions::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("bad.csv:3: column name:"), "{e}");
    let opts = ImportOptions {
        skip_bad_rows: true,
        with_times: true,
    };
    let t = trace::import(Format::Generic, std::slice::from_ref(&bad), &opts).unwrap();
    assert_eq!((t.pods.len(), t.stats.rows, t.stats.skipped), (1, 6, 5));
    let msgs: Vec<String> = t.stats.errors.iter().map(|e| e.to_string()).collect();
    assert!(msgs[1].contains("bad.csv:4: column arrival:"), "{msgs:?}");
    assert!(
        msgs[2].contains("bad.csv:5: column cpu_request:"),
        "{msgs:?}"
    );
    assert!(msgs[3].contains("bad.csv:6: column labels:"), "{msgs:?}");
    assert!(
        msgs[4].contains("bad.csv:7: expected 4 fields, found 3"),
        "{msgs:?}"
    );
    // An unknown column is a header error.
    let typo = write(tmp.path(), "typo.csv", "name,cpu_requets\na,1\n");
    let e = trace::import(Format::Generic, &[typo], &ImportOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("typo.csv:1: column cpu_requets: unknown column"),
        "{e}"
    );
    // Garbage bytes never panic.
    let junk = tmp.path().join("junk.csv");
    std::fs::write(&junk, b"name,arrival\n\xff\xfe,\"unterminated\n").unwrap();
    for f in Format::ALL {
        let _ = trace::import(f, std::slice::from_ref(&junk), &opts);
        let _ = trace::import(f, std::slice::from_ref(&junk), &ImportOptions::default());
    }
}

#[test]
fn scenario_replays_a_trace_directly() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "jobs.csv",
        "name,arrival,duration,cpu_request,memory_request\n\
         a,0,60,1,1Gi\nb,30,60,1,1Gi\nc,45,,3,1Gi\nd,50,10,1,1Gi\n",
    );
    write(tmp.path(), "runtimes.csv", "runtime\n20\n");
    let sc_text = "apiVersion: kubesim.dev/v1alpha1\nkind: Scenario\nmetadata: {name: replay}\nspec:\n  seed: 3\n  cluster:\n    nodePools:\n    - {name: w, count: 1, capacity: {cpu: \"4\", memory: 8Gi}}\n  traces:\n  - format: generic\n    path: jobs.csv\n    timeCompression: 2\n    durations: runtimes.csv\n";
    let file = write(tmp.path(), "replay.yaml", sc_text);
    let sc = load_file(&file, LoadOptions { strict: true }).unwrap_or_else(|e| panic!("{e}"));
    let (_, pods) = objects(&sc);
    assert_eq!(pods.len(), 4);
    // Compressed by 2: b arrives at 15 s; c's run time comes from the
    // runtime file (20 s / 2).
    assert_eq!(sc.timeline[0].at.as_micros(), 15_000_000);
    let c = pods.iter().find(|p| p.meta.name == "c").unwrap();
    assert_eq!(c.behavior.run, Some(Duration::from_secs(10)));
    let r = kubesim::runner::run_in_memory(sc, &super::spec(None)).unwrap();
    assert!(
        r.pods
            .iter()
            .all(|p| p.phase() == kubesim::model::PodPhase::Succeeded),
        "{:?}",
        r.pods
            .iter()
            .map(|p| (p.meta.name.clone(), p.phase()))
            .collect::<Vec<_>>()
    );

    // Errors point at the entry and name the trace file and line.
    write(
        tmp.path(),
        "broken.csv",
        "name,arrival\nok,0\nnope,yesterday\n",
    );
    let bad = sc_text.replace("jobs.csv", "broken.csv");
    let file = write(tmp.path(), "bad.yaml", &bad);
    let e = load_file(&file, LoadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("spec.traces[0].path") && e.contains("broken.csv:3: column arrival"),
        "{e}"
    );
    let bad = sc_text
        .replace("timeCompression: 2", "timeCompression: -1")
        .replace("format: generic", "format: nope");
    let file = write(tmp.path(), "bad2.yaml", &bad);
    let e = load_file(&file, LoadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("spec.traces[0].format") && e.contains("unknown trace format"),
        "{e}"
    );
}

#[test]
fn sampling_and_load_factor_are_seeded() {
    let tmp = tempfile::tempdir().unwrap();
    let mut body = String::from("name,arrival\n");
    for i in 0..1000 {
        body.push_str(&format!("p{i},{i}\n"));
    }
    let f = write(tmp.path(), "many.csv", &body);
    let t = imp(Format::Generic, &[f], true);
    let beh = super::load_text("").pod_defaults;
    let run = |lf: u64, frac: u64, seed: u64| {
        let o = replay::ReplayOptions {
            load_factor_ppm: lf,
            sample_fraction_ppm: frac,
            seed,
            ..Default::default()
        };
        replay::expand(&t, &o, &beh).pods.len()
    };
    let half = run(replay::PPM, replay::PPM / 2, 1);
    assert!((400..600).contains(&half), "{half}");
    assert_eq!(half, run(replay::PPM, replay::PPM / 2, 1));
    // Another seed keeps another sample.
    let other: Vec<usize> = (2..6)
        .map(|s| run(replay::PPM, replay::PPM / 2, s))
        .collect();
    assert!(other.iter().any(|&n| n != half), "{half} {other:?}");
    assert_eq!(run(2 * replay::PPM, replay::PPM, 1), 2000);
    let x = run(replay::PPM * 3 / 2, replay::PPM, 1);
    assert!((1400..1600).contains(&x), "{x}");
}

#[test]
fn fgd_study_invariants_on_openb_default() {
    let Some(d) = traces_dir() else { return };
    let o = d.join("alibaba-gpu-v2023-openb");
    let n = imp(
        Format::AlibabaGpuV2023,
        &[o.join("openb_node_list_gpu_node.csv")],
        false,
    );
    let p = imp(
        Format::AlibabaGpuV2023,
        &[o.join("openb_pod_list_default.csv")],
        false,
    );
    // A third of the nodes and of the pods (every third row) keeps the
    // test quick in debug builds; it gives the full trace's numbers
    // (docs/fgd.md).
    let w = Workload {
        nodes: n.nodes.into_iter().step_by(3).collect(),
        pods: p.pods.into_iter().step_by(3).collect(),
    };
    assert_eq!((w.nodes.len(), w.pods.len()), (405, 2718));
    let mut unalloc_100 = vec![];
    for pol in [
        Policy::DotProd,
        Policy::GpuClustering,
        Policy::GpuPacking,
        Policy::BestFit,
        Policy::Fgd,
    ] {
        let r = fgd::run(&w, pol, 42, fgd::TUNE_PPM);
        let cap = r.capacity_milli;
        assert_eq!(r.originals, 2718);
        // Inflation stops within 7 GPUs above 130%.
        let last = r.points.last().unwrap();
        assert!(
            last.arrived_milli > cap * 13 / 10 - 1000 && last.arrived_milli <= cap * 13 / 10 + 7000,
            "{pol:?} {last:?}"
        );
        // Every pod fits below ~90% arrived: unallocated = 100 − arrived there.
        let first_fail = r.first_gpu_failure().unwrap_or(i64::MAX);
        assert!(
            first_fail > cap * 88 / 100,
            "{pol:?}: first failure at {first_fail} of {cap}"
        );
        let lv = report::levels(&r);
        for l in 0..=85 {
            let u = lv.unalloc[l].unwrap();
            assert!(
                (u - (100.0 - l as f64)).abs() <= 0.6,
                "{pol:?} level {l}: unalloc {u}"
            );
        }
        // Past capacity some GPUs stay unallocated, and they are fragmented.
        assert!(lv.unalloc[130].unwrap() > 0.0);
        assert!(lv.frag_ratio[100].unwrap() > 50.0);
        unalloc_100.push(lv.unalloc[100].unwrap());
    }
    // FGD leaves the fewest GPUs unallocated.
    let fgd_u = unalloc_100[4];
    assert!(
        unalloc_100[..4].iter().all(|u| *u > fgd_u),
        "{unalloc_100:?}"
    );
}

#[test]
fn cli_trace_import_and_fgd() {
    let kubesim = || std::process::Command::new(env!("CARGO_BIN_EXE_kubesim"));
    let tmp = tempfile::tempdir().unwrap();
    // trace import: a generic CSV to a scenario directory that loads.
    let csv = write(
        tmp.path(),
        "mine.csv",
        "name,arrival,duration,cpu_request\na,0,10s,1\nb,5s,10s,1\n",
    );
    let dir = tmp.path().join("imported");
    let o = kubesim()
        .args([
            "trace", "import", "--format", "generic", "--name", "mine", "--out",
        ])
        .arg(&dir)
        .arg(&csv)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let sc = load_file(&dir.join("scenario.yaml"), LoadOptions { strict: true }).unwrap();
    assert_eq!(objects(&sc).1.len(), 2);
    // A malformed row: a non-zero exit and the file and line.
    let bad = write(tmp.path(), "bad.csv", "name,arrival\na,0\nb,later\n");
    let o = kubesim()
        .args(["trace", "import", "--format", "generic", "-o"])
        .arg(tmp.path().join("x.yaml"))
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("bad.csv:3: column arrival"));
    assert!(!tmp.path().join("x.yaml").exists());
    // fgd on a tiny openb-like workload: every file, every policy.
    let nodes = write(
        tmp.path(),
        "nodes.csv",
        "sn,cpu_milli,memory_mib,gpu,model\nn0,64000,262144,2,T4\nn1,64000,262144,8,G2\nn2,32000,131072,1,T4\n",
    );
    let mut pods = String::from("name,cpu_milli,memory_mib,num_gpu,gpu_milli\n");
    for i in 0..30 {
        pods.push_str(&format!(
            "p{i:02},{},4096,{},{}\n",
            1000 + 500 * (i % 4),
            [1, 1, 2, 0][i % 4],
            [300, 1000, 1000, 0][i % 4]
        ));
    }
    let pods = write(tmp.path(), "pods.csv", &pods);
    let out = tmp.path().join("fgd");
    let o = kubesim()
        .args(["fgd", "--seeds", "1..3", "--jobs", "2", "--workload"])
        .arg(&pods)
        .arg("--nodes")
        .arg(&nodes)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let levels = std::fs::read_to_string(out.join("levels.csv")).unwrap();
    for p in Policy::ALL {
        assert!(
            levels.contains(&format!("\n{},", p.name())),
            "{}: {levels}",
            p.name()
        );
    }
    for f in [
        "per_seed.csv",
        "runs.csv",
        "fig9a.gp",
        "fig7.gp",
        "fig7-amount.gp",
    ] {
        assert!(out.join(f).is_file(), "{f}");
    }
    let runs = std::fs::read_to_string(out.join("runs.csv")).unwrap();
    assert_eq!(runs.lines().count(), 1 + 6 * 3);
    for name in ["fgd-unalloc", "fgd-frag"] {
        assert_plot(&out.join("plots"), name);
    }
}

/// `DIR/NAME.png` is a PNG and `DIR/NAME.svg` an SVG document, both of a
/// size that holds more than axes (an empty 1400×620 PNG is ~10 kB).
fn assert_plot(dir: &Path, name: &str) {
    let png = std::fs::read(dir.join(format!("{name}.png"))).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "{name}.png");
    assert!(png.len() > 20_000, "{name}.png: {} bytes", png.len());
    let svg = std::fs::read_to_string(dir.join(format!("{name}.svg"))).unwrap();
    assert!(
        svg.contains("<svg") && svg.trim_end().ends_with("</svg>"),
        "{name}.svg"
    );
    assert!(svg.len() > 20_000, "{name}.svg: {} bytes", svg.len());
    // One legend entry per policy, by the paper's name.
    assert!(
        svg.contains("FGD (fgd)") && svg.contains("Random (gpu-random)"),
        "{name}.svg"
    );
}

#[test]
fn fgd_plots_render_on_an_openb_subsample() {
    let Some(d) = traces_dir() else { return };
    let o = d.join("alibaba-gpu-v2023-openb");
    let n = imp(
        Format::AlibabaGpuV2023,
        &[o.join("openb_node_list_gpu_node.csv")],
        false,
    );
    let p = imp(
        Format::AlibabaGpuV2023,
        &[o.join("openb_pod_list_default.csv")],
        false,
    );
    // A tenth of the nodes and pods, two policies, two seeds: fast in debug.
    let w = Workload {
        nodes: n.nodes.into_iter().step_by(10).collect(),
        pods: p.pods.into_iter().step_by(10).collect(),
    };
    let runs: Vec<fgd::RunOutput> = [Policy::Random, Policy::Fgd]
        .into_iter()
        .flat_map(|pol| [42, 43].map(|s| (pol, s)))
        .map(|(pol, s)| fgd::run(&w, pol, s, fgd::TUNE_PPM))
        .collect();
    let groups: Vec<report::PolicyRuns> = [Policy::Random, Policy::Fgd]
        .into_iter()
        .map(|pol| report::PolicyRuns {
            policy: pol,
            runs: runs.iter().filter(|r| r.policy == pol).collect(),
        })
        .collect();
    let tmp = tempfile::tempdir().unwrap();
    report::write(tmp.path(), &groups).unwrap();
    let files = kubesim::plot::fgd::draw(tmp.path()).unwrap();
    assert_eq!(files.len(), 4, "{files:?}");
    for name in ["fgd-unalloc", "fgd-frag"] {
        assert_plot(&tmp.path().join("plots"), name);
    }
    // Without levels.csv there is nothing to draw, and no error.
    let empty = tempfile::tempdir().unwrap();
    assert!(kubesim::plot::fgd::draw(empty.path()).unwrap().is_empty());
}

#[test]
fn usage_defaults_apply_to_trace_pods() {
    // `spec.defaults.cpuUsage: request` gives each trace pod a usage model
    // (so a trace can be replayed on real processes); `limit` on pods
    // without limits is one error, not one per pod.
    let tmp = tempfile::tempdir().expect("tempdir");
    write(
        tmp.path(),
        "jobs.csv",
        "name,arrival,duration,cpu_request,memory_request\na,0,60,1,1Gi\nb,30,60,500m,1Gi\n",
    );
    let sc_text = "apiVersion: kubesim.dev/v1alpha1\nkind: Scenario\nmetadata: {name: replay}\nspec:\n  defaults: {cpuUsage: request}\n  cluster:\n    nodePools:\n    - {name: w, count: 1, capacity: {cpu: \"4\", memory: 8Gi}}\n  traces:\n  - format: generic\n    path: jobs.csv\n";
    let file = write(tmp.path(), "replay.yaml", sc_text);
    let sc = load_file(&file, LoadOptions { strict: true }).unwrap_or_else(|e| panic!("{e}"));
    let (_, pods) = objects(&sc);
    let cpu: Vec<_> = pods
        .iter()
        .map(|p| {
            let u = p.behavior.usage.as_ref().expect("usage model");
            format!("{}={:?}", p.meta.name, u.containers[0].cpu)
        })
        .collect();
    assert_eq!(cpu, vec!["a=Some(Const(1000))", "b=Some(Const(500))"]);
    let file = write(
        tmp.path(),
        "limit.yaml",
        &sc_text.replace("cpuUsage: request", "cpuUsage: limit"),
    );
    let e = load_file(&file, LoadOptions::default())
        .unwrap_err()
        .to_string();
    assert_eq!(e.matches("has no limit").count(), 1, "{e}");
    assert!(e.contains("spec.defaults.cpuUsage"), "{e}");
}
