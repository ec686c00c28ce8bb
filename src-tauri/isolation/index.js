// The isolation hook of Tauri's isolation pattern: every IPC message from the UI
// passes here, in a sandboxed frame, before it reaches the Rust side. It lets through
// only the app's own commands (and Tauri's core plugin calls) with a plain-object
// payload; anything else is dropped. It never logs payloads (they carry health data).
const ALLOWED = new Set([
  'device_state', 'device_enrol', 'users_list', 'users_create', 'session_unlock',
  'session_lock', 'subjects_search', 'subjects_register', 'subjects_get', 'forms_list',
  'forms_view', 'records_list', 'records_new', 'records_get', 'records_evaluate',
  'records_set_answer', 'records_add_repeat', 'records_remove_repeat',
  'records_confirm_warning', 'records_set_status', 'records_field_history',
  'records_resolve_conflict', 'alerts_list', 'sync_state', 'sync_now', 'settings_get', 'settings_save',
  'hub_state', 'hub_start', 'hub_stop', 'hub_sync_now', 'hub_new_code',
  'bundle_view', 'bundle_export', 'bundle_import',
]);

window.__TAURI_ISOLATION_HOOK__ = (payload) => {
  const cmd = payload && payload.cmd;
  if (typeof cmd !== 'string') return null;
  if (ALLOWED.has(cmd) || cmd.startsWith('plugin:') || cmd.startsWith('__')) return payload;
  return null;
};
