//! Enrolment and the site's accounts: the answer carries the account list (roles
//! sync down from enrolment on), and a device holding local users who are not
//! accounts of the site is refused before anything is stored, keeping its data and
//! its code.

use crate::common::*;
use std::path::Path;
use tern_store::{Role, Store};
use tern_sync::protocol::ErrorCode;
use tern_sync::SyncError;

fn open_as(db: &Path, user: &str) -> Store {
    Store::open(db, Some(user), PASSWORD).expect("open")
}

/// A device used offline before enrolment: `users` besides `amina`, and one
/// record captured by the last of them.
fn offline_device(db: &Path, users: &[&str]) {
    let mut s = Store::init(db, "amina", Role::Screener, PASSWORD, "site-a").expect("init");
    for u in users {
        s.add_user(u, Role::Screener, PASSWORD).expect("user");
    }
    drop(s);
    let mut last = open_as(db, users.last().copied().unwrap_or("amina"));
    new_pda(&mut last);
}

fn refusal(db: &Path, url: &str, code: &str, name: &str) -> String {
    match tern_sync::enrol(&mut open_as(db, "amina"), url, code, ACCOUNT_PASSWORD) {
        Err(SyncError::Refused { code, message }) => {
            assert_eq!(code, ErrorCode::Forbidden, "{name}: {message}");
            message
        }
        other => panic!("{name}: enrolled with unknown local users: {other:?}"),
    }
}

fn scenario(backend: Backend) {
    let Scene {
        server,
        admin,
        url,
        tmp,
    } = Scene::start(&backend);
    let name = backend.name;

    // From enrolment on (no sync yet), roles come from the server and a new local
    // user must be an account of the site.
    let enrolled = device(tmp.path(), &admin, &url, "bilal", "site-a");
    {
        let mut s = open(&enrolled);
        assert_ne!(
            s.accounts_version().expect("v"),
            0,
            "{name}: list at enrolment"
        );
        assert_eq!(s.role(), Role::Screener);
        let err = s
            .add_user("nobody", Role::Clinician, PASSWORD)
            .expect_err("not an account");
        assert!(err.to_string().contains("not a server account"), "{err}");
        assert_eq!(
            s.add_user("chen", Role::Screener, PASSWORD).expect("chen"),
            Role::Supervisor,
            "{name}: the server role"
        );
    }

    // Local users who are not accounts: refused before anything is stored, naming
    // them (and only them); the device keeps its data, the code stays valid.
    let db = tmp.path().join("offline.db");
    offline_device(&db, &["lena", "karim"]);
    let code = admin.enrolment_code("site-a", None).expect("code");
    let message = refusal(&db, &url, &code, name);
    for part in [
        "`karim`, `lena`",
        "ask an administrator to add these accounts to site site-a",
        "then enrol again",
        "keeps all its data",
    ] {
        assert!(message.contains(part), "{name}: {part:?} in {message}");
    }
    assert!(!message.contains("`amina`"), "{name}: {message}");
    {
        let s = open_as(&db, "karim");
        assert_eq!(s.enrolment().expect("e"), None, "{name}: nothing stored");
        assert_eq!(s.accounts_version().expect("v"), 0);
        assert_eq!(s.list_records(&Default::default()).expect("list").len(), 1);
        assert_eq!(s.local_user_names().expect("n").len(), 3);
        let id = s.device().to_string();
        assert!(
            !admin.devices().expect("devices").iter().any(|d| d.id == id),
            "{name}: no device on the server"
        );
    }

    // One account added: the same code is refused again, naming the other.
    admin
        .add_user(
            "karim",
            "clinician",
            ACCOUNT_PASSWORD,
            &["site-a".to_string()],
        )
        .expect("karim");
    let message = refusal(&db, &url, &code, name);
    assert!(
        message.contains("`lena`") && !message.contains("`karim`"),
        "{name}: {message}"
    );
    // Both added: the same code enrols, the list comes with it, the data syncs.
    admin
        .add_user(
            "lena",
            "screener",
            ACCOUNT_PASSWORD,
            &["site-a".to_string()],
        )
        .expect("lena");
    let e =
        tern_sync::enrol(&mut open_as(&db, "amina"), &url, &code, ACCOUNT_PASSWORD).expect("enrol");
    assert_eq!(e.sites, vec!["site-a".to_string()]);
    {
        let mut karim = open_as(&db, "karim");
        assert_eq!(karim.role(), Role::Clinician, "{name}: karim's server role");
        assert_ne!(karim.accounts_version().expect("v"), 0);
        assert!(karim.add_user("nobody", Role::Screener, PASSWORD).is_err());
        // Karim was not the enrolling user: his work leaves once he proves his account.
        tern_sync::prove(&mut karim, ACCOUNT_PASSWORD).expect("karim proves his account");
        let (_, report) = tern_sync::sync(karim).expect("sync");
        assert!(report.pushed_changes > 0, "{name}: {report:?}");
    }
    // Pulls serve only what the verifier judged, which runs after the acknowledgement:
    // pull until it has (bounded).
    let mut pulled = 0;
    for _ in 0..100 {
        let (b, _) = tern_sync::sync(open_as(&enrolled, "bilal")).expect("bilal pulls");
        pulled = b.list_records(&Default::default()).expect("list").len();
        if pulled > 0 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(pulled, 1, "{name}: the offline record reached the site");

    // An account of another site is not an account of this one.
    let visitor = tmp.path().join("visitor.db");
    offline_device(&visitor, &["other"]);
    let code = admin.enrolment_code("site-a", None).expect("code");
    let message = refusal(&visitor, &url, &code, name);
    assert!(message.contains("`other`"), "{name}: {message}");
    assert_eq!(open_as(&visitor, "other").enrolment().expect("e"), None);

    // Until an administrator gives the account this site too (and another role):
    // then the same code enrols the visitor's device.
    admin
        .change_user("other", Some("screener"), &["site-a".to_string()])
        .expect("change");
    let other = admin
        .users()
        .expect("users")
        .into_iter()
        .find(|u| u.name == "other")
        .expect("listed");
    assert_eq!(other.role, "screener", "{name}");
    assert_eq!(
        other.sites,
        vec!["site-a".to_string(), "site-b".to_string()]
    );
    assert!(admin.change_user("nobody", Some("screener"), &[]).is_err());
    assert!(admin
        .change_user("other", None, &["nowhere".to_string()])
        .is_err());
    tern_sync::enrol(
        &mut open_as(&visitor, "other"),
        &url,
        &code,
        ACCOUNT_PASSWORD,
    )
    .expect("enrol now");
    assert_eq!(open_as(&visitor, "other").role(), Role::Screener, "{name}");
    server.stop();
}

#[test]
fn enrolment_and_accounts_on_sqlite() {
    scenario(sqlite());
}

#[test]
fn enrolment_and_accounts_on_postgres() {
    scenario(postgres());
}
