//! netem's TCA_OPTIONS payload, encoded and decoded without I/O.
//!
//! Layout (include/uapi/linux/pkt_sched.h, net/sched/sch_netem.c): `struct tc_netem_qopt`
//! (24 bytes) first, then netem's own attributes directly after it, *not* nested. The
//! kernel keeps the old value of any attribute left out of a change, so [`encode_options`]
//! always sends every one of them: setting is a full replace.

use std::time::Duration;

use crate::nla;
use netem_api::spec::{Distribution, NetemSpec, Percent, Rate};

pub mod dist;

/// `TCA_NETEM_CORR`: `struct tc_netem_corr` (delay, loss, duplicate correlation).
pub const TCA_NETEM_CORR: u16 = 1;
/// `TCA_NETEM_DELAY_DIST`: the jitter distribution table, `s16` values.
pub const TCA_NETEM_DELAY_DIST: u16 = 2;
/// `TCA_NETEM_REORDER`: `struct tc_netem_reorder` (probability, correlation).
pub const TCA_NETEM_REORDER: u16 = 3;
/// `TCA_NETEM_CORRUPT`: `struct tc_netem_corrupt` (probability, correlation).
pub const TCA_NETEM_CORRUPT: u16 = 4;
/// `TCA_NETEM_LOSS`: nested loss model (Gilbert-Elliott or 4-state); absent = random.
pub const TCA_NETEM_LOSS: u16 = 5;
/// `TCA_NETEM_RATE`: `struct tc_netem_rate` (u32 bytes/s and overheads).
pub const TCA_NETEM_RATE: u16 = 6;
/// `TCA_NETEM_ECN`: u32, mark instead of drop.
pub const TCA_NETEM_ECN: u16 = 7;
/// `TCA_NETEM_RATE64`: u64 bytes/s, for rates that do not fit the u32.
pub const TCA_NETEM_RATE64: u16 = 8;
/// `TCA_NETEM_PAD`: alignment padding in dumps.
pub const TCA_NETEM_PAD: u16 = 9;
/// `TCA_NETEM_LATENCY64`: s64 nanoseconds.
pub const TCA_NETEM_LATENCY64: u16 = 10;
/// `TCA_NETEM_JITTER64`: s64 nanoseconds.
pub const TCA_NETEM_JITTER64: u16 = 11;
/// `TCA_NETEM_SLOT`: `struct tc_netem_slot` (all zero = no slotting).
pub const TCA_NETEM_SLOT: u16 = 12;
/// `TCA_NETEM_SLOT_DIST`: slot distribution table.
pub const TCA_NETEM_SLOT_DIST: u16 = 13;
/// `TCA_NETEM_PRNG_SEED`: u64 seed (newer kernels).
pub const TCA_NETEM_PRNG_SEED: u16 = 14;

/// Size of `struct tc_netem_qopt`.
pub const QOPT_LEN: usize = 24;
/// Size of `struct tc_netem_slot`.
const SLOT_LEN: usize = 40;
/// psched ticks are 64 ns (PSCHED_SHIFT 6); the qopt's latency and jitter are in ticks.
const PSCHED_SHIFT: u32 = 6;

/// A percentage as the kernel's probability: 0 = never, u32::MAX = always. Rounded as
/// tc's `get_percent` does (`rint(fraction * UINT32_MAX)`).
pub fn percent_to_prob(p: Percent) -> u32 {
    (p.value() / 100.0 * f64::from(u32::MAX)).round_ties_even() as u32
}

/// The kernel's probability back as a percentage (as tc prints it, kept to six decimals).
pub fn prob_to_percent(prob: u32) -> Percent {
    let value = f64::from(prob) * 100.0 / f64::from(u32::MAX);
    // Within 0..=100 by construction, so `new` cannot refuse it.
    Percent::new(value.clamp(0.0, 100.0)).unwrap_or(Percent::ZERO)
}

fn prob(p: Option<Percent>) -> u32 {
    p.map_or(0, percent_to_prob)
}

