//! Label selectors, in both upstream forms.
//!
//! - [`Selector`]: the internal form (`labels.Selector`), a conjunction of
//!   [`Requirement`]s sorted by key, parsed from the string syntax
//!   (`a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`, `a>1`,
//!   `a<1`, comma-separated) by a port of upstream's lexer and
//!   recursive-descent parser, matched against a [`Labels`] set, and
//!   printed back in the canonical string form that re-parses to an equal
//!   selector. [`Selector::nothing`] is upstream's `labels.Nothing()`.
//! - [`LabelSelector`]: the API form (`metav1.LabelSelector`, with
//!   `matchLabels` / `matchExpressions`), deserialisable from YAML/JSON and
//!   converted by [`LabelSelector::to_selector`] (`LabelSelectorAsSelector`)
//!   or checked field by field by [`validate_label_selector`]
//!   (`ValidateLabelSelector` with default options).
//!
//! Follows Kubernetes v1.35:
//! `staging/src/k8s.io/apimachinery/pkg/labels/selector.go` (`Parse`,
//! `Lexer`, `Parser`, `NewRequirement`, `Requirement.Matches`,
//! `Requirement.String`, `internalSelector`, `Nothing`, `SelectorFromSet`),
//! `pkg/apis/meta/v1/helpers.go` (`LabelSelectorAsSelector`) and
//! `pkg/apis/meta/v1/validation/validation.go` (`ValidateLabelSelector`).
//! The lexer works on bytes like upstream's, including its quirk that a NUL
//! byte where a token starts reads as end of input (`"x=a \0junk"` parses
//! as `x=a`) while one inside a word ends the word.
//!
//! Deviations (none change which selectors parse or what they match):
//! - A requirement's values are a `BTreeSet`, so duplicate values given to
//!   [`Requirement::new`] / `matchExpressions` collapse (upstream keeps the
//!   slice and prints duplicates in `String()`); the value-count checks of
//!   `NewRequirement` still see the list as given.
//! - Sorting by key is stable (upstream's `sort.Sort` is not guaranteed
//!   stable for long lists of equal keys), and `matchLabels` is visited in
//!   key order (upstream: random map order), so the first error reported by
//!   `to_selector` is deterministic.
//! - [`SelectorError`] messages carry no field path (upstream's
//!   `field.Error` prefix such as `values[0][x]: Invalid value: …`); they
//!   name the offending key/value instead. [`validate_label_selector`]
//!   returns the path next to each error.
//! - One wording for an unknown `matchExpressions` operator
//!   (`"Foo" is not a valid selector operator`); upstream says
//!   `… is not a valid pod selector operator` in helpers.go and
//!   `Invalid value: "Foo": not a valid selector operator` in validation.go.
//! - Not ported: `ValidatedSetSelector`, `ParseToRequirements`,
//!   `ParseToLabelSelector`, `LabelSelectorAsMap`, field-path options,
//!   klog logging. A zero-value `Requirement` cannot be built.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::model::labels::{
    go_quote, validate_label_key, validate_label_value, LabelError, Labels,
};

/// A selector operator (`selection.Operator`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Operator {
    Equals,
    DoubleEquals,
    NotEquals,
    In,
    NotIn,
    Exists,
    DoesNotExist,
    GreaterThan,
    LessThan,
}

impl Operator {
    /// Upstream's string for the operator (`"="`, `"in"`, `"exists"`, `"gt"`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Operator::DoesNotExist => "!",
            Operator::Equals => "=",
            Operator::DoubleEquals => "==",
            Operator::In => "in",
            Operator::NotEquals => "!=",
            Operator::NotIn => "notin",
            Operator::Exists => "exists",
            Operator::GreaterThan => "gt",
            Operator::LessThan => "lt",
        }
    }
}

impl fmt::Display for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Upstream's `binaryOperators`, in upstream order (used in parse errors).
const BINARY_OPERATORS: [&str; 7] = ["in", "notin", "=", "==", "!=", "gt", "lt"];

/// Why a selector or requirement is invalid. Messages name the offending
/// key or value and reuse upstream's wording.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectorError {
    /// The key is not a valid label key.
    #[error("{0}")]
    InvalidKey(LabelError),
    /// One of the values of the requirement on `key` is not a valid label value.
    #[error("key {}: {error}", go_quote(.key))]
    InvalidValue { key: String, error: LabelError },
    /// Wrong number of values for the operator; `detail` is upstream's
    /// `NewRequirement` message.
    #[error("key {}: invalid values {} for operator {operator:?}: {detail}", go_quote(.key), quote_list(.values))]
    InvalidValueCount {
        key: String,
        operator: Operator,
        values: Vec<String>,
        detail: &'static str,
    },
    /// A `gt`/`lt` value that is not a base-10 64-bit integer.
    #[error("key {}: invalid value {}: for 'Gt', 'Lt' operators, the value must be an integer", go_quote(.key), go_quote(.value))]
    NotAnInteger { key: String, value: String },
    /// A `matchExpressions` operator other than In, NotIn, Exists, DoesNotExist.
    #[error("{} is not a valid selector operator", go_quote(.0))]
    UnknownOperator(String),
    /// `matchExpressions[i].values` is empty for In / NotIn.
    #[error("key {}: Required value: must be specified when `operator` is 'In' or 'NotIn'", go_quote(.key))]
    ValuesRequired { key: String },
    /// `matchExpressions[i].values` is non-empty for Exists / DoesNotExist.
    #[error("key {}: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'", go_quote(.key))]
    ValuesForbidden { key: String },
    /// A syntax error from the string parser, in upstream's words
    /// (e.g. `found ',', expected: identifier`).
    #[error("{0}")]
    Syntax(String),
    /// An error inside one requirement of a parsed string (upstream wraps
    /// these as `unable to parse requirement: …`).
    #[error("unable to parse requirement: {0}")]
    Requirement(Box<SelectorError>),
    /// Several problems with one requirement (upstream's aggregate error,
    /// printed as `[a, b]`).
    #[error("[{}]", join_errors(.0))]
    Multiple(Vec<SelectorError>),
}

fn quote_list(values: &[String]) -> String {
    let quoted: Vec<String> = values.iter().map(|v| go_quote(v)).collect();
    format!("[{}]", quoted.join(", "))
}

fn join_errors(errs: &[SelectorError]) -> String {
    let msgs: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
    msgs.join(", ")
}

/// Upstream's `ErrorList.ToAggregate`: drop repeated messages; one error
/// stands alone, several form a [`SelectorError::Multiple`].
fn aggregate(errs: Vec<SelectorError>) -> Result<(), SelectorError> {
    let mut seen = BTreeSet::new();
    let mut unique: Vec<SelectorError> = errs
        .into_iter()
        .filter(|e| seen.insert(e.to_string()))
        .collect();
    match unique.len() {
        0 => Ok(()),
        1 => Err(unique.remove(0)),
        _ => Err(SelectorError::Multiple(unique)),
    }
}

/// One clause of a selector: a key, an operator and a set of values
/// (`labels.Requirement`). Built only through [`Requirement::new`], so it is
/// always valid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Requirement {
    key: String,
    operator: Operator,
    values: BTreeSet<String>,
}

impl Requirement {
    /// Upstream's `NewRequirement`. Fails, collecting every problem, if:
    /// the key is not a valid label key; `in`/`notin` have no values;
    /// `=`/`==`/`!=` do not have exactly one value; `exists`/`!` have any
    /// value; `gt`/`lt` do not have exactly one value that is a base-10
    /// `i64`; or any value is not a valid label value. The empty string is
    /// a valid value. For no values pass e.g. `Vec::<String>::new()`.
    pub fn new<K, I, V>(key: K, operator: Operator, values: I) -> Result<Requirement, SelectorError>
    where
        K: Into<String>,
        I: IntoIterator<Item = V>,
        V: Into<String>,
    {
        let key = key.into();
        let vals: Vec<String> = values.into_iter().map(Into::into).collect();
        let mut errs = Vec::new();
        if let Err(e) = validate_label_key(&key) {
            errs.push(SelectorError::InvalidKey(e));
        }
        let count_error = |detail: &'static str| SelectorError::InvalidValueCount {
            key: key.clone(),
            operator,
            values: vals.clone(),
            detail,
        };
        match operator {
            Operator::In | Operator::NotIn => {
                if vals.is_empty() {
                    errs.push(count_error(
                        "for 'in', 'notin' operators, values set can't be empty",
                    ));
                }
            }
            Operator::Equals | Operator::DoubleEquals | Operator::NotEquals => {
                if vals.len() != 1 {
                    errs.push(count_error(
                        "exact-match compatibility requires one single value",
                    ));
                }
            }
            Operator::Exists | Operator::DoesNotExist => {
                if !vals.is_empty() {
                    errs.push(count_error(
                        "values set must be empty for exists and does not exist",
                    ));
                }
            }
            Operator::GreaterThan | Operator::LessThan => {
                if vals.len() != 1 {
                    errs.push(count_error(
                        "for 'Gt', 'Lt' operators, exactly one value is required",
                    ));
                }
                for v in &vals {
                    if v.parse::<i64>().is_err() {
                        errs.push(SelectorError::NotAnInteger {
                            key: key.clone(),
                            value: v.clone(),
                        });
                    }
                }
            }
        }
        for v in &vals {
            if let Err(e) = validate_label_value(v) {
                errs.push(SelectorError::InvalidValue {
                    key: key.clone(),
                    error: e,
                });
            }
        }
        aggregate(errs)?;
        Ok(Requirement {
            key,
            operator,
            values: vals.into_iter().collect(),
        })
    }

    /// The label key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The operator.
    pub fn operator(&self) -> Operator {
        self.operator
    }

    /// The values, sorted (empty for `exists` / `!`).
    pub fn values(&self) -> &BTreeSet<String> {
        &self.values
    }

    /// Upstream's `Requirement.Matches`:
    /// - `in`, `=`, `==`: the key is present and its value is in the set;
    /// - `notin`, `!=`: the key is absent, or its value is not in the set;
    /// - `exists` / `!`: the key is present / absent;
    /// - `gt` / `lt`: the key is present, its value parses as an `i64`, and
    ///   compares strictly greater / less than the requirement's value.
    pub fn matches(&self, labels: &Labels) -> bool {
        match self.operator {
            Operator::In | Operator::Equals | Operator::DoubleEquals => labels
                .get(&self.key)
                .is_some_and(|v| self.values.contains(v)),
            Operator::NotIn | Operator::NotEquals => labels
                .get(&self.key)
                .is_none_or(|v| !self.values.contains(v)),
            Operator::Exists => labels.contains_key(&self.key),
            Operator::DoesNotExist => !labels.contains_key(&self.key),
            Operator::GreaterThan | Operator::LessThan => {
                let Some(Ok(have)) = labels.get(&self.key).map(|v| v.parse::<i64>()) else {
                    return false;
                };
                if self.values.len() != 1 {
                    return false;
                }
                let Some(Ok(want)) = self.values.first().map(|v| v.parse::<i64>()) else {
                    return false;
                };
                if self.operator == Operator::GreaterThan {
                    have > want
                } else {
                    have < want
                }
            }
        }
    }
}

