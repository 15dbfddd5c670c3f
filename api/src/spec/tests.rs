use super::*;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn durations_parse_in_all_units() {
    assert_eq!(parse_duration("20ms").unwrap(), ms(20));
    assert_eq!(parse_duration("1.5s").unwrap(), ms(1500));
    assert_eq!(parse_duration("250us").unwrap(), Duration::from_micros(250));
    assert_eq!(parse_duration("250µs").unwrap(), Duration::from_micros(250));
    assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
    assert_eq!(parse_duration("1h").unwrap(), Duration::from_secs(3600));
    assert_eq!(parse_duration("7ns").unwrap(), Duration::from_nanos(7));
    assert_eq!(parse_duration("0").unwrap(), Duration::ZERO);
    assert_eq!(parse_duration("0ms").unwrap(), Duration::ZERO);
    assert_eq!(parse_duration(".5ms").unwrap(), Duration::from_micros(500));
    assert_eq!(
        parse_duration(" 1.1s ").unwrap(),
        Duration::from_nanos(1_100_000_000)
    );
}

#[test]
fn durations_refuse_bad_input() {
    for bad in [
        "",
        "ms",
        "20",
        "20 parsecs",
        "-5ms",
        "1.2.3s",
        "abc",
        "1e3ms",
        "99999999999999h",
    ] {
        let e = parse_duration(bad).unwrap_err();
        assert_eq!(e.what, "duration", "{bad}");
        assert!(!e.reason.is_empty());
    }
    assert!(
        parse_duration("20")
            .unwrap_err()
            .reason
            .contains("missing unit")
    );
    assert!(
        parse_duration("20x")
            .unwrap_err()
            .reason
            .contains("unknown unit")
    );
}

#[test]
fn durations_format_canonically() {
    assert_eq!(format_duration(ms(20)), "20ms");
    assert_eq!(format_duration(ms(1500)), "1.5s");
    assert_eq!(format_duration(Duration::from_micros(250)), "250us");
    assert_eq!(format_duration(Duration::from_secs(120)), "2m");
    assert_eq!(format_duration(Duration::from_secs(90)), "90s");
    assert_eq!(format_duration(Duration::from_secs(7200)), "2h");
    assert_eq!(format_duration(Duration::from_micros(1500)), "1.5ms");
    assert_eq!(
        format_duration(Duration::from_nanos(20_000_001)),
        "20.000001ms"
    );
    assert_eq!(format_duration(Duration::from_nanos(12)), "12ns");
    assert_eq!(format_duration(Duration::ZERO), "0s");
    for text in ["20ms", "1.5s", "250us", "2m", "90s", "1.000000001s", "3ns"] {
        assert_eq!(format_duration(parse_duration(text).unwrap()), text);
    }
}

#[test]
fn percents_parse_with_or_without_sign() {
    assert_eq!(parse_percent("0.5").unwrap().value(), 0.5);
    assert_eq!(parse_percent("0.5%").unwrap().value(), 0.5);
    assert_eq!(parse_percent("100%").unwrap().value(), 100.0);
    assert_eq!(parse_percent("0").unwrap().value(), 0.0);
    assert_eq!(parse_percent("25 %").unwrap().value(), 25.0);
    assert_eq!(parse_percent("0.5%").unwrap().to_string(), "0.5%");
    assert_eq!(parse_percent("25").unwrap().to_string(), "25%");
    for bad in ["", "%", "101", "100.5%", "-1", "abc", "5%%", "1e2"] {
        assert_eq!(parse_percent(bad).unwrap_err().what, "percentage", "{bad}");
    }
    assert!(Percent::new(100.000001).is_err());
    assert!(Percent::new(f64::NAN).is_err());
    assert_eq!(Percent::new(33.3333333).unwrap().value(), 33.333333);
    assert_eq!(Percent::new(-0.0).unwrap().to_string(), "0%");
}

#[test]
fn rates_parse_as_tc_spells_them() {
    assert_eq!(parse_rate("1mbit").unwrap().bytes_per_sec(), 125_000);
    assert_eq!(parse_rate("100kbit").unwrap().bytes_per_sec(), 12_500);
    // tc matches units ignoring case, so "mbps" is megabytes per second.
    assert_eq!(parse_rate("10mbps").unwrap().bytes_per_sec(), 10_000_000);
    assert_eq!(parse_rate("10MBps").unwrap().bytes_per_sec(), 10_000_000);
    assert_eq!(parse_rate("1.5gbit").unwrap().bytes_per_sec(), 187_500_000);
    assert_eq!(parse_rate("1kibit").unwrap().bytes_per_sec(), 128);
    assert_eq!(parse_rate("64bit").unwrap().bytes_per_sec(), 8);
    assert_eq!(
        parse_rate("100tbit").unwrap().bytes_per_sec(),
        12_500_000_000_000
    );
    for bad in ["", "1", "mbit", "1 furlong", "4bit", "-1mbit"] {
        assert_eq!(parse_rate(bad).unwrap_err().what, "rate", "{bad}");
    }
    assert!(parse_rate("4bit").unwrap_err().reason.contains("at least"));
}

