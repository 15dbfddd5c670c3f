//! Why one pod could not be handled: a cause people and scripts can tell apart, the
//! message as received, and a hint on what to do about it.

use std::fmt;

use serde::Serialize;

/// The kinds of per-pod failure the plugin tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Cause {
    /// The pod has no `netem-agent` container.
    NoAgent,
    /// The pod does not run (pending, finished or being deleted).
    NotRunning,
    /// RBAC forbids `create` on `pods/portforward` (403 on the upgrade).
    Forbidden,
    /// The port-forward opened but nothing answered on the agent's port.
    AgentNotAnswering,
    /// The node's kernel cannot make a netem qdisc (the agent's 503).
    NoNetem,
    /// A root qdisc the agent did not make is in the way (the agent's 409).
    ForeignQdisc,
    /// The agent refused the settings (its 400).
    Rejected,
    /// The agent answered with another error.
    AgentError,
    /// No answer within `--pod-timeout`.
    Timeout,
    /// The API server refused or failed the port-forward for another reason.
    ApiError,
}

impl Cause {
    /// A few words for people, used in tables and error lines.
    pub fn describe(self) -> &'static str {
        match self {
            Cause::NoAgent => "no agent injected",
            Cause::NotRunning => "pod not running",
            Cause::Forbidden => "port-forward forbidden",
            Cause::AgentNotAnswering => "agent not answering",
            Cause::NoNetem => "kernel without netem",
            Cause::ForeignQdisc => "foreign qdisc",
            Cause::Rejected => "settings refused",
            Cause::AgentError => "agent error",
            Cause::Timeout => "timed out",
            Cause::ApiError => "API server error",
        }
    }
}

/// One pod's failure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PodError {
    /// What kind of failure.
    pub cause: Cause,
    /// The details, as received from the API server or the agent.
    pub message: String,
    /// What to do about it.
    pub hint: Option<String>,
}

impl PodError {
    /// A failure with a cause and message (credentials blanked out), without a hint.
    pub fn new(cause: Cause, message: impl Into<String>) -> Self {
        PodError {
            cause,
            message: crate::errors::redact(&message.into()),
            hint: None,
        }
    }

    /// Adds a hint.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for PodError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.cause.describe(), self.message)
    }
}
