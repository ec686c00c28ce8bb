//! The embedded SQLite backend: one file `tern-server.db` in the data folder, WAL with
//! `synchronous=FULL`, one connection behind a mutex (SQLite has one writer anyway),
//! every call on the blocking pool so the async runtime never waits on the disk.
//!
//! Encrypted at rest (SQLCipher) with a random 256-bit key in a key file:
//! `TERN_SERVER_KEY_FILE`, or `tern-server.key` in the data folder (mode 0600,
//! created with the database). A copy of the database or a backup without the key
//! file reveals nothing; keep the key file on other storage (a secrets volume) to
//! protect against the theft of the data disk too. A database made before encryption
//! is encrypted in place the first time it is opened.
//! Sequence numbers come from a counter row updated in the writing transaction, so
//! they increase in commit order.

pub(crate) mod schema;

use crate::db::*;
use crate::enrolment::{hub_link, EnrolmentCode, HubLink, KnownDevice};
use rusqlite::{params, Connection, OptionalExtension};
use std::path::Path;
use std::sync::{Arc, Mutex};
use zeroize::Zeroizing;

/// Sequence numbers a pull considers at most per round trip (a pull page is cut by
/// bytes; this bounds the work of finding them).
const PULL_ROWS: i64 = 4096;

/// The SQLite backend.
#[derive(Debug, Clone)]
pub struct SqliteDb {
    conn: Arc<Mutex<Connection>>,
}

impl SqliteDb {
    /// Opens (or creates) `DIR/tern-server.db`, encrypted with the key file.
    pub fn open(dir: &Path) -> DbResult<SqliteDb> {
        Self::open_with(dir, None)
    }

    /// The database file of a data folder.
    pub fn path(dir: &Path) -> std::path::PathBuf {
        dir.join("tern-server.db")
    }

    /// Opens (or creates) `DIR/tern-server.db` with `key` (64 hex digits, e.g. a hub's,
    /// unwrapped with its supervisor's passphrase) instead of a key file.
    pub fn open_with(dir: &Path, key: Option<&str>) -> DbResult<SqliteDb> {
        std::fs::create_dir_all(dir)?;
        let path = Self::path(dir);
        // Key strings are wiped from memory when dropped (issue 13; SQLCipher keeps its
        // own copy of the key while the connection is open).
        let key: Zeroizing<String> = match key {
            Some(k) if k.len() == 64 && k.chars().all(|c| c.is_ascii_hexdigit()) => {
                Zeroizing::new(k.to_string())
            }
            Some(_) => return Err(DbError::Refused("a database key is 64 hex digits".into())),
            None => database_key(dir, &path)?,
        };
        if is_plaintext(&path)? {
            encrypt_in_place(&path, &key)?;
        }
        let mut conn = Connection::open(&path)?;
        let pragma = Zeroizing::new(format!("PRAGMA key = \"x'{}'\";", key.as_str()));
        conn.execute_batch(&pragma)?;
        if let Err(e) = conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
            r.get::<_, i64>(0)
        }) {
            return Err(DbError::Refused(format!(
                "{} cannot be read with key file {} ({e}): is it the key file of this database?",
                path.display(),
                key_file(dir).display()
            )));
        }
        conn.busy_timeout(std::time::Duration::from_secs(30))?;
        let _: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
        conn.execute_batch("PRAGMA synchronous=FULL;")?;
        schema::migrate(&mut conn)?;
        Ok(SqliteDb {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    pub(crate) async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> DbResult<T> + Send + 'static,
    ) -> DbResult<T> {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = conn
                .lock()
                .map_err(|_| DbError::Task("the database lock was poisoned".into()))?;
            f(&mut guard)
        })
        .await
        .map_err(|e| DbError::Task(e.to_string()))?
    }
}

/// Where the database key lives.
fn key_file(dir: &Path) -> std::path::PathBuf {
    std::env::var_os("TERN_SERVER_KEY_FILE")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| dir.join("tern-server.key"))
}

/// The database key (64 hex digits): read from the key file, or created with a new
/// database. A database without its key file is refused, never re-keyed.
fn database_key(dir: &Path, db: &Path) -> DbResult<Zeroizing<String>> {
    let file = key_file(dir);
    match std::fs::read_to_string(&file).map(Zeroizing::new) {
        Ok(text) => {
            check_private(&file)?;
            let key = Zeroizing::new(text.trim().to_string());
            if key.len() != 64 || !key.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(DbError::Refused(format!(
                    "{} is not a tern server key file (64 hex digits)",
                    file.display()
                )));
            }
            Ok(key)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if db.exists() && !is_plaintext(db)? {
                return Err(DbError::Refused(format!(
                    "{} is encrypted but its key file {} is missing: restore the key file \
                     (or set TERN_SERVER_KEY_FILE)",
                    db.display(),
                    file.display()
                )));
            }
            let mut raw = Zeroizing::new([0u8; 32]);
            getrandom::fill(raw.as_mut_slice())
                .map_err(|e| DbError::Refused(format!("no randomness for a key: {e}")))?;
            let key = Zeroizing::new(hex::encode(raw.as_slice()));
            write_private(&file, &key)?;
            Ok(key)
        }
        Err(e) => Err(e.into()),
    }
}

/// Refuses a key file that others than its owner may read or write (issue 13).
fn check_private(file: &Path) -> DbResult<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(file)?.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(DbError::Refused(format!(
                "the key file {} may be read by others (mode {:o}): make it private with \
                 `chmod 600 {}`, and consider the key exposed if others could log in here",
                file.display(),
                mode & 0o777,
                file.display()
            )));
        }
    }
    Ok(())
}

/// Writes a new file readable by its owner only, atomically and durably (the
/// file, then its folder, so the rename survives a power loss).
fn write_private(path: &Path, text: &str) -> DbResult<()> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let _ = std::fs::remove_file(&tmp);
    let mut f = options.open(&tmp)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)?;
    #[cfg(unix)]
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// Whether `path` is an unencrypted SQLite database (its plain header).
fn is_plaintext(path: &Path) -> DbResult<bool> {
    use std::io::Read;
    let mut head = [0u8; 16];
    match std::fs::File::open(path) {
        Ok(mut f) => Ok(f.read_exact(&mut head).is_ok() && &head == b"SQLite format 3\0"),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Encrypts a database made before encryption: exported into an encrypted copy,
/// which then replaces it (the plain file is gone once the rename is durable).
fn encrypt_in_place(path: &Path, key: &str) -> DbResult<()> {
    let tmp = path.with_extension("db.encrypting");
    let _ = std::fs::remove_file(&tmp);
    {
        let conn = Connection::open(path)?;
        conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
        let attach = Zeroizing::new(format!("ATTACH DATABASE ?1 AS encrypted KEY \"x'{key}'\""));
        conn.execute(&attach, [tmp.to_string_lossy()])?;
        conn.query_row("SELECT sqlcipher_export('encrypted')", [], |_| Ok(()))?;
        conn.execute_batch("DETACH DATABASE encrypted;")?;
    }
    for ext in ["db-wal", "db-shm"] {
        let _ = std::fs::remove_file(path.with_extension(ext));
    }
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)?.sync_all()?;
    }
    tracing::info!(db = %path.display(), "encrypted the server database in place");
    Ok(())
}

/// Adds sites to an account; refuses an unknown site.
fn add_account_sites(tx: &Connection, account: &str, sites: &[String]) -> DbResult<()> {
    for s in sites {
        let known = tx
            .query_row("SELECT 1 FROM sites WHERE name = ?1", [s], |_| Ok(()))
            .optional()?;
        if known.is_none() {
            return Err(DbError::NotFound(format!(
                "no site `{s}`; add it with `tern admin site add {s}`"
            )));
        }
        tx.execute(
            "INSERT OR IGNORE INTO account_sites(account, site) VALUES (?1, ?2)",
            params![account, s],
        )?;
    }
    Ok(())
}

