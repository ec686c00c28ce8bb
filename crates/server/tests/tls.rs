//! HTTPS: the server with a self-signed certificate (made here with rcgen, for
//! 127.0.0.1 and localhost) answers /healthz, an enrolment and a sync over TLS; a
//! plain-http request to the TLS port fails cleanly and the server keeps serving; a
//! client that does not trust the certificate gets `SyncError::Untrusted`, saying
//! how to trust it. Loopback only, a few seconds.

use crate::common::*;
use std::io::{Read, Write};
use std::time::Duration;
use tern_server::ServeConfig;

fn https_client(cert_pem: &str) -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert_pem.as_bytes()).expect("pem"))
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

#[test]
fn enrol_and_sync_over_https() {
    let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()])
        .expect("self-signed certificate");
    let cert_pem = cert.cert.pem();
    let tmp = tempfile::tempdir().expect("tmp");
    let cert_file = tmp.path().join("cert.pem");
    let key_file = tmp.path().join("key.pem");
    std::fs::write(&cert_file, &cert_pem).expect("write cert");
    std::fs::write(&key_file, cert.signing_key.serialize_pem()).expect("write key");

    let backend = sqlite();
    let server = TestServer::start_config(ServeConfig {
        tls: Some((cert_file, key_file)),
        ..config(&backend.storage)
    });
    let admin = accounts(&backend.storage);
    let https = format!("https://{}", server.addr);

    // /healthz over TLS, with the certificate trusted by this request's client.
    let resp = https_client(&cert_pem)
        .get(format!("{https}/healthz"))
        .send()
        .expect("healthz over https");
    assert_eq!(resp.status().as_u16(), 200);

    // Plain HTTP to the TLS port: an error (no hang, no 200), and the server lives on.
    let plain = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client")
        .get(format!("http://{}/healthz", server.addr))
        .send();
    match plain {
        Err(e) => assert!(!e.is_timeout(), "plain http must fail fast, not hang: {e}"),
        Ok(r) => assert_ne!(r.status().as_u16(), 200, "plain http must not be served"),
    }
    // The same at the socket level: the server closes the connection.
    {
        let mut s = std::net::TcpStream::connect(server.addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            .expect("write");
        let mut answer = Vec::new();
        let _ = s.read_to_end(&mut answer);
        assert!(
            !String::from_utf8_lossy(&answer).contains("200 OK"),
            "plain http was answered"
        );
    }
    let resp = https_client(&cert_pem)
        .get(format!("{https}/healthz"))
        .send()
        .expect("healthz after a plain-http attempt");
    assert_eq!(resp.status().as_u16(), 200);

    // tern-sync given an http:// URL for the TLS port: an error, nothing stored.
    let db = tmp.path().join("device.db");
    let mut store =
        tern_store::Store::init(&db, "bilal", tern_store::Role::Screener, PASSWORD, "site-a")
            .expect("init");
    let code = admin.enrolment_code("site-a", None).expect("code");
    let plain_url = format!("http://{}", server.addr);
    let err =
        tern_sync::enrol(&mut store, &plain_url, &code, ACCOUNT_PASSWORD).expect_err("plain http");
    assert!(err.is_offline(), "{err:?}");
    assert!(store.enrolment().expect("enrolment").is_none());

    // tern-sync before the certificate is trusted: a clear refusal, nothing stored.
    let err = tern_sync::enrol(&mut store, &https, &code, ACCOUNT_PASSWORD)
        .expect_err("untrusted certificate");
    assert!(
        matches!(err, tern_sync::SyncError::Untrusted { .. }),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(
        message.contains("does not trust") && message.contains("TERN_CA_CERT"),
        "{message}"
    );
    assert!(store.enrolment().expect("enrolment").is_none());

    // Trusted: enrolment and a full sync (a record pushed, forms pulled) over TLS.
    assert_eq!(
        tern_sync::tls::trust_certificates_pem(cert_pem.as_bytes()).expect("trust"),
        1
    );
    tern_sync::enrol(&mut store, &https, &code, ACCOUNT_PASSWORD).expect("enrol over https");
    let subject = store
        .add_subject(&[
            ("sex".into(), "female".into()),
            ("date_of_birth".into(), "1990-05-01".into()),
        ])
        .expect("subject");
    let record = store.new_record("pda", &subject).expect("record");
    store
        .set_answer(&record, "temp_c", "36.6", None)
        .expect("answer");
    let (store, report) = tern_sync::sync(store).expect("sync over https");
    assert!(report.pushed_changes > 0, "{report:?}");
    drop(store);
    let (_, again) = tern_sync::sync(open(&db)).expect("second sync over https");
    assert_eq!(again.pushed_changes, 0, "{again:?}");

    // The record reached the server.
    let token = {
        let resp = https_client(&cert_pem)
            .post(format!("{https}/v1/login"))
            .body(serde_json::json!({"user": "amina", "password": ACCOUNT_PASSWORD}).to_string())
            .send()
            .expect("login");
        assert_eq!(resp.status().as_u16(), 200);
        resp.json_or_panic()["token"]
            .as_str()
            .expect("token")
            .to_string()
    };
    let mut seen = false;
    for _ in 0..200 {
        let resp = https_client(&cert_pem)
            .get(format!("{https}/v1/records/{record}"))
            .bearer_auth(&token)
            .send()
            .expect("record view");
        if resp.status().as_u16() == 200 {
            seen = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        seen,
        "the record synced over https is visible on the server"
    );
    server.stop();
}
