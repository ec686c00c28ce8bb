//! Server accounts take the devices' password rule: at least 8 characters and not
//! one of the shipped common passwords; a refused account is not stored.

use crate::common::*;
use tern_server::admin::Admin;

fn scenario(backend: Backend) {
    let admin = Admin::open(&backend.storage).expect("admin");
    admin.add_site("site-a").expect("site");
    let site = vec!["site-a".to_string()];
    for (password, says) in [
        ("short", "at least 8 characters"),
        ("password1", "most common passwords"),
        ("Qwertyuiop", "most common passwords"),
    ] {
        let e = admin
            .add_user("eve", "clinician", password, &site)
            .expect_err("a weak password is refused");
        assert!(
            e.message.contains(says),
            "{}: {password}: {e}",
            backend.name
        );
    }
    assert!(
        admin
            .users()
            .expect("users")
            .iter()
            .all(|u| u.name != "eve"),
        "nothing stored"
    );
    admin
        .add_user("eve", "clinician", ACCOUNT_PASSWORD, &site)
        .expect("a good password");
}

#[test]
fn weak_account_passwords_on_sqlite() {
    scenario(sqlite());
}

#[test]
fn weak_account_passwords_on_postgres() {
    scenario(postgres());
}
