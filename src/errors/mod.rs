//! How a failed command's error is printed: one line, like kubectl's, never with a
//! credential in it.

use std::fmt::Write as _;
use std::sync::Mutex;

use kube::client::AuthError;
use kube::config::{KubeconfigError, LoadDataError};
use kube::core::Status;

mod redact;

pub use redact::{redact, remember_kubeconfig_secrets, remember_secret};

/// The API server's answer inside a kube error, if the server answered; for kube's own
/// helpers (`is_not_found()`, `is_forbidden()`, `is_conflict()`, ...).
pub fn api_status(err: &kube::Error) -> Option<&Status> {
    match err {
        kube::Error::Api(status) => Some(status),
        _ => None,
    }
}

/// 403: kube's `Status::is_forbidden()` reads only `reason`, and a Status built from a bare
/// HTTP answer (a refused port-forward upgrade, a proxy) may carry only the code.
pub fn is_forbidden(status: &Status) -> bool {
    status.is_forbidden() || (status.reason.is_empty() && status.code == 403)
}

/// 404, as [`is_forbidden`] for `Status::is_not_found()`.
pub fn is_not_found(status: &Status) -> bool {
    status.is_not_found() || (status.reason.is_empty() && status.code == 404)
}

/// An API error with what was being done, e.g. `cannot patch tidbclusters.pingcap.com
/// "basic" in namespace default`, keeping the kube error as its source so [`render`]
/// shortens it and adds the 401/403 hint wherever it happened.
pub fn cannot(err: kube::Error, verb: &str, what: &str, namespace: &str) -> anyhow::Error {
    anyhow::Error::new(err).context(format!("cannot {verb} {what} in namespace {namespace}"))
}

/// What the error renderer knows of the connection, to name the proxy or exec plugin a
/// failure came from (recorded once by `connect`).
#[derive(Debug, Clone, Default)]
pub struct Connection {
    /// The API server's URL.
    pub server: String,
    /// The proxy in use, if any, as it may be shown: `http://host:port (from HTTPS_PROXY)`,
    /// never its credentials.
    pub proxy: Option<String>,
    /// The user's exec credential plugin (its command only), if any.
    pub exec_command: Option<String>,
}

static CONNECTION: Mutex<Option<Connection>> = Mutex::new(None);

/// Records how the command connects, for [`render`].
pub fn remember_connection(connection: Connection) {
    *CONNECTION.lock().unwrap_or_else(|e| e.into_inner()) = Some(connection);
}

fn connection() -> Connection {
    CONNECTION
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
        .unwrap_or_default()
}

/// The error's chain of contexts joined with `: `, credentials blanked out. kube's and
/// the kubeconfig's own errors are worded here, never quoted: kube's rendering dumps a
/// whole Status, an exec plugin's output, or a slice of the kubeconfig file.
pub fn render(err: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in err.chain() {
        if !line.is_empty() {
            line.push_str(": ");
        }
        if let Some(kube_err) = cause.downcast_ref::<kube::Error>() {
            line.push_str(&describe_kube(kube_err));
            break;
        }
        if let Some(config_err) = cause.downcast_ref::<KubeconfigError>() {
            line.push_str(&describe_kubeconfig(config_err));
            break;
        }
        let _ = write!(line, "{cause}");
    }
    redact(&line)
}

/// One kube error in a few words (credentials blanked out): an API server's answer as its
/// reason and message with a hint for 401/403, a credential failure without what the
/// plugin printed, a connection failure with the proxy it went through.
pub fn describe_kube(err: &kube::Error) -> String {
    let text = match err {
        kube::Error::Api(status) => describe_status(status),
        kube::Error::Auth(auth) => format!("getting credentials: {}", describe_auth(auth)),
        kube::Error::InferKubeconfig(config_err) => describe_kubeconfig(config_err),
        kube::Error::HyperError(_) | kube::Error::Service(_) if is_connect(err) => {
            let facts = connection();
            let root = root_cause(err);
            match &facts.proxy {
                Some(proxy) => format!(
                    "cannot connect to the API server {} through proxy {proxy}: {root}",
                    facts.server
                ),
                None => format!("cannot connect to the API server {}: {root}", facts.server),
            }
        }
        // Transport errors: kube's words and their causes (e.g. "operation timed out").
        other => chain_text(other),
    };
    redact(&text)
}

fn describe_status(status: &Status) -> String {
    let mut line = String::new();
    let message = status.message.trim();
    let reason = if status.reason.is_empty() {
        "Error"
    } else {
        status.reason.as_str()
    };
    let _ = write!(line, "{reason}");
    if !message.is_empty() && message != reason {
        let _ = write!(line, ": {message}");
    }
    let _ = write!(line, " (HTTP {})", status.code);
    // kube's Status has no helper for 401.
    if is_forbidden(status) {
        line.push_str(" — your RBAC role lacks this verb (see docs/security.md)");
    } else if status.code == 401 {
        line.push_str(" — the API server rejected the kubeconfig's credentials (check --user/--context, or log in again)");
    }
    line
}

