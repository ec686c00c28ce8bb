//! The supervisor dashboard's files, served with the API from the same origin (so
//! the page needs no CORS and the strict content policy holds): `dashboard.html` and
//! the `assets/` the UI build (`npm --prefix ui run build`, folder `ui/dist`) made
//! for it. Only those: the field app (`index.html`) belongs to the Tauri shell.
//!
//! The files are embedded in the binary at compile time (`build.rs`, from `ui/dist`
//! when it was built) or, with `--dashboard DIR`, read once at start: a request
//! never touches the file system (no path to traverse) and a missing build is an
//! error at start, not a 404 later.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use std::collections::HashMap;
use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;

/// What the dashboard's pages may load: only this origin, no inline code.
const CONTENT_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
font-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; \
base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Why the dashboard could not be served.
#[derive(Debug, thiserror::Error)]
#[error("cannot serve the dashboard from {dir}: {reason}; build the UI with `npm --prefix ui run build` and give its dist folder")]
pub struct DashboardError {
    dir: PathBuf,
    reason: String,
}

/// The dashboard's files, read at start.
#[derive(Debug)]
struct Files {
    page: Bytes,
    assets: HashMap<String, Bytes>,
}

/// Reads `dir` (a UI build: `dashboard.html`, `assets/`).
fn read(dir: &FsPath) -> Result<Files, DashboardError> {
    let fail = |reason: String| DashboardError {
        dir: dir.to_path_buf(),
        reason,
    };
    let page = std::fs::read(dir.join("dashboard.html"))
        .map_err(|e| fail(format!("dashboard.html: {e}")))?;
    let mut assets = HashMap::new();
    let listing =
        std::fs::read_dir(dir.join("assets")).map_err(|e| fail(format!("assets/: {e}")))?;
    for entry in listing {
        let entry = entry.map_err(|e| fail(format!("assets/: {e}")))?;
        let name = entry.file_name().to_string_lossy().to_string();
        if !entry.path().is_file() || !plain_name(&name) {
            continue;
        }
        let bytes = std::fs::read(entry.path()).map_err(|e| fail(format!("assets/{name}: {e}")))?;
        assets.insert(name, Bytes::from(bytes));
    }
    Ok(Files {
        page: Bytes::from(page),
        assets,
    })
}

/// A file name as the UI build writes them: letters, digits, `.`, `_`, `-`, not
/// starting with a dot.
fn plain_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next().unwrap_or_default() {
        "html" => "text/html; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "json" => "application/json",
        _ => "application/octet-stream",
    }
}

/// A file with the headers every dashboard response carries.
fn file(name: &str, bytes: Bytes, cache: &'static str) -> Response {
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(name)),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_POLICY),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    res
}

async fn page(State(files): State<Arc<Files>>) -> Response {
    file("dashboard.html", files.page.clone(), "no-cache")
}

async fn asset(State(files): State<Arc<Files>>, Path(name): Path<String>) -> Response {
    match files.assets.get(&name) {
        // Built names carry a content hash: they never change.
        Some(bytes) => file(&name, bytes.clone(), "public, max-age=31536000, immutable"),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/dashboard_files.rs"));
}

/// Whether this binary was built with the dashboard in it.
pub fn embedded() -> bool {
    !embedded::EMBEDDED.is_empty()
}

/// The embedded files, `None` when the binary was built without the UI.
fn embedded_files() -> Option<Files> {
    let mut page = None;
    let mut assets = HashMap::new();
    for (name, bytes) in embedded::EMBEDDED {
        match name.strip_prefix("assets/") {
            Some(asset) if plain_name(asset) => {
                assets.insert(asset.to_string(), Bytes::from_static(bytes));
            }
            Some(_) => {}
            None if *name == "dashboard.html" => page = Some(Bytes::from_static(bytes)),
            None => {}
        }
    }
    Some(Files {
        page: page?,
        assets,
    })
}

/// The dashboard's routes from the files embedded at compile time (`None`: this
/// binary was built before the UI was; `--dashboard DIR` serves one).
pub fn embedded_router() -> Option<Router> {
    embedded_files().map(|f| routes(Arc::new(f)))
}

/// The dashboard's routes: `/` (to the page), `/dashboard.html`, `/assets/{name}`.
pub fn router(dir: &FsPath) -> Result<Router, DashboardError> {
    Ok(routes(Arc::new(read(dir)?)))
}

fn routes(files: Arc<Files>) -> Router {
    Router::new()
        .route("/", get(|| async { Redirect::to("/dashboard.html") }))
        .route("/dashboard.html", get(page))
        .route("/assets/{name}", get(asset))
        .with_state(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_built_names_are_served() {
        for ok in [
            "dashboard-C9oyfCd3.js",
            "noto-naskh-arabic-400.woff2",
            "a_b.css",
        ] {
            assert!(plain_name(ok), "{ok}");
        }
        for bad in [
            "", ".env", "../x.js", "a/b.js", "a\\b", "x%2e.js", "café.js",
        ] {
            assert!(!plain_name(bad), "{bad}");
        }
    }

    #[test]
    fn a_missing_build_is_an_error_that_says_what_to_do() {
        let dir = tempfile::tempdir().expect("tmp");
        let e = read(dir.path()).expect_err("no build");
        assert!(e.to_string().contains("npm --prefix ui run build"), "{e}");
    }
}
