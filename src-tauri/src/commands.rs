//! The Tauri commands the UI's `TauriBackend` calls (`ui/src/backend/tauri.ts`), one
//! per method. Each gets the state, runs one [`Core`] method off the UI thread and
//! hands back its value or `{code, message}`. Nothing else happens here.

use crate::core::Core;
use crate::dto::*;
use crate::error::{ApiError, ApiResult, Code};
use serde_json::Value as J;
use std::sync::Arc;
use tauri::State;

type Core_<'a> = State<'a, Arc<Core>>;

/// Runs a blocking store call on the blocking pool (Argon2, SQLite with
/// `synchronous=FULL`), never on the thread that draws the window.
async fn run<T: Send + 'static>(
    core: &Arc<Core>,
    f: impl FnOnce(&Core) -> ApiResult<T> + Send + 'static,
) -> ApiResult<T> {
    let core = core.clone();
    tauri::async_runtime::spawn_blocking(move || f(&core))
        .await
        .map_err(|_| ApiError::new(Code::Internal, "The command stopped unexpectedly."))?
}

#[tauri::command]
pub async fn device_state(core: Core_<'_>) -> ApiResult<DeviceState> {
    run(&core, |c| c.device_state()).await
}

#[tauri::command]
pub async fn device_enrol(
    core: Core_<'_>,
    server_url: String,
    code: String,
) -> ApiResult<DeviceState> {
    run(&core, move |c| c.device_enrol(&server_url, &code)).await
}

#[tauri::command]
pub async fn users_list(core: Core_<'_>) -> ApiResult<Vec<LocalUser>> {
    run(&core, |c| c.users_list()).await
}

#[tauri::command]
pub async fn users_create(core: Core_<'_>, user: NewUser) -> ApiResult<LocalUser> {
    run(&core, move |c| c.users_create(&user)).await
}

#[tauri::command]
pub async fn session_unlock(
    core: Core_<'_>,
    user_id: String,
    password: String,
) -> ApiResult<Session> {
    run(&core, move |c| c.session_unlock(&user_id, &password)).await
}

#[tauri::command]
pub async fn session_lock(core: Core_<'_>) -> ApiResult<()> {
    run(&core, |c| c.session_lock()).await
}

#[tauri::command]
pub async fn subjects_search(core: Core_<'_>, query: String) -> ApiResult<Vec<SubjectSummary>> {
    run(&core, move |c| c.subjects_search(&query)).await
}

#[tauri::command]
pub async fn subjects_register(
    core: Core_<'_>,
    subject: NewSubject,
    confirm_duplicate: bool,
) -> ApiResult<RegisterResult> {
    run(&core, move |c| {
        c.subjects_register(&subject, confirm_duplicate)
    })
    .await
}

#[tauri::command]
pub async fn subjects_get(core: Core_<'_>, subject_id: String) -> ApiResult<SubjectSummary> {
    run(&core, move |c| c.subjects_get(&subject_id)).await
}

#[tauri::command]
pub async fn forms_list(core: Core_<'_>, lang: String) -> ApiResult<Vec<FormSummary>> {
    run(&core, move |c| c.forms_list(&lang)).await
}

#[tauri::command]
pub async fn forms_view(
    core: Core_<'_>,
    form_id: String,
    version: String,
    lang: String,
) -> ApiResult<J> {
    run(&core, move |c| c.forms_view(&form_id, &version, &lang)).await
}

#[tauri::command]
pub async fn records_list(core: Core_<'_>, filter: RecordFilter) -> ApiResult<Vec<RecordSummary>> {
    run(&core, move |c| c.records_list(&filter)).await
}

#[tauri::command]
pub async fn records_new(
    core: Core_<'_>,
    form_id: String,
    subject_id: String,
) -> ApiResult<RecordSummary> {
    run(&core, move |c| c.records_new(&form_id, &subject_id)).await
}

#[tauri::command]
pub async fn records_get(core: Core_<'_>, record_id: String) -> ApiResult<RecordDetail> {
    run(&core, move |c| c.records_get(&record_id)).await
}

#[tauri::command]
pub async fn records_evaluate(core: Core_<'_>, record_id: String, lang: String) -> ApiResult<J> {
    run(&core, move |c| c.records_evaluate(&record_id, &lang)).await
}

#[tauri::command]
pub async fn records_set_answer(
    core: Core_<'_>,
    record_id: String,
    path: String,
    value: J,
    lang: String,
    reason: Option<String>,
) -> ApiResult<J> {
    run(&core, move |c| {
        c.records_set_answer(&record_id, &path, &value, &lang, reason.as_deref())
    })
    .await
}

