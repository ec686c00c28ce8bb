//! The HTTP surface (axum). Handlers are a few lines each: take the state and the
//! caller, call [`crate::service`], map the error to `{code, message}`. Documented in
//! `docs/openapi.yaml`.

use crate::db::Db;
use crate::service::{self, ApiError, LoginRequest};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use std::sync::Arc;
use std::time::Instant;
use tern_sync::protocol::{self, EnrolRequest, ErrorBody, ProveRequest, CONTENT_TYPE};
use tokio::sync::Notify;

/// Largest body accepted but the sync body (sign-in, enrolment, status moves).
pub(crate) const JSON_LIMIT: usize = 64 * 1024;

/// What every handler shares.
pub struct AppState<D> {
    pub db: Arc<D>,
    /// Wakes the verifier after a push stored something new.
    pub verify: Arc<Notify>,
    /// On a supervisor hub: the upstream server that checks passwords.
    pub upstream: Option<Arc<dyn service::Upstream>>,
    pub limits: crate::limits::Limits,
    /// Sign-in and enrolment attempts per source address (issue 13).
    pub attempts: crate::guard::Attempts,
}

impl<D> std::fmt::Debug for AppState<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("hub", &self.upstream.is_some())
            .finish_non_exhaustive()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = ErrorBody {
            code: self.code,
            message: self.message,
        };
        (status, Json(body)).into_response()
    }
}

/// The bearer token of a request, if any.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

type S<D> = State<Arc<AppState<D>>>;

/// The router with every endpoint.
pub fn router<D: crate::export::store::ExportDb>(state: Arc<AppState<D>>) -> Router {
    Router::new()
        .route("/healthz", get(healthz::<D>))
        .route(
            "/v1/enroll",
            post(enroll::<D>).layer(DefaultBodyLimit::max(JSON_LIMIT)),
        )
        .route(
            "/v1/device/accounts",
            post(prove::<D>).layer(DefaultBodyLimit::max(JSON_LIMIT)),
        )
        .route(
            "/v1/device/keys",
            post(device_keys::<D>).layer(DefaultBodyLimit::max(JSON_LIMIT)),
        )
        .route(
            "/v1/device/restricted-key",
            post(restricted_key::<D>).layer(DefaultBodyLimit::max(JSON_LIMIT)),
        )
        .route(
            "/v1/hub/prove",
            post(hub_prove::<D>).layer(DefaultBodyLimit::max(JSON_LIMIT)),
        )
        .route(
            "/v1/hub/devices",
            post(hub_devices::<D>).layer(DefaultBodyLimit::max(JSON_LIMIT)),
        )
        .route("/v1/sync", post(sync::<D>))
        .route(
            "/v1/login",
            post(login::<D>).layer(DefaultBodyLimit::max(JSON_LIMIT)),
        )
        .route("/v1/logout", post(logout::<D>))
        .route("/v1/forms/{id}/{version}", get(form_view::<D>))
        .route("/v1/records", get(records::<D>))
        .route("/v1/records/{id}", get(record::<D>))
        .route(
            "/v1/records/{id}/status",
            post(move_record::<D>).layer(DefaultBodyLimit::max(JSON_LIMIT)),
        )
        .route("/v1/reports/activity", get(activity::<D>))
        .route("/v1/reports/{name}", get(report::<D>))
        .route("/v1/export", get(export::<D>))
        // Exports (issue 18): crate::export::api.
        .route(
            "/v1/exports",
            post(crate::export::api::export::<D>).layer(DefaultBodyLimit::max(JSON_LIMIT)),
        )
        .route(
            "/v1/exports/approvals",
            get(crate::export::api::approvals::<D>)
                .post(crate::export::api::request_approval::<D>)
                .layer(DefaultBodyLimit::max(JSON_LIMIT)),
        )
        .route(
            "/v1/exports/approvals/{id}/approve",
            post(crate::export::api::approve::<D>),
        )
        .route(
            "/v1/exports/recipients",
            get(crate::export::api::recipients::<D>),
        )
        .route("/v1/audit", get(audit::<D>))
        .route("/v1/admin/devices", get(devices::<D>))
        .route("/v1/admin/devices/{id}/revoke", post(revoke::<D>))
        // Quarantine review (crate::quarantine): supervisors of the document's site.
        .route("/v1/quarantine", get(quarantine_list::<D>))
        .route(
            "/v1/quarantine/{doc}/{decision}",
            post(quarantine_decide::<D>).layer(DefaultBodyLimit::max(JSON_LIMIT)),
        )
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::guard::keep_session::<D>,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::guard::pre_auth::<D>,
        ))
        .layer(axum::middleware::from_fn(access_log))
        .with_state(state)
}

/// One structured line per request: method, route template (never ids or bodies),
/// status and time. Health data never reaches a log line.
async fn access_log(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let start = Instant::now();
    let resp = next.run(req).await;
    tracing::info!(
        target: "tern::http",
        %method,
        %route,
        status = resp.status().as_u16(),
        ms = start.elapsed().as_secs_f64() * 1000.0,
        "request"
    );
    resp
}

