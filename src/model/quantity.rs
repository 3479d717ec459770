//! Kubernetes resource quantities (`resource.Quantity`), parsed and held
//! exactly, with no floating point anywhere.
//!
//! This is a port of `k8s.io/apimachinery/pkg/api/resource` as shipped in
//! Kubernetes v1.35: `ParseQuantity`/`parseQuantityString` and
//! `CanonicalizeBytes` from `quantity.go`, the suffix table of `suffix.go`, the
//! canonical-form helpers of `amount.go`/`math.go` and the rounding of
//! `scale_int.go`. Grammar: `<signedNumber><suffix>` where the number is `1`,
//! `1.5`, `5.` or `.5` and the suffix is binary SI (`Ki`..`Ei`), decimal SI
//! (`n u m "" k M G T P E`) or a decimal exponent (`e3`, `E-3`; note that `1E`
//! alone is exa).
//!
//! Behaviour kept from upstream, including its quirks:
//! * Non-zero values finer than 1n are rounded away from zero to the next
//!   nano (`0.1n` -> `1n`, `3.001n` -> `4n`).
//! * BinarySI values are capped at 2^63-1 (`9Ei` -> 9223372036854775807);
//!   decimal values are *not* capped (`1000E` is 10^21).
//! * A BinarySI value strictly between 0 and 1 becomes DecimalSI.
//! * An empty number is zero (`"."`, `"-"`, `"k"`, `"Ki"` all parse as 0),
//!   except where upstream takes its `inf.Dec` slow path (`Pi`, `Ei`, or a
//!   decimal exponent below -9 such as `e-10`), which fails with "unable to
//!   parse numeric part of quantity".
//! * `value()`/`milli_value()` round away from zero (`-1500m` -> -2), which
//!   is upstream's documented contract and what its int64 path does; for
//!   non-negative quantities that is the ceiling.
//!
//! Deliberate deviations from v1.35 (all but the last follow fixes that
//! upstream merged after v1.35):
//! * `Display` always emits the canonical form. Upstream's `String()`
//!   returns the input verbatim when a heuristic says it is already
//!   canonical, so it echoes `+1`, `0001`, `1E-3` or `1.500` unchanged.
//! * A DecimalSI value whose canonical exponent has no suffix (above `E`)
//!   falls back to exponent notation (`1000E` -> `1e21`). v1.35 dropped the
//!   suffix and printed `1`. BinarySI values with no binary suffix (past
//!   `Ei`) print in decimal form the same way.
//! * A decimal exponent outside +/-(2^31-1) is a suffix error. v1.35
//!   truncated it to 32 bits (`1e4294967297` parsed as 10).
//! * `value()`, `milli_value()` and `scaled_value()` saturate at
//!   `i64::MIN`/`i64::MAX`. v1.35 returned 0 or a wrapped value; the
//!   `checked_*` variants report overflow as `None`.
//! * Negative values round away from zero on every path. v1.35's `inf.Dec`
//!   path got some of these wrong (`-.484785E-7466` gave 1).
//! * Quantities are held as an `i128` significand and a power-of-ten
//!   exponent. A decimal quantity whose significant digits, after nano
//!   rounding, do not fit an `i128` (any 38 digits fit, some 39 do) is
//!   rejected with [`QuantityError::TooPrecise`]; upstream keeps any
//!   precision. Huge exponents are fine (`1e2000000000` parses), and BinarySI
//!   values (capped at 2^63-1) always fit.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

/// Upstream's `splitREString`, quoted in format errors.
pub const QUANTITY_REGEX: &str = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$";

/// The finest exponent a parsed quantity keeps (1n).
const NANO_EXP: i64 = -9;
/// Largest decimal exponent accepted in an `e`/`E` suffix.
const MAX_SUFFIX_EXPONENT: i64 = i32::MAX as i64;
/// Upstream's `maxAllowed`: the BinarySI cap, 2^63-1.
const MAX_ALLOWED: u128 = i64::MAX as u128;
/// 10^9, the number of nano units in one.
const NANOS_PER_UNIT: u128 = 1_000_000_000;
/// Most significant digits an `i128` can hold (it tops out at ~1.7e38, so
/// every 38-digit and some 39-digit significands fit).
const MAX_SIGNIFICANT_DIGITS: usize = 39;

/// How a quantity is written, remembered from the suffix it was parsed with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// e.g. `12e6`.
    DecimalExponent,
    /// e.g. `12Mi` (12 * 2^20).
    BinarySI,
    /// e.g. `12M` (12 * 10^6).
    DecimalSI,
}

impl Format {
    /// Upstream's name for the format.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::DecimalExponent => "DecimalExponent",
            Format::BinarySI => "BinarySI",
            Format::DecimalSI => "DecimalSI",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a string is not a quantity. Each message quotes the input and uses
/// upstream's wording where upstream has one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuantityError {
    /// Upstream `ErrFormatWrong`.
    #[error("invalid quantity {input:?}: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")]
    FormatWrong { input: String },
    /// Upstream `ErrSuffix`.
    #[error("invalid quantity {input:?}: unable to parse quantity's suffix")]
    Suffix { input: String },
    /// Upstream `ErrNumeric`.
    #[error("invalid quantity {input:?}: unable to parse numeric part of quantity")]
    Numeric { input: String },
    /// A kubesim limit with no upstream counterpart (see the module docs).
    #[error("invalid quantity {input:?}: too many significant digits (more than 38) after rounding to 1n; kubesim cannot hold it exactly")]
    TooPrecise { input: String },
}

impl QuantityError {
    /// The text that failed to parse.
    pub fn input(&self) -> &str {
        match self {
            QuantityError::FormatWrong { input }
            | QuantityError::Suffix { input }
            | QuantityError::Numeric { input }
            | QuantityError::TooPrecise { input } => input,
        }
    }
}

/// A parsed Kubernetes quantity, held exactly as `mantissa * 10^exponent`.
///
/// The representation is normalised: the mantissa has no trailing decimal
/// zero, and zero is stored as `0 * 10^0`. So the derived `PartialEq`
/// compares value and format. Use [`Quantity::cmp_value`] to compare values
/// only (upstream's `Cmp`, where `1k` equals `1e3`).
///
/// Every quantity built by this module is a whole number of nano units.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Quantity {
    /// Signed significand. Never a multiple of ten unless zero; never
    /// `i128::MIN`, so negation cannot overflow.
    mantissa: i128,
    /// Power of ten applied to the mantissa; 0 when the mantissa is 0.
    exponent: i64,
    format: Format,
}

impl Default for Quantity {
    /// Zero in DecimalSI, which is what `"0"` parses to.
    fn default() -> Self {
        Quantity::zero()
    }
}

impl Quantity {
    /// Parses `s` exactly as upstream's `ParseQuantity` does (see the module
    /// docs for the few deliberate differences).
    pub fn parse(s: &str) -> Result<Quantity, QuantityError> {
        let input = || s.to_owned();
        if s.is_empty() {
            return Err(QuantityError::FormatWrong { input: input() });
        }
        let scanned =
            scan(s.as_bytes()).ok_or_else(|| QuantityError::FormatWrong { input: input() })?;
        let (base, exponent, mut format) =
            interpret(scanned.suffix).ok_or_else(|| QuantityError::Suffix { input: input() })?;

        // Upstream's fast int64 path cannot fail; its inf.Dec slow path fails
        // when the number part holds no digit at all ("Pi", ".e-10").
        let num_len = len_i64(scanned.num);
        let denom_len = len_i64(scanned.denom);
        let fast_path = match base {
            Base::Ten => {
                18 - num_len.saturating_add(denom_len) >= 0
                    && exponent.saturating_sub(denom_len) >= NANO_EXP
            }
            Base::Two => {
                denom_len == 0
                    && 14i64
                        .saturating_sub(num_len)
                        .saturating_sub(exponent * 3 / 10)
                        >= 0
            }
        };
        if !fast_path && !scanned.value_has_digit {
            return Err(QuantityError::Numeric { input: input() });
        }

        let (magnitude, exp) = match base {
            Base::Ten => decimal_magnitude(scanned.num, scanned.denom, exponent)
                .ok_or_else(|| QuantityError::TooPrecise { input: input() })?,
            Base::Two => binary_magnitude(scanned.num, scanned.denom, exponent),
        };
        if format == Format::BinarySI
            && magnitude != 0
            && cmp_magnitude(magnitude.unsigned_abs(), exp, 1, 0) == Ordering::Less
        {
            // Upstream: "This avoids rounding and hopefully confusion, too."
            format = Format::DecimalSI;
        }
        let mantissa = if scanned.positive {
            magnitude
        } else {
            -magnitude
        };
        Ok(Quantity::from_parts(mantissa, exp, format))
    }

    /// Zero, in DecimalSI.
    pub fn zero() -> Quantity {
        Quantity {
            mantissa: 0,
            exponent: 0,
            format: Format::DecimalSI,
        }
    }

    /// `m` thousandths, in DecimalSI (upstream `NewMilliQuantity(m, DecimalSI)`).
    pub fn from_milli(m: i64) -> Quantity {
        Quantity::from_parts(i128::from(m), -3, Format::DecimalSI)
    }

    /// The integer `v` in format `f` (upstream `NewQuantity`).
    pub fn from_value(v: i64, f: Format) -> Quantity {
        Quantity::from_parts(i128::from(v), 0, f)
    }

    /// The format the quantity was parsed or built with.
    pub fn format(&self) -> Format {
        self.format
    }