fn enrolment_row(c: &Connection, code_hash: &str) -> DbResult<Option<EnrolmentCode>> {
    Ok(c.query_row(
        "SELECT site, account, expires_ms, used_by IS NOT NULL FROM enrolments WHERE code_hash = ?1",
        [code_hash],
        |x| {
            Ok(EnrolmentCode {
                site: x.get(0)?,
                account: x.get(1)?,
                expires_ms: x.get(2)?,
                used: x.get(3)?,
            })
        },
    )
    .optional()?)
}

fn sites_of(c: &Connection, account: &str) -> DbResult<Vec<String>> {
    let mut stmt =
        c.prepare_cached("SELECT site FROM account_sites WHERE account = ?1 ORDER BY site")?;
    let rows = stmt.query_map([account], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn device_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Device> {
    Ok(Device {
        id: r.get(0)?,
        site: r.get(1)?,
        account: r.get(2)?,
        role: r.get(3)?,
        revoked: r.get::<_, i64>(4)? != 0,
    })
}

const DEVICE_SELECT: &str = "SELECT d.id, d.site, d.account, a.role, d.revoked
    FROM devices d JOIN accounts a ON a.name = d.account";

fn in_list(n: usize) -> String {
    (1..=n)
        .map(|i| format!("?{i}"))
        .collect::<Vec<_>>()
        .join(",")
}

fn record_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RecordRow> {
    Ok(RecordRow {
        record_id: r.get(0)?,
        site: r.get(1)?,
        form_id: r.get(2)?,
        form_version: r.get(3)?,
        subject_id: r.get(4)?,
        status: r.get(5)?,
        conflict: r.get::<_, i64>(6)? != 0,
        created: r.get(7)?,
    })
}

const RECORD_SELECT: &str =
    "SELECT record_id, site, form_id, form_version, subject_id, status, conflict, created FROM records";

impl Db for SqliteDb {
    async fn ping(&self) -> DbResult<()> {
        self.run(|c| Ok(c.query_row("SELECT 1", [], |_| Ok(()))?))
            .await
    }

    async fn add_site(&self, name: &str) -> DbResult<()> {
        let name = name.to_string();
        self.run(move |c| {
            let n = c.execute("INSERT OR IGNORE INTO sites(name) VALUES (?1)", [&name])?;
            if n == 0 {
                return Err(DbError::Exists(format!("site `{name}`")));
            }
            Ok(())
        })
        .await
    }

    async fn site_exists(&self, name: &str) -> DbResult<bool> {
        let name = name.to_string();
        self.run(move |c| {
            Ok(
                c.query_row("SELECT 1 FROM sites WHERE name = ?1", [&name], |_| Ok(()))
                    .optional()?
                    .is_some(),
            )
        })
        .await
    }

    async fn add_account(&self, a: &Account) -> DbResult<()> {
        let a = a.clone();
        self.run(move |c| {
            let tx = c.transaction()?;
            let n = tx.execute(
                "INSERT OR IGNORE INTO accounts(name, role, password_hash) VALUES (?1, ?2, ?3)",
                params![a.name, a.role, a.password_hash],
            )?;
            if n == 0 {
                return Err(DbError::Exists(format!("user `{}`", a.name)));
            }
            add_account_sites(&tx, &a.name, &a.sites)?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn change_account(
        &self,
        name: &str,
        role: Option<&str>,
        add_sites: &[String],
    ) -> DbResult<()> {
        let (name, role, sites) = (
            name.to_string(),
            role.map(str::to_string),
            add_sites.to_vec(),
        );
        self.run(move |c| {
            let tx = c.transaction()?;
            let known = tx
                .query_row(
                    "SELECT 1 FROM accounts WHERE name = ?1",
                    [&name],
                    |_| Ok(()),
                )
                .optional()?;
            if known.is_none() {
                return Err(DbError::NotFound(format!("no user `{name}`")));
            }
            if let Some(role) = &role {
                tx.execute(
                    "UPDATE accounts SET role = ?2 WHERE name = ?1",
                    params![name, role],
                )?;
            }
            add_account_sites(&tx, &name, &sites)?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn accounts(&self) -> DbResult<Vec<AccountInfo>> {
        self.run(|c| {
            let rows: Vec<(String, String)> = {
                let mut stmt = c.prepare_cached("SELECT name, role FROM accounts ORDER BY name")?;
                let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
                rows.collect::<rusqlite::Result<_>>()?
            };
            rows.into_iter()
                .map(|(name, role)| {
                    Ok(AccountInfo {
                        sites: sites_of(c, &name)?,
                        name,
                        role,
                    })
                })
                .collect()
        })
        .await
    }

    async fn account(&self, name: &str) -> DbResult<Option<Account>> {
        let name = name.to_string();
        self.run(move |c| {
            let row: Option<(String, String)> = c
                .query_row(
                    "SELECT role, password_hash FROM accounts WHERE name = ?1",
                    [&name],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let Some((role, password_hash)) = row else {
                return Ok(None);
            };
            Ok(Some(Account {
                sites: sites_of(c, &name)?,
                name,
                role,
                password_hash,
            }))
        })
        .await
    }

    async fn add_enrolment(
        &self,
        code_hash: &str,
        site: &str,
        account: Option<&str>,
        expires_ms: i64,
    ) -> DbResult<()> {
        let (code_hash, site, account) = (
            code_hash.to_string(),
            site.to_string(),
            account.map(str::to_string),
        );
        self.run(move |c| {
            let known = c
                .query_row("SELECT 1 FROM sites WHERE name = ?1", [&site], |_| Ok(()))
                .optional()?;
            if known.is_none() {
                return Err(DbError::NotFound(format!("no site `{site}`")));
            }
            c.execute(
                "INSERT INTO enrolments(code_hash, site, account, expires_ms) VALUES (?1, ?2, ?3, ?4)",
                params![code_hash, site, account, expires_ms],
            )?;
            Ok(())
        })
        .await
    }

    async fn enrolment(&self, code_hash: &str) -> DbResult<Option<EnrolmentCode>> {
        let code_hash = code_hash.to_string();
        self.run(move |c| enrolment_row(c, &code_hash)).await
    }

    async fn redeem(&self, r: &Redeem) -> DbResult<Redeemed> {
        let r = r.clone();
        self.run(move |c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let code = enrolment_row(&tx, &r.code_hash)?;
            let account = crate::enrolment::enrolling_account(code.as_ref(), &r.account, r.now_ms)
                .map_err(|e| DbError::Refused(e.to_string()))?;
            let site = code.map(|c| c.site).unwrap_or_default();
            let mut unknown = Vec::new();
            for user in &r.users {
                let works = tx
                    .query_row(
                        "SELECT 1 FROM account_sites WHERE account = ?1 AND site = ?2",
                        params![user, site],
                        |_| Ok(()),
                    )
                    .optional()?;
                if works.is_none() {
                    unknown.push(user.clone());
                }
            }
            if !unknown.is_empty() {
                return Err(crate::db::unknown_local_users(&site, &unknown));
            }
            let role: Option<String> = tx
                .query_row("SELECT role FROM accounts WHERE name = ?1", [&account], |x| x.get(0))
                .optional()?;
            let Some(role) = role else {
                return Err(DbError::Refused(format!(
                    "no server account `{account}` for this device's user; an admin adds it with `tern admin user add`"
                )));
            };
            if !sites_of(&tx, &account)?.contains(&site) {
                return Err(DbError::Refused(format!(
                    "account `{account}` does not work at site `{site}`"
                )));
            }
            let exists = tx
                .query_row("SELECT 1 FROM devices WHERE id = ?1", [&r.device_id], |_| Ok(()))
                .optional()?;
            if exists.is_some() {
                return Err(DbError::Refused(
                    "this device is already enrolled (or was revoked); enrol a new store".into(),
                ));
            }
            tx.execute(
                "UPDATE enrolments SET used_by = ?2 WHERE code_hash = ?1",
                params![r.code_hash, r.device_id],
            )?;
            tx.execute(
                "INSERT INTO devices(id, site, account, token_hash) VALUES (?1, ?2, ?3, ?4)",
                params![r.device_id, site, account, r.token_hash],
            )?;
            tx.execute(
                "INSERT OR IGNORE INTO device_accounts(device_id, account, proven_ms) VALUES (?1, ?2, ?3)",
                params![r.device_id, account, r.now_ms],
            )?;
            tx.commit()?;
            Ok(Redeemed { account, role, site })
        })
        .await
    }

    async fn bind_account(&self, device: &str, account: &str, at_ms: i64) -> DbResult<()> {
        let (device, account) = (device.to_string(), account.to_string());
        self.run(move |c| {
            c.execute(
                "INSERT OR IGNORE INTO device_accounts(device_id, account, proven_ms) VALUES (?1, ?2, ?3)",
                params![device, account, at_ms],
            )?;
            Ok(())
        })
        .await
    }

    async fn bound_accounts(&self, device: &str) -> DbResult<Vec<String>> {
        let device = device.to_string();
        self.run(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT account FROM device_accounts WHERE device_id = ?1 ORDER BY account",
            )?;
            let rows = stmt.query_map([&device], |r| r.get(0))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn device_by_token(&self, token_hash: &str) -> DbResult<Option<Device>> {
        let token_hash = token_hash.to_string();
        self.run(move |c| {
            Ok(c.query_row(
                &format!("{DEVICE_SELECT} WHERE d.token_hash = ?1"),
                [&token_hash],
                device_row,
            )
            .optional()?)
        })
        .await
    }

    async fn devices_by_id(&self, ids: &[String]) -> DbResult<Vec<Device>> {
        let ids = ids.to_vec();
        self.run(move |c| {
            if ids.is_empty() {
                return Ok(Vec::new());
            }
            let mut stmt = c.prepare(&format!(
                "{DEVICE_SELECT} WHERE d.id IN ({})",
                in_list(ids.len())
            ))?;
            let rows = stmt.query_map(rusqlite::params_from_iter(ids.iter()), device_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn revoke(&self, id: &str) -> DbResult<bool> {
        let id = id.to_string();
        self.run(move |c| {
            let tx = c.transaction()?;
            let n = tx.execute("UPDATE devices SET revoked = 1 WHERE id = ?1", [&id])?;
            // A revoked device's escrowed key is handed to nobody again.
            tx.execute("DELETE FROM restricted_keys WHERE device_id = ?1", [&id])?;
            tx.commit()?;
            Ok(n > 0)
        })
        .await
    }

    async fn escrow_restricted_key(&self, key: &EscrowedKey, at_ms: i64) -> DbResult<String> {
        let key = key.clone();
        self.run(move |c| {
            c.execute(
                "INSERT OR IGNORE INTO restricted_keys(device_id, public, secret, escrowed_ms)
                 VALUES (?1, ?2, ?3, ?4)",
                params![key.device, key.public, key.secret.as_str(), at_ms],
            )?;
            Ok(c.query_row(
                "SELECT public FROM restricted_keys WHERE device_id = ?1",
                [&key.device],
                |r| r.get(0),
            )?)
        })
        .await
    }

    async fn escrowed_restricted_key(&self, device: &str) -> DbResult<Option<EscrowedKey>> {
        let device = device.to_string();
        self.run(move |c| {
            Ok(c.query_row(
                "SELECT public, secret FROM restricted_keys WHERE device_id = ?1",
                [&device],
                |r| {
                    Ok(EscrowedKey {
                        device: device.clone(),
                        public: r.get(0)?,
                        secret: Zeroizing::new(r.get(1)?),
                    })
                },
            )
            .optional()?)
        })
        .await
    }

    async fn devices(&self) -> DbResult<Vec<DeviceRow>> {
        self.run(|c| {
            let mut stmt = c.prepare(
                "SELECT id, site, account, last_sync, revoked, via_hub FROM devices ORDER BY id",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok(DeviceRow {
                    id: r.get(0)?,
                    site: r.get(1)?,
                    user: r.get(2)?,
                    last_sync: r.get(3)?,
                    revoked: r.get::<_, i64>(4)? != 0,
                    via_hub: r.get(5)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn register_hub_device(
        &self,
        hub: &str,
        device: &str,
        site: &str,
        account: &str,
    ) -> DbResult<()> {
        let (hub, device, site, account) = (
            hub.to_string(),
            device.to_string(),
            site.to_string(),
            account.to_string(),
        );
        self.run(move |c| {
            let tx = c.transaction()?;
            let known = tx
                .query_row(
                    "SELECT via_hub, revoked,
                            EXISTS(SELECT 1 FROM device_accounts
                                   WHERE device_id = ?1 AND account = ?2)
                     FROM devices WHERE id = ?1",
                    params![device, account],
                    |r| {
                        Ok(KnownDevice {
                            via_hub: r.get(0)?,
                            revoked: r.get(1)?,
                            account_bound: r.get(2)?,
                        })
                    },
                )
                .optional()?;
            match hub_link(known.as_ref(), &hub, &device, &account)
                .map_err(|e| DbError::Refused(e.to_string()))?
            {
                HubLink::Register => {
                    tx.execute(
                        "INSERT INTO devices(id, site, account, token_hash, via_hub)
                         VALUES (?1, ?2, ?3, ?4, ?5)",
                        params![device, site, account, format!("via-hub:{device}"), hub],
                    )?;
                }
                HubLink::Link => {
                    tx.execute(
                        "UPDATE devices SET via_hub = ?2 WHERE id = ?1",
                        params![device, hub],
                    )?;
                }
                HubLink::Already => {}
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn hub_devices(&self, hub: &str) -> DbResult<Vec<(String, bool)>> {
        let hub = hub.to_string();
        self.run(move |c| {
            let mut stmt =
                c.prepare("SELECT id, revoked FROM devices WHERE via_hub = ?1 ORDER BY id")?;
            let rows = stmt.query_map([&hub], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? != 0)))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn chunks_after(&self, seq: i64, origin: &str) -> DbResult<i64> {
        let origin = origin.to_string();
        self.run(move |c| {
            Ok(c.query_row(
                "SELECT count(*) FROM log WHERE seq > ?1 AND origin != ?2
                 AND kind IN ('record', 'restricted', 'subject')",
                params![seq, origin],
                |r| r.get(0),
            )?)
        })
        .await
    }

    async fn set_password_hash(&self, name: &str, hash: &str) -> DbResult<()> {
        let (name, hash) = (name.to_string(), hash.to_string());
        self.run(move |c| {
            let n = c.execute(
                "UPDATE accounts SET password_hash = ?2 WHERE name = ?1",
                params![name, hash],
            )?;
            if n == 0 {
                return Err(DbError::NotFound(format!("no account `{name}`")));
            }
            Ok(())
        })
        .await
    }

    async fn setting(&self, key: &str) -> DbResult<Option<String>> {
        let key = key.to_string();
        self.run(move |c| {
            Ok(
                c.query_row("SELECT value FROM settings WHERE key = ?1", [&key], |r| {
                    r.get(0)
                })
                .optional()?,
            )
        })
        .await
    }

    async fn set_setting(&self, key: &str, value: &str) -> DbResult<()> {
        let (key, value) = (key.to_string(), value.to_string());
        self.run(move |c| {
            c.execute(
                "INSERT INTO settings(key, value) VALUES (?1, ?2)
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                params![key, value],
            )?;
            Ok(())
        })
        .await
    }

    async fn touch_device(&self, id: &str, at: &str, audit: Option<&AuditEntry>) -> DbResult<()> {
        let (id, at, audit) = (id.to_string(), at.to_string(), audit.cloned());
        self.run(move |c| {
            let tx = c.transaction()?;
            tx.execute(
                "UPDATE devices SET last_sync = ?2 WHERE id = ?1",
                params![id, at],
            )?;
            if let Some(e) = audit {
                tx.execute(
                    "INSERT INTO access_log(at, actor, role, device, site, action, object)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    params![e.at, e.actor, e.role, e.device, e.site, e.action, e.object],
                )?;
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn login_failures(&self, key: &str, since_ms: i64) -> DbResult<i64> {
        let key = key.to_string();
        self.run(move |c| {
            Ok(c.query_row(
                "SELECT count(*) FROM login_failures WHERE key = ?1 AND at_ms >= ?2",
                params![key, since_ms],
                |r| r.get(0),
            )?)
        })
        .await
    }

    async fn note_login_failure(&self, key: &str, at_ms: i64) -> DbResult<()> {
        let key = key.to_string();
        self.run(move |c| {
            c.execute(
                "INSERT INTO login_failures(key, at_ms) VALUES (?1, ?2)",
                params![key, at_ms],
            )?;
            // Old failures matter no more: keep the table small.
            c.execute(
                "DELETE FROM login_failures WHERE at_ms < ?1",
                [at_ms - 24 * 3600 * 1000],
            )?;
            Ok(())
        })
        .await
    }

    async fn add_session(&self, token_hash: &str, account: &str, expires_ms: i64) -> DbResult<()> {
        let (t, a) = (token_hash.to_string(), account.to_string());
        self.run(move |c| {
            c.execute(
                "INSERT INTO sessions(token_hash, account, expires_ms) VALUES (?1, ?2, ?3)",
                params![t, a, expires_ms],
            )?;
            // Ended sessions go (issue 13): every sign-in removes them.
            c.execute(
                "DELETE FROM sessions WHERE expires_ms < ?1",
                [chrono::Utc::now().timestamp_millis()],
            )?;
            Ok(())
        })
        .await
    }

    async fn session(&self, token_hash: &str, now_ms: i64) -> DbResult<Option<String>> {
        let t = token_hash.to_string();
        self.run(move |c| {
            Ok(c.query_row(
                "SELECT account FROM sessions WHERE token_hash = ?1 AND expires_ms > ?2",
                params![t, now_ms],
                |r| r.get(0),
            )
            .optional()?)
        })
        .await
    }

    async fn doc_pending(&self, doc_id: &str) -> DbResult<bool> {
        let id = doc_id.to_string();
        self.run(move |c| {
            Ok(c.query_row(
                "SELECT last_seq > verified_seq FROM docs WHERE doc_id = ?1",
                [id],
                |r| r.get(0),
            )
            .optional()?
            .unwrap_or(false))
        })
        .await
    }

    async fn end_session(&self, token_hash: &str) -> DbResult<()> {
        let t = token_hash.to_string();
        self.run(move |c| {
            c.execute("DELETE FROM sessions WHERE token_hash = ?1", params![t])?;
            Ok(())
        })
        .await
    }

    async fn touch_session(&self, token_hash: &str, expires_ms: i64) -> DbResult<()> {
        let t = token_hash.to_string();
        self.run(move |c| {
            c.execute(
                "UPDATE sessions SET expires_ms = ?2 WHERE token_hash = ?1 AND expires_ms < ?2",
                params![t, expires_ms],
            )?;
            Ok(())
        })
        .await
    }

    async fn verified_seq(&self, doc_id: &str) -> DbResult<i64> {
        let id = doc_id.to_string();
        self.run(move |c| {
            Ok(c.query_row(
                "SELECT verified_seq FROM docs WHERE doc_id = ?1",
                [id],
                |r| r.get(0),
            )
            .optional()?
            .unwrap_or(0))
        })
        .await
    }

    async fn forget_login_failure(&self, key: &str, at_ms: i64) -> DbResult<()> {
        let key = key.to_string();
        self.run(move |c| {
            c.execute(
                "DELETE FROM login_failures WHERE rowid IN \
                 (SELECT rowid FROM login_failures WHERE key = ?1 AND at_ms = ?2 LIMIT 1)",
                params![key, at_ms],
            )?;
            Ok(())
        })
        .await
    }

    async fn audit(&self, e: &AuditEntry) -> DbResult<()> {
        let e = e.clone();
        self.run(move |c| {
            c.execute(
                "INSERT INTO access_log(at, actor, role, device, site, action, object)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![e.at, e.actor, e.role, e.device, e.site, e.action, e.object],
            )?;
            Ok(())
        })
        .await
    }

    async fn audit_list(&self, sites: Option<&[String]>, limit: i64) -> DbResult<Vec<AuditEntry>> {
        // The sites are filtered before the limit (issue 13: filtering the newest
        // rows afterwards showed a supervisor nothing once other sites were busy).
        let sites = sites.map(|s| serde_json::to_string(s).unwrap_or_default());
        self.run(move |c| {
            let mut stmt = c.prepare(
                "SELECT at, actor, role, device, site, action, object FROM access_log
                 WHERE ?2 IS NULL OR site IN (SELECT value FROM json_each(?2))
                 ORDER BY id DESC LIMIT ?1",
            )?;
            let rows = stmt.query_map(params![limit, sites], |r| {
                Ok(AuditEntry {
                    at: r.get(0)?,
                    actor: r.get(1)?,
                    role: r.get(2)?,
                    device: r.get(3)?,
                    site: r.get(4)?,
                    action: r.get(5)?,
                    object: r.get(6)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn doc_meta(&self, ids: &[String]) -> DbResult<Vec<(String, String, String)>> {
        let ids = ids.to_vec();
        self.run(move |c| {
            let mut out = Vec::new();
            let mut stmt = c.prepare_cached("SELECT kind, site FROM docs WHERE doc_id = ?1")?;
            for id in ids {
                if let Some((k, s)) = stmt
                    .query_row([&id], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()?
                {
                    out.push((id, k, s));
                }
            }
            Ok(out)
        })
        .await
    }

    async fn store_changes(&self, origin: &str, docs: &[NewDoc]) -> DbResult<u64> {
        let (origin, docs) = (origin.to_string(), docs.to_vec());
        self.run(move |c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let mut seq: i64 =
                tx.query_row("SELECT value FROM counter WHERE name = 'seq'", [], |r| {
                    r.get(0)
                })?;
            let mut new = 0u64;
            {
                let mut insert = tx.prepare_cached(
                    "INSERT OR IGNORE INTO log(seq, doc_id, kind, site, hash, bytes, origin)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )?;
                let mut doc = tx.prepare_cached(
                    "INSERT INTO docs(doc_id, kind, site, last_seq) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT(doc_id) DO UPDATE SET last_seq = ?4",
                )?;
                for d in &docs {
                    let before = seq;
                    for (hash, bytes) in &d.changes {
                        let n = insert.execute(params![
                            seq + 1,
                            d.doc_id,
                            d.kind,
                            d.site,
                            &hash[..],
                            bytes,
                            origin
                        ])?;
                        if n > 0 {
                            seq += 1;
                            new += 1;
                        }
                    }
                    if seq > before {
                        doc.execute(params![d.doc_id, d.kind, d.site, seq])?;
                    }
                }
            }
            tx.execute("UPDATE counter SET value = ?1 WHERE name = 'seq'", [seq])?;
            tx.commit()?;
            Ok(new)
        })
        .await
    }

    async fn pull(&self, scope: &Scope, cursor: i64, max_bytes: usize) -> DbResult<Pulled> {
        let scope = scope.clone();
        self.run(move |c| {
            let tx = c.transaction()?;
            let stored: i64 =
                tx.query_row("SELECT value FROM counter WHERE name = 'seq'", [], |r| {
                    r.get(0)
                })?;
            // Forms and configuration are stored for site `*`, visible to all.
            let mut sites = scope.sites.clone();
            sites.push("*".into());
            let sites = serde_json::to_string(&sites).unwrap_or_else(|_| "[\"*\"]".into());
            let first: Option<i64> = tx.query_row(
                "SELECT MIN((SELECT MIN(l.seq) FROM log l
                    WHERE l.doc_id = d.doc_id AND l.seq > d.verified_seq AND l.origin <> ?1))
                 FROM docs d
                 WHERE d.last_seq > d.verified_seq AND d.kind IN ('record', 'restricted', 'subject')
                   AND d.site IN (SELECT value FROM json_each(?2))",
                params![scope.exclude_origin, sites],
                |r| r.get(0),
            )?;
            let head = verified_head(stored, first);
            // First the sequence numbers in scope, from the (site, seq) index: rows of
            // other sites are never read. Then each row, in order, until the page is
            // full.
            let seqs: Vec<i64> = {
                let mut stmt = tx.prepare_cached(
                    "SELECT seq FROM log
                     WHERE site IN (SELECT value FROM json_each(?4)) AND seq > ?1 AND seq <= ?2
                       AND quarantined = 0 AND origin <> ?3 AND (kind <> 'restricted' OR ?5)
                     ORDER BY seq LIMIT ?6",
                )?;
                let rows = stmt.query_map(
                    params![
                        cursor,
                        head,
                        scope.exclude_origin,
                        sites,
                        scope.restricted,
                        PULL_ROWS
                    ],
                    |r| r.get(0),
                )?;
                rows.collect::<rusqlite::Result<_>>()?
            };
            let mut stmt = tx.prepare_cached(
                "SELECT l.seq, l.doc_id, l.kind, l.site, l.bytes,
                        CASE WHEN d.verified_seq >= d.last_seq THEN d.summary END
                 FROM log l LEFT JOIN docs d ON d.doc_id = l.doc_id WHERE l.seq = ?1",
            )?;
            let mut items = Vec::new();
            let mut size = 0usize;
            let mut more = seqs.len() as i64 >= PULL_ROWS;
            for seq in &seqs {
                let item = stmt.query_row([seq], |r| {
                    Ok(LogItem {
                        seq: r.get(0)?,
                        doc_id: r.get(1)?,
                        kind: r.get(2)?,
                        site: r.get(3)?,
                        bytes: r.get(4)?,
                        summary: r.get(5)?,
                    })
                })?;
                if !items.is_empty() && size + item.bytes.len() > max_bytes {
                    more = true;
                    break;
                }
                size += item.bytes.len();
                items.push(item);
            }
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
        })
        .await
    }

    async fn unverified(&self, limit: i64) -> DbResult<Vec<Unverified>> {
        self.run(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT doc_id, kind, site, last_seq, verified_seq FROM docs WHERE last_seq > verified_seq
                 AND kind IN ('record', 'restricted', 'subject') LIMIT ?1",
            )?;
            let rows = stmt.query_map([limit], |r| {
                Ok(Unverified {
                    doc_id: r.get(0)?,
                    kind: r.get(1)?,
                    site: r.get(2)?,
                    upto: r.get(3)?,
                    verified: r.get(4)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn doc_changes(&self, doc_id: &str, upto: i64) -> DbResult<Vec<Vec<u8>>> {
        let id = doc_id.to_string();
        self.run(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT bytes FROM log WHERE doc_id = ?1 AND seq <= ?2 AND quarantined = 0 ORDER BY seq",
            )?;
            let rows = stmt.query_map(params![id, upto], |r| r.get(0))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn docs_chunks(&self, docs: &[(String, i64, i64)]) -> DbResult<Vec<Vec<Vec<u8>>>> {
        let wanted = docs.to_vec();
        self.run(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT bytes FROM log WHERE doc_id = ?1 AND seq > ?2 AND seq <= ?3 AND quarantined = 0
                 ORDER BY seq",
            )?;
            let mut out = Vec::with_capacity(wanted.len());
            for (id, after, upto) in &wanted {
                let rows = stmt.query_map(params![id, after, upto], |r| r.get(0))?;
                out.push(rows.collect::<rusqlite::Result<_>>()?);
            }
            Ok(out)
        })
        .await
    }

    async fn verified(&self, done: &[Verified]) -> DbResult<()> {
        let done = done.to_vec();
        self.run(move |c| {
            let tx = c.transaction()?;
            for v in &done {
                tx.execute(
                    "UPDATE docs SET verified_seq = max(verified_seq, ?2),
                       summary = CASE WHEN ?2 >= verified_seq THEN ?3 ELSE summary END
                     WHERE doc_id = ?1",
                    params![v.doc_id, v.upto, v.summary],
                )?;
                if let Some(p) = &v.record {
                    tx.execute(
                        "INSERT OR REPLACE INTO records(record_id, site, form_id, form_version, subject_id, status, conflict, created)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                        params![p.record_id, p.site, p.form_id, p.form_version, p.subject_id, p.status, p.conflict, p.created],
                    )?;
                }
                if let Some(f) = &v.facts {
                    put_fact(&tx, f)?;
                }
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn quarantine(&self, doc_id: &str, upto: i64, reason: &str) -> DbResult<()> {
        let (id, reason) = (doc_id.to_string(), reason.to_string());
        self.run(move |c| {
            let tx = c.transaction()?;
            tx.execute(
                "UPDATE log SET quarantined = 1 WHERE doc_id = ?1 AND seq <= ?2
                 AND seq > (SELECT verified_seq FROM docs WHERE doc_id = ?1)",
                params![id, upto],
            )?;
            tx.execute(
                "UPDATE docs SET verified_seq = max(verified_seq, ?2), quarantine_reason = ?3 WHERE doc_id = ?1",
                params![id, upto, reason],
            )?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn quarantine_chunks(
        &self,
        doc_id: &str,
        hashes: &[[u8; 32]],
        reason: &str,
    ) -> DbResult<u64> {
        let (id, reason, hashes) = (doc_id.to_string(), reason.to_string(), hashes.to_vec());
        self.run(move |c| {
            let tx = c.transaction()?;
            let mut n = 0;
            for h in &hashes {
                n += tx.execute(
                    "UPDATE log SET quarantined = 1 WHERE doc_id = ?1 AND hash = ?2
                     AND seq > (SELECT verified_seq FROM docs WHERE doc_id = ?1)",
                    params![id, h.as_slice()],
                )? as u64;
            }
            tx.execute(
                "UPDATE docs SET quarantine_reason = ?2 WHERE doc_id = ?1",
                params![id, reason],
            )?;
            tx.commit()?;
            Ok(n)
        })
        .await
    }

    async fn quarantined(&self) -> DbResult<Vec<(String, String)>> {
        self.run(|c| {
            let mut stmt = c.prepare(
                "SELECT doc_id, quarantine_reason FROM docs WHERE quarantine_reason IS NOT NULL ORDER BY doc_id",
            )?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn site_accounts(&self, sites: &[String]) -> DbResult<Vec<(String, String)>> {
        let sites = serde_json::to_string(sites).unwrap_or_else(|_| "[]".into());
        self.run(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT DISTINCT a.name, a.role FROM accounts a
                 JOIN account_sites s ON s.account = a.name
                 WHERE s.site IN (SELECT value FROM json_each(?1)) ORDER BY a.name",
            )?;
            let rows = stmt.query_map([sites], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn backlog(&self) -> DbResult<Backlog> {
        self.run(|c| {
            Ok(c.query_row(
                "SELECT (SELECT value FROM counter WHERE name = 'seq'),
                        (SELECT count(*) FROM docs WHERE kind IN ('record', 'restricted', 'subject')),
                        (SELECT count(*) FROM records),
                        (SELECT count(*) FROM docs WHERE last_seq > verified_seq
                           AND kind IN ('record', 'restricted', 'subject')),
                        (SELECT count(*) FROM docs WHERE quarantine_reason IS NOT NULL)",
                [],
                |r| {
                    Ok(Backlog {
                        head: r.get(0)?,
                        documents: r.get(1)?,
                        records: r.get(2)?,
                        unverified: r.get(3)?,
                        quarantined: r.get(4)?,
                    })
                },
            )?)
        })
        .await
    }

    async fn record(&self, id: &str) -> DbResult<Option<RecordRow>> {
        let id = id.to_string();
        self.run(move |c| {
            Ok(c.query_row(
                &format!("{RECORD_SELECT} WHERE record_id = ?1"),
                [&id],
                record_row,
            )
            .optional()?)
        })
        .await
    }

    async fn subject_summaries(
        &self,
        ids: &[String],
    ) -> DbResult<std::collections::HashMap<String, String>> {
        self.subject_summaries_impl(ids).await
    }

    async fn verified_records(&self) -> DbResult<Vec<(String, i64)>> {
        self.verified_records_impl().await
    }

    async fn put_facts(&self, rows: &[crate::facts::FactsRow]) -> DbResult<()> {
        self.put_facts_impl(rows).await
    }

    async fn facts(
        &self,
        filter: &crate::db::FactsFilter,
    ) -> DbResult<Vec<crate::facts::FactsRow>> {
        self.facts_impl(filter).await
    }

    async fn report_counts(
        &self,
        report: &str,
        filter: &crate::db::FactsFilter,
    ) -> DbResult<Vec<(String, i64)>> {
        self.report_parts_impl(
            "SELECT key, sum(n) FROM report_counts WHERE report = ?1 AND {FILTER} GROUP BY key"
                .into(),
            report,
            filter,
            Vec::new(),
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .await
    }

    async fn report_tally(
        &self,
        report: &str,
        filter: &crate::db::FactsFilter,
        now: &str,
    ) -> DbResult<crate::reports::Tally> {
        let rows = self
            .report_parts_impl(
                "SELECT count(*), coalesce(sum(stale_from <= ?7), 0) FROM report_lines
                 WHERE report = ?1 AND {FILTER} AND listed_from <= ?7"
                    .into(),
                report,
                filter,
                vec![now.to_string().into()],
                |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)),
            )
            .await?;
        let (listed, stale) = rows.first().copied().unwrap_or((0, 0));
        Ok(crate::reports::Tally {
            listed: usize::try_from(listed).unwrap_or(0),
            stale: usize::try_from(stale).unwrap_or(0),
        })
    }

    async fn report_lines(
        &self,
        report: &str,
        filter: &crate::db::FactsFilter,
        page: Option<&crate::reports::Page>,
    ) -> DbResult<Vec<(crate::reports::Head, String)>> {
        let select = "SELECT record_id, subject_id, site, form_id, encounter_date, created,
             status, body FROM report_lines WHERE report = ?1 AND {FILTER}";
        let (sql, extra) = match page {
            None => (
                format!("{select} ORDER BY encounter_date, record_id"),
                Vec::new(),
            ),
            Some(p) => (
                format!(
                    "{select} AND listed_from <= ?7 ORDER BY {}encounter_date, record_id
                     LIMIT ?8",
                    if p.urgent_first { "urgency, " } else { "" }
                ),
                vec![
                    p.now.clone().into(),
                    i64::try_from(p.limit).unwrap_or(i64::MAX).into(),
                ],
            ),
        };
        self.report_parts_impl(sql, report, filter, extra, |r| {
            Ok((
                crate::reports::Head {
                    record: r.get(0)?,
                    subject: r.get(1)?,
                    site: r.get(2)?,
                    form: r.get(3)?,
                    day: r.get(4)?,
                    created: r.get(5)?,
                    status: r.get(6)?,
                },
                r.get(7)?,
            ))
        })
        .await
    }

    async fn report_parts_missing(&self, version: &str) -> DbResult<bool> {
        let version = version.to_string();
        self.run(move |c| {
            Ok(c.query_row(
                "SELECT EXISTS(SELECT 1 FROM record_facts)
                   AND coalesce((SELECT value FROM settings WHERE key = ?1), '') <> ?2",
                params![crate::reports::PARTS_SETTING, version],
                |r| r.get(0),
            )?)
        })
        .await
    }

    async fn records(&self, sites: Option<&[String]>) -> DbResult<Vec<RecordRow>> {
        let sites = sites.map(<[String]>::to_vec);
        self.run(move |c| {
            let mut stmt = c.prepare(&format!("{RECORD_SELECT} ORDER BY record_id"))?;
            let rows = stmt.query_map([], record_row)?;
            let all: Vec<RecordRow> = rows.collect::<rusqlite::Result<_>>()?;
            Ok(match sites {
                None => all,
                Some(s) => all.into_iter().filter(|r| s.contains(&r.site)).collect(),
            })
        })
        .await
    }

    // ------------------------------------------------ quarantine review (crate::quarantine)

    async fn quarantine_review(
        &self,
        sites: Option<&[String]>,
        doc: Option<&str>,
    ) -> DbResult<Vec<crate::quarantine::Quarantined>> {
        let sites = sites.map(|s| serde_json::to_string(s).unwrap_or_else(|_| "[]".into()));
        let doc = doc.map(str::to_string);
        self.run(move |c| {
            let mut stmt = c.prepare(
                "SELECT d.doc_id, d.kind, d.site, d.quarantine_reason, l.bytes
                 FROM docs d JOIN log l ON l.doc_id = d.doc_id
                 WHERE d.quarantine_reason IS NOT NULL AND l.quarantined = 1
                   AND (?1 IS NULL OR d.site IN (SELECT value FROM json_each(?1)))
                   AND (?2 IS NULL OR d.doc_id = ?2)
                   AND NOT EXISTS (SELECT 1 FROM quarantine_decisions q
                       WHERE q.doc_id = l.doc_id AND q.hash = l.hash AND q.decision = 'rejected')
                 ORDER BY d.doc_id, l.seq",
            )?;
            let rows = stmt.query_map(params![sites, doc], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, Vec<u8>>(4)?,
                ))
            })?;
            let mut out: Vec<crate::quarantine::Quarantined> = Vec::new();
            for row in rows {
                let (doc_id, kind, site, reason, bytes) = row?;
                match out.last_mut() {
                    Some(q) if q.doc_id == doc_id => q.chunks.push(bytes),
                    _ => out.push(crate::quarantine::Quarantined {
                        doc_id,
                        kind,
                        site,
                        reason,
                        chunks: vec![bytes],
                    }),
                }
            }
            Ok(out)
        })
        .await
    }

    async fn decide_quarantine(
        &self,
        doc_id: &str,
        decision: &crate::quarantine::Decision,
        audit: &AuditEntry,
    ) -> DbResult<u64> {
        let (id, d, e) = (doc_id.to_string(), decision.clone(), audit.clone());
        self.run(move |c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let waiting: Vec<(i64, Vec<u8>)> = {
                let mut stmt = tx.prepare(
                    "SELECT seq, hash FROM log l WHERE doc_id = ?1 AND quarantined = 1
                       AND NOT EXISTS (SELECT 1 FROM quarantine_decisions q
                           WHERE q.doc_id = l.doc_id AND q.hash = l.hash AND q.decision = 'rejected')
                     ORDER BY seq",
                )?;
                let rows = stmt.query_map([&id], |r| Ok((r.get(0)?, r.get(1)?)))?;
                rows.collect::<rusqlite::Result<_>>()?
            };
            if waiting.is_empty() {
                return Err(DbError::NotFound(format!(
                    "no quarantined changes of document `{id}` wait for a decision"
                )));
            }
            for (_, hash) in &waiting {
                tx.execute(
                    "INSERT INTO quarantine_decisions(doc_id, hash, decision, actor, reason, at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                     ON CONFLICT(doc_id, hash) DO UPDATE SET decision = ?3, actor = ?4,
                       reason = ?5, at = ?6",
                    params![id, hash, d.choice.mark(), d.actor, d.why, d.at],
                )?;
            }
            if d.choice == crate::quarantine::Choice::Release {
                // New sequence numbers past the head: devices whose cursors passed the
                // old ones pull them, and no verified sequence moves back.
                let mut seq: i64 =
                    tx.query_row("SELECT value FROM counter WHERE name = 'seq'", [], |r| {
                        r.get(0)
                    })?;
                for (old, _) in &waiting {
                    seq += 1;
                    tx.execute(
                        "UPDATE log SET seq = ?1, quarantined = 0 WHERE seq = ?2",
                        params![seq, old],
                    )?;
                }
                tx.execute("UPDATE counter SET value = ?1 WHERE name = 'seq'", [seq])?;
                tx.execute(
                    "UPDATE docs SET last_seq = max(last_seq, ?2), quarantine_reason = NULL
                     WHERE doc_id = ?1",
                    params![id, seq],
                )?;
            } else {
                tx.execute(
                    "UPDATE docs SET quarantine_reason = NULL WHERE doc_id = ?1",
                    [&id],
                )?;
            }
            tx.execute(
                "INSERT INTO access_log(at, actor, role, device, site, action, object)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![e.at, e.actor, e.role, e.device, e.site, e.action, e.object],
            )?;
            tx.commit()?;
            Ok(waiting.len() as u64)
        })
        .await
    }

    async fn released_chunks(&self, doc_ids: &[String]) -> DbResult<Vec<(String, [u8; 32])>> {
        let ids = serde_json::to_string(doc_ids).unwrap_or_else(|_| "[]".into());
        self.run(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT doc_id, hash FROM quarantine_decisions
                 WHERE decision = 'released' AND doc_id IN (SELECT value FROM json_each(?1))",
            )?;
            let rows = stmt.query_map([ids], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (doc, hash) = row?;
                if let Ok(h) = <[u8; 32]>::try_from(hash.as_slice()) {
                    out.push((doc, h));
                }
            }
            Ok(out)
        })
        .await
    }
}

/// Writes one `record_facts` row and what the record gives the reports
/// (`report_counts`, `report_lines`), replacing what it gave before.
fn put_fact(tx: &rusqlite::Transaction<'_>, f: &crate::facts::FactsRow) -> DbResult<()> {
    let json = |r: &crate::facts::FactsRow| {
        serde_json::to_string(r).map_err(|e| DbError::Task(e.to_string()))
    };
    let compact = crate::facts::report_view(f);
    let (row, report) = (json(f)?, json(&compact)?);
    let parts = crate::reports::parts_of(&compact);
    tx.prepare_cached("DELETE FROM report_counts WHERE record_id = ?1")?
        .execute([&f.record_id])?;
    tx.prepare_cached("DELETE FROM report_lines WHERE record_id = ?1")?
        .execute([&f.record_id])?;
    let mut count = tx.prepare_cached(
        "INSERT INTO report_counts(report, encounter_date, site, form_id, record_id, key, n)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for (name, key, n) in &parts.counts {
        count.execute(params![
            name,
            f.encounter_date,
            f.site,
            f.form_id,
            f.record_id,
            key,
            n
        ])?;
    }
    let mut line = tx.prepare_cached(
        "INSERT INTO report_lines(report, encounter_date, record_id, site, form_id, subject_id,
           status, created, body, listed_from, stale_from, urgency)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?;
    for l in &parts.lines {
        let body = serde_json::to_string(&l.body).map_err(|e| DbError::Task(e.to_string()))?;
        let h = &l.head;
        // parts_of writes no line that is never listed; "~" would keep one off.
        let listed = l.listed_from().unwrap_or_else(|| "~".into());
        line.execute(params![
            l.report(),
            h.day,
            h.record,
            h.site,
            h.form,
            h.subject,
            h.status,
            h.created,
            body,
            listed,
            l.stale_from(),
            l.urgency()
        ])?;
    }
    tx.execute(
        "INSERT OR REPLACE INTO record_facts(record_id, site, form_id, encounter_date, row, report)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            f.record_id,
            f.site,
            f.form_id,
            f.encounter_date,
            row,
            report
        ],
    )?;
    Ok(())
}

impl SqliteDb {
    pub(crate) async fn subject_summaries_impl(
        &self,
        ids: &[String],
    ) -> DbResult<std::collections::HashMap<String, String>> {
        let ids = serde_json::to_string(ids).unwrap_or_else(|_| "[]".into());
        self.run(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT doc_id, summary FROM docs WHERE kind = 'subject' AND summary IS NOT NULL
                 AND doc_id IN (SELECT value FROM json_each(?1))",
            )?;
            let rows = stmt.query_map([ids], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    pub(crate) async fn verified_records_impl(&self) -> DbResult<Vec<(String, i64)>> {
        self.run(|c| {
            let mut stmt = c.prepare(
                "SELECT doc_id, verified_seq FROM docs WHERE kind = 'record' AND verified_seq > 0
                 ORDER BY doc_id",
            )?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    pub(crate) async fn put_facts_impl(&self, rows: &[crate::facts::FactsRow]) -> DbResult<()> {
        let rows = rows.to_vec();
        self.run(move |c| {
            let tx = c.transaction()?;
            for f in &rows {
                put_fact(&tx, f)?;
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    /// Runs a report parts query: `{FILTER}` stands for the filter (`?2` sites as a
    /// JSON array, `?3`..`?4` the days, `?5` a site, `?6` a form); `extra` are `?7`
    /// on.
    async fn report_parts_impl<T: Send + 'static>(
        &self,
        sql: String,
        report: &str,
        filter: &crate::db::FactsFilter,
        extra: Vec<rusqlite::types::Value>,
        map: fn(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> DbResult<Vec<T>> {
        let f = filter.clone();
        let report = report.to_string();
        self.run(move |c| {
            let sites = f
                .sites
                .as_ref()
                .map(|s| serde_json::to_string(s).unwrap_or_else(|_| "[]".into()));
            let sql = sql.replace(
                "{FILTER}",
                "encounter_date >= coalesce(?3, '') AND encounter_date <= coalesce(?4, '~')
                 AND (?2 IS NULL OR site IN (SELECT value FROM json_each(?2)))
                 AND (?5 IS NULL OR site = ?5) AND (?6 IS NULL OR form_id = ?6)",
            );
            let mut stmt = c.prepare_cached(&sql)?;
            let mut values: Vec<rusqlite::types::Value> = vec![
                report.into(),
                sites.into(),
                f.from.into(),
                f.until.into(),
                f.site.into(),
                f.form.into(),
            ];
            values.extend(extra);
            let rows = stmt.query_map(rusqlite::params_from_iter(values), map)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    pub(crate) async fn facts_impl(
        &self,
        filter: &crate::db::FactsFilter,
    ) -> DbResult<Vec<crate::facts::FactsRow>> {
        let f = filter.clone();
        self.run(move |c| {
            let sites = f
                .sites
                .as_ref()
                .map(|s| serde_json::to_string(s).unwrap_or_else(|_| "[]".into()));
            let mut stmt = c.prepare_cached(
                "SELECT report FROM record_facts
                 WHERE (?1 IS NULL OR site IN (SELECT value FROM json_each(?1)))
                   AND (?2 IS NULL OR encounter_date >= ?2) AND (?3 IS NULL OR encounter_date <= ?3)
                   AND (?4 IS NULL OR site = ?4) AND (?5 IS NULL OR form_id = ?5)
                 ORDER BY encounter_date, record_id",
            )?;
            let rows = stmt.query_map(params![sites, f.from, f.until, f.site, f.form], |r| {
                r.get::<_, String>(0)
            })?;
            let mut out = Vec::new();
            for row in rows {
                out.push(serde_json::from_str(&row?).map_err(|e| {
                    DbError::Task(format!(
                        "a record_facts row does not read ({e}): run `tern admin reproject`"
                    ))
                })?);
            }
            Ok(out)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
    }

    #[test]
    fn report_parts_of_an_older_version_are_found_and_their_columns_added() {
        let rt = runtime();
        let dir = tempfile::tempdir().expect("tmp");
        let db = SqliteDb::open(dir.path()).expect("open");
        // A database made before worklists were bounded in SQL, with one record.
        rt.block_on(db.run(|c| {
            // Made before numbered migrations too: no `schema_migrations`.
            c.execute_batch(
                "DROP TABLE schema_migrations;
                 DROP INDEX report_lines_tally;
                 ALTER TABLE report_lines DROP COLUMN listed_from;
                 ALTER TABLE report_lines DROP COLUMN stale_from;
                 ALTER TABLE report_lines DROP COLUMN urgency;
                 INSERT INTO record_facts(record_id, site, form_id, encounter_date, report, row)
                     VALUES ('r', 'site-a', 'pda', '2026-03-10', '{}', '{}');",
            )?;
            Ok(())
        }))
        .expect("an old database");
        drop(db);
        let db = SqliteDb::open(dir.path()).expect("reopen");
        let (columns, index): (i64, i64) = rt
            .block_on(db.run(|c| {
                Ok(c.query_row(
                    "SELECT (SELECT count(*) FROM pragma_table_info('report_lines')
                             WHERE name IN ('listed_from', 'stale_from', 'urgency')),
                            (SELECT count(*) FROM sqlite_master WHERE name = 'report_lines_tally')",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )?)
            }))
            .expect("schema");
        assert_eq!((columns, index), (3, 1));
        let version = crate::reports::PARTS_VERSION;
        let missing = |db: &SqliteDb| rt.block_on(db.report_parts_missing(version)).expect("read");
        assert!(missing(&db), "no version noted: rebuilt");
        rt.block_on(db.set_setting(crate::reports::PARTS_SETTING, "1"))
            .expect("set");
        assert!(missing(&db), "another version: rebuilt");
        rt.block_on(db.set_setting(crate::reports::PARTS_SETTING, version))
            .expect("set");
        assert!(!missing(&db), "this version: kept");
        // A bounded worklist reads its first lines in the primary key's order.
        let plan: Vec<String> = rt
            .block_on(db.run(|c| {
                let mut stmt = c.prepare(
                    "EXPLAIN QUERY PLAN SELECT body FROM report_lines
                     WHERE report = 'incomplete' AND encounter_date >= '2026-01-01'
                       AND encounter_date <= '2026-12-31' AND listed_from <= 'x'
                     ORDER BY encounter_date, record_id LIMIT 10",
                )?;
                let rows = stmt.query_map([], |r| r.get::<_, String>(3))?;
                Ok(rows.collect::<rusqlite::Result<_>>()?)
            }))
            .expect("plan");
        assert!(
            !plan.iter().any(|p| p.contains("TEMP B-TREE")),
            "no sort: {plan:?}"
        );
    }

    #[test]
    fn the_database_is_encrypted_and_opens_only_with_its_key_file() {
        let rt = runtime();
        let dir = tempfile::tempdir().expect("tmp");
        let db = SqliteDb::open(dir.path()).expect("open");
        rt.block_on(db.add_site("site-a")).expect("site");
        drop(db);
        let path = dir.path().join("tern-server.db");
        assert!(
            !is_plaintext(&path).expect("read"),
            "no plain SQLite header"
        );
        let bytes = std::fs::read(&path).expect("db");
        assert!(!bytes.windows(6).any(|w| w == b"site-a"), "no plain text");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("tern-server.key"))
                .expect("key file")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let again = SqliteDb::open(dir.path()).expect("reopen");
        assert!(rt.block_on(again.site_exists("site-a")).expect("read"));
        drop(again);
        // A key file others may read: refused until it is private again.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let key = dir.path().join("tern-server.key");
            std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).expect("chmod");
            let err = SqliteDb::open(dir.path()).expect_err("readable key file");
            assert!(err.to_string().contains("chmod 600"), "{err}");
            std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        }

        // Another key file: refused with a message naming it, nothing changed.
        let key = dir.path().join("tern-server.key");
        let good = std::fs::read_to_string(&key).expect("key");
        std::fs::write(&key, "ab".repeat(32)).expect("other key");
        let err = SqliteDb::open(dir.path()).expect_err("wrong key");
        assert!(err.to_string().contains("key file"), "{err}");
        // No key file at all: refused, never re-keyed.
        std::fs::remove_file(&key).expect("rm");
        let err = SqliteDb::open(dir.path()).expect_err("no key");
        assert!(err.to_string().contains("missing"), "{err}");
        std::fs::write(&key, good).expect("restore");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        }
        let back = SqliteDb::open(dir.path()).expect("reopen");
        assert!(rt.block_on(back.site_exists("site-a")).expect("read"));
    }

    #[test]
    fn a_database_made_before_encryption_is_encrypted_in_place() {
        let rt = runtime();
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("tern-server.db");
        {
            let plain = Connection::open(&path).expect("plain");
            plain.execute_batch(schema::SCHEMA).expect("schema");
            plain
                .execute("INSERT INTO sites(name) VALUES ('old-site')", [])
                .expect("row");
        }
        assert!(is_plaintext(&path).expect("read"));
        let db = SqliteDb::open(dir.path()).expect("open");
        assert!(rt.block_on(db.site_exists("old-site")).expect("kept"));
        drop(db);
        assert!(!is_plaintext(&path).expect("read"));
    }

    #[test]
    fn a_log_unique_over_all_documents_becomes_unique_per_document() {
        let rt = runtime();
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("tern-server.db");
        let chunk = |doc: &str| NewDoc {
            doc_id: doc.into(),
            kind: "record".into(),
            site: "site-a".into(),
            changes: vec![([7u8; 32], b"the same bytes".to_vec())],
        };
        {
            // The schema of databases made before: `hash` unique over the whole log.
            let old = schema::SCHEMA.replace("hash BLOB NOT NULL,", "hash BLOB NOT NULL UNIQUE,");
            let old = old.replace(
                "CREATE UNIQUE INDEX IF NOT EXISTS log_doc_hash ON log(doc_id, hash);",
                "",
            );
            let plain = Connection::open(&path).expect("plain");
            plain.execute_batch(&old).expect("old schema");
            plain
                .execute(
                    "INSERT INTO log(seq, doc_id, kind, site, hash, bytes, origin)
                     VALUES (1, 'doc-1', 'record', 'site-a', ?1, ?2, 'dev')",
                    params![&[7u8; 32][..], &b"the same bytes"[..]],
                )
                .expect("row");
            plain
                .execute("UPDATE counter SET value = 1 WHERE name = 'seq'", [])
                .expect("counter");
        }
        let db = SqliteDb::open(dir.path()).expect("open");
        let new = rt
            .block_on(db.store_changes("dev", &[chunk("doc-2"), chunk("doc-1")]))
            .expect("store");
        assert_eq!(new, 1, "doc-2 stored, doc-1 had it already");
        for doc in ["doc-1", "doc-2"] {
            let rows = rt.block_on(db.doc_changes(doc, 10)).expect("rows");
            assert_eq!(rows, vec![b"the same bytes".to_vec()], "{doc}");
        }
        drop(db);
        // Opening again changes nothing.
        let db = SqliteDb::open(dir.path()).expect("reopen");
        let rows = rt.block_on(db.doc_changes("doc-2", 10)).expect("rows");
        assert_eq!(rows.len(), 1);
    }

    #[test]
    fn records_projected_before_their_start_was_kept_get_it_from_the_summaries() {
        let rt = runtime();
        let dir = tempfile::tempdir().expect("tmp");
        {
            // The schema before: no `records.created`.
            let plain = Connection::open(dir.path().join("tern-server.db")).expect("plain");
            plain.execute_batch(schema::SCHEMA).expect("old schema");
            let summary = r#"{"Record":{"form_id":"pda","form_version":"1.0.0","subject_id":"S","site":"site-a","status":"draft","created":"2026-03-09T08:00:00Z","conflict":false}}"#;
            plain
                .execute(
                    "INSERT INTO docs(doc_id, kind, site, last_seq, verified_seq, summary)
                     VALUES ('r1', 'record', 'site-a', 1, 1, ?1)",
                    [summary],
                )
                .expect("doc");
            plain
                .execute_batch(
                    "INSERT INTO records VALUES ('r1', 'site-a', 'pda', '1.0.0', 'S', 'draft', 0);
                     INSERT INTO records VALUES ('r2', 'site-a', 'pda', '1.0.0', 'S', 'draft', 0);",
                )
                .expect("rows");
        }
        let db = SqliteDb::open(dir.path()).expect("open");
        let r1 = rt.block_on(db.record("r1")).expect("read").expect("r1");
        assert_eq!(r1.created, "2026-03-09T08:00:00Z");
        let r2 = rt.block_on(db.record("r2")).expect("read").expect("r2");
        assert_eq!(r2.created, "", "no summary: undated");
        drop(db);
        let db = SqliteDb::open(dir.path()).expect("reopen");
        assert_eq!(
            rt.block_on(db.record("r1"))
                .expect("read")
                .expect("r1")
                .created,
            r1.created
        );
    }
}
