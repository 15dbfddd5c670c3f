//! Changes to the agent's qdisc tree: the default and the per-destination rules, each
//! planned from what the kernel has and applied all or nothing (see [`crate::rules`]).

use std::collections::BTreeSet;

use super::{Agent, AgentError, Iface, NO_NETEM, handle_text, kernel_error, ms, spec_json};
use crate::clock;
use crate::log;
use crate::netem;
use crate::netlink::errno;
use crate::rules::apply::{ApplyError, Live, apply};
use crate::rules::tree::Seen;
use crate::rules::{BANDS, Band, Tree, classid, destination_of, matches_of};
use crate::state_file::{self, Saved, SavedRule};
use netem_api::rules::{MAX_RULES, Rule, RuleSpec, valid_rule_id};
use netem_api::spec::{FieldError, NetemSpec};
use netem_api::wire::NetemState;

/// The id the agent gives a rule it found in the kernel without knowing who set it.
fn synthetic_id(band: u32) -> String {
    format!("band-{band}")
}

/// The tree a saved state wants in the kernel.
fn to_tree(saved: &Saved) -> Tree {
    Tree {
        default: (!saved.spec.is_noop()).then(|| saved.spec.clone()),
        bands: saved
            .rules
            .iter()
            .map(|r| {
                let band = Band {
                    netem: r.spec.netem.clone(),
                    matches: matches_of(&r.spec.to),
                };
                (r.band, band)
            })
            .collect(),
    }
}

/// The kernel's refusal of a change, as an agent error naming the missing module.
fn apply_error(e: ApplyError) -> AgentError {
    match e {
        ApplyError::Read(e) => kernel_error("cannot read qdiscs back", e),
        ApplyError::Failed { op, error, restore } => {
            let restored = match restore {
                None => "the previous qdisc tree is back in force".to_string(),
                Some(r) => format!("and putting the previous qdisc tree back failed too: {r}"),
            };
            match error.errno() {
                Some(errno::ENOENT) | Some(errno::EOPNOTSUPP) => {
                    let module = op.module();
                    let what = if module == "sch_netem" {
                        NO_NETEM.to_string()
                    } else {
                        let kind = module.trim_start_matches("sch_").trim_start_matches("cls_");
                        let class = if module.starts_with("cls_") {
                            "classifier"
                        } else {
                            "qdisc"
                        };
                        format!(
                            "the kernel has no {kind} {class}: module {module} is not loaded \
                             and could not be loaded (on the node: modprobe {module})"
                        )
                    };
                    AgentError::NoNetem(format!("{what}; {error}; {restored}"))
                }
                _ => AgentError::Failed(format!(
                    "cannot change the qdisc tree ({op:?}): {error}; {restored}"
                )),
            }
        }
    }
}

impl Agent {
    /// What is in force now as a saved state: the kernel's tree, with what the agent knows
    /// beyond it (requested settings with distribution and ttl, rule ids, `about`,
    /// expiries) where the kernel still holds exactly that.
    fn current(&self, iface: &Iface, seen: &Seen) -> Saved {
        let tree = seen.tree();
        let known = self.managed.as_ref();
        let mut out = Saved {
            written_by: state_file::WRITER.into(),
            interface: iface.name.clone(),
            ifindex: iface.index,
            handle: super::OWN_HANDLE,
            spec: NetemSpec::default(),
            set_at_ms: clock::now_ms(),
            expires_at_ms: None,
            rules: Vec::new(),
        };
        if let Some(d) = &tree.default {
            match known {
                Some(k) if netem::kernel_view(&k.spec) == *d => {
                    out.spec = k.spec.clone();
                    out.expires_at_ms = k.expires_at_ms;
                    out.set_at_ms = k.set_at_ms;
                }
                _ => out.spec = d.clone(),
            }
        }
        for (&band, b) in &tree.bands {
            let mine = known.and_then(|k| k.rules.iter().find(|r| r.band == band));
            let rule = match mine {
                Some(r)
                    if netem::kernel_view(&r.spec.netem) == b.netem
                        && matches_of(&r.spec.to) == b.matches =>
                {
                    r.clone()
                }
                _ => SavedRule {
                    id: mine.map_or_else(|| synthetic_id(band), |r| r.id.clone()),
                    band,
                    spec: RuleSpec {
                        to: destination_of(&b.matches),
                        netem: b.netem.clone(),
                        about: mine.map(|r| r.spec.about.clone()).unwrap_or_default(),
                    },
                    set_at_ms: mine.map_or(out.set_at_ms, |r| r.set_at_ms),
                    expires_at_ms: mine.and_then(|r| r.expires_at_ms),
                },
            };
            out.rules.push(rule);
        }
        out
    }

    /// The rules in force as the API reports them: destinations and settings from the
    /// kernel, ids, `about`, distribution and expiry from what the agent knows.
    pub(super) fn rules_of(&self, tree: &Tree) -> Vec<Rule> {
        let known = self.managed.as_ref().map(|m| &m.rules[..]).unwrap_or(&[]);
        tree.bands
            .iter()
            .map(|(&band, b)| {
                let mine = known.iter().find(|r| r.band == band);
                let mut netem = b.netem.clone();
                if let Some(r) = mine
                    && netem::kernel_view(&r.spec.netem) == netem
                {
                    netem.distribution = r.spec.netem.distribution;
                }
                Rule {
                    id: mine.map_or_else(|| synthetic_id(band), |r| r.id.clone()),
                    to: destination_of(&b.matches),
                    netem,
                    about: mine.map(|r| r.spec.about.clone()).unwrap_or_default(),
                    expires_at: mine.and_then(|r| r.expires_at_ms).map(clock::rfc3339_ms),
                }
            })
            .collect()
    }

