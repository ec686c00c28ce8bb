//! Helpers: a server on its own runtime (killable like a crashed process), device
//! stores, and the storage of each backend.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use tern_server::admin::Admin;
use tern_server::{ServeConfig, Storage};
use tern_store::{Role, Store};

pub const PASSWORD: &str = "device-pass-1";
pub const ACCOUNT_PASSWORD: &str = "account-pass-1";

/// Where a test's server keeps its data; keeps the PostgreSQL cluster alive.
pub struct Backend {
    pub storage: Storage,
    pub name: &'static str,
    _pg: Option<crate::pg::Postgres>,
    _dir: Option<tempfile::TempDir>,
}

pub fn sqlite() -> Backend {
    let dir = tempfile::tempdir().expect("tmp");
    Backend {
        storage: Storage::Dir(dir.path().join("server")),
        name: "sqlite",
        _pg: None,
        _dir: Some(dir),
    }
}

pub fn postgres() -> Backend {
    let pg = crate::pg::Postgres::start();
    Backend {
        storage: Storage::Url(pg.url()),
        name: "postgres",
        _pg: Some(pg),
        _dir: None,
    }
}

/// A plain-HTTP server on a free port of 127.0.0.1 over `storage`, with the default
/// limits, no dashboard and no upstream: what a test changes, it says.
pub fn config(storage: &Storage) -> ServeConfig {
    ServeConfig {
        storage: storage.clone(),
        listen: "127.0.0.1:0".parse().expect("addr"),
        tls: None,
        demo: false,
        dashboard: None,
        upstream: None,
        tls_pem: None,
        limits: Default::default(),
    }
}

/// A server running on its own runtime; `kill` drops the runtime at once, like a
/// crashed process (what was committed stays, nothing else runs).
pub struct TestServer {
    pub addr: SocketAddr,
    rt: Option<tokio::runtime::Runtime>,
    running: Option<tern_server::Running>,
}

impl TestServer {
    pub fn start(storage: &Storage) -> TestServer {
        Self::start_at(storage, "127.0.0.1:0".parse().expect("addr"))
    }

    pub fn start_at(storage: &Storage, listen: SocketAddr) -> TestServer {
        Self::start_config(ServeConfig {
            listen,
            ..config(storage)
        })
    }

    /// A server with its own limits (timeouts, connections, sessions).
    pub fn start_with_limits(storage: &Storage, limits: tern_server::limits::Limits) -> TestServer {
        Self::start_config(ServeConfig {
            limits,
            ..config(storage)
        })
    }

