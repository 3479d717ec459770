//! Scenario validation: every problem reported with line and path; no
//! input makes the loader panic.

use std::path::Path;

use kubesim::scenario::{load_file, load_str, LoadError, LoadOptions, Severity};
use proptest::prelude::*;

use crate::repo;

fn diagnostics(path: &str, strict: bool) -> Vec<(Severity, u32, String, String)> {
    match load_file(&repo(path), LoadOptions { strict }) {
        Err(LoadError::Invalid(d)) => {
            d.0.iter()
                .map(|d| (d.severity, d.line, d.path.clone(), d.message.clone()))
                .collect()
        }
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => panic!("{path} should be invalid"),
    }
}

#[test]
fn every_problem_is_reported_with_line_and_path() {
    let d = diagnostics("tests/data/invalid.yaml", false);
    let has = |line: u32, path: &str, text: &str| {
        d.iter()
            .any(|(_, l, p, m)| *l == line && p == path && m.contains(text))
    };
    assert!(has(6, "spec.duration", "unknown unit"), "{d:#?}");
    assert!(
        has(11, "spec.cluster.nodePools[0].capacity.memory", "required"),
        "{d:#?}"
    );
    assert!(
        has(14, "spec.timeline[0].cordon", "no node named \"nope-0\""),
        "{d:#?}"
    );
    assert!(
        has(
            16,
            "spec.timeline[1].scale.kind",
            "cannot scale kind \"DaemonSet\""
        ),
        "{d:#?}"
    );
    assert!(has(22, "metadata.labels.-x", "invalid label key"), "{d:#?}");
    assert!(
        has(29, "spec.containers[0].resources.requests.cpu", "\"1.5.5\""),
        "{d:#?}"
    );
    assert!(
        has(
            29,
            "spec.containers[0].resources.requests.memory",
            "less than or equal to memory limit"
        ),
        "{d:#?}"
    );
    assert!(has(33, "kind", "ConfigMap is not simulated yet"), "{d:#?}");
    assert!(
        has(
            44,
            "spec.containers[0].ports[0].containerPort",
            "\"eighty\""
        ),
        "{d:#?}"
    );
    assert!(has(46, "kind", "unknown kind \"Gizmo\""), "{d:#?}");
    let warn = d
        .iter()
        .find(|(_, _, p, _)| p == "spec.containers[0].command")
        .expect("unused field reported");
    assert_eq!(warn.0, Severity::Warning);
    assert_eq!(d.iter().filter(|x| x.0 == Severity::Error).count(), 10);
}

#[test]
fn strict_turns_unused_fields_into_errors() {
    let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec:\n  containers:\n  - name: c\n    image: x\n    replica: 3\n";
    let ok = load_str(text, Path::new("t.yaml"), LoadOptions { strict: false }).expect("loads");
    assert_eq!(ok.warnings.0.len(), 1);
    assert_eq!(ok.warnings.0[0].path, "spec.containers[0].replica");
    assert_eq!(ok.warnings.0[0].line, 8);
    match load_str(text, Path::new("t.yaml"), LoadOptions { strict: true }) {
        Err(LoadError::Invalid(d)) => assert!(d.has_errors()),
        _ => panic!("strict must reject unused fields"),
    }
}

#[test]
fn syntax_errors_point_at_their_line() {
    let text = "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\nkind: Pod\nmetadata: {name: [}\n";
    match load_str(text, Path::new("t.yaml"), LoadOptions::default()) {
        Err(LoadError::Invalid(d)) => {
            let e = d.errors().next().expect("an error");
            assert_eq!(e.line, 6, "{e}");
            assert!(e.message.contains("YAML syntax error"), "{e}");
        }
        _ => panic!("must fail"),
    }
}

