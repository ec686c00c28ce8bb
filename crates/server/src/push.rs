//! Push authorisation, written once as a pure rule over what the storage knows
//! (FORMS.md 2.2, `docs/security.md`). The service gathers the facts
//! (`crate::service::authorise_push`, for a sync push and for each page of an
//! imported bundle) and answers a refusal with a 403 naming what to do.
//!
//! A page is stored only when every author is an account that proved itself on the
//! pushing device (its own password, online), with a role that may write the kind of
//! document at its site; every change was made on the pushing device, or on a device
//! enrolled through it when it is a supervisor hub; every document is in the device's
//! scope. Each document's site is the one the server first stored for it, never a
//! later claim.

use crate::auth::{self, Action};
use crate::db::Account;
use crate::service::ApiError;
use std::collections::{HashMap, HashSet};
use tern_record::Role;
use tern_sync::protocol::{ErrorCode, Kind};

/// What the storage knows that a push is judged by.
#[derive(Debug, Clone, Default)]
pub struct PushFacts {
    /// The pushing device.
    pub device: String,
    /// The pushing device's sites.
    pub sites: Vec<String>,
    /// The devices enrolled through the pushing device (a supervisor hub), each with
    /// whether it is revoked.
    pub via_hub: HashMap<String, bool>,
    /// The accounts that proved themselves on each author's device.
    pub bound: HashMap<String, HashSet<String>>,
    /// The authors' server accounts (an author without one is absent).
    pub accounts: HashMap<String, Account>,
    /// The kind and site the server stored for each document it knows.
    pub known: HashMap<String, (String, String)>,
}

/// A document of the page: its id, kind, the site the device claims, and the users
/// who wrote its changes.
#[derive(Debug, Clone, Copy)]
pub struct PushedDoc<'a> {
    pub doc_id: &'a str,
    pub kind: &'a str,
    pub site: &'a str,
    pub users: &'a HashSet<String>,
}

/// Why a page is refused. Nothing of it is stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PushRefusal {
    #[error("changes by revoked device {device} (enrolled through this hub); nothing was stored")]
    RevokedHubDevice { device: String },
    #[error(
        "changes made on device {author_device} reach the server only from that device, not \
         from device {device}; nothing was stored"
    )]
    OtherDevice {
        author_device: String,
        device: String,
    },
    #[error(
        "changes by `{user}`, who has no server account; nothing was stored. Ask an \
         administrator to add the account `{user}` to site `{site}` (`tern admin user add \
         {user} --role ROLE --site {site}`), then sync again: this device keeps all its data \
         and sends it then"
    )]
    NoAccount { user: String, site: String },
    #[error(
        "changes by `{user}`, who has not proven the account on this device; `{user}` signs \
         in on this device while it is online (the device keeps the work and sends it then); \
         nothing was stored"
    )]
    NotProven { user: String },
    #[error("document {doc_id} is a {stored}, not a {claimed}; nothing was stored")]
    OtherKind {
        doc_id: String,
        stored: String,
        claimed: String,
    },
    #[error(
        "document {doc_id} belongs to site `{site}`, outside this device's sites; nothing was \
         stored"
    )]
    OutsideSites { doc_id: String, site: String },
    /// An account's stored role does not read (the message says why).
    #[error("{0}")]
    Role(String),
    #[error("`{user}` ({role}) may not write records; nothing was stored")]
    MayNotWrite { user: String, role: &'static str },
    #[error("`{user}` ({role}) may not write restricted sections; nothing was stored")]
    MayNotWriteRestricted { user: String, role: &'static str },
    #[error(
        "changes by `{user}`, who does not work at site `{site}`; nothing was stored. Ask an \
         administrator to give the account `{user}` site `{site}` (`tern admin user change \
         {user} --site {site}`), then sync again: this device keeps all its data"
    )]
    OtherSite { user: String, site: String },
}

