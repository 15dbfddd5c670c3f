//! Log lines on stderr: `<RFC 3339 time> netem-agent: <message>`.

use crate::clock;

/// Writes one log line.
pub fn line(args: std::fmt::Arguments<'_>) {
    eprintln!("{} netem-agent: {args}", clock::rfc3339_ms(clock::now_ms()));
}

/// Logs a formatted line: `log!("set netem on {iface}")`.
#[macro_export]
macro_rules! log {
    ($($arg:tt)*) => { $crate::log::line(format_args!($($arg)*)) };
}