    pub fn start_config(config: ServeConfig) -> TestServer {
        let _ = tracing_subscriber::fmt()
            .with_env_filter("warn")
            .with_test_writer()
            .try_init();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let running = rt
            .block_on(tern_server::start(config))
            .expect("server starts");
        TestServer {
            addr: running.addr,
            rt: Some(rt),
            running: Some(running),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn kill(mut self) {
        self.running.take();
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }

    pub fn stop(mut self) {
        if let (Some(rt), Some(r)) = (self.rt.take(), self.running.take()) {
            rt.block_on(r.shutdown());
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

/// Site `site-a` and `site-b`; accounts by role at `site-a` (and `other` at `site-b`).
pub fn accounts(storage: &Storage) -> Admin {
    let admin = Admin::open(storage).expect("admin");
    admin.add_site("site-a").expect("site");
    admin.add_site("site-b").expect("site");
    let a = vec!["site-a".to_string()];
    for (name, role) in [
        ("amina", "clinician"),
        ("bilal", "screener"),
        ("chen", "supervisor"),
        ("dana", "data_manager"),
        ("root", "admin"),
    ] {
        admin
            .add_user(name, role, ACCOUNT_PASSWORD, &a)
            .expect("user");
    }
    admin
        .add_user(
            "other",
            "clinician",
            ACCOUNT_PASSWORD,
            &["site-b".to_string()],
        )
        .expect("user");
    admin
}

/// The start of most tests: a running server with the accounts of [`accounts`], its
/// address and a folder for device stores.
pub struct Scene {
    pub server: TestServer,
    pub admin: Admin,
    pub url: String,
    pub tmp: tempfile::TempDir,
}

impl Scene {
    pub fn start(backend: &Backend) -> Scene {
        let server = TestServer::start(&backend.storage);
        let admin = accounts(&backend.storage);
        let url = server.url();
        let tmp = tempfile::tempdir().expect("tmp");
        Scene {
            server,
            admin,
            url,
            tmp,
        }
    }
}

/// A new device store for `user` at `site`, enrolled with the server.
pub fn device(dir: &Path, admin: &Admin, server: &str, user: &str, site: &str) -> PathBuf {
    let db = dir.join(format!("{user}-{}.db", rand_suffix()));
    let mut s = Store::init(&db, user, Role::Screener, PASSWORD, site).expect("init");
    let code = admin.enrolment_code(site, None).expect("code");
    tern_sync::enrol(&mut s, server, &code, ACCOUNT_PASSWORD).expect("enrol");
    db
}

fn rand_suffix() -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    N.fetch_add(1, Ordering::Relaxed).to_string()
}

pub fn open(db: &Path) -> Store {
    Store::open(db, None, PASSWORD).expect("open")
}

pub fn sync(db: &Path) -> tern_sync::SyncReport {
    let (_, report) = tern_sync::sync(open(db)).expect("sync");
    report
}

/// Signs in and returns a session token.
pub fn login(server: &str, user: &str) -> String {
    let resp = reqwest::blocking::Client::new()
        .post(format!("{server}/v1/login"))
        .body(serde_json::json!({"user": user, "password": ACCOUNT_PASSWORD}).to_string())
        .send()
        .expect("login");
    assert_eq!(resp.status().as_u16(), 200, "login of {user}");
    let v: serde_json::Value = resp.json_or_panic();
    v["token"].as_str().expect("token").to_string()
}

pub trait JsonBody {
    fn json_or_panic(self) -> serde_json::Value;
}

impl JsonBody for reqwest::blocking::Response {
    fn json_or_panic(self) -> serde_json::Value {
        let bytes = self.bytes().expect("body");
        serde_json::from_slice(&bytes).expect("JSON body")
    }
}

/// GET with a bearer token: (status, JSON body or Null).
pub fn get(server: &str, path: &str, token: &str) -> (u16, serde_json::Value) {
    let resp = reqwest::blocking::Client::new()
        .get(format!("{server}{path}"))
        .bearer_auth(token)
        .send()
        .expect("get");
    status_and_json(resp)
}

/// Waits (bounded) until the server's record view shows `record` verified.
pub fn server_view(server: &str, token: &str, record: &str) -> serde_json::Value {
    for _ in 0..200 {
        let (status, v) = get(server, &format!("/v1/records/{record}"), token);
        if status == 200 {
            return v;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("record {record} never became visible on the server");
}

/// POST JSON with a bearer token: (status, JSON body or Null).
pub fn post(
    server: &str,
    path: &str,
    token: &str,
    body: serde_json::Value,
) -> (u16, serde_json::Value) {
    let resp = reqwest::blocking::Client::new()
        .post(format!("{server}{path}"))
        .bearer_auth(token)
        .body(body.to_string())
        .send()
        .expect("post");
    status_and_json(resp)
}

/// POST raw bytes (a sync frame), with a bearer token when given: (status, JSON
/// body or Null).
pub fn post_bytes(url: &str, token: Option<&str>, body: Vec<u8>) -> (u16, serde_json::Value) {
    let mut req = reqwest::blocking::Client::new().post(url).body(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    status_and_json(req.send().expect("post"))
}

/// An answer's status and its JSON body (Null when it has none).
fn status_and_json(resp: reqwest::blocking::Response) -> (u16, serde_json::Value) {
    let status = resp.status().as_u16();
    let bytes = resp.bytes().expect("body");
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
    )
}

/// Waits (bounded) until the server's row of `record` has status `want`.
pub fn wait_for_status(url: &str, token: &str, record: &str, want: &str) -> serde_json::Value {
    for _ in 0..200 {
        let v = server_view(url, token, record);
        if v["record"]["status"] == want {
            return v;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!(
        "{record} never reached {want}: {}",
        server_view(url, token, record)["record"]
    );
}

/// A runtime for driving the server's async parts directly from a test.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// A new pre-departure record (the current pda version) of a new female subject.
pub fn new_pda(s: &mut Store) -> String {
    let subject = s
        .add_subject(&[("sex".into(), "female".into())])
        .expect("subject");
    s.new_record("pda", &subject).expect("record")
}

/// A new pre-departure record made on the device store `db`, synced with its server.
pub fn synced_pda(db: &Path) -> String {
    let record = new_pda(&mut open(db));
    sync(db);
    record
}

/// A plain client of the test PostgreSQL at `url`, its connection driven on this
/// runtime.
pub async fn pg_client(url: &str) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(conn);
    client
}
