//! Scheduler extenders end to end: the example Python extenders
//! (examples/extenders/) over HTTP and JSON lines, driven through
//! `new_extender` with a small cluster, and the failure modes (closed port,
//! non-200, silent server, a child that exits, hangs or prints garbage).
//! Tests that need python3 print why and pass when it is missing.

// These tests time the failure paths (timeouts, fast errors) on purpose.
#![allow(clippy::disallowed_methods)]

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use kubesim::engine::{Duration, SimTime};
use kubesim::model::pod::{Container, PodBehavior, PodSpec, PullPolicy};
use kubesim::model::{Node, NodeId, ObjectMeta, Pod, PodId, Resources};
use kubesim::scheduler::config::ExtenderConfig;
use kubesim::scheduler::extender::{self, new_extender, Extender};
use kubesim::scheduler::framework::Code;
use kubesim::scheduler::ClusterView;

// ---------------------------------------------------------------------------
// A small cluster.

struct Cluster {
    nodes: Vec<Node>,
    pods: Vec<Pod>,
    order: Vec<NodeId>,
    namespaces: BTreeMap<String, kubesim::model::Labels>,
    images: BTreeMap<String, u32>,
    nominated: BTreeMap<NodeId, Vec<PodId>>,
    /// No pod here has (anti-)affinity terms.
    no_affinity: std::collections::BTreeSet<NodeId>,
}

impl Cluster {
    fn view(&self) -> ClusterView<'_> {
        ClusterView {
            nodes: &self.nodes,
            pods: &self.pods,
            namespaces: &self.namespaces,
            image_nodes: &self.images,
            node_order: &self.order,
            nominated: &self.nominated,
            waiting: &[],
            nodes_with_affinity: &self.no_affinity,
            nodes_with_required_anti_affinity: &self.no_affinity,
            pod_changes: None,
            now: SimTime::ZERO,
            pdbs: &[],
        }
    }
}

fn pod(name: &str, uid: u32, gpu: i64) -> Pod {
    let mut requests = Resources::new(500, 128 << 20);
    if gpu > 0 {
        requests.set("nvidia.com/gpu", gpu);
    }
    let container = Container {
        name: "main".into(),
        image: "nginx:1.27".into(),
        image_pull_policy: PullPolicy::IfNotPresent,
        requests: requests.clone(),
        limits: requests.clone(),
        ports: vec![],
        restart_policy: None,
        env: Vec::new(),
    };
    let meta = ObjectMeta {
        name: name.into(),
        namespace: "default".into(),
        uid: format!("uid-{uid}"),
        ..Default::default()
    };
    let spec = PodSpec {
        containers: vec![container],
        ..PodSpec::default()
    };
    Pod::new(meta, spec, PodBehavior::default())
}

/// Nodes n0 (labelled kubesim.dev/avoid=true, 4 pods), n1 (2 pods) and n2
/// (no pods); pod 0 is the one being scheduled.
fn cluster() -> Cluster {
    let mut pods = vec![pod("web", 0, 0)];
    let mut nodes = Vec::new();
    for (i, (avoid, n_pods)) in [(true, 4), (false, 2), (false, 0)].into_iter().enumerate() {
        let mut meta = ObjectMeta {
            name: format!("n{i}"),
            uid: format!("node-{i}"),
            ..Default::default()
        };
        meta.labels
            .insert("kubernetes.io/hostname".into(), format!("n{i}"));
        if avoid {
            meta.labels
                .insert("kubesim.dev/avoid".into(), "true".into());
        }
        let mut cap = Resources::new(4000, 16 << 30);
        cap.pods = 110;
        let mut node = Node::new(meta, cap.clone(), cap);
        for _ in 0..n_pods {
            let id = PodId(pods.len() as u32);
            let p = pod(&format!("other-{}", id.0), id.0, 0);
            node.add_pod(id, &p);
            pods.push(p);
        }
        nodes.push(node);
    }
    Cluster {
        order: (0..nodes.len() as u32).map(NodeId).collect(),
        nodes,
        pods,
        namespaces: BTreeMap::new(),
        images: BTreeMap::new(),
        nominated: BTreeMap::new(),
        no_affinity: Default::default(),
    }
}

