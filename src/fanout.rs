//! Doing one thing on many pods at once: at most `--parallel` at a time, each within
//! `--pod-timeout`, progress on a terminal, and every pod's outcome kept for the report.

use std::future::Future;
use std::io::IsTerminal as _;
use std::time::Duration;

use futures::StreamExt as _;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::pod_error::{Cause, PodError};
use crate::pods::PodInfo;

/// How pods are handled.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// At most this many pods at once.
    pub parallel: usize,
    /// Time limit for each pod.
    pub pod_timeout: Duration,
}

/// One pod and what became of it.
#[derive(Debug)]
pub struct Outcome<T> {
    /// The pod.
    pub pod: PodInfo,
    /// Its result.
    pub result: Result<T, PodError>,
}

/// Why a pod cannot be tried at all (no agent, not running), from what the API said.
pub fn precheck(pod: &PodInfo) -> Result<(), PodError> {
    if !pod.has_agent() {
        return Err(PodError::new(
            Cause::NoAgent,
            format!(
                "pod {} has no {} container",
                pod.name,
                crate::pods::AGENT_CONTAINER
            ),
        )
        .hint(pod.inject_hint()));
    }
    if let Some(why) = &pod.not_running {
        return Err(PodError::new(Cause::NotRunning, why.clone()).hint(format!(
            "check it with: kubectl get pod -n {} {}",
            pod.namespace, pod.name
        )));
    }
    Ok(())
}

/// Runs `work` on every pod (after [`precheck`]), at most `opts.parallel` at once, each
/// bounded by `opts.pod_timeout`. Outcomes come back in the pods' order; one pod's failure
/// never stops the others.
pub async fn run<T, F, Fut>(
    pods: Vec<PodInfo>,
    opts: Options,
    verb: &str,
    work: F,
) -> Vec<Outcome<T>>
where
    F: Fn(PodInfo) -> Fut,
    Fut: Future<Output = Result<T, PodError>>,
{
    let progress = progress_bar(pods.len() as u64, verb);
    let timeout = opts.pod_timeout;
    let tasks = pods.into_iter().enumerate().map(|(i, pod)| {
        let fut = precheck(&pod).map(|()| work(pod.clone()));
        let progress = &progress;
        async move {
            let result = match fut {
                Err(e) => Err(e),
                Ok(fut) => match tokio::time::timeout(timeout, fut).await {
                    Ok(r) => r,
                    Err(_) => Err(timed_out(&pod, timeout)),
                },
            };
            progress.inc(1);
            progress.set_message(pod.name.clone());
            (i, Outcome { pod, result })
        }
    });
    // Unordered, so one slow pod does not hold back the start of others; sorted after.
    let mut outcomes: Vec<(usize, Outcome<T>)> = futures::stream::iter(tasks)
        .buffer_unordered(opts.parallel.max(1))
        .collect()
        .await;
    progress.finish_and_clear();
    outcomes.sort_by_key(|(i, _)| *i);
    outcomes.into_iter().map(|(_, o)| o).collect()
}

fn timed_out(pod: &PodInfo, timeout: Duration) -> PodError {
    PodError::new(
        Cause::Timeout,
        format!(
            "no answer within {}",
            netem_api::spec::format_duration(timeout)
        ),
    )
    .hint(format!(
        "raise --pod-timeout, or check the agent: {}",
        pod.logs_hint()
    ))
}

/// A progress bar on stderr when it is a terminal; hidden otherwise (pipes, CI, tests).
fn progress_bar(len: u64, verb: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() || len < 2 {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {wide_msg}")
            .expect("static template")
            .progress_chars("=> "),
    );
    bar.set_prefix(verb.to_string());
    bar
}

/// The one-line summary printed at the end of every command.
pub fn summary<T>(what: &str, outcomes: &[Outcome<T>]) -> String {
    let failed = outcomes.iter().filter(|o| o.result.is_err()).count();
    let total = outcomes.len();
    let pods = |n: usize| if n == 1 { "pod" } else { "pods" };
    if failed == 0 {
        format!("{what}: {total} {} ok", pods(total))
    } else {
        format!(
            "{what}: {} of {total} {} ok, {failed} failed",
            total - failed,
            pods(total)
        )
    }
}

/// Error lines for the failed pods: `error: pod/NAME: cause: message`, each followed by
/// its hint; a hint shared by several pods (one cause on 100 pods) is printed once, after
/// the errors, with the number of pods it applies to, so the output stays readable.
pub fn failure_lines<T>(outcomes: &[Outcome<T>], qualify_namespace: bool) -> Vec<String> {
    let failures: Vec<(&PodInfo, &PodError)> = outcomes
        .iter()
        .filter_map(|o| o.result.as_ref().err().map(|e| (&o.pod, e)))
        .collect();
    let mut shared: Vec<(&str, usize)> = Vec::new();
    for (_, e) in &failures {
        if let Some(hint) = e.hint.as_deref() {
            match shared.iter_mut().find(|(h, _)| *h == hint) {
                Some((_, n)) => *n += 1,
                None => shared.push((hint, 1)),
            }
        }
    }
    let count = |hint: &str| {
        shared
            .iter()
            .find(|(h, _)| *h == hint)
            .map_or(0, |(_, n)| *n)
    };
    let mut lines = Vec::new();
    for (pod, e) in &failures {
        lines.push(format!("error: {}: {e}", pod_label(pod, qualify_namespace)));
        if let Some(hint) = e.hint.as_deref().filter(|h| count(h) == 1) {
            lines.push(format!("  hint: {hint}"));
        }
    }
    for (hint, n) in shared.iter().filter(|(_, n)| *n > 1) {
        lines.push(format!("hint ({n} pods): {hint}"));
    }
    lines
}

