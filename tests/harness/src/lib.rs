//! The one harness for the project's integration tests (the e2e binary, the agent's root
//! tests, the test cluster's tests), as ripgrep's `rgtest!` is for its own.
//!
//! A test names what it needs of the machine ([`Need`]). Where a need is missing:
//! - with `NETEM_TEST_STRICT=1` (set by `scripts/test.sh`, hence CI) the test **fails**,
//!   saying what was missing: a run that was meant to test everything cannot go green having
//!   tested nothing;
//! - otherwise (a plain `cargo test` as a normal user) it is skipped, reported as `ignored`
//!   in cargo's own summary line, and the harness says before the run how many tests it
//!   skips and why.
//!
//! Tests are listed once, in the binary's `main`, with [`suite!`]; a test function that is
//! not listed is dead code, which `cargo clippy -- -D warnings` refuses.

use std::collections::BTreeMap;
use std::process::ExitCode;

pub use libtest_mimic::Failed;
use libtest_mimic::{Arguments, Trial};

/// Environment variable that turns a missing prerequisite into a failure.
pub const STRICT_ENV: &str = "NETEM_TEST_STRICT";

/// Something a test needs of the machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Need {
    /// Root: network namespaces, veth pairs, qdiscs.
    Root,
    /// A `kubectl` binary on PATH.
    Kubectl,
    /// util-linux `script` (a pseudo-terminal for the prompt tests).
    Script,
    /// A kernel without netem (the host's: the agent's 503 path). The VM tier tests netem.
    NoNetem,
}

impl Need {
    /// Whether this machine has it.
    pub fn met(self) -> bool {
        match self {
            Need::Root => have_root(),
            Need::Kubectl => std::process::Command::new("kubectl")
                .args(["version", "--client"])
                .output()
                .is_ok_and(|o| o.status.success()),
            Need::Script => std::path::Path::new("/usr/bin/script").is_file(),
            Need::NoNetem => !kernel_has_netem(),
        }
    }

    /// Why it is needed, for the skip and failure messages.
    pub fn why(self) -> &'static str {
        match self {
            Need::Root => "root (network namespaces, veth pairs, qdiscs)",
            Need::Kubectl => "kubectl on PATH (the kubectl fidelity tests)",
            Need::Script => "util-linux `script` (a pseudo-terminal)",
            Need::NoNetem => "a kernel without netem (the agent's 503 path)",
        }
    }
}

/// Whether this process runs as root (effective uid 0).
pub fn have_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|ids| ids.split_whitespace().nth(1).map(|euid| euid == "0"))
        })
        .unwrap_or(false)
}

/// Whether the running kernel has netem: loaded (`/sys/module/sch_netem`) or loadable
/// (a `sch_netem` module file for this kernel release).
pub fn kernel_has_netem() -> bool {
    if std::path::Path::new("/sys/module/sch_netem").exists() {
        return true;
    }
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let dir = format!("/lib/modules/{}/kernel/net/sched", release.trim());
    std::fs::read_dir(dir).is_ok_and(|d| {
        d.flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("sch_netem."))
    })
}

/// Whether a missing prerequisite must fail the run ([`STRICT_ENV`] set to `1`).
pub fn strict() -> bool {
    std::env::var(STRICT_ENV).is_ok_and(|v| v == "1")
}

/// The tests of one binary, each with its needs.
pub struct Suite {
    trials: Vec<Trial>,
    skipped: BTreeMap<Need, usize>,
    met: BTreeMap<Need, bool>,
    strict: bool,
}

impl Default for Suite {
    fn default() -> Self {
        Suite {
            trials: Vec::new(),
            skipped: BTreeMap::new(),
            met: BTreeMap::new(),
            strict: strict(),
        }
    }
}

impl Suite {
    /// Adds a test. `name` is its path as written in the list (`inject::dry_run`).
    pub fn add(&mut self, name: &str, needs: &[Need], test: impl FnOnce() + Send + 'static) {
        let name = name.replace(' ', "");
        let missing = needs
            .iter()
            .copied()
            .find(|n| !*self.met.entry(*n).or_insert_with(|| n.met()));
        let trial = match missing {
            None => Trial::test(name, move || {
                test();
                Ok(())
            }),
            Some(need) if self.strict => Trial::test(name, move || {
                Err(format!(
                    "needs {}, which this machine lacks, and {STRICT_ENV}=1 says every test must run",
                    need.why()
                )
                .into())
            }),
            Some(need) => {
                *self.skipped.entry(need).or_default() += 1;
                Trial::test(name, || Ok(())).with_ignored_flag(true)
            }
        };
        self.trials.push(trial);
    }

    /// Runs the tests (cargo test's arguments: filters, `--list`, `--test-threads`, ...).
    pub fn run(self) -> ExitCode {
        let args = Arguments::from_args();
        if !args.list {
            for (need, n) in &self.skipped {
                eprintln!(
                    "note: skipping {n} of {} tests here: they need {} (shown as ignored; \
                     {STRICT_ENV}=1 makes this a failure)",
                    self.trials.len(),
                    need.why()
                );
            }
        }
        libtest_mimic::run(&args, self.trials).exit_code()
    }
}

/// Runs an async test body on a fresh two-thread runtime, as `#[tokio::test(flavor =
/// "multi_thread", worker_threads = 2)]` did.
pub fn block_on<F: std::future::Future<Output = ()>>(test: F) {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
        .block_on(test)
}

/// The `main` of a test binary: every test listed once with what it needs.
///
/// ```text
/// netem_harness::main! {
///     [Root] async inject::dry_run_prints_the_patch,
///     [Root, Kubectl] async complete::through_kubectl,
///     [] sync cli::parses,
/// }
/// ```
#[macro_export]
macro_rules! main {
    ($( [$($need:ident),*] $mode:ident $($path:ident)::+ ),* $(,)?) => {
        fn main() -> ::std::process::ExitCode {
            let mut suite = $crate::Suite::default();
            $(
                suite.add(
                    stringify!($($path)::+),
                    &[$($crate::Need::$need),*],
                    $crate::main!(@body $mode $($path)::+),
                );
            )*
            suite.run()
        }
    };
    (@body async $($path:ident)::+) => { || $crate::block_on($($path)::+()) };
    (@body sync $($path:ident)::+) => { $($path)::+ };
}