    /// Reads the kernel, applies `edit` to what is in force (it returns the bands whose
    /// netem must be set even if the kernel seems to hold it already), and takes the kernel
    /// there, all or nothing. A foreign root qdisc is replaced only if `force`.
    pub(super) fn change(
        &mut self,
        force: bool,
        what: &str,
        edit: impl FnOnce(&mut Saved) -> Result<BTreeSet<u32>, AgentError>,
    ) -> Result<NetemState, AgentError> {
        if self.closing {
            return Err(AgentError::Failed(
                "the agent is shutting down; nothing was changed".into(),
            ));
        }
        let mut h = self.open()?;
        let iface = self.iface(&mut h)?;
        let seen = self.seen(&mut h, &iface)?;
        self.reconcile(&iface, &seen);
        let previous = self.current(&iface, &seen);
        let mut next = previous.clone();
        let rewrite = edit(&mut next)?;
        if next == previous && rewrite.is_empty() {
            self.keep(h);
            return Ok(self.describe(&iface, seen));
        }
        if let Some(q) = seen.foreign()
            && !force
        {
            return Err(AgentError::Conflict(format!(
                "the root qdisc of {} is {} (handle {}), which this agent did not set; \
                 left alone (add ?force=true to replace it)",
                iface.name,
                q.kind,
                handle_text(q.handle)
            )));
        }
        let mut live = Live {
            handle: &mut h,
            ifindex: iface.index,
        };
        let after = apply(
            &mut live,
            &seen,
            &to_tree(&next),
            &to_tree(&previous),
            &rewrite,
        )
        .map_err(apply_error)?;
        self.netem_seen = true;
        let empty = next.spec.is_noop() && next.rules.is_empty();
        // One short line: what changed, then what is in force (rule ids and classes only;
        // `about` can be kilobytes).
        let rules: Vec<String> = next
            .rules
            .iter()
            .map(|r| format!("{} ({}{:x})", r.id, handle_text(classid(r.band)), r.band))
            .collect();
        log!(
            "{what} on {}; in force: default {}, rules [{}]",
            iface.name,
            spec_json(&next.spec),
            rules.join(", ")
        );
        if empty {
            self.forget();
        } else {
            self.managed = Some(next);
            self.save();
        }
        self.keep(h);
        Ok(self.describe(&iface, after))
    }

    /// `GET /v1/rules`.
    pub fn rules(&mut self) -> Result<Vec<Rule>, AgentError> {
        Ok(self.state()?.rules)
    }

    /// `PUT /v1/rules/{id}`: set one rule (replace); the default and the other rules stay
    /// in force. A rule the agent found in the kernel without an id (`band-N`) with exactly
    /// this destination is taken over under `id`.
    pub fn put_rule(
        &mut self,
        id: &str,
        spec: RuleSpec,
        force: bool,
    ) -> Result<NetemState, AgentError> {
        if !valid_rule_id(id) {
            return Err(AgentError::Invalid(FieldError::new(
                "id",
                "1 to 63 of a-z, 0-9, '-' and '.', starting and ending with a letter or digit",
            )));
        }
        spec.validate().map_err(AgentError::Invalid)?;
        let now = clock::now_ms();
        let id = id.to_string();
        let what = format!(
            "set rule {id}: to {} netem {}",
            serde_json::to_string(&spec.to).unwrap_or_default(),
            spec_json(&spec.netem)
        );
        self.change(force, &what, move |saved| {
            let wanted = matches_of(&spec.to);
            let existing = saved.rules.iter().position(|r| r.id == id).or_else(|| {
                saved
                    .rules
                    .iter()
                    .position(|r| r.id.starts_with("band-") && matches_of(&r.spec.to) == wanted)
            });
            let band = match existing {
                Some(i) => saved.rules.remove(i).band,
                None => (2..=BANDS)
                    .find(|b| saved.rules.iter().all(|r| r.band != *b))
                    .ok_or_else(|| {
                        AgentError::TooMany(format!(
                            "{} rules are in force, the most a pod can carry ({MAX_RULES}); \
                             delete one first",
                            saved.rules.len()
                        ))
                    })?,
            };
            saved.rules.push(SavedRule {
                id,
                band,
                expires_at_ms: spec.netem.ttl.map(|t| now.saturating_add(ms(t))),
                spec,
                set_at_ms: now,
            });
            saved.rules.sort_by_key(|r| r.band);
            Ok([band].into())
        })
    }

    /// `DELETE /v1/rules/{id}`: remove one rule (404 if there is none with this id).
    pub fn delete_rule(&mut self, id: &str, force: bool) -> Result<NetemState, AgentError> {
        let id = id.to_string();
        self.change(force, &format!("deleted rule {id}"), move |saved| {
            let before = saved.rules.len();
            saved.rules.retain(|r| r.id != id);
            if saved.rules.len() == before {
                return Err(AgentError::NotFound(format!("no rule {id:?}")));
            }
            Ok(BTreeSet::new())
        })
    }

    /// `DELETE /v1/rules`: remove every rule; the default stays.
    pub fn delete_rules(&mut self, force: bool) -> Result<NetemState, AgentError> {
        self.change(force, "deleted all rules", |saved| {
            saved.rules.clear();
            Ok(BTreeSet::new())
        })
    }
}