/// Upstream's `Requirement.String`: `!key`, `key`, `key=v`, `key==v`,
/// `key!=v`, `key in (a,b)`, `key notin (a,b)`, `key>v`, `key<v`.
impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.operator == Operator::DoesNotExist {
            f.write_str("!")?;
        }
        f.write_str(&self.key)?;
        let (op, parens) = match self.operator {
            Operator::Equals => ("=", false),
            Operator::DoubleEquals => ("==", false),
            Operator::NotEquals => ("!=", false),
            Operator::In => (" in ", true),
            Operator::NotIn => (" notin ", true),
            Operator::GreaterThan => (">", false),
            Operator::LessThan => ("<", false),
            Operator::Exists | Operator::DoesNotExist => return Ok(()),
        };
        f.write_str(op)?;
        if parens {
            f.write_str("(")?;
        }
        for (i, v) in self.values.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(v)?;
        }
        if parens {
            f.write_str(")")?;
        }
        Ok(())
    }
}

/// A label selector: the conjunction of its requirements, sorted by key, or
/// the selector that matches nothing. The default is [`Selector::everything`].
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Selector {
    requirements: Vec<Requirement>,
    /// `labels.Nothing()`: matches no label set; `requirements` is empty.
    nothing: bool,
}

impl Selector {
    /// Matches every label set (`labels.Everything()`).
    pub fn everything() -> Selector {
        Selector::default()
    }

    /// Matches no label set (`labels.Nothing()`), e.g. for an absent
    /// `LabelSelector`. It prints as the empty string, which re-parses as
    /// [`Selector::everything`], exactly as upstream.
    pub fn nothing() -> Selector {
        Selector {
            requirements: Vec::new(),
            nothing: true,
        }
    }

    /// A selector from requirements, sorted (stably) by key.
    pub fn from_requirements(requirements: impl IntoIterator<Item = Requirement>) -> Selector {
        Selector::everything().add(requirements)
    }

    /// Upstream's `SelectorFromSet`: `k=v` for every label, without
    /// validation (invalid text may not re-parse). Empty gives everything.
    pub fn from_set(labels: &Labels) -> Selector {
        Selector {
            requirements: labels
                .iter()
                .map(|(k, v)| Requirement {
                    key: k.clone(),
                    operator: Operator::Equals,
                    values: BTreeSet::from([v.clone()]),
                })
                .collect(),
            nothing: false,
        }
    }

    /// Upstream's `ValidatedSelectorFromSet`: as [`Selector::from_set`], but
    /// every key and value is validated first.
    pub fn validated_from_set(labels: &Labels) -> Result<Selector, SelectorError> {
        let reqs = labels
            .iter()
            .map(|(k, v)| Requirement::new(k.as_str(), Operator::Equals, [v.as_str()]))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Selector::from_requirements(reqs))
    }

    /// Upstream's `Add`: a copy with more requirements, re-sorted by key.
    /// Adding to [`Selector::nothing`] still matches nothing.
    pub fn add(&self, requirements: impl IntoIterator<Item = Requirement>) -> Selector {
        if self.nothing {
            return self.clone();
        }
        let mut reqs = self.requirements.clone();
        reqs.extend(requirements);
        reqs.sort_by(|a, b| a.key.cmp(&b.key));
        Selector {
            requirements: reqs,
            nothing: false,
        }
    }

    /// Parses the string syntax (upstream's `Parse`):
    ///
    /// ```text
    /// <selector-syntax>         ::= <requirement> | <requirement> "," <selector-syntax>
    /// <requirement>             ::= [!] KEY [ <set-based-restriction> | <exact-match-restriction> ]
    /// <set-based-restriction>   ::= "" | <inclusion-exclusion> <value-set>
    /// <inclusion-exclusion>     ::= "in" | "notin"
    /// <value-set>               ::= "(" <values> ")"
    /// <values>                  ::= VALUE | VALUE "," <values>
    /// <exact-match-restriction> ::= ["="|"=="|"!="|">"|"<"] VALUE
    /// ```
    ///
    /// Whitespace (space, tab, CR, LF) separates tokens; values may be
    /// empty (`x=`, `x in ()`, `x in (a,)`). The empty string parses as
    /// [`Selector::everything`]. Never panics.
    pub fn parse(s: &str) -> Result<Selector, SelectorError> {
        let mut p = Parser::new(s);
        let mut requirements = p.parse()?;
        requirements.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(Selector {
            requirements,
            nothing: false,
        })
    }

    /// True if every requirement matches (upstream's `Matches`); always
    /// false for [`Selector::nothing`].
    pub fn matches(&self, labels: &Labels) -> bool {
        !self.nothing && self.requirements.iter().all(|r| r.matches(labels))
    }

    /// True if the selector does not restrict anything (upstream's
    /// `Empty`); false for [`Selector::nothing`].
    pub fn is_empty(&self) -> bool {
        !self.nothing && self.requirements.is_empty()
    }

    /// True only for [`Selector::nothing`] (upstream's `MatchesNothing`).
    pub fn is_nothing(&self) -> bool {
        self.nothing
    }

    /// The requirements, sorted by key (empty for [`Selector::nothing`]).
    pub fn requirements(&self) -> &[Requirement] {
        &self.requirements
    }

    /// Upstream's `RequiresExactMatch`: the single value that the first
    /// requirement on `label` demands via `=`, `==` or a one-value `in`.
    pub fn requires_exact_match(&self, label: &str) -> Option<&str> {
        let r = self.requirements.iter().find(|r| r.key == label)?;
        match r.operator {
            Operator::Equals | Operator::DoubleEquals | Operator::In if r.values.len() == 1 => {
                r.values.first().map(String::as_str)
            }
            _ => None,
        }
    }
}

/// Upstream's `String()`: requirements joined by `,`; re-parses to an equal
/// selector (except [`Selector::nothing`], which prints as `""`).
impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.requirements.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Selector {
    type Err = SelectorError;
    fn from_str(s: &str) -> Result<Selector, SelectorError> {
        Selector::parse(s)
    }
}

// ---------------------------------------------------------------------------
// Lexer and parser: a port of upstream's, token for token.

/// Lexer tokens (upstream's `Token`, same order).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Token {
    Error,
    EndOfString,
    ClosedPar,
    Comma,
    DoesNotExist,
    DoubleEquals,
    Equals,
    GreaterThan,
    Identifier,
    In,
    LessThan,
    NotEquals,
    NotIn,
    OpenPar,
}

/// Upstream's `string2token`.
fn string_to_token(s: &[u8]) -> Option<Token> {
    Some(match s {
        b")" => Token::ClosedPar,
        b"," => Token::Comma,
        b"!" => Token::DoesNotExist,
        b"==" => Token::DoubleEquals,
        b"=" => Token::Equals,
        b">" => Token::GreaterThan,
        b"in" => Token::In,
        b"<" => Token::LessThan,
        b"!=" => Token::NotEquals,
        b"notin" => Token::NotIn,
        b"(" => Token::OpenPar,
        _ => return None,
    })
}

fn is_whitespace(ch: u8) -> bool {
    matches!(ch, b' ' | b'\t' | b'\r' | b'\n')
}

fn is_special_symbol(ch: u8) -> bool {
    matches!(ch, b'=' | b'!' | b'(' | b')' | b',' | b'>' | b'<')
}

