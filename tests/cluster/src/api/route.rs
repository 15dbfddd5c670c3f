//! Request paths → what they address (pure).

use crate::resources::{NAMESPACES, Resource};

/// What a path addresses.
#[derive(Debug, Clone, PartialEq)]
pub enum Route {
    /// `/version`.
    Version,
    /// `/healthz`, `/livez`, `/readyz`.
    Health,
    /// `/api`.
    CoreVersions,
    /// `/apis`.
    Groups,
    /// `/apis/<group>`.
    Group(String),
    /// `/api/v1` or `/apis/<group>/<version>`.
    Resources(String, String),
    /// `/openapi/v3`.
    OpenApiRoot,
    /// `/openapi/v3/<gv>`.
    OpenApiGroup(String),
    /// A resource collection, object or subresource.
    Object(Target),
    /// Nothing served here.
    NotFound,
}

/// A resource path.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// The resource.
    pub res: &'static Resource,
    /// Namespace from the path (None: all namespaces or cluster scoped).
    pub ns: Option<String>,
    /// Object name.
    pub name: Option<String>,
    /// Subresource (`status`, `portforward`).
    pub sub: Option<String>,
}

/// Parse a request path. Served resources only; the caller checks the CRD is installed.
pub fn parse(path: &str) -> Route {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (group, version, rest) = match segs.as_slice() {
        ["version"] => return Route::Version,
        ["healthz" | "livez" | "readyz", ..] => return Route::Health,
        ["api"] => return Route::CoreVersions,
        ["openapi", "v3"] => return Route::OpenApiRoot,
        ["openapi", "v3", rest @ ..] => return Route::OpenApiGroup(rest.join("/")),
        ["apis"] => return Route::Groups,
        ["apis", g] => return Route::Group(g.to_string()),
        ["api", v] => return Route::Resources(String::new(), v.to_string()),
        ["apis", g, v] => return Route::Resources(g.to_string(), v.to_string()),
        ["api", v, rest @ ..] => ("", *v, rest),
        ["apis", g, v, rest @ ..] => (*g, *v, rest),
        _ => return Route::NotFound,
    };
    let s = |x: &str| Some(x.to_string());
    let target = match rest {
        // namespaces are cluster scoped; `namespaces/<ns>/<plural>…` addresses namespaced ones.
        ["namespaces", ns, plural, tail @ ..] if plural != &"status" && plural != &"finalize" => {
            let Some(res) = Resource::find(group, version, plural).filter(|r| r.namespaced) else {
                return Route::NotFound;
            };
            match tail {
                [] => Target {
                    res,
                    ns: s(ns),
                    name: None,
                    sub: None,
                },
                [name] => Target {
                    res,
                    ns: s(ns),
                    name: s(name),
                    sub: None,
                },
                [name, sub] => Target {
                    res,
                    ns: s(ns),
                    name: s(name),
                    sub: s(sub),
                },
                _ => return Route::NotFound,
            }
        }
        [plural, tail @ ..] => {
            let Some(res) = Resource::find(group, version, plural) else {
                return Route::NotFound;
            };
            match (res.namespaced, tail) {
                (_, []) => Target {
                    res,
                    ns: None,
                    name: None,
                    sub: None,
                },
                (false, [name]) => Target {
                    res,
                    ns: None,
                    name: s(name),
                    sub: None,
                },
                (false, [name, sub]) if std::ptr::eq(res, &NAMESPACES) => Target {
                    res,
                    ns: None,
                    name: s(name),
                    sub: s(sub),
                },
                _ => return Route::NotFound,
            }
        }
        [] => return Route::NotFound,
    };
    Route::Object(target)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::{PODS, TIDBCLUSTERS};

    #[test]
    fn parses_paths() {
        assert_eq!(parse("/api"), Route::CoreVersions);
        assert_eq!(
            parse("/apis/pingcap.com/v1alpha1"),
            Route::Resources("pingcap.com".into(), "v1alpha1".into())
        );
        let Route::Object(t) = parse("/api/v1/namespaces/default/pods/basic-pd-0/portforward")
        else {
            panic!()
        };
        assert!(std::ptr::eq(t.res, &PODS));
        assert_eq!(
            (t.ns.as_deref(), t.name.as_deref(), t.sub.as_deref()),
            (Some("default"), Some("basic-pd-0"), Some("portforward"))
        );
        let Route::Object(t) = parse("/apis/pingcap.com/v1alpha1/tidbclusters") else {
            panic!()
        };
        assert!(std::ptr::eq(t.res, &TIDBCLUSTERS));
        assert_eq!(t.ns, None);
        let Route::Object(t) = parse("/api/v1/namespaces/kube-system") else {
            panic!()
        };
        assert!(std::ptr::eq(t.res, &NAMESPACES));
        assert_eq!(t.name.as_deref(), Some("kube-system"));
        assert_eq!(
            parse("/api/v1/namespaces/default/services"),
            Route::NotFound
        );
        assert_eq!(parse("/api/v1/pods/x"), Route::NotFound);
    }
}