    /// The same value in another format (upstream lets callers set `Format`).
    pub fn with_format(&self, format: Format) -> Quantity {
        Quantity {
            format,
            ..self.clone()
        }
    }

    /// The exact value as `(mantissa, exponent)`, meaning
    /// `mantissa * 10^exponent`, with no trailing zero in the mantissa.
    pub fn to_parts(&self) -> (i128, i64) {
        (self.mantissa, self.exponent)
    }

    /// Whether the value is zero.
    pub fn is_zero(&self) -> bool {
        self.mantissa == 0
    }

    /// -1, 0 or 1 by the sign of the value (upstream `Sign`).
    pub fn sign(&self) -> i32 {
        match self.mantissa.cmp(&0) {
            Ordering::Less => -1,
            Ordering::Equal => 0,
            Ordering::Greater => 1,
        }
    }

    /// Upstream `Value()`: the value rounded away from zero to an integer,
    /// saturating at `i64::MIN`/`i64::MAX`.
    pub fn value(&self) -> i64 {
        self.scaled(0).0
    }

    /// Upstream `MilliValue()`: the value times 1000 rounded away from zero
    /// (the ceiling, for the non-negative quantities Kubernetes accepts),
    /// saturating at `i64::MIN`/`i64::MAX`. Used for CPU millicores.
    pub fn milli_value(&self) -> i64 {
        self.scaled(-3).0
    }

    /// Upstream `ScaledValue(scale)`: the value divided by `10^scale`,
    /// rounded away from zero, saturating at `i64::MIN`/`i64::MAX`.
    pub fn scaled_value(&self, scale: i32) -> i64 {
        self.scaled(i64::from(scale)).0
    }

    /// Like [`Quantity::value`], but `None` where that saturates.
    pub fn checked_value(&self) -> Option<i64> {
        self.checked_scaled_value(0)
    }

    /// Like [`Quantity::milli_value`], but `None` where that saturates.
    pub fn checked_milli_value(&self) -> Option<i64> {
        self.checked_scaled_value(-3)
    }

    /// Like [`Quantity::scaled_value`], but `None` where that saturates.
    pub fn checked_scaled_value(&self, scale: i32) -> Option<i64> {
        match self.scaled(i64::from(scale)) {
            (v, true) => Some(v),
            (_, false) => None,
        }
    }

    /// Compares values, ignoring format (upstream `Cmp`).
    pub fn cmp_value(&self, other: &Quantity) -> Ordering {
        let (a, b) = (self.sign(), other.sign());
        if a != b {
            return a.cmp(&b);
        }
        if a == 0 {
            return Ordering::Equal;
        }
        let magnitude = cmp_magnitude(
            self.mantissa.unsigned_abs(),
            self.exponent,
            other.mantissa.unsigned_abs(),
            other.exponent,
        );
        if a < 0 {
            magnitude.reverse()
        } else {
            magnitude
        }
    }

    /// Exact sum, or `None` if it cannot be held. As upstream's `Add`, the
    /// result keeps this quantity's format unless this quantity is zero, in
    /// which case it takes `other`'s.
    pub fn checked_add(&self, other: &Quantity) -> Option<Quantity> {
        self.combine(other.mantissa, other)
    }

    /// Exact difference, or `None` if it cannot be held. Format as for
    /// [`Quantity::checked_add`] (upstream `Sub`).
    pub fn checked_sub(&self, other: &Quantity) -> Option<Quantity> {
        self.combine(-other.mantissa, other)
    }

    /// `self + other_mantissa * 10^other.exponent`, with upstream's format
    /// rule.
    fn combine(&self, other_mantissa: i128, other: &Quantity) -> Option<Quantity> {
        let format = if self.is_zero() {
            other.format
        } else {
            self.format
        };
        if other_mantissa == 0 {
            return Some(self.with_format(format));
        }
        if self.is_zero() {
            return Some(Quantity::from_parts(other_mantissa, other.exponent, format));
        }
        let exponent = self.exponent.min(other.exponent);
        let a = self
            .mantissa
            .checked_mul(pow10_i128(self.exponent.checked_sub(exponent)?)?)?;
        let b = other_mantissa.checked_mul(pow10_i128(other.exponent.checked_sub(exponent)?)?)?;
        let sum = a.checked_add(b)?;
        if sum == i128::MIN {
            return None;
        }
        Some(Quantity::from_parts(sum, exponent, format))
    }

    /// Builds a normalised quantity. `mantissa` must not be `i128::MIN`.
    fn from_parts(mantissa: i128, exponent: i64, format: Format) -> Quantity {
        let (mantissa, exponent) = normalize(mantissa, exponent);
        Quantity {
            mantissa,
            exponent,
            format,
        }
    }

    /// The value divided by 10^scale, rounded away from zero and saturated to
    /// an i64; the flag is false when it saturated.
    fn scaled(&self, scale: i64) -> (i64, bool) {
        if self.mantissa == 0 {
            return (0, true);
        }
        let negative = self.mantissa < 0;
        let magnitude = self.mantissa.unsigned_abs();
        let shift = self.exponent.saturating_sub(scale);
        let result = if shift >= 0 {
            pow10_u128(shift).and_then(|p| magnitude.checked_mul(p))
        } else {
            match pow10_u128(shift.saturating_neg()) {
                Some(p) => {
                    let quotient = magnitude / p;
                    if magnitude.is_multiple_of(p) {
                        Some(quotient)
                    } else {
                        Some(quotient + 1)
                    }
                }
                // 10^-shift exceeds every u128, so 0 < |value| < 1 unit.
                None => Some(1),
            }
        };
        clamp_to_i64(negative, result)
    }

    /// The value as a non-negative integer magnitude, if it is an integer
    /// that fits a u128.
    fn integer_magnitude(&self) -> Option<u128> {
        if self.exponent < 0 {
            return None;
        }
        self.mantissa
            .unsigned_abs()
            .checked_mul(pow10_u128(self.exponent)?)
    }

    /// Writes the canonical decimal form: the exponent is lowered to a
    /// multiple of three and spelled as a DecimalSI suffix or `e<n>`.
    fn fmt_decimal(&self, f: &mut fmt::Formatter<'_>, format: Format) -> fmt::Result {
        let pad = self.exponent.rem_euclid(3);
        let exp3 = self.exponent.saturating_sub(pad);
        if self.mantissa < 0 {
            f.write_str("-")?;
        }
        write!(f, "{}", self.mantissa.unsigned_abs())?;
        for _ in 0..pad {
            f.write_str("0")?;
        }
        let si_suffix = match format {
            Format::DecimalSI => decimal_si_suffix(exp3),
            _ => None,
        };
        match si_suffix {
            Some(suffix) => f.write_str(suffix),
            None if exp3 == 0 => Ok(()),
            None => write!(f, "e{exp3}"),
        }
    }
}

impl fmt::Display for Quantity {
    /// Upstream's canonical form (`CanonicalizeBytes`): `1.5Gi` -> `1536Mi`,
    /// `0.5` -> `500m`, `1e3` -> `1e3`, zero -> `0`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_zero() {
            return f.write_str("0");
        }
        let magnitude = self.mantissa.unsigned_abs();
        let format = match self.format {
            Format::BinarySI
                if cmp_magnitude(magnitude, self.exponent, 1024, 0) == Ordering::Less =>
            {
                Format::DecimalSI
            }
            Format::BinarySI => {
                if let Some(mut value) = self.integer_magnitude() {
                    let mut power = 0usize;
                    while value >= 1024 && value.is_multiple_of(1024) {
                        value /= 1024;
                        power += 1;
                    }
                    if let Some(suffix) = BINARY_SUFFIXES.get(power) {
                        let sign = if self.mantissa < 0 { "-" } else { "" };
                        return write!(f, "{sign}{value}{suffix}");
                    }
                }
                // Not an integer (upstream: "Don't lose precision"), or no
                // binary suffix is large enough.
                Format::DecimalSI
            }
            other => other,
        };
        self.fmt_decimal(f, format)
    }
}

impl FromStr for Quantity {
    type Err = QuantityError;

    fn from_str(s: &str) -> Result<Quantity, QuantityError> {
        Quantity::parse(s)
    }
}

impl std::ops::Neg for Quantity {
    type Output = Quantity;

    /// Upstream `Neg`; the format is kept.
    fn neg(self) -> Quantity {
        Quantity {
            mantissa: -self.mantissa,
            ..self
        }
    }
}

impl std::ops::Neg for &Quantity {
    type Output = Quantity;

    fn neg(self) -> Quantity {
        -self.clone()
    }
}

/// Binary suffixes by power of 1024 (index 0 is no suffix).
const BINARY_SUFFIXES: [&str; 7] = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"];

fn decimal_si_suffix(exp3: i64) -> Option<&'static str> {
    Some(match exp3 {
        -9 => "n",
        -6 => "u",
        -3 => "m",
        0 => "",
        3 => "k",
        6 => "M",
        9 => "G",
        12 => "T",
        15 => "P",
        18 => "E",
        _ => return None,
    })
}

/// The radix a suffix scales by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Base {
    /// The suffix exponent is a power of ten.
    Ten,
    /// The suffix exponent is a power of two (10, 20, ... 60).
    Two,
}

