//! The netem settings (`NetemSpec`), how their values are spelled, and their validation.
//!
//! Spellings follow `tc`: durations like `20ms`, `1.5s`, `250us`, `2m`; percentages like
//! `0.5` or `0.5%`; rates like `1mbit`, `100kbit`, `10mbps` (tc's units, matched without
//! regard to case, so `mbps` means megabytes per second as in tc).

use std::fmt;
use std::time::Duration;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

mod values;

pub use values::{Percent, Rate, format_duration, parse_duration, parse_percent, parse_rate};

/// A value that could not be parsed (a duration, percentage or rate).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what} {input:?}: {reason}")]
pub struct ParseError {
    /// What kind of value was expected ("duration", "percentage", "rate").
    pub what: &'static str,
    /// The text as given.
    pub input: String,
    /// Why it was refused.
    pub reason: String,
}

/// A setting that is wrong: which JSON field, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct FieldError {
    /// The JSON field name (`body` when the request body as a whole is wrong).
    pub field: String,
    /// Why it was refused.
    pub reason: String,
    /// The field this one needs a non-zero value of, when that is the reason; so a client
    /// can name the other setting in its own words (the plugin's flag).
    pub needs: Option<&'static str>,
}

impl FieldError {
    /// Builds a field error.
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            reason: reason.into(),
            needs: None,
        }
    }

    /// `field` is set but needs a non-zero `other`.
    pub fn needs(field: impl Into<String>, other: &'static str) -> Self {
        FieldError {
            needs: Some(other),
            ..FieldError::new(field, format!("needs a non-zero {other}"))
        }
    }
}

/// The random distribution of the delay jitter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Distribution {
    /// Normal (gaussian), as tc's `normal` table.
    Normal,
    /// Pareto, as tc's `pareto` table.
    Pareto,
    /// Mix of pareto and normal, as tc's `paretonormal` table.
    Paretonormal,
    /// Uniform in [delay - jitter, delay + jitter] (the kernel's own default).
    Uniform,
}

impl Distribution {
    /// The name as spelled in JSON and by tc.
    pub fn name(self) -> &'static str {
        match self {
            Distribution::Normal => "normal",
            Distribution::Pareto => "pareto",
            Distribution::Paretonormal => "paretonormal",
            Distribution::Uniform => "uniform",
        }
    }
}

impl fmt::Display for Distribution {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Desired (or decoded) netem settings. Every field is optional; the default is no
/// impairment. Setting is *replace*: fields left out mean "none", not "keep".
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetemSpec {
    /// Added delay.
    #[serde(
        default,
        with = "opt_duration",
        skip_serializing_if = "Option::is_none"
    )]
    pub delay: Option<Duration>,
    /// Random variation of the delay (needs `delay`).
    #[serde(
        default,
        with = "opt_duration",
        skip_serializing_if = "Option::is_none"
    )]
    pub jitter: Option<Duration>,
    /// Correlation of successive jitter values (needs `jitter`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_correlation: Option<Percent>,
    /// Distribution of the jitter (needs `jitter`); tc's default is uniform.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distribution: Option<Distribution>,
    /// Probability of dropping a packet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss: Option<Percent>,
    /// Correlation of successive losses (needs `loss`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss_correlation: Option<Percent>,
    /// Probability of duplicating a packet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate: Option<Percent>,
    /// Correlation of successive duplications (needs `duplicate`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate_correlation: Option<Percent>,
    /// Probability of flipping a random bit in a packet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corrupt: Option<Percent>,
    /// Correlation of successive corruptions (needs `corrupt`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corrupt_correlation: Option<Percent>,
    /// Probability of sending a packet at once, ahead of delayed ones (needs `delay`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reorder: Option<Percent>,
    /// Correlation of successive reorderings (needs `reorder`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reorder_correlation: Option<Percent>,
    /// Reorder every `gap`-th packet (needs `reorder`; tc's default 1 when reorder is set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gap: Option<u32>,
    /// Rate limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<Rate>,
    /// Queue length in packets (default 1000, as tc).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// How long the setting lasts: the agent clears it when this expires.
    #[serde(
        default,
        with = "opt_duration",
        skip_serializing_if = "Option::is_none"
    )]
    pub ttl: Option<Duration>,
}

/// tc's default queue length in packets.
pub const DEFAULT_LIMIT: u32 = 1000;

/// The largest delay or jitter accepted. The kernel holds them as signed 64-bit
/// nanoseconds; an hour is far beyond any sane network delay and keeps arithmetic safe.
pub const MAX_DELAY: Duration = Duration::from_secs(3600);

impl NetemSpec {
    /// Only a delay: what `GET /latency/{d}` sets.
    pub fn delay(d: Duration) -> Self {
        NetemSpec {
            delay: Some(d),
            ..NetemSpec::default()
        }
    }

    /// True when the settings impair nothing (no delay, loss, duplication, corruption,
    /// reordering or rate): setting such a spec means clearing.
    pub fn is_noop(&self) -> bool {
        let zero = |p: &Option<Percent>| p.is_none_or(|p| p.value() == 0.0);
        self.delay.is_none_or(|d| d.is_zero())
            && self.jitter.is_none_or(|d| d.is_zero())
            && zero(&self.loss)
            && zero(&self.duplicate)
            && zero(&self.corrupt)
            && zero(&self.reorder)
            && self.rate.is_none()
    }

    /// The queue length to use: `limit` or tc's default.
    pub fn limit_or_default(&self) -> u32 {
        self.limit.unwrap_or(DEFAULT_LIMIT)
    }

