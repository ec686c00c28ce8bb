//! The PostgreSQL backend (tokio-postgres with a deadpool pool). Every operation is
//! one statement or one transaction; nothing lives in the process between calls, so
//! several replicas can share one database. Sequence numbers come from a counter row
//! locked by the writing transaction (`FOR UPDATE`), so they increase in commit order
//! and a reader's cursor never skips a change that commits later.

pub(crate) mod schema;

use crate::db::*;
use crate::enrolment::{hub_link, EnrolmentCode, HubLink, KnownDevice};
use deadpool_postgres::{ManagerConfig, Pool, RecyclingMethod};
use std::collections::HashSet;

/// Most rows one pull reads before cutting the page.
const PULL_ROWS: i64 = 4096;
/// Rows fetched per query while filling a pull page.
const PULL_BATCH: usize = 256;

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

/// Adds sites to an account; refuses an unknown site.
async fn add_account_sites(
    tx: &impl deadpool_postgres::GenericClient,
    account: &str,
    sites: &[String],
) -> DbResult<()> {
    for s in sites {
        if tx
            .query_opt("SELECT 1 FROM sites WHERE name = $1", &[s])
            .await?
            .is_none()
        {
            return Err(DbError::NotFound(format!(
                "no site `{s}`; add it with `tern admin site add {s}`"
            )));
        }
        tx.execute(
            "INSERT INTO account_sites(account, site) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[&account, s],
        )
        .await?;
    }
    Ok(())
}

async fn enrolment_row(
    c: &impl deadpool_postgres::GenericClient,
    code_hash: &str,
    lock: bool,
) -> DbResult<Option<EnrolmentCode>> {
    let sql = format!(
        "SELECT site, account, expires_ms, used_by IS NOT NULL FROM enrolments
         WHERE code_hash = $1{}",
        if lock { " FOR UPDATE" } else { "" }
    );
    Ok(c.query_opt(&sql, &[&code_hash])
        .await?
        .map(|row| EnrolmentCode {
            site: row.get(0),
            account: row.get(1),
            expires_ms: row.get(2),
            used: row.get(3),
        }))
}