/// Upstream `quantitySuffixer.interpret`: suffix -> (base, exponent, format).
fn interpret(suffix: &[u8]) -> Option<(Base, i64, Format)> {
    let decimal = |e| Some((Base::Ten, e, Format::DecimalSI));
    let binary = |e| Some((Base::Two, e, Format::BinarySI));
    match suffix {
        b"" => decimal(0),
        b"n" => decimal(-9),
        b"u" => decimal(-6),
        b"m" => decimal(-3),
        b"k" => decimal(3),
        b"M" => decimal(6),
        b"G" => decimal(9),
        b"T" => decimal(12),
        b"P" => decimal(15),
        b"E" => decimal(18),
        b"Ki" => binary(10),
        b"Mi" => binary(20),
        b"Gi" => binary(30),
        b"Ti" => binary(40),
        b"Pi" => binary(50),
        b"Ei" => binary(60),
        [b'e' | b'E', rest @ ..] if !rest.is_empty() => {
            parse_suffix_exponent(rest).map(|e| (Base::Ten, e, Format::DecimalExponent))
        }
        _ => None,
    }
}

/// Go's `strconv.ParseInt(s, 10, 64)` restricted to +/-(2^31-1).
fn parse_suffix_exponent(s: &[u8]) -> Option<i64> {
    let (negative, digits) = match s {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        _ => (false, s),
    };
    if digits.is_empty() {
        return None;
    }
    let mut value: i64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        value = value * 10 + i64::from(c - b'0');
        if value > MAX_SUFFIX_EXPONENT {
            return None;
        }
    }
    Some(if negative { -value } else { value })
}

/// The pieces upstream's `parseQuantityString` returns.
#[derive(Debug, PartialEq, Eq)]
struct Scanned<'a> {
    positive: bool,
    /// Whether upstream's `value` string (sign, digits and point) holds a
    /// digit; `inf.Dec.SetString` fails when it does not.
    value_has_digit: bool,
    /// Integer digits without leading zeros; `"0"` if there are none.
    num: &'a [u8],
    /// Fraction digits, possibly empty.
    denom: &'a [u8],
    suffix: &'a [u8],
}

/// Upstream `parseQuantityString`; `None` is `ErrFormatWrong`.
fn scan(s: &[u8]) -> Option<Scanned<'_>> {
    const ZERO: &[u8] = b"0";
    let end = s.len();
    let at = |i: usize| s.get(i).copied();
    let mut result = Scanned {
        positive: true,
        value_has_digit: true,
        num: ZERO,
        denom: b"",
        suffix: b"",
    };
    let mut pos = 0;
    match at(0) {
        Some(b'-') => {
            result.positive = false;
            pos = 1;
        }
        Some(b'+') => pos = 1,
        _ => {}
    }

    // Strip leading zeros; a number of only zeros is zero with no suffix.
    while at(pos) == Some(b'0') {
        pos += 1;
    }
    if pos >= end {
        return Some(result);
    }

    // The integer digits.
    let num_start = pos;
    while at(pos).is_some_and(|c| c.is_ascii_digit()) {
        pos += 1;
    }
    let num = s.get(num_start..pos)?;
    if pos >= end {
        result.num = num;
        return Some(result);
    }
    if !num.is_empty() {
        result.num = num;
    }

    // The fraction digits.
    if at(pos) == Some(b'.') {
        pos += 1;
        let denom_start = pos;
        while at(pos).is_some_and(|c| c.is_ascii_digit()) {
            pos += 1;
        }
        result.denom = s.get(denom_start..pos)?;
    }
    result.value_has_digit = s.get(..pos)?.iter().any(u8::is_ascii_digit);
    if pos >= end {
        return Some(result);
    }

    // The suffix: letters from the set, an optional sign, then digits.
    let suffix_start = pos;
    while at(pos).is_some_and(|c| b"eEinumkKMGTP".contains(&c)) {
        pos += 1;
    }
    if matches!(at(pos), Some(b'-' | b'+')) {
        pos += 1;
    }
    while at(pos).is_some_and(|c| c.is_ascii_digit()) {
        pos += 1;
    }
    if pos < end {
        return None;
    }
    result.suffix = s.get(suffix_start..)?;
    Some(result)
}

/// `num.denom * 10^exponent`, rounded away from zero to a whole number of
/// nanos, normalised. `None` if more than 38 significant digits remain.
fn decimal_magnitude(num: &[u8], denom: &[u8], exponent: i64) -> Option<(i128, i64)> {
    let digits: Vec<u8> = num.iter().chain(denom).copied().collect();
    let Some(first) = digits.iter().position(|&c| c != b'0') else {
        return Some((0, 0));
    };
    let last = digits.iter().rposition(|&c| c != b'0').unwrap_or(first);
    let significant = digits.get(first..=last)?;
    let trailing_zeros = len_i64(digits.get(last + 1..)?);
    let exp = exponent
        .saturating_sub(len_i64(denom))
        .saturating_add(trailing_zeros);
    if exp >= NANO_EXP {
        return Some(normalize(digits_to_i128(significant)?, exp));
    }
    // Too fine: drop the digits below 1n. The last significant digit is not
    // zero, so something non-zero is always dropped and we round up.
    let drop = usize::try_from(NANO_EXP.saturating_sub(exp)).unwrap_or(usize::MAX);
    if drop >= significant.len() {
        return Some((1, NANO_EXP));
    }
    let kept = significant.get(..significant.len() - drop)?;
    let rounded = digits_to_i128(kept)?.checked_add(1)?;
    Some(normalize(rounded, NANO_EXP))
}

/// `num.denom * 2^bits`, rounded away from zero to a whole number of nanos
/// and capped at 2^63-1, normalised.
fn binary_magnitude(num: &[u8], denom: &[u8], bits: i64) -> (i128, i64) {
    let cap = normalize(i128::from(i64::MAX), 0);
    let multiplier: u128 = match u32::try_from(bits).ok().and_then(|b| 1u128.checked_shl(b)) {
        Some(m) if bits <= 60 => m,
        _ => return cap,
    };
    let num_start = num.iter().position(|&c| c != b'0').unwrap_or(num.len());
    let num = num.get(num_start..).unwrap_or_default();
    if num.len() > 19 {
        // At least 10^19 before scaling, already above 2^63-1.
        return cap;
    }
    let integer = num
        .iter()
        .fold(0u128, |acc, &c| acc * 10 + u128::from(c - b'0'));

    // Multiply the fraction digits by 2^bits, from the least significant
    // digit up; what carries out of the top is the whole part.
    let denom_end = denom.iter().rposition(|&c| c != b'0').map_or(0, |i| i + 1);
    let mut fraction: Vec<u8> = denom
        .get(..denom_end)
        .unwrap_or_default()
        .iter()
        .map(|&c| c - b'0')
        .collect();
    let mut carry: u128 = 0;
    for digit in fraction.iter_mut().rev() {
        let v = u128::from(*digit) * multiplier + carry;
        *digit = (v % 10) as u8;
        carry = v / 10;
    }
    let whole = integer * multiplier + carry;
    if whole > MAX_ALLOWED {
        return cap;
    }
    let nanos = (0..9).fold(0u128, |acc, i| {
        acc * 10 + u128::from(fraction.get(i).copied().unwrap_or(0))
    });
    let below_nano = fraction.iter().skip(9).any(|&d| d != 0);
    let total = whole * NANOS_PER_UNIT + nanos + u128::from(below_nano);
    if total > MAX_ALLOWED * NANOS_PER_UNIT {
        return cap;
    }
    // total <= (2^63-1) * 10^9, far inside i128.
    normalize(total as i128, NANO_EXP)
}

/// Moves trailing decimal zeros of `mantissa` into `exponent`; zero becomes
/// `(0, 0)`.
fn normalize(mut mantissa: i128, mut exponent: i64) -> (i128, i64) {
    if mantissa == 0 {
        return (0, 0);
    }
    while mantissa % 10 == 0 {
        mantissa /= 10;
        exponent = exponent.saturating_add(1);
    }
    (mantissa, exponent)
}

/// Compares `a * 10^ae` with `b * 10^be` for non-zero `a` and `b`.
fn cmp_magnitude(a: u128, ae: i64, b: u128, be: i64) -> Ordering {
    let (da, db) = (decimal_digits(a), decimal_digits(b));
    // The power of ten just above each value decides unless they share it.
    let (top_a, top_b) = (ae.saturating_add(da), be.saturating_add(db));
    if top_a != top_b {
        return top_a.cmp(&top_b);
    }
    // Same leading position: compare the digit strings left-aligned.
    let ordering = da.cmp(&db);
    let (long, short) = match ordering {
        Ordering::Equal => return a.cmp(&b),
        Ordering::Greater => (a, b),
        Ordering::Less => (b, a),
    };
    let Some(p) = pow10_u128((da - db).abs()) else {
        return ordering;
    };
    let long_vs_short = (long / p).cmp(&short).then(if long.is_multiple_of(p) {
        Ordering::Equal
    } else {
        Ordering::Greater
    });
    if ordering == Ordering::Greater {
        long_vs_short
    } else {
        long_vs_short.reverse()
    }
}

/// Number of decimal digits of `v` (1 for 0).
fn decimal_digits(v: u128) -> i64 {
    v.checked_ilog10().map_or(1, |d| i64::from(d) + 1)
}

/// ASCII digits as an i128, or `None` if they do not fit one.
fn digits_to_i128(digits: &[u8]) -> Option<i128> {
    if digits.len() > MAX_SIGNIFICANT_DIGITS {
        return None;
    }
    digits.iter().try_fold(0i128, |acc, &c| {
        acc.checked_mul(10)?.checked_add(i128::from(c - b'0'))
    })
}

