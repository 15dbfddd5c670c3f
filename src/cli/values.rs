//! The value parsers of the command line: every duration, target, image and enum is turned
//! into its typed value here, once, while clap parses, so commands never re-parse a string
//! and a bad value fails before anything is contacted.
//!
//! One duration grammar for every flag: netem-api's `parse_duration` (`250us`, `20ms`,
//! `1.5s`, `10m`, `10min`, `2h`), exact decimals, no floating point. Bounds keep absurd but
//! well-formed values from reaching timers (an error, never an abort).

use std::time::Duration;

use clap::builder::{PossibleValuesParser, TypedValueParser as _};
use netem_api::spec::{Distribution, parse_duration};

/// The longest wait or time limit any flag takes: 30 days.
pub const MAX_WAIT: Duration = Duration::from_secs(30 * 24 * 3600);

/// A duration in the one grammar, at most [`MAX_WAIT`].
pub fn duration(s: &str) -> Result<Duration, String> {
    let d = parse_duration(s).map_err(|e| e.to_string())?;
    if d > MAX_WAIT {
        return Err(format!(
            "{s:?} is too long: at most {}",
            netem_api::spec::format_duration(MAX_WAIT)
        ));
    }
    Ok(d)
}

/// A time limit: a [`duration`] that is more than zero.
pub fn time_limit(s: &str) -> Result<Duration, String> {
    match duration(s)? {
        d if d.is_zero() => Err("must be more than 0".into()),
        d => Ok(d),
    }
}

/// kubectl's `--request-timeout`: a bare number is seconds, otherwise a [`duration`];
/// `0` means no limit (returned as zero).
pub fn request_timeout(s: &str) -> Result<Duration, String> {
    let d = match s.parse::<u64>() {
        Ok(secs) => Duration::from_secs(secs.min(MAX_WAIT.as_secs() + 1)),
        Err(_) => duration(s)
            .map_err(|e| format!("{e}: use a number of seconds or a duration like 30s, 1m"))?,
    };
    if d > MAX_WAIT {
        return Err(format!(
            "{s:?} is too long: at most {}s",
            MAX_WAIT.as_secs()
        ));
    }
    Ok(d)
}

/// `--server`: an `https://` (or `http://`) URL; a bare `HOST[:PORT]` means `https://`, as
/// in kubectl.
pub fn server(s: &str) -> Result<hyper::Uri, String> {
    let with_scheme = if s.contains("://") {
        s.to_string()
    } else {
        format!("https://{s}")
    };
    let uri: hyper::Uri = with_scheme
        .parse()
        .map_err(|e| format!("{s:?} is not a URL: {e}"))?;
    if !matches!(uri.scheme_str(), Some("https" | "http")) {
        return Err(format!(
            "{s:?}: the server's URL is https://HOST[:PORT] (or http://)"
        ));
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(format!("{s:?} has no host"));
    }
    Ok(uri)
}

/// A credential from the command line: its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// `--token`: any non-empty value, kept as a [`Secret`].
pub fn secret(s: &str) -> Result<Secret, String> {
    if s.trim().is_empty() {
        return Err("must not be empty".into());
    }
    Ok(Secret(s.to_string()))
}

/// `--distribution`: one of tc's table names.
pub fn distribution() -> impl clap::builder::TypedValueParser<Value = Distribution> {
    PossibleValuesParser::new(["normal", "pareto", "paretonormal", "uniform"]).map(|s| {
        match s.as_str() {
            "normal" => Distribution::Normal,
            "pareto" => Distribution::Pareto,
            "paretonormal" => Distribution::Paretonormal,
            _ => Distribution::Uniform,
        }
    })
}

/// `--image`: a container image reference as the container runtime parses it
/// (`[host[:port]/]path[:tag][@algo:hex]`), refused here rather than written into a
/// TidbCluster that then cannot start its pods.
pub fn image(s: &str) -> Result<String, String> {
    image_reference(s).map_err(|why| format!("{s:?} is not an image reference: {why}"))?;
    Ok(s.to_string())
}