async fn sites_of(
    c: &impl deadpool_postgres::GenericClient,
    account: &str,
) -> DbResult<Vec<String>> {
    let rows = c
        .query(
            "SELECT site FROM account_sites WHERE account = $1 ORDER BY site",
            &[&account],
        )
        .await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

const DEVICE_SELECT: &str = "SELECT d.id, d.site, d.account, a.role, d.revoked
    FROM devices d JOIN accounts a ON a.name = d.account";

fn device_row(r: &tokio_postgres::Row) -> Device {
    Device {
        id: r.get(0),
        site: r.get(1),
        account: r.get(2),
        role: r.get(3),
        revoked: r.get(4),
    }
}

const RECORD_SELECT: &str =
    "SELECT record_id, site, form_id, form_version, subject_id, status, conflict, created FROM records";

fn record_row(r: &tokio_postgres::Row) -> RecordRow {
    RecordRow {
        record_id: r.get(0),
        site: r.get(1),
        form_id: r.get(2),
        form_version: r.get(3),
        subject_id: r.get(4),
        status: r.get(5),
        conflict: r.get(6),
        created: r.get(7),
    }
}

impl Db for PgDb {
    async fn ping(&self) -> DbResult<()> {
        self.client().await?.execute("SELECT 1", &[]).await?;
        Ok(())
    }

    async fn add_site(&self, name: &str) -> DbResult<()> {
        let n = self
            .client()
            .await?
            .execute(
                "INSERT INTO sites(name) VALUES ($1) ON CONFLICT DO NOTHING",
                &[&name],
            )
            .await?;
        if n == 0 {
            return Err(DbError::Exists(format!("site `{name}`")));
        }
        Ok(())
    }

    async fn site_exists(&self, name: &str) -> DbResult<bool> {
        Ok(self
            .client()
            .await?
            .query_opt("SELECT 1 FROM sites WHERE name = $1", &[&name])
            .await?
            .is_some())
    }

    async fn add_account(&self, a: &Account) -> DbResult<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        let n = tx
            .execute(
                "INSERT INTO accounts(name, role, password_hash) VALUES ($1, $2, $3)
                 ON CONFLICT DO NOTHING",
                &[&a.name, &a.role, &a.password_hash],
            )
            .await?;
        if n == 0 {
            return Err(DbError::Exists(format!("user `{}`", a.name)));
        }
        add_account_sites(&tx, &a.name, &a.sites).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn change_account(
        &self,
        name: &str,
        role: Option<&str>,
        add_sites: &[String],
    ) -> DbResult<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        if tx
            .query_opt(
                "SELECT 1 FROM accounts WHERE name = $1 FOR UPDATE",
                &[&name],
            )
            .await?
            .is_none()
        {
            return Err(DbError::NotFound(format!("no user `{name}`")));
        }
        if let Some(role) = role {
            tx.execute(
                "UPDATE accounts SET role = $2 WHERE name = $1",
                &[&name, &role],
            )
            .await?;
        }
        add_account_sites(&tx, name, add_sites).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn accounts(&self) -> DbResult<Vec<AccountInfo>> {
        let c = self.client().await?;
        let rows = c
            .query("SELECT name, role FROM accounts ORDER BY name", &[])
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let name: String = r.get(0);
            out.push(AccountInfo {
                sites: sites_of(&c, &name).await?,
                role: r.get(1),
                name,
            });
        }
        Ok(out)
    }

    async fn account(&self, name: &str) -> DbResult<Option<Account>> {
        let c = self.client().await?;
        let Some(row) = c
            .query_opt(
                "SELECT role, password_hash FROM accounts WHERE name = $1",
                &[&name],
            )
            .await?
        else {
            return Ok(None);
        };
        Ok(Some(Account {
            name: name.into(),
            role: row.get(0),
            password_hash: row.get(1),
            sites: sites_of(&c, name).await?,
        }))
    }

    async fn add_enrolment(
        &self,
        code_hash: &str,
        site: &str,
        account: Option<&str>,
        expires_ms: i64,
    ) -> DbResult<()> {
        let c = self.client().await?;
        if c.query_opt("SELECT 1 FROM sites WHERE name = $1", &[&site])
            .await?
            .is_none()
        {
            return Err(DbError::NotFound(format!("no site `{site}`")));
        }
        c.execute(
            "INSERT INTO enrolments(code_hash, site, account, expires_ms) VALUES ($1, $2, $3, $4)",
            &[&code_hash, &site, &account, &expires_ms],
        )
        .await?;
        Ok(())
    }

    async fn enrolment(&self, code_hash: &str) -> DbResult<Option<EnrolmentCode>> {
        let c = self.client().await?;
        enrolment_row(&c, code_hash, false).await
    }

    async fn redeem(&self, r: &Redeem) -> DbResult<Redeemed> {
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        let code = enrolment_row(&tx, &r.code_hash, true).await?;
        let account = crate::enrolment::enrolling_account(code.as_ref(), &r.account, r.now_ms)
            .map_err(|e| DbError::Refused(e.to_string()))?;
        let site = code.map(|c| c.site).unwrap_or_default();
        let mut unknown = Vec::new();
        for user in &r.users {
            let works = tx
                .query_opt(
                    "SELECT 1 FROM account_sites WHERE account = $1 AND site = $2",
                    &[user, &site],
                )
                .await?;
            if works.is_none() {
                unknown.push(user.clone());
            }
        }
        if !unknown.is_empty() {
            return Err(crate::db::unknown_local_users(&site, &unknown));
        }
        let Some(role) = tx
            .query_opt("SELECT role FROM accounts WHERE name = $1", &[&account])
            .await?
        else {
            return Err(DbError::Refused(format!(
                "no server account `{account}` for this device's user; an admin adds it with `tern admin user add`"
            )));
        };
        let role: String = role.get(0);
        if !sites_of(&tx, &account).await?.contains(&site) {
            return Err(DbError::Refused(format!(
                "account `{account}` does not work at site `{site}`"
            )));
        }
        tx.execute(
            "UPDATE enrolments SET used_by = $2 WHERE code_hash = $1",
            &[&r.code_hash, &r.device_id],
        )
        .await?;
        match tx
            .execute(
                "INSERT INTO devices(id, site, account, token_hash) VALUES ($1, $2, $3, $4)",
                &[&r.device_id, &site, &account, &r.token_hash],
            )
            .await
        {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => {
                return Err(DbError::Refused(
                    "this device is already enrolled (or was revoked); enrol a new store".into(),
                ))
            }
            Err(e) => return Err(e.into()),
        }
        tx.execute(
            "INSERT INTO device_accounts(device_id, account, proven_ms) VALUES ($1, $2, $3)
             ON CONFLICT DO NOTHING",
            &[&r.device_id, &account, &r.now_ms],
        )
        .await?;
        tx.commit().await?;
        Ok(Redeemed {
            account,
            role,
            site,
        })
    }

    async fn bind_account(&self, device: &str, account: &str, at_ms: i64) -> DbResult<()> {
        self.client()
            .await?
            .execute(
                "INSERT INTO device_accounts(device_id, account, proven_ms) VALUES ($1, $2, $3)
                 ON CONFLICT DO NOTHING",
                &[&device, &account, &at_ms],
            )
            .await?;
        Ok(())
    }

    async fn bound_accounts(&self, device: &str) -> DbResult<Vec<String>> {
        let rows = self
            .client()
            .await?
            .query(
                "SELECT account FROM device_accounts WHERE device_id = $1 ORDER BY account",
                &[&device],
            )
            .await?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    async fn device_by_token(&self, token_hash: &str) -> DbResult<Option<Device>> {
        let row = self
            .client()
            .await?
            .query_opt(
                &format!("{DEVICE_SELECT} WHERE d.token_hash = $1"),
                &[&token_hash],
            )
            .await?;
        Ok(row.as_ref().map(device_row))
    }

    async fn devices_by_id(&self, ids: &[String]) -> DbResult<Vec<Device>> {
        let rows = self
            .client()
            .await?
            .query(&format!("{DEVICE_SELECT} WHERE d.id = ANY($1)"), &[&ids])
            .await?;
        Ok(rows.iter().map(device_row).collect())
    }

    async fn revoke(&self, id: &str) -> DbResult<bool> {
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        let n = tx
            .execute("UPDATE devices SET revoked = TRUE WHERE id = $1", &[&id])
            .await?;
        // A revoked device's escrowed key is handed to nobody again.
        tx.execute("DELETE FROM restricted_keys WHERE device_id = $1", &[&id])
            .await?;
        tx.commit().await?;
        Ok(n > 0)
    }

    async fn escrow_restricted_key(&self, key: &EscrowedKey, at_ms: i64) -> DbResult<String> {
        let c = self.client().await?;
        c.execute(
            "INSERT INTO restricted_keys(device_id, public, secret, escrowed_ms)
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            &[&key.device, &key.public, &key.secret.as_str(), &at_ms],
        )
        .await?;
        Ok(c.query_one(
            "SELECT public FROM restricted_keys WHERE device_id = $1",
            &[&key.device],
        )
        .await?
        .get(0))
    }

    async fn escrowed_restricted_key(&self, device: &str) -> DbResult<Option<EscrowedKey>> {
        Ok(self
            .client()
            .await?
            .query_opt(
                "SELECT public, secret FROM restricted_keys WHERE device_id = $1",
                &[&device],
            )
            .await?
            .map(|r| EscrowedKey {
                device: device.to_string(),
                public: r.get(0),
                secret: zeroize::Zeroizing::new(r.get(1)),
            }))
    }

    async fn devices(&self) -> DbResult<Vec<DeviceRow>> {
        let rows = self
            .client()
            .await?
            .query(
                "SELECT id, site, account, last_sync, revoked, via_hub FROM devices ORDER BY id",
                &[],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| DeviceRow {
                id: r.get(0),
                site: r.get(1),
                user: r.get(2),
                last_sync: r.get(3),
                revoked: r.get(4),
                via_hub: r.get(5),
            })
            .collect())
    }

    async fn register_hub_device(
        &self,
        hub: &str,
        device: &str,
        site: &str,
        account: &str,
    ) -> DbResult<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        let known = tx
            .query_opt(
                "SELECT via_hub, revoked,
                        EXISTS(SELECT 1 FROM device_accounts
                               WHERE device_id = $1 AND account = $2)
                 FROM devices WHERE id = $1 FOR UPDATE",
                &[&device, &account],
            )
            .await?
            .map(|r| KnownDevice {
                via_hub: r.get(0),
                revoked: r.get(1),
                account_bound: r.get(2),
            });
        match hub_link(known.as_ref(), hub, device, account)
            .map_err(|e| DbError::Refused(e.to_string()))?
        {
            HubLink::Register => {
                let token = format!("via-hub:{device}");
                tx.execute(
                    "INSERT INTO devices(id, site, account, token_hash, via_hub)
                     VALUES ($1, $2, $3, $4, $5)",
                    &[&device, &site, &account, &token, &hub],
                )
                .await?;
            }
            HubLink::Link => {
                tx.execute(
                    "UPDATE devices SET via_hub = $2 WHERE id = $1",
                    &[&device, &hub],
                )
                .await?;
            }
            HubLink::Already => {}
        }
        tx.commit().await?;
        Ok(())
    }

    async fn hub_devices(&self, hub: &str) -> DbResult<Vec<(String, bool)>> {
        let rows = self
            .client()
            .await?
            .query(
                "SELECT id, revoked FROM devices WHERE via_hub = $1 ORDER BY id",
                &[&hub],
            )
            .await?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    async fn chunks_after(&self, seq: i64, origin: &str) -> DbResult<i64> {
        Ok(self
            .client()
            .await?
            .query_one(
                "SELECT count(*) FROM log WHERE seq > $1 AND origin != $2
                 AND kind IN ('record', 'restricted', 'subject')",
                &[&seq, &origin],
            )
            .await?
            .get(0))
    }

    async fn set_password_hash(&self, name: &str, hash: &str) -> DbResult<()> {
        let n = self
            .client()
            .await?
            .execute(
                "UPDATE accounts SET password_hash = $2 WHERE name = $1",
                &[&name, &hash],
            )
            .await?;
        if n == 0 {
            return Err(DbError::NotFound(format!("no account `{name}`")));
        }
        Ok(())
    }

    async fn setting(&self, key: &str) -> DbResult<Option<String>> {
        Ok(self
            .client()
            .await?
            .query_opt("SELECT value FROM settings WHERE key = $1", &[&key])
            .await?
            .map(|r| r.get(0)))
    }

    async fn set_setting(&self, key: &str, value: &str) -> DbResult<()> {
        self.client()
            .await?
            .execute(
                "INSERT INTO settings(key, value) VALUES ($1, $2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                &[&key, &value],
            )
            .await?;
        Ok(())
    }

    async fn touch_device(&self, id: &str, at: &str, audit: Option<&AuditEntry>) -> DbResult<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        tx.execute(
            "UPDATE devices SET last_sync = $2 WHERE id = $1",
            &[&id, &at],
        )
        .await?;
        if let Some(e) = audit {
            tx.execute(
                "INSERT INTO access_log(at, actor, role, device, site, action, object)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                &[
                    &e.at, &e.actor, &e.role, &e.device, &e.site, &e.action, &e.object,
                ],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn login_failures(&self, key: &str, since_ms: i64) -> DbResult<i64> {
        let row = self
            .client()
            .await?
            .query_one(
                "SELECT count(*) FROM login_failures WHERE key = $1 AND at_ms >= $2",
                &[&key, &since_ms],
            )
            .await?;
        Ok(row.get(0))
    }

    async fn note_login_failure(&self, key: &str, at_ms: i64) -> DbResult<()> {
        let c = self.client().await?;
        c.execute(
            "INSERT INTO login_failures(key, at_ms) VALUES ($1, $2)",
            &[&key, &at_ms],
        )
        .await?;
        c.execute(
            "DELETE FROM login_failures WHERE at_ms < $1",
            &[&(at_ms - 24 * 3600 * 1000)],
        )
        .await?;
        Ok(())
    }

    async fn add_session(&self, token_hash: &str, account: &str, expires_ms: i64) -> DbResult<()> {
        self.client()
            .await?
            .execute(
                "INSERT INTO sessions(token_hash, account, expires_ms) VALUES ($1, $2, $3)",
                &[&token_hash, &account, &expires_ms],
            )
            .await?;
        // Ended sessions go (issue 13): every sign-in removes them.
        self.client()
            .await?
            .execute(
                "DELETE FROM sessions WHERE expires_ms < $1",
                &[&chrono::Utc::now().timestamp_millis()],
            )
            .await?;
        Ok(())
    }

    async fn session(&self, token_hash: &str, now_ms: i64) -> DbResult<Option<String>> {
        let row = self
            .client()
            .await?
            .query_opt(
                "SELECT account FROM sessions WHERE token_hash = $1 AND expires_ms > $2",
                &[&token_hash, &now_ms],
            )
            .await?;
        Ok(row.map(|r| r.get(0)))
    }

    async fn doc_pending(&self, doc_id: &str) -> DbResult<bool> {
        let row = self
            .client()
            .await?
            .query_opt(
                "SELECT last_seq > verified_seq FROM docs WHERE doc_id = $1",
                &[&doc_id],
            )
            .await?;
        Ok(row.is_some_and(|r| r.get(0)))
    }

    async fn end_session(&self, token_hash: &str) -> DbResult<()> {
        self.client()
            .await?
            .execute("DELETE FROM sessions WHERE token_hash = $1", &[&token_hash])
            .await?;
        Ok(())
    }

    async fn touch_session(&self, token_hash: &str, expires_ms: i64) -> DbResult<()> {
        self.client()
            .await?
            .execute(
                "UPDATE sessions SET expires_ms = $2 WHERE token_hash = $1 AND expires_ms < $2",
                &[&token_hash, &expires_ms],
            )
            .await?;
        Ok(())
    }

    async fn verified_seq(&self, doc_id: &str) -> DbResult<i64> {
        let row = self
            .client()
            .await?
            .query_opt(
                "SELECT verified_seq FROM docs WHERE doc_id = $1",
                &[&doc_id],
            )
            .await?;
        Ok(row.map_or(0, |r| r.get(0)))
    }

    async fn forget_login_failure(&self, key: &str, at_ms: i64) -> DbResult<()> {
        self.client()
            .await?
            .execute(
                "DELETE FROM login_failures WHERE ctid IN \
                 (SELECT ctid FROM login_failures WHERE key = $1 AND at_ms = $2 LIMIT 1)",
                &[&key, &at_ms],
            )
            .await?;
        Ok(())
    }

    async fn audit(&self, e: &AuditEntry) -> DbResult<()> {
        self.client()
            .await?
            .execute(
                "INSERT INTO access_log(at, actor, role, device, site, action, object)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                &[
                    &e.at, &e.actor, &e.role, &e.device, &e.site, &e.action, &e.object,
                ],
            )
            .await?;
        Ok(())
    }

    async fn audit_list(&self, sites: Option<&[String]>, limit: i64) -> DbResult<Vec<AuditEntry>> {
        let c = self.client().await?;
        let rows = match sites {
            None => {
                c.query(
                    "SELECT at, actor, role, device, site, action, object FROM access_log
                     ORDER BY id DESC LIMIT $1",
                    &[&limit],
                )
                .await?
            }
            Some(s) => {
                c.query(
                    "SELECT at, actor, role, device, site, action, object FROM access_log
                     WHERE site = ANY($2) ORDER BY id DESC LIMIT $1",
                    &[&limit, &s],
                )
                .await?
            }
        };
        Ok(rows
            .iter()
            .map(|r| AuditEntry {
                at: r.get(0),
                actor: r.get(1),
                role: r.get(2),
                device: r.get(3),
                site: r.get(4),
                action: r.get(5),
                object: r.get(6),
            })
            .collect())
    }

    async fn doc_meta(&self, ids: &[String]) -> DbResult<Vec<(String, String, String)>> {
        let rows = self
            .client()
            .await?
            .query(
                "SELECT doc_id, kind, site FROM docs WHERE doc_id = ANY($1)",
                &[&ids],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect())
    }

    async fn store_changes(&self, origin: &str, docs: &[NewDoc]) -> DbResult<u64> {
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        // The row lock orders writers: sequence numbers increase in commit order.
        let seq: i64 = tx
            .query_one(
                "SELECT value FROM counter WHERE name = 'seq' FOR UPDATE",
                &[],
            )
            .await?
            .get(0);
        let hashes: Vec<&[u8]> = docs
            .iter()
            .flat_map(|d| d.changes.iter().map(|(h, _)| &h[..]))
            .collect();
        // Stored already: the same chunk of the same document (a byte-identical chunk
        // of another document is that document's own).
        let existing: HashSet<(String, Vec<u8>)> = tx
            .query(
                "SELECT doc_id, hash FROM log WHERE hash = ANY($1)",
                &[&hashes],
            )
            .await?
            .iter()
            .map(|r| (r.get::<_, String>(0), r.get::<_, Vec<u8>>(1)))
            .collect();
        let mut seen: HashSet<(&str, &[u8])> = HashSet::new();
        let (mut seqs, mut ids, mut kinds, mut sites, mut hs, mut bytes) =
            (vec![], vec![], vec![], vec![], vec![], vec![]);
        let (mut doc_ids, mut doc_kinds, mut doc_sites, mut doc_last) =
            (vec![], vec![], vec![], vec![]);
        let mut doc_index: std::collections::HashMap<&str, usize> =
            std::collections::HashMap::new();
        let mut next = seq;
        for d in docs {
            let before = next;
            for (h, b) in &d.changes {
                if existing.contains(&(d.doc_id.clone(), h.to_vec()))
                    || !seen.insert((d.doc_id.as_str(), &h[..]))
                {
                    continue;
                }
                next += 1;
                seqs.push(next);
                ids.push(d.doc_id.as_str());
                kinds.push(d.kind.as_str());
                sites.push(d.site.as_str());
                hs.push(&h[..]);
                bytes.push(b.as_slice());
            }
            if next > before {
                // A document may come in several runs: one row each, the last seq.
                match doc_index.get(d.doc_id.as_str()) {
                    Some(&i) => doc_last[i] = next,
                    None => {
                        doc_index.insert(d.doc_id.as_str(), doc_ids.len());
                        doc_ids.push(d.doc_id.as_str());
                        doc_kinds.push(d.kind.as_str());
                        doc_sites.push(d.site.as_str());
                        doc_last.push(next);
                    }
                }
            }
        }
        if next > seq {
            tx.execute(
                "INSERT INTO log(seq, doc_id, kind, site, hash, bytes, origin)
                 SELECT s, d, k, si, h, b, $7 FROM UNNEST($1::bigint[], $2::text[], $3::text[],
                   $4::text[], $5::bytea[], $6::bytea[]) AS t(s, d, k, si, h, b)",
                &[&seqs, &ids, &kinds, &sites, &hs, &bytes, &origin],
            )
            .await?;
            tx.execute(
                "INSERT INTO docs(doc_id, kind, site, last_seq)
                 SELECT d, k, s, l FROM UNNEST($1::text[], $2::text[], $3::text[], $4::bigint[])
                   AS t(d, k, s, l)
                 ON CONFLICT (doc_id) DO UPDATE SET last_seq = GREATEST(docs.last_seq, EXCLUDED.last_seq)",
                &[&doc_ids, &doc_kinds, &doc_sites, &doc_last],
            )
            .await?;
            tx.execute("UPDATE counter SET value = $1 WHERE name = 'seq'", &[&next])
                .await?;
        }
        tx.commit().await?;
        Ok((next - seq) as u64)
    }

    async fn pull(&self, scope: &Scope, cursor: i64, max_bytes: usize) -> DbResult<Pulled> {
        let mut c = self.client().await?;
        let tx = c
            .build_transaction()
            .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await?;
        let stored: i64 = tx
            .query_one("SELECT value FROM counter WHERE name = 'seq'", &[])
            .await?
            .get(0);
        // First the sequence numbers in scope, from the (site, seq) index: rows of
        // other sites are never read. Then the rows, a batch at a time, until the
        // page is full. Forms and configuration are stored for site `*`.
        let mut sites = scope.sites.clone();
        sites.push("*".into());
        let first: Option<i64> = tx
            .query_one(
                "SELECT MIN((SELECT MIN(l.seq) FROM log l
                    WHERE l.doc_id = d.doc_id AND l.seq > d.verified_seq AND l.origin <> $1))
                 FROM docs d
                 WHERE d.last_seq > d.verified_seq AND d.kind IN ('record', 'restricted', 'subject')
                   AND d.site = ANY($2)",
                &[&scope.exclude_origin, &sites],
            )
            .await?
            .get(0);
        let head = verified_head(stored, first);
        let seqs: Vec<i64> = tx
            .query(
                "SELECT seq FROM log
                 WHERE site = ANY($4) AND seq > $1 AND seq <= $2 AND NOT quarantined
                   AND origin <> $3 AND (kind <> 'restricted' OR $5)
                 ORDER BY seq LIMIT $6",
                &[
                    &cursor,
                    &head,
                    &scope.exclude_origin,
                    &sites,
                    &scope.restricted,
                    &PULL_ROWS,
                ],
            )
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
        let mut items = Vec::new();
        let mut size = 0usize;
        let mut more = seqs.len() as i64 >= PULL_ROWS;
        'page: for batch in seqs.chunks(PULL_BATCH) {
            let rows = tx
                .query(
                    "SELECT l.seq, l.doc_id, l.kind, l.site, l.bytes,
                            CASE WHEN d.verified_seq >= d.last_seq THEN d.summary END
                     FROM log l LEFT JOIN docs d ON d.doc_id = l.doc_id
                     WHERE l.seq = ANY($1) ORDER BY l.seq",
                    &[&batch],
                )
                .await?;
            for r in &rows {
                let bytes: Vec<u8> = r.get(4);
                if !items.is_empty() && size + bytes.len() > max_bytes {
                    more = true;
                    break 'page;
                }
                size += bytes.len();
                items.push(LogItem {
                    seq: r.get(0),
                    doc_id: r.get(1),
                    kind: r.get(2),
                    site: r.get(3),
                    bytes,
                    summary: r.get(5),
                });
            }
        }
        tx.commit().await?;
        let cursor = if more {
            items.last().map_or(cursor, |i| i.seq)
        } else {
            head.max(cursor)
        };
        Ok(Pulled {
            items,
            cursor,
            more,
            head,
            waiting: head < stored,
        })
    }

    async fn unverified(&self, limit: i64) -> DbResult<Vec<Unverified>> {
        let rows = self
            .client()
            .await?
            .query(
                "SELECT doc_id, kind, site, last_seq, verified_seq FROM docs WHERE last_seq > verified_seq
                 AND kind IN ('record', 'restricted', 'subject') LIMIT $1",
                &[&limit],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| Unverified {
                doc_id: r.get(0),
                kind: r.get(1),
                site: r.get(2),
                upto: r.get(3),
                verified: r.get(4),
            })
            .collect())
    }

    async fn doc_changes(&self, doc_id: &str, upto: i64) -> DbResult<Vec<Vec<u8>>> {
        let rows = self
            .client()
            .await?
            .query(
                "SELECT bytes FROM log WHERE doc_id = $1 AND seq <= $2 AND NOT quarantined ORDER BY seq",
                &[&doc_id, &upto],
            )
            .await?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    async fn docs_chunks(&self, docs: &[(String, i64, i64)]) -> DbResult<Vec<Vec<Vec<u8>>>> {
        let c = self.client().await?;
        let stmt = c
            .prepare_cached(
                "SELECT bytes FROM log WHERE doc_id = $1 AND seq > $2 AND seq <= $3 AND NOT quarantined
                 ORDER BY seq",
            )
            .await?;
        let mut out = Vec::with_capacity(docs.len());
        for (id, after, upto) in docs {
            let rows = c.query(&stmt, &[id, after, upto]).await?;
            out.push(rows.iter().map(|r| r.get(0)).collect());
        }
        Ok(out)
    }

    async fn verified(&self, done: &[Verified]) -> DbResult<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        for v in done {
            tx.execute(
                "UPDATE docs SET verified_seq = GREATEST(verified_seq, $2),
                   summary = CASE WHEN $2 >= verified_seq THEN $3 ELSE summary END
                 WHERE doc_id = $1",
                &[&v.doc_id, &v.upto, &v.summary],
            )
            .await?;
            if let Some(p) = &v.record {
                tx.execute(
                    "INSERT INTO records(record_id, site, form_id, form_version, subject_id, status, conflict, created)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                     ON CONFLICT (record_id) DO UPDATE SET site = $2, form_id = $3, form_version = $4,
                       subject_id = $5, status = $6, conflict = $7, created = $8",
                    &[&p.record_id, &p.site, &p.form_id, &p.form_version, &p.subject_id, &p.status, &p.conflict, &p.created],
                )
                .await?;
            }
            if let Some(f) = &v.facts {
                put_fact(&tx, f).await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    async fn quarantine(&self, doc_id: &str, upto: i64, reason: &str) -> DbResult<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        tx.execute(
            "UPDATE log SET quarantined = TRUE WHERE doc_id = $1 AND seq <= $2
             AND seq > (SELECT verified_seq FROM docs WHERE doc_id = $1)",
            &[&doc_id, &upto],
        )
        .await?;
        tx.execute(
            "UPDATE docs SET verified_seq = GREATEST(verified_seq, $2), quarantine_reason = $3
             WHERE doc_id = $1",
            &[&doc_id, &upto, &reason],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn quarantine_chunks(
        &self,
        doc_id: &str,
        hashes: &[[u8; 32]],
        reason: &str,
    ) -> DbResult<u64> {
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        let mut n = 0;
        for h in hashes {
            n += tx
                .execute(
                    "UPDATE log SET quarantined = TRUE WHERE doc_id = $1 AND hash = $2
                     AND seq > (SELECT verified_seq FROM docs WHERE doc_id = $1)",
                    &[&doc_id, &h.as_slice()],
                )
                .await?;
        }
        tx.execute(
            "UPDATE docs SET quarantine_reason = $2 WHERE doc_id = $1",
            &[&doc_id, &reason],
        )
        .await?;
        tx.commit().await?;
        Ok(n)
    }

    async fn quarantined(&self) -> DbResult<Vec<(String, String)>> {
        let rows = self
            .client()
            .await?
            .query(
                "SELECT doc_id, quarantine_reason FROM docs WHERE quarantine_reason IS NOT NULL ORDER BY doc_id",
                &[],
            )
            .await?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    async fn site_accounts(&self, sites: &[String]) -> DbResult<Vec<(String, String)>> {
        let rows = self
            .client()
            .await?
            .query(
                "SELECT DISTINCT a.name, a.role FROM accounts a
                 JOIN account_sites s ON s.account = a.name
                 WHERE s.site = ANY($1) ORDER BY a.name",
                &[&sites],
            )
            .await?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    async fn backlog(&self) -> DbResult<Backlog> {
        let r = self
            .client()
            .await?
            .query_one(
                "SELECT (SELECT value FROM counter WHERE name = 'seq'),
                        (SELECT count(*) FROM docs WHERE kind IN ('record', 'restricted', 'subject')),
                        (SELECT count(*) FROM records),
                        (SELECT count(*) FROM docs WHERE last_seq > verified_seq
                           AND kind IN ('record', 'restricted', 'subject')),
                        (SELECT count(*) FROM docs WHERE quarantine_reason IS NOT NULL)",
                &[],
            )
            .await?;
        Ok(Backlog {
            head: r.get(0),
            documents: r.get(1),
            records: r.get(2),
            unverified: r.get(3),
            quarantined: r.get(4),
        })
    }

    async fn record(&self, id: &str) -> DbResult<Option<RecordRow>> {
        let row = self
            .client()
            .await?
            .query_opt(&format!("{RECORD_SELECT} WHERE record_id = $1"), &[&id])
            .await?;
        Ok(row.as_ref().map(record_row))
    }

    async fn subject_summaries(
        &self,
        ids: &[String],
    ) -> DbResult<std::collections::HashMap<String, String>> {
        let rows = self
            .client()
            .await?
            .query(
                "SELECT doc_id, summary FROM docs WHERE kind = 'subject' AND summary IS NOT NULL
                 AND doc_id = ANY($1)",
                &[&ids],
            )
            .await?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    async fn verified_records(&self) -> DbResult<Vec<(String, i64)>> {
        let rows = self
            .client()
            .await?
            .query(
                "SELECT doc_id, verified_seq FROM docs WHERE kind = 'record' AND verified_seq > 0
                 ORDER BY doc_id",
                &[],
            )
            .await?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    async fn put_facts(&self, rows: &[crate::facts::FactsRow]) -> DbResult<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        for f in rows {
            put_fact(&tx, f).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn facts(&self, f: &crate::db::FactsFilter) -> DbResult<Vec<crate::facts::FactsRow>> {
        let rows = self
            .client()
            .await?
            .query(
                "SELECT report::text FROM record_facts
                 WHERE ($1::text[] IS NULL OR site = ANY($1))
                   AND ($2::text IS NULL OR encounter_date >= $2) AND ($3::text IS NULL OR encounter_date <= $3)
                   AND ($4::text IS NULL OR site = $4) AND ($5::text IS NULL OR form_id = $5)
                 ORDER BY encounter_date, record_id",
                &[&f.sites, &f.from, &f.until, &f.site, &f.form],
            )
            .await?;
        rows.iter()
            .map(|r| {
                serde_json::from_str(r.get::<_, &str>(0)).map_err(|e| {
                    DbError::Task(format!(
                        "a record_facts row does not read ({e}): run `tern admin reproject`"
                    ))
                })
            })
            .collect()
    }

    async fn report_counts(
        &self,
        report: &str,
        f: &crate::db::FactsFilter,
    ) -> DbResult<Vec<(String, i64)>> {
        let sql = format!(
            "SELECT key, sum(n)::bigint FROM report_counts WHERE report = $1 AND {PARTS_FILTER}
             GROUP BY key"
        );
        let rows = self
            .client()
            .await?
            .query(
                &sql,
                &[&report, &f.sites, &f.from, &f.until, &f.site, &f.form],
            )
            .await?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    async fn report_tally(
        &self,
        report: &str,
        f: &crate::db::FactsFilter,
        now: &str,
    ) -> DbResult<crate::reports::Tally> {
        let sql = format!(
            "SELECT count(*), count(*) FILTER (WHERE stale_from <= $7) FROM report_lines
             WHERE report = $1 AND {PARTS_FILTER} AND listed_from <= $7"
        );
        let row = self
            .client()
            .await?
            .query_one(
                &sql,
                &[&report, &f.sites, &f.from, &f.until, &f.site, &f.form, &now],
            )
            .await?;
        let n = |i: usize| usize::try_from(row.get::<_, i64>(i)).unwrap_or(0);
        Ok(crate::reports::Tally {
            listed: n(0),
            stale: n(1),
        })
    }

    async fn report_lines(
        &self,
        report: &str,
        f: &crate::db::FactsFilter,
        page: Option<&crate::reports::Page>,
    ) -> DbResult<Vec<(crate::reports::Head, String)>> {
        let select = format!(
            "SELECT record_id, subject_id, site, form_id, encounter_date, created, status, body
             FROM report_lines WHERE report = $1 AND {PARTS_FILTER}"
        );
        let client = self.client().await?;
        let rows = match page {
            None => {
                client
                    .query(
                        &format!("{select} ORDER BY encounter_date, record_id"),
                        &[&report, &f.sites, &f.from, &f.until, &f.site, &f.form],
                    )
                    .await?
            }
            Some(p) => {
                let sql = format!(
                    "{select} AND listed_from <= $7 ORDER BY {}encounter_date, record_id
                     LIMIT $8",
                    if p.urgent_first { "urgency, " } else { "" }
                );
                let limit = i64::try_from(p.limit).unwrap_or(i64::MAX);
                client
                    .query(
                        &sql,
                        &[
                            &report, &f.sites, &f.from, &f.until, &f.site, &f.form, &p.now, &limit,
                        ],
                    )
                    .await?
            }
        };
        Ok(rows
            .iter()
            .map(|r| {
                (
                    crate::reports::Head {
                        record: r.get(0),
                        subject: r.get(1),
                        site: r.get(2),
                        form: r.get(3),
                        day: r.get(4),
                        created: r.get(5),
                        status: r.get(6),
                    },
                    r.get(7),
                )
            })
            .collect())
    }

    async fn report_parts_missing(&self, version: &str) -> DbResult<bool> {
        let row = self
            .client()
            .await?
            .query_one(
                "SELECT EXISTS(SELECT 1 FROM record_facts)
                   AND coalesce((SELECT value FROM settings WHERE key = $1), '') <> $2",
                &[&crate::reports::PARTS_SETTING, &version],
            )
            .await?;
        Ok(row.get(0))
    }

    async fn records(&self, sites: Option<&[String]>) -> DbResult<Vec<RecordRow>> {
        let c = self.client().await?;
        let rows = match sites {
            None => {
                c.query(&format!("{RECORD_SELECT} ORDER BY record_id"), &[])
                    .await?
            }
            Some(s) => {
                c.query(
                    &format!("{RECORD_SELECT} WHERE site = ANY($1) ORDER BY record_id"),
                    &[&s],
                )
                .await?
            }
        };
        Ok(rows.iter().map(record_row).collect())
    }

    // ------------------------------------------------ quarantine review (crate::quarantine)

    async fn quarantine_review(
        &self,
        sites: Option<&[String]>,
        doc: Option<&str>,
    ) -> DbResult<Vec<crate::quarantine::Quarantined>> {
        let sites: Option<Vec<String>> = sites.map(<[String]>::to_vec);
        let rows = self
            .client()
            .await?
            .query(
                "SELECT d.doc_id, d.kind, d.site, d.quarantine_reason, l.bytes
                 FROM docs d JOIN log l ON l.doc_id = d.doc_id
                 WHERE d.quarantine_reason IS NOT NULL AND l.quarantined
                   AND ($1::text[] IS NULL OR d.site = ANY($1))
                   AND ($2::text IS NULL OR d.doc_id = $2)
                   AND NOT EXISTS (SELECT 1 FROM quarantine_decisions q
                       WHERE q.doc_id = l.doc_id AND q.hash = l.hash AND q.decision = 'rejected')
                 ORDER BY d.doc_id, l.seq",
                &[&sites, &doc],
            )
            .await?;
        let mut out: Vec<crate::quarantine::Quarantined> = Vec::new();
        for r in &rows {
            let doc_id: String = r.get(0);
            let bytes: Vec<u8> = r.get(4);
            match out.last_mut() {
                Some(q) if q.doc_id == doc_id => q.chunks.push(bytes),
                _ => out.push(crate::quarantine::Quarantined {
                    doc_id,
                    kind: r.get(1),
                    site: r.get(2),
                    reason: r.get(3),
                    chunks: vec![bytes],
                }),
            }
        }
        Ok(out)
    }

    async fn decide_quarantine(
        &self,
        doc_id: &str,
        decision: &crate::quarantine::Decision,
        audit: &AuditEntry,
    ) -> DbResult<u64> {
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        // One decision at a time per document.
        tx.execute(
            "SELECT 1 FROM docs WHERE doc_id = $1 FOR UPDATE",
            &[&doc_id],
        )
        .await?;
        let waiting: Vec<(i64, Vec<u8>)> = tx
            .query(
                "SELECT seq, hash FROM log l WHERE doc_id = $1 AND quarantined
                   AND NOT EXISTS (SELECT 1 FROM quarantine_decisions q
                       WHERE q.doc_id = l.doc_id AND q.hash = l.hash AND q.decision = 'rejected')
                 ORDER BY seq",
                &[&doc_id],
            )
            .await?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        if waiting.is_empty() {
            return Err(DbError::NotFound(format!(
                "no quarantined changes of document `{doc_id}` wait for a decision"
            )));
        }
        let d = decision;
        for (_, hash) in &waiting {
            tx.execute(
                "INSERT INTO quarantine_decisions(doc_id, hash, decision, actor, reason, at)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (doc_id, hash) DO UPDATE SET decision = $3, actor = $4,
                   reason = $5, at = $6",
                &[&doc_id, hash, &d.choice.mark(), &d.actor, &d.why, &d.at],
            )
            .await?;
        }
        if d.choice == crate::quarantine::Choice::Release {
            // New sequence numbers past the head, under the counter's row lock (commit
            // order): devices whose cursors passed the old ones pull them, and no
            // verified sequence moves back.
            let mut seq: i64 = tx
                .query_one(
                    "SELECT value FROM counter WHERE name = 'seq' FOR UPDATE",
                    &[],
                )
                .await?
                .get(0);
            for (old, _) in &waiting {
                seq += 1;
                tx.execute(
                    "UPDATE log SET seq = $1, quarantined = FALSE WHERE seq = $2",
                    &[&seq, old],
                )
                .await?;
            }
            tx.execute("UPDATE counter SET value = $1 WHERE name = 'seq'", &[&seq])
                .await?;
            tx.execute(
                "UPDATE docs SET last_seq = GREATEST(last_seq, $2), quarantine_reason = NULL
                 WHERE doc_id = $1",
                &[&doc_id, &seq],
            )
            .await?;
        } else {
            tx.execute(
                "UPDATE docs SET quarantine_reason = NULL WHERE doc_id = $1",
                &[&doc_id],
            )
            .await?;
        }
        let e = audit;
        tx.execute(
            "INSERT INTO access_log(at, actor, role, device, site, action, object)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                &e.at, &e.actor, &e.role, &e.device, &e.site, &e.action, &e.object,
            ],
        )
        .await?;
        tx.commit().await?;
        Ok(waiting.len() as u64)
    }

    async fn released_chunks(&self, doc_ids: &[String]) -> DbResult<Vec<(String, [u8; 32])>> {
        let rows = self
            .client()
            .await?
            .query(
                "SELECT doc_id, hash FROM quarantine_decisions
                 WHERE decision = 'released' AND doc_id = ANY($1)",
                &[&doc_ids],
            )
            .await?;
        Ok(rows
            .iter()
            .filter_map(|r| {
                let hash: Vec<u8> = r.get(1);
                Some((r.get(0), <[u8; 32]>::try_from(hash.as_slice()).ok()?))
            })
            .collect())
    }
}

/// The filter of a report parts query: `$2` the caller's sites, `$3`..`$4` the days,
/// `$5` a site, `$6` a form.
const PARTS_FILTER: &str = "encounter_date >= coalesce($3::text, '')
    AND encounter_date <= coalesce($4::text, '~')
    AND ($2::text[] IS NULL OR site = ANY($2))
    AND ($5::text IS NULL OR site = $5) AND ($6::text IS NULL OR form_id = $6)";

/// Writes one `record_facts` row and what the record gives the reports
/// (`report_counts`, `report_lines`), replacing what it gave before.
async fn put_fact(
    tx: &deadpool_postgres::Transaction<'_>,
    f: &crate::facts::FactsRow,
) -> DbResult<()> {
    let json = |r: &crate::facts::FactsRow| {
        serde_json::to_string(r).map_err(|e| DbError::Task(e.to_string()))
    };
    let compact = crate::facts::report_view(f);
    let (row, report) = (json(f)?, json(&compact)?);
    let parts = crate::reports::parts_of(&compact);
    let names: Vec<&str> = parts.counts.iter().map(|c| c.0).collect();
    let keys: Vec<&str> = parts.counts.iter().map(|c| c.1.as_str()).collect();
    let ns: Vec<i64> = parts.counts.iter().map(|c| c.2).collect();
    let reports: Vec<&str> = parts.lines.iter().map(|l| l.report()).collect();
    // parts_of writes no line that is never listed; "~" would keep one off.
    let listed: Vec<String> = parts
        .lines
        .iter()
        .map(|l| l.listed_from().unwrap_or_else(|| "~".into()))
        .collect();
    let stale: Vec<Option<String>> = parts.lines.iter().map(|l| l.stale_from()).collect();
    let urgency: Vec<String> = parts.lines.iter().map(|l| l.urgency()).collect();
    let bodies = parts
        .lines
        .iter()
        .map(|l| serde_json::to_string(&l.body))
        .collect::<Result<Vec<String>, _>>()
        .map_err(|e| DbError::Task(e.to_string()))?;
    // Two pipelined round trips: what the record gave before goes (and its facts
    // row is written), then what it gives now.
    tokio::try_join!(
        async {
            tx.execute(
                "DELETE FROM report_counts WHERE record_id = $1",
                &[&f.record_id],
            )
            .await
        },
        async {
            tx.execute(
                "DELETE FROM report_lines WHERE record_id = $1",
                &[&f.record_id],
            )
            .await
        },
        async {
            tx.execute(
                "INSERT INTO record_facts(record_id, site, form_id, encounter_date, row, report)
             VALUES ($1, $2, $3, $4, $5::text::jsonb, $6::text::jsonb)
             ON CONFLICT (record_id) DO UPDATE SET site = $2, form_id = $3, encounter_date = $4,
               row = $5::text::jsonb, report = $6::text::jsonb",
                &[
                    &f.record_id,
                    &f.site,
                    &f.form_id,
                    &f.encounter_date,
                    &row,
                    &report,
                ],
            )
            .await
        },
    )?;
    tokio::try_join!(
        async {
            tx.execute(
            "INSERT INTO report_counts(report, encounter_date, site, form_id, record_id, key, n)
             SELECT r, $5, $6, $7, $1, k, n
             FROM unnest($2::text[], $3::text[], $4::bigint[]) AS u(r, k, n)",
            &[&f.record_id, &names, &keys, &ns, &f.encounter_date, &f.site, &f.form_id],
        ).await
        },
        async {
            tx.execute(
                "INSERT INTO report_lines(report, encounter_date, record_id, site, form_id,
               subject_id, status, created, body, listed_from, stale_from, urgency)
             SELECT r, $2, $3, $4, $5, $6, $7, $8, b, l, s, g
             FROM unnest($1::text[], $9::text[], $10::text[], $11::text[], $12::text[])
               AS u(r, b, l, s, g)",
                &[
                    &reports,
                    &f.encounter_date,
                    &f.record_id,
                    &f.site,
                    &f.form_id,
                    &f.subject_id,
                    &f.status,
                    &f.created,
                    &bodies,
                    &listed,
                    &stale,
                    &urgency,
                ],
            )
            .await
        },
    )?;
    Ok(())
}
