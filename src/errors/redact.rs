//! Keeping credentials out of what is printed: every value read from a kubeconfig's user
//! entries (and `--token`) is remembered and blanked out, and so is anything shaped like a
//! credential (a JWT, a `Bearer` value, a `token:`/`password:` value, a PEM private key, a
//! long mixed-case run like a base64 token).

use std::sync::Mutex;

use kube::config::Kubeconfig;
use serde_json::Value;

/// What a credential is replaced with.
pub const REDACTED: &str = "[redacted]";

/// Values shorter than this are not remembered (they would blank out ordinary words).
const MIN_SECRET_LEN: usize = 8;

static SECRETS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Remembers one credential to blank out of every later message.
pub fn remember_secret(secret: &str) {
    let secret = secret.trim();
    if secret.len() >= MIN_SECRET_LEN {
        let mut all = SECRETS.lock().unwrap_or_else(|e| e.into_inner());
        if !all.iter().any(|s| s == secret) {
            all.push(secret.to_string());
        }
    }
}

/// Keys of a kubeconfig user entry whose values are names or paths, not credentials.
const NOT_SECRET: &[&str] = &[
    "command",
    "apiVersion",
    "installHint",
    "interactiveMode",
    "client-certificate",
    "client-key",
    "tokenFile",
    "as",
    "as-uid",
    "as-groups",
    "name",
    "username",
];

/// Remembers every string in every user entry of `config` (tokens, passwords, keys,
/// auth-provider settings, exec arguments and environment values).
pub fn remember_kubeconfig_secrets(config: &Kubeconfig) {
    fn walk(key: Option<&str>, v: &Value) {
        match v {
            Value::String(s) if key.is_none_or(|k| !NOT_SECRET.contains(&k)) => remember_secret(s),
            Value::Array(items) => items.iter().for_each(|i| walk(key, i)),
            Value::Object(map) => map.iter().for_each(|(k, v)| walk(Some(k), v)),
            _ => {}
        }
    }
    for user in &config.auth_infos {
        if let Ok(v) = serde_json::to_value(&user.auth_info) {
            walk(None, &v);
        }
    }
}

/// `text` with every remembered credential and credential-shaped word replaced.
pub fn redact(text: &str) -> String {
    let mut out = text.to_string();
    {
        let all = SECRETS.lock().unwrap_or_else(|e| e.into_inner());
        for secret in all.iter() {
            out = out.replace(secret.as_str(), REDACTED);
        }
    }
    let out = redact_private_keys(&out);
    let words: Vec<&str> = out.split_inclusive(char::is_whitespace).collect();
    let mut result = String::with_capacity(out.len());
    let mut after_bearer = false;
    for word in words {
        let trimmed = word.trim_end();
        let tail = &word[trimmed.len()..];
        if after_bearer && !trimmed.is_empty() {
            result.push_str(REDACTED);
            result.push_str(tail);
            after_bearer = false;
            continue;
        }
        // `Bearer X`, `token: X`, `password = X`: the next word is the credential.
        after_bearer = trimmed.eq_ignore_ascii_case("bearer")
            || trimmed.strip_suffix([':', '=']).is_some_and(is_secret_key)
            || (trimmed.len() == 1
                && trimmed.starts_with([':', '='])
                && result_ends_with_key(&result));
        result.push_str(&redact_word(trimmed));
        result.push_str(tail);
    }
    result
}

/// Whether `key` names a credential (`token`, `"password"`, `client-key-data`, ...).
fn is_secret_key(key: &str) -> bool {
    let k = key
        .trim_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_ascii_lowercase();
    [
        "token", "password", "secret", "key-data", "apikey", "api-key",
    ]
    .iter()
    .any(|s| k.ends_with(s))
}

/// `password = X`: the text so far ends with a credential's key and a space.
fn result_ends_with_key(result: &str) -> bool {
    result
        .trim_end()
        .rsplit(char::is_whitespace)
        .next()
        .is_some_and(is_secret_key)
}