struct Lexer<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Lexer<'a> {
    fn new(s: &'a str) -> Lexer<'a> {
        Lexer { s, pos: 0 }
    }

    /// The next byte, or 0 at the end (a NUL byte also reads as 0).
    fn read(&mut self) -> u8 {
        match self.s.as_bytes().get(self.pos) {
            Some(&b) => {
                self.pos += 1;
                b
            }
            None => 0,
        }
    }

    fn unread(&mut self) {
        self.pos = self.pos.saturating_sub(1);
    }

    /// The text between two byte offsets. Token boundaries always sit next
    /// to ASCII bytes or the ends, so this is always a char boundary.
    fn text(&self, start: usize, end: usize) -> String {
        self.s.get(start..end).unwrap_or_default().to_string()
    }

    fn scan_id_or_keyword(&mut self) -> (Token, String) {
        let start = self.pos;
        let end;
        loop {
            let at = self.pos;
            let ch = self.read();
            if ch == 0 {
                end = at;
                break;
            }
            if is_special_symbol(ch) || is_whitespace(ch) {
                self.unread();
                end = at;
                break;
            }
        }
        let lit = self.text(start, end);
        match string_to_token(lit.as_bytes()) {
            Some(tok) => (tok, lit),
            None => (Token::Identifier, lit),
        }
    }

    fn scan_special_symbol(&mut self) -> (Token, String) {
        let mut last: Option<(Token, String)> = None;
        let mut buffer: Vec<u8> = Vec::new();
        loop {
            let ch = self.read();
            if ch == 0 {
                break;
            }
            if !is_special_symbol(ch) {
                self.unread();
                break;
            }
            buffer.push(ch);
            if let Some(tok) = string_to_token(&buffer) {
                last = Some((tok, String::from_utf8_lossy(&buffer).into_owned()));
            } else if last.is_some() {
                self.unread();
                break;
            }
        }
        match last {
            Some(item) => item,
            None => (
                Token::Error,
                format!(
                    "error expected: keyword found '{}'",
                    String::from_utf8_lossy(&buffer)
                ),
            ),
        }
    }

    fn skip_white_spaces(&mut self, mut ch: u8) -> u8 {
        while is_whitespace(ch) {
            ch = self.read();
        }
        ch
    }

    /// The next token and its literal.
    fn lex(&mut self) -> (Token, String) {
        let first = self.read();
        let ch = self.skip_white_spaces(first);
        if ch == 0 {
            (Token::EndOfString, String::new())
        } else if is_special_symbol(ch) {
            self.unread();
            self.scan_special_symbol()
        } else {
            self.unread();
            self.scan_id_or_keyword()
        }
    }
}

/// Parser context: in `Values`, the keywords `in` / `notin` are identifiers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ParserContext {
    KeyAndOperator,
    Values,
}

struct Parser<'a> {
    lexer: Lexer<'a>,
    scanned: Vec<(Token, String)>,
    position: usize,
}

impl<'a> Parser<'a> {
    fn new(s: &'a str) -> Parser<'a> {
        Parser {
            lexer: Lexer::new(s),
            scanned: Vec::new(),
            position: 0,
        }
    }

    /// Tokenises the whole input, ending with `EndOfString`.
    fn scan(&mut self) {
        loop {
            let (tok, lit) = self.lexer.lex();
            self.scanned.push((tok, lit));
            if tok == Token::EndOfString {
                break;
            }
        }
    }

    fn item(&self, at: usize, context: ParserContext) -> (Token, String) {
        let (tok, lit) = match self.scanned.get(at) {
            Some((t, l)) => (*t, l.clone()),
            None => (Token::EndOfString, String::new()),
        };
        match (context, tok) {
            (ParserContext::Values, Token::In | Token::NotIn) => (Token::Identifier, lit),
            _ => (tok, lit),
        }
    }

    fn lookahead(&self, context: ParserContext) -> (Token, String) {
        self.item(self.position, context)
    }

    fn consume(&mut self, context: ParserContext) -> (Token, String) {
        let item = self.item(self.position, context);
        self.position += 1;
        item
    }

    fn parse(&mut self) -> Result<Vec<Requirement>, SelectorError> {
        use ParserContext::Values;
        self.scan();
        let mut requirements = Vec::new();
        loop {
            let (tok, lit) = self.lookahead(Values);
            match tok {
                Token::Identifier | Token::DoesNotExist => {
                    let r = self
                        .parse_requirement()
                        .map_err(|e| SelectorError::Requirement(Box::new(e)))?;
                    requirements.push(r);
                    let (t, l) = self.consume(Values);
                    match t {
                        Token::EndOfString => return Ok(requirements),
                        Token::Comma => {
                            let (t2, l2) = self.lookahead(Values);
                            if t2 != Token::Identifier && t2 != Token::DoesNotExist {
                                return Err(SelectorError::Syntax(format!(
                                    "found '{l2}', expected: identifier after ','"
                                )));
                            }
                        }
                        _ => {
                            return Err(SelectorError::Syntax(format!(
                                "found '{l}', expected: ',' or 'end of string'"
                            )))
                        }
                    }
                }
                Token::EndOfString => return Ok(requirements),
                _ => {
                    return Err(SelectorError::Syntax(format!(
                        "found '{lit}', expected: !, identifier, or 'end of string'"
                    )))
                }
            }
        }
    }

    fn parse_requirement(&mut self) -> Result<Requirement, SelectorError> {
        let (key, inferred) = self.parse_key_and_infer_operator()?;
        if let Some(op @ (Operator::Exists | Operator::DoesNotExist)) = inferred {
            return Requirement::new(key, op, Vec::<String>::new());
        }
        let operator = self.parse_operator()?;
        let values = match operator {
            Operator::In | Operator::NotIn => self.parse_values()?,
            _ => self.parse_exact_value()?,
        };
        Requirement::new(key, operator, values)
    }

    /// A key, optionally preceded by `!`; when followed by `,` or the end,
    /// the operator is inferred (`exists`, or `!` kept).
    fn parse_key_and_infer_operator(
        &mut self,
    ) -> Result<(String, Option<Operator>), SelectorError> {
        use ParserContext::Values;
        let mut operator = None;
        let (mut tok, mut literal) = self.consume(Values);
        if tok == Token::DoesNotExist {
            operator = Some(Operator::DoesNotExist);
            (tok, literal) = self.consume(Values);
        }
        if tok != Token::Identifier {
            return Err(SelectorError::Syntax(format!(
                "found '{literal}', expected: identifier"
            )));
        }
        validate_label_key(&literal).map_err(SelectorError::InvalidKey)?;
        let (t, _) = self.lookahead(Values);
        if (t == Token::EndOfString || t == Token::Comma)
            && operator != Some(Operator::DoesNotExist)
        {
            operator = Some(Operator::Exists);
        }
        Ok((literal, operator))
    }

    fn parse_operator(&mut self) -> Result<Operator, SelectorError> {
        let (tok, lit) = self.consume(ParserContext::KeyAndOperator);
        Ok(match tok {
            Token::In => Operator::In,
            Token::Equals => Operator::Equals,
            Token::DoubleEquals => Operator::DoubleEquals,
            Token::GreaterThan => Operator::GreaterThan,
            Token::LessThan => Operator::LessThan,
            Token::NotIn => Operator::NotIn,
            Token::NotEquals => Operator::NotEquals,
            _ => {
                return Err(SelectorError::Syntax(format!(
                    "found '{lit}', expected: {}",
                    BINARY_OPERATORS.join(", ")
                )))
            }
        })
    }

    /// `(a,b,…)`; `()` is the set `{""}`.
    fn parse_values(&mut self) -> Result<BTreeSet<String>, SelectorError> {
        use ParserContext::Values;
        let (tok, lit) = self.consume(Values);
        if tok != Token::OpenPar {
            return Err(SelectorError::Syntax(format!(
                "found '{lit}' expected: '('"
            )));
        }
        let (tok, lit) = self.lookahead(Values);
        match tok {
            Token::Identifier | Token::Comma => {
                let s = self.parse_identifiers_list()?;
                let (tok, _) = self.consume(Values);
                if tok != Token::ClosedPar {
                    // Upstream reports the literal seen after '(' here.
                    return Err(SelectorError::Syntax(format!(
                        "found '{lit}', expected: ')'"
                    )));
                }
                Ok(s)
            }
            Token::ClosedPar => {
                self.consume(Values);
                Ok(BTreeSet::from([String::new()]))
            }
            _ => Err(SelectorError::Syntax(format!(
                "found '{lit}', expected: ',', ')' or identifier"
            ))),
        }
    }

    /// A possibly empty list of possibly empty comma-separated identifiers.
    fn parse_identifiers_list(&mut self) -> Result<BTreeSet<String>, SelectorError> {
        use ParserContext::Values;
        let mut s = BTreeSet::new();
        loop {
            let (tok, lit) = self.consume(Values);
            match tok {
                Token::Identifier => {
                    s.insert(lit);
                    let (tok2, lit2) = self.lookahead(Values);
                    match tok2 {
                        Token::Comma => continue,
                        Token::ClosedPar => return Ok(s),
                        _ => {
                            return Err(SelectorError::Syntax(format!(
                                "found '{lit2}', expected: ',' or ')'"
                            )))
                        }
                    }
                }
                Token::Comma => {
                    if s.is_empty() {
                        s.insert(String::new()); // "(,"
                    }
                    let (tok2, _) = self.lookahead(Values);
                    if tok2 == Token::ClosedPar {
                        s.insert(String::new()); // ",)"
                        return Ok(s);
                    }
                    if tok2 == Token::Comma {
                        s.insert(String::new()); // ",,"
                    }
                }
                _ => {
                    return Err(SelectorError::Syntax(format!(
                        "found '{lit}', expected: ',', or identifier"
                    )))
                }
            }
        }
    }

    /// The single value of `=`, `==`, `!=`, `>`, `<`; empty before `,` or
    /// the end.
    fn parse_exact_value(&mut self) -> Result<BTreeSet<String>, SelectorError> {
        use ParserContext::Values;
        let (tok, _) = self.lookahead(Values);
        if tok == Token::EndOfString || tok == Token::Comma {
            return Ok(BTreeSet::from([String::new()]));
        }
        let (tok, lit) = self.consume(Values);
        if tok == Token::Identifier {
            Ok(BTreeSet::from([lit]))
        } else {
            Err(SelectorError::Syntax(format!(
                "found '{lit}', expected: identifier"
            )))
        }
    }
}

// ---------------------------------------------------------------------------
// The API form.

/// `metav1.LabelSelector`. Both fields empty selects everything; an absent
/// selector (`None`) selects nothing, see [`label_selector_as_selector`].
/// `null` fields read as empty, as in Go.
#[derive(Clone, Debug, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LabelSelector {
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub match_labels: BTreeMap<String, String>,
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub match_expressions: Vec<LabelSelectorRequirement>,
}

