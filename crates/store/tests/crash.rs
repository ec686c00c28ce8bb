//! Crash safety: a child process writes answers and acknowledges each one after the
//! store returned (the save is durable); the parent SIGKILLs it at random moments,
//! then checks that every acknowledged save is there and the database is sound.
//! The child is this test binary itself, run with `TERN_CRASH_CHILD` set.

use crate::common::*;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Duration;
use tern_store::{Role, Store};

const KILLS: usize = 20;

/// The writer. Does nothing unless started by `writes_survive_sigkill`.
#[test]
fn crash_child_writer() {
    let Ok(db) = std::env::var("TERN_CRASH_CHILD") else {
        return;
    };
    let record = std::env::var("TERN_CRASH_RECORD").expect("record");
    let start: usize = std::env::var("TERN_CRASH_START")
        .expect("start")
        .parse()
        .expect("n");
    let mut store = Store::open(std::path::Path::new(&db), None, PASSWORD).expect("open");
    let mut out = std::io::stdout().lock();
    writeln!(out, "ready").expect("stdout");
    out.flush().expect("flush");
    for i in start.. {
        store
            .set_answer(
                &record,
                &format!("current_meds[{i}].med_name"),
                &format!("m{i}"),
                None,
            )
            .expect("set");
        writeln!(out, "{i}").expect("stdout");
        out.flush().expect("flush");
        if i % 25 == 24 {
            store.compact(20).expect("compact");
        }
    }
}

#[test]
fn writes_survive_sigkill() {
    let dir = tempfile::tempdir().expect("tmp");
    let (mut store, db) = init(dir.path(), "amina", Role::Clinician);
    let subj = subject(&mut store);
    let record = store.new_record("pda", &subj).expect("record");
    drop(store);
    let exe = std::env::current_exe().expect("exe");
    let mut acked: Option<usize> = None;
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..KILLS {
        let start = acked.map_or(0, |a| a + 1);
        let mut child = Command::new(&exe)
            .args([
                "--exact",
                "crash::crash_child_writer",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("TERN_CRASH_CHILD", &db)
            .env("TERN_CRASH_RECORD", &record)
            .env("TERN_CRASH_START", start.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        // Wait until the child has the store open, then let it write a while.
        loop {
            match rx.recv_timeout(Duration::from_secs(60)) {
                Ok(l) if l.ends_with("ready") => break,
                Ok(_) => continue,
                Err(e) => panic!("child never became ready: {e}"),
            }
        }
        // Let it acknowledge one save at least (however loaded the machine), then
        // write a random while more.
        loop {
            match rx.recv_timeout(Duration::from_secs(60)) {
                Ok(l) => {
                    if let Ok(n) = l.parse::<usize>() {
                        acked = Some(acked.map_or(n, |a| a.max(n)));
                        break;
                    }
                }
                Err(e) => panic!("the child acknowledged no save: {e}"),
            }
        }
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        std::thread::sleep(Duration::from_millis(20 + seed % 150));
        child.kill().expect("SIGKILL");
        let _ = child.wait();
        let _ = reader.join();
        for line in rx.try_iter() {
            if let Ok(n) = line.parse::<usize>() {
                acked = Some(acked.map_or(n, |a| a.max(n)));
            }
        }
        // Every acknowledged save is there; the database is sound.
        let mut s = Store::open(&db, None, PASSWORD).expect("reopen after kill");
        assert_eq!(s.integrity_check().expect("check"), "ok");
        let view = s.show(&record).expect("show");
        let meds = view
            .answers
            .get("current_meds")
            .and_then(|v| v.as_array())
            .cloned()
            .unwrap_or_default();
        if let Some(a) = acked {
            assert!(
                meds.len() > a,
                "acknowledged {a} but only {} present",
                meds.len()
            );
            for (i, m) in meds.iter().enumerate().take(a + 1) {
                assert_eq!(
                    m["med_name"],
                    serde_json::json!(format!("m{i}")),
                    "instance {i}"
                );
            }
            // A save may be durable but unacknowledged (killed before printing).
            acked = Some(meds.len() - 1);
        }
    }
    assert!(
        acked.is_some_and(|a| a + 1 >= KILLS),
        "the child wrote too little: {acked:?}"
    );
}