fn config(url_prefix: &str, command: &[&str]) -> ExtenderConfig {
    ExtenderConfig {
        url_prefix: url_prefix.into(),
        command: command.iter().map(|s| s.to_string()).collect(),
        filter_verb: "filter".into(),
        prioritize_verb: "prioritize".into(),
        bind_verb: "bind".into(),
        weight: 1,
        timeout: Duration::from_secs(5),
        node_cache_capable: false,
        ignorable: false,
        managed_resources: vec![],
    }
}

fn ids(v: &[u32]) -> Vec<NodeId> {
    v.iter().copied().map(NodeId).collect()
}

// ---------------------------------------------------------------------------
// Processes.

fn python3() -> bool {
    let ok = Command::new("python3")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("SKIPPED: python3 is not installed; the extender examples need it");
    }
    ok
}

fn example(name: &str) -> String {
    let p: PathBuf = [env!("CARGO_MANIFEST_DIR"), "examples", "extenders", name]
        .iter()
        .collect();
    p.to_string_lossy().into_owned()
}

/// A port nothing listens on (bound, then released).
fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().unwrap().port()
}

/// Kills the child when the test ends, however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts http_extender.py on a free loopback port; waits until it accepts.
fn start_http_extender() -> (Server, u16) {
    let port = free_port();
    let child = Command::new("python3")
        .arg(example("http_extender.py"))
        .arg(port.to_string())
        .stdin(Stdio::null())
        .spawn()
        .expect("start http_extender.py");
    let mut server = Server(child);
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let start = Instant::now();
    loop {
        if TcpStream::connect_timeout(&addr, std::time::Duration::from_millis(100)).is_ok() {
            return (server, port);
        }
        if let Ok(Some(st)) = server.0.try_wait() {
            panic!("http_extender.py exited before listening: {st}");
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(5),
            "http_extender.py did not listen on port {port} within 5s"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

// ---------------------------------------------------------------------------
// The example policy, over both transports.

/// Filter drops n0 (labelled avoid), prioritize prefers fewest pods, bind
/// accepts; and the runners kube.rs uses see the same.
fn check_policy(cfg: &ExtenderConfig) {
    let c = cluster();
    let view = c.view();
    let p = &c.pods[0];
    let mut ext = new_extender(cfg).expect("new_extender");
    assert!(ext.is_filter() && ext.is_prioritizer() && ext.is_binder());
    assert!(ext.is_interested(p));

    let r = ext.filter(p, &ids(&[0, 1, 2]), &view).expect("filter");
    assert_eq!(r.feasible, ids(&[1, 2]));
    assert_eq!(
        r.failed,
        BTreeMap::from([(
            NodeId(0),
            "node is labelled kubesim.dev/avoid=true".to_string()
        )])
    );
    assert!(r.failed_unresolvable.is_empty());

    // 4, 2 and 0 pods: the emptiest scores 10, the fullest 0.
    let scores = ext
        .prioritize(p, &ids(&[0, 1, 2]), &view)
        .expect("prioritize");
    assert_eq!(
        scores,
        vec![(NodeId(0), 0), (NodeId(1), 5), (NodeId(2), 10)]
    );
    // A subset of the nodes: scored relative to each other.
    let scores = ext.prioritize(p, &ids(&[1, 2]), &view).expect("prioritize");
    assert_eq!(scores, vec![(NodeId(1), 0), (NodeId(2), 10)]);

    ext.bind(p, NodeId(2), &view).expect("bind");

    // Through the runners.
    let mut exts: Vec<Box<dyn Extender>> = vec![ext];
    let mut statuses = BTreeMap::new();
    let feasible = extender::run_filters(&mut exts, p, &ids(&[0, 1, 2]), &view, &mut statuses)
        .expect("run_filters");
    assert_eq!(feasible, ids(&[1, 2]));
    assert_eq!(statuses[&NodeId(0)].code, Code::Unschedulable);
    assert_eq!(statuses[&NodeId(0)].plugin, "Extender");
    let totals = extender::run_prioritizers(&mut exts, p, &feasible, &view);
    assert_eq!(totals[&NodeId(2)][0].1, 100, "10 × weight 1 × (100 / 10)");
    assert_eq!(
        extender::run_binders(&mut exts, p, NodeId(2), &view),
        Some(Ok(()))
    );

    // nodeCacheCapable: only names go out, so nothing is filtered.
    let cfg = ExtenderConfig {
        node_cache_capable: true,
        ..cfg.clone()
    };
    let mut ext = new_extender(&cfg).expect("new_extender");
    let r = ext.filter(p, &ids(&[0, 1, 2]), &view).expect("filter");
    assert_eq!(r.feasible, ids(&[0, 1, 2]));
    let scores = ext.prioritize(p, &ids(&[0, 2]), &view).expect("prioritize");
    assert_eq!(scores, vec![(NodeId(0), 10), (NodeId(2), 10)]);
}

#[test]
fn extender_http_example() {
    if !python3() {
        return;
    }
    let (_server, port) = start_http_extender();
    let url = format!("http://127.0.0.1:{port}/scheduler/");
    check_policy(&config(&url, &[]));

    // A verb the server does not serve: HTTP 404.
    let c = cluster();
    let mut cfg = config(&url, &[]);
    cfg.filter_verb = "nosuchverb".into();
    let mut ext = new_extender(&cfg).unwrap();
    let err = ext.filter(&c.pods[0], &ids(&[1]), &c.view()).unwrap_err();
    assert!(
        err.starts_with(&format!("extender {url}: filter: POST http://127.0.0.1:{port}/scheduler/nosuchverb: HTTP status 404, want 200")),
        "{err}"
    );
}

#[test]
fn extender_jsonl_example() {
    if !python3() {
        return;
    }
    let script = example("jsonl_extender.py");
    check_policy(&config("", &["python3", &script]));
}

// ---------------------------------------------------------------------------
// Failures.

#[test]
fn extender_http_closed_port() {
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let c = cluster();
    let mut ext = new_extender(&config(&url, &[])).expect("nothing is contacted yet");
    let start = Instant::now();
    let err = ext
        .filter(&c.pods[0], &ids(&[1, 2]), &c.view())
        .unwrap_err();
    assert!(start.elapsed() < std::time::Duration::from_secs(2));
    assert!(
        err.starts_with(&format!(
            "extender {url}: filter: POST {url}/filter: connection refused"
        )),
        "{err}"
    );
    // Prioritize and bind fail the same way.
    assert!(ext
        .prioritize(&c.pods[0], &ids(&[1]), &c.view())
        .unwrap_err()
        .contains("connection refused"));
    assert!(ext
        .bind(&c.pods[0], NodeId(1), &c.view())
        .unwrap_err()
        .contains(&format!("POST {url}/bind")));
    // Unless ignorable, a filter error fails the cycle; ignorable skips it.
    let mut exts = vec![ext];
    let mut st = BTreeMap::new();
    assert!(extender::run_filters(&mut exts, &c.pods[0], &ids(&[1]), &c.view(), &mut st).is_err());
    let mut cfg = config(&url, &[]);
    cfg.ignorable = true;
    let mut exts = vec![new_extender(&cfg).unwrap()];
    assert_eq!(
        extender::run_filters(&mut exts, &c.pods[0], &ids(&[1, 2]), &c.view(), &mut st),
        Ok(ids(&[1, 2]))
    );
}

#[test]
fn extender_http_server_that_never_replies() {
    // Accepts connections (the kernel's backlog) but never answers.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let mut cfg = config(&url, &[]);
    cfg.timeout = Duration::from_millis(300);
    let c = cluster();
    let mut ext = new_extender(&cfg).unwrap();
    let start = Instant::now();
    let err = ext.filter(&c.pods[0], &ids(&[1]), &c.view()).unwrap_err();
    assert!(start.elapsed() < std::time::Duration::from_secs(2));
    assert_eq!(
        err,
        format!("extender {url}: filter: POST {url}/filter: no reply within 300ms")
    );
}

#[test]
fn extender_bad_configurations() {
    let err = |cfg: ExtenderConfig| new_extender(&cfg).err().expect("an error");
    assert!(err(config("https://example.com", &[])).contains("https is not supported"));
    assert!(err(config("ftp://x", &[])).contains("must be an http:// URL"));
    assert!(err(config("", &[])).contains("neither urlPrefix nor command"));
    assert!(err(config("http://x", &["true"])).contains("not both"));
    let e = err(config("", &["/nonexistent/kubesim-extender"]));
    assert!(
        e.starts_with("extender /nonexistent/kubesim-extender: cannot start"),
        "{e}"
    );
}

#[test]
fn extender_managed_resources_select_pods() {
    let mut cfg = config("http://127.0.0.1:1", &[]);
    cfg.managed_resources = vec!["nvidia.com/gpu".into()];
    let ext = new_extender(&cfg).unwrap();
    assert!(ext.is_interested(&pod("gpu", 1, 1)));
    assert!(!ext.is_interested(&pod("cpu", 2, 0)));
    cfg.managed_resources.clear();
    let ext = new_extender(&cfg).unwrap();
    assert!(ext.is_interested(&pod("cpu", 2, 0)));
}

#[test]
fn extender_jsonl_child_that_exits() {
    if !python3() {
        return;
    }
    let c = cluster();
    let mut ext = new_extender(&config("", &["python3", "-c", "import sys"])).unwrap();
    let err = ext.filter(&c.pods[0], &ids(&[1]), &c.view()).unwrap_err();
    assert_eq!(
        err,
        "extender python3 -c 'import sys': exited (exit status: 0) without replying to filter"
    );
    let err = ext
        .prioritize(&c.pods[0], &ids(&[1]), &c.view())
        .unwrap_err();
    assert_eq!(
        err,
        "extender python3 -c 'import sys': not running (exited (exit status: 0)); cannot prioritize"
    );
}

#[test]
fn extender_jsonl_child_that_hangs() {
    if !python3() {
        return;
    }
    let c = cluster();
    let mut cfg = config("", &["python3", "-c", "import time; time.sleep(30)"]);
    cfg.timeout = Duration::from_millis(500);
    let mut ext = new_extender(&cfg).unwrap();
    let start = Instant::now();
    let err = ext.filter(&c.pods[0], &ids(&[1]), &c.view()).unwrap_err();
    let took = start.elapsed();
    assert!(
        took >= std::time::Duration::from_millis(500)
            && took < std::time::Duration::from_millis(1500),
        "took {took:?}"
    );
    assert_eq!(
        err,
        "extender python3 -c 'import time; time.sleep(30)': no reply within 500ms (to filter); killed it"
    );
    // Killed: later calls fail at once.
    let start = Instant::now();
    let err = ext.bind(&c.pods[0], NodeId(1), &c.view()).unwrap_err();
    assert!(start.elapsed() < std::time::Duration::from_millis(500));
    assert!(
        err.contains("not running (killed after no reply within 500ms to filter)"),
        "{err}"
    );
    // Dropping a killed extender does not wait.
    let start = Instant::now();
    drop(ext);
    assert!(start.elapsed() < std::time::Duration::from_millis(500));
}

/// A JSON-lines child that answers its n-th request with the n-th entry of
/// `replies` (separated by U+001E), verbatim (one process for many cases: python3 starts slowly
/// on a loaded machine).
const SCRIPTED: &str = "import sys\nreplies = sys.argv[1].split('\\x1e')\nfor i, _ in enumerate(sys.stdin):\n    print(replies[i] if i < len(replies) else '{}', flush=True)";

#[test]
fn extender_jsonl_garbage_and_malformed_replies() {
    if !python3() {
        return;
    }
    let replies = [
        // Not JSON, twice: the child stays usable (one line per request).
        "this is not json",
        "this is not json",
        // JSON of the wrong shape.
        "[1, 2]",
        "[1, 2]",
        r#"[{"Host": "n1", "Score": "high"}]"#,
        r#"[{"Host": "n1", "Score": 2.5}]"#,
        // Errors reported by the extender.
        r#"{"Error": "quota exceeded"}"#,
        r#"{"Error": "quota exceeded"}"#,
        // A node that was not asked about.
        r#"{"nodes": {"items": [{"metadata": {"name": "ghost"}}]}}"#,
        // Lower-case field names (Go decodes case-insensitively); failures
        // on nodes not asked about are ignored.
        r#"{"nodes": {"items": [{"metadata": {"name": "n2"}}]}, "failedAndUnresolvableNodes": {"n1": "no", "zz": "x"}}"#,
        // Scores out of range are clamped, unknown hosts dropped.
        r#"[{"host": "n1", "score": 99}, {"Host": "n2", "Score": -3}, {"Host": "zz", "Score": 5}]"#,
        // Blank lines are not replies.
        "\n  \r\n{\"Error\": \"\"}",
    ];
    let cmd = ["python3", "-c", SCRIPTED, &replies.join("\u{1e}")];
    let mut ext = new_extender(&config("", &cmd)).unwrap();
    let name = ext.name().to_string();
    assert!(name.starts_with("python3 -c 'import sys"), "{name}");
    let c = cluster();
    let v = c.view();
    let p = &c.pods[0];
    let ends = |r: Result<(), String>, want: &str| {
        let err = r.expect_err(want);
        assert!(err.starts_with(&format!("extender {name}: ")), "{err}");
        assert!(err.ends_with(want), "{err}\nwant suffix: {want}");
    };

    for _ in 0..2 {
        ends(
            ext.filter(p, &ids(&[1]), &v).map(drop),
            ": filter: malformed reply line: expected ident at line 1 column 2 (line starts \"this is not json\")",
        );
    }
    ends(
        ext.filter(p, &ids(&[1]), &v).map(drop),
        ": filter: malformed reply: ExtenderFilterResult must be a JSON object, got an array",
    );
    ends(
        ext.bind(p, NodeId(1), &v),
        ": bind: malformed reply: ExtenderBindingResult must be a JSON object, got an array",
    );
    ends(
        ext.prioritize(p, &ids(&[1]), &v).map(drop),
        ": prioritize: malformed reply: HostPriorityList[0].Score must be an integer (int64), got a string",
    );
    ends(
        ext.prioritize(p, &ids(&[1]), &v).map(drop),
        ": prioritize: malformed reply: HostPriorityList[0].Score must be an integer (int64), got 2.5",
    );
    ends(
        ext.filter(p, &ids(&[1]), &v).map(drop),
        ": filter returned an error: quota exceeded",
    );
    ends(
        ext.bind(p, NodeId(1), &v),
        ": bind returned an error: quota exceeded",
    );
    ends(
        ext.filter(p, &ids(&[1]), &v).map(drop),
        ": filter: claims a filtered node \"ghost\" which is not found in the input node list",
    );
    let r = ext.filter(p, &ids(&[1, 2]), &v).unwrap();
    assert_eq!(r.feasible, ids(&[2]));
    assert!(r.failed.is_empty());
    assert_eq!(
        r.failed_unresolvable,
        BTreeMap::from([(NodeId(1), "no".to_string())])
    );
    assert_eq!(
        ext.prioritize(p, &ids(&[1, 2]), &v).unwrap(),
        vec![(NodeId(1), 10), (NodeId(2), 0)]
    );
    ext.bind(p, NodeId(1), &v).unwrap();
}
