//! Property tests: no input makes netem-api's parsers, its JSON decoding or validation
//! panic. Each property runs a fixed number of generated cases (a few seconds in all).

use netem_api::spec::{NetemSpec, Percent, parse_duration, parse_percent, parse_rate};
use netem_api::wire::{ApiError, NetemState};
use proptest::prelude::*;

/// Text close to what the parsers read: digits, dots, signs, units, spaces and percent
/// signs, with some arbitrary characters mixed in.
fn value_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9.%+\\- ]{0,12}(ns|us|µs|ms|s|m|min|h|bit|kbit|mbit|gbit|tbit|bps|kbps|tbps|kibit|%|)",
        "[0-9]{0,45}\\.[0-9]{0,45}[a-zµ%]{0,5}",
        any::<String>(),
    ]
}

/// A JSON value for one field: strings from [`value_text`], numbers of every kind, and
/// other JSON types.
fn field_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::{Value, json};
    prop_oneof![
        value_text().prop_map(Value::String),
        any::<f64>().prop_map(|f| json!(f)),
        any::<i64>().prop_map(|i| json!(i)),
        any::<u64>().prop_map(|u| json!(u)),
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        Just(json!([1, "a"])),
        Just(json!({"delay": "1ms"})),
    ]
}

const FIELDS: &[&str] = &[
    "delay",
    "jitter",
    "delay_correlation",
    "distribution",
    "loss",
    "loss_correlation",
    "duplicate",
    "duplicate_correlation",
    "corrupt",
    "corrupt_correlation",
    "reorder",
    "reorder_correlation",
    "gap",
    "rate",
    "limit",
    "ttl",
    "bogus",
];

fn spec_body() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec((prop::sample::select(FIELDS), field_value()), 0..8).prop_map(|fields| {
        let map: serde_json::Map<String, serde_json::Value> = fields
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        serde_json::to_vec(&map).unwrap_or_default()
    })
}

proptest! {
    // A fixed budget, no regression files written into the source tree.
    #![proptest_config(ProptestConfig {
        cases: 2000,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn value_parsers_never_panic(text in value_text()) {
        if let Ok(d) = parse_duration(&text) {
            // A parsed non-zero duration is at least 1ns; formatting it never panics.
            let _ = netem_api::spec::format_duration(d);
        }
        if let Ok(p) = parse_percent(&text) {
            prop_assert!((0.0..=100.0).contains(&p.value()));
            let _ = p.to_string();
        }
        if let Ok(r) = parse_rate(&text) {
            prop_assert!(r.bytes_per_sec() >= 1);
            let _ = r.to_string();
        }
    }

    #[test]
    fn percent_from_any_number_never_panics(value in any::<f64>()) {
        if let Ok(p) = Percent::new(value) {
            prop_assert!((0.0..=100.0).contains(&p.value()));
            prop_assert_eq!(p.value() == 0.0, value == 0.0);
            prop_assert!(parse_percent(&p.to_string()).is_ok(), "{} does not parse back", p);
        }
    }

    #[test]
    fn spec_json_never_panics(body in spec_body()) {
        if let Ok(spec) = NetemSpec::from_json(&body) {
            // What is accepted validates, serializes and parses back to itself.
            prop_assert!(spec.validate().is_ok());
            let json = serde_json::to_vec(&spec).unwrap();
            prop_assert_eq!(NetemSpec::from_json(&json), Ok(spec));
        }
    }

    #[test]
    fn arbitrary_bytes_as_json_never_panic(body in prop::collection::vec(any::<u8>(), 0..256)) {
        if let Err(e) = NetemSpec::from_json(&body) {
            let _ = ApiError::from(e);
        }
        let _ = serde_json::from_slice::<NetemState>(&body);
    }
}
