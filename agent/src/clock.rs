//! Wall-clock time as Unix milliseconds and RFC 3339, without a date library.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use netem_api::spec::format_duration;

/// Now, in milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Formats Unix milliseconds as RFC 3339 UTC with milliseconds: "2026-01-02T03:04:05.678Z".
pub fn rfc3339_ms(ms: u64) -> String {
    let secs = ms / 1000;
    let (days, sod) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        sod / 3600,
        sod / 60 % 60,
        sod % 60,
        ms % 1000
    )
}

/// Time left until `deadline_ms`, rounded up to whole seconds, formatted ("12s", "2m").
pub fn remaining(deadline_ms: u64, now_ms: u64) -> String {
    let left = deadline_ms.saturating_sub(now_ms);
    format_duration(Duration::from_secs(left.div_ceil(1000)))
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (H. Hinnant's
/// algorithm, for non-negative day counts).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(rfc3339_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339_ms(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(rfc3339_ms(1_767_323_045_678), "2026-01-02T03:04:05.678Z");
        assert_eq!(rfc3339_ms(4_102_444_799_999), "2099-12-31T23:59:59.999Z");
    }

    #[test]
    fn remaining_rounds_up() {
        assert_eq!(remaining(12_000, 0), "12s");
        assert_eq!(remaining(11_001, 0), "12s");
        assert_eq!(remaining(120_000, 0), "2m");
        assert_eq!(remaining(5, 10), "0s");
    }
}
