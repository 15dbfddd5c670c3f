//! Jitter distribution tables, computed as iproute2's generators compute them
//! (netem/normal.c, pareto.c, paretonormal.c, which make the `*.dist` files tc loads).
//!
//! A table is an inverse cumulative distribution scaled by `NETEM_DIST_SCALE`: the kernel
//! picks a random entry `t` and delays by `delay + jitter * t / NETEM_DIST_SCALE`.
//! Computing them (once, lazily) avoids carrying iproute2's data files.

use std::sync::OnceLock;

use netem_api::spec::Distribution;

/// `NETEM_DIST_SCALE`: table values are multiples of jitter in units of 1/8192.
pub const NETEM_DIST_SCALE: i32 = 8192;
/// The generators' resolution of the cumulative distribution.
const TABLESIZE: usize = 16384;
/// Entries per table (every 4th point of TABLESIZE, as the generators print them).
pub const ENTRIES: usize = TABLESIZE / 4;

/// The table for a distribution (4096 entries).
pub fn table(dist: Distribution) -> Vec<i16> {
    static NORMAL: OnceLock<Vec<i16>> = OnceLock::new();
    static PARETO: OnceLock<Vec<i16>> = OnceLock::new();
    static PARETONORMAL: OnceLock<Vec<i16>> = OnceLock::new();
    match dist {
        Distribution::Normal => NORMAL.get_or_init(normal).clone(),
        Distribution::Pareto => PARETO.get_or_init(pareto).clone(),
        Distribution::Paretonormal => PARETONORMAL.get_or_init(paretonormal).clone(),
        Distribution::Uniform => uniform(),
    }
}

/// C's `rint` in the default rounding mode: to nearest, ties to even.
fn rint(x: f64) -> f64 {
    x.round_ties_even()
}

fn clamp_i16(v: i32) -> i16 {
    v.clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16
}

fn normal_cdf(x: f64) -> f64 {
    0.5 + 0.5 * libm::erf(x / 2f64.sqrt())
}

/// normal.c's inverse CDF at TABLESIZE points: walk x in steps of 0.00005 (accumulating
/// the step exactly as the C loop does) and keep, per CDF index, the last x that maps to it.
fn inverse_normal() -> Vec<f64> {
    let mut table = vec![f64::NAN; TABLESIZE + 1];
    let mut x = -10.0f64;
    while x < 10.05 {
        let i = rint(TABLESIZE as f64 * normal_cdf(x)) as usize;
        table[i] = x;
        x += 0.00005;
    }
    table
}

/// normal.c: every 4th point of the inverse CDF, scaled.
fn normal() -> Vec<i16> {
    let inverse = inverse_normal();
    (0..TABLESIZE)
        .step_by(4)
        .map(|i| clamp_i16(rint(inverse[i] * f64::from(NETEM_DIST_SCALE)) as i32))
        .collect()
}

/// pareto.c's value for `i` in 1..=65536 (a = 3, shifted by its mean 1.5).
fn pareto_value(i: u32) -> i32 {
    const A: f64 = 3.0;
    let mut v = f64::from(i) / 65536.0;
    v = 1.0 / v.powf(1.0 / A);
    v -= 1.5;
    v *= (4.0 / 3.0) * f64::from(NETEM_DIST_SCALE);
    if v > 32767.0 {
        v = 32767.0;
    }
    rint(v) as i32
}

/// pareto.c: i from 65536 down to 16 in steps of 16.
fn pareto() -> Vec<i16> {
    (1..=65536u32 / 16)
        .rev()
        .map(|k| clamp_i16(pareto_value(k * 16)))
        .collect()
}

/// paretonormal.c: a quarter normal, three quarters pareto (integer arithmetic as in C).
fn paretonormal() -> Vec<i16> {
    let inverse = inverse_normal();
    (0..TABLESIZE)
        .step_by(4)
        .map(|i| {
            let norm = rint(inverse[i] * f64::from(NETEM_DIST_SCALE)) as i32;
            let par = pareto_value(65536 - 4 * i as u32);
            clamp_i16((norm + 3 * par) / 4)
        })
        .collect()
}

