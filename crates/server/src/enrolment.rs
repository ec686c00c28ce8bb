//! Who may enrol a device, and for which account: the rules both storage backends
//! apply inside their redeem transaction, and the service applies before it checks a
//! password. Pure: no database, no clock (the caller passes "now").
//!
//! The rules (docs/security.md, "Enrolment"):
//! - a code is used once and expires (24 hours by default);
//! - a code that names an account enrols only that account; a code naming none enrols
//!   the account the device's user names;
//! - either way the account proves itself with its own password (checked by the
//!   service, never by a code alone), and must hold the code's site (checked by the
//!   backend with the account's sites).

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
