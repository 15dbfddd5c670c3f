//! Label and field selectors as the API server parses and matches them.

use std::collections::BTreeMap;

use serde_json::Value;

/// A parse error, worded like the apiserver's 400 message.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct SelectorError(pub String);

/// One requirement of a label selector.
#[derive(Debug, Clone, PartialEq)]
pub enum Requirement {
    /// `key` exists.
    Exists(String),
    /// `!key`.
    NotExists(String),
    /// `key=v`, `key==v`, `key in (v1,v2)`.
    In(String, Vec<String>),
    /// `key!=v`, `key notin (v1,v2)` (also matches objects without the key).
    NotIn(String, Vec<String>),
}

/// A parsed label selector: all requirements must hold.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LabelSelector(pub Vec<Requirement>);

/// Split on commas outside parentheses.
fn split_top(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0i32, 0usize);
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

fn set_values(rest: &str, whole: &str) -> Result<Vec<String>, SelectorError> {
    let rest = rest.trim();
    let inner = rest
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .ok_or_else(|| {
            SelectorError(format!(
                "unable to parse requirement: found '{whole}', expected: '('"
            ))
        })?;
    Ok(inner
        .split(',')
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect())
}

fn check_key(key: &str) -> Result<String, SelectorError> {
    let key = key.trim();
    let ok = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c));
    if ok {
        Ok(key.to_string())
    } else {
        Err(SelectorError(format!(
            "unable to parse requirement: invalid label key \"{key}\""
        )))
    }
}

impl LabelSelector {
    /// Parse the `labelSelector` query value.
    pub fn parse(s: &str) -> Result<Self, SelectorError> {
        let mut reqs = Vec::new();
        if s.trim().is_empty() {
            return Ok(LabelSelector(reqs));
        }
        for part in split_top(s) {
            let p = part.trim();
            if p.is_empty() {
                return Err(SelectorError(format!(
                    "unable to parse requirement: found ',' in \"{s}\""
                )));
            }
            let req = if let Some(k) = p.strip_prefix('!') {
                Requirement::NotExists(check_key(k)?)
            } else if let Some((k, v)) = p.split_once("!=") {
                Requirement::NotIn(check_key(k)?, vec![v.trim().to_string()])
            } else if let Some((k, v)) = p.split_once("==").or_else(|| p.split_once('=')) {
                Requirement::In(check_key(k)?, vec![v.trim().to_string()])
            } else if let Some((k, rest)) = p.split_once(" notin ") {
                Requirement::NotIn(check_key(k)?, set_values(rest, p)?)
            } else if let Some((k, rest)) = p.split_once(" in ") {
                Requirement::In(check_key(k)?, set_values(rest, p)?)
            } else {
                Requirement::Exists(check_key(p)?)
            };
            reqs.push(req);
        }
        Ok(LabelSelector(reqs))
    }

    /// Build from a `matchLabels` map (StatefulSet selectors).
    pub fn from_match_labels(labels: &BTreeMap<String, String>) -> Self {
        LabelSelector(
            labels
                .iter()
                .map(|(k, v)| Requirement::In(k.clone(), vec![v.clone()]))
                .collect(),
        )
    }

    /// Whether an object's labels satisfy every requirement.
    pub fn matches(&self, obj: &Value) -> bool {
        let labels = &obj["metadata"]["labels"];
        let get = |k: &str| labels.get(k).and_then(Value::as_str);
        self.0.iter().all(|r| match r {
            Requirement::Exists(k) => get(k).is_some(),
            Requirement::NotExists(k) => get(k).is_none(),
            Requirement::In(k, vs) => get(k).is_some_and(|v| vs.iter().any(|x| x == v)),
            Requirement::NotIn(k, vs) => get(k).is_none_or(|v| !vs.iter().any(|x| x == v)),
        })
    }
}

/// A parsed field selector (`metadata.name=x,status.phase!=Running`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FieldSelector(pub Vec<(String, bool, String)>);