fn pow10_u128(n: i64) -> Option<u128> {
    10u128.checked_pow(u32::try_from(n).ok()?)
}

fn pow10_i128(n: i64) -> Option<i128> {
    10i128.checked_pow(u32::try_from(n).ok()?)
}

fn len_i64(s: &[u8]) -> i64 {
    i64::try_from(s.len()).unwrap_or(i64::MAX)
}

/// Applies the sign and saturates to i64; the flag is false when saturated.
fn clamp_to_i64(negative: bool, magnitude: Option<u128>) -> (i64, bool) {
    let rail = if negative { i64::MIN } else { i64::MAX };
    let Some(magnitude) = magnitude else {
        return (rail, false);
    };
    let signed = i128::try_from(magnitude)
        .ok()
        .map(|m| if negative { -m } else { m })
        .and_then(|m| i64::try_from(m).ok());
    match signed {
        Some(v) => (v, true),
        None => (rail, false),
    }
}

#[cfg(test)]
mod tests {
    use super::Format::{BinarySI, DecimalExponent, DecimalSI};
    use super::*;
    use proptest::prelude::*;

    /// Upstream's `decQuantity(i, exponent, format)`: `i * 10^exponent`.
    fn dq(mantissa: i128, exponent: i64, format: Format) -> Quantity {
        Quantity::from_parts(mantissa, exponent, format)
    }

    fn p(s: &str) -> Quantity {
        match Quantity::parse(s) {
            Ok(q) => q,
            Err(e) => panic!("{s:?} should parse: {e}"),
        }
    }

    /// An exact decimal literal such as "-12.5", parsed independently of the
    /// code under test.
    fn exact(s: &str) -> (i128, i64) {
        let (negative, digits) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
        let m: i128 = format!("{int}{frac}").parse().expect("test literal");
        let m = if negative { -m } else { m };
        normalize(m, -(frac.len() as i64))
    }

    // ---- upstream TestQuantityParse ----

    fn parse_table() -> Vec<(&'static str, Quantity)> {
        vec![
            ("0", dq(0, 0, DecimalSI)),
            ("0n", dq(0, 0, DecimalSI)),
            ("0u", dq(0, 0, DecimalSI)),
            ("0m", dq(0, 0, DecimalSI)),
            ("0Ki", dq(0, 0, BinarySI)),
            ("0k", dq(0, 0, DecimalSI)),
            ("0Mi", dq(0, 0, BinarySI)),
            ("0M", dq(0, 0, DecimalSI)),
            ("0Gi", dq(0, 0, BinarySI)),
            ("0G", dq(0, 0, DecimalSI)),
            ("0Ti", dq(0, 0, BinarySI)),
            ("0T", dq(0, 0, DecimalSI)),
            // Quantity less numbers are allowed
            ("1", dq(1, 0, DecimalSI)),
            // Binary suffixes
            ("1Ki", dq(1024, 0, BinarySI)),
            ("8Ki", dq(8 * 1024, 0, BinarySI)),
            ("7Mi", dq(7 * 1024 * 1024, 0, BinarySI)),
            ("6Gi", dq(6 * 1024 * 1024 * 1024, 0, BinarySI)),
            ("5Ti", dq(5 * 1024 * 1024 * 1024 * 1024, 0, BinarySI)),
            ("4Pi", dq(4 * 1024 * 1024 * 1024 * 1024 * 1024, 0, BinarySI)),
            (
                "3Ei",
                dq(3 * 1024 * 1024 * 1024 * 1024 * 1024 * 1024, 0, BinarySI),
            ),
            ("10Ti", dq(10 * 1024 * 1024 * 1024 * 1024, 0, BinarySI)),
            ("100Ti", dq(100 * 1024 * 1024 * 1024 * 1024, 0, BinarySI)),
            // Decimal suffixes
            ("5n", dq(5, -9, DecimalSI)),
            ("4u", dq(4, -6, DecimalSI)),
            ("3m", dq(3, -3, DecimalSI)),
            ("9", dq(9, 0, DecimalSI)),
            ("8k", dq(8, 3, DecimalSI)),
            ("50k", dq(5, 4, DecimalSI)),
            ("7M", dq(7, 6, DecimalSI)),
            ("6G", dq(6, 9, DecimalSI)),
            ("5T", dq(5, 12, DecimalSI)),
            ("40T", dq(4, 13, DecimalSI)),
            ("300T", dq(3, 14, DecimalSI)),
            ("2P", dq(2, 15, DecimalSI)),
            ("1E", dq(1, 18, DecimalSI)),
            // Decimal exponents
            ("1E-3", dq(1, -3, DecimalExponent)),
            ("1e3", dq(1, 3, DecimalExponent)),
            ("1E6", dq(1, 6, DecimalExponent)),
            ("1e9", dq(1, 9, DecimalExponent)),
            ("1E12", dq(1, 12, DecimalExponent)),
            ("1e15", dq(1, 15, DecimalExponent)),
            ("1E18", dq(1, 18, DecimalExponent)),
            // Nonstandard but still parsable
            ("1e14", dq(1, 14, DecimalExponent)),
            ("1e13", dq(1, 13, DecimalExponent)),
            ("1e3", dq(1, 3, DecimalExponent)),
            ("100.035k", dq(100035, 0, DecimalSI)),
            // Things that look like floating point
            ("0.001", dq(1, -3, DecimalSI)),
            ("0.0005k", dq(5, -1, DecimalSI)),
            ("0.005", dq(5, -3, DecimalSI)),
            ("0.05", dq(5, -2, DecimalSI)),
            ("0.5", dq(5, -1, DecimalSI)),
            ("0.00050k", dq(5, -1, DecimalSI)),
            ("0.00500", dq(5, -3, DecimalSI)),
            ("0.05000", dq(5, -2, DecimalSI)),
            ("0.50000", dq(5, -1, DecimalSI)),
            ("0.5e0", dq(5, -1, DecimalExponent)),
            ("0.5e-1", dq(5, -2, DecimalExponent)),
            ("0.5e-2", dq(5, -3, DecimalExponent)),
            ("0.5e0", dq(5, -1, DecimalExponent)),
            ("10.035M", dq(10035, 3, DecimalSI)),
            ("1.2e3", dq(12, 2, DecimalExponent)),
            ("1.3E+6", dq(13, 5, DecimalExponent)),
            ("1.40e9", dq(14, 8, DecimalExponent)),
            ("1.53E12", dq(153, 10, DecimalExponent)),
            ("1.6e15", dq(16, 14, DecimalExponent)),
            ("1.7E18", dq(17, 17, DecimalExponent)),
            ("9.01", dq(901, -2, DecimalSI)),
            ("8.1k", dq(81, 2, DecimalSI)),
            ("7.123456M", dq(7123456, 0, DecimalSI)),
            ("6.987654321G", dq(6987654321, 0, DecimalSI)),
            ("5.444T", dq(5444, 9, DecimalSI)),
            ("40.1T", dq(401, 11, DecimalSI)),
            ("300.2T", dq(3002, 11, DecimalSI)),
            ("2.5P", dq(25, 14, DecimalSI)),
            ("1.01E", dq(101, 16, DecimalSI)),
            // Things that saturate/round
            ("3.001n", dq(4, -9, DecimalSI)),
            ("1.1E-9", dq(2, -9, DecimalExponent)),
            ("0.0000000001", dq(1, -9, DecimalSI)),
            ("0.0000000005", dq(1, -9, DecimalSI)),
            ("0.00000000050", dq(1, -9, DecimalSI)),
            ("0.5e-9", dq(1, -9, DecimalExponent)),
            ("0.9n", dq(1, -9, DecimalSI)),
            ("0.00000012345", dq(124, -9, DecimalSI)),
            ("0.00000012354", dq(124, -9, DecimalSI)),
            ("9Ei", dq(i128::from(i64::MAX), 0, BinarySI)),
            (
                "9223372036854775807Ki",
                dq(i128::from(i64::MAX), 0, BinarySI),
            ),
            ("12E", dq(12, 18, DecimalSI)),
            // We'll accept fractional binary stuff, too.
            ("100.035Ki", dq(10243584, -2, BinarySI)),
            ("0.5Mi", dq(512 * 1024, 0, BinarySI)),
            ("0.05Gi", dq(536870912, -1, BinarySI)),
            ("0.025Ti", dq(274877906944, -1, BinarySI)),
            // Things written by trolls
            ("0.000000000001Ki", dq(2, -9, DecimalSI)), // rounds up, changes format
            (".001", dq(1, -3, DecimalSI)),
            (".0001k", dq(100, -3, DecimalSI)),
            ("1.", dq(1, 0, DecimalSI)),
            ("1.G", dq(1, 9, DecimalSI)),
        ]
    }

    #[test]
    fn upstream_quantity_parse_table() {
        assert!(Quantity::parse("").is_err());
        for (input, want) in parse_table() {
            assert_eq!(p(input), want, "{input}");
            // The negative version of everything.
            let neg = p(&format!("-{input}"));
            assert_eq!(neg, -&want, "-{input}");
            assert_eq!(neg.format(), want.format(), "-{input}");
            // Everything with an explicit +.
            assert_eq!(p(&format!("+{input}")), want, "+{input}");
            // Decomposing and rebuilding the input gives the same value.
            let s = scan(input.as_bytes()).expect("scans");
            let rebuilt = format!(
                "{}{}{}",
                String::from_utf8_lossy(s.num),
                if s.denom.is_empty() {
                    String::new()
                } else {
                    format!(".{}", String::from_utf8_lossy(s.denom))
                },
                String::from_utf8_lossy(s.suffix)
            );
            assert_eq!(p(&rebuilt).cmp_value(&want), Ordering::Equal, "{input}");
        }
    }

