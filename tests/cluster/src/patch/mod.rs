//! Patch semantics of the API server: JSON Patch (RFC 6902), JSON merge patch (RFC 7386),
//! strategic merge patch (built-in types) and server-side apply (field ownership per manager).
//! Pure functions on `serde_json::Value`; the handlers add storage and preconditions.

pub mod apply;
pub mod strategic;

use serde_json::Value;

use crate::resources::{PatchSupport, Resource};
use crate::status::ApiError;

/// The patch types, by request `Content-Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchType {
    /// `application/json-patch+json`.
    Json,
    /// `application/merge-patch+json`.
    Merge,
    /// `application/strategic-merge-patch+json`.
    Strategic,
    /// `application/apply-patch+yaml`.
    Apply,
}

impl PatchType {
    /// Which patch type a content type names, if the resource accepts it; else 415 worded
    /// as the real server words it.
    pub fn for_request(res: &Resource, content_type: &str) -> Result<Self, ApiError> {
        let mime = content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        let t = match mime.as_str() {
            "application/json-patch+json" => Some(PatchType::Json),
            "application/merge-patch+json" => Some(PatchType::Merge),
            "application/strategic-merge-patch+json" => Some(PatchType::Strategic),
            "application/apply-patch+yaml" => Some(PatchType::Apply),
            _ => None,
        };
        match (t, res.patch) {
            (Some(PatchType::Strategic), PatchSupport::Custom) | (None, _) => {
                Err(ApiError::unsupported_media_type(res.accepted_patch_types()))
            }
            (Some(t), _) => Ok(t),
        }
    }
}

/// Apply an RFC 6902 JSON Patch. A malformed document is 400; an operation that does not
/// apply (failing `test`, missing path) is 422, as kube-apiserver answers.
pub fn json_patch(doc: &Value, body: &[u8]) -> Result<Value, ApiError> {
    let ops: json_patch::Patch =
        serde_json::from_slice(body).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let mut out = doc.clone();
    json_patch::patch(&mut out, &ops).map_err(|_| ApiError::patch_failed())?;
    Ok(out)
}

/// Apply an RFC 7386 JSON merge patch (lists are replaced whole, `null` deletes).
pub fn merge_patch(doc: &Value, body: &[u8]) -> Result<Value, ApiError> {
    let p: Value =
        serde_json::from_slice(body).map_err(|e| ApiError::bad_request(e.to_string()))?;
    if !p.is_object() {
        return Err(ApiError::bad_request(
            "couldn't get version/kind; json parse error: merge patch must be a JSON object",
        ));
    }
    let mut out = doc.clone();
    json_patch::merge(&mut out, &p);
    Ok(out)
}

/// Apply a strategic merge patch (built-in types only).
pub fn strategic_patch(doc: &Value, body: &[u8]) -> Result<Value, ApiError> {
    let p: Value =
        serde_json::from_slice(body).map_err(|e| ApiError::bad_request(e.to_string()))?;
    strategic::merge(doc, &p).map_err(ApiError::bad_request)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::{STATEFULSETS, TIDBCLUSTERS};
    use serde_json::json;

    #[test]
    fn strategic_on_custom_resource_is_415() {
        let e = PatchType::for_request(&TIDBCLUSTERS, "application/strategic-merge-patch+json")
            .unwrap_err();
        assert_eq!(e.code, 415);
        assert_eq!(
            e.message,
            "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"
        );
        assert_eq!(
            PatchType::for_request(
                &STATEFULSETS,
                "application/strategic-merge-patch+json; charset=utf-8"
            )
            .unwrap(),
            PatchType::Strategic
        );
    }

    #[test]
    fn json_patch_test_failure_is_422() {
        let doc = json!({"metadata": {"resourceVersion": "5"}, "spec": {}});
        let body = br#"[{"op":"test","path":"/metadata/resourceVersion","value":"4"},{"op":"add","path":"/spec/x","value":1}]"#;
        let e = json_patch(&doc, body).unwrap_err();
        assert_eq!(e.code, 422);
        assert_eq!(e.reason, "Invalid");
        assert_eq!(
            e.message,
            "the server rejected our request due to an error in our request"
        );
        assert_eq!(e.details, Some(json!({})));
        let ok = br#"[{"op":"test","path":"/metadata/resourceVersion","value":"5"},{"op":"add","path":"/spec/x","value":1}]"#;
        assert_eq!(json_patch(&doc, ok).unwrap()["spec"]["x"], 1);
    }

    #[test]
    fn json_patch_bad_path_is_422_and_garbage_is_400() {
        let doc = json!({"spec": {}});
        let e = json_patch(
            &doc,
            br#"[{"op":"add","path":"/spec/pd/additionalContainers/-","value":{}}]"#,
        )
        .unwrap_err();
        assert_eq!(e.code, 422);
        assert_eq!(json_patch(&doc, b"{not json").unwrap_err().code, 400);
    }

    #[test]
    fn merge_patch_replaces_lists_and_null_deletes() {
        let doc = json!({"spec": {"pd": {"replicas": 1, "additionalContainers": [{"name": "a"}]}, "tidb": {}}});
        let out = merge_patch(
            &doc,
            br#"{"spec":{"pd":{"additionalContainers":[{"name":"b"}]},"tidb":null}}"#,
        )
        .unwrap();
        assert_eq!(
            out,
            json!({"spec": {"pd": {"replicas": 1, "additionalContainers": [{"name": "b"}]}}})
        );
    }
}