/// Fields a pod can be selected on (the real pod field-label conversion set).
const POD_FIELDS: &[&str] = &[
    "metadata.name",
    "metadata.namespace",
    "spec.nodeName",
    "spec.restartPolicy",
    "spec.schedulerName",
    "spec.serviceAccountName",
    "spec.hostNetwork",
    "status.phase",
    "status.podIP",
    "status.nominatedNodeName",
];

impl FieldSelector {
    /// Parse `fieldSelector`; `kind` decides which fields are supported.
    pub fn parse(s: &str, kind: &str) -> Result<Self, SelectorError> {
        let mut out = Vec::new();
        if s.trim().is_empty() {
            return Ok(FieldSelector(out));
        }
        for part in s.split(',') {
            let (k, eq, v) = if let Some((k, v)) = part.split_once("!=") {
                (k, false, v)
            } else if let Some((k, v)) = part.split_once("==").or_else(|| part.split_once('=')) {
                (k, true, v)
            } else {
                return Err(SelectorError(format!(
                    "invalid selector: '{s}'; can't understand '{part}'"
                )));
            };
            let k = k.trim();
            let supported = matches!(k, "metadata.name" | "metadata.namespace")
                || (kind == "Pod" && POD_FIELDS.contains(&k));
            if !supported {
                return Err(SelectorError(format!("field label not supported: {k}")));
            }
            out.push((k.to_string(), eq, v.trim().to_string()));
        }
        Ok(FieldSelector(out))
    }

    /// Whether an object matches.
    pub fn matches(&self, obj: &Value) -> bool {
        self.0.iter().all(|(k, eq, v)| {
            let mut cur = obj;
            for seg in k.split('.') {
                cur = &cur[seg];
            }
            let actual = match cur {
                Value::String(s) => s.clone(),
                Value::Bool(b) => b.to_string(),
                Value::Null if k == "spec.hostNetwork" => "false".into(),
                Value::Null => String::new(),
                other => other.to_string(),
            };
            (actual == *v) == *eq
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(labels: Value) -> Value {
        json!({"metadata": {"name": "basic-pd-0", "namespace": "default", "labels": labels}, "spec": {}, "status": {"phase": "Running"}})
    }

    #[test]
    fn equality_and_sets() {
        let p = pod(
            json!({"app.kubernetes.io/component": "pd", "app.kubernetes.io/instance": "basic"}),
        );
        let m = |s: &str| LabelSelector::parse(s).unwrap().matches(&p);
        assert!(m("app.kubernetes.io/component=pd"));
        assert!(m(
            "app.kubernetes.io/component==pd,app.kubernetes.io/instance=basic"
        ));
        assert!(!m("app.kubernetes.io/component=tikv"));
        assert!(m("app.kubernetes.io/component in (tikv, pd)"));
        assert!(!m("app.kubernetes.io/component notin (pd)"));
        assert!(m("app.kubernetes.io/component!=tidb"));
        assert!(m("missing!=x"));
        assert!(m("app.kubernetes.io/instance"));
        assert!(!m("!app.kubernetes.io/instance"));
        assert!(m(""));
    }

    #[test]
    fn bad_selectors_are_errors() {
        assert!(LabelSelector::parse("a in b").is_err());
        assert!(LabelSelector::parse("a,,b").is_err());
        assert!(LabelSelector::parse("a b=c").is_err());
    }

    #[test]
    fn field_selectors() {
        let p = pod(json!({}));
        let f = |s: &str| FieldSelector::parse(s, "Pod").unwrap().matches(&p);
        assert!(f("metadata.name=basic-pd-0"));
        assert!(!f("metadata.name=basic-pd-1"));
        assert!(f("status.phase!=Pending"));
        assert!(f("spec.hostNetwork=false"));
        assert_eq!(
            FieldSelector::parse("spec.foo=1", "Pod").unwrap_err().0,
            "field label not supported: spec.foo"
        );
        assert!(FieldSelector::parse("status.phase=x", "StatefulSet").is_err());
    }
}
