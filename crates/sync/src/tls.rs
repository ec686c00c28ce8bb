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

/// A supervisor hub's enrolment code carries the SHA-256 fingerprint of the hub's
/// self-signed certificate after a `#`: `CODE#<64 hex digits>`. Returns the code and
/// the fingerprint; a code without one is returned as it is.
pub fn split_pinned_code(code: &str) -> Result<(String, Option<[u8; 32]>), SyncError> {
    match code.trim().split_once('#') {
        None => Ok((code.trim().to_string(), None)),
        Some((code, pin)) => Ok((code.trim().to_string(), Some(parse_pin(pin)?))),
    }
}

/// A certificate fingerprint as 64 hex digits (colons allowed).
pub fn parse_pin(pin: &str) -> Result<[u8; 32], SyncError> {
    let hexed: String = pin.trim().chars().filter(|c| *c != ':').collect();
    hex::decode(&hexed)
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .ok_or_else(|| {
            SyncError::Certificates(
                "a certificate fingerprint is 64 hex digits (SHA-256 of the certificate)".into(),
            )
        })
}

/// The SHA-256 fingerprint of a DER certificate, as 64 hex digits.
pub fn fingerprint(der: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(der))
}

/// Trusts exactly one certificate, by its SHA-256 fingerprint: a supervisor hub's
/// self-signed certificate on a field network, where no public PKI reaches. The
/// handshake's signatures are still verified; names and issuers are not (the pin
/// stands for them).
#[derive(Debug)]
struct Pinned {
    fingerprint: [u8; 32],
    provider: std::sync::Arc<rustls::crypto::CryptoProvider>,
}

impl rustls::client::danger::ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        use sha2::Digest;
        let seen: [u8; 32] = sha2::Sha256::digest(end_entity.as_ref()).into();
        if seen == self.fingerprint {
            Ok(rustls::client::danger::ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(format!(
                "the certificate's fingerprint {} is not the pinned {}",
                hex::encode(seen),
                hex::encode(self.fingerprint)
            )))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// A rustls client configuration that trusts only the certificate with this
/// fingerprint.
pub(crate) fn pinned_config(fingerprint: [u8; 32]) -> Result<rustls::ClientConfig, SyncError> {
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| SyncError::Certificates(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(std::sync::Arc::new(Pinned {
            fingerprint,
            provider,
        }))
        .with_no_client_auth();
    Ok(config)
}
