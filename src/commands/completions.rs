//! `kubectl-netem completions SHELL`: completion scripts generated from the clap definition,
//! the same definition that parses the command line, so they cannot disagree with it.

use std::io::{self, Write};
use std::process::ExitCode;

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::{Cli, CompletionsArgs};

/// Writes the completion script for `args.shell` to stdout.
pub fn run(args: &CompletionsArgs) -> anyhow::Result<ExitCode> {
    io::stdout().write_all(&script(args.shell))?;
    Ok(ExitCode::SUCCESS)
}

/// The completion script for `shell`, for the command `kubectl-netem`.
pub fn script(shell: Shell) -> Vec<u8> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "kubectl-netem", &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The file under `completions/` that holds each shell's script.
    fn file_name(shell: Shell) -> &'static str {
        match shell {
            Shell::Bash => "kubectl-netem.bash",
            Shell::Zsh => "_kubectl-netem",
            Shell::Fish => "kubectl-netem.fish",
            Shell::PowerShell => "_kubectl-netem.ps1",
            Shell::Elvish => "kubectl-netem.elv",
            _ => "kubectl-netem.unknown",
        }
    }

    /// The committed files must be what the current definition generates; regenerate with
    /// `UPDATE_COMPLETIONS=1 cargo test -p kubectl-netem completions`.
    #[test]
    fn committed_completions_are_current() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("completions");
        let update = std::env::var_os("UPDATE_COMPLETIONS").is_some();
        let mut stale = Vec::new();
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish, Shell::PowerShell] {
            let path = dir.join(file_name(shell));
            let want = script(shell);
            if update {
                std::fs::write(&path, &want).unwrap();
            } else if std::fs::read(&path).ok().as_deref() != Some(&want[..]) {
                stale.push(path.display().to_string());
            }
        }
        assert!(
            stale.is_empty(),
            "stale completion files {stale:?}: run UPDATE_COMPLETIONS=1 cargo test -p kubectl-netem completions"
        );
    }
}
