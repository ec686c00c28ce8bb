//! Roles and what each may do, after FORMS.md 2.2. The store checks these for the
//! local user; the server re-checks every pushed change against the author's role.

use crate::error::{Result, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Screener,
    Clinician,
    Supervisor,
    DataManager,
    Admin,
}

impl Role {
    pub fn parse(s: &str) -> Result<Role> {
        Ok(match s {
            "screener" => Role::Screener,
            "clinician" => Role::Clinician,
            "supervisor" => Role::Supervisor,
            "data_manager" => Role::DataManager,
            "admin" => Role::Admin,
            other => return Err(StoreError::UnknownRole(other.chars().take(40).collect())),
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Role::Screener => "screener",
            Role::Clinician => "clinician",
            Role::Supervisor => "supervisor",
            Role::DataManager => "data_manager",
            Role::Admin => "admin",
        }
    }

    /// Create subjects, start records, enter answers.
    pub fn may_capture(self) -> bool {
        matches!(self, Role::Screener | Role::Clinician)
    }

    /// See and enter restricted sections (HIV, mental health, violence, ...). A
    /// supervisor is taken to be a clinical supervisor on the device.
    pub fn may_see_restricted(self) -> bool {
        matches!(self, Role::Clinician | Role::Supervisor)
    }

    /// See identity fields (names, document numbers).
    pub fn may_see_identity(self) -> bool {
        matches!(self, Role::Screener | Role::Clinician | Role::Supervisor)
    }

    /// Read records at all (admins never read health data).
    pub fn may_read(self) -> bool {
        !matches!(self, Role::Admin | Role::DataManager)
    }

    /// Resolve a conflict on a field: supervisors any, clinicians clinical fields.
    pub fn may_resolve(self, clinical: bool) -> bool {
        match self {
            Role::Supervisor => true,
            Role::Clinician => clinical,
            _ => false,
        }
    }

    pub(crate) fn require(self, allowed: bool, action: &str) -> Result<()> {
        if allowed {
            Ok(())
        } else {
            Err(StoreError::Forbidden {
                role: self.name().into(),
                action: action.into(),
            })
        }
    }
}