impl From<PushRefusal> for ApiError {
    fn from(e: PushRefusal) -> ApiError {
        match e {
            PushRefusal::Role(message) => ApiError::bad(message),
            e => ApiError::new(ErrorCode::Forbidden, e.to_string()),
        }
    }
}

/// Judges a page: its authors `(device, user)` and its documents. Returns the site
/// the server keeps for each document, in order (the stored one for a document it
/// knows, the claimed one for a new document).
pub fn authorise(
    facts: &PushFacts,
    authors: &HashSet<(String, String)>,
    docs: &[PushedDoc<'_>],
) -> Result<Vec<String>, PushRefusal> {
    let device = facts.device.as_str();
    let device_site = facts.sites.first().map_or("", String::as_str);
    for (dev, user) in authors {
        match facts.via_hub.get(dev) {
            _ if dev == device => {}
            Some(false) => {}
            Some(true) => {
                return Err(PushRefusal::RevokedHubDevice {
                    device: dev.clone(),
                })
            }
            None => {
                return Err(PushRefusal::OtherDevice {
                    author_device: dev.clone(),
                    device: device.to_string(),
                })
            }
        }
        if !facts.accounts.contains_key(user) {
            return Err(PushRefusal::NoAccount {
                user: user.clone(),
                site: device_site.to_string(),
            });
        }
        if !facts.bound.get(dev).is_some_and(|b| b.contains(user)) {
            return Err(PushRefusal::NotProven { user: user.clone() });
        }
    }
    let mut sites = Vec::with_capacity(docs.len());
    for d in docs {
        let site = match facts.known.get(d.doc_id) {
            Some((kind, site)) => {
                if kind != d.kind {
                    return Err(PushRefusal::OtherKind {
                        doc_id: d.doc_id.to_string(),
                        stored: kind.clone(),
                        claimed: d.kind.to_string(),
                    });
                }
                site.clone()
            }
            None => d.site.to_string(),
        };
        if !facts.sites.contains(&site) {
            return Err(PushRefusal::OutsideSites {
                doc_id: d.doc_id.to_string(),
                site,
            });
        }
        let restricted = d.kind == Kind::Restricted.name();
        for user in d.users {
            let Some(a) = facts.accounts.get(user) else {
                return Err(PushRefusal::NoAccount {
                    user: user.clone(),
                    site,
                });
            };
            let role = Role::parse(&a.role).map_err(|e| PushRefusal::Role(e.to_string()))?;
            if !auth::allowed(role, Action::Sync) {
                return Err(PushRefusal::MayNotWrite {
                    user: user.clone(),
                    role: role.name(),
                });
            }
            if restricted && !auth::allowed(role, Action::Restricted) {
                return Err(PushRefusal::MayNotWriteRestricted {
                    user: user.clone(),
                    role: role.name(),
                });
            }
            if !a.sites.contains(&site) {
                return Err(PushRefusal::OtherSite {
                    user: user.clone(),
                    site,
                });
            }
        }
        sites.push(site);
    }
    Ok(sites)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(name: &str, role: &str, sites: &[&str]) -> (String, Account) {
        (
            name.to_string(),
            Account {
                name: name.into(),
                role: role.into(),
                password_hash: String::new(),
                sites: sites.iter().map(|s| s.to_string()).collect(),
            },
        )
    }

    /// Device `tab` of site-a, where amina (clinician) and bilal (screener) proved
    /// themselves; hub device `hub-dev` enrolled through it; `rec-1` a record of
    /// site-a the server knows.
    fn facts() -> PushFacts {
        PushFacts {
            device: "tab".into(),
            sites: vec!["site-a".into()],
            via_hub: HashMap::from([("held".into(), false), ("gone".into(), true)]),
            bound: HashMap::from([
                (
                    "tab".into(),
                    HashSet::from(["amina".to_string(), "bilal".to_string()]),
                ),
                ("held".into(), HashSet::from(["amina".to_string()])),
            ]),
            accounts: HashMap::from([
                account("amina", "clinician", &["site-a"]),
                account("bilal", "screener", &["site-a"]),
                account("dana", "clinician", &["site-b"]),
            ]),
            known: HashMap::from([("rec-1".into(), ("record".into(), "site-a".into()))]),
        }
    }

    fn authors(pairs: &[(&str, &str)]) -> HashSet<(String, String)> {
        pairs
            .iter()
            .map(|(d, u)| (d.to_string(), u.to_string()))
            .collect()
    }

    fn users(names: &[&str]) -> HashSet<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn proven_authors_on_the_pushing_device_store_and_the_server_keeps_its_site() {
        let amina = users(&["amina"]);
        let docs = [
            PushedDoc {
                doc_id: "rec-1",
                kind: "record",
                site: "site-b",
                users: &amina,
            },
            PushedDoc {
                doc_id: "rec-2",
                kind: "record",
                site: "site-a",
                users: &amina,
            },
        ];
        let sites = authorise(&facts(), &authors(&[("tab", "amina")]), &docs).expect("allowed");
        assert_eq!(
            sites,
            vec!["site-a", "site-a"],
            "the stored site, not the claim"
        );
    }

    #[test]
    fn a_hub_forwards_its_devices_but_not_revoked_or_foreign_ones() {
        let f = facts();
        assert_eq!(
            authorise(&f, &authors(&[("held", "amina")]), &[]),
            Ok(vec![])
        );
        assert_eq!(
            authorise(&f, &authors(&[("gone", "amina")]), &[]),
            Err(PushRefusal::RevokedHubDevice {
                device: "gone".into()
            })
        );
        assert_eq!(
            authorise(&f, &authors(&[("other", "amina")]), &[]),
            Err(PushRefusal::OtherDevice {
                author_device: "other".into(),
                device: "tab".into()
            })
        );
    }

    #[test]
    fn authors_need_an_account_proven_on_their_device() {
        let f = facts();
        assert_eq!(
            authorise(&f, &authors(&[("tab", "zoe")]), &[]),
            Err(PushRefusal::NoAccount {
                user: "zoe".into(),
                site: "site-a".into()
            })
        );
        assert_eq!(
            authorise(&f, &authors(&[("tab", "dana")]), &[]),
            Err(PushRefusal::NotProven {
                user: "dana".into()
            })
        );
        assert_eq!(
            authorise(&f, &authors(&[("held", "bilal")]), &[]),
            Err(PushRefusal::NotProven {
                user: "bilal".into()
            })
        );
    }

    #[test]
    fn documents_keep_their_kind_and_site_and_writers_their_rights() {
        let f = facts();
        let doc = |doc_id: &'static str, kind: &'static str, site: &'static str, u| PushedDoc {
            doc_id,
            kind,
            site,
            users: u,
        };
        let (amina, bilal, dana) = (users(&["amina"]), users(&["bilal"]), users(&["dana"]));
        let none = authors(&[]);
        assert_eq!(
            authorise(&f, &none, &[doc("rec-1", "subject", "site-a", &amina)]),
            Err(PushRefusal::OtherKind {
                doc_id: "rec-1".into(),
                stored: "record".into(),
                claimed: "subject".into()
            })
        );
        assert_eq!(
            authorise(&f, &none, &[doc("rec-9", "record", "site-b", &amina)]),
            Err(PushRefusal::OutsideSites {
                doc_id: "rec-9".into(),
                site: "site-b".into()
            })
        );
        let restricted = Kind::Restricted.name();
        assert!(matches!(
            authorise(&f, &none, &[doc("res-1", restricted, "site-a", &bilal)]),
            Err(PushRefusal::MayNotWriteRestricted { .. })
        ));
        assert!(authorise(&f, &none, &[doc("res-1", restricted, "site-a", &amina)]).is_ok());
        assert_eq!(
            authorise(&f, &none, &[doc("rec-9", "record", "site-a", &dana)]),
            Err(PushRefusal::OtherSite {
                user: "dana".into(),
                site: "site-a".into()
            })
        );
    }
}