    #[test]
    fn upstream_quantity_parse_invalid() {
        let invalid = [
            "1.1.M",
            "1+1.0M",
            "0.1mi",
            "0.1am",
            "aoeu",
            ".5i",
            "1i",
            "-3.01i",
            "-3.01e-",
            // an exponent outside the int32 scale is rejected (later upstream)
            "1e4294967297",
            // trailing whitespace is forbidden
            " 1",
            "1 ",
        ];
        for input in invalid {
            assert!(Quantity::parse(input).is_err(), "{input:?} parsed");
        }
    }

    #[test]
    fn upstream_parse_quantity_string() {
        // upstream TestParseQuantityString: (input, positive, num, denom, suffix)
        let table: [(&str, bool, &str, &str, &str); 6] = [
            ("0.025Ti", true, "0", "025", "Ti"),
            ("1.025Ti", true, "1", "025", "Ti"),
            ("-1.025Ti", false, "1", "025", "Ti"),
            (".", true, "0", "", ""),
            ("-.", false, "0", "", ""),
            ("1E-3", true, "1", "", "E-3"),
        ];
        for (input, positive, num, denom, suffix) in table {
            let s = scan(input.as_bytes()).expect("scans");
            assert_eq!(s.positive, positive, "{input}");
            assert_eq!(s.num, num.as_bytes(), "{input}");
            assert_eq!(s.denom, denom.as_bytes(), "{input}");
            assert_eq!(s.suffix, suffix.as_bytes(), "{input}");
        }
    }

    #[test]
    fn upstream_parse_zero_and_non_numeric() {
        // TestQuantityParseZero
        assert_eq!(p("0").to_string(), "0");
        assert_eq!(p("0").format(), DecimalSI);
        // TestQuantityParseNonNumericPanic (MustParse panics = parse fails)
        assert!(matches!(
            Quantity::parse("Non-Numeric"),
            Err(QuantityError::FormatWrong { .. })
        ));
    }

    #[test]
    fn brief_rejections_and_error_messages() {
        let cases = [
            ("1K", "Suffix"),
            ("1ki", "Suffix"),
            ("1 Gi", "FormatWrong"),
            ("", "FormatWrong"),
            ("1.5.5", "FormatWrong"),
            ("0x10", "FormatWrong"),
            ("1e", "Suffix"),
            ("1e-", "Suffix"),
            ("1KiB", "FormatWrong"),
            ("1Ki5", "Suffix"),
            ("1e+-5", "FormatWrong"),
            ("1e2147483648", "Suffix"),
            ("1e-2147483648", "Suffix"),
            ("1e99999999999999999999", "Suffix"),
            ("Pi", "Numeric"),
            ("-Ei", "Numeric"),
            (".e-10", "Numeric"),
            ("e-10", "Numeric"),
            ("1µ", "FormatWrong"),
        ];
        for (input, kind) in cases {
            let err = Quantity::parse(input).expect_err(input);
            let got = match err {
                QuantityError::FormatWrong { .. } => "FormatWrong",
                QuantityError::Suffix { .. } => "Suffix",
                QuantityError::Numeric { .. } => "Numeric",
                QuantityError::TooPrecise { .. } => "TooPrecise",
            };
            assert_eq!(got, kind, "{input:?}");
            assert_eq!(err.input(), input);
            assert!(err.to_string().contains(&format!("{input:?}")), "{err}");
        }
        assert_eq!(
            Quantity::parse("1.5.5").unwrap_err().to_string(),
            format!(
                "invalid quantity \"1.5.5\": quantities must match the regular expression '{QUANTITY_REGEX}'"
            )
        );
        assert_eq!(
            Quantity::parse("1K").unwrap_err().to_string(),
            "invalid quantity \"1K\": unable to parse quantity's suffix"
        );
        assert_eq!(
            Quantity::parse("Pi").unwrap_err().to_string(),
            "invalid quantity \"Pi\": unable to parse numeric part of quantity"
        );
        assert_eq!("1.5.5".parse::<Quantity>(), Quantity::parse("1.5.5"));
    }

    #[test]
    fn upstream_quirks_kept() {
        // An empty number is zero on upstream's fast path.
        for input in [".", "-", "+", "-.", "k", "Ki", "Ti", "e5", "E", "000", "-0"] {
            assert!(p(input).is_zero(), "{input}");
        }
        assert_eq!(p("Ki").format(), BinarySI);
        assert_eq!(p("e5").format(), DecimalExponent);
        // "1E" is exa, "1E3" an exponent; suffix exponents take signs and
        // leading zeros like strconv.ParseInt.
        assert_eq!(p("1E"), dq(1, 18, DecimalSI));
        assert_eq!(p("1E3"), dq(1, 3, DecimalExponent));
        assert_eq!(p("1e+05"), dq(1, 5, DecimalExponent));
        assert_eq!(p("1e2147483647"), dq(1, 2147483647, DecimalExponent));
        // Decimal values are not capped; binary ones are.
        assert_eq!(p("1000E"), dq(1, 21, DecimalSI));
        assert_eq!(p("-9Ei"), dq(-i128::from(i64::MAX), 0, BinarySI));
        assert_eq!(p("8Ei"), dq(i128::from(i64::MAX), 0, BinarySI));
        // 19 integer digits times 2^60 would overflow the nano arithmetic.
        let cap = dq(i128::from(i64::MAX), 0, BinarySI);
        assert_eq!(p("9999999999999999999Ei"), cap);
        assert_eq!(p("-9999999999999999999.999Ei"), -&cap);
        assert_eq!(
            p("9223372036854775807.000000001"),
            dq(9223372036854775807000000001, -9, DecimalSI)
        );
        // Just below 2^63-1 is kept exactly; just above is capped.
        assert_eq!(
            p("8589934591.999999999Gi"),
            dq(9223372036854775806926258176, -9, BinarySI)
        );
        assert_eq!(p("8589934591.9999999999Gi"), cap);
        // 8 * 2^60 - 2^60 / 10^11 = 9223372036843246592.95393153024
        assert_eq!(p("7.99999999999Ei").value(), 9223372036843246593);
        assert_eq!(
            p("7.99999999999Ei"),
            dq(9223372036843246592953931531, -9, BinarySI)
        );
        // Sub-nano rounding, including from huge negative exponents.
        assert_eq!(p("1e-2147483647"), dq(1, -9, DecimalExponent));
        assert_eq!(p("-.484785E-7466"), dq(-1, -9, DecimalExponent));
        assert_eq!(p("0.999999999999n"), dq(1, -9, DecimalSI));
        assert_eq!(p("0.0000000099999"), dq(1, -8, DecimalSI));
        // Values beyond i64 parse exactly.
        assert_eq!(p("9223372036854775808"), dq(1 << 63, 0, DecimalSI));
        assert_eq!(p("18446744073709551616"), dq(1 << 64, 0, DecimalSI));
        // Any 38 significant digits are held, 39 while they fit an i128.
        let d38 = "99999999999999999999999999999999999999";
        assert_eq!(p(d38).to_parts(), (d38.parse().unwrap(), 0));
        let max = i128::MAX.to_string();
        assert_eq!(p(&format!("-{max}")).to_parts(), (-i128::MAX, 0));
        for too_many in [format!("{d38}9"), format!("{max}1"), "1".repeat(40)] {
            assert!(
                matches!(
                    Quantity::parse(&too_many),
                    Err(QuantityError::TooPrecise { .. })
                ),
                "{too_many}"
            );
        }
        // ... but only after rounding to nano.
        assert_eq!(
            p(&format!("1.{}1", "0".repeat(60))),
            dq(1_000_000_001, -9, DecimalSI)
        );
        assert_eq!(p(&format!("1{}", "0".repeat(60))), dq(1, 60, DecimalSI));
    }

    #[test]
    fn long_inputs_are_handled_quickly() {
        let tiny = format!("0.{}1", "0".repeat(200_000));
        assert_eq!(p(&tiny), dq(1, -9, DecimalSI));
        let huge = format!("1{}", "0".repeat(200_000));
        assert_eq!(p(&huge).to_parts(), (1, 200_000));
        assert_eq!(p(&huge).value(), i64::MAX);
        assert_eq!(p(&huge).to_string(), "100e199998");
        let binary = format!("1.{}1Ki", "0".repeat(200_000));
        assert_eq!(p(&binary), dq(1_024_000_000_001, -9, BinarySI));
    }

    // ---- upstream TestQuantityString ----

