//! Fields picked from the site's accounts (issue 14: `clinician_id`,
//! `t1_personnel_id`) on the server: pushed changes that set one to a name that is
//! not an account of the record's site with a role the form names are quarantined,
//! with a reason that names the field and the site but not the name. The device
//! store refuses such answers itself; a tampered device (a forged account list)
//! leaves only the server's check. Naming the right person goes through.

use crate::common::*;
use crate::write_roles::{quarantine_reason, wait_for_answer};
use serde_json::json;

fn scenario(backend: Backend) {
    let Scene {
        server,
        admin,
        url,
        tmp,
    } = Scene::start(&backend);
    let chen = login(&url, "chen");
    let name = backend.name;

    // The clinician names herself: verified and in the server's view.
    let dev = device(tmp.path(), &admin, &url, "amina", "site-a");
    let record = {
        let mut s = open(&dev);
        let r = new_pda(&mut s);
        s.set_answer(&r, "clinician_id", "amina", None)
            .expect("the clinician names herself");
        assert!(
            s.set_answer(&r, "clinician_id", "other", None).is_err(),
            "the store refuses a clinician of another site"
        );
        r
    };
    sync(&dev);
    wait_for_answer(&url, &chen, &record, "clinician_id", &json!("amina"));

    // A tampered device believes `other` (a clinician of site-b) and `bilal` (a
    // screener) are clinicians of site-a.
    let forged = {
        let mut s = open(&dev);
        s.apply_accounts(
            999,
            &[
                ("amina".into(), "clinician".into()),
                ("other".into(), "clinician".into()),
                ("bilal".into(), "clinician".into()),
            ],
        )
        .expect("a forged account list");
        // A change to a verified record: a clinician of another site.
        s.set_answer(&record, "clinician_id", "other", None)
            .expect("the tampered store lets it through");
        // A whole new record: a screener as the examining clinician.
        let subject = s
            .add_subject(&[("sex".into(), "male".into())])
            .expect("subject");
        let r = s.new_record("pda", &subject).expect("record");
        s.set_answer(&r, "clinician_id", "bilal", None)
            .expect("the tampered store lets it through");
        r
    };
    sync(&dev);
    for doc in [&record, &forged] {
        let why = quarantine_reason(&admin, doc);
        for part in ["`clinician_id`", "`site-a`", "clinician"] {
            assert!(why.contains(part), "{name}: {why}");
        }
        for value in ["other", "bilal"] {
            assert!(!why.contains(value), "{name}: no name in the reason: {why}");
        }
    }
    let v = server_view(&url, &chen, &record);
    assert_eq!(
        v["data"]["answers"]["clinician_id"],
        json!("amina"),
        "{name}: the quarantined change is not in the view: {v}"
    );
    let (status, _) = get(&url, &format!("/v1/records/{forged}"), &chen);
    assert_eq!(
        status, 404,
        "{name}: the forged record is not on the server"
    );
    server.stop();
}

#[test]
fn account_picks_are_checked_on_sqlite() {
    scenario(sqlite());
}

#[test]
fn account_picks_are_checked_on_postgres() {
    scenario(postgres());
}
