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

/// Each operation is written in the module of its concern ([`accounts`], [`log`],
/// [`verify`], [`reports`]); this impl hands it on.
impl Db for PgDb {
    async fn ping(&self) -> DbResult<()> {
        accounts::ping(self).await
    }

    async fn add_site(&self, name: &str) -> DbResult<()> {
        accounts::add_site(self, name).await
    }

    async fn site_exists(&self, name: &str) -> DbResult<bool> {
        accounts::site_exists(self, name).await
    }

    async fn add_account(&self, a: &Account) -> DbResult<()> {
        accounts::add_account(self, a).await
    }

    async fn change_account(
        &self,
        name: &str,
        role: Option<&str>,
        add_sites: &[String],
    ) -> DbResult<()> {
        accounts::change_account(self, name, role, add_sites).await
    }

    async fn accounts(&self) -> DbResult<Vec<AccountInfo>> {
        accounts::accounts(self).await
    }

    async fn account(&self, name: &str) -> DbResult<Option<Account>> {
        accounts::account(self, name).await
    }

    async fn add_enrolment(
        &self,
        code_hash: &str,
        site: &str,
        account: Option<&str>,
        expires_ms: i64,
    ) -> DbResult<()> {
        accounts::add_enrolment(self, code_hash, site, account, expires_ms).await
    }

    async fn enrolment(&self, code_hash: &str) -> DbResult<Option<EnrolmentCode>> {
        accounts::enrolment(self, code_hash).await
    }

    async fn redeem(&self, r: &Redeem) -> DbResult<Redeemed> {
        accounts::redeem(self, r).await
    }

    async fn bind_account(&self, device: &str, account: &str, at_ms: i64) -> DbResult<()> {
        accounts::bind_account(self, device, account, at_ms).await
    }

    async fn bound_accounts(&self, device: &str) -> DbResult<Vec<String>> {
        accounts::bound_accounts(self, device).await
    }

    async fn device_by_token(&self, token_hash: &str) -> DbResult<Option<Device>> {
        accounts::device_by_token(self, token_hash).await
    }

    async fn devices_by_id(&self, ids: &[String]) -> DbResult<Vec<Device>> {
        accounts::devices_by_id(self, ids).await
    }

    async fn revoke(&self, id: &str) -> DbResult<bool> {
        accounts::revoke(self, id).await
    }

    async fn escrow_restricted_key(&self, key: &EscrowedKey, at_ms: i64) -> DbResult<String> {
        accounts::escrow_restricted_key(self, key, at_ms).await
    }

    async fn escrowed_restricted_key(&self, device: &str) -> DbResult<Option<EscrowedKey>> {
        accounts::escrowed_restricted_key(self, device).await
    }

    async fn devices(&self) -> DbResult<Vec<DeviceRow>> {
        accounts::devices(self).await
    }

    async fn register_hub_device(
        &self,
        hub: &str,
        device: &str,
        site: &str,
        account: &str,
    ) -> DbResult<()> {
        accounts::register_hub_device(self, hub, device, site, account).await
    }

    async fn hub_devices(&self, hub: &str) -> DbResult<Vec<(String, bool)>> {
        accounts::hub_devices(self, hub).await
    }

    async fn chunks_after(&self, seq: i64, origin: &str) -> DbResult<i64> {
        log::chunks_after(self, seq, origin).await
    }

    async fn set_password_hash(&self, name: &str, hash: &str) -> DbResult<()> {
        accounts::set_password_hash(self, name, hash).await
    }

    async fn setting(&self, key: &str) -> DbResult<Option<String>> {
        accounts::setting(self, key).await
    }

    async fn set_setting(&self, key: &str, value: &str) -> DbResult<()> {
        accounts::set_setting(self, key, value).await
    }

    async fn touch_device(&self, id: &str, at: &str, audit: Option<&AuditEntry>) -> DbResult<()> {
        accounts::touch_device(self, id, at, audit).await
    }

    async fn login_failures(&self, key: &str, since_ms: i64) -> DbResult<i64> {
        accounts::login_failures(self, key, since_ms).await
    }

    async fn note_login_failure(&self, key: &str, at_ms: i64) -> DbResult<()> {
        accounts::note_login_failure(self, key, at_ms).await
    }

    async fn add_session(&self, token_hash: &str, account: &str, expires_ms: i64) -> DbResult<()> {
        accounts::add_session(self, token_hash, account, expires_ms).await
    }

    async fn session(&self, token_hash: &str, now_ms: i64) -> DbResult<Option<String>> {
        accounts::session(self, token_hash, now_ms).await
    }

    async fn doc_pending(&self, doc_id: &str) -> DbResult<bool> {
        log::doc_pending(self, doc_id).await
    }

    async fn end_session(&self, token_hash: &str) -> DbResult<()> {
        accounts::end_session(self, token_hash).await
    }

    async fn touch_session(&self, token_hash: &str, expires_ms: i64) -> DbResult<()> {
        accounts::touch_session(self, token_hash, expires_ms).await
    }

