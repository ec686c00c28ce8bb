//! Sign-in sessions end after an idle time (default 30 minutes) and ended sessions
//! are removed from the database; API answers are marked `Cache-Control: no-store`.

use crate::common::*;
use std::time::Duration;
use tern_server::db::Db;
use tern_server::limits::Limits;
use tern_server::Storage;

/// Whether an ended session's row is still there: touching it would bring it back.
fn row_left(storage: &Storage, token: &str) -> bool {
    let hash = tern_server::auth::token_hash(token);
    let far = tern_server::service::now_ms() + 3_600_000;
    let now = tern_server::service::now_ms();
    runtime().block_on(async {
        match storage {
            Storage::Dir(dir) => {
                let db = tern_server::sqlite::SqliteDb::open(dir).expect("open");
                db.touch_session(&hash, far).await.expect("touch");
                db.session(&hash, now).await.expect("session").is_some()
            }
            Storage::Keyed(..) => unreachable!("the tests use key files"),
            Storage::Url(url) => {
                let db = tern_server::postgres::PgDb::connect(url).await.expect("pg");
                db.touch_session(&hash, far).await.expect("touch");
                db.session(&hash, now).await.expect("session").is_some()
            }
        }
    })
}

fn scenario(backend: Backend) {
    assert_eq!(
        Limits::default().session_idle,
        Duration::from_secs(30 * 60),
        "the default idle timeout"
    );
    let server = TestServer::start_with_limits(
        &backend.storage,
        Limits {
            session_idle: Duration::from_secs(2),
            ..Limits::default()
        },
    );
    let _admin = accounts(&backend.storage);
    let url = server.url();
    let name = backend.name;
    let chen = login(&url, "chen");
    // Answers carrying health data (and tokens) are never cached.
    let resp = reqwest::blocking::Client::new()
        .get(format!("{url}/v1/records"))
        .bearer_auth(&chen)
        .send()
        .expect("records");
    assert_eq!(
        resp.headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("no-store"),
        "{name}: the record list may be cached"
    );
    // Used every second, the session lives past its idle time...
    for _ in 0..4 {
        std::thread::sleep(Duration::from_millis(1000));
        assert_eq!(get(&url, "/v1/records", &chen).0, 200, "{name}: in use");
    }
    // ...and ends once left alone for longer.
    std::thread::sleep(Duration::from_millis(2500));
    let (status, body) = get(&url, "/v1/records", &chen);
    assert_eq!(status, 401, "{name}: an idle session still works: {body}");
    // The next sign-in removes ended sessions.
    let _dana = login(&url, "dana");
    assert!(
        !row_left(&backend.storage, &chen),
        "{name}: the ended session's row is left"
    );
    server.stop();
}

#[test]
fn idle_sessions_end_on_sqlite() {
    scenario(sqlite());
}

#[test]
fn idle_sessions_end_on_postgres() {
    scenario(postgres());
}