#[tauri::command]
pub async fn records_add_repeat(
    core: Core_<'_>,
    record_id: String,
    group: String,
    lang: String,
    reason: Option<String>,
) -> ApiResult<J> {
    run(&core, move |c| {
        c.records_add_repeat(&record_id, &group, &lang, reason.as_deref())
    })
    .await
}

#[tauri::command]
pub async fn records_remove_repeat(
    core: Core_<'_>,
    record_id: String,
    group: String,
    index: usize,
    lang: String,
    reason: Option<String>,
) -> ApiResult<J> {
    run(&core, move |c| {
        c.records_remove_repeat(&record_id, &group, index, &lang, reason.as_deref())
    })
    .await
}

#[tauri::command]
pub async fn records_confirm_warning(
    core: Core_<'_>,
    record_id: String,
    rule: String,
    field: String,
    lang: String,
) -> ApiResult<J> {
    run(&core, move |c| {
        c.records_confirm_warning(&record_id, &rule, &field, &lang)
    })
    .await
}

#[tauri::command]
pub async fn records_set_status(
    core: Core_<'_>,
    record_id: String,
    status: String,
    comment: Option<String>,
) -> ApiResult<RecordSummary> {
    run(&core, move |c| {
        c.records_set_status(&record_id, &status, comment.as_deref())
    })
    .await
}

#[tauri::command]
pub async fn records_field_history(
    core: Core_<'_>,
    record_id: String,
    path: String,
) -> ApiResult<Vec<HistoryEntry>> {
    run(&core, move |c| c.records_field_history(&record_id, &path)).await
}

#[tauri::command]
pub async fn records_resolve_conflict(
    core: Core_<'_>,
    record_id: String,
    path: String,
    value: J,
    lang: String,
) -> ApiResult<J> {
    run(&core, move |c| {
        c.records_resolve_conflict(&record_id, &path, &value, &lang)
    })
    .await
}

#[tauri::command]
pub async fn alerts_list(core: Core_<'_>) -> ApiResult<Option<Vec<tern_store::AlertRow>>> {
    run(&core, |c| c.alerts_list()).await
}

#[tauri::command]
pub async fn sync_state(core: Core_<'_>) -> ApiResult<SyncState> {
    run(&core, |c| c.sync_state()).await
}

#[tauri::command]
pub async fn sync_now(core: Core_<'_>) -> ApiResult<SyncState> {
    run(&core, |c| c.sync_now()).await
}

#[tauri::command]
pub async fn settings_get(core: Core_<'_>) -> ApiResult<Settings> {
    run(&core, |c| c.settings_get()).await
}

#[tauri::command]
pub async fn settings_save(core: Core_<'_>, settings: Settings) -> ApiResult<Settings> {
    run(&core, move |c| c.settings_save(&settings)).await
}

#[tauri::command]
pub async fn hub_state(core: Core_<'_>) -> ApiResult<TeamHubState> {
    run(&core, |c| c.hub_state()).await
}

#[tauri::command]
pub async fn hub_start(core: Core_<'_>, code: Option<String>) -> ApiResult<TeamHubState> {
    run(&core, move |c| c.hub_start(code.as_deref())).await
}

#[tauri::command]
pub async fn hub_stop(core: Core_<'_>) -> ApiResult<TeamHubState> {
    run(&core, |c| c.hub_stop()).await
}

#[tauri::command]
pub async fn hub_sync_now(core: Core_<'_>) -> ApiResult<TeamHubState> {
    run(&core, |c| c.hub_sync_now()).await
}

#[tauri::command]
pub async fn hub_new_code(core: Core_<'_>) -> ApiResult<TeamHubState> {
    run(&core, |c| c.hub_new_code()).await
}

#[tauri::command]
pub async fn bundle_view(core: Core_<'_>) -> ApiResult<BundleView> {
    run(&core, |c| c.bundle_view()).await
}

#[tauri::command]
pub async fn bundle_export(
    core: Core_<'_>,
    place: String,
    to: Option<String>,
) -> ApiResult<tern_sync::bundle::BundleSummary> {
    run(&core, move |c| c.bundle_export(&place, to.as_deref())).await
}

#[tauri::command]
pub async fn bundle_import(
    core: Core_<'_>,
    file: String,
) -> ApiResult<tern_sync::bundle::BundleSummary> {
    run(&core, move |c| c.bundle_import(&file)).await
}
