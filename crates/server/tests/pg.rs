//! A throwaway PostgreSQL cluster: `initdb` and `pg_ctl` as the `postgres` user (via
//! `runuser` when the tests run as root), a free loopback port, a temporary folder,
//! stopped on drop. If it cannot start the test fails and says why: nothing is
//! skipped.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Postgres {
    dir: tempfile::TempDir,
    pub port: u16,
    bin: PathBuf,
}

fn bin_dir() -> PathBuf {
    for v in ["17", "16", "15", "14", "13"] {
        let p = PathBuf::from(format!("/usr/lib/postgresql/{v}/bin"));
        if p.join("pg_ctl").exists() {
            return p;
        }
    }
    panic!("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/pg_ctl); run scripts/install-deps.sh or `apt-get install -y postgresql`");
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn as_postgres(bin: &Path, tool: &str, args: &[&str]) -> std::process::Output {
    let exe = bin.join(tool);
    let out = if is_root() {
        Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(&exe)
            .args(args)
            .output()
    } else {
        Command::new(&exe).args(args).output()
    };
    out.unwrap_or_else(|e| panic!("cannot run {tool}: {e}"))
}

impl Postgres {
    pub fn start() -> Postgres {
        Self::start_with(None)
    }

    /// A cluster serving TLS (`ssl=on`) with this PEM certificate and key.
    #[allow(dead_code)] // the server's TLS tests use it; the hub's tests include this file too
    pub fn start_tls(cert_pem: &str, key_pem: &str) -> Postgres {
        Self::start_with(Some((cert_pem, key_pem)))
    }

    fn start_with(tls: Option<(&str, &str)>) -> Postgres {
        let bin = bin_dir();
        let dir = tempfile::Builder::new()
            .prefix("tern-pg-")
            .tempdir()
            .expect("temp dir");
        if is_root() {
            let ok = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .map(|s| s.success())
                .unwrap_or(false);
            assert!(
                ok,
                "cannot give {} to the postgres user",
                dir.path().display()
            );
        }
        let data = dir.path().join("data");
        let data_s = data.to_string_lossy().to_string();
        let out = as_postgres(
            &bin,
            "initdb",
            &["-D", &data_s, "-A", "trust", "-U", "postgres", "--no-sync"],
        );
        assert!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut ssl = String::new();
        if let Some((cert, key)) = tls {
            for (name, pem) in [("server.crt", cert), ("server.key", key)] {
                let f = data.join(name);
                std::fs::write(&f, pem).expect("write TLS file");
                #[cfg(unix)]
                {
                    use std::os::unix::fs::PermissionsExt;
                    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600))
                        .expect("chmod");
                }
                if is_root() {
                    let ok = Command::new("chown")
                        .args(["postgres:postgres"])
                        .arg(&f)
                        .status()
                        .map(|s| s.success())
                        .unwrap_or(false);
                    assert!(ok, "cannot give {} to the postgres user", f.display());
                }
            }
            ssl = " -c ssl=on -c ssl_cert_file=server.crt -c ssl_key_file=server.key".into();
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("free port");
        let opts = format!(
            "-p {port} -h 127.0.0.1 -k {} -c fsync=off -c max_connections=300{ssl}",
            dir.path().display()
        );
        let log = dir.path().join("log").to_string_lossy().to_string();
        let out = as_postgres(
            &bin,
            "pg_ctl",
            &[
                "-D", &data_s, "-o", &opts, "-l", &log, "-w", "-t", "60", "start",
            ],
        );
        assert!(
            out.status.success(),
            "PostgreSQL did not start: {} {}",
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(dir.path().join("log")).unwrap_or_default()
        );
        Postgres { dir, port, bin }
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let data = self.dir.path().join("data").to_string_lossy().to_string();
        let _ = as_postgres(
            &self.bin,
            "pg_ctl",
            &["-D", &data, "-m", "immediate", "-w", "stop"],
        );
    }
}
