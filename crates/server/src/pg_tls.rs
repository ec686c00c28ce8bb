//! TLS to PostgreSQL (issue 13): when the database URL asks for it, the connection
//! is encrypted with rustls (tokio-postgres-rustls) and the server's certificate is
//! checked; Tern never talks to an unverified database server over TLS.
//!
//! - `sslmode=verify-full`: the certificate chains to a trusted root and names the
//!   host of the URL (a DNS name, or an IP address in its subject alternative names).
//! - `sslmode=verify-ca` and `sslmode=require`: the certificate chains to a trusted
//!   root; its names are not checked. (libpq's `require` checks nothing without a
//!   root file; Tern is stricter on purpose: a database of health data behind an
//!   unverified certificate is one network attacker away from being read.)
//! - `sslmode` absent, `disable` or `prefer`: no TLS, as before (a database on the
//!   same host or a private network). `prefer` does not try TLS.
//!
//! The trusted roots: `sslrootcert=FILE` in the URL (PEM, one or more certificates;
//! `sslrootcert=system` for the public web PKI), else the PEM file named by
//! `TERN_CA_CERT`, else the public web PKI (`webpki-roots`). tokio-postgres itself
//! knows only `disable|prefer|require` and no `sslrootcert`: both are read here and
//! taken out of the URL before it is parsed.

use crate::db::{DbError, DbResult, OpenRefusal};
use deadpool_postgres::{Manager, ManagerConfig};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore};
use std::sync::Arc;

/// The environment variable naming a PEM file of trusted roots (as for devices).
pub const CA_CERT_ENV: &str = "TERN_CA_CERT";

/// What the URL asks of TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// No TLS (`sslmode` absent, `disable` or `prefer`).
    Plain,
    /// TLS, the chain checked (`require`, `verify-ca`).
    VerifyCa,
    /// TLS, the chain and the host name checked (`verify-full`).
    VerifyFull,
}

/// A database URL split into what tokio-postgres reads and what Tern reads itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    /// The URL for tokio-postgres (`sslmode=require` for any TLS mode).
    pub url: String,
    pub mode: Mode,
    pub root_cert: Option<String>,
}

fn refused(m: impl Into<String>) -> DbError {
    DbError::Open(OpenRefusal::PostgresTls(m.into()))
}

/// Reads `sslmode` and `sslrootcert` out of a URL (`postgres://...?k=v&...`) or a
/// key-value string (`host=... sslmode=...`). Pure.
pub fn split(url: &str) -> DbResult<Split> {
    let is_url = url.starts_with("postgres://") || url.starts_with("postgresql://");
    let (head, params, sep): (&str, Vec<&str>, &str) = if is_url {
        match url.split_once('?') {
            Some((head, query)) => (head, query.split('&').collect(), "&"),
            None => (url, Vec::new(), "&"),
        }
    } else {
        ("", url.split_whitespace().collect(), " ")
    };
    let mut mode = Mode::Plain;
    let mut root_cert = None;
    let mut kept = Vec::new();
    for p in params {
        let (k, v) = p.split_once('=').unwrap_or((p, ""));
        let v = if is_url {
            percent_decode(v)?
        } else {
            v.to_string()
        };
        match k {
            "sslmode" => {
                mode = match v.as_str() {
                    "disable" | "prefer" => Mode::Plain,
                    "require" | "verify-ca" => Mode::VerifyCa,
                    "verify-full" => Mode::VerifyFull,
                    other => {
                        return Err(refused(format!(
                            "sslmode `{other}` is not one of disable, prefer, require, verify-ca, verify-full"
                        )))
                    }
                };
                kept.push(if mode == Mode::Plain {
                    "sslmode=disable".to_string()
                } else {
                    "sslmode=require".to_string()
                });
            }
            "sslrootcert" => root_cert = Some(v),
            _ => kept.push(p.to_string()),
        }
    }
    let url = if is_url {
        if kept.is_empty() {
            head.to_string()
        } else {
            format!("{head}?{}", kept.join(sep))
        }
    } else {
        kept.join(sep)
    };
    Ok(Split {
        url,
        mode,
        root_cert,
    })
}