async fn healthz<D: Db>(State(s): S<D>) -> Response {
    match s.db.ping().await {
        Ok(()) => (StatusCode::OK, "ok\n").into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable\n").into_response()
        }
    }
}

async fn enroll<D: Db>(State(s): S<D>, body: Bytes) -> Result<Response, ApiError> {
    let req: EnrolRequest = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad(format!("the enrolment request is malformed: {e}")))?;
    Ok(Json(service::enrol(s.db.as_ref(), req, s.upstream.as_deref()).await?).into_response())
}

async fn prove<D: Db>(
    State(s): S<D>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let caller = service::caller(s.db.as_ref(), bearer(&headers)).await?;
    let req: ProveRequest = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad(format!("the request is malformed: {e}")))?;
    Ok(
        Json(service::prove_account(s.db.as_ref(), &caller, req, s.upstream.as_deref()).await?)
            .into_response(),
    )
}

/// Bundles (issue 16): a device enrolled before bundles existed sends its public keys.
async fn device_keys<D: Db>(
    State(s): S<D>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let caller = service::caller(s.db.as_ref(), bearer(&headers)).await?;
    let keys: tern_sync::bundle::PeerKeys = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad(format!("the request is malformed: {e}")))?;
    Ok(Json(crate::bundle::exchange_keys(s.db.as_ref(), &caller, keys).await?).into_response())
}

/// Issue 12: the device escrows its restricted key pair (crate::escrow).
async fn restricted_key<D: Db>(
    State(s): S<D>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let caller = service::caller(s.db.as_ref(), bearer(&headers)).await?;
    let req: protocol::RestrictedKeyEscrow = serde_json::from_slice(&body)
        .map_err(|_| ApiError::bad("the restricted key escrow request is malformed"))?;
    Ok(Json(crate::escrow::escrow(s.db.as_ref(), &caller, req).await?).into_response())
}

async fn hub_prove<D: Db>(
    State(s): S<D>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let caller = service::caller(s.db.as_ref(), bearer(&headers)).await?;
    let req: service::HubProveRequest = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad(format!("the request is malformed: {e}")))?;
    Ok(Json(service::hub_prove(s.db.as_ref(), &caller, req).await?).into_response())
}

async fn hub_devices<D: Db>(
    State(s): S<D>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let caller = service::caller(s.db.as_ref(), bearer(&headers)).await?;
    let req: service::HubDevices = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad(format!("the request is malformed: {e}")))?;
    Ok(Json(service::hub_devices(s.db.as_ref(), &caller, req).await?).into_response())
}

/// The caller is known before its body is read (at most 24 MiB, in bounded time).
async fn sync<D: Db>(
    State(s): S<D>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Result<Response, ApiError> {
    let caller = service::caller(s.db.as_ref(), bearer(&headers)).await?;
    let body = crate::guard::read_body(body, protocol::MAX_BODY + 64, &s.limits).await?;
    // An old client first learns that it must upgrade, before anything else.
    if let Some(v) = protocol::frame_version(&body) {
        if !(protocol::MIN_PROTOCOL_VERSION..=protocol::PROTOCOL_VERSION).contains(&v) {
            return Err(protocol::decode::<protocol::SyncRequest>(&body)
                .err()
                .map(ApiError::from)
                .unwrap_or_else(|| ApiError::bad("bad version")));
        }
    }
    let (response, stored_new) =
        service::sync(s.db.as_ref(), &caller, body.to_vec(), &s.limits.chunks).await?;
    if stored_new > 0 {
        s.verify.notify_one();
    }
    let frame = tokio::task::spawn_blocking(move || protocol::encode(&response))
        .await
        .map_err(|e| ApiError::new(protocol::ErrorCode::Internal, e.to_string()))??;
    Ok(([(header::CONTENT_TYPE, CONTENT_TYPE)], frame).into_response())
}

async fn login<D: Db>(State(s): S<D>, body: Bytes) -> Result<Response, ApiError> {
    let req: LoginRequest = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad(format!("the sign-in request is malformed: {e}")))?;
    let idle_ms = s.limits.session_idle.as_millis() as i64;
    Ok(
        Json(service::login(s.db.as_ref(), req, idle_ms, s.upstream.as_deref()).await?)
            .into_response(),
    )
}

