//! Label keys and values, validated as upstream Kubernetes does.
//!
//! A label set is a [`Labels`] map (a `BTreeMap`, so iteration order is
//! deterministic). Keys are "qualified names": an optional DNS-1123
//! subdomain prefix (at most 253 characters) and `/`, followed by a name of
//! at most 63 characters matching `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`.
//! Values are at most 63 characters, may be empty, and otherwise follow the
//! same character rule as names.
//!
//! Follows Kubernetes v1.35,
//! `staging/src/k8s.io/apimachinery/pkg/util/validation/validation.go`
//! (`IsQualifiedName`, `IsValidLabelValue`, `IsDNS1123Subdomain`,
//! `MaxLenError`, `RegexError`, `EmptyError`). Every check is
//! byte-based, as upstream's `len()` and regexps are: non-ASCII text never
//! matches the character classes. The regexps are hand-written matchers
//! rather than a regex engine, with the same language (anchored `^…$`, so
//! a trailing newline is rejected).
//!
//! Deviations:
//! - Upstream returns a list of message strings; here the list is kept
//!   (in upstream order) inside a single [`LabelError`] that also carries
//!   the offending text. [`is_qualified_name`] and [`is_valid_label_value`]
//!   expose the raw lists.
//! - Message wording is util/validation's (`"a qualified name …"`,
//!   `"must be no more than 63 characters"`). Upstream's newer
//!   `api/validate/content.IsLabelKey` rewords these (`"a valid label key
//!   …"`, `"… bytes"`) without changing what is accepted.
//! - Quoting of the offending text approximates Go's `%q` (see
//!   [`go_quote`]).

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// A set of labels. Ordered: determinism matters, never a `HashMap`.
pub type Labels = BTreeMap<String, String>;

/// Maximum length of the name part of a label key (`qualifiedNameMaxLength`).
pub const LABEL_KEY_NAME_MAX_LENGTH: usize = 63;
/// Maximum length of a label value (`LabelValueMaxLength`).
pub const LABEL_VALUE_MAX_LENGTH: usize = 63;
/// Maximum length of a DNS-1123 subdomain, e.g. a label key prefix
/// (`DNS1123SubdomainMaxLength`).
pub const DNS1123_SUBDOMAIN_MAX_LENGTH: usize = 253;

const QUALIFIED_NAME_FMT: &str = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const QUALIFIED_NAME_ERR_MSG: &str = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const LABEL_VALUE_FMT: &str = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";
const LABEL_VALUE_ERR_MSG: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const DNS1123_SUBDOMAIN_FMT: &str =
    "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
const DNS1123_SUBDOMAIN_ERR_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";

/// A label key or value that failed validation. `details` are upstream's
/// messages, in upstream's order (never empty); `Display` joins them with
/// `"; "` as upstream's selector code does.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LabelError {
    /// The key is not a qualified name (`IsQualifiedName`).
    #[error("invalid label key {}: {}", go_quote(.key), .details.join("; "))]
    InvalidKey { key: String, details: Vec<String> },
    /// The value is not a valid label value (`IsValidLabelValue`).
    #[error("invalid label value {}: {}", go_quote(.value), .details.join("; "))]
    InvalidValue { value: String, details: Vec<String> },
}

impl LabelError {
    /// The offending key or value.
    pub fn text(&self) -> &str {
        match self {
            LabelError::InvalidKey { key, .. } => key,
            LabelError::InvalidValue { value, .. } => value,
        }
    }

    /// Upstream's individual messages.
    pub fn details(&self) -> &[String] {
        match self {
            LabelError::InvalidKey { details, .. } | LabelError::InvalidValue { details, .. } => {
                details
            }
        }
    }
}

/// Validates a label key (`IsQualifiedName`).
pub fn validate_label_key(k: &str) -> Result<(), LabelError> {
    let details = is_qualified_name(k);
    if details.is_empty() {
        Ok(())
    } else {
        Err(LabelError::InvalidKey {
            key: k.to_string(),
            details,
        })
    }
}

/// Validates a label value (`IsValidLabelValue`). The empty string is valid.
pub fn validate_label_value(v: &str) -> Result<(), LabelError> {
    let details = is_valid_label_value(v);
    if details.is_empty() {
        Ok(())
    } else {
        Err(LabelError::InvalidValue {
            value: v.to_string(),
            details,
        })
    }
}

/// Validates every key and value of a label set, in key order. Each error is
/// paired with the key it was found under (for a bad key, the key itself).
pub fn validate_labels(l: &Labels) -> Vec<(String, LabelError)> {
    let mut errs = Vec::new();
    for (k, v) in l {
        if let Err(e) = validate_label_key(k) {
            errs.push((k.clone(), e));
        }
        if let Err(e) = validate_label_value(v) {
            errs.push((k.clone(), e));
        }
    }
    errs
}

