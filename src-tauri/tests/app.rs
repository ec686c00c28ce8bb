//! The app state against a real `tern serve --demo` (the `tern` binary of this
//! workspace, built by `cargo build -p tern-cli`): enrolment with the first user,
//! a record, a background sync.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tern_app::core::Core;
use tern_app::dto::{NewUser, SyncPhase};

mod common;
#[path = "common/subject.rs"]
mod subject;
use common::tern;
use subject::register_halima;

struct Server {
    child: Child,
    url: String,
    code: String,
    /// The demo clinician's name and password (the first user proves it at enrolment).
    screener: String,
    password: String,
    /// The demo screener account: a second local user who proves it at a sync.
    second: (String, String),
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(data: &std::path::Path) -> Option<Server> {
    let mut child = Command::new(tern())
        .args(["serve", "--listen", "127.0.0.1:0", "--demo", "--data"])
        .arg(data)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let mut lines = BufReader::new(child.stdout.take()?).lines();
    let addr = lines.next()?.ok()?;
    let demo: serde_json::Value = serde_json::from_str(&lines.next()?.ok()?).ok()?;
    let account = |role: &str| -> Option<(String, String)> {
        let u = demo["users"]
            .as_array()?
            .iter()
            .find(|u| u["role"] == role)?;
        Some((
            u["name"].as_str()?.to_string(),
            u["password"].as_str()?.to_string(),
        ))
    };
    let (screener, password) = account("clinician")?;
    Some(Server {
        child,
        url: format!("http://{}", addr.trim()),
        code: demo["enrolment_code"].as_str()?.to_string(),
        screener,
        password,
        second: account("screener")?,
    })
}

#[test]
fn enrols_with_the_first_user_and_syncs_in_the_background() {
    let dir = tempfile::tempdir().expect("tmp");
    let server = serve(&dir.path().join("server")).expect("tern serve --demo started");
    let core = std::sync::Arc::new(Core::new(dir.path().join("app")).expect("core"));
    tern_app::sync::spawn(core.clone()).expect("sync thread");
    core.device_enrol(&server.url, &server.code)
        .expect("staged");
    let user = core
        .users_create(&NewUser {
            username: server.screener.clone(),
            display_name: "Demo Screener".into(),
            password: server.password.clone(),
            confirmed_by: None,
        })
        .expect("enrolled");
    assert_eq!(user.role, "clinician");
    let device = core.device_state().expect("state");
    assert!(device.enrolled);
    assert_eq!(device.site_id.as_deref(), Some("demo"));
    core.session_unlock(&user.user_id, &server.password)
        .expect("unlock");
    let subject_id = register_halima(&core);
    let record = core.records_new("pda", &subject_id).expect("record");
    assert!(record.unsynced);
    core.sync_now().expect("sync");
    let end = Instant::now() + Duration::from_secs(60);
    loop {
        let state = core.sync_state().expect("state");
        if state.phase == SyncPhase::Idle && state.last_sync_at.is_some() {
            assert_eq!(state.pending_records, 0);
            break;
        }
        assert!(Instant::now() < end, "no sync within a minute: {state:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
    let list = core
        .records_list(&tern_app::dto::RecordFilter::Drafts)
        .expect("list");
    assert!(!list[0].unsynced);
    // A proven clinician is shown the alert list (none raised by an empty record).
    assert_eq!(core.alerts_list().expect("alerts"), Some(Vec::new()));

    // A second user added on the device (as offline): unproven until a sync while
    // they are signed in proves their account with their own password.
    let (name, password) = server.second.clone();
    let second = core
        .users_create(&NewUser {
            username: name.clone(),
            display_name: "Second Screener".into(),
            password: password.clone(),
            confirmed_by: None,
        })
        .expect("added");
    let wait_sync = |what: &str| -> tern_app::dto::SyncState {
        let since = core.sync_state().expect("state").last_sync_at;
        // The sync time has whole seconds: the next one must differ.
        std::thread::sleep(Duration::from_millis(1100));
        core.sync_now().expect("sync");
        let end = Instant::now() + Duration::from_secs(60);
        loop {
            let state = core.sync_state().expect("state");
            if state.phase == SyncPhase::Idle && state.last_sync_at != since {
                return state;
            }
            assert!(
                Instant::now() < end,
                "{what}: no sync within a minute: {state:?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    let state = wait_sync("as the first user");
    assert_eq!(state.unproven_users, vec![name.clone()]);
    core.session_unlock(&second.user_id, &password)
        .expect("unlock the second user");
    let state = wait_sync("as the second user");
    assert!(state.unproven_users.is_empty(), "{state:?}");
    // A screener is shown none.
    assert_eq!(core.alerts_list().expect("alerts"), None);
    assert!(state.last_error.is_none(), "{state:?}");
    tern_app::sync::stop(&core);
}
