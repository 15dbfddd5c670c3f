//! Durations, percentages and rates: parsing from tc's spellings and canonical formatting.
//!
//! Numbers are parsed as exact decimals (integer and fraction digits) rather than through
//! `f64`, so "1.1s" is exactly 1_100_000_000 ns.

use std::fmt;
use std::time::Duration;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use super::ParseError;

fn err(what: &'static str, input: &str, reason: impl Into<String>) -> ParseError {
    ParseError {
        what,
        input: input.to_string(),
        reason: reason.into(),
    }
}

/// Splits "1.5ms" into its decimal number ("1", "5") and unit ("ms").
fn split_number(s: &str) -> Option<(&str, &str, &str)> {
    let end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (number, unit) = s.split_at(end);
    let (int, frac) = number.split_once('.').unwrap_or((number, ""));
    let digits = |x: &str| x.chars().all(|c| c.is_ascii_digit());
    if int.is_empty() && frac.is_empty() || !digits(int) || !digits(frac) {
        return None;
    }
    Some((int, frac, unit.trim()))
}

/// True when the decimal `int.frac` is not zero.
fn is_nonzero(int: &str, frac: &str) -> bool {
    int.bytes().chain(frac.bytes()).any(|b| b != b'0')
}

/// `int.frac * scale`, rounded to the nearest integer; None on overflow.
fn scale_decimal(int: &str, frac: &str, scale: u128) -> Option<u128> {
    let int: u128 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let whole = int.checked_mul(scale)?;
    // Fraction digits beyond 24 cannot change the rounded result at any scale used here
    // (at most 8e12), and 10^24 * 8e12 still fits a u128: more digits would overflow.
    let frac = &frac[..frac.len().min(24)];
    if frac.is_empty() {
        return Some(whole);
    }
    let denom = 10u128.pow(frac.len() as u32);
    let num: u128 = frac.parse().ok()?;
    let part = (num.checked_mul(scale)? + denom / 2) / denom;
    whole.checked_add(part)
}

const DURATION_UNITS: &[(&str, u128)] = &[
    ("ns", 1),
    ("us", 1_000),
    ("µs", 1_000),
    ("usec", 1_000),
    ("ms", 1_000_000),
    ("msec", 1_000_000),
    ("s", 1_000_000_000),
    ("sec", 1_000_000_000),
    ("m", 60_000_000_000),
    ("min", 60_000_000_000),
    ("h", 3_600_000_000_000),
];

/// Parses a duration like "20ms", "1.5s", "250us", "2m" or "0".
pub fn parse_duration(s: &str) -> Result<Duration, ParseError> {
    const WHAT: &str = "duration";
    let t = s.trim();
    if t == "0" {
        return Ok(Duration::ZERO);
    }
    let (int, frac, unit) = split_number(t).ok_or_else(|| {
        err(
            WHAT,
            s,
            "expected a number and a unit, e.g. \"20ms\", \"1.5s\", \"250us\", \"2m\"",
        )
    })?;
    if unit.is_empty() {
        return Err(err(
            WHAT,
            s,
            "missing unit (ns, us, ms, s, m or h), e.g. \"20ms\"",
        ));
    }
    let scale = DURATION_UNITS
        .iter()
        .find(|(name, _)| *name == unit)
        .map(|(_, scale)| *scale)
        .ok_or_else(|| {
            err(
                WHAT,
                s,
                format!("unknown unit {unit:?} (use ns, us, ms, s, m or h)"),
            )
        })?;
    let ns = scale_decimal(int, frac, scale)
        .and_then(|ns| u64::try_from(ns).ok())
        .ok_or_else(|| err(WHAT, s, "too large"))?;
    // A non-zero duration that rounds to 0 ns would silently mean "none" (and a delay of
    // none clears): refuse it instead. netem holds delays in nanoseconds, so 1ns is exact.
    if ns == 0 && is_nonzero(int, frac) {
        return Err(err(
            WHAT,
            s,
            "below the resolution of 1ns: the smallest non-zero duration is 1ns",
        ));
    }
    Ok(Duration::from_nanos(ns))
}