fn image_reference(s: &str) -> Result<(), &'static str> {
    if s.is_empty() {
        return Err("empty");
    }
    if s.len() > 4096 {
        return Err("longer than 4096 characters");
    }
    let (rest, digest) = match s.split_once('@') {
        Some((rest, digest)) => (rest, Some(digest)),
        None => (s, None),
    };
    if let Some(digest) = digest {
        let (algo, hex) = digest
            .split_once(':')
            .ok_or("a digest is ALGORITHM:HEX, e.g. sha256:…")?;
        let algo_ok = !algo.is_empty()
            && algo
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"+._-".contains(&b));
        if !algo_ok || hex.len() < 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err("a digest is ALGORITHM:HEX with at least 32 hex digits");
        }
    }
    // A tag follows the last ':' after the last '/' (a ':' before it is a registry port).
    let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match rest[last_slash..].rfind(':') {
        Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
        None => (rest, None),
    };
    if let Some(tag) = tag {
        let ok = (1..=128).contains(&tag.len())
            && !tag.starts_with(['.', '-'])
            && tag
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b));
        if !ok {
            return Err(
                "a tag is 1-128 letters, digits, '_', '.' or '-', not starting with '.' or '-'",
            );
        }
    }
    let mut parts: Vec<&str> = name.split('/').collect();
    // The first part is a registry host when it has a '.' or ':' or is "localhost".
    if parts.len() > 1 && (parts[0].contains(['.', ':']) || parts[0] == "localhost") {
        let host = parts.remove(0);
        let (h, port) = host.split_once(':').unwrap_or((host, "1"));
        let host_ok = !h.is_empty()
            && h.split('.').all(|l| {
                !l.is_empty()
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            });
        if !host_ok || port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
            return Err("the registry is HOST[:PORT]");
        }
    }
    let component_ok = |c: &str| {
        !c.is_empty()
            && c.bytes()
                .next()
                .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            && c.bytes()
                .last()
                .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            && c.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
    };
    if !parts.into_iter().all(component_ok) {
        return Err(
            "the repository path is lowercase letters, digits and '.', '_', '-' between '/'",
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_duration_grammar_with_bounds() {
        assert_eq!(duration("10min"), Ok(Duration::from_secs(600)));
        assert_eq!(duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert!(duration("10").unwrap_err().contains("missing unit"));
        assert!(duration("31d").is_err());
        assert!(duration("9999h").unwrap_err().contains("too long"));
        assert!(duration("99999999h").unwrap_err().contains("too large"));
        assert!(duration("18446744073709551615s").is_err());
        assert_eq!(time_limit("0s"), Err("must be more than 0".into()));
    }

    #[test]
    fn request_timeout_like_kubectl() {
        assert_eq!(request_timeout("5"), Ok(Duration::from_secs(5)));
        assert_eq!(request_timeout("1m"), Ok(Duration::from_secs(60)));
        assert_eq!(request_timeout("0"), Ok(Duration::ZERO));
        assert!(request_timeout("soon").is_err());
        assert!(request_timeout("5x").is_err());
        for huge in ["18446744073709551615", "99999999999999999999999", "1e308s"] {
            assert!(request_timeout(huge).is_err(), "{huge}");
        }
    }

    #[test]
    fn server_urls_like_kubectl() {
        assert_eq!(
            server("127.0.0.1:6443").unwrap().to_string(),
            "https://127.0.0.1:6443/"
        );
        assert_eq!(
            server("http://k8s.example:8080").unwrap().scheme_str(),
            Some("http")
        );
        for bad in ["ftp://x", "https://", "a b", ""] {
            assert!(server(bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(format!("{:?}", secret("abc").unwrap()), "Secret(..)");
        assert!(secret(" ").is_err());
    }

    #[test]
    fn image_references() {
        for ok in [
            "netem-agent",
            "ghcr.io/kubectl-netem/netem-agent:0.1.0",
            "localhost:5000/agent:dev",
            "registry.example.com:443/a/b/c:v1.2_3",
            "busybox@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "a/b:tag@sha256:0123456789abcdef0123456789abcdef",
        ] {
            assert_eq!(image(ok), Ok(ok.to_string()), "{ok}");
        }
        for bad in [
            "",
            " ",
            "Agent:1",
            "agent:",
            "agent: 1",
            "a//b",
            "-a",
            "agent@sha256:xyz",
            "agent:-x",
            "host:port/a",
            "a b",
        ] {
            assert!(image(bad).is_err(), "{bad:?} accepted");
        }
    }

    mod no_panic {
        use super::*;
        use proptest::prelude::*;

        /// Arbitrary text, and text shaped like the grammar (digits, dots, units, signs).
        pub(crate) fn text() -> impl Strategy<Value = String> {
            prop_oneof![
                any::<String>(),
                "[0-9.+-]{0,24}(ns|us|µs|ms|s|m|min|h|d|%|e|x)?",
                "[a-z0-9.:/@_-]{0,40}",
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(512))]

            #[test]
            fn value_parsers_answer_without_panicking(s in text()) {
                for result in [duration(&s), time_limit(&s), request_timeout(&s)] {
                    match result {
                        Ok(d) => prop_assert!(d <= MAX_WAIT),
                        Err(e) => prop_assert!(!e.contains('\n'), "{e}"),
                    }
                }
                if let Err(e) = image(&s) {
                    prop_assert!(!e.contains('\n'), "{e}");
                }
            }
        }
    }
}