#[test]
fn admission_defaults_are_applied() {
    let text = r#"
apiVersion: v1
kind: Pod
metadata: {name: a}
spec:
  containers:
  - name: c
    image: nginx
    resources: {limits: {cpu: "1", memory: 1Gi}}
"#;
    let sc = load_str(text, Path::new("t.yaml"), LoadOptions::default()).expect("loads");
    let kubesim::scenario::Object::Pod(p) = &sc.objects[0] else {
        panic!("a pod")
    };
    // Requests default to limits, making the pod Guaranteed.
    assert_eq!(p.requests.cpu_m, 1000);
    assert_eq!(p.qos, kubesim::model::QosClass::Guaranteed);
    // DefaultTolerationSeconds adds the two NoExecute tolerations.
    assert_eq!(p.spec.tolerations.len(), 2);
    assert!(p
        .spec
        .tolerations
        .iter()
        .all(|t| t.toleration_seconds == Some(300)));
    // `nginx` (implicitly :latest) pulls Always.
    assert_eq!(
        p.spec.containers[0].image_pull_policy,
        kubesim::model::pod::PullPolicy::Always
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// Arbitrary text never panics the loader.
    #[test]
    fn arbitrary_text_never_panics(s in "\\PC{0,400}") {
        let _ = load_str(&s, Path::new("fuzz.yaml"), LoadOptions::default());
    }

    /// Mutations of a real scenario never panic the loader.
    #[test]
    fn mutated_scenarios_never_panic(cuts in proptest::collection::vec((0usize..4000, 0usize..20, "[ -~\n]{0,8}"), 1..6)) {
        let mut text = std::fs::read_to_string(repo("scenarios/quickstart.yaml")).expect("read");
        for (at, len, ins) in cuts {
            let at = at.min(text.len());
            let at = (0..=at).rev().find(|i| text.is_char_boundary(*i)).unwrap_or(0);
            let end = (at + len).min(text.len());
            let end = (end..=text.len()).find(|i| text.is_char_boundary(*i)).unwrap_or(text.len());
            text.replace_range(at..end, &ins);
        }
        let _ = load_str(&text, Path::new("fuzz.yaml"), LoadOptions::default());
    }
}

#[test]
fn container_env_is_decoded_resolved_and_validated() {
    let pod = |env: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: p, labels: {{app: web}}}}\nspec:\n  containers:\n  - name: c\n    image: busybox\n    env:\n{env}"
        )
    };
    let sc = crate::load_text(&pod(
        "    - {name: A, value: one}\n    - {name: POD, valueFrom: {fieldRef: {fieldPath: metadata.name}}}\n    - {name: APP, valueFrom: {fieldRef: {fieldPath: \"metadata.labels['app']\"}}}\n    - {name: NODE, valueFrom: {fieldRef: {fieldPath: spec.nodeName}}}\n    - {name: A, value: two}\n",
    ));
    let kubesim::scenario::Object::Pod(p) = &sc.objects[0] else {
        panic!("a pod")
    };
    let c = &p.spec.containers[0];
    let mut p = p.clone();
    p.spec.node_name = Some("n1".into());
    let env = p.container_env(c);
    let want: Vec<(String, String)> = [("A", "two"), ("POD", "p"), ("APP", "web"), ("NODE", "n1")]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(env, want);
    for (env, field, msg) in [
        ("    - {value: x}\n", "env[0].name", "Required value"),
        (
            "    - {name: \"A=B\", value: x}\n",
            "env[0].name",
            "other than '='",
        ),
        (
            "    - {name: A, value: x, valueFrom: {fieldRef: {fieldPath: metadata.name}}}\n",
            "env[0].valueFrom",
            "may not be specified when `value` is not empty",
        ),
        (
            "    - {name: A, valueFrom: {fieldRef: {fieldPath: spec.hostname}}}\n",
            "env[0].valueFrom.fieldRef.fieldPath",
            "Unsupported value: \"spec.hostname\"",
        ),
    ] {
        let e = kubesim::scenario::load_str(
            &pod(env),
            std::path::Path::new("t.yaml"),
            Default::default(),
        )
        .expect_err("invalid env");
        let text = e.to_string();
        assert!(text.contains(field) && text.contains(msg), "{env}: {text}");
    }
}