/// Formats a duration canonically: the largest unit that keeps it readable, with a
/// decimal fraction where needed ("20ms", "1.5s", "250us", "2m", "0s").
pub fn format_duration(d: Duration) -> String {
    let ns = d.as_nanos();
    if ns == 0 {
        return "0s".to_string();
    }
    // Minutes and hours only when exact: "90s" reads better than "1.5m".
    for (unit, scale) in [("h", 3_600_000_000_000u128), ("m", 60_000_000_000)] {
        if ns >= scale && ns.is_multiple_of(scale) {
            return format!("{}{unit}", ns / scale);
        }
    }
    for (unit, scale) in [("s", 1_000_000_000u128), ("ms", 1_000_000), ("us", 1_000)] {
        if ns >= scale {
            return format!("{}{unit}", decimal(ns, scale));
        }
    }
    format!("{ns}ns")
}

/// `n / scale` as a decimal without trailing zeros ("1.5", "20").
fn decimal(n: u128, scale: u128) -> String {
    let int = n / scale;
    let frac = n % scale;
    if frac == 0 {
        return int.to_string();
    }
    let width = scale.ilog10() as usize;
    let frac = format!("{frac:0width$}");
    format!("{int}.{}", frac.trim_end_matches('0'))
}

/// A percentage between 0 and 100, kept to six decimals: the kernel holds probabilities
/// in units of 1/2^32 (about 0.0000000233%), so a value read back and rounded prints
/// exactly as it was set.
///
/// A non-zero value below [`Percent::MIN_NONZERO`] would round to 0, which means "none"
/// (and setting nothing but zeros clears). It is kept as given instead, so that
/// [`NetemSpec::validate`](super::NetemSpec::validate) refuses it, naming the field.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Percent(f64);

impl Percent {
    /// 0%.
    pub const ZERO: Percent = Percent(0.0);

    /// The smallest non-zero percentage the API holds: 0.000001% (six decimals). It is
    /// about 43 of the kernel's 1/2^32 units, so it never encodes as 0.
    pub const MIN_NONZERO: f64 = 0.000_001;

    /// A percentage from a number (0..=100); rounded to six decimals, except a non-zero
    /// value that would round to 0 (see the type's documentation).
    pub fn new(value: f64) -> Result<Percent, ParseError> {
        if !value.is_finite() || !(0.0..=100.0).contains(&value) {
            return Err(err(
                "percentage",
                &value.to_string(),
                "must be between 0 and 100",
            ));
        }
        // `+ 0.0` turns -0.0 (valid JSON) into 0.0, which prints "0%", not "-0%".
        let value = value + 0.0;
        let rounded = (value * 1e6).round() / 1e6;
        Ok(Percent(if rounded == 0.0 { value } else { rounded }))
    }

    /// True for a non-zero value too small to hold (below [`Percent::MIN_NONZERO`]).
    pub fn is_below_resolution(self) -> bool {
        self.0 > 0.0 && self.0 < Self::MIN_NONZERO
    }

    /// The value in percent (0..=100).
    pub fn value(self) -> f64 {
        self.0
    }
}

impl fmt::Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}%", self.0)
    }
}

/// Parses a percentage like "0.5", "0.5%" or "100%".
pub fn parse_percent(s: &str) -> Result<Percent, ParseError> {
    const WHAT: &str = "percentage";
    let t = s.trim();
    let number = t.strip_suffix('%').unwrap_or(t).trim_end();
    let (int, frac, rest) =
        split_number(number).ok_or_else(|| err(WHAT, s, "expected a number like 0.5 or 0.5%"))?;
    if !rest.is_empty() {
        return Err(err(WHAT, s, "expected a number like 0.5 or 0.5%"));
    }
    let millionths =
        scale_decimal(int, frac, 1_000_000).ok_or_else(|| err(WHAT, s, "too large"))?;
    if millionths > 100_000_000 {
        return Err(err(WHAT, s, "must be between 0 and 100"));
    }
    if millionths == 0 && is_nonzero(int, frac) {
        // Kept as given for validation to refuse (see `Percent`); the digits are a valid
        // decimal, so f64 parses them (to at least the smallest positive f64).
        let tiny = format!("{}.{frac}", if int.is_empty() { "0" } else { int });
        let value = tiny.parse::<f64>().unwrap_or(0.0);
        return Ok(Percent(if value > 0.0 {
            value
        } else {
            f64::MIN_POSITIVE
        }));
    }
    Ok(Percent(millionths as f64 / 1e6))
}

