//! `?watch=true`: a stream of newline-delimited `{"type":…,"object":…}` events.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use http_body_util::{BodyExt, StreamBody};
use hyper::Response;
use hyper::body::Frame;
use serde_json::{Value, json};
use tokio::sync::broadcast::error::RecvError;

use super::route::Target;
use super::{Body, query, table};
use crate::selector::{FieldSelector, LabelSelector};
use crate::state::{Shared, lock};
use crate::status::ApiError;

/// How each event's object is rendered: as stored, or as a one-row Table (kubectl get -w),
/// column definitions on the first event only, as the real server sends them.
struct Render {
    table: Option<(&'static str, String)>,
    first: bool,
}

impl Render {
    fn line(&mut self, kind: &str, obj: &Value) -> Bytes {
        match &self.table {
            None => line(kind, obj),
            Some((res_kind, include)) => {
                let mut t = table::table(res_kind, std::slice::from_ref(obj), None, include);
                if !self.first {
                    t["columnDefinitions"] = json!([]);
                }
                self.first = false;
                line(kind, &t)
            }
        }
    }
}

fn line(kind: &str, obj: &Value) -> Bytes {
    let mut v = serde_json::to_vec(&json!({"type": kind, "object": obj})).unwrap_or_default();
    v.push(b'\n');
    Bytes::from(v)
}

/// Start a watch.
pub fn handle(
    shared: Arc<Shared>,
    t: Target,
    q: &[(String, String)],
    accept: &str,
) -> Result<Response<Body>, ApiError> {
    let labels = LabelSelector::parse(query::get(q, "labelSelector").unwrap_or(""))
        .map_err(|e| ApiError::bad_request(e.0))?;
    let fields = FieldSelector::parse(query::get(q, "fieldSelector").unwrap_or(""), t.res.kind)
        .map_err(|e| ApiError::bad_request(e.0))?;
    let since: u64 = query::get(q, "resourceVersion")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let timeout = query::get(q, "timeoutSeconds")
        .and_then(|v| v.parse().ok())
        .map(Duration::from_secs)
        .unwrap_or(Duration::from_secs(1800));
    let (backlog, mut rx) = {
        let store = lock(&shared.store);
        let rx = store.subscribe_events();
        let backlog: Vec<(String, Value)> = if since == 0 {
            store
                .list(t.res, t.ns.as_deref())
                .into_iter()
                .map(|o| ("ADDED".to_string(), o))
                .collect()
        } else {
            match store.events_since(t.res, since) {
                Some(evs) => evs
                    .iter()
                    .filter(|e| t.ns.as_deref().is_none_or(|ns| ns == e.ns))
                    .map(|e| (e.kind.to_string(), e.obj.clone()))
                    .collect(),
                None => {
                    return Err(ApiError {
                        code: 410,
                        reason: "Expired",
                        message: format!("too old resource version: {since}"),
                        details: None,
                    });
                }
            }
        };
        (backlog, rx)
    };
    let res = t.res.qualified();
    let ns = t.ns.clone();
    let matches = move |o: &Value| labels.matches(o) && fields.matches(o);
    let mut render = Render {
        table: super::wants_table(accept).then(|| {
            let include = query::get(q, "includeObject")
                .unwrap_or("Metadata")
                .to_string();
            (t.res.kind, include)
        }),
        first: true,
    };
    let (tx, out) = tokio::sync::mpsc::channel::<Bytes>(64);
    tokio::spawn(async move {
        let deadline = tokio::time::Instant::now() + timeout;
        for (kind, obj) in backlog {
            if matches(&obj) && tx.send(render.line(&kind, &obj)).await.is_err() {
                return;
            }
        }
        loop {
            let ev = tokio::select! {
                ev = rx.recv() => ev,
                _ = tokio::time::sleep_until(deadline) => return,
                _ = tx.closed() => return,
            };
            match ev {
                Ok(e)
                    if e.res == res
                        && ns.as_deref().is_none_or(|n| n == e.ns)
                        && matches(&e.obj) =>
                {
                    if tx.send(render.line(e.kind, &e.obj)).await.is_err() {
                        return;
                    }
                }
                Ok(_) => {}
                // A slow watcher is cut off; clients re-list, as with a real server.
                Err(RecvError::Lagged(_)) | Err(RecvError::Closed) => return,
            }
        }
    });
    let stream = futures::stream::unfold(out, |mut rx| async move {
        rx.recv()
            .await
            .map(|b| (Ok::<_, std::io::Error>(Frame::data(b)), rx))
    });
    Ok(Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .body(BodyExt::boxed(StreamBody::new(stream)))
        .expect("valid response"))
}
