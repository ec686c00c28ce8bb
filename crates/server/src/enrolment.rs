//! Who may enrol a device, and for which account: the rules both storage backends
//! apply inside their redeem transaction, and the service applies before it checks a
//! password. Pure: no database, no clock (the caller passes "now").
//!
//! The rules (docs/security.md, "Enrolment"):
//! - a code is used once and expires (24 hours by default);
//! - a code that names an account enrols only that account; a code naming none enrols
//!   the account the device's user names;
//! - either way the account proves itself with its own password (checked by the
//!   service, never by a code alone), and must hold the code's site;
//! - every local user of the device is an account of the code's site, and the device
//!   is new to the server (checked by the backends with [`redeem_check`] and
//!   [`RedeemRefusal`]).

/// An enrolment code as stored: its site, the account it is for (if any), when it
/// expires and whether a device already redeemed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrolmentCode {
    pub site: String,
    pub account: Option<String>,
    pub expires_ms: i64,
    pub used: bool,
}

/// Why a code does not enrol this account now. Messages say what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeRefusal {
    #[error("unknown enrolment code; ask an administrator for a new one")]
    Unknown,
    #[error("this enrolment code was already used; ask an administrator for a new one")]
    Used,
    #[error("this enrolment code has expired; ask an administrator for a new one")]
    Expired,
    #[error(
        "this enrolment code is for the account `{code_account}`, not `{user}`: the device's \
         user must be `{code_account}`, signing in with that account's own password"
    )]
    OtherAccount { code_account: String, user: String },
}

/// The account a code enrols for the device's user `user` at `now_ms`, or why not.
pub fn enrolling_account(
    code: Option<&EnrolmentCode>,
    user: &str,
    now_ms: i64,
) -> Result<String, CodeRefusal> {
    let code = code.ok_or(CodeRefusal::Unknown)?;
    if code.used {
        return Err(CodeRefusal::Used);
    }
    if code.expires_ms < now_ms {
        return Err(CodeRefusal::Expired);
    }
    match &code.account {
        Some(account) if account != user => Err(CodeRefusal::OtherAccount {
            code_account: account.clone(),
            user: user.to_string(),
        }),
        _ => Ok(user.to_string()),
    }
}

/// Why a redeem that passed the code's rules ([`enrolling_account`]) stores nothing.
/// Messages say what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RedeemRefusal {
    #[error(
        "this device has local users who are not accounts of site `{site}`: {} (the \
         server would refuse everything they record); ask an administrator to add these \
         accounts to site {site} (`tern admin user add NAME --role ROLE --site {site}`, or \
         `tern admin user change NAME --site {site}` for an account of another site), \
         then enrol again with the same code. Nothing was stored: the code is still \
         valid and this device keeps all its data",
        quoted(.users)
    )]
    UnknownUsers { site: String, users: Vec<String> },
    #[error(
        "no server account `{account}` for this device's user; an admin adds it with `tern \
         admin user add`"
    )]
    NoAccount { account: String },
    #[error("account `{account}` does not work at site `{site}`")]
    OtherSite { account: String, site: String },
    #[error("this device is already enrolled (or was revoked); enrol a new store")]
    DeviceKnown,
}

/// `a`, `b`: names as a refusal lists them.
fn quoted(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What a redeem transaction found, checked in this order: the device's local users
/// who are not accounts of the code's `site` (`unknown`), the enrolling account's
/// role (none: no account) and sites. Returns the account's role.
pub fn redeem_check(
    site: &str,
    unknown: &[String],
    account: &str,
    role: Option<String>,
    account_sites: &[String],
) -> Result<String, RedeemRefusal> {
    if !unknown.is_empty() {
        return Err(RedeemRefusal::UnknownUsers {
            site: site.to_string(),
            users: unknown.to_vec(),
        });
    }
    let Some(role) = role else {
        return Err(RedeemRefusal::NoAccount {
            account: account.to_string(),
        });
    };
    if !account_sites.iter().any(|s| s == site) {
        return Err(RedeemRefusal::OtherSite {
            account: account.to_string(),
            site: site.to_string(),
        });
    }
    Ok(role)
}

/// What the server knows of a device a supervisor hub says enrolled with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownDevice {
    /// The hub it reaches this server through, if any.
    pub via_hub: Option<String>,
    pub revoked: bool,
    /// Whether the account proving itself through the hub is bound to the device here
    /// (proved itself on it, online).
    pub account_bound: bool,
}

/// What a hub's claim to a device does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HubLink {
    /// A device new to this server: recorded as enrolled through the hub (no token).
    Register,
    /// A device enrolled here directly that joins its team's hub: it keeps its token
    /// and its own sync here, and the hub may forward its changes too.
    Link,
    /// Already the hub's (the claim again).
    Already,
}

/// Why a hub may not claim a device.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HubLinkRefusal {
    #[error("device {device} is enrolled through another hub, not this one")]
    OtherHub { device: String },
    #[error("device {device} was revoked; it cannot join a hub")]
    Revoked { device: String },
    #[error(
        "device {device} is enrolled with this server directly, and `{account}` never \
         proved the account on it here; sign in on the device while it is online with an \
         account that did, or enrol a new store with the hub"
    )]
    NotBound { device: String, account: String },
}

