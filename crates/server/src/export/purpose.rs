//! FORMS.md 2.3 and 7: which records an export for a purpose may carry, and why the
//! others are left out. Pure.

use serde_json::{Map, Value as J};
use std::fmt;
use std::str::FromStr;

/// What an export is for (FORMS.md 2.3). Each purpose names the consent and legal
/// basis fields of a record that must cover it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// Screening and care (`consent_screening`, `legal_basis_screening`).
    Screening,
    /// Sharing with the receiving country or authorities (`consent_share_destination`).
    ShareDestination,
    /// Research and surveillance (`consent_research`).
    Research,
    /// Statutory notifiable-disease reporting: a legal duty, not consent-based; only
    /// records with an open alert, and only the alert's data.
    NotifiableDisease,
}

impl Purpose {
    pub const ALL: [Purpose; 4] = [
        Purpose::Screening,
        Purpose::ShareDestination,
        Purpose::Research,
        Purpose::NotifiableDisease,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Purpose::Screening => "screening",
            Purpose::ShareDestination => "share_destination",
            Purpose::Research => "research",
            Purpose::NotifiableDisease => "notifiable_disease",
        }
    }
}

impl fmt::Display for Purpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An unknown purpose, with the list of known ones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown purpose `{0}`: use screening, share_destination, research or notifiable_disease")]
pub struct UnknownPurpose(pub String);

impl FromStr for Purpose {
    type Err = UnknownPurpose;
    fn from_str(s: &str) -> Result<Purpose, UnknownPurpose> {
        Purpose::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| UnknownPurpose(s.to_string()))
    }
}

/// Why a record was left out of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LeftOut {
    /// The consent for the purpose was refused and no other legal basis covers it.
    ConsentRefused,
    /// The consent was withdrawn (a withdrawal always wins).
    ConsentWithdrawn,
    /// Neither a granted consent nor a legal basis other than consent is recorded.
    NoConsentOrLegalBasis,
    /// Notifiable-disease export: the record has no open alert.
    NoNotifiableAlert,
}

impl LeftOut {
    pub fn name(self) -> &'static str {
        match self {
            LeftOut::ConsentRefused => "consent_refused",
            LeftOut::ConsentWithdrawn => "consent_withdrawn",
            LeftOut::NoConsentOrLegalBasis => "no_consent_or_legal_basis",
            LeftOut::NoNotifiableAlert => "no_notifiable_alert",
        }
    }
}

/// Whether a record's answers cover `purpose` (FORMS.md 2.3): its `consent_<purpose>`
/// granted, or its `legal_basis_<purpose>` answered and not `consent`. A
/// notifiable-disease export takes the records with an open alert (`alert_open`),
/// whatever their consents: reporting is a legal duty.
pub fn covers(purpose: Purpose, answers: &Map<String, J>) -> Result<(), LeftOut> {
    let text = |k: &str| answers.get(k).and_then(J::as_str);
    if purpose == Purpose::NotifiableDisease {
        return match answers.get("alert_open") {
            Some(J::Bool(true)) => Ok(()),
            _ => Err(LeftOut::NoNotifiableAlert),
        };
    }
    let consent = text(&format!("consent_{}", purpose.name()));
    let basis = text(&format!("legal_basis_{}", purpose.name()));
    if consent == Some("granted") {
        return Ok(());
    }
    if basis.is_some_and(|b| !b.is_empty() && b != "consent") {
        return Ok(());
    }
    Err(match consent {
        Some("withdrawn") => LeftOut::ConsentWithdrawn,
        Some("refused") => LeftOut::ConsentRefused,
        _ => LeftOut::NoConsentOrLegalBasis,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answers(v: J) -> Map<String, J> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn consent_or_a_legal_basis_covers_a_purpose() {
        let p = Purpose::Research;
        let cases = [
            (serde_json::json!({"consent_research": "granted"}), Ok(())),
            (
                serde_json::json!({"consent_research": "granted", "legal_basis_research": "consent"}),
                Ok(()),
            ),
            (
                serde_json::json!({"consent_research": "refused", "legal_basis_research": "public_health"}),
                Ok(()),
            ),
            (
                serde_json::json!({"consent_research": "refused", "legal_basis_research": "consent"}),
                Err(LeftOut::ConsentRefused),
            ),
            (
                serde_json::json!({"consent_research": "withdrawn"}),
                Err(LeftOut::ConsentWithdrawn),
            ),
            (
                serde_json::json!({"legal_basis_research": "consent"}),
                Err(LeftOut::NoConsentOrLegalBasis),
            ),
            (
                serde_json::json!({"consent_screening": "granted"}),
                Err(LeftOut::NoConsentOrLegalBasis),
            ),
        ];
        for (a, want) in cases {
            assert_eq!(covers(p, &answers(a.clone())), want, "{a}");
        }
    }

    #[test]
    fn notifiable_disease_takes_open_alerts_whatever_the_consent() {
        let p = Purpose::NotifiableDisease;
        assert_eq!(
            covers(
                p,
                &answers(serde_json::json!({"alert_open": true, "consent_research": "refused"}))
            ),
            Ok(())
        );
        assert_eq!(
            covers(p, &answers(serde_json::json!({"alert_open": false}))),
            Err(LeftOut::NoNotifiableAlert)
        );
    }

    #[test]
    fn purposes_parse_by_name() {
        for p in Purpose::ALL {
            assert_eq!(p.name().parse::<Purpose>(), Ok(p));
        }
        assert!("marketing".parse::<Purpose>().is_err());
    }
}