/// Upstream's `IsQualifiedName`: the list of problems with `value` as a
/// label key; empty when valid.
pub fn is_qualified_name(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    let parts: Vec<&str> = value.split('/').collect();
    let name = match parts.as_slice() {
        [name] => *name,
        [prefix, name] => {
            if prefix.is_empty() {
                errs.push(format!("prefix part {}", empty_error()));
            } else {
                errs.extend(
                    is_dns1123_subdomain(prefix)
                        .into_iter()
                        .map(|m| format!("prefix part {m}")),
                );
            }
            *name
        }
        _ => {
            errs.push(format!(
                "a qualified name {} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
                regex_error(
                    QUALIFIED_NAME_ERR_MSG,
                    QUALIFIED_NAME_FMT,
                    &["MyName", "my.name", "123-abc"]
                )
            ));
            return errs;
        }
    };
    if name.is_empty() {
        errs.push(format!("name part {}", empty_error()));
    } else if name.len() > LABEL_KEY_NAME_MAX_LENGTH {
        errs.push(format!(
            "name part {}",
            max_len_error(LABEL_KEY_NAME_MAX_LENGTH)
        ));
    }
    if !matches_qualified_name(name) {
        errs.push(format!(
            "name part {}",
            regex_error(
                QUALIFIED_NAME_ERR_MSG,
                QUALIFIED_NAME_FMT,
                &["MyName", "my.name", "123-abc"]
            )
        ));
    }
    errs
}

/// Upstream's `IsValidLabelValue`: the list of problems with `value` as a
/// label value; empty when valid.
pub fn is_valid_label_value(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > LABEL_VALUE_MAX_LENGTH {
        errs.push(max_len_error(LABEL_VALUE_MAX_LENGTH));
    }
    if !(value.is_empty() || matches_qualified_name(value)) {
        errs.push(regex_error(
            LABEL_VALUE_ERR_MSG,
            LABEL_VALUE_FMT,
            &["MyValue", "my_value", "12345"],
        ));
    }
    errs
}

/// Upstream's `IsDNS1123Subdomain`: the list of problems with `value` as a
/// lowercase RFC 1123 subdomain; empty when valid.
pub fn is_dns1123_subdomain(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > DNS1123_SUBDOMAIN_MAX_LENGTH {
        errs.push(max_len_error(DNS1123_SUBDOMAIN_MAX_LENGTH));
    }
    if !matches_dns1123_subdomain(value) {
        errs.push(regex_error(
            DNS1123_SUBDOMAIN_ERR_MSG,
            DNS1123_SUBDOMAIN_FMT,
            &["example.com"],
        ));
    }
    errs
}

/// `^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$`
fn matches_qualified_name(s: &str) -> bool {
    let b = s.as_bytes();
    match (b.first(), b.last()) {
        (Some(first), Some(last)) => {
            first.is_ascii_alphanumeric()
                && last.is_ascii_alphanumeric()
                && b.iter()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
        }
        _ => false,
    }
}

/// `^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
fn matches_dns1123_label(s: &str) -> bool {
    let b = s.as_bytes();
    let lower_alnum = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    match (b.first(), b.last()) {
        (Some(first), Some(last)) => {
            lower_alnum(first)
                && lower_alnum(last)
                && b.iter().all(|c| lower_alnum(c) || *c == b'-')
        }
        _ => false,
    }
}

/// `^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
fn matches_dns1123_subdomain(s: &str) -> bool {
    s.split('.').all(matches_dns1123_label)
}

/// Upstream's `MaxLenError`.
fn max_len_error(length: usize) -> String {
    format!("must be no more than {length} characters")
}

/// Upstream's `EmptyError`.
fn empty_error() -> &'static str {
    "must be non-empty"
}

/// Upstream's `RegexError`, including its `"', "` + `" or "` double space.
fn regex_error(msg: &str, fmt: &str, examples: &[&str]) -> String {
    if examples.is_empty() {
        return format!("{msg} (regex used for validation is '{fmt}')");
    }
    let mut out = format!("{msg} (e.g. ");
    for (i, ex) in examples.iter().enumerate() {
        if i > 0 {
            out.push_str(" or ");
        }
        out.push('\'');
        out.push_str(ex);
        out.push_str("', ");
    }
    out.push_str("regex used for validation is '");
    out.push_str(fmt);
    out.push_str("')");
    out
}

