//! The server serves the supervisor dashboard (`--dashboard DIR`, a UI build) from
//! the API's origin: the page and its hashed assets with a strict content policy,
//! nothing else from the folder, and a missing build refuses to start.

use crate::common::*;
use tern_server::ServeConfig;

fn ui_build(dir: &std::path::Path) {
    std::fs::create_dir_all(dir.join("assets")).expect("assets");
    std::fs::write(
        dir.join("dashboard.html"),
        "<!doctype html><title>d</title>",
    )
    .expect("page");
    std::fs::write(dir.join("index.html"), "the field app").expect("app");
    std::fs::write(dir.join("secret.txt"), "not served").expect("other");
    std::fs::write(dir.join("assets/dashboard-C9oy.js"), "export {}").expect("js");
    std::fs::write(dir.join("assets/font-U_i0.woff2"), [0u8, 1, 2]).expect("font");
}

#[test]
fn the_dashboard_is_served_with_a_strict_policy_and_nothing_else() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dist = tmp.path().join("dist");
    ui_build(&dist);
    let server = TestServer::start_config(ServeConfig {
        dashboard: Some(dist),
        ..config(&tern_server::Storage::Dir(tmp.path().join("server")))
    });
    let client = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let get = |path: &str| {
        client
            .get(format!("{}{path}", server.url()))
            .send()
            .expect("request")
    };
    let root = get("/");
    assert!(root.status().is_redirection(), "{}", root.status());
    assert_eq!(root.headers()["location"], "/dashboard.html");

    let page = get("/dashboard.html");
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    let policy = page.headers()["content-security-policy"]
        .to_str()
        .expect("ascii")
        .to_string();
    assert!(
        policy.contains("script-src 'self'") && policy.contains("connect-src 'self'"),
        "{policy}"
    );
    assert_eq!(page.headers()["x-content-type-options"], "nosniff");
    assert!(page.text().expect("body").contains("<title>d</title>"));

    let js = get("/assets/dashboard-C9oy.js");
    assert_eq!(js.status(), 200);
    assert_eq!(
        js.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
    assert!(js.headers()["cache-control"]
        .to_str()
        .expect("ascii")
        .contains("immutable"));
    assert_eq!(
        get("/assets/font-U_i0.woff2").headers()["content-type"],
        "font/woff2"
    );

    for path in [
        "/index.html",
        "/secret.txt",
        "/assets/../secret.txt",
        "/assets/%2e%2e%2fsecret.txt",
        "/assets/missing.js",
    ] {
        assert_eq!(get(path).status(), 404, "{path}");
    }
    // The API is still there, beside it.
    assert_eq!(get("/healthz").status(), 200);
    server.stop();
}

#[test]
fn without_a_ui_build_the_server_refuses_to_start_and_says_why() {
    let tmp = tempfile::tempdir().expect("tmp");
    let started = runtime().block_on(tern_server::start(ServeConfig {
        storage: tern_server::Storage::Dir(tmp.path().join("server")),
        listen: "127.0.0.1:0".parse().expect("addr"),
        tls: None,
        demo: false,
        dashboard: Some(tmp.path().join("no-such-dist")),
        upstream: None,
        tls_pem: None,
        limits: Default::default(),
    }));
    let Err(e) = started else {
        panic!("started without a dashboard build");
    };
    assert!(e.to_string().contains("npm --prefix ui run build"), "{e}");
}

/// What the dashboard needs beside the records: a form view to label answers with,
/// and a sign-out that ends the session on the server.
#[test]
fn the_dashboard_reads_form_views_and_signs_out_on_the_server() {
    let backend = sqlite();
    let server = TestServer::start(&backend.storage);
    let _admin = accounts(&backend.storage);
    let url = server.url();
    let token = login(&url, "chen");

    let (status, view) = get(&url, "/v1/forms/pda/1.0.0?lang=ar", &token);
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["form_id"], "pda");
    assert_eq!(view["direction"], "rtl");
    assert!(view["sections"].as_array().is_some_and(|s| !s.is_empty()));
    let (status, english) = get(&url, "/v1/forms/pda/1.0.0", &token);
    assert_eq!((status, english["language"].as_str()), (200, Some("en")));
    let (status, missing) = get(&url, "/v1/forms/nope/9.9.9", &token);
    assert_eq!(status, 404, "{missing}");
    assert!(missing["message"]
        .as_str()
        .unwrap_or_default()
        .contains("nope"));
    assert_eq!(get(&url, "/v1/forms/pda/1.0.0", "not-a-token").0, 401);

    let client = reqwest::blocking::Client::new();
    let out = client
        .post(format!("{url}/v1/logout"))
        .bearer_auth(&token)
        .send()
        .expect("logout");
    assert_eq!(out.status(), 204);
    assert_eq!(
        get(&url, "/v1/records", &token).0,
        401,
        "the session ended on the server"
    );
    let again = client
        .post(format!("{url}/v1/logout"))
        .bearer_auth(&token)
        .send()
        .expect("logout");
    assert_eq!(again.status(), 401);
    server.stop();
}

