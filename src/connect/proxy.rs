//! Which proxy, if any, carries the connection to the API server, by kubectl's rules:
//!
//! - a kubeconfig cluster's `proxy-url` is used as is (client-go's `http.ProxyURL`: no
//!   `NO_PROXY`, even for a loopback server);
//! - otherwise the environment, as Go's `golang.org/x/net/http/httpproxy` reads it:
//!   `HTTPS_PROXY` (else `https_proxy`) for an `https://` server, `HTTP_PROXY` (else
//!   `http_proxy`) for an `http://` one — no fallback from one to the other — unless the
//!   server is `localhost`, a loopback address, or matched by `NO_PROXY` (else `no_proxy`).

use std::fmt;
use std::net::IpAddr;

use hyper::Uri;

/// Where the proxy came from (for error messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The kubeconfig cluster's `proxy-url`.
    Kubeconfig,
    /// An environment variable, by name.
    Env(&'static str),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Kubeconfig => f.write_str("the kubeconfig cluster's proxy-url"),
            Source::Env(name) => f.write_str(name),
        }
    }
}

/// The proxy chosen for the API server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proxy {
    /// Its URL (possibly with `user:password@`, which kube sends as Proxy-Authorization).
    pub url: Uri,
    /// Where it was configured.
    pub source: Source,
}

impl fmt::Display for Proxy {
    /// `scheme://host:port`, never the credentials.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = self.url.scheme_str().unwrap_or("http");
        let host = self.url.host().unwrap_or("");
        match self.url.port_u16() {
            Some(port) => write!(f, "{scheme}://{host}:{port}"),
            None => write!(f, "{scheme}://{host}"),
        }
    }
}

/// A proxy setting that cannot be used (its value is not repeated: it may hold a password).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "{origin} is not a usable proxy URL: {why} (expected http://HOST:PORT, https://HOST:PORT or socks5://HOST:PORT)"
)]
pub struct ProxyError {
    origin: Source,
    why: &'static str,
}

