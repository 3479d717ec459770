//! YAML reading with exact positions: the stream is split into documents
//! the way Kubernetes does (k8s.io/apimachinery/pkg/util/yaml `YAMLReader`),
//! each document is parsed into a located tree ([`Node`]), and typed
//! manifests are decoded from that tree by a serde `Deserializer` that knows
//! the field path and line of every value. Fields a manifest type does not
//! declare are recorded (with path and line) instead of being dropped.
//!
//! Invariant: this is the only file that calls the YAML parser.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, DeserializeOwned, DeserializeSeed, Error as _, IntoDeserializer, Visitor};
use serde::Deserialize;
use serde_saphyr::Spanned;

/// A 1-based line and column in the whole file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Loc {
    pub line: u32,
    pub col: u32,
}

/// One `---`-separated document of a file.
#[derive(Debug)]
pub struct RawDoc {
    /// 1-based line of the document's first line in the file.
    pub first_line: u32,
    pub text: String,
}

/// Splits a YAML stream on `---` lines as upstream's `YAMLReader.Read` does:
/// a separator is a line starting with `---` followed only by spaces or a
/// comment. Documents holding nothing but blanks and comments are dropped.
pub fn split_documents(src: &str) -> Result<Vec<RawDoc>, (u32, String)> {
    let mut docs = Vec::new();
    let mut cur = String::new();
    let mut first = 1u32;
    for (i, line) in src.split_inclusive('\n').enumerate() {
        let lineno = u32::try_from(i + 1).unwrap_or(u32::MAX);
        if let Some(rest) = line.strip_prefix("---") {
            let t = rest.trim();
            if !t.is_empty() && !t.starts_with('#') {
                return Err((
                    lineno,
                    format!(
                        "invalid document separator {:?}: only spaces or a comment may follow ---",
                        line.trim_end()
                    ),
                ));
            }
            push_doc(&mut docs, std::mem::take(&mut cur), first);
            first = lineno + 1;
            continue;
        }
        cur.push_str(line);
    }
    push_doc(&mut docs, cur, first);
    Ok(docs)
}

fn push_doc(docs: &mut Vec<RawDoc>, text: String, first_line: u32) {
    let meaningful = text.lines().any(|l| {
        let t = l.trim();
        !t.is_empty() && !t.starts_with('#') && t != "..."
    });
    if meaningful {
        docs.push(RawDoc { first_line, text });
    }
}

/// A YAML value with the position of every node.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub loc: Loc,
    pub value: Value,
}

impl Node {
    /// The value under `key` if this is a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => entries
                .iter()
                .find(|(k, _)| matches!(&k.value, Value::Str(s) if s == key))
                .map(|(_, v)| v),
            _ => None,
        }
    }
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
    /// The text of a scalar key (numbers and booleans as written).
    pub fn key_text(&self) -> String {
        match &self.value {
            Value::Str(s) => s.clone(),
            Value::Int(i) => i.to_string(),
            Value::UInt(u) => u.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Float(f) => f.to_string(),
            Value::Null => "null".to_string(),
            Value::Seq(_) | Value::Map(_) => "<complex key>".to_string(),
        }
    }
    fn type_name(&self) -> &'static str {
        match &self.value {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) | Value::UInt(_) => "an integer",
            Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }
}

// ---- parsing text into the located tree (via serde-saphyr's Spanned) ----

/// Intermediate form: serde-saphyr fills `Spanned` positions for us.
struct SValue(Value0);
enum Value0 {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(String),
    Seq(Vec<Spanned<SValue>>),
    Map(Vec<(Spanned<SValue>, Spanned<SValue>)>),
}

