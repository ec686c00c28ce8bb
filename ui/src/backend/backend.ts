import type {
  ActivityReport,
  Alert,
  Report,
  ReportFilter,
  ReportName,
  Answers,
  AnswerValue,
  DeviceState,
  Evaluation,
  ExportApproval,
  ExportApprovalRequest,
  ExportFile,
  ExportRequest,
  FormSummary,
  FormView,
  HistoryEntry,
  LocalUser,
  NewSubject,
  NewUser,
  QuarantineDecision,
  QuarantineEntry,
  RecordDetail,
  RecordFilter,
  RecordStatus,
  RecordSummary,
  RegisterResult,
  ServerRecord,
  ServerRecordView,
  Session,
  Settings,
  SubjectSummary,
  SyncState,
  TeamHubState,
  BundleSummary,
  BundleView,
} from './types';

/**
 * Everything the field app asks of the Rust side. Every method rejects with a
 * {@link BackendError} ({code, message}) and nothing else. `lang` is a BCP 47 tag:
 * labels and messages come back in that language (English where a form has none).
 *
 * Form logic lives behind this interface: relevance, constraints, calculations and
 * completeness are in the {@link Evaluation} the backend returns after every change.
 */
export interface Backend {
  // device and users
  deviceState(): Promise<DeviceState>;
  enrol(serverUrl: string, code: string): Promise<DeviceState>;
  listUsers(): Promise<LocalUser[]>;
  createUser(user: NewUser): Promise<LocalUser>;
  unlock(userId: string, password: string): Promise<Session>;
  lock(): Promise<void>;

  // subjects
  searchSubjects(query: string): Promise<SubjectSummary[]>;
  registerSubject(subject: NewSubject, confirmDuplicate: boolean): Promise<RegisterResult>;
  getSubject(subjectId: string): Promise<SubjectSummary>;

  // forms
  listForms(lang: string): Promise<FormSummary[]>;
  formView(formId: string, version: string, lang: string): Promise<FormView>;

  // records
  listRecords(filter: RecordFilter): Promise<RecordSummary[]>;
  newRecord(formId: string, subjectId: string): Promise<RecordSummary>;
  getRecord(recordId: string): Promise<RecordDetail>;
  evaluate(recordId: string, lang: string): Promise<Evaluation>;
  /**
   * Durable when it resolves. `null` clears the answer. Returns the new evaluation.
   * `reason`: the amendment reason, needed when the record's summary says `amendment`.
   */
  setAnswer(recordId: string, path: string, value: AnswerValue, lang: string, reason?: string | null): Promise<Evaluation>;
  addRepeat(recordId: string, group: string, lang: string, reason?: string | null): Promise<Evaluation>;
  removeRepeat(recordId: string, group: string, index: number, lang: string, reason?: string | null): Promise<Evaluation>;
  /** Marks a warning as seen (`rule@field`), so it no longer blocks completeness. */
  confirmWarning(recordId: string, rule: string, field: string, lang: string): Promise<Evaluation>;
  setStatus(recordId: string, status: RecordStatus, comment: string | null): Promise<RecordSummary>;
  fieldHistory(recordId: string, path: string): Promise<HistoryEntry[]>;
  resolveConflict(recordId: string, path: string, value: AnswerValue, lang: string): Promise<Evaluation>;

  // alerts
  /** Open alerts and tasks the forms' rules raised (TB suspects, notifiable diseases,
   * isolation), for the site's clinicians and supervisors; null for other users. */
  listAlerts(): Promise<Alert[] | null>;

  // sync
  syncState(): Promise<SyncState>;
  /** Starts a sync and returns at once; progress shows in syncState(). */
  syncNow(): Promise<SyncState>;

  // settings
  getSettings(): Promise<Settings>;
  saveSettings(settings: Settings): Promise<Settings>;

  // team hub (supervisors only; others get `forbidden`)
  hubState(): Promise<TeamHubState>;
  /** Starts the hub; `code` (from the server's administrator) only the first time. */
  hubStart(code: string | null): Promise<TeamHubState>;
  hubStop(): Promise<TeamHubState>;
  hubSyncNow(): Promise<TeamHubState>;
  /** A new one-time enrolment code for the next team device. */
  hubNewCode(): Promise<TeamHubState>;

  // bundles (any unlocked user of an enrolled device)
  /** The folders offered for bundles, the device's peers, the export or import in progress. */
  bundleView(): Promise<BundleView>;
  /** Writes the device's changes for `to` (default: its only peer) into an offered folder. */
  bundleExport(place: string, to: string | null): Promise<BundleSummary>;
  /** Reads a bundle file from an offered folder. */
  bundleImport(file: string): Promise<BundleSummary>;
}

/** The supervisor dashboard's backend: the server's HTTP API (`http.ts`). */
export interface DashboardBackend {
  signIn(username: string, password: string): Promise<LocalUser>;
  signOut(): Promise<void>;
  /** The records of the signed-in account's sites. */
  reviewList(): Promise<ServerRecord[]>;
  /** One record's answers (access-logged by the server; restricted ones only for roles that may see them). */
  record(recordId: string): Promise<ServerRecordView>;
  /** A built-in form as the UI draws it, to label answers. */
  formView(formId: string, version: string, lang: string): Promise<FormView>;
  /** The daily activity report of the account's sites over `days` days. */
  activity(days: number): Promise<ActivityReport>;
  /** A FORMS.md 8 report over the account's sites (access-logged by the server). */
  report(name: ReportName, filter: ReportFilter): Promise<Report>;
  /** The same report's table as CSV text (cells guarded against spreadsheet formulas). */
  reportCsv(name: ReportName, filter: ReportFilter): Promise<string>;
  /** A workflow move (sign, lock, return with a comment), checked by the server. */
  moveRecord(recordId: string, to: RecordStatus, comment: string | null): Promise<void>;
  /** Quarantined changes of the supervisor's sites waiting for a decision. */
  quarantine(): Promise<QuarantineEntry[]>;
  /** Releases or rejects a document's quarantined changes, with a reason (access-logged). */
  decideQuarantine(doc: string, decision: QuarantineDecision, reason: string): Promise<void>;

  // exports (issue 18): data managers export, supervisors approve
  /** Export approval requests: all for data managers, those of their sites for supervisors. */
  exportApprovals(): Promise<ExportApproval[]>;
  /** Asks a supervisor's approval for identified data or restricted sections (data managers). */
  requestExportApproval(req: ExportApprovalRequest): Promise<ExportApproval>;
  /** Approves a request (a supervisor of every one of its sites, not the requester). */
  approveExport(id: string): Promise<ExportApproval>;
  /** The registered recipients' names (data managers). */
  exportRecipients(): Promise<string[]>;
  /** Downloads an export as the server streams it; `progress` gets the bytes so far and the records it covers. */
  exportFile(req: ExportRequest, progress: (bytes: number, records: number | null) => void): Promise<ExportFile>;
}

export type { Answers };
