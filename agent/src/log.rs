//! Log lines on stderr: `<RFC 3339 time> netem-agent: <message>`.
//!
//! What a client can cause is bounded: [`clip`] shortens anything echoed from a request,
//! and [`limited`] lines (refusals, connection errors) are rate-limited, so a flood of bad
//! requests or stalled connections cannot produce unbounded log volume.

use std::borrow::Cow;
use std::sync::{Mutex, PoisonError};

use crate::clock;

/// The most bytes of client input (a path, a method, an error echoing input) one log line
/// carries.
pub const MAX_ECHO: usize = 200;

/// Writes one log line.
pub fn line(args: std::fmt::Arguments<'_>) {
    eprintln!("{} netem-agent: {args}", clock::rfc3339_ms(clock::now_ms()));
}

/// Logs a formatted line: `log!("set netem on {iface}")`.
#[macro_export]
macro_rules! log {
    ($($arg:tt)*) => { $crate::log::line(format_args!($($arg)*)) };
}

/// `s` cut to at most `max` bytes (at a character boundary), saying how long it was.
pub fn clip(s: &str, max: usize) -> Cow<'_, str> {
    if s.len() <= max {
        return Cow::Borrowed(s);
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    Cow::Owned(format!("{}... ({} bytes)", &s[..end], s.len()))
}

/// Lets through at most `burst` lines per window; counts the rest.
#[derive(Debug)]
pub struct Limiter {
    window_ms: u64,
    burst: u32,
    window_start: u64,
    in_window: u32,
    suppressed: u64,
}

impl Limiter {
    /// At most `burst` lines per `window_ms`.
    pub const fn new(window_ms: u64, burst: u32) -> Limiter {
        Limiter {
            window_ms,
            burst,
            window_start: 0,
            in_window: 0,
            suppressed: 0,
        }
    }

    /// Whether a line may be written at `now_ms`: `Some(n)` with the number of lines left
    /// out since the last one written, `None` to leave this one out.
    pub fn allow(&mut self, now_ms: u64) -> Option<u64> {
        if now_ms.saturating_sub(self.window_start) >= self.window_ms {
            self.window_start = now_ms;
            self.in_window = 0;
        }
        if self.in_window >= self.burst {
            self.suppressed += 1;
            return None;
        }
        self.in_window += 1;
        Some(std::mem::take(&mut self.suppressed))
    }
}

/// The limiter of lines a client can cause: 20 per 10 s.
static CLIENT_CAUSED: Mutex<Limiter> = Mutex::new(Limiter::new(10_000, 20));

/// Writes a rate-limited line (see [`log_limited!`](crate::log_limited)).
pub fn limited(args: std::fmt::Arguments<'_>) {
    let allowed = CLIENT_CAUSED
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .allow(clock::now_ms());
    match allowed {
        Some(0) => line(args),
        Some(n) => line(format_args!("{args} ({n} similar lines not logged)")),
        None => {}
    }
}

/// Logs a line a client can cause (a refusal, a connection error), rate-limited.
#[macro_export]
macro_rules! log_limited {
    ($($arg:tt)*) => { $crate::log::limited(format_args!($($arg)*)) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clip_cuts_at_a_character_boundary() {
        assert_eq!(clip("short", 200), "short");
        let long = "é".repeat(150); // 300 bytes
        let clipped = clip(&long, 201);
        assert!(clipped.starts_with(&"é".repeat(100)), "{clipped}");
        assert!(clipped.ends_with("... (300 bytes)"), "{clipped}");
        assert!(clipped.len() < 220);
    }

    #[test]
    fn limiter_lets_a_burst_through_per_window_and_counts_the_rest() {
        let mut l = Limiter::new(10_000, 3);
        let t0 = 1_000_000;
        assert_eq!(l.allow(t0), Some(0));
        assert_eq!(l.allow(t0 + 1), Some(0));
        assert_eq!(l.allow(t0 + 2), Some(0));
        for i in 0..1000 {
            assert_eq!(l.allow(t0 + 3 + i), None);
        }
        // Next window: the first line says how many were left out.
        assert_eq!(l.allow(t0 + 10_000), Some(1000));
        assert_eq!(l.allow(t0 + 10_001), Some(0));
    }
}