/// The workflow from the dashboard: the moves offered are the table's, a clinician
/// signs, a supervisor locks, a screener is refused, and the device gets the lock.
fn moves_from_the_dashboard(backend: Backend) {
    let Scene {
        server,
        admin,
        url,
        tmp,
    } = Scene::start(&backend);
    let dev = device(tmp.path(), &admin, &url, "amina", "site-a");
    let record = {
        let mut s = open(&dev);
        let r = crate::answers::arr_t1_record(&mut s);
        crate::answers::complete_arr_t1(&mut s, &r);
        s.set_status(&r, "submitted", None).expect("submit");
        r
    };
    sync(&dev);
    let (amina, bilal, chen) = (
        login(&url, "amina"),
        login(&url, "bilal"),
        login(&url, "chen"),
    );
    let path = format!("/v1/records/{record}/status");
    let moves = |v: &serde_json::Value| -> Vec<String> {
        v["status_moves"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|m| m["to"].as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };

    let seen = wait_for_status(&url, &chen, &record, "submitted");
    assert_eq!(moves(&seen), ["returned"], "{}", backend.name);
    assert_eq!(moves(&server_view(&url, &amina, &record)), ["reviewed"]);
    let (status, body) = post(&url, &path, &chen, serde_json::json!({"to": "locked"}));
    assert_eq!(
        status, 409,
        "{}: a submitted record is not locked: {body}",
        backend.name
    );
    let (status, body) = post(&url, &path, &chen, serde_json::json!({"to": "returned"}));
    assert_eq!(
        status, 400,
        "{}: a return needs a comment: {body}",
        backend.name
    );
    let (status, _) = post(&url, &path, &amina, serde_json::json!({"to": "submitted"}));
    assert_eq!(status, 400, "submitting stays on the devices");
    let (status, body) = post(&url, &path, &amina, serde_json::json!({"to": "reviewed"}));
    assert_eq!(status, 200, "{}: {body}", backend.name);
    // Answered once verified: the next read shows the move.
    let seen = server_view(&url, &chen, &record);
    assert_eq!(seen["record"]["status"], "reviewed", "{}", backend.name);
    assert_eq!(moves(&seen), ["locked", "returned"]);
    let (status, body) = post(&url, &path, &bilal, serde_json::json!({"to": "locked"}));
    assert_eq!(
        status, 403,
        "{}: a screener does not lock: {body}",
        backend.name
    );
    let (status, body) = post(&url, &path, &chen, serde_json::json!({"to": "locked"}));
    assert_eq!(status, 200, "{}: {body}", backend.name);
    assert!(moves(&wait_for_status(&url, &chen, &record, "locked")).is_empty());
    assert!(
        admin.quarantined().expect("quarantined").is_empty(),
        "the verifier accepted both"
    );

    // The daily activity report counts it on the day it was started, by status.
    let (status, report) = get(&url, "/v1/reports/activity?days=7", &chen);
    assert_eq!(status, 200, "{report}");
    let created = server_view(&url, &chen, &record)["record"]["created"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let today = created.get(..10).unwrap_or_default();
    assert!(
        report["days"]
            .as_array()
            .is_some_and(|d| d.iter().any(|x| x == today)),
        "{report}"
    );
    let row = &report["rows"][0];
    assert_eq!(
        (row["day"].as_str(), row["form_id"].as_str()),
        (Some(today), Some("arr_t1")),
        "{report}"
    );
    assert_eq!(row["by_status"]["locked"], 1, "{report}");
    assert_eq!(row["total"], 1);
    assert_eq!(get(&url, "/v1/reports/activity", "nope").0, 401);
    // The device that synced is not listed as quiet; one enrolled and never synced is.
    let _silent = device(tmp.path(), &admin, &url, "bilal", "site-a");
    let (_, report) = get(&url, "/v1/reports/activity", &chen);
    let quiet = report["quiet_devices"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(quiet.len(), 1, "{report}");
    assert_eq!(
        (quiet[0]["user"].as_str(), quiet[0]["hours"].is_null()),
        (Some("bilal"), true)
    );

    // The device gets the lock: its changes are amendments from now on.
    sync(&dev);
    let mut s = open(&dev);
    assert_eq!(s.show(&record).expect("show").status, "locked");
    assert!(s.record_info(&record).expect("info").amendment);
    drop(s);
    server.stop();
}

#[test]
fn moves_from_the_dashboard_on_sqlite() {
    moves_from_the_dashboard(sqlite());
}

#[test]
fn moves_from_the_dashboard_on_postgres() {
    moves_from_the_dashboard(postgres());
}