#[test]
fn rates_format_in_bits() {
    assert_eq!(parse_rate("1mbit").unwrap().to_string(), "1mbit");
    assert_eq!(parse_rate("100kbit").unwrap().to_string(), "100kbit");
    assert_eq!(parse_rate("10mbps").unwrap().to_string(), "80mbit");
    assert_eq!(parse_rate("1.5mbit").unwrap().to_string(), "1500kbit");
    assert_eq!(parse_rate("1kibit").unwrap().to_string(), "1024bit");
    assert_eq!(parse_rate("2gbit").unwrap().to_string(), "2gbit");
}

#[test]
fn spec_json_round_trip_is_canonical() {
    let body = br#"{"delay":"20ms","jitter":"5ms","delay_correlation":25,
        "distribution":"normal","loss":"1%","loss_correlation":"0.5",
        "duplicate":0.1,"corrupt":"0.01%","reorder":"25%","reorder_correlation":"50%",
        "gap":5,"rate":"1mbit","limit":500,"ttl":"2m"}"#;
    let spec = NetemSpec::from_json(body).unwrap();
    assert_eq!(spec.delay, Some(ms(20)));
    assert_eq!(spec.jitter, Some(ms(5)));
    assert_eq!(spec.distribution, Some(Distribution::Normal));
    assert_eq!(spec.gap, Some(5));
    assert_eq!(spec.ttl, Some(Duration::from_secs(120)));
    let json = serde_json::to_value(&spec).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"delay":"20ms","jitter":"5ms","delay_correlation":"25%",
            "distribution":"normal","loss":"1%","loss_correlation":"0.5%",
            "duplicate":"0.1%","corrupt":"0.01%","reorder":"25%","reorder_correlation":"50%",
            "gap":5,"rate":"1mbit","limit":500,"ttl":"2m"})
    );
    let back: NetemSpec = serde_json::from_value(json).unwrap();
    assert_eq!(back, spec);
}

#[test]
fn empty_spec_is_no_impairment() {
    let spec = NetemSpec::from_json(b"{}").unwrap();
    assert_eq!(spec, NetemSpec::default());
    assert!(spec.is_noop());
    assert_eq!(spec.limit_or_default(), 1000);
    assert_eq!(serde_json::to_string(&spec).unwrap(), "{}");
    assert!(NetemSpec::delay(Duration::ZERO).is_noop());
    assert!(!NetemSpec::delay(ms(1)).is_noop());
    let only_loss = NetemSpec {
        loss: Some(Percent::new(1.0).unwrap()),
        ..NetemSpec::default()
    };
    assert!(!only_loss.is_noop());
}

fn field_of(body: &str) -> (String, String) {
    let e = NetemSpec::from_json(body.as_bytes()).unwrap_err();
    (e.field, e.reason)
}

