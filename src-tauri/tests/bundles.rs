//! Bundles in the app against a real `tern serve --demo`: the app writes its changes
//! to a "USB" folder, the server's administrator reads them (`tern admin bundle
//! import`) and writes a bundle back for the device, which the app reads; the same
//! bundle twice changes nothing; an altered file and a file outside the offered
//! folders are refused.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use tern_app::core::Core;
use tern_app::dto::NewUser;
use tern_app::error::Code;

mod common;
#[path = "common/subject.rs"]
mod subject;
use common::tern;
use subject::register_halima;

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn admin(data: &Path, args: &[&str]) -> serde_json::Value {
    let out = Command::new(tern())
        .args(["admin", "--data"])
        .arg(data)
        .args(args)
        .output()
        .expect("tern admin");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("utf8");
    serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text.trim().into()))
}

#[test]
fn the_app_exchanges_bundles_with_its_server_through_a_usb_folder() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("server");
    let mut child = Command::new(tern())
        .args(["serve", "--listen", "127.0.0.1:0", "--demo", "--data"])
        .arg(&data)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("tern serve");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let addr = lines.next().expect("address").expect("utf8");
    let demo: serde_json::Value =
        serde_json::from_str(&lines.next().expect("demo").expect("utf8")).expect("json");
    let _server = Server(child);
    let clinician = demo["users"]
        .as_array()
        .and_then(|u| u.iter().find(|u| u["role"] == "clinician"))
        .expect("clinician");
    let password = clinician["password"].as_str().expect("password");

    let usb = dir.path().join("usb");
    std::fs::create_dir(&usb).expect("usb");
    // The only folder offered (this test binary runs this one test).
    std::env::set_var("TERN_BUNDLE_DIRS", &usb);

    let core = Core::new(dir.path().join("app")).expect("core");
    core.device_enrol(
        &format!("http://{}", addr.trim()),
        demo["enrolment_code"].as_str().expect("code"),
    )
    .expect("staged");
    let user = core
        .users_create(&NewUser {
            username: clinician["name"].as_str().expect("name").into(),
            display_name: "Clinician".into(),
            password: password.into(),
            confirmed_by: None,
        })
        .expect("enrolled");
    core.session_unlock(&user.user_id, password)
        .expect("unlock");
    let subject_id = register_halima(&core);
    core.records_new("pda", &subject_id).expect("record");

    // Up: the app writes its changes into the offered folder.
    let view = core.bundle_view().expect("view");
    assert_eq!(view.places.len(), 1);
    assert_eq!(view.peers.len(), 1, "{:?}", view.peers);
    let place = view.places[0].path.clone();
    let up = core.bundle_export(&place, None).expect("export");
    assert_eq!(up.direction, "up");
    assert!(up.chunks > 0 && up.documents >= 2, "{up:?}");
    let view = core.bundle_view().expect("view");
    let file = view.places[0]
        .files
        .first()
        .expect("the bundle file")
        .path
        .clone();
    let activity = view.activity.expect("activity");
    assert!(!activity.running && activity.summary.is_some());
    let read = admin(&data, &["bundle", "import", &file]);
    assert!(
        read["new_changes"].as_u64().is_some_and(|n| n > 0),
        "{read}"
    );

    // Down: the server writes a bundle for the device; the app reads it, once.
    let device = core
        .device_state()
        .expect("state")
        .device_id
        .expect("device id");
    let back = usb.join("from-server.ternbundle");
    let back_s = back.to_str().expect("path");
    admin(&data, &["bundle", "export", "--to", &device, back_s]);
    let down = core.bundle_import(back_s).expect("import");
    assert_eq!(down.direction, "down");
    assert!(!down.already_imported);
    let again = core.bundle_import(back_s).expect("import again");
    assert!(again.already_imported);

    // Refused: an altered bundle, and files the app does not offer.
    let mut bytes = std::fs::read(&back).expect("read");
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    let altered = usb.join("altered.ternbundle");
    std::fs::write(&altered, &bytes).expect("write");
    let refused = core
        .bundle_import(altered.to_str().expect("path"))
        .expect_err("altered");
    assert_eq!(refused.code, Code::InvalidInput);
    let elsewhere = dir.path().join("elsewhere.ternbundle");
    std::fs::copy(&back, &elsewhere).expect("copy");
    let refused = core
        .bundle_import(elsewhere.to_str().expect("path"))
        .expect_err("not offered");
    assert_eq!(refused.code, Code::InvalidInput);
    let refused = core
        .bundle_export(dir.path().to_str().expect("path"), None)
        .expect_err("not offered");
    assert_eq!(refused.code, Code::InvalidInput);
    std::fs::remove_file(&altered).expect("rm");

    // Locked: every bundle command is refused with `locked`, even with a folder or
    // file the app offers, and nothing is written or read.
    let fresh = usb.join("fresh.ternbundle");
    let fresh_s = fresh.to_str().expect("path");
    admin(&data, &["bundle", "export", "--to", &device, fresh_s]);
    let listing = || {
        let mut names: Vec<_> = std::fs::read_dir(&usb)
            .expect("usb")
            .map(|e| e.expect("entry").file_name())
            .collect();
        names.sort();
        names
    };
    let before = listing();
    let activity = serde_json::to_value(core.bundle_view().expect("view").activity).expect("json");
    core.session_lock().expect("lock");
    assert_eq!(
        core.bundle_view().expect_err("locked view").code,
        Code::Locked
    );
    for (what, result) in [
        ("export", core.bundle_export(&place, None)),
        ("export elsewhere", core.bundle_export("/", None)),
        ("import", core.bundle_import(fresh_s)),
        ("import elsewhere", core.bundle_import("/etc/passwd")),
    ] {
        assert_eq!(result.expect_err(what).code, Code::Locked, "{what}");
    }
    assert_eq!(listing(), before, "a locked app writes no file");
    core.session_unlock(&user.user_id, password)
        .expect("unlock");
    assert_eq!(
        serde_json::to_value(core.bundle_view().expect("view").activity).expect("json"),
        activity,
        "a locked app started no export or import"
    );
    let read = core.bundle_import(fresh_s).expect("import after unlock");
    assert!(!read.already_imported, "the locked import read nothing");
}
