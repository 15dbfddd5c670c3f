//! Per-destination rules: netem that applies only to what a pod sends to chosen addresses
//! (and ports), next to an optional default that applies to everything else.
//!
//! The plugin resolves destinations (pods, TidbCluster components, selectors, CIDRs) to
//! address sets and sends one [`RuleSpec`] per destination set, under an id derived from how
//! the user named the destination (so re-running the same command replaces the same rule and
//! refreshes its addresses). The agent keeps the rules as one qdisc tree; `about` is the
//! plugin's own record (which pods had which addresses), opaque to the agent and returned
//! as given, so `status` can tell when a destination pod has moved.
//!
//! Endpoints (next to `/v1/netem`, whose bodies are unchanged): `GET /v1/rules`,
//! `PUT /v1/rules/{id}` (replace one rule, the others stay in force), `DELETE
//! /v1/rules/{id}`, `DELETE /v1/rules` (all rules; the default stays). `DELETE /v1/netem`
//! clears everything, rules included.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::spec::{FieldError, NetemSpec};

/// Path of the rules endpoint; one rule is `/v1/rules/{id}`.
pub const PATH_RULES: &str = "/v1/rules";

/// How many rules one pod can carry (the root classful qdisc's bands, less the default's).
pub const MAX_RULES: usize = 14;

/// How many address/port matches one rule may need (each CIDR × each port × TCP and UDP is
/// one filter in the kernel).
pub const MAX_MATCHES: usize = 256;

/// The most `about` may hold, serialized.
pub const MAX_ABOUT_BYTES: usize = 8 * 1024;

/// An IPv4 or IPv6 network: `10.0.0.0/16`, `10.0.0.7/32`, `fd00::/64`. A bare address is
/// a host (`/32`, `/128`). Host bits must be zero, as the kernel matches on the masked
/// address and the rule should read as what it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cidr {
    /// The network address.
    pub addr: IpAddr,
    /// The prefix length (0–32 for IPv4, 0–128 for IPv6).
    pub prefix: u8,
}

impl Cidr {
    /// The host `addr` as a network of one address.
    pub fn host(addr: IpAddr) -> Cidr {
        let prefix = if addr.is_ipv4() { 32 } else { 128 };
        Cidr { addr, prefix }
    }

    /// Whether `ip` lies in this network.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl FromStr for Cidr {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| format!("{s:?} is not an IPv4 or IPv6 address or network"))?;
        let max: u8 = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => Some(p)
                .filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|p| p.parse::<u8>().ok())
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{s:?}: the prefix length must be 0 to {max}"))?,
        };
        let cidr = Cidr { addr, prefix };
        let network = match addr {
            IpAddr::V4(a) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
                IpAddr::V4((u32::from(a) & mask).into())
            }
            IpAddr::V6(a) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
                IpAddr::V6((u128::from(a) & mask).into())
            }
        };
        if network != addr {
            return Err(format!(
                "{s:?} has host bits set: the network is {}",
                Cidr {
                    addr: network,
                    prefix
                }
            ));
        }
        Ok(cidr)
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

impl Serialize for Cidr {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Cidr {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Where a rule's traffic goes: any of `cidrs`, and (if any are given) to any of `ports`
/// (TCP or UDP). Empty `cidrs` with ports means those ports on any address.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Destination {
    /// Destination networks.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cidrs: Vec<Cidr>,
    /// Destination ports (TCP and UDP); empty = every port.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<u16>,
}

impl Destination {
    /// How many kernel matches (filters) the destination needs.
    pub fn matches(&self) -> usize {
        let cidrs = self.cidrs.len().max(1);
        let ports = if self.ports.is_empty() {
            1
        } else {
            2 * self.ports.len()
        };
        cidrs.saturating_mul(ports)
    }

    /// Checks the destination says something and fits the kernel's limits.
    pub fn validate(&self) -> Result<(), FieldError> {
        if self.cidrs.is_empty() && self.ports.is_empty() {
            return Err(FieldError::new(
                "to",
                "names no address and no port (a rule for all traffic is the default, /v1/netem)",
            ));
        }
        if self.ports.contains(&0) {
            return Err(FieldError::new("to.ports", "port 0 is not a port"));
        }
        if self.matches() > MAX_MATCHES {
            return Err(FieldError::new(
                "to",
                format!(
                    "needs {} matches (addresses × ports × TCP/UDP); at most {MAX_MATCHES}",
                    self.matches()
                ),
            ));
        }
        Ok(())
    }
}

/// A rule as the plugin sets it: `PUT /v1/rules/{id}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// Which traffic.
    pub to: Destination,
    /// What happens to it (as `/v1/netem`'s body; `ttl` clears this rule alone).
    pub netem: NetemSpec,
    /// The plugin's record of what the destination meant, returned as given.
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub about: serde_json::Value,
}

