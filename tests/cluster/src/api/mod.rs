//! The API server's request handling: discovery, RBAC, and the verbs on objects.

pub mod ephemeral;
pub mod objects;
pub mod query;
pub mod route;
pub mod table;
pub mod watch;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, combinators::BoxBody};
use hyper::body::Incoming;
use hyper::{Method, Request, Response};
use serde_json::Value;

use crate::resources::{self, PODS, TIDBCLUSTERS};
use crate::state::{Shared, lock};
use crate::status::ApiError;
use route::{Route, Target};

/// Response body type of the server.
pub type Body = BoxBody<Bytes, std::io::Error>;

/// A complete body.
pub fn full(b: impl Into<Bytes>) -> Body {
    Full::new(b.into()).map_err(|never| match never {}).boxed()
}

/// A JSON response.
pub fn json_response(code: u16, v: &Value) -> Response<Body> {
    Response::builder()
        .status(code)
        .header("content-type", "application/json")
        .body(full(serde_json::to_vec(v).unwrap_or_default()))
        .expect("valid response")
}

/// A Status error response.
pub fn error_response(e: &ApiError) -> Response<Body> {
    json_response(e.code, &e.to_status())
}

/// Header value as a string.
pub fn header<'a, B>(req: &'a Request<B>, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// The RBAC verb of a request.
fn verb(method: &Method, t: &Target, watch: bool) -> &'static str {
    match (method.as_str(), t.name.is_some()) {
        (_, _) if t.sub.as_deref() == Some("portforward") => "create",
        ("GET", true) => "get",
        ("GET", false) if watch => "watch",
        ("GET", false) => "list",
        ("POST", _) => "create",
        ("PUT", _) => "update",
        ("PATCH", _) => "patch",
        ("DELETE", true) => "delete",
        ("DELETE", false) => "deletecollection",
        _ => "unknown",
    }
}

fn discovery(shared: &Shared, route: &Route) -> Result<Value, ApiError> {
    let crd = shared.crd_installed.load(Ordering::Relaxed);
    let doc = match route {
        Route::Version => Some(resources::version()),
        Route::CoreVersions => Some(resources::core_versions(
            lock(&shared.server_url).trim_start_matches("https://"),
        )),
        Route::Groups => Some(resources::group_list(crd)),
        Route::Group(g) => resources::group_doc(g, crd),
        Route::Resources(g, v) => resources::resource_list(g, v, crd),
        Route::OpenApiRoot => Some(resources::openapi_v3_root(crd)),
        Route::OpenApiGroup(gv) => resources::openapi_v3_group(gv, crd),
        _ => None,
    };
    doc.ok_or_else(ApiError::path_not_found)
}

/// Serve one authenticated API request.
pub async fn serve(shared: Arc<Shared>, req: Request<Incoming>) -> Response<Body> {
    let route = route::parse(req.uri().path());
    match route {
        Route::Health => Response::new(full("ok")),
        Route::Object(t) => match object(shared, req, t).await {
            Ok(r) => r,
            Err(e) => error_response(&e),
        },
        Route::NotFound => error_response(&ApiError::path_not_found()),
        other if req.method() == Method::GET => match discovery(&shared, &other) {
            Ok(v) => json_response(200, &v),
            Err(e) => error_response(&e),
        },
        _ => error_response(&ApiError::method_not_allowed(
            "the server does not allow this method on the requested resource",
        )),
    }
}

async fn object(
    shared: Arc<Shared>,
    req: Request<Incoming>,
    t: Target,
) -> Result<Response<Body>, ApiError> {
    if std::ptr::eq(t.res, &TIDBCLUSTERS) && !shared.crd_installed.load(Ordering::Relaxed) {
        return Err(ApiError::path_not_found());
    }
    let q = query::parse(req.uri().query().unwrap_or(""));
    let watch = matches!(query::get(&q, "watch"), Some("true" | "1"));
    let verb = verb(req.method(), &t, watch);
    let resource = match &t.sub {
        Some(s) if s != "status" || verb != "get" => format!("{}/{s}", t.res.plural),
        _ => t.res.plural.to_string(),
    };
    let denied = {
        let d = lock(&shared.denied);
        d.contains(&(verb.to_string(), resource.clone()))
            || d.contains(&("*".to_string(), resource.clone()))
    };
    if denied {
        return Err(ApiError::forbidden(
            t.res,
            t.sub.as_deref(),
            verb,
            t.ns.as_deref(),
            t.name.as_deref(),
            &shared.user,
        ));
    }
    if t.sub.as_deref() == Some("portforward") {
        return crate::portforward::handle(shared, req, t, &q).await;
    }
    let ephemeral = std::ptr::eq(t.res, &PODS) && t.sub.as_deref() == Some("ephemeralcontainers");
    match t.sub.as_deref() {
        None => {}
        Some("status") if verb == "get" => {}
        Some("ephemeralcontainers") if ephemeral && t.name.is_some() => {}
        Some(_) => return Err(ApiError::path_not_found()),
    }
    if t.res.namespaced && t.name.is_some() && t.ns.is_none() {
        return Err(ApiError::path_not_found());
    }
    let accept = header(&req, "accept").unwrap_or("").to_string();
    let content_type = header(&req, "content-type").unwrap_or("").to_string();
    let user_agent = header(&req, "user-agent").unwrap_or("unknown").to_string();
    let method = req.method().clone();
    if matches!(method, Method::GET) && watch {
        return watch::handle(shared, t, &q, &accept);
    }
    let body = req
        .into_body()
        .collect()
        .await
        .map_err(|e| ApiError::bad_request(e.to_string()))?
        .to_bytes();
    let ctx = objects::Ctx {
        shared: &shared,
        t: &t,
        q: &q,
        accept: &accept,
        content_type: &content_type,
        user_agent: &user_agent,
    };
    let (code, v) = match method {
        Method::GET if ephemeral => (200, ephemeral::get(&ctx)?),
        Method::PUT if ephemeral => (200, ephemeral::update(&ctx, &body)?),
        Method::PATCH if ephemeral => (200, ephemeral::patch(&ctx, &body)?),
        _ if ephemeral => {
            return Err(ApiError::method_not_allowed(
                "the server does not allow this method on the requested resource",
            ));
        }
        Method::GET if t.name.is_some() => (200, ctx.get()?),
        Method::GET => (200, ctx.list()?),
        Method::POST if t.name.is_none() => (201, ctx.create(&body)?),
        Method::PUT if t.name.is_some() => (200, ctx.update(&body)?),
        Method::PATCH if t.name.is_some() => (200, ctx.patch(&body)?),
        Method::DELETE if t.name.is_some() => (200, ctx.delete()?),
        _ => {
            return Err(ApiError::method_not_allowed(
                "the server does not allow this method on the requested resource",
            ));
        }
    };
    Ok(json_response(code, &v))
}

/// Whether the client asked for a Table.
pub fn wants_table(accept: &str) -> bool {
    accept
        .split(',')
        .next()
        .is_some_and(|first| first.contains("as=Table"))
}
