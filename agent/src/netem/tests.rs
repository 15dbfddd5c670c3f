use super::*;
use netem_api::spec::{parse_percent, parse_rate};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn pct(s: &str) -> Percent {
    parse_percent(s).unwrap()
}

/// Expected bytes written out by hand: little-endian words and attribute headers.
struct Bytes(Vec<u8>);

impl Bytes {
    fn u32s(mut self, words: &[u32]) -> Self {
        for w in words {
            self.0.extend_from_slice(&w.to_le_bytes());
        }
        self
    }
    fn header(self, len: u16, kind: u16) -> Self {
        self.u32s(&[u32::from(len) | (u32::from(kind) << 16)])
    }
    fn u64(mut self, v: u64) -> Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    fn zeros(mut self, n: usize) -> Self {
        self.0.resize(self.0.len() + n, 0);
        self
    }
}

/// Every attribute but the table, as encode_options writes them after the qopt.
#[cfg(target_endian = "little")]
#[test]
fn delay_and_loss_encode_byte_for_byte() {
    let spec = NetemSpec {
        delay: Some(ms(20)),
        loss: Some(pct("1%")),
        ..NetemSpec::default()
    };
    let expected = Bytes(Vec::new())
        // struct tc_netem_qopt: latency (64 ns ticks), limit, loss, gap, duplicate, jitter
        .u32s(&[312_500, 1000, 42_949_673, 0, 0, 0])
        .header(12, 10)
        .u64(20_000_000) // LATENCY64
        .header(12, 11)
        .u64(0) // JITTER64
        .header(16, 1)
        .u32s(&[0, 0, 0]) // CORR
        .header(12, 3)
        .u32s(&[0, 0]) // REORDER
        .header(12, 4)
        .u32s(&[0, 0]) // CORRUPT
        .header(20, 6)
        .u32s(&[0, 0, 0, 0]) // RATE
        .header(8, 7)
        .u32s(&[0]) // ECN
        .header(44, 12)
        .zeros(40); // SLOT
    assert_eq!(encode_options(&spec), expected.0);
}

#[cfg(target_endian = "little")]
#[test]
fn every_knob_lands_in_its_place() {
    let spec = NetemSpec {
        delay: Some(ms(30)),
        jitter: Some(ms(5)),
        delay_correlation: Some(pct("25%")),
        distribution: Some(Distribution::Normal),
        loss: Some(pct("100%")),
        loss_correlation: Some(pct("50%")),
        duplicate: Some(pct("0.5%")),
        duplicate_correlation: Some(pct("1%")),
        corrupt: Some(pct("0.1%")),
        corrupt_correlation: Some(pct("2%")),
        reorder: Some(pct("25%")),
        reorder_correlation: Some(pct("10%")),
        gap: Some(5),
        rate: Some(parse_rate("1mbit").unwrap()),
        limit: Some(500),
        ttl: Some(Duration::from_secs(60)),
    };
    let got = encode_options(&spec);
    let table: Vec<u8> = dist::table(Distribution::Normal)
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let expected = Bytes(Vec::new())
        .u32s(&[468_750, 500, u32::MAX, 5, 21_474_836, 78_125])
        .header(12, 10)
        .u64(30_000_000)
        .header(12, 11)
        .u64(5_000_000)
        .header(16, 1)
        .u32s(&[1_073_741_824, 2_147_483_648, 42_949_673])
        .header(12, 3)
        .u32s(&[1_073_741_824, 429_496_730])
        .header(12, 4)
        .u32s(&[4_294_967, 85_899_346])
        .header(20, 6)
        .u32s(&[125_000, 0, 0, 0])
        .header(8, 7)
        .u32s(&[0])
        .header(44, 12)
        .zeros(40)
        .header(4 + 8192, 2);
    let mut expected = expected.0;
    expected.extend_from_slice(&table);
    assert_eq!(got.len(), expected.len());
    assert_eq!(got, expected);
}

#[cfg(target_endian = "little")]
#[test]
fn fast_rates_add_rate64() {
    let spec = NetemSpec {
        rate: Some(parse_rate("100gbit").unwrap()),
        ..NetemSpec::default()
    };
    let got = encode_options(&spec);
    let rate_at = QOPT_LEN + 12 + 12 + 16 + 12 + 12;
    let expected = Bytes(Vec::new())
        .header(20, 6)
        .u32s(&[u32::MAX, 0, 0, 0])
        .header(12, 8)
        .u64(12_500_000_000);
    assert_eq!(&got[rate_at..rate_at + 32], &expected.0[..]);
    assert_eq!(decode_options(&got).unwrap().spec.rate, spec.rate);
}

#[test]
fn reorder_without_gap_gets_tc_default_gap() {
    let spec = NetemSpec {
        delay: Some(ms(10)),
        reorder: Some(pct("25%")),
        ..NetemSpec::default()
    };
    let bytes = encode_options(&spec);
    assert_eq!(nla::u32_at(&bytes, 12), Some(1));
    assert_eq!(kernel_view(&spec).gap, Some(1));
}

