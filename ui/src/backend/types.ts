// Types that cross the boundary between the UI and the Rust side. Field names are
// snake_case as serde writes them. FormView and Evaluation mirror tern-forms
// (crates/forms/src/view.rs and evaluate.rs); the UI draws them and decides nothing.

/** The closed set of error codes; the Rust side maps every error to one of them. */
export const ERROR_CODES = [
  'not_enrolled', // the device has no enrolment yet: go to first run
  'enrolment_failed', // the server refused the code or could not be reached during enrolment
  'locked', // no user is unlocked (idle timeout or never unlocked)
  'wrong_password',
  'user_exists',
  'not_found',
  'invalid_input', // a malformed argument (path, value shape, empty name)
  'forbidden', // the user's role may not do this (FORMS.md 2.2)
  'conflict', // the record changed under the caller (e.g. status moved on)
  'offline', // the server cannot be reached (sync only; never blocks form filling)
  'revoked', // the device was revoked: local data is wiped
  'storage', // the local store failed (disk full, corrupted file)
  'internal',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** The one error shape across the boundary. */
export interface BackendError {
  code: ErrorCode;
  message: string;
}

export type Direction = 'ltr' | 'rtl';

// ---- device, users, session ------------------------------------------------

export interface DeviceState {
  enrolled: boolean;
  server_url: string | null;
  device_id: string | null;
  site_id: string | null;
  site_name: string | null;
}

export type Role = 'screener' | 'clinician' | 'supervisor' | 'data_manager' | 'admin';

export interface LocalUser {
  user_id: string;
  username: string;
  display_name: string;
  role: Role;
}

export interface NewUser {
  username: string;
  display_name: string;
  password: string;
  /** With nobody unlocked: a local user confirms with their password (it unwraps the data key for the new user). */
  confirmed_by?: { user_id: string; password: string } | null;
}

export interface Session {
  user: LocalUser;
  /** ISO 8601 time the session locks if idle. */
  expires_at: string;
}

// ---- subjects ---------------------------------------------------------------

export interface SubjectSummary {
  subject_id: string;
  family_name: string;
  given_name: string;
  sex: 'male' | 'female' | 'other' | 'unknown';
  /** ISO date, possibly estimated (see dob_precision). */
  date_of_birth: string;
  dob_precision: 'exact' | 'year_month' | 'year' | 'estimated';
  /** ISO 3166-1 alpha-2 codes. */
  nationality: string[];
  case_ref: string | null;
}

export type NewSubject = Omit<SubjectSummary, 'subject_id'>;

export type RegisterResult =
  | { kind: 'registered'; subject: SubjectSummary }
  /** Likely duplicates found; call again with confirm_duplicate to register anyway. */
  | { kind: 'possible_duplicates'; candidates: SubjectSummary[] };

// ---- forms ------------------------------------------------------------------

export interface FormSummary {
  form_id: string;
  version: string;
  /** Title in the requested language. */
  title: string;
  languages: string[];
}

export type FieldKind =
  | 'text'
  | 'integer'
  | 'decimal'
  | 'date'
  | 'datetime'
  | 'select_one'
  | 'select_multiple'
  | 'boolean'
  | 'calculate'
  | 'repeat'
  | 'note';

export interface ChoiceView {
  code: string;
  label: string;
}

export interface FieldView {
  id: string;
  kind: FieldKind;
  label: string;
  hint?: string;
  choices?: ChoiceView[];
  /** `iso3166-1-alpha2`: codes are countries, labelled by the UI from CLDR. */
  external_choices?: string;
  required: boolean;
  read_only: boolean;
  source: 'answer' | 'subject' | 'context';
  identity: boolean;
  restricted?: string;
  unit?: string;
  appearance?: string;
  decimals?: number;
  max?: number;
  licensed_text?: string;
  /** The roles the form lets write this field, when it limits them (FORMS.md 2.2). */
  write_roles?: string[];
  /** A text field picked from the site's accounts with these roles; `choices` holds
   *  the accounts the device knows (tern-store fills them). */
  choices_from_accounts?: string[];
  /** Standard codes (LOINC, CVX): the primary code first, then further codes with
   *  their role (`fhir-vital-signs`, `panel`). */
  codes?: { system: string; code: string; verified: boolean; role?: string }[];
  /** Children of a repeat group. */
  fields?: FieldView[];
}

export interface SectionView {
  id: string;
  title: string;
  hint?: string;
  restricted?: string;
  fields: FieldView[];
}

export interface FormView {
  form_id: string;
  version: string;
  language: string;
  direction: Direction;
  title: string;
  languages: string[];
  sections: SectionView[];
}

export interface RuleResult {
  /** Field path, `group[i].field` inside repeats. */
  field: string;
  rule: string;
  /** Already in the requested language. */
  message: string;
}

export interface Evaluation {
  relevant: string[];
  missing: string[];
  errors: RuleResult[];
  warnings: RuleResult[];
  calculated: Record<string, AnswerValue>;
  complete: boolean;
  actions: RuleResult[];
  not_relevant_answers: string[];
}

// ---- records ----------------------------------------------------------------

export type AnswerValue = string | number | boolean | null | string[] | RepeatInstance[];
export interface RepeatInstance {
  [field: string]: AnswerValue;
}
export type Answers = Record<string, AnswerValue>;

export type RecordStatus = 'draft' | 'submitted' | 'reviewed' | 'locked' | 'returned';

export interface RecordSummary {
  record_id: string;
  form_id: string;
  form_version: string;
  subject_id: string;
  /** Pseudonymous display: given name + family initial, or subject id. */
  subject_label: string;
  status: RecordStatus;
  created_at: string;
  updated_at: string;
  /** Comment of the supervisor when returned for correction. */
  return_comment: string | null;
  conflict_count: number;
  /** Changes not yet pushed to the server. */
  unsynced: boolean;
  /** Changes are amendments: each needs a reason (the record is locked). */
  amendment: boolean;
  /**
   * The workflow moves this user may make now (FORMS.md 2), decided by tern-store:
   * the UI offers exactly these, never decides from the role.
   */
  status_moves: StatusMove[];
  /** The user's role enters answers at all (tern-store decides; a supervisor does not). */
  editable: boolean;
}

/**
 * One record as the server lists it to the dashboard (`GET /v1/records`, the
 * server's projection): no answers, no names. Roles that see every site get a
 * pseudonym in `subject_id`.
 */
export interface ServerRecord {
  record_id: string;
  site: string;
  form_id: string;
  form_version: string;
  subject_id: string;
  status: RecordStatus;
  /** Concurrent values wait for a supervisor. */
  conflict: boolean;
}

/**
 * A document whose changes the server quarantined and that waits for a supervisor
 * (`GET /v1/quarantine`): names and the verifier's reason, never a value.
 */
export interface QuarantineEntry {
  doc: string;
  kind: string;
  site: string;
  reason: string;
  /** The accounts whose changes are quarantined. */
  authors: string[];
  /** How many changes wait. */
  changes: number;
}

/** Release (merge without the failed check) or reject (keep out for good). */
export type QuarantineDecision = 'release' | 'reject';

/** What `GET /v1/records/{id}` answers: the row and the record's answers. */
export interface ServerRecordView {
  record: ServerRecord;
  data: {
    answers: Answers;
    conflicts: { field: string; values: { value: AnswerValue; user: string; device: string; time: string }[] }[];
    /** The restricted twin's answers: only for roles that may see them. */
    restricted?: { answers: Answers; conflicts: unknown[] };
  };
  /** The workflow moves the signed-in account may make here (never a submit). */
  status_moves: StatusMove[];
}

/** `GET /v1/reports/activity` (FORMS.md 8, "Daily activity"), computed by the server. */
export interface ActivityReport {
  /** Newest first, `YYYY-MM-DD` (UTC). */
  days: string[];
  statuses: RecordStatus[];
  rows: { day: string; site: string; form_id: string; total: number; by_status: Record<string, number> }[];
  /** Drafts started more than 24 hours ago, oldest first. */
  stale_drafts: { record_id: string; site: string; form_id: string; created: string; hours: number }[];
  /** Every record of the sites by status, whatever its day. */
  totals: Record<string, number>;
  /** Ids of records waiting for a sign-off or a lock, or holding a conflict. */
  to_review: string[];
  conflicts: number;
  /** Records whose start the server does not know. */
  undated: number;
  /** Devices of these sites silent for more than a day (`hours` null: never synced). */
  quiet_devices: { id: string; site: string; user: string; last_sync: string | null; hours: number | null }[];
  /** Records of the covered days by outcome, and refusals (servers before issue 17 send neither). */
  outcomes?: Record<string, number>;
  refusals?: number;
}

/** A status change the user may make: to `to`; a return needs a comment. */
export interface StatusMove {
  to: RecordStatus;
  needs_comment: boolean;
}

export type RecordFilter =
  | { kind: 'today' }
  | { kind: 'drafts' }
  | { kind: 'needs_correction' }
  | { kind: 'subject'; subject_id: string };

export interface ConflictValue {
  value: AnswerValue;
  user: string;
  device_id: string;
  at: string;
}

export interface Conflict {
  path: string;
  values: ConflictValue[];
}

export interface RecordDetail {
  summary: RecordSummary;
  /** Every answer of the record, subject fields and context values included. */
  answers: Answers;
  conflicts: Conflict[];
  /** Warnings the user confirmed, as `rule@field`. */
  confirmed_warnings: string[];
  /** Sections the user's role may not see (restricted, FORMS.md 2.2): left out of the form. */
  withheld_sections: string[];
  /**
   * Fields (ids; a repeat group's children by their own id) the user's role may not
   * write (the form's `write_roles`, FORMS.md 2.2): shown read-only. The backend
   * refuses writes to them anyway.
   */
  read_only_fields: string[];
}

export interface HistoryEntry {
  path: string;
  value: AnswerValue;
  user: string;
  device_id: string;
  at: string;
  message: string | null;
  /** The reason of an amendment. */
  reason?: string | null;
}

// ---- sync and settings --------------------------------------------------------

export type SyncPhase = 'idle' | 'connecting' | 'pushing' | 'pulling' | 'offline' | 'error' | 'revoked';

/** An alert or task a form's rule raised (tern-store's alert projection). */
export interface Alert {
  record_id: string;
  form_id: string;
  subject_id: string;
  site: string;
  rule: string;
  field: string;
  kind: 'tb_suspect' | 'notifiable_alert' | 'isolation';
  fired_at: string;
  deadline: string | null;
  state: 'open' | 'closed';
  closed_at: string | null;
}

export interface SyncState {
  phase: SyncPhase;
  /** 0..1 while pushing or pulling. */
  progress: number | null;
  last_sync_at: string | null;
  /** Records with changes not yet on the server. */
  pending_records: number;
  /** Local users whose server account is not proven on this device yet: their work
   * stays here until each signs in once while online. */
  unproven_users: string[];
  last_error: BackendError | null;
}

export interface Settings {
  language: string;
  server_url: string | null;
  /** Minutes of inactivity before the lock screen. */
  lock_timeout_minutes: number;
}

/** The FORMS.md 8 reports the server makes (`GET /v1/reports/<name>`). */
export const REPORT_NAMES = ['daily', 'tb_suspects', 'alerts', 'vulnerability', 'vaccination', 'test_uptake', 'incomplete', 'conflicts'] as const;
export type ReportName = (typeof REPORT_NAMES)[number];

/** Which records a report covers: encounter days `from..=until` (`YYYY-MM-DD`), a site, a form. */
export interface ReportFilter {
  from?: string;
  until?: string;
  site?: string;
  form?: string;
}

/** A report as the server computed it (crates/server/src/reports.rs): a table and its chart. */
export interface Report {
  name: ReportName;
  /** Column keys (labels are the UI's `rep-col-<key>`; `outcome:<code>` columns name an outcome). */
  columns: string[];
  rows: (string | number | boolean | null)[][];
  /** Rows of the whole report: more than `rows` holds when the server bounded the list (the CSV has all). */
  total_rows: number;
  chart: ReportChart | null;
  /** What the data cannot say (`rep-note-<key>`). */
  notes: string[];
}

export interface ReportChart {
  kind: 'bar' | 'line';
  labels: string[];
  series: { name: string; values: number[] }[];
}

// ---- team hub (a supervisor's app serving the field team) --------------------

/** A device of the supervisor's team, enrolled with the team hub. */
export interface TeamDevice {
  id: string;
  site: string;
  user: string;
  last_sync: string | null;
  revoked: boolean;
}

export type UpstreamPhase = 'idle' | 'syncing' | 'failed' | 'revoked';

/** How far a running upstream sync got. */
export interface HubProgress {
  /** The team's changes waiting to go up when the sync started. */
  to_push: number;
  pushed: number;
  pulled_documents: number;
  round_trips: number;
}

export interface HubSyncReport {
  pushed_changes: number;
  pulled_changes: number;
  pulled_documents: number;
  bytes_sent: number;
  bytes_received: number;
  round_trips: number;
  revoked_devices: string[];
  waiting: boolean;
}

export interface UpstreamState {
  phase: UpstreamPhase;
  progress: HubProgress | null;
  last_report: HubSyncReport | null;
  /** Why the last attempt failed (no health data). */
  last_error: string | null;
}

/** The "Team hub" screen, as the Rust side decides it. */
export interface TeamHubState {
  /** The unlocked user is a supervisor. */
  available: boolean;
  /** Set up on this computer: it starts with the password alone. */
  set_up: boolean;
  running: boolean;
  /** `https://IP:PORT` for each address of this computer on the team's network. */
  addresses: string[];
  /** SHA-256 of the hub's certificate, pinned by team devices. */
  fingerprint: string | null;
  /** A one-time code (`CODE#FINGERPRINT`) for the next team device. */
  enrolment_code: string | null;
  /** The first address and the code as a QR code (SVG text). */
  qr_svg: string | null;
  sites: string[];
  devices: TeamDevice[];
  /** The team's changes not yet acknowledged by the server. */
  pending_up: number;
  last_sync: string | null;
  upstream: UpstreamState | null;
}

// ---- bundles (sync by file, when there is no network at all) -----------------

/** What a bundle export or import did. */
export interface BundleSummary {
  sender: string;
  recipient: string;
  seq: number;
  /** `up` (device to its hub or server) or `down`. */
  direction: string;
  pages: number;
  chunks: number;
  documents: number;
  bytes: number;
  /** Import: changes this device did not have. */
  new_changes: number;
  /** Import: this bundle was imported before; nothing changed. */
  already_imported: boolean;
}

export interface BundleFile {
  path: string;
  name: string;
  bytes: number;
  modified: string | null;
}

/** A folder the app offers for bundles: a USB drive or the user's documents. */
export interface BundlePlace {
  path: string;
  label: string;
  removable: boolean;
  files: BundleFile[];
}

export interface BundleActivity {
  kind: 'export' | 'import';
  running: boolean;
  pages_done: number;
  /** Known on import; 0 on export. */
  pages_total: number;
  summary: BundleSummary | null;
  error: BackendError | null;
}

export interface BundleView {
  places: BundlePlace[];
  /** The hub or server this device exchanges bundles with. */
  peers: string[];
  activity: BundleActivity | null;
}

/** The purposes data may leave Tern for (FORMS.md 2.3; crates/server/src/export/purpose.rs). */
export const EXPORT_PURPOSES = ['screening', 'share_destination', 'research', 'notifiable_disease'] as const;
export type ExportPurpose = (typeof EXPORT_PURPOSES)[number];

/** The export file formats (`tern export --format`). */
export const EXPORT_FORMATS = ['csv', 'fhir', 'fhir-ndjson'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** What a data manager asks to export (`POST /v1/exports`, the server's `ExportRequest`). */
export interface ExportRequest {
  form: string;
  format: ExportFormat;
  purpose: ExportPurpose;
  /** A registered recipient: the file is encrypted to their `age` key. */
  recipient?: string | null;
  sites?: string[];
  since?: string | null;
  until?: string | null;
  identified?: boolean;
  /** An approved request, needed for identified data or restricted sections. */
  approval?: string | null;
}

/** A request for an identified export or one with restricted sections, and its approval. */
export interface ExportApproval {
  id: string;
  purpose: ExportPurpose;
  form_id: string;
  sites: string[];
  identified: boolean;
  restricted: boolean;
  requested_by: string;
  requested_at: string;
  approved_by: string | null;
  approved_at: string | null;
}

/** What a data manager asks approval for (`POST /v1/exports/approvals`). */
export interface ExportApprovalRequest {
  purpose: ExportPurpose;
  form: string;
  sites: string[];
  identified: boolean;
  restricted: boolean;
}

/** An export as downloaded: its file name, the bytes, how many records the query covered. */
export interface ExportFile {
  name: string;
  blob: Blob;
  records: number | null;
}