/// Uniform over (-1, 1) jitter: the kernel's own default without a table, sent as a table
/// so a replace also removes a table set earlier (there is no "no table" attribute).
fn uniform() -> Vec<i16> {
    let step = 2 * NETEM_DIST_SCALE / ENTRIES as i32;
    (0..ENTRIES as i32)
        .map(|i| clamp_i16(-NETEM_DIST_SCALE + step * i + step / 2))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// iproute2 installs the generated tables here (Debian); compare when present.
    const TC_LIB: &str = "/usr/lib/x86_64-linux-gnu/tc";

    fn read_dist(name: &str) -> Option<Vec<i16>> {
        let text = std::fs::read_to_string(format!("{TC_LIB}/{name}.dist")).ok()?;
        Some(
            text.lines()
                .filter(|l| !l.starts_with('#'))
                .flat_map(|l| l.split_whitespace())
                .map(|w| w.parse().expect("number in .dist file"))
                .collect(),
        )
    }

    /// FNV-1a over the values, to pin the whole table without copying it.
    fn fingerprint(table: &[i16]) -> u64 {
        table
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .fold(0xcbf29ce484222325, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x100000001b3)
            })
    }

    #[test]
    fn every_cdf_point_is_reached() {
        let inverse = inverse_normal();
        assert!(
            inverse[..TABLESIZE]
                .iter()
                .step_by(4)
                .all(|x| x.is_finite())
        );
    }

    #[test]
    fn tables_have_iproute2_shape() {
        for dist in [
            Distribution::Normal,
            Distribution::Pareto,
            Distribution::Paretonormal,
        ] {
            let t = table(dist);
            assert_eq!(t.len(), ENTRIES, "{dist}");
            assert!(
                t.windows(2).all(|w| w[0] <= w[1]),
                "{dist} is an inverse CDF"
            );
        }
        let normal = table(Distribution::Normal);
        // Values as in iproute2's normal.dist: clamped tail, symmetric middle.
        assert_eq!(&normal[..4], &[-32768, -28307, -26871, -25967]);
        assert_eq!(normal[ENTRIES / 2], 0);
        let pareto = table(Distribution::Pareto);
        assert_eq!(&pareto[..4], &[-5461, -5460, -5460, -5459]);
        assert_eq!(*pareto.last().unwrap(), 32767);
        let pn = table(Distribution::Paretonormal);
        assert_eq!(&pn[..4], &[-12305, -11171, -10812, -10586]);
    }

    #[test]
    fn tables_match_pinned_fingerprints() {
        // Fingerprints of iproute2 6.1's normal.dist, pareto.dist and paretonormal.dist
        // (checked against the files by `tables_match_installed_iproute2_files`).
        let got = [
            fingerprint(&table(Distribution::Normal)),
            fingerprint(&table(Distribution::Pareto)),
            fingerprint(&table(Distribution::Paretonormal)),
        ];
        assert_eq!(got, PINNED);
    }

    const PINNED: [u64; 3] = [
        0x3f19_8b60_14c3_b3b8,
        0x209e_1d3c_8618_19fa,
        0x468c_e9c9_62a5_ecf9,
    ];

    #[test]
    fn tables_match_installed_iproute2_files() {
        for (dist, name) in [
            (Distribution::Normal, "normal"),
            (Distribution::Pareto, "pareto"),
            (Distribution::Paretonormal, "paretonormal"),
        ] {
            let Some(file) = read_dist(name) else {
                eprintln!("skipping {name}: no {TC_LIB}/{name}.dist (iproute2 not installed)");
                continue;
            };
            let ours = table(dist);
            let diff: Vec<_> = (0..ours.len()).filter(|&i| ours[i] != file[i]).collect();
            assert!(
                diff.is_empty(),
                "{name}: {} entries differ, first at {:?}",
                diff.len(),
                diff.first()
            );
            assert_eq!(ours.len(), file.len(), "{name}");
            eprintln!("{name}: fingerprint {:#x}", fingerprint(&file));
        }
    }

    #[test]
    fn uniform_spans_minus_to_plus_scale() {
        let u = table(Distribution::Uniform);
        assert_eq!(u.len(), ENTRIES);
        assert_eq!(u[0], -8190);
        assert_eq!(*u.last().unwrap(), 8190);
        assert_eq!(u.iter().map(|&v| i64::from(v)).sum::<i64>(), 0);
        assert!(u.windows(2).all(|w| w[1] - w[0] == 4));
    }
}