impl<'de> Deserialize<'de> for SValue {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = SValue;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any YAML value")
            }
            fn visit_bool<E>(self, v: bool) -> Result<SValue, E> {
                Ok(SValue(Value0::Bool(v)))
            }
            fn visit_i64<E>(self, v: i64) -> Result<SValue, E> {
                Ok(SValue(Value0::Int(v)))
            }
            fn visit_u64<E>(self, v: u64) -> Result<SValue, E> {
                Ok(SValue(match i64::try_from(v) {
                    Ok(i) => Value0::Int(i),
                    Err(_) => Value0::UInt(v),
                }))
            }
            fn visit_i128<E: de::Error>(self, v: i128) -> Result<SValue, E> {
                i64::try_from(v)
                    .map(|i| SValue(Value0::Int(i)))
                    .map_err(|_| E::custom(format!("integer {v} is out of range")))
            }
            fn visit_u128<E: de::Error>(self, v: u128) -> Result<SValue, E> {
                u64::try_from(v)
                    .map(|u| SValue(Value0::UInt(u)))
                    .map_err(|_| E::custom(format!("integer {v} is out of range")))
            }
            fn visit_f64<E>(self, v: f64) -> Result<SValue, E> {
                Ok(SValue(Value0::Float(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<SValue, E> {
                Ok(SValue(Value0::Str(v.to_string())))
            }
            fn visit_string<E>(self, v: String) -> Result<SValue, E> {
                Ok(SValue(Value0::Str(v)))
            }
            fn visit_unit<E>(self) -> Result<SValue, E> {
                Ok(SValue(Value0::Null))
            }
            fn visit_none<E>(self) -> Result<SValue, E> {
                Ok(SValue(Value0::Null))
            }
            fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<SValue, D::Error> {
                SValue::deserialize(d)
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut a: A) -> Result<SValue, A::Error> {
                let mut v = Vec::new();
                while let Some(x) = a.next_element::<Spanned<SValue>>()? {
                    v.push(x);
                }
                Ok(SValue(Value0::Seq(v)))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut a: A) -> Result<SValue, A::Error> {
                let mut v = Vec::new();
                while let Some(k) = a.next_key::<Spanned<SValue>>()? {
                    let val = a.next_value::<Spanned<SValue>>()?;
                    v.push((k, val));
                }
                Ok(SValue(Value0::Map(v)))
            }
        }
        d.deserialize_any(V)
    }
}

fn to_node(s: Spanned<SValue>, line_offset: u32) -> Node {
    let loc = Loc {
        line: u32::try_from(s.referenced.line())
            .unwrap_or(u32::MAX)
            .saturating_add(line_offset),
        col: u32::try_from(s.referenced.column()).unwrap_or(u32::MAX),
    };
    let value = match s.value.0 {
        Value0::Null => Value::Null,
        Value0::Bool(b) => Value::Bool(b),
        Value0::Int(i) => Value::Int(i),
        Value0::UInt(u) => Value::UInt(u),
        Value0::Float(f) => Value::Float(f),
        Value0::Str(s) => Value::Str(s),
        Value0::Seq(v) => Value::Seq(v.into_iter().map(|x| to_node(x, line_offset)).collect()),
        Value0::Map(v) => Value::Map(
            v.into_iter()
                .map(|(k, x)| (to_node(k, line_offset), to_node(x, line_offset)))
                .collect(),
        ),
    };
    Node { loc, value }
}

/// Parses one document into a located tree. On a syntax error returns the
/// position (absolute in the file) and message.
pub fn parse_document(doc: &RawDoc) -> Result<Node, (Loc, String)> {
    let offset = doc.first_line.saturating_sub(1);
    let opts = serde_saphyr::options! {
        with_snippet: false,
        budget: serde_saphyr::budget! { max_nodes: 5_000_000, max_events: 10_000_000, max_documents: 1 },
    };
    match serde_saphyr::from_str_with_options::<Spanned<SValue>>(&doc.text, opts) {
        Ok(v) => Ok(to_node(v, offset)),
        Err(e) => {
            let loc = e
                .location()
                .map(|l| Loc {
                    line: u32::try_from(l.line())
                        .unwrap_or(u32::MAX)
                        .saturating_add(offset),
                    col: u32::try_from(l.column()).unwrap_or(u32::MAX),
                })
                .unwrap_or(Loc {
                    line: doc.first_line,
                    col: 1,
                });
            Err((loc, strip_location(&e.without_snippet().to_string())))
        }
    }
}

/// serde-saphyr prefixes messages with the (document-relative) position;
/// we print absolute positions ourselves.
fn strip_location(msg: &str) -> String {
    let m = msg.trim();
    if let Some(rest) = m.strip_prefix("line ") {
        if let Some(idx) = rest.find(": ") {
            return rest[idx + 2..].to_string();
        }
    }
    m.to_string()
}

/// Field paths in the form users write them: `spec.containers[0].image`.
pub fn child_path(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_string()
    } else {
        format!("{parent}.{key}")
    }
}
pub fn index_path(parent: &str, i: usize) -> String {
    format!("{parent}[{i}]")
}