/// The proxy variables of the environment, read once.
#[derive(Debug, Clone, Default)]
pub struct ProxyEnv {
    https: Option<(&'static str, String)>,
    http: Option<(&'static str, String)>,
    no_proxy: NoProxy,
}

impl ProxyEnv {
    /// Reads `HTTPS_PROXY`/`https_proxy`, `HTTP_PROXY`/`http_proxy`, `NO_PROXY`/`no_proxy`
    /// (upper case first; an empty value counts as unset, as in Go).
    pub fn from_env() -> Self {
        let var = |name: &'static str| {
            std::env::var(name)
                .ok()
                .filter(|v| !v.is_empty())
                .map(|v| (name, v))
        };
        ProxyEnv {
            https: var("HTTPS_PROXY").or_else(|| var("https_proxy")),
            http: var("HTTP_PROXY").or_else(|| var("http_proxy")),
            no_proxy: NoProxy::parse(
                &var("NO_PROXY")
                    .or_else(|| var("no_proxy"))
                    .map(|(_, v)| v)
                    .unwrap_or_default(),
            ),
        }
    }

    #[cfg(test)]
    fn new(https: Option<&str>, http: Option<&str>, no_proxy: &str) -> Self {
        ProxyEnv {
            https: https.map(|v| ("HTTPS_PROXY", v.to_string())),
            http: http.map(|v| ("HTTP_PROXY", v.to_string())),
            no_proxy: NoProxy::parse(no_proxy),
        }
    }
}

/// The proxy for `server`: the cluster's `proxy-url` if set, else the environment's.
pub fn choose(
    server: &Uri,
    cluster_proxy_url: Option<&str>,
    env: &ProxyEnv,
) -> Result<Option<Proxy>, ProxyError> {
    if let Some(url) = cluster_proxy_url.filter(|u| !u.is_empty()) {
        return parse(url, Source::Kubeconfig).map(Some);
    }
    let configured = match server.scheme_str() {
        Some("http") => env.http.as_ref(),
        _ => env.https.as_ref(),
    };
    let Some((name, value)) = configured else {
        return Ok(None);
    };
    let host = server.host().unwrap_or("");
    let port = server
        .port_u16()
        .unwrap_or(if server.scheme_str() == Some("http") {
            80
        } else {
            443
        });
    if !env.no_proxy.use_proxy(host, port) {
        return Ok(None);
    }
    parse(value, Source::Env(name)).map(Some)
}

/// A proxy URL as Go takes it: without a scheme, `http://` is assumed.
fn parse(value: &str, source: Source) -> Result<Proxy, ProxyError> {
    let err = |why| ProxyError {
        origin: source,
        why,
    };
    let value = value.trim();
    let with_scheme = if value.contains("://") {
        value.to_string()
    } else {
        format!("http://{value}")
    };
    let url: Uri = with_scheme.parse().map_err(|_| err("not a URL"))?;
    if !matches!(url.scheme_str(), Some("http" | "https" | "socks5")) {
        return Err(err("unsupported scheme"));
    }
    if url.host().is_none_or(str::is_empty) {
        return Err(err("no host"));
    }
    Ok(Proxy { url, source })
}

/// `NO_PROXY` as Go's httpproxy reads it: comma-separated, case-insensitive; `*` matches
/// everything; an IP or CIDR matches addresses; `[IP]:port` or `IP:port` an address and
/// port; `example.com` matches it and its subdomains, `.example.com` and `*.example.com`
/// only subdomains; `host:port` only that port. Empty or malformed entries are skipped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct NoProxy {
    all: bool,
    cidrs: Vec<(IpAddr, u8)>,
    ips: Vec<(IpAddr, Option<String>)>,
    domains: Vec<Domain>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Domain {
    /// With a leading dot.
    suffix: String,
    port: Option<String>,
    /// The entry had no leading dot, so the bare name matches too.
    exact_too: bool,
}

impl NoProxy {
    fn parse(list: &str) -> Self {
        let mut np = NoProxy::default();
        for entry in list.split(',') {
            let entry = entry.trim().to_ascii_lowercase();
            if entry.is_empty() {
                continue;
            }
            if entry == "*" {
                return NoProxy {
                    all: true,
                    ..NoProxy::default()
                };
            }
            if let Some(cidr) = parse_cidr(&entry) {
                np.cidrs.push(cidr);
                continue;
            }
            let (host, port) = match split_host_port(&entry) {
                Some(("", _)) => continue,
                Some((h, p)) => (h.to_string(), Some(p.to_string())),
                None => (entry.clone(), None),
            };
            if let Ok(ip) = host.parse::<IpAddr>() {
                np.ips.push((ip, port));
                continue;
            }
            let host = host.strip_prefix('*').unwrap_or(&host);
            if host.is_empty() {
                continue;
            }
            let exact_too = !host.starts_with('.');
            let suffix = if exact_too {
                format!(".{host}")
            } else {
                host.to_string()
            };
            np.domains.push(Domain {
                suffix,
                port,
                exact_too,
            });
        }
        np
    }

    /// Whether a request to `host:port` goes through the proxy.
    fn use_proxy(&self, host: &str, port: u16) -> bool {
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        let ip = host.parse::<IpAddr>().ok();
        if host == "localhost" || ip.is_some_and(|ip| ip.is_loopback()) {
            return false;
        }
        if self.all {
            return false;
        }
        let port = port.to_string();
        let port_ok = |p: &Option<String>| p.as_ref().is_none_or(|p| *p == port);
        if let Some(ip) = ip {
            let in_cidr = self.cidrs.iter().any(|&(net, len)| contains(net, len, ip));
            let listed = self.ips.iter().any(|(i, p)| *i == ip && port_ok(p));
            return !(in_cidr || listed);
        }
        !self.domains.iter().any(|d| {
            (host.ends_with(&d.suffix) || (d.exact_too && host == d.suffix[1..]))
                && port_ok(&d.port)
        })
    }
}

/// Go's `net.SplitHostPort` for the forms NO_PROXY uses: `host:port`, `[v6]:port`.
fn split_host_port(s: &str) -> Option<(&str, &str)> {
    if let Some(rest) = s.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = after.strip_prefix(':')?;
        return Some((host, port));
    }
    let (host, port) = s.rsplit_once(':')?;
    (!host.contains(':')).then_some((host, port))
}

fn parse_cidr(s: &str) -> Option<(IpAddr, u8)> {
    let (addr, len) = s.split_once('/')?;
    let addr: IpAddr = addr.parse().ok()?;
    let len: u8 = len.parse().ok()?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    (len <= max).then_some((addr, len))
}

