//! Numbered schema migrations on PostgreSQL (crate::migrate): each step recorded
//! once, replicas connecting together run it once, a database of a newer tern is
//! refused. (SQLite's are unit tests of `tern_server::sqlite::schema`.)

use crate::common::pg_client;
use tern_server::admin::Admin;
use tern_server::Storage;

#[test]
fn postgres_records_each_step_once_and_refuses_a_newer_database() {
    let pg = crate::pg::Postgres::start();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let versions = || -> Vec<i32> {
        rt.block_on(async {
            let client = pg_client(&pg.url()).await;
            client
                .query(
                    "SELECT version FROM schema_migrations ORDER BY version",
                    &[],
                )
                .await
                .expect("versions")
                .iter()
                .map(|r| r.get(0))
                .collect()
        })
    };
    // Several replicas at once: each step runs once.
    let opened: Vec<_> = (0..3)
        .map(|_| {
            let url = pg.url();
            std::thread::spawn(move || Admin::open(&Storage::Url(url)).map(drop))
        })
        .collect();
    for t in opened {
        t.join().expect("thread").expect("open");
    }
    let latest = versions();
    assert!(!latest.is_empty());
    assert_eq!(latest, (1..=latest.len() as i32).collect::<Vec<_>>());
    drop(Admin::open(&Storage::Url(pg.url())).expect("reopen"));
    assert_eq!(versions(), latest, "nothing more on reopening");

    let newer = latest.len() as i32 + 1;
    rt.block_on(async {
        let client = pg_client(&pg.url()).await;
        client
            .execute(
                "INSERT INTO schema_migrations(version, name, applied_at)
                 VALUES ($1, 'from the future', '2099-01-01T00:00:00Z')",
                &[&newer],
            )
            .await
            .expect("a newer step");
    });
    let err = Admin::open(&Storage::Url(pg.url())).expect_err("newer");
    assert!(
        err.to_string().contains(&format!(
            "this database was made by a newer tern (schema version {newer}, this tern knows {}); \
             update tern",
            newer - 1
        )),
        "{err}"
    );
}
