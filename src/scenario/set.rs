//! `--set`-style overrides: `[Kind/name:]path=value` assignments applied
//! to the located YAML tree of a scenario file before it is decoded, so an
//! overridden value is validated exactly like one written in the file.
//!
//! Path syntax (docs/experiments.md):
//! - without a prefix the path is inside the `Scenario` document, e.g.
//!   `spec.cluster.nodePools[0].count=100`; with `Kind/name:` it is inside
//!   the document of that kind and `metadata.name`, e.g.
//!   `Pod/web-0:spec.priority=5`;
//! - segments are separated by `.`; `[N]` indexes a list; `["key.with.dots"]`
//!   names a map key that contains dots or brackets;
//! - the value is parsed as YAML (`100` is an integer, `500m` a string,
//!   `{cpu: "8"}` a mapping).
//!
//! An index past the end of a list, a step into a scalar, or a document
//! that does not exist is an error naming the path; a missing map key is
//! added (so fields the file leaves at their default can be set), and a
//! key kubesim does not know then fails as an unknown field.

use super::diag::{Diagnostic, Severity};
use super::yaml::{self, Loc, Node, RawDoc, Value};
use std::path::Path;

/// One path segment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// A parsed `[Kind/name:]path=value` assignment.
#[derive(Clone, Debug, PartialEq)]
pub struct SetOverride {
    /// The text as given (for messages and run keys).
    pub text: String,
    /// `(kind, name)` of the target document; `None` is the Scenario.
    pub target: Option<(String, String)>,
    pub path: Vec<Seg>,
    /// The path as written (without the document prefix).
    pub path_text: String,
    pub value: Node,
}

impl SetOverride {
    /// Parses `[Kind/name:]path=value`.
    pub fn parse(text: &str) -> Result<SetOverride, String> {
        let (lhs, rhs) = text
            .split_once('=')
            .ok_or_else(|| format!("override {text:?}: expected PATH=VALUE"))?;
        let (target, path_text) = match lhs.split_once(':') {
            Some((doc, p)) if !doc.contains('[') && !doc.contains('"') => {
                let (k, n) = doc.split_once('/').ok_or_else(|| {
                    format!("override {text:?}: a document prefix is Kind/name: (got {doc:?})")
                })?;
                if k.is_empty() || n.is_empty() {
                    return Err(format!(
                        "override {text:?}: a document prefix is Kind/name: (got {doc:?})"
                    ));
                }
                (Some((k.to_string(), n.to_string())), p)
            }
            _ => (None, lhs),
        };
        let path = parse_path(path_text).map_err(|e| format!("override {text:?}: {e}"))?;
        let doc = RawDoc {
            first_line: 1,
            text: format!("{rhs}\n"),
        };
        let value = if rhs.trim().is_empty() {
            Node {
                loc: Loc::default(),
                value: Value::Str(String::new()),
            }
        } else {
            yaml::parse_document(&doc)
                .map_err(|(_, m)| format!("override {text:?}: the value is not valid YAML: {m}"))?
        };
        Ok(SetOverride {
            text: text.to_string(),
            target,
            path,
            path_text: path_text.to_string(),
            value,
        })
    }

    /// Whether a diagnostic at `path` (inside the target document) concerns
    /// this override's value.
    pub fn covers(&self, path: &str) -> bool {
        let p = self.path_text.as_str();
        path == p
            || path.starts_with(&format!("{p}."))
            || path.starts_with(&format!("{p}["))
            || p.starts_with(&format!("{path}."))
    }
}