fn nanos(d: Option<Duration>) -> i64 {
    d.map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

fn ticks(ns: i64) -> u32 {
    u32::try_from(ns.max(0) >> PSCHED_SHIFT).unwrap_or(u32::MAX)
}

fn words(values: &[u32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_ne_bytes()).collect()
}

/// The gap the kernel gets: as given, or 1 when reordering without one (as tc does).
fn effective_gap(spec: &NetemSpec) -> u32 {
    match spec.gap {
        Some(gap) => gap,
        None if prob(spec.reorder) > 0 => 1,
        None => 0,
    }
}

/// The distribution table sent with a jitter. Always sent when there is jitter, also for
/// uniform: the kernel would otherwise keep a table set earlier.
fn delay_table(spec: &NetemSpec) -> Option<Vec<i16>> {
    if nanos(spec.jitter) == 0 {
        return None;
    }
    Some(dist::table(
        spec.distribution.unwrap_or(Distribution::Uniform),
    ))
}

/// Encodes the full TCA_OPTIONS payload for `spec` (validated beforehand).
pub fn encode_options(spec: &NetemSpec) -> Vec<u8> {
    let latency = nanos(spec.delay);
    let jitter = nanos(spec.jitter);
    let mut buf = words(&[
        ticks(latency),
        spec.limit_or_default(),
        prob(spec.loss),
        effective_gap(spec),
        prob(spec.duplicate),
        ticks(jitter),
    ]);
    nla::push(&mut buf, TCA_NETEM_LATENCY64, &latency.to_ne_bytes());
    nla::push(&mut buf, TCA_NETEM_JITTER64, &jitter.to_ne_bytes());
    let corr = [
        prob(spec.delay_correlation),
        prob(spec.loss_correlation),
        prob(spec.duplicate_correlation),
    ];
    nla::push(&mut buf, TCA_NETEM_CORR, &words(&corr));
    let reorder = [prob(spec.reorder), prob(spec.reorder_correlation)];
    nla::push(&mut buf, TCA_NETEM_REORDER, &words(&reorder));
    let corrupt = [prob(spec.corrupt), prob(spec.corrupt_correlation)];
    nla::push(&mut buf, TCA_NETEM_CORRUPT, &words(&corrupt));
    let rate = spec.rate.map_or(0, Rate::bytes_per_sec);
    // struct tc_netem_rate: rate, packet_overhead, cell_size, cell_overhead.
    let rate32 = u32::try_from(rate).unwrap_or(u32::MAX);
    nla::push(&mut buf, TCA_NETEM_RATE, &words(&[rate32, 0, 0, 0]));
    if rate > u64::from(u32::MAX) {
        nla::push(&mut buf, TCA_NETEM_RATE64, &rate.to_ne_bytes());
    }
    nla::push(&mut buf, TCA_NETEM_ECN, &0u32.to_ne_bytes());
    // An all-zero slot turns slotting off (sch_netem.c get_slot).
    nla::push(&mut buf, TCA_NETEM_SLOT, &[0u8; SLOT_LEN]);
    if let Some(table) = delay_table(spec) {
        let bytes: Vec<u8> = table.iter().flat_map(|v| v.to_ne_bytes()).collect();
        nla::push(&mut buf, TCA_NETEM_DELAY_DIST, &bytes);
    }
    // TCA_NETEM_LOSS is left out on purpose: its absence resets the loss model to
    // random loss, which is what `loss` above means.
    buf
}

/// A netem TCA_OPTIONS payload that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Shorter than `struct tc_netem_qopt`.
    #[error("netem options too short ({0} bytes, want at least {QOPT_LEN})")]
    TooShort(usize),
    /// The attributes after the struct are malformed.
    #[error("netem attributes: {0}")]
    Attributes(#[from] nla::NlaError),
    /// An attribute is shorter than its struct.
    #[error("netem attribute {0} too short")]
    ShortAttribute(u16),
}

/// What a netem dump says: the settings this API can express, and the names of any
/// others that are on (set by someone with `tc`), which the settings cannot show.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Decoded {
    /// The settings (no `distribution`: the kernel does not report its table; no `ttl`).
    pub spec: NetemSpec,
    /// Other netem features that are on, e.g. "ecn", "slot", "loss model".
    pub other: Vec<&'static str>,
}

fn nonzero_duration(ns: i64) -> Option<Duration> {
    (ns > 0).then(|| Duration::from_nanos(ns as u64))
}

fn nonzero_percent(prob: u32) -> Option<Percent> {
    (prob != 0).then(|| prob_to_percent(prob))
}

fn slot_on(body: &[u8]) -> bool {
    [0, 8, 32]
        .iter()
        .any(|&at| nla::u64_at(body, at).is_some_and(|v| v != 0))
}

