import { invoke } from '@tauri-apps/api/core';
import type { Backend } from './backend';
import { toBackendError } from './errors';
import type {
  Alert,
  AnswerValue,
  DeviceState,
  Evaluation,
  FormSummary,
  FormView,
  HistoryEntry,
  LocalUser,
  NewSubject,
  NewUser,
  RecordDetail,
  RecordFilter,
  RecordStatus,
  RecordSummary,
  RegisterResult,
  Session,
  Settings,
  SubjectSummary,
  SyncState,
  TeamHubState,
  BundleSummary,
  BundleView,
} from './types';

/**
 * Command names of the Tauri shell, one per Backend method. The shell implements
 * exactly these (see README.md beside this file); arguments are passed as one object
 * with camelCase keys, as Tauri maps them onto the command's snake_case parameters.
 */
export const COMMANDS = {
  deviceState: 'device_state',
  enrol: 'device_enrol',
  listUsers: 'users_list',
  createUser: 'users_create',
  unlock: 'session_unlock',
  lock: 'session_lock',
  searchSubjects: 'subjects_search',
  registerSubject: 'subjects_register',
  getSubject: 'subjects_get',
  listForms: 'forms_list',
  formView: 'forms_view',
  listRecords: 'records_list',
  newRecord: 'records_new',
  getRecord: 'records_get',
  evaluate: 'records_evaluate',
  setAnswer: 'records_set_answer',
  addRepeat: 'records_add_repeat',
  removeRepeat: 'records_remove_repeat',
  confirmWarning: 'records_confirm_warning',
  setStatus: 'records_set_status',
  fieldHistory: 'records_field_history',
  resolveConflict: 'records_resolve_conflict',
  syncState: 'sync_state',
  listAlerts: 'alerts_list',
  syncNow: 'sync_now',
  getSettings: 'settings_get',
  saveSettings: 'settings_save',
  hubState: 'hub_state',
  hubStart: 'hub_start',
  hubStop: 'hub_stop',
  hubSyncNow: 'hub_sync_now',
  hubNewCode: 'hub_new_code',
  bundleView: 'bundle_view',
  bundleExport: 'bundle_export',
  bundleImport: 'bundle_import',
} as const satisfies Record<keyof Backend, string>;

export type Invoke = (cmd: string, args?: Record<string, unknown>) => Promise<unknown>;

/** The field app inside the Tauri shell. */
export class TauriBackend implements Backend {
  constructor(private readonly invokeFn: Invoke = invoke) {}

  private async call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
    try {
      return (await this.invokeFn(cmd, args)) as T;
    } catch (e) {
      throw toBackendError(e);
    }
  }

  deviceState(): Promise<DeviceState> {
    return this.call(COMMANDS.deviceState);
  }
  enrol(serverUrl: string, code: string): Promise<DeviceState> {
    return this.call(COMMANDS.enrol, { serverUrl, code });
  }
  listUsers(): Promise<LocalUser[]> {
    return this.call(COMMANDS.listUsers);
  }
  createUser(user: NewUser): Promise<LocalUser> {
    return this.call(COMMANDS.createUser, { user });
  }
  unlock(userId: string, password: string): Promise<Session> {
    return this.call(COMMANDS.unlock, { userId, password });
  }
  lock(): Promise<void> {
    return this.call(COMMANDS.lock);
  }
  searchSubjects(query: string): Promise<SubjectSummary[]> {
    return this.call(COMMANDS.searchSubjects, { query });
  }
  registerSubject(subject: NewSubject, confirmDuplicate: boolean): Promise<RegisterResult> {
    return this.call(COMMANDS.registerSubject, { subject, confirmDuplicate });
  }
  getSubject(subjectId: string): Promise<SubjectSummary> {
    return this.call(COMMANDS.getSubject, { subjectId });
  }
  listForms(lang: string): Promise<FormSummary[]> {
    return this.call(COMMANDS.listForms, { lang });
  }
  formView(formId: string, version: string, lang: string): Promise<FormView> {
    return this.call(COMMANDS.formView, { formId, version, lang });
  }
  listRecords(filter: RecordFilter): Promise<RecordSummary[]> {
    return this.call(COMMANDS.listRecords, { filter });
  }
  newRecord(formId: string, subjectId: string): Promise<RecordSummary> {
    return this.call(COMMANDS.newRecord, { formId, subjectId });
  }
  getRecord(recordId: string): Promise<RecordDetail> {
    return this.call(COMMANDS.getRecord, { recordId });
  }
  evaluate(recordId: string, lang: string): Promise<Evaluation> {
    return this.call(COMMANDS.evaluate, { recordId, lang });
  }
  setAnswer(recordId: string, path: string, value: AnswerValue, lang: string, reason: string | null = null): Promise<Evaluation> {
    return this.call(COMMANDS.setAnswer, { recordId, path, value, lang, reason });
  }
  addRepeat(recordId: string, group: string, lang: string, reason: string | null = null): Promise<Evaluation> {
    return this.call(COMMANDS.addRepeat, { recordId, group, lang, reason });
  }
  removeRepeat(recordId: string, group: string, index: number, lang: string, reason: string | null = null): Promise<Evaluation> {
    return this.call(COMMANDS.removeRepeat, { recordId, group, index, lang, reason });
  }
  confirmWarning(recordId: string, rule: string, field: string, lang: string): Promise<Evaluation> {
    return this.call(COMMANDS.confirmWarning, { recordId, rule, field, lang });
  }
  setStatus(recordId: string, status: RecordStatus, comment: string | null): Promise<RecordSummary> {
    return this.call(COMMANDS.setStatus, { recordId, status, comment });
  }
  fieldHistory(recordId: string, path: string): Promise<HistoryEntry[]> {
    return this.call(COMMANDS.fieldHistory, { recordId, path });
  }
  resolveConflict(recordId: string, path: string, value: AnswerValue, lang: string): Promise<Evaluation> {
    return this.call(COMMANDS.resolveConflict, { recordId, path, value, lang });
  }
  listAlerts(): Promise<Alert[] | null> {
    return this.call(COMMANDS.listAlerts);
  }

  syncState(): Promise<SyncState> {
    return this.call(COMMANDS.syncState);
  }
  syncNow(): Promise<SyncState> {
    return this.call(COMMANDS.syncNow);
  }
  getSettings(): Promise<Settings> {
    return this.call(COMMANDS.getSettings);
  }
  saveSettings(settings: Settings): Promise<Settings> {
    return this.call(COMMANDS.saveSettings, { settings });
  }
  hubState(): Promise<TeamHubState> {
    return this.call(COMMANDS.hubState);
  }
  hubStart(code: string | null): Promise<TeamHubState> {
    return this.call(COMMANDS.hubStart, { code });
  }
  hubStop(): Promise<TeamHubState> {
    return this.call(COMMANDS.hubStop);
  }
  hubSyncNow(): Promise<TeamHubState> {
    return this.call(COMMANDS.hubSyncNow);
  }
  hubNewCode(): Promise<TeamHubState> {
    return this.call(COMMANDS.hubNewCode);
  }
  bundleView(): Promise<BundleView> {
    return this.call(COMMANDS.bundleView);
  }
  bundleExport(place: string, to: string | null): Promise<BundleSummary> {
    return this.call(COMMANDS.bundleExport, { place, to });
  }
  bundleImport(file: string): Promise<BundleSummary> {
    return this.call(COMMANDS.bundleImport, { file });
  }
}

/** True inside the Tauri webview. */
export function inTauri(): boolean {
  return typeof window !== 'undefined' && '__TAURI_INTERNALS__' in window;
}