async fn logout<D: Db>(State(s): S<D>, headers: HeaderMap) -> Result<Response, ApiError> {
    service::logout(s.db.as_ref(), bearer(&headers)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `?lang=` of a form view (English when absent).
#[derive(Debug, serde::Deserialize)]
struct LangQuery {
    lang: Option<String>,
}

async fn form_view<D: Db>(
    State(s): S<D>,
    headers: HeaderMap,
    Path((id, version)): Path<(String, String)>,
    Query(q): Query<LangQuery>,
) -> Result<Response, ApiError> {
    let lang = q.lang.unwrap_or_else(|| "en".into());
    let view = service::form_view(s.db.as_ref(), bearer(&headers), &id, &version, &lang).await?;
    Ok(Json(view).into_response())
}

async fn records<D: Db>(State(s): S<D>, headers: HeaderMap) -> Result<Response, ApiError> {
    let caller = service::caller(s.db.as_ref(), bearer(&headers)).await?;
    Ok(Json(service::list_records(s.db.as_ref(), &caller).await?).into_response())
}

async fn record<D: Db>(
    State(s): S<D>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let caller = service::caller(s.db.as_ref(), bearer(&headers)).await?;
    Ok(Json(service::view_record(s.db.as_ref(), &caller, &id).await?).into_response())
}

async fn move_record<D: Db>(
    State(s): S<D>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let caller = service::caller(s.db.as_ref(), bearer(&headers)).await?;
    let req: service::StatusRequest = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad(format!("the status request is malformed: {e}")))?;
    let moved = service::move_record(s.db.as_ref(), &s.verify, &caller, &id, req).await?;
    Ok(Json(moved).into_response())
}

/// `?days=` of a report (14 when absent).
#[derive(Debug, serde::Deserialize)]
struct DaysQuery {
    days: Option<u32>,
}

async fn activity<D: Db>(
    State(s): S<D>,
    headers: HeaderMap,
    Query(q): Query<DaysQuery>,
) -> Result<Response, ApiError> {
    let caller = service::caller(s.db.as_ref(), bearer(&headers)).await?;
    let report = service::activity_report(s.db.as_ref(), &caller, q.days.unwrap_or(14)).await?;
    Ok(Json(report).into_response())
}

/// A FORMS.md 8 report as JSON, or its table as CSV with `?format=csv`.
async fn report<D: Db>(
    State(s): S<D>,
    headers: HeaderMap,
    Path(name): Path<String>,
    Query(q): Query<crate::report_api::ReportQuery>,
) -> Result<Response, ApiError> {
    let caller = service::caller(s.db.as_ref(), bearer(&headers)).await?;
    // The bound is checked whatever the format (the CSV ignores it).
    crate::report_api::list_rows(&q)?;
    let report = crate::report_api::report(s.db.as_ref(), &caller, &name, &q).await?;
    if q.format.as_deref() == Some("csv") {
        let disposition = format!("attachment; filename=\"tern-{}.csv\"", report.name);
        return Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (header::CONTENT_DISPOSITION, disposition),
            ],
            crate::reports::to_csv(&report),
        )
            .into_response());
    }
    Ok(Json(report).into_response())
}

async fn export<D: Db>(State(s): S<D>, headers: HeaderMap) -> Result<Response, ApiError> {
    let caller = service::caller(s.db.as_ref(), bearer(&headers)).await?;
    Ok(Json(service::export(s.db.as_ref(), &caller).await?).into_response())
}

async fn audit<D: Db>(State(s): S<D>, headers: HeaderMap) -> Result<Response, ApiError> {
    let caller = service::caller(s.db.as_ref(), bearer(&headers)).await?;
    Ok(Json(service::audit_log(s.db.as_ref(), &caller).await?).into_response())
}

async fn devices<D: Db>(State(s): S<D>, headers: HeaderMap) -> Result<Response, ApiError> {
    let caller = service::caller(s.db.as_ref(), bearer(&headers)).await?;
    Ok(Json(service::admin_devices(s.db.as_ref(), &caller).await?).into_response())
}

async fn revoke<D: Db>(
    State(s): S<D>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let caller = service::caller(s.db.as_ref(), bearer(&headers)).await?;
    service::admin_revoke(s.db.as_ref(), &caller, &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

// ---------------------------------------------------------------- quarantine review

async fn quarantine_list<D: Db>(State(s): S<D>, headers: HeaderMap) -> Result<Response, ApiError> {
    let caller = service::caller(s.db.as_ref(), bearer(&headers)).await?;
    let listed =
        crate::quarantine::list(s.db.as_ref(), crate::quarantine::Reviewer::Caller(&caller))
            .await?;
    Ok(Json(listed).into_response())
}

/// `POST /v1/quarantine/{doc}/release` or `.../reject` with `{"reason": "..."}`.
async fn quarantine_decide<D: Db>(
    State(s): S<D>,
    headers: HeaderMap,
    Path((doc, decision)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let caller = service::caller(s.db.as_ref(), bearer(&headers)).await?;
    let choice = match decision.as_str() {
        "release" => crate::quarantine::Choice::Release,
        "reject" => crate::quarantine::Choice::Reject,
        _ => {
            return Err(ApiError::new(
                protocol::ErrorCode::NotFound,
                "a quarantine decision is `release` or `reject`",
            ))
        }
    };
    let req: crate::quarantine::DecisionRequest = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad(format!("the decision is malformed: {e}")))?;
    let decided = crate::quarantine::decide(
        s.db.as_ref(),
        crate::quarantine::Reviewer::Caller(&caller),
        &doc,
        choice,
        &req.reason,
    )
    .await?;
    if choice == crate::quarantine::Choice::Release {
        s.verify.notify_one();
    }
    Ok(Json(decided).into_response())
}
