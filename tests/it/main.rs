//! Integration tests: real scenarios end to end, golden outputs,
//! determinism, validation, invariants and the command line.

mod autoscaling;
mod batch;
mod ca;
mod cli;
mod controllers;
mod determinism;
mod examples;
mod experiments;
mod golden;
mod gpu;
mod invariants;
mod linux;
mod nodes;
mod queue;
mod scenarios;
mod scheduler;
mod services;
mod traces;
mod traffic;
mod validation;

use std::path::{Path, PathBuf};

use kubesim::cluster::RunResult;
use kubesim::runner::{run_in_memory, RunSpec};
use kubesim::scenario::{load_file, load_str, LoadOptions, Scenario};

pub fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

pub fn load(path: &str) -> Scenario {
    match load_file(&repo(path), LoadOptions::default()) {
        Ok(s) => s,
        Err(e) => panic!("{path} should load: {e}"),
    }
}

pub fn load_text(text: &str) -> Scenario {
    match load_str(text, Path::new("test.yaml"), LoadOptions::default()) {
        Ok(s) => s,
        Err(e) => panic!("scenario should load: {e}\n{text}"),
    }
}

pub fn spec(seed: Option<u64>) -> RunSpec {
    RunSpec {
        seed,
        until: None,
        check_invariants: true,
        check_determinism: false,
        explain: false,
    }
}

pub fn run(sc: Scenario) -> RunResult {
    run_in_memory(sc, &spec(None)).expect("run succeeds")
}

pub fn pod<'a>(r: &'a RunResult, name: &str) -> &'a kubesim::model::Pod {
    r.pods
        .iter()
        .find(|p| p.meta.name == name)
        .unwrap_or_else(|| panic!("no pod {name}"))
}

pub fn node_name(r: &RunResult, p: &kubesim::model::Pod) -> Option<String> {
    p.status
        .node
        .map(|n| r.nodes[n.0 as usize].meta.name.clone())
}