/// Like client-go's wording; never what the plugin printed (it may be the credential).
fn describe_auth(err: &AuthError) -> String {
    let plugin = connection()
        .exec_command
        .unwrap_or_else(|| "the exec plugin".into());
    match err {
        AuthError::AuthExecStart(io) => format!("exec: cannot run executable {plugin}: {io}"),
        AuthError::AuthExecRun { out, .. } => match out.status.code() {
            Some(code) => format!(
                "exec: executable {plugin} failed with exit code {code} (its output is not shown: it may hold credentials)"
            ),
            None => format!("exec: executable {plugin} was killed by a signal"),
        },
        AuthError::AuthExecParse(_) | AuthError::ParseTokenKey(_) => format!(
            "exec: executable {plugin} printed no valid ExecCredential (its output is not shown: it may hold credentials)"
        ),
        AuthError::ExecPluginFailed => {
            format!("exec: executable {plugin} returned an ExecCredential without a status")
        }
        AuthError::ReadTokenFile(io, path) => {
            format!("reading token file {}: {io}", path.display())
        }
        AuthError::InvalidBearerToken(_) => "the token is not a valid HTTP header value".into(),
        AuthError::InvalidBasicAuth(_) => {
            "the username or password is not a valid HTTP header value".into()
        }
        AuthError::MalformedTokenExpirationDate(_) => {
            format!("exec: executable {plugin} returned a malformed expirationTimestamp")
        }
        AuthError::MissingCommand => "the user's exec entry has no command".into(),
        AuthError::ExecMissingClusterInfo => {
            "the exec plugin wants cluster info (provideClusterInfo) but there is none".into()
        }
        // The rest (unsupported auth providers, TLS roots, ...) are kube's own words.
        other => other.to_string(),
    }
}

/// A kubeconfig problem without quoting the file (a YAML error would show the lines
/// around it, credentials included).
fn describe_kubeconfig(err: &KubeconfigError) -> String {
    match err {
        KubeconfigError::Parse(yaml) => match yaml.location() {
            Some(at) => format!(
                "not valid YAML (line {}, column {}; the text is not shown: it may hold credentials)",
                at.line(),
                at.column()
            ),
            None => "not valid YAML (the text is not shown: it may hold credentials)".into(),
        },
        KubeconfigError::ReadConfig(io, _) => io.to_string(),
        KubeconfigError::LoadClientKey(LoadDataError::ReadFile(io, path)) => {
            format!("reading client key {}: {io}", path.display())
        }
        KubeconfigError::LoadClientKey(_) => {
            "the user's client-key-data is not valid base64".into()
        }
        KubeconfigError::LoadClientCertificate(LoadDataError::ReadFile(io, path)) => {
            format!("reading client certificate {}: {io}", path.display())
        }
        KubeconfigError::LoadClientCertificate(_) => {
            "the user's client-certificate-data is not valid base64".into()
        }
        other => other.to_string(),
    }
}

fn is_connect(err: &kube::Error) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(c) = cause {
        if c.downcast_ref::<hyper_util::client::legacy::Error>()
            .is_some_and(hyper_util::client::legacy::Error::is_connect)
        {
            return true;
        }
        cause = c.source();
    }
    false
}

fn chain_text(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![err.to_string()];
    let mut cause = err.source();
    while let Some(c) = cause {
        let text = c.to_string();
        // hyper's layers repeat themselves ("client error (SendRequest)" twice).
        if parts.last() != Some(&text) {
            parts.push(text);
        }
        cause = c.source();
    }
    parts.join(": ")
}

fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = err;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context as _;
    use kube::core::Status;

    fn api_error(code: u16, reason: &str, message: &str) -> anyhow::Error {
        let status = Status::failure(message, reason).with_code(code);
        Err::<(), _>(kube::Error::Api(Box::new(status)))
            .context("listing pods")
            .unwrap_err()
    }

    #[test]
    fn api_errors_are_short_and_hinted() {
        assert_eq!(
            render(&api_error(401, "Unauthorized", "Unauthorized")),
            "listing pods: Unauthorized (HTTP 401) — the API server rejected the kubeconfig's credentials (check --user/--context, or log in again)"
        );
        let line = render(&api_error(404, "NotFound", "pods \"x\" not found"));
        assert_eq!(
            line,
            "listing pods: NotFound: pods \"x\" not found (HTTP 404)"
        );
    }

    #[test]
    fn cannot_keeps_the_source_so_403_gets_its_hint() {
        let status = Status::failure(
            "tidbclusters.pingcap.com \"basic\" is forbidden: User \"dev\" cannot patch resource",
            "Forbidden",
        )
        .with_code(403);
        let err = cannot(
            kube::Error::Api(Box::new(status)),
            "patch",
            "tidbclusters.pingcap.com \"basic\"",
            "default",
        );
        let line = render(&err);
        assert!(
            line.starts_with(
                "cannot patch tidbclusters.pingcap.com \"basic\" in namespace default: Forbidden: "
            ),
            "{line}"
        );
        assert!(
            line.ends_with("(HTTP 403) — your RBAC role lacks this verb (see docs/security.md)"),
            "{line}"
        );
        assert!(!line.contains('\n'));
    }

    #[test]
    fn other_errors_keep_their_chain() {
        let err = Err::<(), _>(anyhow::anyhow!("connection refused"))
            .context("listing pods")
            .unwrap_err();
        assert_eq!(render(&err), "listing pods: connection refused");
    }
}