fn contains(net: IpAddr, len: u8, ip: IpAddr) -> bool {
    let bits = |a: IpAddr| match a {
        IpAddr::V4(v4) => (u128::from(u32::from(v4)) << 96, true),
        IpAddr::V6(v6) => (u128::from(v6), false),
    };
    let ((n, n4), (i, i4)) = (bits(net), bits(ip));
    if n4 != i4 {
        return false;
    }
    // IPv4 sits in the top 32 bits, so one mask of the top `len` bits serves both.
    let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
    n & mask == i & mask
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(s: &str) -> Uri {
        s.parse().unwrap()
    }

    fn via(server: &str, env: &ProxyEnv) -> Option<String> {
        choose(&uri(server), None, env)
            .unwrap()
            .map(|p| p.to_string())
    }

    #[test]
    fn scheme_picks_the_variable_without_fallback() {
        let env = ProxyEnv::new(Some("http://p:3128"), None, "");
        assert_eq!(
            via("https://k8s.example:6443", &env),
            Some("http://p:3128".into())
        );
        assert_eq!(via("http://k8s.example:8080", &env), None);
        // Go (and so kubectl 1.32) does not fall back to HTTP_PROXY for an https server.
        let env = ProxyEnv::new(None, Some("http://p:3128"), "");
        assert_eq!(via("https://k8s.example", &env), None);
        assert_eq!(
            via("http://k8s.example", &env),
            Some("http://p:3128".into())
        );
        // No scheme means http://.
        let env = ProxyEnv::new(Some("p:3128"), None, "");
        assert_eq!(
            via("https://k8s.example", &env),
            Some("http://p:3128".into())
        );
    }

    #[test]
    fn loopback_and_localhost_are_never_proxied_from_the_environment() {
        let env = ProxyEnv::new(Some("http://p:3128"), None, "");
        for server in [
            "https://127.0.0.1:6443",
            "https://localhost",
            "https://[::1]:6443",
        ] {
            assert_eq!(via(server, &env), None, "{server}");
        }
        // ... but a kubeconfig proxy-url is used for them too, NO_PROXY or not.
        let env = ProxyEnv::new(None, None, "*");
        let p = choose(
            &uri("https://127.0.0.1:6443"),
            Some("socks5://s:1080"),
            &env,
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            (p.to_string(), p.source),
            ("socks5://s:1080".into(), Source::Kubeconfig)
        );
    }

    #[test]
    fn no_proxy_like_go() {
        let cases: &[(&str, &str, bool)] = &[
            ("*", "https://k8s.example", false),
            ("example.com", "https://example.com", false),
            ("example.com", "https://api.example.com", false),
            ("example.com", "https://notexample.com", true),
            (".example.com", "https://example.com", true),
            (".example.com", "https://api.example.com", false),
            ("*.example.com", "https://example.com", true),
            ("*.example.com", "https://a.b.example.com", false),
            ("example.com:6443", "https://example.com:6443", false),
            ("example.com:6443", "https://example.com", true),
            ("EXAMPLE.com", "https://Example.COM", false),
            ("10.0.0.0/8", "https://10.1.2.3:6443", false),
            ("10.0.0.0/8", "https://11.1.2.3:6443", true),
            ("10.1.2.3", "https://10.1.2.3:6443", false),
            ("10.1.2.3:443", "https://10.1.2.3:6443", true),
            ("10.1.2.3:6443", "https://10.1.2.3:6443", false),
            ("fd00::/8", "https://[fd00::1]:6443", false),
            ("[fd00::1]:6443", "https://[fd00::1]:6443", false),
            ("10.0.0.0/8", "https://ten.example", true),
            (" a.example , ,b.example,", "https://b.example", false),
            ("foo/bar,:80", "https://k8s.example", true),
        ];
        for &(no_proxy, server, proxied) in cases {
            let env = ProxyEnv::new(Some("http://p:3128"), None, no_proxy);
            assert_eq!(
                via(server, &env).is_some(),
                proxied,
                "NO_PROXY={no_proxy:?} {server}"
            );
        }
    }

    #[test]
    fn bad_proxies_are_errors_that_do_not_repeat_the_value() {
        for bad in ["ftp://p:21", "http://", "http://user:pa ss@p:1"] {
            let env = ProxyEnv::new(Some(bad), None, "");
            let err = choose(&uri("https://k8s.example"), None, &env).unwrap_err();
            let text = err.to_string();
            assert!(
                text.starts_with("HTTPS_PROXY is not a usable proxy URL"),
                "{text}"
            );
            assert!(
                !text.contains("pa ss") && !text.contains("ftp://"),
                "{text}"
            );
        }
        let p = parse("http://user:secret@p:3128", Source::Env("HTTPS_PROXY")).unwrap();
        assert_eq!(p.to_string(), "http://p:3128");
    }
}
