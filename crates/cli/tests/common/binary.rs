//! Running the real `tern` binary with a given environment (and no `TERN_USER` from
//! the caller's), shared by the bundle and hub contract tests.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};

const TERN: &str = env!("CARGO_BIN_EXE_tern");

/// The demo supervisor's account, as every command reads it.
pub const SUPERVISOR: [(&str, &str); 2] =
    [("TERN_USER", "chen"), ("TERN_PASSWORD", "account-pass-1")];

/// Runs `tern` to its end.
pub fn run(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut c = Command::new(TERN);
    c.args(args).env_remove("TERN_USER").stdin(Stdio::null());
    for (k, v) in envs {
        c.env(k, v);
    }
    c.output().expect("run tern")
}

/// Starts a long-running `tern` command and reads `n` stdout lines.
pub fn spawn(args: &[&str], envs: &[(&str, &str)], n: usize) -> (Child, Vec<String>) {
    let mut c = Command::new(TERN);
    c.args(args)
        .env_remove("TERN_USER")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (k, v) in envs {
        c.env(k, v);
    }
    let mut child = c.spawn().expect("spawn");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let got = (0..n)
        .map(|_| lines.next().expect("a line").expect("utf8"))
        .collect();
    (child, got)
}
