//! Building a kube client from the kubectl-style connection flags.

use std::time::Duration;

use anyhow::Context as _;
use kube::config::{KubeConfigOptions, Kubeconfig};

use crate::cli::ConnectionArgs;

/// A client plus the namespace the command acts in.
#[derive(Clone)]
pub struct Kube {
    /// The API client.
    pub client: kube::Client,
    /// `-n`, else the context's namespace, else "default" (kubectl's rule).
    pub namespace: String,
}

/// Connects as kubectl would: `--kubeconfig`, else `$KUBECONFIG` (merged), else
/// `~/.kube/config`; `--context/--cluster/--user` override the current context.
pub async fn connect(args: &ConnectionArgs) -> anyhow::Result<Kube> {
    let kubeconfig = match &args.kubeconfig {
        Some(path) => Kubeconfig::read_from(path)
            .with_context(|| format!("reading kubeconfig {}", path.display()))?,
        None => Kubeconfig::read().context("reading kubeconfig ($KUBECONFIG or ~/.kube/config)")?,
    };
    let options = KubeConfigOptions {
        context: args.context.clone(),
        cluster: args.cluster.clone(),
        user: args.user.clone(),
    };
    let mut config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .context("loading kubeconfig")?;
    if let Some(timeout) = &args.request_timeout {
        let timeout = parse_request_timeout(timeout)?;
        config.connect_timeout = timeout;
        config.read_timeout = timeout;
        config.write_timeout = timeout;
    }
    let namespace = args
        .namespace
        .clone()
        .unwrap_or_else(|| config.default_namespace.clone());
    let client = kube::Client::try_from(config).context("building the API client")?;
    Ok(Kube { client, namespace })
}

/// kubectl's `--request-timeout`: a bare number is seconds, otherwise a duration with a
/// unit (s, m, h; ms too); `0` means no limit.
pub fn parse_request_timeout(s: &str) -> anyhow::Result<Option<Duration>> {
    let d = if let Ok(secs) = s.parse::<u64>() {
        Duration::from_secs(secs)
    } else {
        parse_simple_duration(s).with_context(|| {
            format!("invalid --request-timeout {s:?}: use a number of seconds or a duration like 30s, 1m")
        })?
    };
    Ok((!d.is_zero()).then_some(d))
}

/// `10s`, `1m`, `500ms`, `2h`: the durations of the plugin's own flags.
pub fn parse_simple_duration(s: &str) -> anyhow::Result<Duration> {
    let split = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num
        .parse()
        .with_context(|| format!("{s:?} is not a duration"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => anyhow::bail!("{s:?} is not a duration (use ms, s, m or h)"),
    };
    Ok(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_timeout_like_kubectl() {
        assert_eq!(
            parse_request_timeout("5").unwrap(),
            Some(Duration::from_secs(5))
        );
        assert_eq!(
            parse_request_timeout("1m").unwrap(),
            Some(Duration::from_secs(60))
        );
        assert_eq!(parse_request_timeout("0").unwrap(), None);
        assert!(parse_request_timeout("soon").is_err());
        assert!(parse_request_timeout("5x").is_err());
    }
}