#[test]
fn jitter_always_sends_a_table_even_uniform() {
    let with = |distribution| NetemSpec {
        delay: Some(ms(10)),
        jitter: Some(ms(2)),
        distribution,
        ..NetemSpec::default()
    };
    for distribution in [
        None,
        Some(Distribution::Uniform),
        Some(Distribution::Pareto),
    ] {
        let bytes = encode_options(&with(distribution));
        let attrs = nla::parse(&bytes[QOPT_LEN..]).unwrap();
        let table = attrs.iter().find(|(k, _)| *k == TCA_NETEM_DELAY_DIST);
        assert_eq!(
            table.map(|(_, b)| b.len()),
            Some(2 * dist::ENTRIES),
            "{distribution:?}"
        );
    }
    let none = encode_options(&NetemSpec::delay(ms(10)));
    assert!(
        nla::parse(&none[QOPT_LEN..])
            .unwrap()
            .iter()
            .all(|(k, _)| *k != TCA_NETEM_DELAY_DIST)
    );
}

#[test]
fn percent_conversion_rounds_as_tc() {
    assert_eq!(percent_to_prob(pct("0")), 0);
    assert_eq!(percent_to_prob(pct("100")), u32::MAX);
    assert_eq!(percent_to_prob(pct("50")), 2_147_483_648);
    assert_eq!(percent_to_prob(pct("1")), 42_949_673);
    for text in [
        "0.5%",
        "1%",
        "25%",
        "33.333333%",
        "0.000001%",
        "99.999999%",
        "100%",
    ] {
        let p = pct(text);
        assert_eq!(prob_to_percent(percent_to_prob(p)), p, "{text}");
    }
}

#[test]
fn decode_reads_back_what_encode_wrote() {
    let spec = NetemSpec::from_json(
        br#"{"delay":"30ms","jitter":"5ms","delay_correlation":"25%","distribution":"normal",
            "loss":"1%","loss_correlation":"10%","duplicate":"2%","duplicate_correlation":"3%",
            "corrupt":"0.1%","corrupt_correlation":"4%","reorder":"25%","reorder_correlation":"5%",
            "gap":3,"rate":"1500kbit","limit":777,"ttl":"1m"}"#,
    )
    .unwrap();
    let decoded = decode_options(&encode_options(&spec)).unwrap();
    assert_eq!(decoded.other, Vec::<&str>::new());
    let expected = NetemSpec {
        distribution: None,
        ttl: None,
        ..spec
    };
    assert_eq!(decoded.spec, expected);
}

#[test]
fn decode_fills_limit_and_drops_lone_correlations() {
    // A qopt with only a limit, and correlations without their base values (as the
    // kernel keeps them after a change): not reported, as tc does not print them.
    let mut bytes = Vec::new();
    for w in [0u32, 1000, 0, 0, 0, 0] {
        bytes.extend_from_slice(&w.to_ne_bytes());
    }
    let corr: Vec<u8> = [7u32, 7, 7].iter().flat_map(|w| w.to_ne_bytes()).collect();
    nla::push(&mut bytes, TCA_NETEM_CORR, &corr);
    let decoded = decode_options(&bytes).unwrap();
    assert_eq!(
        decoded.spec,
        NetemSpec {
            limit: Some(1000),
            ..NetemSpec::default()
        }
    );
}

#[test]
fn decode_prefers_64bit_latency_and_uses_ticks_without_it() {
    let mut bytes = Vec::new();
    for w in [312_500u32, 1000, 0, 0, 0, 15_625] {
        bytes.extend_from_slice(&w.to_ne_bytes());
    }
    let old = decode_options(&bytes).unwrap().spec;
    assert_eq!(old.delay, Some(ms(20)));
    assert_eq!(old.jitter, Some(ms(1)));
    nla::push(
        &mut bytes,
        TCA_NETEM_LATENCY64,
        &20_000_123i64.to_ne_bytes(),
    );
    let new = decode_options(&bytes).unwrap().spec;
    assert_eq!(new.delay, Some(Duration::from_nanos(20_000_123)));
}

#[test]
fn decode_names_settings_it_cannot_express() {
    let mut bytes = encode_options(&NetemSpec::delay(ms(1)));
    nla::push(&mut bytes, TCA_NETEM_ECN, &1u32.to_ne_bytes());
    nla::push(&mut bytes, TCA_NETEM_LOSS, &[4, 0, 2, 0]);
    let mut slot = [0u8; 40];
    slot[..8].copy_from_slice(&1_000_000i64.to_ne_bytes());
    nla::push(&mut bytes, TCA_NETEM_SLOT, &slot);
    let decoded = decode_options(&bytes).unwrap();
    assert_eq!(decoded.other, vec!["ecn", "loss model", "slot"]);
}

#[test]
fn decode_refuses_malformed_payloads() {
    assert_eq!(decode_options(&[0; 10]), Err(DecodeError::TooShort(10)));
    let mut bytes = vec![0u8; QOPT_LEN];
    nla::push(&mut bytes, TCA_NETEM_LATENCY64, &[1, 2, 3, 4]);
    assert_eq!(
        decode_options(&bytes),
        Err(DecodeError::ShortAttribute(TCA_NETEM_LATENCY64))
    );
    let mut bytes = vec![0u8; QOPT_LEN];
    bytes.extend_from_slice(&[200, 0, 10, 0]);
    assert!(matches!(
        decode_options(&bytes),
        Err(DecodeError::Attributes(_))
    ));
}
