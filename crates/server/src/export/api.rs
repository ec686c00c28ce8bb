//! The HTTP endpoints of exports, a few lines each (the dashboard's Exports page):
//! `POST /v1/exports` streams the file as it is written (the number of records the
//! query covers in `X-Tern-Export-Records`, for the progress bar), approvals are
//! asked for and given, recipients listed.

use super::service::{self as export_service, ApprovalRequest, ExportRequest};
use super::store::{DbSource, ExportDb};
use crate::api::{bearer, AppState};
use crate::service::{self, ApiError};
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use std::io::{self, Write};
use std::sync::Arc;
use tokio::sync::mpsc;

type S<D> = State<Arc<AppState<D>>>;

/// A JSON request body, whatever content type the client named (like every other
/// endpoint of the API): malformed JSON is a 400 that says what was wrong.
fn parse<T: serde::de::DeserializeOwned>(body: &[u8], what: &str) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::bad(format!("the {what} is malformed: {e}")))
}

/// A `Write` that hands its bytes to the response body in 64 KiB chunks; a
/// download cancelled by the browser ends the export with an error.
struct Channel {
    tx: mpsc::Sender<Result<Bytes, io::Error>>,
    buf: Vec<u8>,
}

impl Write for Channel {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(b);
        if self.buf.len() >= 64 * 1024 {
            self.flush()?;
        }
        Ok(b.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::take(&mut self.buf));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the download was cancelled"))
    }
}

/// Streams an export (data managers; access-logged once written).
pub async fn export<D: ExportDb>(
    State(s): S<D>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let req: ExportRequest = parse(&body, "export request")?;
    let caller = service::caller(s.db.as_ref(), bearer(&headers)).await?;
    let prepared = export_service::prepare(s.db.as_ref(), &caller, &req).await?;
    let total = s.db.export_count(&prepared.plan.query).await?;
    let (tx, mut rx) = mpsc::channel::<Result<Bytes, io::Error>>(4);
    let db = s.db.clone();
    let handle = tokio::runtime::Handle::current();
    let p = prepared.clone();
    tokio::task::spawn_blocking(move || {
        let mut out = Channel {
            tx: tx.clone(),
            buf: Vec::new(),
        };
        let mut source = DbSource {
            db: db.as_ref(),
            handle: handle.clone(),
        };
        let written = export_service::write_to(&mut source, &p, &mut out, &mut |_, _| {})
            .and_then(|o| out.flush().map(|_| o).map_err(Into::into));
        match written {
            Ok(outcome) => {
                if let Err(e) = handle.block_on(export_service::log_export(
                    db.as_ref(),
                    &caller,
                    &p,
                    &outcome,
                )) {
                    tracing::warn!(error = %e, "an export was written but not access-logged");
                    let _ = tx
                        .blocking_send(Err(io::Error::other("the access log refused the export")));
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "an export failed");
                let _ = tx.blocking_send(Err(io::Error::other(e.to_string())));
            }
        }
    });
    let stream = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx));
    let ext = prepared.plan.format.extension();
    let name = format!(
        "tern-{}-{}.{ext}{}",
        prepared.plan.query.form_id,
        prepared.plan.purpose,
        if prepared.recipient_key.is_some() {
            ".age"
        } else {
            ""
        }
    );
    let mut resp = Body::from_stream(stream).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    if let Ok(v) = HeaderValue::from_str(&total.to_string()) {
        h.insert("x-tern-export-records", v);
    }
    Ok(resp)
}

pub async fn approvals<D: ExportDb>(
    State(s): S<D>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let caller = service::caller(s.db.as_ref(), bearer(&headers)).await?;
    Ok(Json(export_service::approvals(s.db.as_ref(), &caller).await?).into_response())
}

pub async fn request_approval<D: ExportDb>(
    State(s): S<D>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let req: ApprovalRequest = parse(&body, "approval request")?;
    let caller = service::caller(s.db.as_ref(), bearer(&headers)).await?;
    Ok(Json(export_service::request_approval(s.db.as_ref(), &caller, &req).await?).into_response())
}

pub async fn approve<D: ExportDb>(
    State(s): S<D>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let caller = service::caller(s.db.as_ref(), bearer(&headers)).await?;
    Ok(Json(export_service::approve(s.db.as_ref(), &caller, &id).await?).into_response())
}

pub async fn recipients<D: ExportDb>(
    State(s): S<D>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let caller = service::caller(s.db.as_ref(), bearer(&headers)).await?;
    Ok(Json(export_service::recipient_names(s.db.as_ref(), &caller).await?).into_response())
}