/// Parses `a.b[0]["c.d"].e`.
pub fn parse_path(s: &str) -> Result<Vec<Seg>, String> {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    let mut key = String::new();
    let mut expect_key = true;
    while i < b.len() {
        match b[i] {
            b'.' => {
                if !key.is_empty() {
                    out.push(Seg::Key(std::mem::take(&mut key)));
                } else if expect_key {
                    return Err(format!("empty segment in path {s:?}"));
                }
                expect_key = true;
                i += 1;
            }
            b'[' => {
                if !key.is_empty() {
                    out.push(Seg::Key(std::mem::take(&mut key)));
                }
                let close = s[i..]
                    .find(']')
                    .map(|c| c + i)
                    .ok_or_else(|| format!("unclosed [ in path {s:?}"))?;
                let inner = &s[i + 1..close];
                if let Some(q) = inner.strip_prefix('"').and_then(|x| x.strip_suffix('"')) {
                    out.push(Seg::Key(q.to_string()));
                } else {
                    let n: usize = inner
                        .parse()
                        .map_err(|_| format!("bad index [{inner}] in path {s:?}"))?;
                    out.push(Seg::Index(n));
                }
                expect_key = false;
                i = close + 1;
            }
            _ => {
                let c = s[i..].chars().next().unwrap_or(' ');
                key.push(c);
                i += c.len_utf8();
            }
        }
    }
    if !key.is_empty() {
        out.push(Seg::Key(key));
    } else if expect_key {
        return Err(format!("path {s:?} is empty or ends with '.'"));
    }
    Ok(out)
}

fn with_loc(mut n: Node, loc: Loc) -> Node {
    n.loc = loc;
    n.value = match n.value {
        Value::Seq(v) => Value::Seq(v.into_iter().map(|x| with_loc(x, loc)).collect()),
        Value::Map(v) => Value::Map(
            v.into_iter()
                .map(|(k, x)| (with_loc(k, loc), with_loc(x, loc)))
                .collect(),
        ),
        other => other,
    };
    n
}

fn key_node(k: &str, loc: Loc) -> Node {
    Node {
        loc,
        value: Value::Str(k.to_string()),
    }
}

/// Sets `path` in `root` to `value`; `Err((loc, message))` names where it
/// stopped. New nodes take the location of the nearest existing parent.
pub fn apply_path(root: &mut Node, path: &[Seg], value: &Node) -> Result<(), (Loc, String)> {
    let mut cur = root;
    let mut walked = String::new();
    for (i, seg) in path.iter().enumerate() {
        let last = i + 1 == path.len();
        let loc = cur.loc;
        match seg {
            Seg::Key(k) => {
                if matches!(cur.value, Value::Null) {
                    cur.value = Value::Map(Vec::new());
                }
                let Value::Map(entries) = &mut cur.value else {
                    return Err((
                        loc,
                        format!(
                            "{} is not a mapping, so it has no key {k:?}",
                            if walked.is_empty() {
                                "the document"
                            } else {
                                &walked
                            }
                        ),
                    ));
                };
                let pos = entries.iter().position(|(kn, _)| kn.key_text() == *k);
                let idx = match pos {
                    Some(p) => p,
                    None => {
                        entries.push((
                            key_node(k, loc),
                            Node {
                                loc,
                                value: Value::Null,
                            },
                        ));
                        entries.len() - 1
                    }
                };
                walked = yaml::child_path(&walked, k);
                cur = &mut entries[idx].1;
            }
            Seg::Index(n) => {
                let Value::Seq(items) = &mut cur.value else {
                    return Err((
                        loc,
                        format!(
                            "{} is not a list, so it has no item [{n}]",
                            if walked.is_empty() {
                                "the document"
                            } else {
                                &walked
                            }
                        ),
                    ));
                };
                let len = items.len();
                if *n >= len {
                    return Err((
                        loc,
                        format!("{walked} has {len} item(s); index [{n}] is out of range"),
                    ));
                }
                walked = yaml::index_path(&walked, *n);
                cur = &mut items[*n];
            }
        }
        if last {
            let at = cur.loc;
            *cur = with_loc(value.clone(), at);
        }
    }
    Ok(())
}

