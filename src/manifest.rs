//! `inject -f` / `eject -f`: a manifest written back with the edit applied to every
//! TidbCluster and StatefulSet in it, before anything exists in a cluster (as
//! `istioctl kube-inject -f` does), so `kubectl netem inject -f basic.yaml | kubectl apply
//! -f -` creates pods that carry the agent from the first one, with no rolling restart.
//!
//! Pure: text in, text out. The plan is the same [`Edit::plan`] the cluster path uses, so a
//! manifest gets exactly what `inject` would patch in. Exactness: a document the edit does
//! not change is passed through byte for byte (other kinds, comments, formatting), so
//! re-injecting an injected manifest is a no-op and gives back the same bytes. A changed YAML
//! document is written out again (its leading comments kept, key order kept, other comments
//! lost); JSON input gives JSON output.
//!
//! Multi-document YAML (`---` lines), a `kind: List` (YAML or JSON) and a single JSON object
//! are understood. `--component` narrows TidbCluster components, StatefulSets by their
//! `app.kubernetes.io/component` label, and TiDB Operator v2 groups by their component.
//!
//! TiDB Operator v2: every group document (`core.pingcap.com/v1alpha1`, a kind ending in
//! `Group`: the overlay is common to all of them, and there is no server to ask which kinds
//! exist) gets the agent in its pod overlay; the `Cluster` document passes through as is.

use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use netem_api::contract::CONTAINER_NAME;
use serde_json::Value;

use crate::edit::Edit;
use crate::patch::{Change, Plan, Slot, tidbcluster_slots};
use crate::preflight;
use crate::v2;

/// The manifest after the edit, and what changed (for a summary on stderr).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edited {
    /// The manifest to write out.
    pub text: String,
    /// One line per changed object: `tidbcluster/basic: pd, tikv`.
    pub changed: Vec<String>,
    /// Objects the edit applies to but that were already as wanted.
    pub unchanged: Vec<String>,
}