    #[test]
    fn upstream_quantity_string_table() {
        let table: Vec<(Quantity, &str, &str)> = vec![
            (dq(1024 * 1024 * 1024, 0, BinarySI), "1Gi", "1024Mi"),
            (dq(300 * 1024 * 1024, 0, BinarySI), "300Mi", "307200Ki"),
            (dq(6 * 1024, 0, BinarySI), "6Ki", ""),
            (
                dq(1001 * 1024 * 1024 * 1024, 0, BinarySI),
                "1001Gi",
                "1025024Mi",
            ),
            (dq(1024 * 1024 * 1024 * 1024, 0, BinarySI), "1Ti", "1024Gi"),
            (dq(5, 0, BinarySI), "5", "5000m"),
            (dq(500, -3, BinarySI), "500m", "0.5"),
            (dq(1, 9, DecimalSI), "1G", "1000M"),
            (dq(1000, 6, DecimalSI), "1G", "0.001T"),
            (dq(1000000, 3, DecimalSI), "1G", ""),
            (dq(1000000000, 0, DecimalSI), "1G", ""),
            (dq(1, -3, DecimalSI), "1m", "1000u"),
            (dq(80, -3, DecimalSI), "80m", ""),
            (dq(1080, -3, DecimalSI), "1080m", "1.08"),
            (dq(108, -2, DecimalSI), "1080m", "1080000000n"),
            (dq(10800, -4, DecimalSI), "1080m", ""),
            (dq(300, 6, DecimalSI), "300M", ""),
            (dq(1, 12, DecimalSI), "1T", ""),
            // No suffix beyond "E": exponent notation (later upstream fix).
            (dq(1, 18, DecimalSI), "1E", ""),
            (dq(1, 21, DecimalSI), "1e21", "1000E"),
            (dq(5, 21, DecimalSI), "5e21", "5000E"),
            (dq(1, 24, DecimalSI), "1e24", "1000000E"),
            // No binary suffix beyond "Ei": exact decimal form.
            (dq(1, 70, BinarySI), "10e69", ""),
            (dq(2, 70, BinarySI), "20e69", ""),
            (dq(1, 72, BinarySI), "1e72", ""),
            (dq(1 << 70, 0, BinarySI), "1180591620717411303424", ""),
            (dq(1234567, 6, DecimalSI), "1234567M", ""),
            (dq(1234567, -3, BinarySI), "1234567m", ""),
            (dq(3, 3, DecimalSI), "3k", ""),
            (dq(1025, 0, BinarySI), "1025", ""),
            (dq(0, 0, DecimalSI), "0", ""),
            (dq(0, 0, BinarySI), "0", ""),
            (dq(1, 9, DecimalExponent), "1e9", ".001e12"),
            (dq(1, -3, DecimalExponent), "1e-3", "0.001e0"),
            (dq(1, -9, DecimalExponent), "1e-9", "1000e-12"),
            (dq(80, -3, DecimalExponent), "80e-3", ""),
            (dq(300, 6, DecimalExponent), "300e6", ""),
            (dq(1, 12, DecimalExponent), "1e12", ""),
            (dq(1, 3, DecimalExponent), "1e3", ""),
            (dq(3, 3, DecimalExponent), "3e3", ""),
            (dq(3, 3, DecimalSI), "3k", ""),
            (dq(0, 0, DecimalExponent), "0", "00"),
            (dq(1, -9, DecimalSI), "1n", ""),
            (dq(80, -9, DecimalSI), "80n", ""),
            (dq(1080, -9, DecimalSI), "1080n", ""),
            (dq(108, -8, DecimalSI), "1080n", ""),
            (dq(10800, -10, DecimalSI), "1080n", ""),
            (dq(1, -6, DecimalSI), "1u", ""),
            (dq(80, -6, DecimalSI), "80u", ""),
            (dq(1080, -6, DecimalSI), "1080u", ""),
            // TestBinarySIZeroExponentString
            (dq(2000, 0, BinarySI), "2000", ""),
        ];
        for (q, expect, alternate) in &table {
            assert_eq!(q.to_string(), *expect, "{q:?}");
            // The canonical string parses back to the same value.
            assert_eq!(p(expect).cmp_value(q), Ordering::Equal, "{expect}");
            if !alternate.is_empty() {
                assert_eq!(p(alternate).to_string(), *expect, "{alternate}");
            }
            if !q.is_zero() {
                assert_eq!((-q).to_string(), format!("-{expect}"), "{q:?}");
            }
        }
        // TestQuantityStringBelowNano (unreachable from parse)
        assert_eq!(dq(1, -12, DecimalSI).to_string(), "1e-12");
        assert_eq!(dq(1, -10, DecimalSI).to_string(), "100e-12");
    }

    #[test]
    fn upstream_quantity_parse_emit() {
        let table = [
            ("1Ki", "1Ki"),
            ("1Mi", "1Mi"),
            ("1Gi", "1Gi"),
            ("1024Mi", "1Gi"),
            ("1000M", "1G"),
            (".001Ki", "1024m"),
            (".000001Ki", "1024u"),
            (".000000001Ki", "1024n"),
            (".000000000001Ki", "2n"),
        ];
        for (input, expect) in table {
            assert_eq!(p(input).to_string(), expect, "{input}");
            assert_eq!(p(&format!("-{input}")).to_string(), format!("-{expect}"));
        }
    }

    #[test]
    fn upstream_parse_quantity_exact_values_and_canonical_form() {
        // upstream TestParseQuantity: input, exact value, canonical form ("" =
        // the input itself).
        let table = [
            ("-999999999999999999", "-999999999999999999", ""),
            ("999999999999999999", "999999999999999999", ""),
            (
                "-999999999999999999.0",
                "-999999999999999999",
                "-999999999999999999",
            ),
            (
                "999999999999999999.0",
                "999999999999999999",
                "999999999999999999",
            ),
            (
                "-999999999999999999.1",
                "-999999999999999999.1",
                "-999999999999999999100m",
            ),
            (
                "999999999999999999.1",
                "999999999999999999.1",
                "999999999999999999100m",
            ),
            ("-9999999999999999999", "-9999999999999999999", ""),
            ("9999999999999999999", "9999999999999999999", ""),
            ("-1E", "-1000000000000000000", ""),
            ("1E", "1000000000000000000", ""),
            ("-1000000000000000000", "-1000000000000000000", "-1E"),
            ("1000000000000000000", "1000000000000000000", "1E"),
            (
                "-9999999999999999999.0",
                "-9999999999999999999",
                "-9999999999999999999",
            ),
            (
                "9999999999999999999.0",
                "9999999999999999999",
                "9999999999999999999",
            ),
            ("-1.0E", "-1000000000000000000", "-1E"),
            ("1.0E", "1000000000000000000", "1E"),
            ("-1000000000000000000.0", "-1000000000000000000", "-1E"),
            ("1000000000000000000.0", "1000000000000000000", "1E"),
            (
                "-9999999999999999999000m",
                "-9999999999999999999",
                "-9999999999999999999",
            ),
            (
                "9999999999999999999000m",
                "9999999999999999999",
                "9999999999999999999",
            ),
            (
                "-9999999999999999999.1",
                "-9999999999999999999.1",
                "-9999999999999999999100m",
            ),
            (
                "9999999999999999999.1",
                "9999999999999999999.1",
                "9999999999999999999100m",
            ),
            (
                "-1.0000000000000000001E",
                "-1000000000000000000.1",
                "-1000000000000000000100m",
            ),
            (
                "1.0000000000000000001E",
                "1000000000000000000.1",
                "1000000000000000000100m",
            ),
            (
                "-1000000000000000000.1",
                "-1000000000000000000.1",
                "-1000000000000000000100m",
            ),
            (
                "1000000000000000000.1",
                "1000000000000000000.1",
                "1000000000000000000100m",
            ),
            (
                "-1.000000000000000001E",
                "-1000000000000000001",
                "-1000000000000000001",
            ),
            (
                "1.000000000000000001E",
                "1000000000000000001",
                "1000000000000000001",
            ),
            ("-1000000000000000001", "-1000000000000000001", ""),
            ("1000000000000000001", "1000000000000000001", ""),
            ("-10E", "-10000000000000000000", ""),
            ("10E", "10000000000000000000", ""),
            ("-10000000000000000000", "-10000000000000000000", "-10E"),
            ("10000000000000000000", "10000000000000000000", "10E"),
            ("-10.0E", "-10000000000000000000", "-10E"),
            ("10.0E", "10000000000000000000", "10E"),
            ("-10000000000000000000.0", "-10000000000000000000", "-10E"),
            ("10000000000000000000.0", "10000000000000000000", "10E"),
            ("-10000000000000000000000m", "-10000000000000000000", "-10E"),
            ("10000000000000000000000m", "10000000000000000000", "10E"),
            (
                "-10.0000000000000000001E",
                "-10000000000000000000.1",
                "-10000000000000000000100m",
            ),
            (
                "10.0000000000000000001E",
                "10000000000000000000.1",
                "10000000000000000000100m",
            ),
            (
                "-10000000000000000000.1",
                "-10000000000000000000.1",
                "-10000000000000000000100m",
            ),
            (
                "10000000000000000000.1",
                "10000000000000000000.1",
                "10000000000000000000100m",
            ),
            (
                "-10.000000000000000001E",
                "-10000000000000000001",
                "-10000000000000000001",
            ),
            (
                "10.000000000000000001E",
                "10000000000000000001",
                "10000000000000000001",
            ),
            ("-10000000000000000001", "-10000000000000000001", ""),
            ("10000000000000000001", "10000000000000000001", ""),
            ("-9223372036854775809", "-9223372036854775809", ""),
            ("9223372036854775806", "9223372036854775806", ""),
            (
                "-9223372036854775809.0",
                "-9223372036854775809",
                "-9223372036854775809",
            ),
            (
                "9223372036854775806.0",
                "9223372036854775806",
                "9223372036854775806",
            ),
            (
                "-9223372036854775809000m",
                "-9223372036854775809",
                "-9223372036854775809",
            ),
            (
                "9223372036854775806000m",
                "9223372036854775806",
                "9223372036854775806",
            ),
            (
                "-9223372036854775809.1",
                "-9223372036854775809.1",
                "-9223372036854775809100m",
            ),
            (
                "9223372036854775806.1",
                "9223372036854775806.1",
                "9223372036854775806100m",
            ),
            ("-9223372036854775808", "-9223372036854775808", ""),
            ("9223372036854775807", "9223372036854775807", ""),
            (
                "-9223372036854775808.0",
                "-9223372036854775808",
                "-9223372036854775808",
            ),
            (
                "9223372036854775807.0",
                "9223372036854775807",
                "9223372036854775807",
            ),
            (
                "-9223372036854775808000m",
                "-9223372036854775808",
                "-9223372036854775808",
            ),
            (
                "9223372036854775807000m",
                "9223372036854775807",
                "9223372036854775807",
            ),
            (
                "-9223372036854775808.1",
                "-9223372036854775808.1",
                "-9223372036854775808100m",
            ),
            (
                "9223372036854775807.1",
                "9223372036854775807.1",
                "9223372036854775807100m",
            ),
            ("-9223372036854775807", "-9223372036854775807", ""),
            ("9223372036854775808", "9223372036854775808", ""),
            (
                "-9223372036854775807.0",
                "-9223372036854775807",
                "-9223372036854775807",
            ),
            (
                "9223372036854775808.0",
                "9223372036854775808",
                "9223372036854775808",
            ),
            (
                "-9223372036854775807000m",
                "-9223372036854775807",
                "-9223372036854775807",
            ),
            (
                "9223372036854775808000m",
                "9223372036854775808",
                "9223372036854775808",
            ),
            (
                "-9223372036854775807.1",
                "-9223372036854775807.1",
                "-9223372036854775807100m",
            ),
            (
                "9223372036854775808.1",
                "9223372036854775808.1",
                "9223372036854775808100m",
            ),
        ];
        for (input, value, canonical) in table {
            let q = p(input);
            assert_eq!(q.to_parts(), exact(value), "{input}");
            let canonical = if canonical.is_empty() {
                input
            } else {
                canonical
            };
            assert_eq!(q.to_string(), canonical, "{input}");
        }
    }