/// Every field path of a document with the position of its key (for map
/// entries) or item (for list items).
pub fn index_paths(root: &Node) -> BTreeMap<String, Loc> {
    let mut out = BTreeMap::new();
    fn walk(n: &Node, path: &str, out: &mut BTreeMap<String, Loc>) {
        match &n.value {
            Value::Map(entries) => {
                for (k, v) in entries {
                    let p = child_path(path, &k.key_text());
                    out.entry(p.clone()).or_insert(k.loc);
                    walk(v, &p, out);
                }
            }
            Value::Seq(items) => {
                for (i, v) in items.iter().enumerate() {
                    let p = index_path(path, i);
                    out.insert(p.clone(), v.loc);
                    walk(v, &p, out);
                }
            }
            _ => {}
        }
    }
    out.insert(String::new(), root.loc);
    walk(root, "", &mut out);
    out
}

// ---- decoding typed values from the located tree ----

/// A decoding error at a field path and position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    pub path: String,
    pub loc: Option<Loc>,
    pub message: String,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}
impl std::error::Error for DecodeError {}
impl de::Error for DecodeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DecodeError {
            path: String::new(),
            loc: None,
            message: msg.to_string(),
        }
    }
}

/// Fields present in the YAML that the target type does not declare.
#[derive(Default)]
pub struct Ignored {
    pub fields: RefCell<Vec<(String, Loc)>>,
}

/// Decodes `node` (at `path`) into `T`. Unknown fields are appended to
/// `ignored` with their path; the first type error is returned with its
/// path and position.
pub fn decode<T: DeserializeOwned>(
    node: &Node,
    path: &str,
    ignored: &Ignored,
) -> Result<T, DecodeError> {
    T::deserialize(NodeDe {
        node,
        path: path.to_string(),
        ignored,
    })
}

struct NodeDe<'a> {
    node: &'a Node,
    path: String,
    ignored: &'a Ignored,
}

impl<'a> NodeDe<'a> {
    fn locate(&self, mut e: DecodeError) -> DecodeError {
        if e.loc.is_none() {
            e.loc = Some(self.node.loc);
            e.path = self.path.clone();
        }
        e
    }
    fn invalid(&self, exp: &str) -> DecodeError {
        let hint = match (&self.node.value, exp) {
            (Value::Bool(_), "a string") => {
                " (YAML reads y, n, yes, no, on, off, true and false as booleans: quote the value)"
            }
            (Value::Int(_) | Value::UInt(_) | Value::Float(_), "a string") => " (quote the value)",
            _ => "",
        };
        self.locate(DecodeError::custom(format!(
            "expected {exp}, found {}{}{hint}",
            self.node.type_name(),
            match &self.node.value {
                Value::Str(s) => format!(" {s:?}"),
                Value::Int(i) => format!(" {i}"),
                Value::Float(f) => format!(" {f}"),
                Value::Bool(b) => format!(" {b}"),
                _ => String::new(),
            }
        )))
    }
}

macro_rules! forward_located {
    ($($name:ident)*) => {$(
        fn $name<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DecodeError> {
            self.deserialize_any(v)
        }
    )*};
}