/// How a pod is named in output: `pod/NAME`, or `NAMESPACE/NAME` across namespaces.
pub fn pod_label(pod: &PodInfo, qualify_namespace: bool) -> String {
    if qualify_namespace {
        format!("{}/{}", pod.namespace, pod.name)
    } else {
        format!("pod/{}", pod.name)
    }
}

/// True when any pod failed: the command then exits non-zero.
pub fn any_failed<T>(outcomes: &[Outcome<T>]) -> bool {
    outcomes.iter().any(|o| o.result.is_err())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn pod(name: &str, agent: bool) -> PodInfo {
        PodInfo {
            namespace: "default".into(),
            name: name.into(),
            component: None,
            tidb_cluster: None,
            node: None,
            ip: None,
            agent_image: agent.then(|| "agent".into()),
            agent_exposed: false,
            agent_kind: agent.then_some(crate::pods::AgentKind::Sidecar),
            agent_container: "netem-agent".into(),
            not_running: None,
            agent_trouble: None,
        }
    }

    #[tokio::test]
    async fn bounded_ordered_and_failures_kept_per_pod() {
        let in_flight = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let mut pods: Vec<PodInfo> = (0..10).map(|i| pod(&format!("p{i}"), true)).collect();
        pods.push(pod("bare", false));
        let mut stopped = pod("stopped", true);
        stopped.not_running = Some("the pod is Pending, not Running".into());
        pods.push(stopped);
        let opts = Options {
            parallel: 3,
            pod_timeout: Duration::from_millis(300),
        };
        let outcomes = run(pods, opts, "test", |p| {
            let in_flight = in_flight.clone();
            let peak = peak.clone();
            async move {
                let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                // p0 is slow (times out); the others finish in reverse order of start.
                let wait = if p.name == "p0" {
                    10_000
                } else {
                    50 - p.name[1..].parse::<u64>().unwrap()
                };
                tokio::time::sleep(Duration::from_millis(wait)).await;
                in_flight.fetch_sub(1, Ordering::SeqCst);
                if p.name == "p5" {
                    Err(PodError::new(Cause::NoNetem, "503"))
                } else {
                    Ok(p.name.clone())
                }
            }
        })
        .await;
        assert_eq!(peak.load(Ordering::SeqCst), 3);
        let names: Vec<_> = outcomes.iter().map(|o| o.pod.name.as_str()).collect();
        assert_eq!(names[..3], ["p0", "p1", "p2"]);
        let causes: Vec<_> = outcomes
            .iter()
            .map(|o| o.result.as_ref().err().map(|e| e.cause))
            .collect();
        assert_eq!(causes[0], Some(Cause::Timeout));
        assert_eq!(causes[5], Some(Cause::NoNetem));
        assert_eq!(causes[10], Some(Cause::NoAgent));
        assert_eq!(causes[11], Some(Cause::NotRunning));
        assert_eq!(causes.iter().filter(|c| c.is_none()).count(), 8);
        assert!(any_failed(&outcomes));
        assert_eq!(
            summary("delay", &outcomes),
            "delay: 8 of 12 pods ok, 4 failed"
        );
        let lines = failure_lines(&outcomes, false);
        assert_eq!(lines[0], "error: pod/p0: timed out: no answer within 300ms");
        assert!(lines[1].starts_with("  hint: raise --pod-timeout"));
        assert_eq!(lines.len(), 7, "{lines:#?}");
    }

    #[test]
    fn a_hint_shared_by_many_pods_is_printed_once() {
        let fail = |name: &str, hint: &str| Outcome {
            pod: pod(name, true),
            result: Err::<(), _>(PodError::new(Cause::NoNetem, "503").hint(hint)),
        };
        let outcomes = vec![
            fail("a", "load sch_netem"),
            fail("b", "load sch_netem"),
            fail("c", "see logs of c"),
            fail("d", "load sch_netem"),
        ];
        assert_eq!(
            failure_lines(&outcomes, true),
            [
                "error: default/a: kernel without netem: 503",
                "error: default/b: kernel without netem: 503",
                "error: default/c: kernel without netem: 503",
                "  hint: see logs of c",
                "error: default/d: kernel without netem: 503",
                "hint (3 pods): load sch_netem",
            ]
        );
    }

    #[test]
    fn summary_when_all_ok() {
        let outcomes = vec![Outcome {
            pod: pod("a", true),
            result: Ok::<(), PodError>(()),
        }];
        assert_eq!(summary("clear", &outcomes), "clear: 1 pod ok");
        assert!(!any_failed(&outcomes));
        assert!(failure_lines(&outcomes, true).is_empty());
    }
}
