//! Pre-authentication exhaustion: the sync body is not read before its caller is
//! known; slow headers and bodies are cut off; connections are limited per source
//! address and in all; sign-in attempts are limited per source address whatever
//! the names tried; the per-account failure count cannot be outrun by concurrent
//! guesses. Other source addresses are 127.0.0.2 and up.

use crate::common::*;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};
use tern_server::limits::Limits;
use tern_server::ServeConfig;

/// A connection to `to` from the loopback address `from`.
fn connect_from(from: &str, to: SocketAddr) -> TcpStream {
    let rt = runtime();
    let stream = rt.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket
            .bind(format!("{from}:0").parse().expect("addr"))
            .expect("bind");
        socket.connect(to).await.expect("connect")
    });
    let stream = stream.into_std().expect("std");
    stream.set_nonblocking(false).expect("blocking");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    stream
}

/// Whatever the server sends until it closes or 5 s pass ("" on a timeout).
fn answer(stream: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                out.extend_from_slice(&buf[..n]);
                if out.windows(4).any(|w| w == b"\r\n\r\n") && !out.starts_with(b"HTTP/1.1 1") {
                    // Headers are in; the bodies here are short and come at once.
                    std::thread::sleep(Duration::from_millis(50));
                    if let Ok(n) = stream.read(&mut buf) {
                        out.extend_from_slice(&buf[..n]);
                    }
                    break;
                }
            }
            Err(_) => break,
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// One request from `from`, its whole answer.
fn request(from: &str, to: SocketAddr, text: &str) -> String {
    let mut s = connect_from(from, to);
    s.write_all(text.as_bytes()).expect("write");
    answer(&mut s)
}

fn login_request(user: &str, password: &str) -> String {
    let body = serde_json::json!({"user": user, "password": password}).to_string();
    format!(
        "POST /v1/login HTTP/1.1\r\nhost: t\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
}

fn status(answer: &str) -> u16 {
    answer.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0)
}

