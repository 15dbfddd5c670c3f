//! Query strings (pure).

/// Decode `a=1&b=x%2Cy` into pairs (`+` is a space, `%XX` decoded).
pub fn parse(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// The first value of `key`.
pub fn get<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                match std::str::from_utf8(&b[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    Some(v) => {
                        out.push(v);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kube_rs_portforward_query() {
        let q = parse("&ports=80%2C1234");
        assert_eq!(get(&q, "ports"), Some("80,1234"));
        let q = parse("labelSelector=app.kubernetes.io%2Fcomponent%3Dpd&limit=500");
        assert_eq!(
            get(&q, "labelSelector"),
            Some("app.kubernetes.io/component=pd")
        );
        assert_eq!(get(&q, "missing"), None);
        assert_eq!(get(&parse("a=%"), "a"), Some("%"));
    }
}