/// Whether hub `hub` may forward the changes of `device`, for `account` proving itself
/// through the hub. A hub takes a device new to the server; a device enrolled directly
/// only when the proving account already proved itself on that device here (a hub
/// cannot adopt another team's device by naming its id); never a revoked device, nor
/// another hub's.
pub fn hub_link(
    known: Option<&KnownDevice>,
    hub: &str,
    device: &str,
    account: &str,
) -> Result<HubLink, HubLinkRefusal> {
    let Some(known) = known else {
        return Ok(HubLink::Register);
    };
    let device = device.to_string();
    match &known.via_hub {
        // The hub's own device again (a revoked one stays revoked).
        Some(h) if h == hub => Ok(HubLink::Already),
        Some(_) => Err(HubLinkRefusal::OtherHub { device }),
        None if known.revoked => Err(HubLinkRefusal::Revoked { device }),
        None if known.account_bound => Ok(HubLink::Link),
        None => Err(HubLinkRefusal::NotBound {
            device,
            account: account.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(via_hub: Option<&str>, revoked: bool, account_bound: bool) -> KnownDevice {
        KnownDevice {
            via_hub: via_hub.map(str::to_string),
            revoked,
            account_bound,
        }
    }

    #[test]
    fn a_hub_takes_a_new_device_and_links_a_direct_one_only_for_its_bound_account() {
        assert_eq!(hub_link(None, "h", "d", "amina"), Ok(HubLink::Register));
        assert_eq!(
            hub_link(Some(&known(Some("h"), false, false)), "h", "d", "amina"),
            Ok(HubLink::Already)
        );
        assert_eq!(
            hub_link(Some(&known(None, false, true)), "h", "d", "amina"),
            Ok(HubLink::Link)
        );
        assert!(matches!(
            hub_link(Some(&known(None, false, false)), "h", "d", "amina"),
            Err(HubLinkRefusal::NotBound { .. })
        ));
        assert!(matches!(
            hub_link(Some(&known(Some("other"), false, true)), "h", "d", "amina"),
            Err(HubLinkRefusal::OtherHub { .. })
        ));
        assert!(matches!(
            hub_link(Some(&known(None, true, true)), "h", "d", "amina"),
            Err(HubLinkRefusal::Revoked { .. })
        ));
        assert_eq!(
            hub_link(Some(&known(Some("h"), true, true)), "h", "d", "amina"),
            Ok(HubLink::Already),
            "a revoked device of the hub stays revoked, and the claim is no error"
        );
    }

    fn code(account: Option<&str>, used: bool) -> EnrolmentCode {
        EnrolmentCode {
            site: "s1".into(),
            account: account.map(str::to_string),
            expires_ms: 1_000,
            used,
        }
    }

    #[test]
    fn a_code_without_an_account_enrols_the_users_own_account() {
        assert_eq!(
            enrolling_account(Some(&code(None, false)), "amina", 999),
            Ok("amina".into())
        );
    }

    #[test]
    fn a_code_naming_an_account_enrols_only_that_account() {
        let c = code(Some("amina"), false);
        assert_eq!(enrolling_account(Some(&c), "amina", 0), Ok("amina".into()));
        assert!(matches!(
            enrolling_account(Some(&c), "bilal", 0),
            Err(CodeRefusal::OtherAccount { .. })
        ));
    }

    #[test]
    fn unknown_used_and_expired_codes_are_refused() {
        assert_eq!(
            enrolling_account(None, "amina", 0),
            Err(CodeRefusal::Unknown)
        );
        assert_eq!(
            enrolling_account(Some(&code(None, true)), "amina", 0),
            Err(CodeRefusal::Used)
        );
        assert_eq!(
            enrolling_account(Some(&code(None, false)), "amina", 1_001),
            Err(CodeRefusal::Expired)
        );
        // The last valid millisecond still enrols.
        assert!(enrolling_account(Some(&code(None, false)), "amina", 1_000).is_ok());
    }

    #[test]
    fn a_redeem_needs_known_local_users_and_an_account_of_the_site() {
        let site_a = ["site-a".to_string()];
        assert_eq!(
            redeem_check("site-a", &[], "amina", Some("clinician".into()), &site_a),
            Ok("clinician".to_string())
        );
        let err = redeem_check(
            "site-a",
            &["zoe".into(), "yan".into()],
            "amina",
            Some("clinician".into()),
            &site_a,
        )
        .expect_err("unknown users");
        assert!(err.to_string().contains("`zoe`, `yan`"), "{err}");
        assert!(err.to_string().contains("Nothing was stored"), "{err}");
        assert_eq!(
            redeem_check("site-a", &[], "amina", None, &site_a),
            Err(RedeemRefusal::NoAccount {
                account: "amina".into()
            })
        );
        assert_eq!(
            redeem_check("site-b", &[], "amina", Some("clinician".into()), &site_a),
            Err(RedeemRefusal::OtherSite {
                account: "amina".into(),
                site: "site-b".into()
            })
        );
    }
}
