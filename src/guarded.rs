//! One object as last read from the server, changed by guarded JSON Patches
//! ([`crate::patch`]): sent with the server's dry run, or applied and, on 409 Conflict (or a
//! 422 from the patch's own `test` after a concurrent change), re-read and re-planned a few
//! times. The one such loop: TidbClusters and StatefulSets ([`crate::workload`]) and TiDB
//! Operator v2 groups ([`crate::group`]) hold their objects in it.

use std::time::Duration;

use kube::api::{Api, DynamicObject, Patch, PatchParams};
use serde_json::Value;

use crate::errors::{api_status, cannot};
use crate::patch::Plan;

/// How many times a patch is re-planned after a concurrent change before giving up.
const MAX_ATTEMPTS: usize = 5;

/// An object and the API it came from.
pub struct Guarded {
    /// The API of its resource, in its namespace.
    pub api: Api<DynamicObject>,
    /// Its name.
    pub name: String,
    /// Its namespace.
    pub namespace: String,
    /// `pdgroup/pd`, for messages.
    pub display: String,
    /// The resource and name as errors say it: `pdgroups.core.pingcap.com "pd"`.
    pub what: String,
    /// The object as last read (or as the last patch returned it).
    pub obj: Value,
}

impl Guarded {
    /// Reads the object again.
    pub async fn reload(&mut self) -> anyhow::Result<()> {
        let obj = self
            .api
            .get(&self.name)
            .await
            .map_err(|e| cannot(e, "get", &self.what, &self.namespace))?;
        self.obj = serde_json::to_value(obj)?;
        Ok(())
    }

    async fn send(&self, patch: &Value, dry_run: bool) -> Result<Value, kube::Error> {
        let ops: json_patch::Patch =
            serde_json::from_value(patch.clone()).map_err(kube::Error::SerdeError)?;
        let params = PatchParams {
            field_manager: Some("kubectl-netem".into()),
            dry_run,
            ..PatchParams::default()
        };
        let obj = self
            .api
            .patch(&self.name, &params, &Patch::Json::<()>(ops))
            .await?;
        serde_json::to_value(obj).map_err(kube::Error::SerdeError)
    }

    /// Sends `plan`'s patch with the server's dry run.
    pub async fn dry_run(&self, plan: &Plan) -> anyhow::Result<()> {
        self.send(&plan.patch(), true)
            .await
            .map(|_| ())
            .map_err(|e| cannot(e, "patch (dry run)", &self.what, &self.namespace))
    }

    /// Plans with `plan` from the object held, sends the guarded patch, and on a conflict
    /// re-reads and re-plans; returns the plan applied (a no-op plan when someone else made
    /// the change meanwhile). The object held is then what the server returned.
    pub async fn apply(
        &mut self,
        plan: impl Fn(&Value) -> anyhow::Result<Plan>,
    ) -> anyhow::Result<Plan> {
        for attempt in 1..=MAX_ATTEMPTS {
            let current = plan(&self.obj)?;
            if current.is_noop() {
                return Ok(current);
            }
            let read_version = current.resource_version.clone();
            match self.send(&current.patch(), false).await {
                Ok(obj) => {
                    self.obj = obj;
                    return Ok(current);
                }
                Err(err)
                    if api_status(&err).is_some_and(|s| s.is_conflict() || s.is_invalid())
                        && attempt < MAX_ATTEMPTS =>
                {
                    let invalid = api_status(&err).is_some_and(|s| s.is_invalid());
                    let code = api_status(&err).map_or(0, |s| s.code);
                    self.reload().await?;
                    let now = self
                        .obj
                        .pointer("/metadata/resourceVersion")
                        .and_then(Value::as_str);
                    // A 422 on an object nobody touched is our patch being invalid, not a race.
                    if invalid && now == Some(read_version.as_str()) {
                        return Err(cannot(err, "patch", &self.what, &self.namespace));
                    }
                    eprintln!(
                        "{} changed meanwhile (HTTP {code}); re-reading and trying again",
                        self.display
                    );
                    tokio::time::sleep(Duration::from_millis(100 * attempt as u64)).await;
                }
                Err(err) => return Err(cannot(err, "patch", &self.what, &self.namespace)),
            }
        }
        anyhow::bail!(
            "{} kept changing while patching it; gave up after {MAX_ATTEMPTS} attempts",
            self.display
        )
    }
}