    // ---- Value / MilliValue ----

    #[test]
    fn brief_vectors() {
        let milli = [
            ("500m", 500),
            ("1", 1000),
            ("0.1", 100),
            ("0.0001", 1),
            ("1n", 1),
            ("12e-3", 12),
            ("129M", 129_000_000_000),
            ("1e3", 1_000_000),
        ];
        for (input, want) in milli {
            assert_eq!(p(input).milli_value(), want, "{input}");
        }
        let value = [
            ("100M", 100_000_000),
            ("1Gi", 1_073_741_824),
            ("1.5Gi", 1_610_612_736),
            ("1Ei", 1_152_921_504_606_846_976),
            ("1E", 1_000_000_000_000_000_000),
            ("129M", 129_000_000),
            ("123Mi", 128_974_848),
            ("1Ki", 1024),
            ("128974848", 128_974_848),
            ("1e3", 1000),
            ("0.5", 1),
        ];
        for (input, want) in value {
            assert_eq!(p(input).value(), want, "{input}");
        }
        let display = [
            ("1.5Gi", "1536Mi"),
            ("0.5", "500m"),
            ("1e3", "1e3"),
            ("129M", "129M"),
            ("123Mi", "123Mi"),
            ("128974848", "128974848"),
            ("12e-3", "12e-3"),
            ("1E", "1E"),
            ("1Ei", "1Ei"),
            ("1000E", "1e21"),
        ];
        for (input, want) in display {
            assert_eq!(p(input).to_string(), want, "{input}");
        }
        assert_eq!(p("1.5Gi").format(), BinarySI);
        assert_eq!(p("100M").format(), DecimalSI);
        assert_eq!(p("1e3").format(), DecimalExponent);
    }

    #[test]
    fn upstream_negative_value_rounds_away_from_zero() {
        // TestNegativeValueRoundsAwayFromZero
        let table = [
            ("-.484785E-7466", -1, -1),
            (".484785E-7466", 1, 1),
            ("-.484785E-1", -1, -49),
            (".484785E-1", 1, 49),
            ("-0.0005", -1, -1),
            ("0.0005", 1, 1),
            ("-1500m", -2, -1500),
            ("1500m", 2, 1500),
            ("-9.5000000001Gi", -10200547329, -10200547328108),
            ("9.5000000001Gi", 10200547329, 10200547328108),
            ("-1", -1, -1000),
            ("1", 1, 1000),
            ("0", 0, 0),
        ];
        for (input, value, milli) in table {
            let q = p(input);
            assert_eq!(q.value(), value, "{input}");
            assert_eq!(q.milli_value(), milli, "{input}");
        }
    }

    #[test]
    fn upstream_scaled_value() {
        // TestScaledValue: NewScaledQuantity(1, from).ScaledValue(to)
        let table = [
            ("1n", -9, 1),
            ("1n", -6, 1),
            ("1n", -3, 1),
            ("1n", 0, 1),
            ("1u", -9, 1000),
            ("1u", -6, 1),
            ("1u", -3, 1),
            ("1u", 0, 1),
            ("1m", -9, 1000 * 1000),
            ("1m", -6, 1000),
            ("1m", -3, 1),
            ("1m", 0, 1),
            ("1", -9, 1000 * 1000 * 1000),
            ("1", -6, 1000 * 1000),
            ("1", -3, 1000),
            ("1", 0, 1),
            ("100", -2, 100 * 100),
        ];
        for (input, scale, want) in table {
            assert_eq!(p(input).scaled_value(scale), want, "{input} at {scale}");
        }
    }

    #[test]
    fn values_saturate() {
        assert_eq!(p("1e19").value(), i64::MAX);
        assert_eq!(p("1e19").checked_value(), None);
        assert_eq!(p("-1e19").value(), i64::MIN);
        assert_eq!(p("100E").value(), i64::MAX);
        assert_eq!(p("9223372036854775807").value(), i64::MAX);
        assert_eq!(p("9223372036854775807").checked_value(), Some(i64::MAX));
        assert_eq!(p("-9223372036854775808").checked_value(), Some(i64::MIN));
        assert_eq!(p("-9223372036854775809").checked_value(), None);
        assert_eq!(p("9223372036854775.807").milli_value(), i64::MAX);
        assert_eq!(
            p("9223372036854775.808").checked_milli_value(),
            None,
            "one milli past the rail"
        );
        assert_eq!(p("9Ei").milli_value(), i64::MAX);
        assert_eq!(p("-9Ei").milli_value(), i64::MIN);
        assert_eq!(p("-9Ei").value(), -i64::MAX);
        assert_eq!(p("1e2147483647").milli_value(), i64::MAX);
        assert_eq!(p("1").scaled_value(i32::MIN), i64::MAX);
        assert_eq!(p("1").scaled_value(i32::MAX), 1);
        assert_eq!(p("-1").scaled_value(i32::MAX), -1);
    }

    // ---- constructors and arithmetic ----

    #[test]
    fn upstream_milli_new_set() {
        // TestMilliNewSet (the invalid-format row has no Rust counterpart)
        let table = [
            (1, DecimalSI, "1m", true),
            (1000, DecimalSI, "1", true),
            (1234000, DecimalSI, "1234", true),
            (1024, BinarySI, "1024m", false),
            (1024 * 1024, BinarySI, "1048576m", false),
        ];
        for (value, format, expect, exact) in table {
            let q = Quantity::from_milli(value).with_format(format);
            assert_eq!(q.to_string(), expect);
            if exact {
                assert_eq!(p(&q.to_string()).milli_value(), value);
            }
        }
        assert_eq!(Quantity::from_milli(250).format(), DecimalSI);
        assert_eq!(Quantity::from_milli(250).milli_value(), 250);
    }

    #[test]
    fn upstream_new_set() {
        // TestNewSet (the invalid-format row has no Rust counterpart)
        let table = [
            (1, DecimalSI, "1"),
            (1000, DecimalSI, "1k"),
            (1234000, DecimalSI, "1234k"),
            (1024, BinarySI, "1Ki"),
            (1024 * 1024, BinarySI, "1Mi"),
            (1000000, DecimalExponent, "1e6"),
        ];
        for (value, format, expect) in table {
            let q = Quantity::from_value(value, format);
            assert_eq!(q.to_string(), expect);
            assert_eq!(p(&q.to_string()).value(), value);
        }
    }

    #[test]
    fn upstream_cmp() {
        // TestQuantityCmp
        let table = [
            ("0", "0", Ordering::Equal),
            ("100m", "50m", Ordering::Greater),
            ("50m", "100m", Ordering::Less),
            ("10000T", "100Gi", Ordering::Greater),
        ];
        for (x, y, want) in table {
            assert_eq!(p(x).cmp_value(&p(y)), want, "{x} vs {y}");
            assert_eq!(p(y).cmp_value(&p(x)), want.reverse(), "{y} vs {x}");
        }
        assert_eq!(p("1k").cmp_value(&p("1e3")), Ordering::Equal);
        assert_ne!(p("1k"), p("1e3"), "PartialEq also compares the format");
        assert_eq!(p("-2").cmp_value(&p("-1")), Ordering::Less);
        assert_eq!(p("-1").cmp_value(&p("1n")), Ordering::Less);
        assert_eq!(p("9.99").cmp_value(&p("9.991")), Ordering::Less);
        assert_eq!(p("9.991").cmp_value(&p("9.99")), Ordering::Greater);
        assert_eq!(p("1Ki").cmp_value(&p("1.024k")), Ordering::Equal);
    }