impl Serialize for Percent {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Percent {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Percent;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a percentage: a number or a string like \"0.5\" or \"0.5%\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Percent, E> {
                parse_percent(v).map_err(|e| E::custom(e.reason))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Percent, E> {
                Percent::new(v).map_err(|e| E::custom(e.reason))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Percent, E> {
                self.visit_f64(v as f64)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Percent, E> {
                self.visit_f64(v as f64)
            }
        }
        d.deserialize_any(V)
    }
}

/// A rate limit, held as the kernel holds it: bytes per second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Rate {
    bytes_per_sec: u64,
}

impl Rate {
    /// A rate in bytes per second (at least 1).
    pub fn from_bytes_per_sec(bytes_per_sec: u64) -> Option<Rate> {
        (bytes_per_sec > 0).then_some(Rate { bytes_per_sec })
    }

    /// Bytes per second.
    pub fn bytes_per_sec(self) -> u64 {
        self.bytes_per_sec
    }
}

/// tc's rate units (utils.c), in bits per second; matched ignoring case as tc does.
const RATE_UNITS: &[(&str, u128)] = &[
    ("bit", 1),
    ("kibit", 1024),
    ("kbit", 1000),
    ("mibit", 1024 * 1024),
    ("mbit", 1_000_000),
    ("gibit", 1024 * 1024 * 1024),
    ("gbit", 1_000_000_000),
    ("tibit", 1024 * 1024 * 1024 * 1024),
    ("tbit", 1_000_000_000_000),
    ("bps", 8),
    ("kibps", 8 * 1024),
    ("kbps", 8_000),
    ("mibps", 8 * 1024 * 1024),
    ("mbps", 8_000_000),
    ("gibps", 8 * 1024 * 1024 * 1024),
    ("gbps", 8_000_000_000),
    ("tibps", 8 * 1024 * 1024 * 1024 * 1024),
    ("tbps", 8_000_000_000_000),
];

/// Parses a rate as tc spells it: "1mbit", "100kbit", "10mbps" (bytes), "1.5gbit".
pub fn parse_rate(s: &str) -> Result<Rate, ParseError> {
    const WHAT: &str = "rate";
    let t = s.trim();
    let (int, frac, unit) = split_number(t)
        .ok_or_else(|| err(WHAT, s, "expected a number and a unit, e.g. \"1mbit\""))?;
    if unit.is_empty() {
        return Err(err(
            WHAT,
            s,
            "missing unit, e.g. \"1mbit\", \"100kbit\", \"10mbps\"",
        ));
    }
    let lower = unit.to_ascii_lowercase();
    let scale = RATE_UNITS
        .iter()
        .find(|(name, _)| *name == lower)
        .map(|(_, scale)| *scale)
        .ok_or_else(|| {
            err(
                WHAT,
                s,
                format!("unknown unit {unit:?} (use bit, kbit, mbit, gbit, bps, kbps, mbps, ...)"),
            )
        })?;
    let bits = scale_decimal(int, frac, scale).ok_or_else(|| err(WHAT, s, "too large"))?;
    // tc truncates to whole bytes per second, as the kernel holds rates.
    let bytes = u64::try_from(bits / 8).map_err(|_| err(WHAT, s, "too large"))?;
    Rate::from_bytes_per_sec(bytes)
        .ok_or_else(|| err(WHAT, s, "must be at least 8bit (1 byte per second)"))
}

impl fmt::Display for Rate {
    /// In bits with the largest SI unit that divides it exactly ("1mbit", "100kbit").
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bits = u128::from(self.bytes_per_sec) * 8;
        for (unit, scale) in [
            ("tbit", 1_000_000_000_000u128),
            ("gbit", 1_000_000_000),
            ("mbit", 1_000_000),
            ("kbit", 1_000),
        ] {
            if bits.is_multiple_of(scale) {
                return write!(f, "{}{unit}", bits / scale);
            }
        }
        write!(f, "{bits}bit")
    }
}

impl Serialize for Rate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Rate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d).map_err(|_| {
            de::Error::custom("a rate string like \"1mbit\", \"100kbit\" or \"10mbps\"")
        })?;
        parse_rate(&s).map_err(|e| de::Error::custom(e.reason))
    }
}