fn percent_decode(v: &str) -> DbResult<String> {
    let bytes = v.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| refused("the database URL has a bad %-escape"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| refused("the database URL is not UTF-8"))
}

/// The pool manager for a database URL: plain, or rustls with the checks its
/// `sslmode` asks for.
pub fn manager(url: &str, manager_config: ManagerConfig) -> DbResult<Manager> {
    let split = split(url)?;
    let config: tokio_postgres::Config = split.url.parse()?;
    Ok(match split.mode {
        Mode::Plain => Manager::from_config(config, tokio_postgres::NoTls, manager_config),
        mode => Manager::from_config(
            config,
            tokio_postgres_rustls::MakeRustlsConnect::new(client_config(
                mode,
                split.root_cert.as_deref(),
            )?),
            manager_config,
        ),
    })
}

/// The trusted roots: `sslrootcert`, else `TERN_CA_CERT`, else the web PKI.
fn roots(root_cert: Option<&str>) -> DbResult<RootCertStore> {
    let env = std::env::var(CA_CERT_ENV).ok().filter(|s| !s.is_empty());
    let (file, from) = match root_cert {
        Some(f) => (Some(f.to_string()), "sslrootcert"),
        None => (env, CA_CERT_ENV),
    };
    let mut store = RootCertStore::empty();
    match file.as_deref() {
        None | Some("system") => store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        Some(path) => {
            let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
                .and_then(|it| it.collect::<Result<_, _>>())
                .map_err(|e| {
                    refused(format!(
                        "cannot read the PostgreSQL root certificates {path} ({from}): {e}"
                    ))
                })?;
            let (added, _) = store.add_parsable_certificates(certs);
            if added == 0 {
                return Err(refused(format!(
                    "{path} ({from}) holds no usable CERTIFICATE block"
                )));
            }
        }
    }
    Ok(store)
}

fn client_config(mode: Mode, root_cert: Option<&str>) -> DbResult<ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let roots = Arc::new(roots(root_cert)?);
    let tls = |e: rustls::Error| refused(format!("TLS to PostgreSQL: {e}"));
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(tls)?;
    Ok(match mode {
        Mode::VerifyFull => builder.with_root_certificates(roots).with_no_client_auth(),
        _ => {
            let webpki = WebPkiServerVerifier::builder_with_provider(roots, provider)
                .build()
                .map_err(|e| refused(format!("TLS to PostgreSQL: {e}")))?;
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(ChainOnly(webpki)))
                .with_no_client_auth()
        }
    })
}

/// `verify-ca`: rustls's own verifier, whose only error forgiven is the name's
/// (checked after the chain, so an untrusted chain is still refused).
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tern_reads_sslmode_and_sslrootcert_out_of_the_url() {
        let s = split("postgres://u@db:5432/tern?sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem&application_name=t")
            .expect("split");
        assert_eq!(s.mode, Mode::VerifyFull);
        assert_eq!(s.root_cert.as_deref(), Some("/etc/ca.pem"));
        assert_eq!(
            s.url,
            "postgres://u@db:5432/tern?sslmode=require&application_name=t"
        );
        let s = split("host=db user=u sslmode=verify-ca sslrootcert=/ca.pem").expect("split");
        assert_eq!(s.mode, Mode::VerifyCa);
        assert_eq!(s.url, "host=db user=u sslmode=require");
        assert_eq!(split("postgres://u@db/t").expect("plain").mode, Mode::Plain);
        let s = split("postgres://u@db/t?sslmode=prefer").expect("prefer");
        assert_eq!(
            (s.mode, s.url.as_str()),
            (Mode::Plain, "postgres://u@db/t?sslmode=disable")
        );
        assert!(split("postgres://u@db/t?sslmode=allow").is_err());
        assert!(split("postgres://u@db/t?sslrootcert=%zz").is_err());
    }

    #[test]
    fn a_root_file_without_certificates_is_refused() {
        let dir = tempfile::tempdir().expect("tmp");
        let f = dir.path().join("ca.pem");
        std::fs::write(&f, "not a certificate").expect("write");
        let e = roots(Some(&f.to_string_lossy())).expect_err("refused");
        assert!(e.to_string().contains("sslrootcert"), "{e}");
        assert!(roots(Some("/nonexistent/ca.pem")).is_err());
    }
}