/// `metav1.LabelSelectorRequirement`. `operator` is one of `In`, `NotIn`,
/// `Exists`, `DoesNotExist`, checked on conversion / validation.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub struct LabelSelectorRequirement {
    pub key: String,
    pub operator: String,
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub values: Vec<String>,
}

fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + serde::Deserialize<'de>,
{
    Ok(<Option<T> as serde::Deserialize>::deserialize(d)?.unwrap_or_default())
}

/// Maps a `matchExpressions` operator name to an [`Operator`].
fn api_operator(op: &str) -> Option<Operator> {
    match op {
        "In" => Some(Operator::In),
        "NotIn" => Some(Operator::NotIn),
        "Exists" => Some(Operator::Exists),
        "DoesNotExist" => Some(Operator::DoesNotExist),
        _ => None,
    }
}

impl LabelSelector {
    /// Upstream's `LabelSelectorAsSelector` for a present selector: empty
    /// gives [`Selector::everything`]; otherwise `key=value` for every
    /// `matchLabels` entry plus one requirement per `matchExpressions`
    /// entry, each validated by [`Requirement::new`]; the first error wins.
    pub fn to_selector(&self) -> Result<Selector, SelectorError> {
        if self.match_labels.is_empty() && self.match_expressions.is_empty() {
            return Ok(Selector::everything());
        }
        let mut reqs = Vec::with_capacity(self.match_labels.len() + self.match_expressions.len());
        for (k, v) in &self.match_labels {
            reqs.push(Requirement::new(
                k.as_str(),
                Operator::Equals,
                [v.as_str()],
            )?);
        }
        for expr in &self.match_expressions {
            let op = api_operator(&expr.operator)
                .ok_or_else(|| SelectorError::UnknownOperator(expr.operator.clone()))?;
            reqs.push(Requirement::new(
                expr.key.as_str(),
                op,
                expr.values.iter().map(String::as_str),
            )?);
        }
        Ok(Selector::from_requirements(reqs))
    }
}

/// Upstream's `LabelSelectorAsSelector` including the absent case: `None`
/// gives [`Selector::nothing`].
pub fn label_selector_as_selector(sel: Option<&LabelSelector>) -> Result<Selector, SelectorError> {
    match sel {
        None => Ok(Selector::nothing()),
        Some(s) => s.to_selector(),
    }
}