/// Quotes `s` approximately as Go's `%q` / `strconv.Quote` does: double
/// quotes, `\"` and `\\`, the C escapes `\a \b \f \n \r \t \v`, `\xHH` for
/// other ASCII control bytes, `\uHHHH` / `\UHHHHHHHH` for other control and
/// non-space whitespace characters; everything else verbatim. (Go also
/// escapes a few more non-printable code points, e.g. format characters.)
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{07}' => out.push_str("\\a"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0C}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{0B}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\u{7F}' => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if c.is_control() || (c.is_whitespace() && c != ' ') => {
                if (c as u32) < 0x10000 {
                    let _ = write!(out, "\\u{:04x}", c as u32);
                } else {
                    let _ = write!(out, "\\U{:08x}", c as u32);
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    // Port of TestIsQualifiedName (util/validation/validation_test.go).
    #[test]
    fn is_qualified_name_success_cases() {
        let long_prefixed = format!("{}/{}", "a".repeat(253), "b".repeat(63));
        let cases: Vec<String> = vec![
            "simple".into(),
            "now-with-dashes".into(),
            "1-starts-with-num".into(),
            "1234".into(),
            "simple/simple".into(),
            "now-with-dashes/simple".into(),
            "now-with-dashes/now-with-dashes".into(),
            "now.with.dots/simple".into(),
            "now-with.dashes-and.dots/simple".into(),
            "1-num.2-num/3-num".into(),
            "1234/5678".into(),
            "1.2.3.4/5678".into(),
            "Uppercase_Is_OK_123".into(),
            "example.com/Uppercase_Is_OK_123".into(),
            "requests.storage-foo".into(),
            "a".repeat(63),
            long_prefixed,
        ];
        for (i, c) in cases.iter().enumerate() {
            assert_eq!(validate_label_key(c), Ok(()), "case[{i}]: {c:?}");
            assert!(is_qualified_name(c).is_empty());
        }
    }

    #[test]
    fn is_qualified_name_error_cases() {
        let cases: Vec<String> = vec![
            "nospecialchars%^=@".into(),
            "cantendwithadash-".into(),
            "-cantstartwithadash-".into(),
            "only/one/slash".into(),
            "Example.com/abc".into(),
            "example_com/abc".into(),
            "example.com/".into(),
            "/simple".into(),
            "a".repeat(64),
            format!("{}/abc", "a".repeat(254)),
        ];
        for (i, c) in cases.iter().enumerate() {
            let err = validate_label_key(c).expect_err(&format!("case[{i}]: {c:?}"));
            assert_eq!(err.text(), c.as_str());
            assert!(!err.details().is_empty());
        }
    }

    // Port of TestIsValidLabelValue.
    #[test]
    fn is_valid_label_value_success_cases() {
        let cases: Vec<String> = vec![
            "simple".into(),
            "now-with-dashes".into(),
            "1-starts-with-num".into(),
            "end-with-num-1".into(),
            "1234".into(),
            "a".repeat(63),
            "".into(),
        ];
        for c in &cases {
            assert_eq!(validate_label_value(c), Ok(()), "{c:?}");
        }
    }

    #[test]
    fn is_valid_label_value_error_cases() {
        let cases: Vec<String> = vec![
            "nospecialchars%^=@".into(),
            "Tama-nui-te-rā.is.Māori.sun".into(),
            "\\backslashes\\are\\bad".into(),
            "-starts-with-dash".into(),
            "ends-with-dash-".into(),
            ".starts.with.dot".into(),
            "ends.with.dot.".into(),
            "a".repeat(64),
        ];
        for c in &cases {
            let err = validate_label_value(c).expect_err(c);
            assert_eq!(err.text(), c.as_str());
        }
    }

    // Rows of TestIsDNS1123Subdomain (the key-prefix rule).
    #[test]
    fn dns1123_subdomain_cases() {
        let good = [
            "a",
            "ab",
            "abc",
            "a1",
            "a-1",
            "a--1--2--b",
            "0",
            "01",
            "012",
            "1a",
            "1-a",
            "1--a--b--2",
            "a.a",
            "ab.a",
            "abc.a",
            "a1.a",
            "a-1.a",
            "a--1--2--b.a",
            "a.1",
            "ab.1",
            "abc.1",
            "a1.1",
            "a-1.1",
            "a--1--2--b.1",
            "0.a",
            "01.a",
            "012.a",
            "1a.a",
            "1-a.a",
            "0.1",
            "01.1",
            "012.1",
            "1a.1",
            "1-a.1",
            "1--a--b--2.1",
            "a.b.c.d.e",
            "aa.bb.cc.dd.ee",
            "1.2.3.4.5",
            "11.22.33.44.55",
        ];
        for v in good {
            assert!(is_dns1123_subdomain(v).is_empty(), "{v:?}");
        }
        assert!(is_dns1123_subdomain(&"a".repeat(253)).is_empty());
        let bad = [
            "",
            "A",
            "ABC",
            "aBc",
            "A1",
            "A-1",
            "1-A",
            "-",
            "a-",
            "-a",
            "1-",
            "-1",
            "_",
            "a_",
            "_a",
            "a_b",
            "1_",
            "_1",
            "1_2",
            ".",
            "a.",
            ".a",
            "a..b",
            "1.",
            ".1",
            "1..2",
            " ",
            "a ",
            " a",
            "a b",
            "1 ",
            " 1",
            "1 2",
            "A.a",
            "aB.a",
            "ab.A",
            "A1.a",
            "a1.A",
            "A.1",
            "aB.1",
            "A1.1",
            "1A.1",
            "0.A",
            "01.A",
            "012.A",
            "1A.a",
            "1a.A",
            "A.B.C.D.E",
            "AA.BB.CC.DD.EE",
            "a.B.c.d.e",
            "aa.bB.cc.dd.ee",
            "a@b",
            "a,b",
            "a;b",
            "a:b",
            "a%b",
            "a?b",
            "a$b",
        ];
        for v in bad {
            assert!(!is_dns1123_subdomain(v).is_empty(), "{v:?}");
        }
        assert!(!is_dns1123_subdomain(&"a".repeat(254)).is_empty());
    }

    #[test]
    fn messages_match_upstream_wording() {
        let err = validate_label_key("only/one/slash").unwrap_err();
        assert_eq!(
            err.details(),
            ["a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"]
        );

        let err = validate_label_key("/simple").unwrap_err();
        assert_eq!(err.details(), ["prefix part must be non-empty"]);

        let err = validate_label_key("example.com/").unwrap_err();
        assert_eq!(err.details().len(), 2);
        assert_eq!(err.details()[0], "name part must be non-empty");
        assert!(err.details()[1].starts_with("name part must consist of"));

        let err = validate_label_key(&"a".repeat(64)).unwrap_err();
        assert_eq!(
            err.details(),
            ["name part must be no more than 63 characters"]
        );

        let err = validate_label_key("Example.com/abc").unwrap_err();
        assert_eq!(
            err.details(),
            ["prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"]
        );
        assert!(err.to_string().starts_with(
            "invalid label key \"Example.com/abc\": prefix part a lowercase RFC 1123 subdomain"
        ));

        // Too long *and* wrong characters: both messages, upstream order.
        let long_bad = format!("-{}", "a".repeat(63));
        let err = validate_label_value(&long_bad).unwrap_err();
        assert_eq!(err.details().len(), 2);
        assert_eq!(err.details()[0], "must be no more than 63 characters");
        assert_eq!(
            err.details()[1],
            "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
        );
        assert!(err.to_string().contains(&long_bad));
    }

    #[test]
    fn anchors_reject_trailing_newline_and_non_ascii() {
        assert!(validate_label_key("abc\n").is_err());
        assert!(validate_label_value("abc\n").is_err());
        assert!(validate_label_value("é").is_err());
        // 63 bytes but fewer characters still counts bytes: 32 × "é" = 64 bytes.
        assert!(validate_label_value(&"é".repeat(32)).is_err());
    }

    #[test]
    fn validate_labels_reports_key_and_value_errors_in_key_order() {
        let mut l = Labels::new();
        l.insert("good".into(), "ok".into());
        l.insert("z-bad-".into(), "fine".into());
        l.insert("a".into(), "bad value".into());
        l.insert("b/c/d".into(), "-x".into());
        let errs = validate_labels(&l);
        let keys: Vec<&str> = errs.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["a", "b/c/d", "b/c/d", "z-bad-"]);
        assert!(matches!(errs[0].1, LabelError::InvalidValue { .. }));
        assert!(matches!(errs[1].1, LabelError::InvalidKey { .. }));
        assert!(matches!(errs[2].1, LabelError::InvalidValue { .. }));
        assert!(matches!(errs[3].1, LabelError::InvalidKey { .. }));
        assert!(validate_labels(&Labels::new()).is_empty());
    }

    #[test]
    fn go_quote_escapes_like_go() {
        assert_eq!(go_quote("abc"), "\"abc\"");
        assert_eq!(go_quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(go_quote("\n\t\u{0}\u{7f}"), "\"\\n\\t\\x00\\x7f\"");
        assert_eq!(go_quote("rā"), "\"rā\"");
        assert_eq!(go_quote("\u{a0}"), "\"\\u00a0\"");
    }
}
