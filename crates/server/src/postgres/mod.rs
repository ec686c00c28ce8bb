//! The PostgreSQL backend (tokio-postgres with a deadpool pool). Every operation is
//! one statement or one transaction; nothing lives in the process between calls, so
//! several replicas can share one database. Sequence numbers come from a counter row
//! locked by the writing transaction (`FOR UPDATE`), so they increase in commit order
//! and a reader's cursor never skips a change that commits later.
//!
//! This file connects (the pool, [`schema`]'s migrations) and holds the one
//! `impl Db`, which hands each operation to the file of its concern: [`accounts`],
//! [`log`], [`verify`], [`reports`].

mod accounts;
mod log;
mod reports;
pub(crate) mod schema;
mod verify;

use crate::db::*;
use crate::enrolment::{hub_link, EnrolmentCode, HubLink, KnownDevice};
use deadpool_postgres::{ManagerConfig, Pool, RecyclingMethod};
use std::collections::HashSet;

/// The PostgreSQL backend.
#[derive(Clone)]
pub struct PgDb {
    pool: Pool,
}

impl std::fmt::Debug for PgDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PgDb")
    }
}

/// The pool's error with its causes (a refused TLS handshake says why).
fn pool_err(e: impl std::error::Error) -> DbError {
    let mut message = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        message.push_str(": ");
        message.push_str(&c.to_string());
        cause = c.source();
    }
    DbError::Pool(message)
}

impl PgDb {
    /// Connects and creates the schema when missing (under an advisory lock, so
    /// replicas starting together do not race).
    pub async fn connect(url: &str) -> DbResult<PgDb> {
        // TLS when the URL asks for it (crate::pg_tls).
        let manager = crate::pg_tls::manager(
            url,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        )?;
        let pool = Pool::builder(manager)
            .max_size(16)
            .build()
            .map_err(pool_err)?;
        let db = PgDb { pool };
        schema::migrate(&mut db.client().await?).await?;
        Ok(db)
    }

    pub(crate) async fn client(&self) -> DbResult<deadpool_postgres::Object> {
        self.pool.get().await.map_err(pool_err)
    }
}

fn is_unique_violation(e: &tokio_postgres::Error) -> bool {
    e.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION)
}

// Each operation is written in the module of its concern ([`accounts`], [`log`],
// [`verify`], [`reports`]); the one `impl Db` hands it on.
crate::db::delegate_db!(PgDb);
