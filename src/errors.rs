//! How a failed command's error is printed: one line, like kubectl's.

use std::fmt::Write as _;

use kube::core::Status;

/// The API server's answer inside a kube error, if the server answered; for kube's own
/// helpers (`is_not_found()`, `is_forbidden()`, `is_conflict()`, ...).
pub fn api_status(err: &kube::Error) -> Option<&Status> {
    match err {
        kube::Error::Api(status) => Some(status),
        _ => None,
    }
}

/// An API error with what was being done, e.g. `cannot patch tidbclusters.pingcap.com
/// "basic" in namespace default`, keeping the kube error as its source so [`render`]
/// shortens it and adds the 401/403 hint wherever it happened.
pub fn cannot(err: kube::Error, verb: &str, what: &str, namespace: &str) -> anyhow::Error {
    anyhow::Error::new(err).context(format!("cannot {verb} {what} in namespace {namespace}"))
}

/// The error's chain of contexts joined with `: `. An API server's answer is shortened to
/// its reason and message (kube's own rendering repeats them and dumps the whole Status),
/// with a hint where the cause is the user's credentials or rights.
pub fn render(err: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in err.chain() {
        if !line.is_empty() {
            line.push_str(": ");
        }
        if let Some(kube::Error::Api(status)) = cause.downcast_ref::<kube::Error>() {
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
            match status.code {
                401 => line.push_str(" — the API server rejected the kubeconfig's credentials (check --user/--context, or log in again)"),
                403 => line.push_str(" — your RBAC role lacks this verb (see docs/security.md)"),
                _ => {}
            }
            // kube's error has no further cause worth printing.
            break;
        }
        let _ = write!(line, "{cause}");
    }
    line
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