fn scenario(backend: Backend) {
    let limits = Limits {
        header_timeout: Duration::from_secs(1),
        body_timeout: Duration::from_secs(1),
        connections_per_address: 4,
        logins_per_address_per_minute: 5,
        ..Limits::default()
    };
    let server = TestServer::start_with_limits(&backend.storage, limits);
    let _admin = accounts(&backend.storage);
    let addr = server.addr;
    let name = backend.name;

    // A sync request announcing 20 MB with an unknown token is refused at once,
    // without waiting for (or buffering) its body.
    let mut s = connect_from("127.0.0.2", addr);
    s.write_all(
        b"POST /v1/sync HTTP/1.1\r\nhost: t\r\nauthorization: Bearer not-a-token\r\n\
          content-length: 20000000\r\n\r\n",
    )
    .expect("write");
    let started = Instant::now();
    let a = answer(&mut s);
    assert_eq!(
        status(&a),
        401,
        "{name}: body read before the caller: {a:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(2));

    // Headers that never end: cut off after the header timeout.
    let mut s = connect_from("127.0.0.2", addr);
    s.write_all(b"GET /healthz HTTP/1.1\r\nhost: t\r\n")
        .expect("write");
    let started = Instant::now();
    let a = answer(&mut s);
    assert!(
        started.elapsed() < Duration::from_secs(4) && !a.starts_with("HTTP/1.1 200"),
        "{name}: a slow client kept its connection: {a:?} after {:?}",
        started.elapsed()
    );
    // A body that never ends: a clear answer after the body timeout.
    let mut s = connect_from("127.0.0.2", addr);
    s.write_all(b"POST /v1/login HTTP/1.1\r\nhost: t\r\ncontent-length: 100\r\n\r\n{\"user\":")
        .expect("write");
    let started = Instant::now();
    let a = answer(&mut s);
    assert_eq!(status(&a), 400, "{name}: slow body: {a:?}");
    assert!(a.contains("did not arrive within 1 s"), "{a}");
    assert!(started.elapsed() < Duration::from_secs(4));

    // Four open connections from 127.0.0.3 are its share; a fifth is refused,
    // another address is served.
    let held: Vec<TcpStream> = (0..4).map(|_| connect_from("127.0.0.3", addr)).collect();
    std::thread::sleep(Duration::from_millis(200));
    let a = request(
        "127.0.0.3",
        addr,
        "GET /healthz HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n",
    );
    assert_eq!(status(&a), 503, "{name}: a fifth connection: {a:?}");
    let a = request(
        "127.0.0.4",
        addr,
        "GET /healthz HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n",
    );
    assert_eq!(status(&a), 200, "{name}: another address: {a:?}");
    drop(held);

    // Sign-in with random names from one address: five tries, then 429, without
    // an Argon2id hash; another address still signs in.
    for i in 0..5 {
        let a = request(
            "127.0.0.5",
            addr,
            &login_request(&format!("nobody{i}"), "x"),
        );
        assert_eq!(status(&a), 401, "{name}: try {i}: {a:?}");
    }
    let a = request("127.0.0.5", addr, &login_request("nobody9", "x"));
    assert_eq!(
        status(&a),
        429,
        "{name}: random names bypass the limit: {a:?}"
    );
    let a = request("127.0.0.6", addr, &login_request("amina", ACCOUNT_PASSWORD));
    assert_eq!(status(&a), 200, "{name}: {a:?}");

    // Twelve concurrent wrong guesses at one account, each from its own address:
    // at most five get to try the password.
    let tried: Vec<u16> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..12)
            .map(|i| {
                scope.spawn(move || {
                    let from = format!("127.0.1.{}", i + 1);
                    status(&request(
                        &from,
                        addr,
                        &login_request("bilal", "wrong-guess"),
                    ))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    let wrong = tried.iter().filter(|s| **s == 401).count();
    let limited = tried.iter().filter(|s| **s == 429).count();
    assert!(
        wrong <= 5 && wrong + limited == 12,
        "{name}: {wrong} guesses tried the password: {tried:?}"
    );
    server.stop();
}

#[test]
fn pre_authentication_limits_on_sqlite() {
    scenario(sqlite());
}

#[test]
fn pre_authentication_limits_on_postgres() {
    scenario(postgres());
}

/// HTTPS has the same connection limit per source address (counted before the
/// TLS handshake), and a TLS client still gets its answer.
#[test]
fn https_connections_are_limited_per_address() {
    let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into()]).expect("cert");
    let cert_pem = cert.cert.pem();
    let tmp = tempfile::tempdir().expect("tmp");
    let (cert_file, key_file) = (tmp.path().join("cert.pem"), tmp.path().join("key.pem"));
    std::fs::write(&cert_file, &cert_pem).expect("write");
    std::fs::write(&key_file, cert.signing_key.serialize_pem()).expect("write");
    let backend = sqlite();
    let server = TestServer::start_config(ServeConfig {
        tls: Some((cert_file, key_file)),
        limits: Limits {
            connections_per_address: 2,
            ..Limits::default()
        },
        ..config(&backend.storage)
    });
    let held: Vec<TcpStream> = (0..2)
        .map(|_| connect_from("127.0.0.7", server.addr))
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    // A third from the same address is closed at once, without a handshake.
    let mut third = connect_from("127.0.0.7", server.addr);
    let started = Instant::now();
    let mut buf = [0u8; 16];
    let closed = matches!(third.read(&mut buf), Ok(0) | Err(_));
    assert!(
        closed && started.elapsed() < Duration::from_secs(3),
        "a third connection was kept ({:?})",
        started.elapsed()
    );
    // Another address is served over TLS.
    let client = reqwest::blocking::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert_pem.as_bytes()).expect("pem"))
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    let resp = client
        .get(format!("https://{}/healthz", server.addr))
        .send()
        .expect("healthz over TLS");
    assert_eq!(resp.status().as_u16(), 200);
    drop(held);
    server.stop();
}

/// A shutdown waits for requests in flight at most the drain deadline: a client
/// that never finishes its body does not hold the server up.
fn drain_scenario(backend: Backend) {
    let server = TestServer::start_with_limits(
        &backend.storage,
        Limits {
            body_timeout: Duration::from_secs(120),
            drain: Duration::from_secs(1),
            ..Limits::default()
        },
    );
    let mut s = connect_from("127.0.0.9", server.addr);
    s.write_all(b"POST /v1/login HTTP/1.1\r\nhost: t\r\ncontent-length: 100\r\n\r\n{")
        .expect("write");
    std::thread::sleep(Duration::from_millis(200));
    let (done, stopped) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        server.stop();
        let _ = done.send(());
    });
    assert!(
        stopped.recv_timeout(Duration::from_secs(10)).is_ok(),
        "{}: the shutdown waited for a slow client past the drain deadline",
        backend.name
    );
}

#[test]
fn shutdown_drains_within_its_deadline_on_sqlite() {
    drain_scenario(sqlite());
}

#[test]
fn shutdown_drains_within_its_deadline_on_postgres() {
    drain_scenario(postgres());
}
