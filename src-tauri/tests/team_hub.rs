//! "Team hub" in the supervisor's app against a real `tern serve --demo` (the `tern`
//! binary of this workspace): set up with a code from the server's administrator, the
//! address, pinned fingerprint, code and QR code on show, a team device (the CLI)
//! enrolling with the hub's code, and who may run a hub.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::tern;
use tern_app::core::Core;
use tern_app::dto::NewUser;
use tern_app::error::Code;

struct Server {
    child: Child,
    url: String,
    data: PathBuf,
    demo: serde_json::Value,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(data: &Path) -> Server {
        let mut child = Command::new(tern())
            .args(["serve", "--listen", "127.0.0.1:0", "--demo", "--data"])
            .arg(data)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("tern serve");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let addr = lines.next().expect("address").expect("utf8");
        let demo =
            serde_json::from_str(&lines.next().expect("demo").expect("utf8")).expect("demo JSON");
        Server {
            child,
            url: format!("http://{}", addr.trim()),
            data: data.to_path_buf(),
            demo,
        }
    }

    /// The demo account of `role`: name and password.
    fn account(&self, role: &str) -> (String, String) {
        let u = self.demo["users"]
            .as_array()
            .and_then(|users| users.iter().find(|u| u["role"] == role))
            .expect("demo account");
        (
            u["name"].as_str().expect("name").into(),
            u["password"].as_str().expect("password").into(),
        )
    }

    /// A new enrolment code from the administrator.
    fn code(&self) -> String {
        let out = Command::new(tern())
            .args(["admin", "--data"])
            .arg(&self.data)
            .args(["device", "enroll", "--site", "demo"])
            .output()
            .expect("tern admin");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .expect("utf8")
            .trim()
            .to_string()
    }
}

/// An app enrolled with `server` whose first (unlocked) user is the demo `role`.
fn app(dir: &Path, server: &Server, role: &str) -> Core {
    let core = Core::new(dir.to_path_buf()).expect("core");
    core.device_enrol(&server.url, &server.code())
        .expect("staged");
    let (name, password) = server.account(role);
    let user = core
        .users_create(&NewUser {
            username: name,
            display_name: role.into(),
            password: password.clone(),
            confirmed_by: None,
        })
        .expect("enrolled");
    core.session_unlock(&user.user_id, &password)
        .expect("unlock");
    core
}

fn cli(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(tern());
    c.args(args).stdin(Stdio::null());
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("tern")
}

#[test]
fn a_supervisor_runs_the_team_hub_and_a_device_enrols_with_it() {
    let dir = tempfile::tempdir().expect("tmp");
    let server = Server::start(&dir.path().join("server"));
    let any = "127.0.0.1:0".parse().expect("addr");

    // Not a supervisor: no hub.
    let screener_app = app(&dir.path().join("screener-app"), &server, "screener");
    let state = screener_app.hub_state().expect("state");
    assert!(!state.available && !state.running);
    let refused = screener_app
        .hub_start_on(Some(&server.code()), any)
        .expect_err("a screener runs no hub");
    assert_eq!(refused.code, Code::Forbidden);
    assert!(!dir.path().join("screener-app/hub/hub.json").exists());

    // The supervisor: set up with a code, then on show.
    let core = app(&dir.path().join("app"), &server, "supervisor");
    assert!(core.hub_state().expect("state").available);
    let missing = core.hub_start_on(None, any).expect_err("a code is needed");
    assert_eq!(missing.code, Code::InvalidInput);
    let state = core
        .hub_start_on(Some(&server.code()), any)
        .expect("hub started");
    assert!(state.running && state.set_up);
    let address = state.addresses.first().expect("an address").clone();
    assert!(address.starts_with("https://127.0.0.1:"), "{address}");
    let fingerprint = state.fingerprint.clone().expect("fingerprint");
    let code = state.enrolment_code.clone().expect("code");
    assert!(code.ends_with(&format!("#{fingerprint}")), "{code}");
    assert!(state.qr_svg.as_deref().is_some_and(|s| s.contains("<svg")));
    assert_eq!(state.sites, vec!["demo".to_string()]);
    assert!(state.devices.is_empty());

    // A team device (the CLI) enrols with the hub's code, pinning its certificate.
    let (clinician, password) = server.account("clinician");
    let db = dir.path().join("team.db");
    let db = db.to_str().expect("path");
    let env = [
        ("TERN_PASSWORD", password.as_str()),
        ("TERN_ACCOUNT_PASSWORD", password.as_str()),
    ];
    let init = cli(
        &[
            "device", "--db", db, "init", "--user", &clinician, "--site", "demo",
        ],
        &env,
    );
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    let enrolled = cli(
        &[
            "device", "--db", db, "enroll", "--server", &address, "--code", &code,
        ],
        &env,
    );
    assert!(
        enrolled.status.success(),
        "{}",
        String::from_utf8_lossy(&enrolled.stderr)
    );
    let synced = cli(&["device", "--db", db, "sync"], &env);
    assert!(
        synced.status.success(),
        "{}",
        String::from_utf8_lossy(&synced.stderr)
    );
    let state = core.hub_state().expect("state");
    assert_eq!(state.devices.len(), 1, "{:?}", state.devices);
    assert_eq!(state.devices[0].user, clinician);
    assert!(state.devices[0].last_sync.is_some());

    // The code is single-use: a new one for the next device.
    let next = core.hub_new_code().expect("new code");
    assert_ne!(next.enrolment_code.as_deref(), Some(code.as_str()));

    // The upstream sync runs and says so.
    core.hub_sync_now().expect("sync asked");
    let end = Instant::now() + Duration::from_secs(60);
    loop {
        let state = core.hub_state().expect("state");
        let upstream = state.upstream.expect("upstream state");
        if upstream.last_report.is_some() && state.pending_up == 0 {
            break;
        }
        assert!(
            Instant::now() < end,
            "the hub never synced upstream: {upstream:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    // Stopped, then started again with the password alone.
    let stopped = core.hub_stop().expect("stop");
    assert!(!stopped.running && stopped.set_up);
    let again = core.hub_start_on(None, any).expect("restart");
    assert!(again.running);
    assert_eq!(again.fingerprint.as_deref(), Some(fingerprint.as_str()));
    core.hub_stop().expect("stop");
}