impl<'de, 'a> de::Deserializer<'de> for NodeDe<'a> {
    type Error = DecodeError;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DecodeError> {
        let r = match &self.node.value {
            Value::Null => v.visit_unit(),
            Value::Bool(b) => v.visit_bool(*b),
            Value::Int(i) => v.visit_i64(*i),
            Value::UInt(u) => v.visit_u64(*u),
            Value::Float(f) => v.visit_f64(*f),
            Value::Str(s) => v.visit_str(s),
            Value::Seq(items) => v.visit_seq(SeqDe {
                items: items.iter(),
                idx: 0,
                path: &self.path,
                ignored: self.ignored,
            }),
            Value::Map(entries) => v.visit_map(MapDe {
                entries: entries.iter(),
                pending: None,
                path: &self.path,
                ignored: self.ignored,
            }),
        };
        r.map_err(|e| self.locate(e))
    }

    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DecodeError> {
        match self.node.value {
            Value::Null => v.visit_none(),
            _ => {
                let path = self.path.clone();
                let loc = self.node.loc;
                v.visit_some(self).map_err(|mut e| {
                    if e.loc.is_none() {
                        e.loc = Some(loc);
                        e.path = path;
                    }
                    e
                })
            }
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DecodeError> {
        match &self.node.value {
            Value::Str(s) => v.visit_str(s).map_err(|e| self.locate(e)),
            _ => Err(self.invalid("a string")),
        }
    }
    fn deserialize_str<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DecodeError> {
        self.deserialize_string(v)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DecodeError> {
        match &self.node.value {
            Value::Seq(_) => self.deserialize_any(v),
            // An empty value where a list is expected reads as an empty list.
            Value::Null => v
                .visit_seq(SeqDe {
                    items: [].iter(),
                    idx: 0,
                    path: &self.path,
                    ignored: self.ignored,
                })
                .map_err(|e| self.locate(e)),
            _ => Err(self.invalid("a list")),
        }
    }

    fn deserialize_map<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DecodeError> {
        match &self.node.value {
            Value::Map(_) => self.deserialize_any(v),
            Value::Null => v
                .visit_map(MapDe {
                    entries: [].iter(),
                    pending: None,
                    path: &self.path,
                    ignored: self.ignored,
                })
                .map_err(|e| self.locate(e)),
            _ => Err(self.invalid("a mapping")),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, DecodeError> {
        self.deserialize_map(v)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, DecodeError> {
        match &self.node.value {
            Value::Str(s) => v
                .visit_enum(s.as_str().into_deserializer())
                .map_err(|e: DecodeError| self.locate(e)),
            _ => Err(self.invalid("a string")),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DecodeError> {
        self.ignored
            .fields
            .borrow_mut()
            .push((self.path.clone(), self.node.loc));
        v.visit_unit()
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        v: V,
    ) -> Result<V::Value, DecodeError> {
        let path = self.path.clone();
        let loc = self.node.loc;
        v.visit_newtype_struct(self).map_err(|mut e| {
            if e.loc.is_none() {
                e.loc = Some(loc);
                e.path = path;
            }
            e
        })
    }

    forward_located! {
        deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64
        deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64 deserialize_f32
        deserialize_f64 deserialize_char deserialize_bytes deserialize_byte_buf
        deserialize_unit deserialize_identifier deserialize_i128 deserialize_u128
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _n: &'static str,
        v: V,
    ) -> Result<V::Value, DecodeError> {
        self.deserialize_any(v)
    }
    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        v: V,
    ) -> Result<V::Value, DecodeError> {
        self.deserialize_seq(v)
    }
    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _n: &'static str,
        _len: usize,
        v: V,
    ) -> Result<V::Value, DecodeError> {
        self.deserialize_seq(v)
    }
}

struct SeqDe<'a> {
    items: std::slice::Iter<'a, Node>,
    idx: usize,
    path: &'a str,
    ignored: &'a Ignored,
}

impl<'de, 'a> de::SeqAccess<'de> for SeqDe<'a> {
    type Error = DecodeError;
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DecodeError> {
        let Some(n) = self.items.next() else {
            return Ok(None);
        };
        let path = index_path(self.path, self.idx);
        self.idx += 1;
        seed.deserialize(NodeDe {
            node: n,
            path,
            ignored: self.ignored,
        })
        .map(Some)
    }
}

struct MapDe<'a> {
    entries: std::slice::Iter<'a, (Node, Node)>,
    pending: Option<(&'a Node, String)>,
    path: &'a str,
    ignored: &'a Ignored,
}

impl<'de, 'a> de::MapAccess<'de> for MapDe<'a> {
    type Error = DecodeError;
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DecodeError> {
        let Some((k, v)) = self.entries.next() else {
            return Ok(None);
        };
        let kt = k.key_text();
        let path = child_path(self.path, &kt);
        self.pending = Some((v, path.clone()));
        seed.deserialize(NodeDe {
            node: k,
            path,
            ignored: self.ignored,
        })
        .map(Some)
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, DecodeError> {
        let Some((v, path)) = self.pending.take() else {
            return Err(DecodeError::custom("value requested before key"));
        };
        seed.deserialize(NodeDe {
            node: v,
            path,
            ignored: self.ignored,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    fn parse(src: &str) -> Vec<Node> {
        split_documents(src)
            .unwrap()
            .iter()
            .map(|d| parse_document(d).unwrap())
            .collect()
    }

    #[test]
    fn splits_like_kubernetes() {
        let docs = split_documents("a: 1\n---\n# only a comment\n---  # sep with comment\nb: 2\n")
            .unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].first_line, 1);
        assert_eq!(docs[1].first_line, 5);
        assert!(split_documents("a: 1\n--- b: 2\n").is_err());
    }

    #[test]
    fn positions_are_absolute() {
        let nodes =
            parse("a: 1\n---\nkind: Pod\nspec:\n  containers:\n  - name: x\n    image: y\n");
        let idx = index_paths(&nodes[1]);
        assert_eq!(idx["kind"], Loc { line: 3, col: 1 });
        assert_eq!(idx["spec.containers[0].image"].line, 7);
    }

    #[derive(Deserialize, Debug, PartialEq)]
    #[serde(rename_all = "camelCase")]
    struct T {
        name: String,
        replicas: Option<i32>,
        #[serde(default)]
        items: Vec<Item>,
    }
    #[derive(Deserialize, Debug, PartialEq)]
    struct Item {
        v: u8,
    }

    #[test]
    fn decode_reports_unknown_fields_and_type_errors_with_paths() {
        let n = &parse("name: a\nreplica: 3\nitems:\n- v: 1\n  extra: true\n")[0];
        let ign = Ignored::default();
        let t: T = decode(n, "", &ign).unwrap();
        assert_eq!(t.items, vec![Item { v: 1 }]);
        let got: Vec<(String, u32)> = ign
            .fields
            .borrow()
            .iter()
            .map(|(p, l)| (p.clone(), l.line))
            .collect();
        assert_eq!(
            got,
            vec![
                ("replica".to_string(), 2),
                ("items[0].extra".to_string(), 5)
            ]
        );

        let n = &parse("name: a\nitems:\n- v: 1\n- v: three\n")[0];
        let e = decode::<T>(n, "", &Ignored::default()).unwrap_err();
        assert_eq!(e.path, "items[1].v");
        assert_eq!(e.loc.map(|l| l.line), Some(4));
        assert!(e.message.contains("three"), "{}", e.message);

        let n = &parse("replicas: 2\n")[0];
        let e = decode::<T>(n, "spec", &Ignored::default()).unwrap_err();
        assert_eq!(e.path, "spec");
        assert!(e.message.contains("missing field `name`"), "{}", e.message);
    }

    #[test]
    fn syntax_errors_have_absolute_lines() {
        let docs = split_documents("a: 1\n---\nb: {c: 1\nd: 2\n").unwrap();
        let (loc, msg) = parse_document(&docs[1]).unwrap_err();
        assert!(loc.line >= 3, "{loc:?} {msg}");
    }

    #[test]
    fn duplicate_keys_are_syntax_errors() {
        let docs = split_documents("a: 1\nb:\n  c: 1\n  c: 2\n").unwrap();
        let (loc, msg) = parse_document(&docs[0]).unwrap_err();
        assert_eq!(loc.line, 4, "{msg}");
        assert!(msg.to_lowercase().contains("duplicate"), "{msg}");
    }
}
