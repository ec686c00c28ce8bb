//! Which servers the client trusts. By default, the public web PKI (the
//! `webpki-roots` bundled with reqwest's rustls). A deployment whose server has its
//! own certificate (self-signed, or from a private authority) adds it as an extra
//! root, either
//! - for a process: [`trust_certificates_pem`] (the app, tests), or
//! - for a command: the environment variable `TERN_CA_CERT` naming a PEM file of one
//!   or more certificates (`tern device enroll`, `tern device sync`).
//!
//! Extra roots are added to the public ones, never replace them. A server whose
//! certificate is not trusted gives [`crate::SyncError::Untrusted`], not `Offline`:
//! retrying later will not help.

use crate::client::SyncError;
use reqwest::Certificate;
use std::sync::{Mutex, PoisonError};

/// The environment variable naming a PEM file of extra trusted root certificates.
pub const CA_CERT_ENV: &str = "TERN_CA_CERT";

static EXTRA_ROOTS: Mutex<Vec<Certificate>> = Mutex::new(Vec::new());

/// Trusts the certificates of a PEM bundle (one or more `CERTIFICATE` blocks) as
/// extra roots for every later enrolment and sync of this process. Returns how many
/// were added.
pub fn trust_certificates_pem(pem: &[u8]) -> Result<usize, SyncError> {
    let certs = parse(pem)?;
    let n = certs.len();
    EXTRA_ROOTS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .extend(certs);
    Ok(n)
}

fn parse(pem: &[u8]) -> Result<Vec<Certificate>, SyncError> {
    let certs = Certificate::from_pem_bundle(pem)
        .map_err(|e| SyncError::Certificates(format!("not a PEM certificate bundle: {e}")))?;
    if certs.is_empty() {
        return Err(SyncError::Certificates(
            "no CERTIFICATE block in the PEM text".into(),
        ));
    }
    Ok(certs)
}

/// The extra roots: the process's, then those of `TERN_CA_CERT` (read each time, so
/// a long-running process sees a renewed file).
pub(crate) fn extra_roots() -> Result<Vec<Certificate>, SyncError> {
    let mut roots = EXTRA_ROOTS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    if let Some(path) = std::env::var_os(CA_CERT_ENV).filter(|p| !p.is_empty()) {
        let shown = std::path::Path::new(&path).display().to_string();
        let pem = std::fs::read(&path).map_err(|e| {
            SyncError::Certificates(format!("cannot read {shown} ({CA_CERT_ENV}): {e}"))
        })?;
        let certs = parse(&pem).map_err(|e| match e {
            SyncError::Certificates(m) => {
                SyncError::Certificates(format!("{shown} ({CA_CERT_ENV}): {m}"))
            }
            other => other,
        })?;
        roots.extend(certs);
    }
    Ok(roots)
}

/// When a request failed because the server's certificate was refused (unknown
/// issuer, wrong name, expired...), the reason rustls gave.
pub(crate) fn certificate_failure(e: &reqwest::Error) -> Option<String> {
    let mut source: Option<&dyn std::error::Error> = Some(e);
    while let Some(s) = source {
        let text = s.to_string();
        // rustls: "invalid peer certificate: UnknownIssuer", "peer sent no certificates".
        if text.contains("certificate") && !text.contains("error sending request") {
            return Some(text);
        }
        source = s.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_text_without_certificates() {
        assert!(matches!(
            trust_certificates_pem(b"not a certificate"),
            Err(SyncError::Certificates(_))
        ));
    }
}