impl RuleSpec {
    /// Checks everything the agent checks before touching the kernel.
    pub fn validate(&self) -> Result<(), FieldError> {
        self.to.validate()?;
        self.netem.validate().map_err(|e| FieldError {
            field: format!("netem.{}", e.field),
            ..e
        })?;
        if self.netem.is_noop() {
            return Err(FieldError::new(
                "netem",
                "no impairment: to remove a rule, DELETE it",
            ));
        }
        let about = serde_json::to_vec(&self.about).map_or(usize::MAX, |v| v.len());
        if about > MAX_ABOUT_BYTES {
            return Err(FieldError::new(
                "about",
                format!("{about} bytes; at most {MAX_ABOUT_BYTES}"),
            ));
        }
        Ok(())
    }
}

/// A rule in force, as `GET /v1/rules` (and `GET /v1/netem`'s `rules`) report it: the id,
/// the destination and netem as read back from the kernel, and `about` as the plugin gave it
/// (null when the agent found the rule in the kernel without knowing who set it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    /// The rule's id.
    pub id: String,
    /// Which traffic, from the kernel's filters.
    pub to: Destination,
    /// What happens to it, from the kernel's netem qdisc.
    pub netem: NetemSpec,
    /// The plugin's record, if this agent knows it.
    #[serde(default)]
    pub about: serde_json::Value,
    /// When the agent clears this rule (RFC 3339, UTC), if it has a ttl.
    #[serde(default)]
    pub expires_at: Option<String>,
}

/// Whether `id` can name a rule: 1–63 of `a-z`, `0-9`, `-`, `.`, starting and ending with a
/// letter or digit (it is a URL path segment and a log field).
pub fn valid_rule_id(id: &str) -> bool {
    let ok_end = |b: Option<u8>| b.is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    (1..=63).contains(&id.len())
        && ok_end(id.bytes().next())
        && ok_end(id.bytes().last())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn cidrs_parse_print_and_match() {
        let c: Cidr = "10.0.0.0/16".parse().unwrap();
        assert_eq!(c.to_string(), "10.0.0.0/16");
        assert!(c.contains("10.0.255.1".parse().unwrap()));
        assert!(!c.contains("10.1.0.1".parse().unwrap()));
        assert!(!c.contains("fd00::1".parse().unwrap()));
        assert_eq!(
            "10.0.0.7".parse::<Cidr>().unwrap().to_string(),
            "10.0.0.7/32"
        );
        let v6: Cidr = "fd00:1::/64".parse().unwrap();
        assert!(v6.contains("fd00:1::abcd".parse().unwrap()));
        assert_eq!("::/0".parse::<Cidr>().unwrap().prefix, 0);
        assert!(
            "0.0.0.0/0"
                .parse::<Cidr>()
                .unwrap()
                .contains("1.2.3.4".parse().unwrap())
        );
        for bad in [
            "10.0.0.1/16",
            "10.0.0.0/33",
            "fd00::/129",
            "x",
            "10.0.0.0/",
            "10.0.0.0/-1",
            "10.0.0.0/+8",
            "fd00::1/64",
        ] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad}");
        }
        assert!(
            "10.0.0.1/16"
                .parse::<Cidr>()
                .unwrap_err()
                .contains("the network is 10.0.0.0/16")
        );
    }

    #[test]
    fn rule_json_round_trips_and_is_strict() {
        let rule = RuleSpec {
            to: Destination {
                cidrs: vec![
                    "10.0.0.7/32".parse().unwrap(),
                    "fd00::7/128".parse().unwrap(),
                ],
                ports: vec![20160],
            },
            netem: NetemSpec::delay(Duration::from_millis(20)),
            about: serde_json::json!({"pods": {"basic-tikv-0": "10.0.0.7"}}),
        };
        let json = serde_json::to_value(&rule).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "to": {"cidrs": ["10.0.0.7/32", "fd00::7/128"], "ports": [20160]},
                "netem": {"delay": "20ms"},
                "about": {"pods": {"basic-tikv-0": "10.0.0.7"}}
            })
        );
        assert_eq!(serde_json::from_value::<RuleSpec>(json).unwrap(), rule);
        assert!(rule.validate().is_ok());
        assert!(serde_json::from_str::<RuleSpec>(r#"{"to": {"cidr": []}, "netem": {}}"#).is_err());
    }

    #[test]
    fn rules_are_validated() {
        let mut r = RuleSpec {
            netem: NetemSpec::delay(Duration::from_millis(20)),
            ..RuleSpec::default()
        };
        assert_eq!(r.validate().unwrap_err().field, "to");
        r.to.ports = vec![0];
        assert_eq!(r.validate().unwrap_err().field, "to.ports");
        r.to.ports = (1..=200).collect();
        r.to.cidrs = vec!["10.0.0.1/32".parse().unwrap()];
        assert!(r.validate().unwrap_err().reason.contains("at most 256"));
        r.to.ports = vec![20160];
        r.netem = NetemSpec::default();
        assert_eq!(r.validate().unwrap_err().field, "netem");
        r.netem.jitter = Some(Duration::from_millis(1));
        assert_eq!(r.validate().unwrap_err().field, "netem.jitter");
    }

    #[test]
    fn rule_ids() {
        for ok in ["a", "to-pod.basic-tikv-0", "c-tikv.basic", "0"] {
            assert!(valid_rule_id(ok), "{ok}");
        }
        for bad in ["", "-a", "a-", "A", "a/b", "a b", &"a".repeat(64)] {
            assert!(!valid_rule_id(bad), "{bad}");
        }
    }
}