/// Applies the overrides to the parsed documents of `file`; problems are
/// returned as diagnostics naming the override.
pub fn apply_all(trees: &mut [Node], sets: &[SetOverride], file: &Path) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    for s in sets {
        let want_kind = s
            .target
            .as_ref()
            .map(|t| t.0.as_str())
            .unwrap_or("Scenario");
        let doc = trees.iter_mut().find(|t| {
            t.get("kind").and_then(|k| k.as_str()) == Some(want_kind)
                && match &s.target {
                    None => true,
                    Some((_, n)) => {
                        t.get("metadata")
                            .and_then(|m| m.get("name"))
                            .and_then(|x| x.as_str())
                            == Some(n.as_str())
                    }
                }
        });
        let err = |loc: Loc, message: String| Diagnostic {
            severity: Severity::Error,
            file: file.to_path_buf(),
            line: loc.line.max(1),
            column: loc.col.max(1),
            path: s.path_text.clone(),
            object: String::new(),
            message: format!("override {:?}: {message}", s.text),
        };
        match doc {
            None => diags.push(err(
                Loc::default(),
                match &s.target {
                    None => "the file has no Scenario document".to_string(),
                    Some((k, n)) => format!("the file has no {k} document named {n:?}"),
                },
            )),
            Some(root) => {
                if let Err((loc, m)) = apply_path(root, &s.path, &s.value) {
                    diags.push(err(loc, m));
                }
            }
        }
    }
    diags
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(src: &str) -> Node {
        yaml::parse_document(&RawDoc {
            first_line: 1,
            text: src.to_string(),
        })
        .unwrap()
    }

    #[test]
    fn paths_parse() {
        assert_eq!(
            parse_path("spec.cluster.nodePools[0].count").unwrap(),
            vec![
                Seg::Key("spec".into()),
                Seg::Key("cluster".into()),
                Seg::Key("nodePools".into()),
                Seg::Index(0),
                Seg::Key("count".into())
            ]
        );
        assert_eq!(
            parse_path("metadata.labels[\"a.b/c\"]").unwrap(),
            vec![
                Seg::Key("metadata".into()),
                Seg::Key("labels".into()),
                Seg::Key("a.b/c".into())
            ]
        );
        assert!(parse_path("a..b").is_err());
        assert!(parse_path("a.").is_err());
        assert!(parse_path("a[x]").is_err());
        assert!(parse_path("a[0").is_err());
    }

    #[test]
    fn sets_values_and_names_bad_paths() {
        let mut t = tree("spec:\n  pools:\n  - count: 3\n");
        let s = SetOverride::parse("spec.pools[0].count=100").unwrap();
        apply_path(&mut t, &s.path, &s.value).unwrap();
        let v = t.get("spec").unwrap().get("pools").unwrap();
        let Value::Seq(items) = &v.value else {
            panic!()
        };
        assert_eq!(items[0].get("count").unwrap().value, Value::Int(100));
        assert_eq!(items[0].get("count").unwrap().loc.line, 3);
        let s = SetOverride::parse("spec.pools[1].count=1").unwrap();
        let e = apply_path(&mut t, &s.path, &s.value).unwrap_err();
        assert!(e.1.contains("spec.pools has 1 item(s)"), "{}", e.1);
        let s = SetOverride::parse("spec.pools[0].count.x=1").unwrap();
        let e = apply_path(&mut t, &s.path, &s.value).unwrap_err();
        assert!(
            e.1.contains("spec.pools[0].count is not a mapping"),
            "{}",
            e.1
        );
        let s = SetOverride::parse("spec.extra.deep=abc").unwrap();
        apply_path(&mut t, &s.path, &s.value).unwrap();
        assert_eq!(
            t.get("spec")
                .unwrap()
                .get("extra")
                .unwrap()
                .get("deep")
                .unwrap()
                .as_str(),
            Some("abc")
        );
        assert!(SetOverride::parse("novalue").is_err());
        let s = SetOverride::parse("Pod/web-0:spec.priority=5").unwrap();
        assert_eq!(s.target, Some(("Pod".into(), "web-0".into())));
        assert!(s.covers("spec.priority"));
        assert!(!s.covers("spec.priorityClassName"));
    }
}