/// Upstream's `ValidateLabelSelector` (default options: values are checked).
/// Returns every problem with a field path relative to the selector, e.g.
/// `("matchLabels", …)`, `("matchExpressions[0].operator", …)`,
/// `("matchExpressions[0].values", …)`, `("matchExpressions[1].key", …)`,
/// `("matchExpressions[1].values[2]", …)`; callers prefix their own path.
/// A selector with no errors converts with [`LabelSelector::to_selector`].
pub fn validate_label_selector(sel: &LabelSelector) -> Vec<(String, SelectorError)> {
    let mut errs = Vec::new();
    for (k, v) in &sel.match_labels {
        if let Err(e) = validate_label_key(k) {
            errs.push(("matchLabels".to_string(), SelectorError::InvalidKey(e)));
        }
        if let Err(e) = validate_label_value(v) {
            errs.push((
                "matchLabels".to_string(),
                SelectorError::InvalidValue {
                    key: k.clone(),
                    error: e,
                },
            ));
        }
    }
    for (i, expr) in sel.match_expressions.iter().enumerate() {
        let path = format!("matchExpressions[{i}]");
        match api_operator(&expr.operator) {
            Some(Operator::In | Operator::NotIn) => {
                if expr.values.is_empty() {
                    errs.push((
                        format!("{path}.values"),
                        SelectorError::ValuesRequired {
                            key: expr.key.clone(),
                        },
                    ));
                }
            }
            Some(_) => {
                if !expr.values.is_empty() {
                    errs.push((
                        format!("{path}.values"),
                        SelectorError::ValuesForbidden {
                            key: expr.key.clone(),
                        },
                    ));
                }
            }
            None => errs.push((
                format!("{path}.operator"),
                SelectorError::UnknownOperator(expr.operator.clone()),
            )),
        }
        if let Err(e) = validate_label_key(&expr.key) {
            errs.push((format!("{path}.key"), SelectorError::InvalidKey(e)));
        }
        for (j, v) in expr.values.iter().enumerate() {
            if let Err(e) = validate_label_value(v) {
                errs.push((
                    format!("{path}.values[{j}]"),
                    SelectorError::InvalidValue {
                        key: expr.key.clone(),
                        error: e,
                    },
                ));
            }
        }
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn set(kv: &[(&str, &str)]) -> Labels {
        kv.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn req(key: &str, op: Operator, vals: &[&str]) -> Requirement {
        Requirement::new(key, op, vals.iter().copied())
            .unwrap_or_else(|e| panic!("Requirement::new({key:?}, {op:?}, {vals:?}): {e}"))
    }

    fn sel(reqs: Vec<Requirement>) -> Selector {
        Selector::from_requirements(reqs)
    }

    // ---- TestSelectorParse -------------------------------------------------

    #[test]
    fn selector_parse_good_and_bad_strings() {
        let good = [
            "x=a,y=b,z=c",
            "",
            "x!=a,y=b",
            "x=",
            "x= ",
            "x=,z= ",
            "x= ,z= ",
            "!x",
            "x>1",
            "x>1,z<5",
        ];
        for s in good {
            let lq = Selector::parse(s).unwrap_or_else(|e| panic!("{s:?}: {e}"));
            assert_eq!(lq.to_string(), s.replace(' ', ""), "restring of {s:?}");
        }
        let bad = ["x=a||y=b", "x==a==b", "!x=a", "x<a"];
        for s in bad {
            assert!(Selector::parse(s).is_err(), "{s:?} should fail");
        }
    }

    // ---- TestDeterministicParse --------------------------------------------

    #[test]
    fn deterministic_parse() {
        let s1 = Selector::parse("x=a,a=x").unwrap();
        let s2 = Selector::parse("a=x,x=a").unwrap();
        assert_eq!(s1.to_string(), s2.to_string());
        assert_eq!(s1, s2);
    }

    // ---- TestEverything / TestSelectorMatches -------------------------------

    #[test]
    fn everything() {
        assert!(Selector::everything().matches(&set(&[("x", "y")])));
        assert!(Selector::everything().is_empty());
    }

    fn expect_match(selector: &str, ls: &Labels) {
        let lq = Selector::parse(selector).unwrap_or_else(|e| panic!("{selector:?}: {e}"));
        assert!(lq.matches(ls), "wanted {selector:?} to match {ls:?}");
    }

    fn expect_no_match(selector: &str, ls: &Labels) {
        let lq = Selector::parse(selector).unwrap_or_else(|e| panic!("{selector:?}: {e}"));
        assert!(!lq.matches(ls), "wanted {selector:?} not to match {ls:?}");
    }

    #[test]
    fn selector_matches() {
        expect_match("", &set(&[("x", "y")]));
        expect_match("x=y", &set(&[("x", "y")]));
        expect_match("x=y,z=w", &set(&[("x", "y"), ("z", "w")]));
        expect_match("x!=y,z!=w", &set(&[("x", "z"), ("z", "a")]));
        expect_match("notin=in", &set(&[("notin", "in")]));
        expect_match("x", &set(&[("x", "z")]));
        expect_match("!x", &set(&[("y", "z")]));
        expect_match("x>1", &set(&[("x", "2")]));
        expect_match("x<1", &set(&[("x", "0")]));
        expect_no_match("x=z", &set(&[]));
        expect_no_match("x=y", &set(&[("x", "z")]));
        expect_no_match("x=y,z=w", &set(&[("x", "w"), ("z", "w")]));
        expect_no_match("x!=y,z!=w", &set(&[("x", "z"), ("z", "w")]));
        expect_no_match("x", &set(&[("y", "z")]));
        expect_no_match("!x", &set(&[("x", "z")]));
        expect_no_match("x>1", &set(&[("x", "0")]));
        expect_no_match("x<1", &set(&[("x", "2")]));

        let labelset = set(&[("foo", "bar"), ("baz", "blah")]);
        expect_match("foo=bar", &labelset);
        expect_match("baz=blah", &labelset);
        expect_match("foo=bar,baz=blah", &labelset);
        expect_no_match("foo=blah", &labelset);
        expect_no_match("baz=bar", &labelset);
        expect_no_match("foo=bar,foobar=bar,baz=blah", &labelset);
    }

    #[test]
    fn absent_key_matches_negative_operators() {
        expect_match("a!=b", &set(&[]));
        expect_match("a notin (x)", &set(&[("b", "x")]));
        expect_no_match("a in (x)", &set(&[]));
        expect_no_match("a>1", &set(&[]));
        expect_no_match("a<1", &set(&[]));
        // Non-integer label values never satisfy gt/lt.
        expect_no_match("a>1", &set(&[("a", "v2")]));
        expect_no_match("a<1", &set(&[("a", "")]));
    }

    // ---- TestSetMatches / TestNilMapIsValid / TestSetIsEmpty ----------------

    #[test]
    fn set_matches() {
        let labelset = set(&[("foo", "bar"), ("baz", "blah")]);
        for s in [
            set(&[]),
            set(&[("foo", "bar")]),
            set(&[("baz", "blah")]),
            set(&[("foo", "bar"), ("baz", "blah")]),
        ] {
            assert!(Selector::from_set(&s).matches(&labelset), "{s:?}");
        }
        assert!(Selector::from_set(&set(&[])).is_empty());
        assert_eq!(Selector::from_set(&set(&[])), Selector::everything());
        assert!(Selector::everything().is_empty());
        assert_eq!(
            Selector::from_set(&set(&[("foo", "bar"), ("baz", "qup")])).to_string(),
            "baz=qup,foo=bar"
        );
    }

    // ---- TestLexer ---------------------------------------------------------

    #[test]
    fn lexer_single_tokens() {
        let cases = [
            ("", Token::EndOfString),
            (",", Token::Comma),
            ("notin", Token::NotIn),
            ("in", Token::In),
            ("=", Token::Equals),
            ("==", Token::DoubleEquals),
            (">", Token::GreaterThan),
            ("<", Token::LessThan),
            ("!", Token::DoesNotExist),
            ("!=", Token::NotEquals),
            ("(", Token::OpenPar),
            (")", Token::ClosedPar),
            ("~", Token::Identifier),
            ("||", Token::Identifier),
        ];
        for (s, want) in cases {
            let mut l = Lexer::new(s);
            let (tok, lit) = l.lex();
            assert_eq!(tok, want, "{s:?}");
            assert_eq!(lit, s, "{s:?}");
        }
    }

    // ---- TestLexerSequence -------------------------------------------------

    #[test]
    fn lexer_sequence() {
        use Token::*;
        let cases: Vec<(&str, Vec<Token>)> = vec![
            (
                "key in ( value )",
                vec![Identifier, In, OpenPar, Identifier, ClosedPar],
            ),
            (
                "key notin ( value )",
                vec![Identifier, NotIn, OpenPar, Identifier, ClosedPar],
            ),
            (
                "key in ( value1, value2 )",
                vec![
                    Identifier, In, OpenPar, Identifier, Comma, Identifier, ClosedPar,
                ],
            ),
            ("key", vec![Identifier]),
            ("!key", vec![DoesNotExist, Identifier]),
            ("()", vec![OpenPar, ClosedPar]),
            (
                "x in (),y",
                vec![Identifier, In, OpenPar, ClosedPar, Comma, Identifier],
            ),
            (
                "== != (), = notin",
                vec![
                    DoubleEquals,
                    NotEquals,
                    OpenPar,
                    ClosedPar,
                    Comma,
                    Equals,
                    NotIn,
                ],
            ),
            ("key>2", vec![Identifier, GreaterThan, Identifier]),
            ("key<1", vec![Identifier, LessThan, Identifier]),
        ];
        for (s, want) in cases {
            let mut l = Lexer::new(s);
            let mut got = Vec::new();
            loop {
                let (tok, _) = l.lex();
                if tok == EndOfString {
                    break;
                }
                got.push(tok);
            }
            assert_eq!(got, want, "{s:?}");
        }
    }

    // ---- TestParserLookahead -----------------------------------------------

    #[test]
    fn parser_lookahead() {
        use Token::*;
        let cases: Vec<(&str, Vec<Token>)> = vec![
            (
                "key in ( value )",
                vec![Identifier, In, OpenPar, Identifier, ClosedPar, EndOfString],
            ),
            (
                "key notin ( value )",
                vec![
                    Identifier,
                    NotIn,
                    OpenPar,
                    Identifier,
                    ClosedPar,
                    EndOfString,
                ],
            ),
            (
                "key in ( value1, value2 )",
                vec![
                    Identifier,
                    In,
                    OpenPar,
                    Identifier,
                    Comma,
                    Identifier,
                    ClosedPar,
                    EndOfString,
                ],
            ),
            ("key", vec![Identifier, EndOfString]),
            ("!key", vec![DoesNotExist, Identifier, EndOfString]),
            ("()", vec![OpenPar, ClosedPar, EndOfString]),
            ("", vec![EndOfString]),
            (
                "x in (),y",
                vec![
                    Identifier,
                    In,
                    OpenPar,
                    ClosedPar,
                    Comma,
                    Identifier,
                    EndOfString,
                ],
            ),
            (
                "== != (), = notin",
                vec![
                    DoubleEquals,
                    NotEquals,
                    OpenPar,
                    ClosedPar,
                    Comma,
                    Equals,
                    NotIn,
                    EndOfString,
                ],
            ),
            (
                "key>2",
                vec![Identifier, GreaterThan, Identifier, EndOfString],
            ),
            ("key<1", vec![Identifier, LessThan, Identifier, EndOfString]),
        ];
        for (s, want) in cases {
            let mut p = Parser::new(s);
            p.scan();
            let got: Vec<Token> = p.scanned.iter().map(|(t, _)| *t).collect();
            assert_eq!(got, want, "{s:?}");
            loop {
                let (tok, lit) = p.lookahead(ParserContext::KeyAndOperator);
                let (tok2, lit2) = p.consume(ParserContext::KeyAndOperator);
                if tok == EndOfString {
                    break;
                }
                assert_eq!((tok, lit), (tok2, lit2), "{s:?}");
            }
        }
    }

    // ---- TestRequirementConstructor ----------------------------------------

    #[test]
    fn requirement_constructor() {
        use Operator::*;
        let long_key = "a".repeat(254);
        let cases: Vec<(&str, Operator, Vec<&str>, bool)> = vec![
            ("x", In, vec![], false),
            ("x", NotIn, vec![], false),
            ("x", In, vec!["foo"], true),
            ("x", NotIn, vec!["foo"], true),
            ("x", Exists, vec![], true),
            ("x", DoesNotExist, vec![], true),
            ("1foo", In, vec!["bar"], true),
            ("1234", In, vec!["bar"], true),
            ("y", GreaterThan, vec!["1"], true),
            ("z", LessThan, vec!["6"], true),
            ("foo", GreaterThan, vec!["bar"], false),
            ("barz", LessThan, vec!["blah"], false),
            (&long_key, Exists, vec![], false),
        ];
        for (key, op, vals, ok) in cases {
            let r = Requirement::new(key, op, vals.iter().copied());
            assert_eq!(r.is_ok(), ok, "key {key:?} op {op:?} vals {vals:?}: {r:?}");
        }
    }

    #[test]
    fn requirement_constructor_messages() {
        let e = Requirement::new("x", Operator::In, Vec::<String>::new()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "key \"x\": invalid values [] for operator In: for 'in', 'notin' operators, values set can't be empty"
        );
        let e = Requirement::new("x", Operator::Equals, ["a", "b"]).unwrap_err();
        assert!(e
            .to_string()
            .contains("exact-match compatibility requires one single value"));
        assert!(e.to_string().contains("[\"a\", \"b\"]"));
        // Duplicates still count as given (upstream checks the slice).
        assert!(Requirement::new("x", Operator::Equals, ["a", "a"]).is_err());
        let e = Requirement::new("x", Operator::Exists, ["a"]).unwrap_err();
        assert!(e
            .to_string()
            .contains("values set must be empty for exists and does not exist"));
        // Several problems aggregate, in upstream order.
        let e = Requirement::new("-bad", Operator::GreaterThan, ["x y"]).unwrap_err();
        let SelectorError::Multiple(errs) = &e else {
            panic!("expected aggregate, got {e:?}");
        };
        assert_eq!(errs.len(), 3);
        assert!(matches!(errs[0], SelectorError::InvalidKey(_)));
        assert!(matches!(errs[1], SelectorError::NotAnInteger { .. }));
        assert!(matches!(errs[2], SelectorError::InvalidValue { .. }));
        let msg = e.to_string();
        assert!(msg.starts_with("[invalid label key \"-bad\": name part must consist of"));
        assert!(msg.contains(
            "key \"-bad\": invalid value \"x y\": for 'Gt', 'Lt' operators, the value must be an integer"
        ));
        assert!(msg.ends_with("')]"));
        // gt/lt accept what Go's strconv.ParseInt(v, 10, 64) accepts.
        assert!(Requirement::new("x", Operator::GreaterThan, ["007"]).is_ok());
        assert!(Requirement::new("x", Operator::GreaterThan, ["9223372036854775807"]).is_ok());
        assert!(Requirement::new("x", Operator::GreaterThan, ["9223372036854775808"]).is_err());
    }

    // ---- TestToString ------------------------------------------------------

    #[test]
    fn to_string() {
        use Operator::*;
        let cases = vec![
            (
                sel(vec![
                    req("x", In, &["abc", "def"]),
                    req("y", NotIn, &["jkl"]),
                    req("z", Exists, &[]),
                ]),
                "x in (abc,def),y notin (jkl),z",
            ),
            (
                sel(vec![
                    req("x", NotIn, &["abc", "def"]),
                    req("y", NotEquals, &["jkl"]),
                    req("z", DoesNotExist, &[]),
                ]),
                "x notin (abc,def),y!=jkl,!z",
            ),
            (
                sel(vec![
                    req("x", NotIn, &["abc"]),
                    req("y", In, &["jkl", "mno"]),
                    req("z", NotIn, &[""]),
                ]),
                "x notin (abc),y in (jkl,mno),z notin ()",
            ),
            (
                sel(vec![
                    req("x", Equals, &["abc"]),
                    req("y", DoubleEquals, &["jkl"]),
                    req("z", NotEquals, &["a"]),
                    req("z", Exists, &[]),
                ]),
                "x=abc,y==jkl,z!=a,z",
            ),
            (
                sel(vec![
                    req("x", GreaterThan, &["2"]),
                    req("y", LessThan, &["8"]),
                    req("z", Exists, &[]),
                ]),
                "x>2,y<8,z",
            ),
        ];
        for (s, want) in cases {
            assert_eq!(s.to_string(), want);
            assert_eq!(Selector::parse(want).unwrap(), s, "{want:?} re-parses");
        }
    }

    // ---- TestRequirementSelectorMatching -----------------------------------

    #[test]
    fn requirement_selector_matching() {
        use Operator::*;
        let cases = vec![
            (
                set(&[("x", "foo"), ("y", "baz")]),
                sel(vec![req("x", In, &["foo"]), req("y", NotIn, &["alpha"])]),
                true,
            ),
            (
                set(&[("x", "foo"), ("y", "baz")]),
                sel(vec![req("x", In, &["foo"]), req("y", In, &["alpha"])]),
                false,
            ),
            (
                set(&[("y", "")]),
                sel(vec![req("x", NotIn, &[""]), req("y", Exists, &[])]),
                true,
            ),
            (
                set(&[("y", "")]),
                sel(vec![req("x", DoesNotExist, &[]), req("y", Exists, &[])]),
                true,
            ),
            (
                set(&[("y", "")]),
                sel(vec![req("x", NotIn, &[""]), req("y", DoesNotExist, &[])]),
                false,
            ),
            (set(&[("y", "baz")]), sel(vec![req("x", In, &[""])]), false),
            (
                set(&[("z", "2")]),
                sel(vec![req("z", GreaterThan, &["1"])]),
                true,
            ),
            (
                set(&[("z", "v2")]),
                sel(vec![req("z", GreaterThan, &["1"])]),
                false,
            ),
        ];
        for (ls, s, want) in cases {
            assert_eq!(s.matches(&ls), want, "{s} on {ls:?}");
        }
    }

    // ---- TestSetSelectorParser ---------------------------------------------

    #[test]
    fn set_selector_parser() {
        use Operator::*;
        // (input, expected selector if comparison applies, valid)
        let cases: Vec<(&str, Option<Selector>, bool)> = vec![
            ("", Some(Selector::everything()), true),
            ("\rx", Some(sel(vec![req("x", Exists, &[])])), true),
            (
                "this-is-a-dns.domain.com/key-with-dash",
                Some(sel(vec![req(
                    "this-is-a-dns.domain.com/key-with-dash",
                    Exists,
                    &[],
                )])),
                true,
            ),
            (
                "this-is-another-dns.domain.com/key-with-dash in (so,what)",
                Some(sel(vec![req(
                    "this-is-another-dns.domain.com/key-with-dash",
                    In,
                    &["so", "what"],
                )])),
                true,
            ),
            (
                "0.1.2.domain/99 notin (10.10.100.1, tick.tack.clock)",
                Some(sel(vec![req(
                    "0.1.2.domain/99",
                    NotIn,
                    &["10.10.100.1", "tick.tack.clock"],
                )])),
                true,
            ),
            (
                "foo  in\t (abc)",
                Some(sel(vec![req("foo", In, &["abc"])])),
                true,
            ),
            (
                "x notin\n (abc)",
                Some(sel(vec![req("x", NotIn, &["abc"])])),
                true,
            ),
            (
                "x  notin\t\t\t(abc,def)",
                Some(sel(vec![req("x", NotIn, &["abc", "def"])])),
                true,
            ),
            (
                "x in (abc,def)",
                Some(sel(vec![req("x", In, &["abc", "def"])])),
                true,
            ),
            (
                "x in (abc,)",
                Some(sel(vec![req("x", In, &["abc", ""])])),
                true,
            ),
            ("x in ()", Some(sel(vec![req("x", In, &[""])])), true),
            (
                "x notin (abc,,def),bar,z in (),w",
                Some(sel(vec![
                    req("bar", Exists, &[]),
                    req("w", Exists, &[]),
                    req("x", NotIn, &["abc", "", "def"]),
                    req("z", In, &[""]),
                ])),
                true,
            ),
            // Upstream compares against an unsorted literal and so expects
            // no match; the parse itself is sorted by key.
            (
                "x,y in (a)",
                Some(sel(vec![req("y", In, &["a"]), req("x", Exists, &[])])),
                true,
            ),
            ("x=a", Some(sel(vec![req("x", Equals, &["a"])])), true),
            ("x>1", Some(sel(vec![req("x", GreaterThan, &["1"])])), true),
            ("x<7", Some(sel(vec![req("x", LessThan, &["7"])])), true),
            (
                "x=a,y!=b",
                Some(sel(vec![
                    req("x", Equals, &["a"]),
                    req("y", NotEquals, &["b"]),
                ])),
                true,
            ),
            (
                "x=a,y!=b,z in (h,i,j)",
                Some(sel(vec![
                    req("x", Equals, &["a"]),
                    req("y", NotEquals, &["b"]),
                    req("z", In, &["h", "i", "j"]),
                ])),
                true,
            ),
            ("x=a||y=b", None, false),
            ("x,,y", None, false),
            (",x,y", None, false),
            ("x nott in (y)", None, false),
            ("x notin ( )", Some(sel(vec![req("x", NotIn, &[""])])), true),
            (
                "x notin (, a)",
                Some(sel(vec![req("x", NotIn, &["", "a"])])),
                true,
            ),
            ("a in (xyz),", None, false),
            ("a in (xyz)b notin ()", None, false),
            ("a ", Some(sel(vec![req("a", Exists, &[])])), true),
            (
                "a in (x,y,notin, z,in)",
                Some(sel(vec![req("a", In, &["in", "notin", "x", "y", "z"])])),
                true,
            ),
            ("a in (xyz abc)", None, false),
            ("a notin(", None, false),
            ("a (", None, false),
            ("(", None, false),
        ];
        for (input, want, valid) in cases {
            let got = Selector::parse(input);
            assert_eq!(got.is_ok(), valid, "{input:?}: {got:?}");
            if let (Some(want), Ok(got)) = (want, got) {
                assert_eq!(got, want, "{input:?}");
            }
        }
    }

    #[test]
    fn bare_keys_are_exists() {
        assert_eq!(
            Selector::parse("x,y").unwrap(),
            sel(vec![
                req("x", Operator::Exists, &[]),
                req("y", Operator::Exists, &[])
            ])
        );
    }

    // ---- TestAdd -----------------------------------------------------------

    #[test]
    fn add() {
        let s = Selector::everything().add([req("key", Operator::In, &["value"])]);
        assert_eq!(s, sel(vec![req("key", Operator::In, &["value"])]));
        let s2 = s.add([req("key2", Operator::Equals, &["value2"])]);
        assert_eq!(
            s2.requirements(),
            &[
                req("key", Operator::In, &["value"]),
                req("key2", Operator::Equals, &["value2"])
            ]
        );
        // Sorted by key regardless of insertion order.
        let s3 = Selector::everything().add([
            req("b", Operator::Exists, &[]),
            req("a", Operator::Exists, &[]),
        ]);
        assert_eq!(s3.to_string(), "a,b");
        // Nothing stays nothing.
        assert!(Selector::nothing()
            .add([req("a", Operator::Exists, &[])])
            .is_nothing());
    }

    // ---- labels_test.go TestLabelSelectorParse (the rows that apply to Parse)

    #[test]
    fn label_selector_parse_rows_from_labels_test() {
        let cases: Vec<(&str, Labels)> = vec![
            ("", set(&[])),
            ("x=a", set(&[("x", "a")])),
            ("x=a,y=b,z=c", set(&[("x", "a"), ("y", "b"), ("z", "c")])),
            (
                " x = a , y = b , z = c ",
                set(&[("x", "a"), ("y", "b"), ("z", "c")]),
            ),
            (
                "color=green,env=test,service=front",
                set(&[("color", "green"), ("env", "test"), ("service", "front")]),
            ),
            (
                "color=green, env=test, service=front",
                set(&[("color", "green"), ("env", "test"), ("service", "front")]),
            ),
        ];
        for (s, labels) in cases {
            let parsed = Selector::parse(s).unwrap();
            assert_eq!(parsed, Selector::from_set(&labels), "{s:?}");
            assert!(parsed.matches(&labels));
        }
        for s in [",", "x=$y", "x=a||y=b", "x y"] {
            assert!(Selector::parse(s).is_err(), "{s:?}");
        }
    }

    // ---- Parser error messages and edge cases -------------------------------

    #[test]
    fn parse_error_messages_use_upstream_wording() {
        let cases = [
            ("x==a==b", "found '==', expected: ',' or 'end of string'"),
            ("!x=a", "found '=', expected: ',' or 'end of string'"),
            ("x,", "found '', expected: identifier after ','"),
            ("x,=", "found '=', expected: identifier after ','"),
            (
                "(",
                "found '(', expected: !, identifier, or 'end of string'",
            ),
            (
                "a (",
                "unable to parse requirement: found '(', expected: in, notin, =, ==, !=, gt, lt",
            ),
            (
                "a notin(",
                "unable to parse requirement: found '', expected: ',', ')' or identifier",
            ),
            (
                "a in x",
                "unable to parse requirement: found 'x' expected: '('",
            ),
            (
                "a in (xyz abc)",
                "unable to parse requirement: found 'abc', expected: ',' or ')'",
            ),
            (
                "a in (x,=)",
                "unable to parse requirement: found '=', expected: ',', or identifier",
            ),
            (
                "!",
                "unable to parse requirement: found '', expected: identifier",
            ),
            (
                "x=(",
                "unable to parse requirement: found '(', expected: identifier",
            ),
        ];
        for (input, want) in cases {
            let err = Selector::parse(input).unwrap_err();
            assert_eq!(err.to_string(), want, "{input:?}");
        }
        let err = Selector::parse("x=$y").unwrap_err();
        assert!(matches!(
            &err,
            SelectorError::Requirement(inner) if matches!(**inner, SelectorError::InvalidValue { ref key, .. } if key == "x")
        ));
        assert!(err
            .to_string()
            .starts_with("unable to parse requirement: key \"x\": invalid label value \"$y\": a valid label must be"));
        let err = Selector::parse("Bad_/x=1").unwrap_err();
        assert!(err.to_string().contains("invalid label key \"Bad_/x\""));
        let err = Selector::parse("x<a").unwrap_err();
        assert!(err
            .to_string()
            .contains("for 'Gt', 'Lt' operators, the value must be an integer"));
    }

    #[test]
    fn parse_keywords_and_quirks() {
        // Keywords are identifiers in key and value position.
        let s = Selector::parse("in in (in),notin notin (notin),in=notin").unwrap();
        assert_eq!(s.to_string(), "in in (in),in=notin,notin notin (notin)");
        // As in upstream's lexer, a NUL byte where a token starts reads as
        // end of input, and one inside a word ends the word.
        assert_eq!(
            Selector::parse("x=a \0junk, ((").unwrap().to_string(),
            "x=a"
        );
        assert_eq!(Selector::parse("x=a,y\0").unwrap().to_string(), "x=a,y");
        assert_eq!(
            Selector::parse("x\0junk").unwrap_err().to_string(),
            "unable to parse requirement: found 'junk', expected: in, notin, =, ==, !=, gt, lt"
        );
        // Non-ASCII text is lexed bytewise and rejected by validation.
        assert!(Selector::parse("é=ü").is_err());
        assert!(Selector::parse("x in (é,)").is_err());
        // Duplicated requirements are kept (a conjunction).
        let s = Selector::parse("a=1,a!=2").unwrap();
        assert_eq!(s.requirements().len(), 2);
        assert_eq!(s.to_string(), "a=1,a!=2");
    }

    #[test]
    fn nothing_selector() {
        let n = Selector::nothing();
        assert!(!n.matches(&set(&[])));
        assert!(!n.matches(&set(&[("a", "b")])));
        assert!(!n.is_empty());
        assert!(n.is_nothing());
        assert!(n.requirements().is_empty());
        assert_eq!(n.to_string(), "");
        assert_ne!(n, Selector::everything());
        assert!(!Selector::everything().is_nothing());
    }

    // ---- TestRequiresExactMatch --------------------------------------------

    #[test]
    fn requires_exact_match_rows() {
        use Operator::*;
        let cases: Vec<(Selector, &str, Option<&str>)> = vec![
            (sel(vec![req("key", In, &["value"])]), "key", Some("value")),
            (sel(vec![req("key", In, &["value", "value2"])]), "key", None),
            (
                sel(vec![
                    req("key", In, &["value", "value1"]),
                    req("key2", In, &["value2"]),
                ]),
                "key2",
                Some("value2"),
            ),
            (
                sel(vec![req("key", Equals, &["value"])]),
                "key",
                Some("value"),
            ),
            (
                sel(vec![req("key", DoubleEquals, &["value"])]),
                "key",
                Some("value"),
            ),
            (sel(vec![req("key", NotEquals, &["value"])]), "key", None),
            (
                sel(vec![
                    req("key", In, &["value"]),
                    req("key2", In, &["value2"]),
                ]),
                "key",
                Some("value"),
            ),
        ];
        for (s, label, want) in cases {
            assert_eq!(s.requires_exact_match(label), want, "{s} / {label}");
        }
    }

    #[test]
    fn requires_exact_match() {
        let s = Selector::parse("a=1,b in (2),c in (3,4),d!=5,e==6").unwrap();
        assert_eq!(s.requires_exact_match("a"), Some("1"));
        assert_eq!(s.requires_exact_match("b"), Some("2"));
        assert_eq!(s.requires_exact_match("c"), None);
        assert_eq!(s.requires_exact_match("d"), None);
        assert_eq!(s.requires_exact_match("e"), Some("6"));
        assert_eq!(s.requires_exact_match("z"), None);
    }

    // ---- TestValidatedSelectorFromSet ---------------------------------------

    #[test]
    fn validated_from_set() {
        assert_eq!(
            Selector::validated_from_set(&set(&[("key", "val")])).unwrap(),
            sel(vec![req("key", Operator::Equals, &["val"])])
        );
        let long = "axahm2EJ8Phiephe2eixohbee9eGeiyees1thuozi1xoh0GiuH3diewi8iem7Nui";
        let err = Selector::validated_from_set(&set(&[("Key", long)])).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "key \"Key\": invalid label value \"{long}\": must be no more than 63 characters"
            )
        );
        assert_eq!(
            Selector::validated_from_set(&set(&[("a", "b")])).unwrap(),
            Selector::parse("a=b").unwrap()
        );
        assert!(Selector::validated_from_set(&set(&[("a", "b c")])).is_err());
        assert!(Selector::validated_from_set(&set(&[])).unwrap().is_empty());
    }

    // ---- TestLabelSelectorAsSelector (helpers_test.go) ----------------------

    #[test]
    fn label_selector_as_selector_rows() {
        let match_labels = BTreeMap::from([("foo".to_string(), "bar".to_string())]);
        let match_expressions = vec![LabelSelectorRequirement {
            key: "baz".into(),
            operator: "In".into(),
            values: vec!["qux".into(), "norf".into()],
        }];
        let must_parse = |s: &str| Selector::parse(s).unwrap();

        assert_eq!(
            label_selector_as_selector(None).unwrap(),
            Selector::nothing()
        );
        let cases: Vec<(LabelSelector, Option<Selector>)> = vec![
            (LabelSelector::default(), Some(Selector::everything())),
            (
                LabelSelector {
                    match_labels: match_labels.clone(),
                    match_expressions: vec![],
                },
                Some(must_parse("foo=bar")),
            ),
            (
                LabelSelector {
                    match_labels: BTreeMap::new(),
                    match_expressions: match_expressions.clone(),
                },
                Some(must_parse("baz in (norf,qux)")),
            ),
            (
                LabelSelector {
                    match_labels: match_labels.clone(),
                    match_expressions: match_expressions.clone(),
                },
                Some(must_parse("baz in (norf,qux),foo=bar")),
            ),
            (
                LabelSelector {
                    match_labels: BTreeMap::new(),
                    match_expressions: vec![LabelSelectorRequirement {
                        key: "baz".into(),
                        operator: "Exists".into(),
                        values: vec!["qux".into(), "norf".into()],
                    }],
                },
                None,
            ),
        ];
        for (input, want) in cases {
            let before = input.clone();
            let got = input.to_selector();
            assert_eq!(input, before, "input must not be modified");
            match want {
                Some(w) => {
                    let got = got.unwrap();
                    assert_eq!(got.to_string(), w.to_string());
                    assert_eq!(got, w);
                }
                None => assert!(got.is_err(), "{input:?}"),
            }
        }
    }

    #[test]
    fn label_selector_unknown_operator_and_bad_values() {
        let ls = LabelSelector {
            match_labels: BTreeMap::new(),
            match_expressions: vec![LabelSelectorRequirement {
                key: "a".into(),
                operator: "Gt".into(),
                values: vec!["1".into()],
            }],
        };
        assert_eq!(
            ls.to_selector().unwrap_err().to_string(),
            "\"Gt\" is not a valid selector operator"
        );
        let ls = LabelSelector {
            match_labels: BTreeMap::from([("a".to_string(), "b c".to_string())]),
            match_expressions: vec![],
        };
        assert!(matches!(
            ls.to_selector(),
            Err(SelectorError::InvalidValue { .. })
        ));
        let ls = LabelSelector {
            match_labels: BTreeMap::new(),
            match_expressions: vec![LabelSelectorRequirement {
                key: "a".into(),
                operator: "NotIn".into(),
                values: vec![],
            }],
        };
        assert!(ls.to_selector().is_err());
    }

    #[test]
    fn label_selector_serde() {
        let json = r#"{"matchLabels":{"app":"web"},"matchExpressions":[{"key":"tier","operator":"In","values":["a","b"]},{"key":"x","operator":"Exists"}]}"#;
        let ls: LabelSelector = serde_json::from_str(json).unwrap();
        assert_eq!(ls.match_labels.get("app").map(String::as_str), Some("web"));
        assert_eq!(ls.match_expressions.len(), 2);
        assert!(ls.match_expressions[1].values.is_empty());
        assert_eq!(
            ls.to_selector().unwrap().to_string(),
            "app=web,tier in (a,b),x"
        );
        assert_eq!(serde_json::to_string(&ls).unwrap(), json);

        let empty: LabelSelector = serde_json::from_str("{}").unwrap();
        assert_eq!(empty, LabelSelector::default());
        assert!(empty.to_selector().unwrap().is_empty());
        assert_eq!(serde_json::to_string(&empty).unwrap(), "{}");

        let nulls: LabelSelector = serde_json::from_str(
            r#"{"matchLabels":null,"matchExpressions":[{"key":"k","operator":"DoesNotExist","values":null}]}"#,
        )
        .unwrap();
        assert_eq!(nulls.to_selector().unwrap().to_string(), "!k");
    }

    // ---- ValidateLabelSelector ---------------------------------------------

    #[test]
    fn validate_label_selector_paths() {
        let ls = LabelSelector {
            match_labels: BTreeMap::from([
                ("ok".to_string(), "fine".to_string()),
                ("bad key".to_string(), "bad value".to_string()),
            ]),
            match_expressions: vec![
                LabelSelectorRequirement {
                    key: "a".into(),
                    operator: "In".into(),
                    values: vec![],
                },
                LabelSelectorRequirement {
                    key: "b".into(),
                    operator: "Exists".into(),
                    values: vec!["x".into()],
                },
                LabelSelectorRequirement {
                    key: "-c".into(),
                    operator: "Foo".into(),
                    values: vec!["ok".into(), "not ok".into()],
                },
                LabelSelectorRequirement {
                    key: "d".into(),
                    operator: "NotIn".into(),
                    values: vec!["v".into()],
                },
            ],
        };
        let errs = validate_label_selector(&ls);
        let paths: Vec<&str> = errs.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            paths,
            [
                "matchLabels",
                "matchLabels",
                "matchExpressions[0].values",
                "matchExpressions[1].values",
                "matchExpressions[2].operator",
                "matchExpressions[2].key",
                "matchExpressions[2].values[1]",
            ]
        );
        assert_eq!(
            errs[2].1.to_string(),
            "key \"a\": Required value: must be specified when `operator` is 'In' or 'NotIn'"
        );
        assert_eq!(
            errs[3].1.to_string(),
            "key \"b\": Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'"
        );
        assert!(errs[6].1.to_string().contains("\"not ok\""));
        assert!(validate_label_selector(&LabelSelector::default()).is_empty());
    }

    // ---- Property tests ----------------------------------------------------

    const OPS: [Operator; 9] = [
        Operator::Equals,
        Operator::DoubleEquals,
        Operator::NotEquals,
        Operator::In,
        Operator::NotIn,
        Operator::Exists,
        Operator::DoesNotExist,
        Operator::GreaterThan,
        Operator::LessThan,
    ];

    fn key_strategy() -> impl Strategy<Value = String> {
        let name = "[A-Za-z0-9]([-A-Za-z0-9_.]{0,8}[A-Za-z0-9])?";
        let prefix = "[a-z0-9]([-a-z0-9]{0,4}[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]{0,4}[a-z0-9])?){0,2}";
        prop_oneof![
            4 => name.prop_map(|s| s),
            2 => (prefix, name).prop_map(|(p, n)| format!("{p}/{n}")),
            1 => prop::sample::select(vec!["in".to_string(), "notin".to_string()]),
        ]
    }

    fn value_strategy() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => "([A-Za-z0-9]([-A-Za-z0-9_.]{0,6}[A-Za-z0-9])?)?",
            1 => prop::sample::select(vec!["in".to_string(), "notin".to_string(), String::new()]),
        ]
    }

    /// (key, operator, values) triples that `Requirement::new` accepts.
    fn raw_requirement(
        key: impl Strategy<Value = String>,
        value: impl Strategy<Value = String>,
    ) -> impl Strategy<Value = (String, Operator, Vec<String>)> {
        let int = prop_oneof!["[0-9]{1,4}", Just("0".to_string())];
        (
            key,
            prop::sample::select(OPS.to_vec()),
            prop::collection::vec(value, 1..4),
            int,
        )
            .prop_map(|(k, op, vals, int)| {
                let vals = match op {
                    Operator::Exists | Operator::DoesNotExist => vec![],
                    Operator::GreaterThan | Operator::LessThan => vec![int],
                    Operator::In | Operator::NotIn => vals,
                    _ => vals.into_iter().take(1).collect(),
                };
                (k, op, vals)
            })
    }

    fn build(raw: &[(String, Operator, Vec<String>)]) -> Selector {
        Selector::from_requirements(raw.iter().map(|(k, op, vals)| {
            Requirement::new(k.as_str(), *op, vals.iter().map(String::as_str))
                .expect("strategy yields valid requirements")
        }))
    }

    /// A plain restatement of upstream's matching rules, written without
    /// reference to the implementation above.
    fn reference_matches(raw: &[(String, Operator, Vec<String>)], labels: &Labels) -> bool {
        for (key, op, vals) in raw {
            let have = labels.get(key);
            let ok = match op {
                Operator::Exists => have.is_some(),
                Operator::DoesNotExist => have.is_none(),
                Operator::Equals | Operator::DoubleEquals | Operator::In => match have {
                    Some(v) => vals.contains(v),
                    None => false,
                },
                Operator::NotEquals | Operator::NotIn => match have {
                    Some(v) => !vals.contains(v),
                    None => true,
                },
                Operator::GreaterThan | Operator::LessThan => {
                    let bound: i64 = vals[0].parse().unwrap();
                    match have.map(|v| v.parse::<i64>()) {
                        Some(Ok(n)) => {
                            if *op == Operator::GreaterThan {
                                n > bound
                            } else {
                                n < bound
                            }
                        }
                        _ => false,
                    }
                }
            };
            if !ok {
                return false;
            }
        }
        true
    }

    fn token_soup() -> impl Strategy<Value = String> {
        let piece = prop::sample::select(vec![
            "a",
            "b",
            "x",
            "in",
            "notin",
            "=",
            "==",
            "!=",
            "!",
            "(",
            ")",
            ",",
            ">",
            "<",
            " ",
            "\t",
            "\n",
            "\r",
            "",
            "1",
            "-1",
            "a.b/c",
            "/",
            "é",
            "\0",
            "9223372036854775808",
            "_",
            ".",
            "((",
            "))",
            ",,",
            "!!",
            "=!",
            "<=",
            ">=",
        ]);
        prop::collection::vec(piece, 0..24).prop_map(|v| v.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        // (1) Display → parse round-trips.
        #[test]
        fn prop_display_parse_roundtrip(
            raw in prop::collection::vec(raw_requirement(key_strategy(), value_strategy()), 0..6)
        ) {
            let s = build(&raw);
            let text = s.to_string();
            let back = Selector::parse(&text);
            prop_assert_eq!(back, Ok(s.clone()), "text {:?}", text);
            prop_assert_eq!(text.is_empty(), s.is_empty());
        }

        // (2) matches() agrees with the reference matcher, for the built
        // selector and for its parsed string form.
        #[test]
        fn prop_matches_agrees_with_reference(
            raw in prop::collection::vec(
                raw_requirement(
                    prop::sample::select(vec!["a".to_string(), "b".to_string(), "c".to_string(), "ex.io/d".to_string(), "in".to_string()]),
                    prop::sample::select(vec![String::new(), "x".to_string(), "y".to_string(), "1".to_string(), "2".to_string(), "10".to_string()]),
                ),
                0..5,
            ),
            labels in prop::collection::btree_map(
                prop::sample::select(vec!["a".to_string(), "b".to_string(), "c".to_string(), "ex.io/d".to_string(), "in".to_string(), "z".to_string()]),
                prop::sample::select(vec![String::new(), "x".to_string(), "y".to_string(), "1".to_string(), "2".to_string(), "10".to_string(), "-3".to_string(), "007".to_string(), "v2".to_string()]),
                0..6,
            ),
        ) {
            let s = build(&raw);
            let want = reference_matches(&raw, &labels);
            prop_assert_eq!(s.matches(&labels), want);
            let parsed = Selector::parse(&s.to_string()).unwrap();
            prop_assert_eq!(parsed.matches(&labels), want);
            prop_assert!(!Selector::nothing().matches(&labels));
        }

        // (3) parse never panics; whatever parses re-prints to a fixed point.
        #[test]
        fn prop_parse_never_panics(s in any::<String>()) {
            if let Ok(sel) = Selector::parse(&s) {
                prop_assert_eq!(Selector::parse(&sel.to_string()), Ok(sel));
            }
        }

        #[test]
        fn prop_parse_never_panics_on_token_soup(s in token_soup()) {
            if let Ok(sel) = Selector::parse(&s) {
                prop_assert_eq!(Selector::parse(&sel.to_string()), Ok(sel));
            }
        }

        // Validation and conversion agree on the API form.
        #[test]
        fn prop_validate_agrees_with_to_selector(
            labels in prop::collection::btree_map("[a-c ]{0,2}", "[x-z-]{0,2}", 0..3),
            exprs in prop::collection::vec(
                (
                    "[a-c/]{0,2}",
                    prop::sample::select(vec!["In", "NotIn", "Exists", "DoesNotExist", "Gt", ""]),
                    prop::collection::vec("[x-z ]{0,2}", 0..3),
                ),
                0..3,
            ),
        ) {
            let ls = LabelSelector {
                match_labels: labels,
                match_expressions: exprs
                    .into_iter()
                    .map(|(key, op, values)| LabelSelectorRequirement { key, operator: op.to_string(), values })
                    .collect(),
            };
            let errs = validate_label_selector(&ls);
            prop_assert_eq!(errs.is_empty(), ls.to_selector().is_ok(), "{:?}", errs);
        }
    }
}