/// One whitespace-free word: a `key: value`/`key=value` credential, a JWT, a long token.
fn redact_word(word: &str) -> String {
    for sep in [':', '='] {
        if let Some((key, value)) = word.split_once(sep) {
            let secret_key = is_secret_key(key);
            let v = value.trim_matches(|c: char| c == '"' || c == '\'' || c == ',');
            if secret_key && !v.is_empty() {
                return format!("{key}{sep}{REDACTED}");
            }
        }
    }
    let core = word.trim_matches(|c: char| !is_token_char(c));
    if looks_like_token(core) {
        return word.replace(core, REDACTED);
    }
    word.to_string()
}

fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-_.+/=~".contains(c)
}

/// A JWT (`eyJ…`), or 32+ token characters mixing upper case, lower case and digits
/// (base64/random tokens; names, UIDs and hex digests are lower case).
fn looks_like_token(s: &str) -> bool {
    if !s.chars().all(is_token_char) {
        return false;
    }
    if s.starts_with("eyJ") && s.matches('.').count() >= 2 {
        return true;
    }
    s.len() >= 32
        && s.chars().any(|c| c.is_ascii_uppercase())
        && s.chars().any(|c| c.is_ascii_lowercase())
        && s.chars().any(|c| c.is_ascii_digit())
}

/// Blanks `-----BEGIN … PRIVATE KEY----- … -----END … PRIVATE KEY-----`.
fn redact_private_keys(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN") {
        let header_end = rest[start..].find("KEY-----").map(|i| start + i);
        let Some(header_end) = header_end else { break };
        out.push_str(&rest[..start]);
        out.push_str(REDACTED);
        rest = match rest[header_end..].find("-----END") {
            Some(i) => {
                let after = &rest[header_end + i..];
                after
                    .find("KEY-----")
                    .map_or("", |j| &after[j + "KEY-----".len()..])
            }
            None => "",
        };
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembered_values_and_shapes_are_blanked() {
        let config = Kubeconfig::from_yaml(
            r#"
users:
- name: u
  user:
    token: SECRET-TOKEN-unit-1
    exec:
      command: /usr/bin/plugin
      apiVersion: client.authentication.k8s.io/v1
      args: ["--secret", "SECRET-ARG-unit-2"]
      env: [{name: KEY, value: SECRET-ENV-unit-3}]
"#,
        )
        .unwrap();
        remember_kubeconfig_secrets(&config);
        let line =
            redact("x SECRET-TOKEN-unit-1 y /usr/bin/plugin (SECRET-ARG-unit-2) SECRET-ENV-unit-3");
        assert_eq!(
            line,
            "x [redacted] y /usr/bin/plugin ([redacted]) [redacted]"
        );
        for (text, want) in [
            (
                "Authorization: Bearer abc.def",
                "Authorization: Bearer [redacted]",
            ),
            ("token: hunter2", "token: [redacted]"),
            ("{\"token\":\"hunter2\"}", "{\"token\":[redacted]"),
            ("password=hunter2 ok", "password=[redacted] ok"),
            ("password = hunter2 ok", "password = [redacted] ok"),
            ("jwt eyJhbGciOi.eyJzdWIiOi.c2ln end", "jwt [redacted] end"),
            (
                "k 'Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MEFCQ0RFRg==' k",
                "k '[redacted]' k",
            ),
            (
                "pod basic-tikv-0 uid 0d6f6f0e-8a1b-4c3d-9e8f-0123456789ab",
                "pod basic-tikv-0 uid 0d6f6f0e-8a1b-4c3d-9e8f-0123456789ab",
            ),
            (
                "a -----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY----- b",
                "a [redacted] b",
            ),
            (
                "the token file /x is missing",
                "the token file /x is missing",
            ),
        ] {
            assert_eq!(redact(text), want, "{text}");
        }
    }
}