    /// Every percentage field with its JSON name.
    fn percents(&self) -> [(&'static str, Option<Percent>); 9] {
        [
            ("delay_correlation", self.delay_correlation),
            ("loss", self.loss),
            ("loss_correlation", self.loss_correlation),
            ("duplicate", self.duplicate),
            ("duplicate_correlation", self.duplicate_correlation),
            ("corrupt", self.corrupt),
            ("corrupt_correlation", self.corrupt_correlation),
            ("reorder", self.reorder),
            ("reorder_correlation", self.reorder_correlation),
        ]
    }

    /// Checks the settings belong together (tc's rules), naming the first wrong field.
    ///
    /// Also refuses a non-zero value netem cannot hold (it would round to 0 and so mean
    /// "none", turning a set into a clear), naming the field and the smallest value it can
    /// take. Durations and rates get that check when parsed (a `Duration` holds whole
    /// nanoseconds, which netem holds exactly; a rate below 1 byte per second is refused by
    /// [`parse_rate`]); percentages here, see [`Percent`].
    pub fn validate(&self) -> Result<(), FieldError> {
        let present = |d: Option<Duration>| d.is_some_and(|d| !d.is_zero());
        let has_delay = present(self.delay);
        let has_jitter = present(self.jitter);
        for (field, value) in [("delay", self.delay), ("jitter", self.jitter)] {
            if value.is_some_and(|d| d > MAX_DELAY) {
                return Err(FieldError::new(
                    field,
                    format!("must be at most {}", format_duration(MAX_DELAY)),
                ));
            }
        }
        for (field, value) in self.percents() {
            if value.is_some_and(|p| p.is_below_resolution()) {
                return Err(FieldError::new(
                    field,
                    format!(
                        "{} is below the resolution and would be 0 (none); the smallest \
                         non-zero value is {}%",
                        value.unwrap_or(Percent::ZERO),
                        Percent::MIN_NONZERO
                    ),
                ));
            }
        }
        if has_jitter && !has_delay {
            return Err(FieldError::needs("jitter", "delay"));
        }
        if self.delay_correlation.is_some() && !has_jitter {
            return Err(FieldError::needs("delay_correlation", "jitter"));
        }
        if self.distribution.is_some() && !has_jitter {
            return Err(FieldError::needs("distribution", "jitter"));
        }
        let pairs = [
            (
                "loss_correlation",
                &self.loss_correlation,
                "loss",
                &self.loss,
            ),
            (
                "duplicate_correlation",
                &self.duplicate_correlation,
                "duplicate",
                &self.duplicate,
            ),
            (
                "corrupt_correlation",
                &self.corrupt_correlation,
                "corrupt",
                &self.corrupt,
            ),
            (
                "reorder_correlation",
                &self.reorder_correlation,
                "reorder",
                &self.reorder,
            ),
        ];
        for (field, corr, base, value) in pairs {
            if corr.is_some() && value.is_none_or(|p| p.value() == 0.0) {
                return Err(FieldError::needs(field, base));
            }
        }
        let has_reorder = self.reorder.is_some_and(|p| p.value() > 0.0);
        // The kernel can only send a packet "ahead" if the others are delayed.
        if has_reorder && !has_delay {
            return Err(FieldError::needs("reorder", "delay"));
        }
        if self.gap.is_some() && !has_reorder {
            return Err(FieldError::needs("gap", "reorder"));
        }
        if self.gap == Some(0) {
            return Err(FieldError::new("gap", "must be at least 1"));
        }
        if self.limit == Some(0) {
            return Err(FieldError::new("limit", "must be at least 1 packet"));
        }
        if self.ttl.is_some_and(|d| d.is_zero()) {
            return Err(FieldError::new(
                "ttl",
                "must be more than 0 (leave it out for no expiry)",
            ));
        }
        Ok(())
    }

    /// Parses a JSON request body, naming the field in any error, then validates it.
    ///
    /// Each field is checked on its own first so the error names the field (serde's own
    /// messages carry only a line and column).
    pub fn from_json(body: &[u8]) -> Result<NetemSpec, FieldError> {
        let value: serde_json::Value = serde_json::from_slice(body)
            .map_err(|e| FieldError::new("body", format!("not valid JSON: {e}")))?;
        let serde_json::Value::Object(map) = &value else {
            return Err(FieldError::new("body", "must be a JSON object"));
        };
        for (key, item) in map {
            let mut single = serde_json::Map::new();
            single.insert(key.clone(), item.clone());
            if let Err(e) = serde_json::from_value::<NetemSpec>(serde_json::Value::Object(single)) {
                let reason = e.to_string();
                let reason = if reason.starts_with("unknown field") {
                    "unknown field".to_string()
                } else {
                    reason
                };
                return Err(FieldError::new(key.clone(), reason));
            }
        }
        let spec: NetemSpec =
            serde_json::from_value(value).map_err(|e| FieldError::new("body", e.to_string()))?;
        spec.validate()?;
        Ok(spec)
    }
}

/// serde for `Option<Duration>` as a string like "20ms".
mod opt_duration {
    use super::*;

    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_str(&format_duration(*d)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Option<Duration>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration string like \"20ms\", \"1.5s\", \"250us\" or \"2m\"")
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                d.deserialize_any(self)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                parse_duration(v).map(Some).map_err(|e| E::custom(e.reason))
            }
            // A bare 0 is unambiguous; any other bare number lacks its unit.
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                if v == 0 {
                    Ok(Some(Duration::ZERO))
                } else {
                    Err(E::custom("a duration needs a unit, e.g. \"20ms\""))
                }
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                if v == 0 {
                    Ok(Some(Duration::ZERO))
                } else {
                    Err(E::custom("a duration needs a unit, e.g. \"20ms\""))
                }
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Err(E::custom("a duration needs a unit, e.g. \"20ms\""))
            }
        }
        d.deserialize_option(V)
    }
}

#[cfg(test)]
mod tests;