/// Reads a TCA_OPTIONS payload of a netem qdisc as the kernel dumps it.
///
/// Correlations are reported only with their base value (as tc prints them).
pub fn decode_options(payload: &[u8]) -> Result<Decoded, DecodeError> {
    if payload.len() < QOPT_LEN {
        return Err(DecodeError::TooShort(payload.len()));
    }
    let word = |at| nla::u32_at(payload, at).unwrap_or(0);
    let (latency_ticks, limit, loss, gap, duplicate, jitter_ticks) =
        (word(0), word(4), word(8), word(12), word(16), word(20));
    let mut latency = i64::from(latency_ticks) << PSCHED_SHIFT;
    let mut jitter = i64::from(jitter_ticks) << PSCHED_SHIFT;
    let (mut corr, mut reorder, mut corrupt) = ([0u32; 3], [0u32; 2], [0u32; 2]);
    let mut rate = 0u64;
    let mut other = Vec::new();
    let need = |kind, body: &[u8], len: usize| {
        if body.len() < len {
            Err(DecodeError::ShortAttribute(kind))
        } else {
            Ok(())
        }
    };
    let read_words = |body: &[u8], out: &mut [u32]| {
        for (i, slot) in out.iter_mut().enumerate() {
            *slot = nla::u32_at(body, i * 4).unwrap_or(0);
        }
    };
    for (kind, body) in nla::parse(&payload[QOPT_LEN..])? {
        match kind {
            TCA_NETEM_LATENCY64 => {
                need(kind, body, 8)?;
                latency = nla::u64_at(body, 0).unwrap_or(0) as i64;
            }
            TCA_NETEM_JITTER64 => {
                need(kind, body, 8)?;
                jitter = nla::u64_at(body, 0).unwrap_or(0) as i64;
            }
            TCA_NETEM_CORR => {
                need(kind, body, 12)?;
                read_words(body, &mut corr);
            }
            TCA_NETEM_REORDER => {
                need(kind, body, 8)?;
                read_words(body, &mut reorder);
            }
            TCA_NETEM_CORRUPT => {
                need(kind, body, 8)?;
                read_words(body, &mut corrupt);
            }
            TCA_NETEM_RATE => {
                need(kind, body, 16)?;
                let mut r = [0u32; 4];
                read_words(body, &mut r);
                rate = rate.max(u64::from(r[0]));
                if r[1..].iter().any(|&v| v != 0) {
                    other.push("rate overhead/cell size");
                }
            }
            TCA_NETEM_RATE64 => {
                need(kind, body, 8)?;
                rate = rate.max(nla::u64_at(body, 0).unwrap_or(0));
            }
            TCA_NETEM_ECN if nla::u32_at(body, 0).is_some_and(|v| v != 0) => other.push("ecn"),
            TCA_NETEM_LOSS => other.push("loss model"),
            // min_delay, max_delay and dist_jitter (the s64s at 0, 8 and 32) say whether
            // slotting is on, as in sch_netem.c.
            TCA_NETEM_SLOT if slot_on(body) => other.push("slot"),
            _ => {}
        }
    }
    let loss = nonzero_percent(loss);
    let duplicate = nonzero_percent(duplicate);
    let reorder_p = nonzero_percent(reorder[0]);
    let corrupt_p = nonzero_percent(corrupt[0]);
    let jitter_d = nonzero_duration(jitter);
    let spec = NetemSpec {
        delay: nonzero_duration(latency),
        jitter: jitter_d,
        delay_correlation: jitter_d.and(nonzero_percent(corr[0])),
        distribution: None,
        loss,
        loss_correlation: loss.and(nonzero_percent(corr[1])),
        duplicate,
        duplicate_correlation: duplicate.and(nonzero_percent(corr[2])),
        corrupt: corrupt_p,
        corrupt_correlation: corrupt_p.and(nonzero_percent(corrupt[1])),
        reorder: reorder_p,
        reorder_correlation: reorder_p.and(nonzero_percent(reorder[1])),
        gap: (gap != 0).then_some(gap),
        rate: Rate::from_bytes_per_sec(rate),
        limit: Some(limit),
        ttl: None,
    };
    Ok(Decoded { spec, other })
}

/// What the kernel will report for `spec` once set: `spec` through encode and decode
/// (no ttl or distribution, tc's gap default, `limit` filled in). Compare a dump with this
/// to tell whether the qdisc still holds what the agent set.
pub fn kernel_view(spec: &NetemSpec) -> NetemSpec {
    decode_options(&encode_options(spec))
        .map(|d| d.spec)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests;