#[test]
fn bad_bodies_name_the_field() {
    assert_eq!(field_of(r#"{"delay":"abc"}"#).0, "delay");
    assert_eq!(field_of(r#"{"delay":"20"}"#).0, "delay");
    assert!(field_of(r#"{"delay":"20"}"#).1.contains("missing unit"));
    assert_eq!(field_of(r#"{"delay":20}"#).0, "delay");
    assert_eq!(
        field_of(r#"{"loss":"150%"}"#),
        ("loss".into(), "must be between 0 and 100".into())
    );
    assert_eq!(field_of(r#"{"rate":"fast"}"#).0, "rate");
    assert_eq!(field_of(r#"{"rate":5}"#).0, "rate");
    assert_eq!(
        field_of(r#"{"distribution":"cauchy","delay":"1ms","jitter":"1ms"}"#).0,
        "distribution"
    );
    assert_eq!(field_of(r#"{"gap":-1}"#).0, "gap");
    assert_eq!(field_of(r#"{"limit":"lots"}"#).0, "limit");
    assert_eq!(
        field_of(r#"{"latency":"20ms"}"#),
        ("latency".into(), "unknown field".into())
    );
    assert_eq!(field_of(r#"[1]"#).0, "body");
    assert_eq!(field_of(r#"{"delay":"#).0, "body");
}

#[test]
fn validation_follows_tc_rules() {
    let cases = [
        (r#"{"jitter":"5ms"}"#, "jitter"),
        (r#"{"delay":"0ms","jitter":"5ms"}"#, "jitter"),
        (
            r#"{"delay":"10ms","delay_correlation":"25%"}"#,
            "delay_correlation",
        ),
        (
            r#"{"delay":"10ms","distribution":"normal"}"#,
            "distribution",
        ),
        (r#"{"loss_correlation":"25%"}"#, "loss_correlation"),
        (r#"{"loss":0,"loss_correlation":"25%"}"#, "loss_correlation"),
        (
            r#"{"duplicate_correlation":"25%"}"#,
            "duplicate_correlation",
        ),
        (r#"{"corrupt_correlation":"25%"}"#, "corrupt_correlation"),
        (
            r#"{"delay":"10ms","reorder_correlation":"25%"}"#,
            "reorder_correlation",
        ),
        (r#"{"reorder":"25%"}"#, "reorder"),
        (r#"{"delay":"10ms","gap":5}"#, "gap"),
        (r#"{"delay":"10ms","reorder":"25%","gap":0}"#, "gap"),
        (r#"{"limit":0}"#, "limit"),
        (r#"{"delay":"20ms","ttl":"0s"}"#, "ttl"),
        (r#"{"delay":"2h"}"#, "delay"),
        (r#"{"delay":"10ms","jitter":"2h"}"#, "jitter"),
    ];
    for (body, field) in cases {
        assert_eq!(field_of(body).0, field, "{body}");
    }
    for ok in [
        r#"{"delay":"10ms","jitter":"1ms","delay_correlation":"5%","distribution":"pareto"}"#,
        r#"{"delay":"10ms","reorder":"25%","gap":3}"#,
        r#"{"loss":"100%"}"#,
        r#"{"rate":"1mbit","limit":10}"#,
        r#"{"delay":"1h","ttl":"30s"}"#,
    ] {
        NetemSpec::from_json(ok.as_bytes()).unwrap();
    }
}

#[test]
fn values_netem_cannot_hold_are_refused_not_rounded_to_zero() {
    // Percentages: below six decimals a non-zero value would be 0, so validation refuses it
    // naming the field and the smallest value.
    for body in [
        r#"{"loss":"0.0000000001%"}"#,
        r#"{"loss":1e-10}"#,
        r#"{"loss":"0.0000004"}"#,
    ] {
        let (field, reason) = field_of(body);
        assert_eq!(field, "loss", "{body}");
        assert!(
            reason.contains("smallest non-zero value is 0.000001%"),
            "{reason}"
        );
    }
    let (field, _) =
        field_of(r#"{"delay":"10ms","reorder":"5%","reorder_correlation":"0.0000001"}"#);
    assert_eq!(field, "reorder_correlation");
    // The smallest value itself, and what rounds up to it, are fine; an exact 0 is none.
    for ok in ["0.000001%", "0.0000006", "0", "0.000%"] {
        let spec = NetemSpec::from_json(format!(r#"{{"loss":"{ok}"}}"#).as_bytes()).unwrap();
        spec.validate().unwrap();
    }
    assert!(
        parse_percent("0.0000000001%")
            .unwrap()
            .is_below_resolution()
    );
    assert!(!parse_percent("0").unwrap().is_below_resolution());
    assert!(Percent::new(1e-300).unwrap().is_below_resolution());
    // Durations: below 1ns is refused when parsed, also on the one-call path.
    let e = parse_duration("0.4ns").unwrap_err();
    assert!(
        e.reason.contains("smallest non-zero duration is 1ns"),
        "{e}"
    );
    assert_eq!(
        parse_duration("0.000000001ms").unwrap_err().what,
        "duration"
    );
    assert_eq!(parse_duration("0.6ns").unwrap(), Duration::from_nanos(1));
    assert_eq!(parse_duration("0.000ms").unwrap(), Duration::ZERO);
    let (field, reason) = field_of(r#"{"delay":"0.1ns"}"#);
    assert_eq!(field, "delay");
    assert!(reason.contains("1ns"), "{reason}");
    // Rates: below 1 byte per second.
    let (field, reason) = field_of(r#"{"rate":"0.5bit"}"#);
    assert_eq!(field, "rate");
    assert!(reason.contains("at least 8bit"), "{reason}");
}

#[test]
fn long_fractions_do_not_overflow() {
    let digits = "0".repeat(40);
    assert_eq!(
        parse_rate(&format!("1.{digits}1tbps"))
            .unwrap()
            .bytes_per_sec(),
        1_000_000_000_000
    );
    assert_eq!(
        parse_duration(&format!("1.{digits}9h")).unwrap(),
        Duration::from_secs(3600)
    );
}