/// `-f FILE` (or `-f -`): reads the manifest, writes it edited to stdout, and says on stderr
/// what changed. Nothing is contacted.
pub fn run(file: &Path, edit_: &Edit, components: &[String]) -> anyhow::Result<ExitCode> {
    let input = if file == Path::new("-") {
        std::io::read_to_string(std::io::stdin())
            .context("reading the manifest from standard input")?
    } else {
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?
    };
    if let Some(warning) = edit_.warning() {
        eprintln!("warning: {warning}");
    }
    let edited = edit(&input, edit_, components)?;
    std::io::stdout()
        .write_all(edited.text.as_bytes())
        .context("writing the manifest")?;
    let verb = match edit_ {
        Edit::Inject { .. } => "added to",
        Edit::Eject => "removed from",
    };
    for line in &edited.changed {
        eprintln!("{line}: {CONTAINER_NAME} {verb} the pod template");
    }
    for name in &edited.unchanged {
        eprintln!("{name}: unchanged");
    }
    if edited.changed.is_empty() && edited.unchanged.is_empty() {
        eprintln!(
            "note: the manifest has no TidbCluster, StatefulSet or TiDB Operator v2 group; written back as it was"
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Applies `edit` to every TidbCluster and StatefulSet of `input`.
pub fn edit(input: &str, edit: &Edit, components: &[String]) -> anyhow::Result<Edited> {
    let mut out = Edited {
        text: String::new(),
        changed: Vec::new(),
        unchanged: Vec::new(),
    };
    let mut seen_components = Vec::new();
    if looks_like_json(input) {
        let mut doc: Value = serde_json::from_str(input).context("reading the JSON manifest")?;
        if edit_doc(&mut doc, edit, components, &mut out, &mut seen_components)? {
            out.text = serde_json::to_string_pretty(&doc)? + "\n";
        } else {
            out.text = input.to_string();
        }
    } else {
        for (i, part) in split_yaml(input).into_iter().enumerate() {
            match part {
                Part::Separator(line) => out.text.push_str(line),
                Part::Doc(text) => {
                    let parsed: Option<Value> = serde_yaml::from_str(text)
                        .with_context(|| format!("reading YAML document {}", i / 2 + 1))?;
                    let Some(mut doc) = parsed.filter(|d| !d.is_null()) else {
                        out.text.push_str(text);
                        continue;
                    };
                    if edit_doc(&mut doc, edit, components, &mut out, &mut seen_components)? {
                        out.text.push_str(&leading_comments(text));
                        out.text.push_str(&serde_yaml::to_string(&doc)?);
                    } else {
                        out.text.push_str(text);
                    }
                }
            }
        }
    }
    if let Some(missing) = components.iter().find(|c| !seen_components.contains(c)) {
        anyhow::bail!(
            "--component {missing}: no TidbCluster, StatefulSet or v2 group in the manifest has it; nothing was written"
        );
    }
    Ok(out)
}

fn looks_like_json(input: &str) -> bool {
    input.trim_start().starts_with(['{', '['])
}

/// Edits one document (or the items of a `List`); true when it changed.
fn edit_doc(
    doc: &mut Value,
    edit: &Edit,
    components: &[String],
    out: &mut Edited,
    seen: &mut Vec<String>,
) -> anyhow::Result<bool> {
    if doc["kind"] == "List" {
        let mut changed = false;
        if let Some(items) = doc.get_mut("items").and_then(Value::as_array_mut) {
            for item in items {
                changed |= edit_object(item, edit, components, out, seen)?;
            }
        }
        return Ok(changed);
    }
    edit_object(doc, edit, components, out, seen)
}

/// Edits one object if it is a TidbCluster or StatefulSet; true when it changed.
fn edit_object(
    obj: &mut Value,
    edit: &Edit,
    components: &[String],
    out: &mut Edited,
    seen: &mut Vec<String>,
) -> anyhow::Result<bool> {
    let api_version = obj["apiVersion"].as_str().unwrap_or_default();
    let name = obj["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let (word, slots) = match obj["kind"].as_str() {
        Some("TidbCluster") if api_version.starts_with("pingcap.com/") => {
            let all = tidbcluster_slots(obj, &[]).with_context(|| format!("tidbcluster/{name}"))?;
            ("tidbcluster".to_string(), all)
        }
        Some(kind) if api_version == v2::API_VERSION && kind.ends_with("Group") => {
            let component = v2::component_of(kind, obj);
            let mut slot = Slot::overlay(&name);
            // --component matches the group's component (pd, tikv, ...).
            slot.name = component;
            (kind.to_ascii_lowercase(), vec![slot])
        }
        Some("StatefulSet") if api_version == "apps/v1" => {
            let label = obj
                .pointer("/metadata/labels/app.kubernetes.io~1component")
                .and_then(Value::as_str)
                .unwrap_or(&name)
                .to_string();
            let mut slot = Slot::statefulset(&name);
            slot.name = label;
            ("statefulset".to_string(), vec![slot])
        }
        _ => return Ok(false),
    };
    let display = format!("{word}/{name}");
    for s in &slots {
        if !seen.contains(&s.name) {
            seen.push(s.name.clone());
        }
    }
    let slots: Vec<Slot> = slots
        .into_iter()
        .filter(|s| components.is_empty() || components.contains(&s.name))
        .collect();
    if slots.is_empty() {
        return Ok(false);
    }
    if matches!(edit, Edit::Inject { .. }) {
        preflight::host_network(obj, &slots).with_context(|| display.clone())?;
    }
    let plan = plan_local(obj, edit, &slots).with_context(|| display.clone())?;
    if plan.is_noop() {
        out.unchanged.push(display);
        return Ok(false);
    }
    let ops: Vec<Value> = plan.slots.iter().flat_map(|s| s.ops.clone()).collect();
    let ops: json_patch::Patch = serde_json::from_value(Value::Array(ops))?;
    json_patch::patch(obj, &ops).with_context(|| format!("applying the edit to {display}"))?;
    let names: Vec<&str> = plan
        .slots
        .iter()
        .filter(|s| s.change != Change::Unchanged)
        .map(|s| s.slot.name.as_str())
        .collect();
    out.changed.push(format!("{display}: {}", names.join(", ")));
    Ok(true)
}

/// The cluster path's plan, for an object that has no resourceVersion yet: planned on a
/// copy that carries a placeholder, whose guard is then not used (only the slots' own
/// operations are applied, and their `test`s hold on the same content).
fn plan_local(obj: &Value, edit: &Edit, slots: &[Slot]) -> anyhow::Result<Plan> {
    let mut guarded = obj.clone();
    if let Some(meta) = guarded.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.entry("resourceVersion")
            .or_insert_with(|| Value::String("manifest".into()));
    }
    Ok(edit.plan(&guarded, slots)?)
}

/// A piece of a multi-document YAML text, kept verbatim.
#[derive(Debug, PartialEq, Eq)]
enum Part<'a> {
    /// A `---` line (with its newline).
    Separator(&'a str),
    /// The text between separators (possibly empty).
    Doc(&'a str),
}

/// Splits at lines that are a document marker (`---`, optionally followed by a comment).
fn split_yaml(input: &str) -> Vec<Part<'_>> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut pos = 0;
    for line in input.split_inclusive('\n') {
        let body = line.trim_end();
        let marker = body == "---" || body.starts_with("--- #");
        if marker {
            parts.push(Part::Doc(&input[start..pos]));
            parts.push(Part::Separator(line));
            start = pos + line.len();
        }
        pos += line.len();
    }
    parts.push(Part::Doc(&input[start..]));
    parts
}

/// The comment and blank lines a document starts with, kept when it is rewritten.
fn leading_comments(text: &str) -> String {
    text.split_inclusive('\n')
        .take_while(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
        .collect()
}

#[cfg(test)]
mod tests;
