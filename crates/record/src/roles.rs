//! Roles and what each may do, after FORMS.md 2.2. The store checks these for the
//! local user; the server re-checks every pushed change against the author's role.

use crate::error::{RecordError, Result};
use tern_forms::Field;

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
            other => return Err(RecordError::UnknownRole(other.chars().take(40).collect())),
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

    /// Write `field` (FORMS.md 2.2: TB classification, outcome, fitness to travel and
    /// sign-off are the clinician's): the roles the form lists in the field's
    /// `write_roles` (its own, else its group's or section's), or any role when it
    /// lists none. The one rule for field-level write rights: the store checks it for
    /// the acting user on every write, the server for the author of every pushed
    /// change.
    pub fn may_write_field(self, field: &Field) -> bool {
        field
            .write_roles()
            .is_none_or(|roles| roles.iter().any(|r| r == self.name()))
    }

    /// [`Role::may_write_field`] as a refusal that says who may write the field at
    /// `path` and what to do; never the value.
    pub fn require_write(self, field: &Field, path: &str) -> Result<()> {
        if self.may_write_field(field) {
            return Ok(());
        }
        let allowed = field.write_roles().unwrap_or_default().join(" or ");
        Err(RecordError::Forbidden {
            role: self.name().into(),
            action: format!(
                "write field `{path}`: the form lets only {allowed} write it; ask a {allowed} to enter it"
            ),
        })
    }

    pub fn require(self, allowed: bool, action: &str) -> Result<()> {
        if allowed {
            Ok(())
        } else {
            Err(RecordError::Forbidden {
                role: self.name().into(),
                action: action.into(),
            })
        }
    }
}
