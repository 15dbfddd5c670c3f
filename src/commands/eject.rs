//! `kubectl netem eject`: remove the agent container (and its volume) again, leaving every
//! other part of the spec as it was; with `--ephemeral`, stop the running pods' ephemeral
//! agents; with `-f`, from a manifest: see [`super::change`].
//!
//! No Pod Security or hostNetwork checks: taking the agent out is always allowed, and an
//! operator-managed StatefulSet is not refused either (its operator's own template never
//! had the agent).

use std::process::ExitCode;

use crate::cli::{ConnectionArgs, EjectArgs};
use crate::edit::Edit;

/// Runs `eject`.
pub async fn run(conn: &ConnectionArgs, args: &EjectArgs) -> anyhow::Result<ExitCode> {
    super::change(conn, &args.change, Edit::Eject).await
}
