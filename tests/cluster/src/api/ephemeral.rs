//! `pods/<name>/ephemeralcontainers` (Kubernetes ≥ 1.25): GET answers the pod; PUT and PATCH
//! (JSON, merge, strategic merge) change `spec.ephemeralContainers` and nothing else: the
//! real strategy copies the stored pod and takes only that list (plus name, namespace, uid
//! and resourceVersion, so preconditions still apply) from the request, defaults the new
//! entries, then validates with `ValidatePodEphemeralContainersUpdate`.

use serde_json::{Value, json};

use super::objects::Ctx;
use crate::patch::{self, PatchType};
use crate::resources::PODS;
use crate::state::lock;
use crate::status::ApiError;
use crate::store::Part;

/// GET: the pod, as the real subresource answers it.
pub fn get(ctx: &Ctx) -> Result<Value, ApiError> {
    lock(&ctx.shared.store)
        .get(&PODS, ctx.ns(), ctx.name())
        .ok_or_else(|| ApiError::not_found(&PODS, ctx.name()))
}

/// PUT: a whole pod; only its ephemeral containers are taken.
pub fn update(ctx: &Ctx, body: &[u8]) -> Result<Value, ApiError> {
    let sent = Ctx::body_object(body)?;
    ctx.check_kind(&sent)?;
    write(ctx, |_| Ok(sent))
}

/// PATCH: applied to the stored pod; only the result's ephemeral containers are taken.
pub fn patch(ctx: &Ctx, body: &[u8]) -> Result<Value, ApiError> {
    let pt = PatchType::for_request(&PODS, ctx.content_type)?;
    write(ctx, |live| match pt {
        PatchType::Json => patch::json_patch(live, body),
        PatchType::Merge => patch::merge_patch(live, body),
        PatchType::Strategic => patch::strategic_patch(live, body),
        // Server-side apply on built-ins is not modelled (see the crate docs).
        PatchType::Apply => Err(ApiError::unsupported_media_type(&[
            "application/json-patch+json",
            "application/merge-patch+json",
            "application/strategic-merge-patch+json",
        ])),
    })
}

fn write(
    ctx: &Ctx,
    candidate: impl FnOnce(&Value) -> Result<Value, ApiError>,
) -> Result<Value, ApiError> {
    let dry = ctx.dry_run()?;
    let (ns, name) = (ctx.ns(), ctx.name());
    let mut store = lock(&ctx.shared.store);
    store.before_api_write(&PODS, ns, name);
    let live = store
        .get(&PODS, ns, name)
        .ok_or_else(|| ApiError::not_found(&PODS, name))?;
    let sent = candidate(&live)?;
    let mut next = live.clone();
    for f in ["resourceVersion", "uid"] {
        match sent["metadata"].get(f) {
            Some(v) => next["metadata"][f] = v.clone(),
            None => {
                next["metadata"].as_object_mut().map(|m| m.remove(f));
            }
        }
    }
    let mut ecs = sent["spec"]["ephemeralContainers"].clone();
    if let Some(list) = ecs.as_array_mut() {
        list.iter_mut().for_each(default_container);
    }
    match ecs {
        Value::Null => {
            next["spec"]
                .as_object_mut()
                .map(|m| m.remove("ephemeralContainers"));
        }
        v => next["spec"]["ephemeralContainers"] = v,
    }
    store.update_part(
        &PODS,
        ns,
        name,
        next,
        None,
        &ctx.manager(),
        dry,
        Part::EphemeralContainers,
    )
}

/// The API server's defaults for a container (`SetDefaults_Container`): termination message
/// path and policy, and the pull policy from the image's tag.
pub fn default_container(c: &mut Value) {
    let Some(m) = c.as_object_mut() else { return };
    m.entry("terminationMessagePath")
        .or_insert(json!("/dev/termination-log"));
    m.entry("terminationMessagePolicy").or_insert(json!("File"));
    let image = m.get("image").and_then(Value::as_str).unwrap_or("");
    let last = image.rsplit('/').next().unwrap_or("");
    let latest = !image.contains('@') && last.split_once(':').is_none_or(|(_, t)| t == "latest");
    m.entry("imagePullPolicy")
        .or_insert(json!(if latest { "Always" } else { "IfNotPresent" }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pull_policy_default_follows_the_tag() {
        for (image, want) in [
            ("busybox", "Always"),
            ("busybox:latest", "Always"),
            ("busybox:1.36", "IfNotPresent"),
            ("localhost:5000/agent", "Always"),
            ("ghcr.io/x/agent:0.1.0", "IfNotPresent"),
            ("agent@sha256:abc", "IfNotPresent"),
        ] {
            let mut c = json!({"name": "c", "image": image});
            default_container(&mut c);
            assert_eq!(c["imagePullPolicy"], want, "{image}");
            assert_eq!(c["terminationMessagePolicy"], "File");
        }
        let mut c = json!({"name": "c", "image": "x", "imagePullPolicy": "Never"});
        default_container(&mut c);
        assert_eq!(c["imagePullPolicy"], "Never");
    }
}
