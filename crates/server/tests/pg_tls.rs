//! TLS to PostgreSQL (issue 13, crate::pg_tls): a throwaway cluster with `ssl=on`
//! and a self-signed certificate for `localhost` (made here with rcgen). With that
//! certificate as `sslrootcert`, `verify-full` connects over TLS; another
//! certificate as root, or the public web PKI (`require` without a root file), is
//! refused; the host name is checked by `verify-full` and not by `verify-ca`.

use crate::pg::Postgres;
use tern_server::db::Db;
use tern_server::postgres::PgDb;

fn connect(url: &str) -> Result<(), String> {
    crate::common::runtime().block_on(async {
        let db = PgDb::connect(url).await.map_err(|e| e.to_string())?;
        db.ping().await.map_err(|e| e.to_string())
    })
}

/// Whether the server sees this connection as TLS (`pg_stat_ssl`).
fn is_tls(url: &str) -> bool {
    crate::common::runtime().block_on(async {
        let manager =
            tern_server::pg_tls::manager(url, deadpool_postgres::ManagerConfig::default())
                .expect("manager");
        let pool = deadpool_postgres::Pool::builder(manager)
            .max_size(1)
            .build()
            .expect("pool");
        let client = pool.get().await.expect("connected");
        client
            .query_one(
                "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
                &[],
            )
            .await
            .expect("pg_stat_ssl")
            .get(0)
    })
}

#[test]
fn postgres_over_tls_checks_the_certificate() {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).expect("certificate");
    let pg = Postgres::start_tls(&cert.cert.pem(), &cert.signing_key.serialize_pem());
    let tmp = tempfile::tempdir().expect("tmp");
    let ca = tmp.path().join("ca.pem");
    std::fs::write(&ca, cert.cert.pem()).expect("write ca");
    let other = rcgen::generate_simple_self_signed(vec!["localhost".into()]).expect("certificate");
    let wrong = tmp.path().join("wrong.pem");
    std::fs::write(&wrong, other.cert.pem()).expect("write wrong ca");
    let url = |host: &str, mode: &str, root: Option<&std::path::Path>| {
        let root = root.map_or(String::new(), |r| format!("&sslrootcert={}", r.display()));
        format!(
            "postgres://postgres@{host}:{}/postgres?sslmode={mode}{root}",
            pg.port
        )
    };

    let good = url("localhost", "verify-full", Some(&ca));
    connect(&good).expect("verify-full with the server's certificate as root");
    assert!(is_tls(&good), "the connection is encrypted");
    // The schema was created over TLS; a second replica connects the same way.
    connect(&good).expect("again");

    let e = connect(&url("localhost", "verify-full", Some(&wrong))).expect_err("wrong root");
    assert!(e.to_lowercase().contains("certificate"), "{e}");
    let e = connect(&url("localhost", "require", None)).expect_err("not in the web PKI");
    assert!(e.to_lowercase().contains("certificate"), "{e}");

    // The name: 127.0.0.1 is not in the certificate.
    let e = connect(&url("127.0.0.1", "verify-full", Some(&ca))).expect_err("wrong name");
    assert!(e.to_lowercase().contains("certificate"), "{e}");
    let chain_only = url("127.0.0.1", "verify-ca", Some(&ca));
    connect(&chain_only).expect("verify-ca checks the chain only");
    assert!(is_tls(&chain_only));
    let e = connect(&url("127.0.0.1", "verify-ca", Some(&wrong))).expect_err("wrong root");
    assert!(e.to_lowercase().contains("certificate"), "{e}");

    // No sslmode: as before, no TLS (a database on this host).
    let plain = format!("postgres://postgres@127.0.0.1:{}/postgres", pg.port);
    connect(&plain).expect("plain");
    assert!(!is_tls(&plain));
}