    #[test]
    fn upstream_add_sub() {
        // TestAdd / TestSub
        let zero = Quantity::zero();
        let add = [
            (
                dq(10, 0, DecimalSI),
                dq(1, 1, DecimalSI),
                dq(20, 0, DecimalSI),
            ),
            (
                dq(10, 0, DecimalSI),
                dq(1, 0, BinarySI),
                dq(11, 0, DecimalSI),
            ),
            (
                dq(10, 0, BinarySI),
                dq(1, 0, DecimalSI),
                dq(11, 0, BinarySI),
            ),
            (zero.clone(), dq(50, 0, DecimalSI), dq(50, 0, DecimalSI)),
            (dq(50, 0, DecimalSI), zero.clone(), dq(50, 0, DecimalSI)),
            (zero.clone(), zero.clone(), dq(0, 0, DecimalSI)),
        ];
        for (a, b, want) in add {
            assert_eq!(a.checked_add(&b), Some(want));
        }
        let sub = [
            (
                dq(10, 0, DecimalSI),
                dq(1, 1, DecimalSI),
                dq(0, 0, DecimalSI),
            ),
            (
                dq(10, 0, DecimalSI),
                dq(1, 0, BinarySI),
                dq(9, 0, DecimalSI),
            ),
            (dq(10, 0, BinarySI), dq(1, 0, DecimalSI), dq(9, 0, BinarySI)),
            (zero.clone(), dq(50, 0, DecimalSI), dq(-50, 0, DecimalSI)),
            (dq(50, 0, DecimalSI), zero.clone(), dq(50, 0, DecimalSI)),
            (zero.clone(), zero.clone(), dq(0, 0, DecimalSI)),
        ];
        for (a, b, want) in sub {
            assert_eq!(a.checked_sub(&b), Some(want));
        }
        // TestQuantityAddZeroPreservesSuffix / TestQuantitySubZeroPreservesSuffix
        for s in ["100m", "1Gi"] {
            let v = p(s);
            assert_eq!(v.checked_add(&p("0")).unwrap().to_string(), s);
            assert_eq!(p("0").checked_add(&v).unwrap().to_string(), s);
            assert_eq!(v.checked_sub(&p("0")).unwrap().to_string(), s);
            assert_eq!(
                p("0").checked_sub(&v).unwrap().to_string(),
                (-&v).to_string()
            );
        }
        // TestQuantityCanocicalizeZero
        assert_eq!(p("1000m").checked_sub(&p("1")).unwrap().to_string(), "0");
        // TestNeg
        assert_eq!(-dq(10, 0, BinarySI), dq(-10, 0, BinarySI));
        assert_eq!(-dq(0, 0, DecimalSI), dq(0, 0, DecimalSI));
        assert_eq!((-dq(901, -2, DecimalSI)).to_string(), "-9010m");
        // Overflow is reported, not wrapped.
        let big = dq(i128::MAX / 10 * 10 + 7, 0, DecimalSI);
        assert_eq!(big.checked_add(&big), None);
        assert_eq!(p("1e100").checked_add(&p("1n")), None);
    }

    // ---- property tests ----

    fn decimal_format() -> impl Strategy<Value = Format> {
        prop_oneof![Just(DecimalSI), Just(DecimalExponent)]
    }

    /// Random quantities of every kind that parsing or the constructors can
    /// produce. BinarySI integers stay within upstream's 2^63-1 parse cap,
    /// as every parsed BinarySI quantity does.
    fn any_quantity() -> impl Strategy<Value = Quantity> {
        prop_oneof![
            (any::<i64>(), -9i64..=40, decimal_format()).prop_map(|(m, e, f)| dq(
                i128::from(m),
                e,
                f
            )),
            (any::<i128>(), -9i64..=60, decimal_format()).prop_map(|(m, e, f)| dq(
                m.max(-i128::MAX),
                e,
                f
            )),
            (0..=i64::MAX, 0u32..=6, any::<bool>(), 0i128..1_000_000_000).prop_map(
                |(magnitude, power, negative, nanos)| {
                    let bits = power * 10;
                    let whole = i128::from((magnitude >> bits) << bits);
                    let whole = if negative { -whole } else { whole };
                    if nanos % 2 == 0 {
                        dq(whole, 0, BinarySI)
                    } else {
                        dq(whole * 1_000_000_000 + nanos, -9, BinarySI)
                    }
                }
            ),
            "[+-]?[0-9]{0,20}(\\.[0-9]{0,12})?(n|u|m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei|e-?[0-9]{1,2})?"
                .prop_filter_map("parses", |s| Quantity::parse(&s).ok()),
        ]
    }

    /// Reference MilliValue computed naively in i128: the exact value is
    /// `digits * 10^exp10 * 2^bits`; take sign * ceil(|value| * 1000) and
    /// saturate to i64 (which also covers upstream's BinarySI cap, since a
    /// capped value is far past the milli range).
    fn reference_milli(negative: bool, digits: i128, exp10: i64, bits: u32) -> i64 {
        let scaled = digits << bits;
        let shift = exp10 + 3;
        let milli = if shift >= 0 {
            10i128
                .checked_pow(shift as u32)
                .and_then(|p| scaled.checked_mul(p))
        } else {
            let den = 10i128.pow((-shift) as u32);
            Some((scaled + den - 1) / den)
        };
        let rail = if negative { i64::MIN } else { i64::MAX };
        match milli {
            None => rail,
            Some(m) => {
                let signed = if negative { -m } else { m };
                i64::try_from(signed).unwrap_or(rail)
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn prop_display_round_trips(q in any_quantity()) {
            let shown = q.to_string();
            let back = Quantity::parse(&shown);
            prop_assert!(back.is_ok(), "{:?} displayed as {:?}: {:?}", q, shown, back);
            let back = back.unwrap();
            prop_assert_eq!(back.cmp_value(&q), Ordering::Equal, "{:?} -> {:?} -> {:?}", q, shown, back);
            // Canonical output is a fixed point once reparsed.
            prop_assert_eq!(Quantity::parse(&back.to_string()).unwrap(), back);
        }

        #[test]
        fn prop_milli_value_matches_reference(
            negative in any::<bool>(),
            int in 0u64..1_000_000_000_000,
            frac in "[0-9]{0,12}",
            suffix in 0usize..17,
            exp in -15i64..15,
        ) {
            let suffixes: [(&str, i64, u32); 16] = [
                ("n", -9, 0), ("u", -6, 0), ("m", -3, 0), ("", 0, 0), ("k", 3, 0),
                ("M", 6, 0), ("G", 9, 0), ("T", 12, 0), ("P", 15, 0), ("E", 18, 0),
                ("Ki", 0, 10), ("Mi", 0, 20), ("Gi", 0, 30), ("Ti", 0, 40),
                ("Pi", 0, 50), ("Ei", 0, 60),
            ];
            let (text, exp10, bits) = match suffixes.get(suffix) {
                Some(&(s, e, b)) => (s.to_string(), e, b),
                None => (format!("e{exp}"), exp, 0),
            };
            // Keep the binary case inside i128 for the reference.
            let (int, frac) = if bits > 0 {
                (int % 1_000_000, frac.chars().take(6).collect::<String>())
            } else {
                (int, frac)
            };
            let sign = if negative { "-" } else { "" };
            let dot = if frac.is_empty() { String::new() } else { format!(".{frac}") };
            let input = format!("{sign}{int}{dot}{text}");
            let digits: i128 = format!("{int}{frac}").parse().unwrap();
            let want = reference_milli(negative, digits, exp10 - frac.len() as i64, bits);
            let q = Quantity::parse(&input).unwrap();
            prop_assert_eq!(q.milli_value(), want, "{}", input);
        }

        #[test]
        fn prop_parse_never_panics(s in any::<String>()) {
            if let Ok(q) = Quantity::parse(&s) {
                let _ = (q.to_string(), q.value(), q.milli_value(), q.scaled_value(-9));
            }
        }

        #[test]
        fn prop_parse_never_panics_on_quantity_alphabet(
            s in "[-+0-9.eEinumkKMGTP ]{0,40}"
        ) {
            if let Ok(q) = Quantity::parse(&s) {
                let shown = q.to_string();
                let _ = (q.value(), q.milli_value());
                let back = Quantity::parse(&shown);
                prop_assert!(back.is_ok(), "{:?} -> {:?}", s, shown);
                prop_assert_eq!(back.unwrap().cmp_value(&q), Ordering::Equal);
            }
        }

        #[test]
        fn prop_cmp_value_matches_i128(a in any::<i64>(), ea in -9i64..=9, b in any::<i64>(), eb in -9i64..=9) {
            let qa = dq(i128::from(a), ea, DecimalSI);
            let qb = dq(i128::from(b), eb, DecimalSI);
            // Compare a*10^(ea+9) with b*10^(eb+9) exactly.
            let ia = i128::from(a) * 10i128.pow((ea + 9) as u32);
            let ib = i128::from(b) * 10i128.pow((eb + 9) as u32);
            prop_assert_eq!(qa.cmp_value(&qb), ia.cmp(&ib));
        }
    }
}