    async fn verified_seq(&self, doc_id: &str) -> DbResult<i64> {
        log::verified_seq(self, doc_id).await
    }

    async fn forget_login_failure(&self, key: &str, at_ms: i64) -> DbResult<()> {
        accounts::forget_login_failure(self, key, at_ms).await
    }

    async fn audit(&self, e: &AuditEntry) -> DbResult<()> {
        accounts::audit(self, e).await
    }

    async fn audit_list(&self, sites: Option<&[String]>, limit: i64) -> DbResult<Vec<AuditEntry>> {
        accounts::audit_list(self, sites, limit).await
    }

    async fn doc_meta(&self, ids: &[String]) -> DbResult<Vec<(String, String, String)>> {
        log::doc_meta(self, ids).await
    }

    async fn store_changes(&self, origin: &str, docs: &[NewDoc]) -> DbResult<u64> {
        log::store_changes(self, origin, docs).await
    }

    async fn pull(&self, scope: &Scope, cursor: i64, max_bytes: usize) -> DbResult<Pulled> {
        log::pull(self, scope, cursor, max_bytes).await
    }

    async fn unverified(&self, limit: i64) -> DbResult<Vec<Unverified>> {
        verify::unverified(self, limit).await
    }

    async fn doc_changes(&self, doc_id: &str, upto: i64) -> DbResult<Vec<Vec<u8>>> {
        log::doc_changes(self, doc_id, upto).await
    }

    async fn docs_chunks(&self, docs: &[(String, i64, i64)]) -> DbResult<Vec<Vec<Vec<u8>>>> {
        log::docs_chunks(self, docs).await
    }

    async fn verified(&self, done: &[Verified]) -> DbResult<()> {
        verify::verified(self, done).await
    }

    async fn quarantine(&self, doc_id: &str, upto: i64, reason: &str) -> DbResult<()> {
        verify::quarantine(self, doc_id, upto, reason).await
    }

    async fn quarantine_chunks(
        &self,
        doc_id: &str,
        hashes: &[[u8; 32]],
        reason: &str,
    ) -> DbResult<u64> {
        verify::quarantine_chunks(self, doc_id, hashes, reason).await
    }

    async fn quarantined(&self) -> DbResult<Vec<(String, String)>> {
        verify::quarantined(self).await
    }

    async fn site_accounts(&self, sites: &[String]) -> DbResult<Vec<(String, String)>> {
        accounts::site_accounts(self, sites).await
    }

    async fn backlog(&self) -> DbResult<Backlog> {
        verify::backlog(self).await
    }

    async fn record(&self, id: &str) -> DbResult<Option<RecordRow>> {
        verify::record(self, id).await
    }

    async fn subject_summaries(
        &self,
        ids: &[String],
    ) -> DbResult<std::collections::HashMap<String, String>> {
        verify::subject_summaries(self, ids).await
    }

    async fn verified_records(&self) -> DbResult<Vec<(String, i64)>> {
        verify::verified_records(self).await
    }

    async fn put_facts(&self, rows: &[crate::facts::FactsRow]) -> DbResult<()> {
        verify::put_facts(self, rows).await
    }

    async fn facts(&self, f: &crate::db::FactsFilter) -> DbResult<Vec<crate::facts::FactsRow>> {
        verify::facts(self, f).await
    }

    async fn report_counts(
        &self,
        report: &str,
        f: &crate::db::FactsFilter,
    ) -> DbResult<Vec<(String, i64)>> {
        reports::report_counts(self, report, f).await
    }

    async fn report_tally(
        &self,
        report: &str,
        f: &crate::db::FactsFilter,
        now: &str,
    ) -> DbResult<crate::reports::Tally> {
        reports::report_tally(self, report, f, now).await
    }

    async fn report_lines(
        &self,
        report: &str,
        f: &crate::db::FactsFilter,
        page: Option<&crate::reports::Page>,
    ) -> DbResult<Vec<(crate::reports::Head, String)>> {
        reports::report_lines(self, report, f, page).await
    }

    async fn report_parts_missing(&self, version: &str) -> DbResult<bool> {
        reports::report_parts_missing(self, version).await
    }

    async fn records(&self, sites: Option<&[String]>) -> DbResult<Vec<RecordRow>> {
        verify::records(self, sites).await
    }

    // ------------------------------------------------ quarantine review (crate::quarantine)
    async fn quarantine_review(
        &self,
        sites: Option<&[String]>,
        doc: Option<&str>,
    ) -> DbResult<Vec<crate::quarantine::Quarantined>> {
        verify::quarantine_review(self, sites, doc).await
    }

    async fn decide_quarantine(
        &self,
        doc_id: &str,
        decision: &crate::quarantine::Decision,
        audit: &AuditEntry,
    ) -> DbResult<u64> {
        verify::decide_quarantine(self, doc_id, decision, audit).await
    }

    async fn released_chunks(&self, doc_ids: &[String]) -> DbResult<Vec<(String, [u8; 32])>> {
        verify::released_chunks(self, doc_ids).await
    }
}
