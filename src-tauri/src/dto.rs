//! The shapes the UI reads (`ui/src/backend/types.ts`), snake_case as serde writes
//! them, and their conversion from what the crates return. Conversions only rename
//! and reshape; they decide nothing.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as J};
use tern_store::{ConflictValue, HistoryEntry as StoreHistory, RecordInfo, StatusMove};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DeviceState {
    pub enrolled: bool,
    pub server_url: Option<String>,
    pub device_id: Option<String>,
    pub site_id: Option<String>,
    pub site_name: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LocalUser {
    pub user_id: String,
    pub username: String,
    pub display_name: String,
    pub role: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub password: String,
    /// A local user who confirms the new one with their password, when nobody is
    /// unlocked (the data key can only be wrapped for the new user by someone who
    /// can unwrap it).
    #[serde(default)]
    pub confirmed_by: Option<Confirmation>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Confirmation {
    pub user_id: String,
    pub password: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Session {
    pub user: LocalUser,
    pub expires_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SubjectSummary {
    pub subject_id: String,
    pub family_name: String,
    pub given_name: String,
    pub sex: String,
    pub date_of_birth: String,
    pub dob_precision: String,
    pub nationality: Vec<String>,
    pub case_ref: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct NewSubject {
    pub family_name: String,
    pub given_name: String,
    pub sex: String,
    pub date_of_birth: String,
    pub dob_precision: String,
    #[serde(default)]
    pub nationality: Vec<String>,
    #[serde(default)]
    pub case_ref: Option<String>,
}

impl NewSubject {
    /// `field=value` pairs as `Store::add_subject` reads them (by declared type).
    pub fn values(&self) -> Vec<(String, String)> {
        let mut v = vec![
            ("family_name".to_string(), self.family_name.clone()),
            ("given_name".to_string(), self.given_name.clone()),
            ("sex".to_string(), self.sex.clone()),
            ("date_of_birth".to_string(), self.date_of_birth.clone()),
            ("dob_precision".to_string(), self.dob_precision.clone()),
        ];
        if !self.nationality.is_empty() {
            v.push(("nationality".into(), self.nationality.join(",")));
        }
        if let Some(c) = self.case_ref.as_ref().filter(|c| !c.trim().is_empty()) {
            v.push(("case_ref".into(), c.clone()));
        }
        v
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RegisterResult {
    Registered { subject: SubjectSummary },
    PossibleDuplicates { candidates: Vec<SubjectSummary> },
}

/// A subject from `Store::show_subject`'s JSON (fields and identity maps).
pub fn subject_summary(shown: &J) -> SubjectSummary {
    let text = |map: &str, k: &str| {
        shown[map][k]
            .as_str()
            .map(str::to_string)
            .unwrap_or_default()
    };
    let nationality = match &shown["fields"]["nationality"] {
        J::Array(a) => a.iter().filter_map(J::as_str).map(str::to_string).collect(),
        J::String(s) if !s.is_empty() => vec![s.clone()],
        _ => Vec::new(),
    };
    let precision = text("fields", "dob_precision");
    SubjectSummary {
        subject_id: shown["subject_id"].as_str().unwrap_or_default().to_string(),
        family_name: text("identity", "family_name"),
        given_name: text("identity", "given_name"),
        sex: Some(text("fields", "sex"))
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "unknown".into()),
        date_of_birth: text("fields", "date_of_birth"),
        dob_precision: if precision.is_empty() {
            "exact".into()
        } else {
            precision
        },
        nationality,
        case_ref: Some(text("identity", "case_ref")).filter(|s| !s.is_empty()),
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct FormSummary {
    pub form_id: String,
    pub version: String,
    pub title: String,
    pub languages: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RecordFilter {
    Today,
    Drafts,
    NeedsCorrection,
    Subject { subject_id: String },
}

#[derive(Debug, Clone, Serialize)]
pub struct RecordSummary {
    pub record_id: String,
    pub form_id: String,
    pub form_version: String,
    pub subject_id: String,
    pub subject_label: String,
    pub status: String,
    pub created_at: String,
    pub updated_at: String,
    pub return_comment: Option<String>,
    pub conflict_count: usize,
    pub unsynced: bool,
    /// Changes are amendments: each needs a reason (the record is locked).
    pub amendment: bool,
    /// The workflow moves this user may make now (decided by tern-store).
    pub status_moves: Vec<StatusMove>,
    /// The user's role enters answers (tern-store decides).
    pub editable: bool,
}

impl From<RecordInfo> for RecordSummary {
    fn from(i: RecordInfo) -> RecordSummary {
        let returned = i.row.status == "returned";
        RecordSummary {
            record_id: i.row.record_id,
            form_id: i.row.form_id,
            form_version: i.row.form_version,
            subject_id: i.row.subject_id,
            subject_label: i.subject_label,
            status: i.row.status,
            created_at: i.row.created,
            updated_at: i.updated,
            return_comment: Some(i.status_comment).filter(|c| returned && !c.is_empty()),
            conflict_count: i.conflict_count,
            unsynced: i.unsynced,
            amendment: i.amendment,
            status_moves: i.status_moves,
            editable: i.editable,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ConflictDto {
    pub path: String,
    pub values: Vec<ConflictValueDto>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ConflictValueDto {
    pub value: J,
    pub user: String,
    pub device_id: String,
    pub at: String,
}

impl From<ConflictValue> for ConflictValueDto {
    fn from(v: ConflictValue) -> Self {
        ConflictValueDto {
            value: v.value,
            user: v.user,
            device_id: v.device,
            at: v.time,
        }
    }
}

impl From<tern_store::Conflict> for ConflictDto {
    fn from(c: tern_store::Conflict) -> Self {
        ConflictDto {
            path: c.field,
            values: c.values.into_iter().map(Into::into).collect(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct RecordDetail {
    pub summary: RecordSummary,
    pub answers: Map<String, J>,
    pub conflicts: Vec<ConflictDto>,
    pub confirmed_warnings: Vec<String>,
    /// Sections the user's role may not see (restricted); the UI leaves them out.
    pub withheld_sections: Vec<String>,
    /// Fields the user's role may not write (the form's `write_roles`, FORMS.md 2.2);
    /// the UI shows them read-only, and the store refuses writes to them anyway.
    pub read_only_fields: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HistoryEntry {
    pub path: String,
    pub value: J,
    pub user: String,
    pub device_id: String,
    pub at: String,
    pub message: Option<String>,
    /// The reason of an amendment.
    pub reason: Option<String>,
}

impl From<StoreHistory> for HistoryEntry {
    fn from(h: StoreHistory) -> Self {
        HistoryEntry {
            path: h.field,
            value: h.value,
            user: h.user,
            device_id: h.device,
            at: h.time,
            message: Some(h.message).filter(|m| !m.is_empty()),
            reason: h.reason,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Settings {
    pub language: String,
    pub server_url: Option<String>,
    pub lock_timeout_minutes: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            language: "en".into(),
            server_url: None,
            lock_timeout_minutes: 5,
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SyncPhase {
    Idle,
    Connecting,
    Pushing,
    Pulling,
    Offline,
    Error,
    Revoked,
}

#[derive(Debug, Clone, Serialize)]
pub struct SyncState {
    pub phase: SyncPhase,
    pub progress: Option<f64>,
    pub last_sync_at: Option<String>,
    pub pending_records: usize,
    /// Local users whose server account is not proven on this device yet.
    pub unproven_users: Vec<String>,
    pub last_error: Option<crate::error::ApiError>,
}

/// A value the UI sends for a conflict resolution, as the text `Store::resolve`
/// reads by the field's type (a list of codes as `a,b`).
pub fn value_as_text(v: &J) -> String {
    match v {
        J::Null => String::new(),
        J::String(s) => s.clone(),
        J::Array(items) => items
            .iter()
            .map(value_as_text)
            .collect::<Vec<_>>()
            .join(","),
        other => other.to_string(),
    }
}

/// A device of the supervisor's field team, enrolled with the team hub.
#[derive(Debug, Clone, Serialize)]
pub struct TeamDevice {
    pub id: String,
    pub site: String,
    pub user: String,
    pub last_sync: Option<String>,
    pub revoked: bool,
}

/// The "Team hub" screen: whether the user may run one, and while it runs, where
/// the team reaches it, the code to enrol the next device, the team's devices and
/// the upstream sync.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TeamHubState {
    /// The unlocked user is a supervisor.
    pub available: bool,
    /// The hub was set up on this computer (it starts with the password alone).
    pub set_up: bool,
    pub running: bool,
    /// `https://IP:PORT` for each address of this computer on the team's network.
    pub addresses: Vec<String>,
    /// SHA-256 of the hub's certificate, which team devices pin.
    pub fingerprint: Option<String>,
    /// A one-time enrolment code (`CODE#FINGERPRINT`) for the next device.
    pub enrolment_code: Option<String>,
    /// The first address and the code as a QR code (SVG).
    pub qr_svg: Option<String>,
    pub sites: Vec<String>,
    pub devices: Vec<TeamDevice>,
    /// The team's changes not yet acknowledged upstream.
    pub pending_up: i64,
    pub last_sync: Option<String>,
    pub upstream: Option<tern_hub::UpstreamState>,
}

/// A bundle file in one of the places the app offers.
#[derive(Debug, Clone, Serialize)]
pub struct BundleFile {
    pub path: String,
    pub name: String,
    pub bytes: u64,
    /// RFC 3339.
    pub modified: Option<String>,
}

/// A folder bundles can be written to and read from: a removable drive or the
/// user's documents.
#[derive(Debug, Clone, Serialize)]
pub struct BundlePlace {
    pub path: String,
    pub label: String,
    pub removable: bool,
    pub files: Vec<BundleFile>,
}

/// A bundle export or import, running or done.
#[derive(Debug, Clone, Serialize)]
pub struct BundleActivity {
    /// `export` or `import`.
    pub kind: String,
    pub running: bool,
    pub pages_done: u64,
    /// Known on import; 0 on export (pages are counted as they are made).
    pub pages_total: u64,
    pub summary: Option<tern_sync::bundle::BundleSummary>,
    pub error: Option<crate::error::ApiError>,
}

/// The bundle screen: where bundles go and come from, the device's peers, and the
/// export or import in progress.
#[derive(Debug, Clone, Serialize)]
pub struct BundleView {
    pub places: Vec<BundlePlace>,
    /// The hub or server this device exchanges bundles with.
    pub peers: Vec<String>,
    pub activity: Option<BundleActivity>,
}
