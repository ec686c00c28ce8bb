//! Integration tests of the server and the sync protocol (one binary: fast links).
//! Every scenario runs against embedded SQLite and against a real PostgreSQL that the
//! test starts itself (initdb/pg_ctl on a free loopback port in a temporary folder).
//! Network traffic goes to 127.0.0.1 only; every loop is bounded.

#[path = "../../store/tests/answers.rs"]
mod answers;
mod common;
mod pg;
mod pg_tls;

mod account_picks;
mod adversary;
mod authz;
mod convergence;
mod dashboard;
mod enrolment;
mod exports;
mod fuzz_corpus;
mod identical_chunks;
mod inputs;
mod migrations;
mod pull_horizon;
mod reports;
mod resume;
mod sealing;
mod tls;
mod write_roles;
