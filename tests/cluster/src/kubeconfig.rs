//! The kubeconfig a test cluster writes (pure rendering).

use base64::Engine;
use serde_json::json;

/// Render a kubeconfig with context "testcluster", namespace "default", CA data and token.
pub fn render(server: &str, ca_pem: &str, token: &str) -> String {
    let ca = base64::engine::general_purpose::STANDARD.encode(ca_pem);
    let v = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "testcluster", "cluster": {"server": server, "certificate-authority-data": ca}}],
        "users": [{"name": "testcluster-user", "user": {"token": token}}],
        "contexts": [{"name": "testcluster", "context": {"cluster": "testcluster", "user": "testcluster-user", "namespace": "default"}}],
        "current-context": "testcluster",
        "preferences": {},
    });
    serde_yaml::to_string(&v).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn has_context_namespace_and_token() {
        let y: serde_json::Value =
            serde_yaml::from_str(&render("https://127.0.0.1:1", "PEM", "tok")).unwrap();
        assert_eq!(y["current-context"], "testcluster");
        assert_eq!(y["contexts"][0]["context"]["namespace"], "default");
        assert_eq!(y["users"][0]["user"]["token"], "tok");
    }
}
