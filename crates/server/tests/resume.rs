//! A sync cut off mid-transfer (connection dropped, server killed) resumes without
//! re-sending what was acknowledged, and converges.

use crate::common::*;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tern_sync::{SyncError, SyncOptions};

/// What to do once, when the proxy cuts the connections.
type Hook = Arc<Mutex<Option<Box<dyn FnOnce() + Send>>>>;

/// A TCP proxy on loopback that can drop every connection once `cut_after` bytes
/// (both directions together) have passed, and then calls `on_cut`.
struct Proxy {
    addr: SocketAddr,
    passed: Arc<AtomicUsize>,
    cut_after: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    on_cut: Hook,
}

impl Proxy {
    fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("addr");
        let passed = Arc::new(AtomicUsize::new(0));
        let cut_after = Arc::new(AtomicUsize::new(usize::MAX));
        let stop = Arc::new(AtomicBool::new(false));
        let on_cut: Hook = Arc::new(Mutex::new(None));
        let (p, c, s, o) = (
            passed.clone(),
            cut_after.clone(),
            stop.clone(),
            on_cut.clone(),
        );
        std::thread::spawn(move || {
            // Bounded: ends when the proxy is dropped (or after ten minutes).
            for _ in 0..60_000 {
                if s.load(Ordering::Relaxed) {
                    return;
                }
                match listener.accept() {
                    Ok((client, _)) => {
                        let _ = client.set_nonblocking(false);
                        let Ok(server) = TcpStream::connect(upstream) else {
                            continue;
                        };
                        for (mut from, mut to) in [
                            (
                                client.try_clone().expect("clone"),
                                server.try_clone().expect("clone"),
                            ),
                            (server, client),
                        ] {
                            let (p, c, o) = (p.clone(), c.clone(), o.clone());
                            std::thread::spawn(move || {
                                let mut buf = [0u8; 1024];
                                loop {
                                    let n = match from.read(&mut buf) {
                                        Ok(0) | Err(_) => break,
                                        Ok(n) => n,
                                    };
                                    let total = p.fetch_add(n, Ordering::SeqCst) + n;
                                    if total > c.load(Ordering::SeqCst) {
                                        let _ = to.write_all(&buf[..n / 2]);
                                        let _ = to.shutdown(Shutdown::Both);
                                        let _ = from.shutdown(Shutdown::Both);
                                        if let Some(f) = o.lock().ok().and_then(|mut g| g.take()) {
                                            f();
                                        }
                                        break;
                                    }
                                    if to.write_all(&buf[..n]).is_err() {
                                        break;
                                    }
                                }
                                let _ = to.shutdown(Shutdown::Both);
                            });
                        }
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        Proxy {
            addr,
            passed,
            cut_after,
            stop,
            on_cut,
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn cut_after(&self, bytes: usize) {
        self.passed.store(0, Ordering::SeqCst);
        self.cut_after.store(bytes, Ordering::SeqCst);
    }

    fn pass(&self) {
        self.cut_after.store(usize::MAX, Ordering::SeqCst);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

const SMALL: SyncOptions = SyncOptions {
    push_page_bytes: 2048,
    pull_page_bytes: 1024,
};

fn try_sync(db: &std::path::Path) -> Result<tern_sync::SyncReport, SyncError> {
    tern_sync::sync_with(open(db), &SMALL).map(|(_, r)| r)
}

fn scenario(backend: Backend) {
    let server = TestServer::start(&backend.storage);
    let server_addr = server.addr;
    let admin = accounts(&backend.storage);
    let proxy = Proxy::start(server_addr);
    let tmp = tempfile::tempdir().expect("tmp");
    let writer = device(tmp.path(), &admin, &proxy.url(), "amina", "site-a");
    let reader = device(tmp.path(), &admin, &proxy.url(), "chen", "site-a");

    // The reader has the forms already: the interrupted pull is about records.
    try_sync(&reader).expect("first sync");
    let mut records = Vec::new();
    {
        let mut s = open(&writer);
        for i in 0..20 {
            let subject = s
                .add_subject(&[
                    ("sex".into(), "male".into()),
                    ("date_of_birth".into(), "1980-01-01".into()),
                ])
                .expect("subject");
            let r = s.new_record("pda", &subject).expect("record");
            s.set_answer(&r, "temp_c", &format!("36.{}", i % 10), None)
                .expect("temp");
            s.set_answer(&r, "heart_rate", &(60 + i).to_string(), None)
                .expect("hr");
            s.set_answer(&r, "weight_kg", &(50 + i).to_string(), None)
                .expect("w");
            records.push(r);
        }
    }
    let total = open(&writer).pending_change_count().expect("pending") as u64;
    assert!(total > 60);

    // 1. The connection drops in the middle of the push.
    proxy.cut_after(20_000);
    let err = try_sync(&writer).expect_err("cut off");
    assert!(err.is_offline(), "{}: {err}", backend.name);
    let acked_before = total as i64 - open(&writer).pending_change_count().expect("pending");
    assert!(
        acked_before > 0,
        "{}: some pages were acknowledged before the cut",
        backend.name
    );
    proxy.pass();
    let done = try_sync(&writer).expect("resumed push");
    assert!(
        done.pushed_changes < total,
        "{}: acknowledged changes were not sent again ({} of {total})",
        backend.name,
        done.pushed_changes
    );
    assert_eq!(open(&writer).pending_change_count().expect("pending"), 0);

    // 2. The server is killed in the middle of a pull, then restarted.
    let holder: Arc<Mutex<Option<TestServer>>> = Arc::new(Mutex::new(Some(server)));
    let h = holder.clone();
    *proxy.on_cut.lock().expect("lock") = Some(Box::new(move || {
        if let Some(s) = h.lock().ok().and_then(|mut g| g.take()) {
            s.kill();
        }
    }));
    proxy.cut_after(8_000);
    let err = try_sync(&reader).expect_err("server killed");
    assert!(err.is_offline(), "{}: {err}", backend.name);
    let cursor_after_cut = open(&reader).sync_cursor().expect("cursor");
    assert!(
        cursor_after_cut > 0,
        "{}: pulled pages were kept",
        backend.name
    );
    proxy.pass();
    let mut restarted = None;
    for _ in 0..100 {
        if holder.lock().expect("lock").is_none() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    for _ in 0..100 {
        match std::panic::catch_unwind(|| TestServer::start_at(&backend.storage, server_addr)) {
            Ok(s) => {
                restarted = Some(s);
                break;
            }
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
    let restarted = restarted.expect("the server restarts on its port");
    let mut progress = Vec::new();
    let resumed = tern_sync::sync_reporting(open(&reader), &SMALL, |p| progress.push(*p))
        .map(|(_, r)| r)
        .expect("resumed pull");
    // Progress after every round trip, only forward, ending complete.
    assert_eq!(
        progress.len() as u32,
        resumed.round_trips,
        "{}",
        backend.name
    );
    let fractions: Vec<f64> = progress.iter().map(|p| p.fraction()).collect();
    assert!(
        fractions.windows(2).all(|w| w[0] <= w[1]),
        "{}: {fractions:?}",
        backend.name
    );
    assert_eq!(fractions.last().copied(), Some(1.0), "{}", backend.name);
    assert!(progress.iter().all(|p| !p.pushing), "nothing to push");
    assert!(
        progress.len() > 1 && fractions[0] < 1.0,
        "{}: a pull of several pages shows intermediate progress: {fractions:?}",
        backend.name
    );
    assert!(
        resumed.pulled_changes < total,
        "{}: pulled pages were not pulled again ({} of {total})",
        backend.name,
        resumed.pulled_changes
    );

    // Both devices hold the same records and answers.
    let (mut w, mut r) = (open(&writer), open(&reader));
    for id in &records {
        let (a, b) = (w.show(id).expect("w"), r.show(id).expect("r"));
        assert_eq!(a.answers, b.answers, "{}: record {id}", backend.name);
    }
    drop((w, r));
    restarted.stop();
}

#[test]
fn interrupted_syncs_resume_on_sqlite() {
    scenario(sqlite());
}

#[test]
fn interrupted_syncs_resume_on_postgres() {
    scenario(postgres());
}
