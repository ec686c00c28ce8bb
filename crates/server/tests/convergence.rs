//! Three devices edit the same records offline (same and different fields), sync in
//! different orders, and every device and the server end identical, conflicts kept.

use crate::common::*;
use serde_json::json;

fn answers_and_conflicts(db: &std::path::Path, record: &str) -> (serde_json::Value, Vec<String>) {
    let mut s = open(db);
    let v = s.show(record).expect("show");
    let mut conflicts: Vec<String> = v.conflicts.iter().map(|c| c.field.clone()).collect();
    conflicts.sort();
    (json!(v.answers), conflicts)
}

fn scenario(backend: Backend) {
    let Scene {
        server,
        admin,
        url,
        tmp,
    } = Scene::start(&backend);
    let d1 = device(tmp.path(), &admin, &url, "amina", "site-a");
    let d2 = device(tmp.path(), &admin, &url, "bilal", "site-a");
    let d3 = device(tmp.path(), &admin, &url, "chen", "site-a");

    // Two records created on device 1, known everywhere before going offline.
    let (r1, r2) = {
        let mut s = open(&d1);
        let subject = s
            .add_subject(&[
                ("sex".into(), "female".into()),
                ("date_of_birth".into(), "1990-05-01".into()),
            ])
            .expect("subject");
        let r1 = s.new_record("pda", &subject).expect("r1");
        let r2 = s.new_record("pda", &subject).expect("r2");
        s.set_answer(&r1, "temp_c", "36.6", None).expect("temp");
        s.set_answer(&r1, "hiv_offered", "true", None)
            .expect("restricted");
        (r1, r2)
    };
    let first = sync(&d1);
    assert!(first.pushed_changes > 0);
    for d in [&d2, &d3] {
        let r = sync(d);
        assert!(r.pulled_changes > 0, "{}: the records arrive", backend.name);
    }

    // Offline edits: the same field with different values, and different fields.
    {
        let mut s = open(&d1);
        s.set_answer(&r1, "temp_c", "38.1", None).expect("d1 temp");
        s.set_answer(&r1, "heart_rate", "80", None).expect("d1 hr");
        s.set_answer(&r2, "weight_kg", "60", None)
            .expect("d1 weight");
    }
    {
        let mut s = open(&d2);
        s.set_answer(&r1, "temp_c", "37.2", None).expect("d2 temp");
        s.set_answer(&r2, "height_cm", "170", None)
            .expect("d2 height");
    }
    {
        let mut s = open(&d3);
        s.set_answer(&r2, "weight_kg", "61", None).err(); // a supervisor may not enter answers
    }

    // Different orders; then rounds until nothing moves (bounded).
    sync(&d2);
    sync(&d3);
    sync(&d1);
    for _ in 0..3 {
        let moved: u64 = [&d3, &d2, &d1].iter().map(|d| sync(d).pulled_changes).sum();
        if moved == 0 {
            break;
        }
    }

    let (a1, c1) = answers_and_conflicts(&d1, &r1);
    let (a2, c2) = answers_and_conflicts(&d2, &r1);
    let (a3, c3) = answers_and_conflicts(&d3, &r1);
    let mut open_part = a1.clone();
    open_part
        .as_object_mut()
        .expect("map")
        .remove("hiv_offered");
    assert_eq!(
        open_part, a2,
        "{}: devices 1 and 2 agree (but restricted sections)",
        backend.name
    );
    assert_eq!(a1, a3, "{}: devices 1 and 3 agree", backend.name);
    assert_eq!(c1, c2);
    assert_eq!(c1, c3);
    assert!(
        c1.contains(&"temp_c".to_string()),
        "the conflict is kept: {c1:?}"
    );
    assert_eq!(a1["heart_rate"], json!(80));
    let (b1, _) = answers_and_conflicts(&d1, &r2);
    let (b2, _) = answers_and_conflicts(&d2, &r2);
    assert_eq!(b1, b2);
    assert_eq!(b1["weight_kg"], json!(60));
    assert_eq!(b1["height_cm"], json!(170));

    // Restricted sections reached the clinician and the supervisor, never the screener.
    assert_eq!(a1["hiv_offered"], json!(true));
    assert_eq!(a3["hiv_offered"], json!(true));
    assert!(
        a2.get("hiv_offered").is_none(),
        "a screener never gets restricted sections"
    );

    // The server holds the same, conflicts kept.
    let token = login(&url, "amina");
    let view = server_view(&url, &token, &r1);
    let server_answers = &view["data"]["answers"];
    for field in ["temp_c", "heart_rate"] {
        assert_eq!(
            server_answers[field], a1[field],
            "{}: server field {field}",
            backend.name
        );
    }
    let server_conflicts: Vec<&str> = view["data"]["conflicts"]
        .as_array()
        .expect("conflicts")
        .iter()
        .filter_map(|c| c["field"].as_str())
        .collect();
    assert!(server_conflicts.contains(&"temp_c"));
    assert_eq!(
        view["data"]["restricted"]["answers"]["hiv_offered"],
        json!(true)
    );

    // A sync with nothing new: one round trip, well under 1 KB each way.
    let idle = sync(&d1);
    assert_eq!(idle.round_trips, 1);
    assert_eq!(idle.pushed_changes + idle.pulled_changes, 0);
    assert!(
        idle.bytes_sent < 1024 && idle.bytes_received < 1024,
        "{idle:?}"
    );

    // A screener starts a record. Its restricted part exists only as an empty
    // skeleton, which the server takes from any author; the clinician receives it.
    let r3 = {
        let mut s = open(&d2);
        let subject = s
            .add_subject(&[
                ("sex".into(), "male".into()),
                ("date_of_birth".into(), "1985-02-03".into()),
            ])
            .expect("subject");
        let r3 = s.new_record("pda", &subject).expect("screener's record");
        s.set_answer(&r3, "weight_kg", "70", None).expect("weight");
        r3
    };
    let pushed = sync(&d2);
    assert!(
        pushed.pushed_changes > 0,
        "{}: the screener's new record is accepted",
        backend.name
    );
    sync(&d1);
    let (c1, _) = answers_and_conflicts(&d1, &r3);
    assert_eq!(c1["weight_kg"], json!(70));
    server.stop();
}

#[test]
fn three_devices_converge_on_sqlite() {
    scenario(sqlite());
}

#[test]
fn three_devices_converge_on_postgres() {
    scenario(postgres());
}
