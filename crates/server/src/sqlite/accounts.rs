//! Accounts and devices in the SQLite backend: sites, accounts, sessions and login
//! failures, enrolment codes, devices and the accounts bound to them, escrowed
//! restricted keys, devices enrolled through hubs; and the server's settings and
//! access log. Each function is one `Db` operation (crate::db).

use super::*;
use crate::enrolment::{redeem_check, RedeemRefusal};

pub(super) async fn ping(db: &SqliteDb) -> DbResult<()> {
    db.run(|c| Ok(c.query_row("SELECT 1", [], |_| Ok(()))?))
        .await
}

pub(super) async fn add_site(db: &SqliteDb, name: &str) -> DbResult<()> {
    let name = name.to_string();
    db.run(move |c| {
        let n = c.execute("INSERT OR IGNORE INTO sites(name) VALUES (?1)", [&name])?;
        if n == 0 {
            return Err(DbError::Exists(format!("site `{name}`")));
        }
        Ok(())
    })
    .await
}

pub(super) async fn site_exists(db: &SqliteDb, name: &str) -> DbResult<bool> {
    let name = name.to_string();
    db.run(move |c| {
        Ok(
            c.query_row("SELECT 1 FROM sites WHERE name = ?1", [&name], |_| Ok(()))
                .optional()?
                .is_some(),
        )
    })
    .await
}

pub(super) async fn add_account(db: &SqliteDb, a: &Account) -> DbResult<()> {
    let a = a.clone();
    db.run(move |c| {
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

pub(super) async fn change_account(
    db: &SqliteDb,
    name: &str,
    role: Option<&str>,
    add_sites: &[String],
) -> DbResult<()> {
    let (name, role, sites) = (
        name.to_string(),
        role.map(str::to_string),
        add_sites.to_vec(),
    );
    db.run(move |c| {
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

pub(super) async fn accounts(db: &SqliteDb) -> DbResult<Vec<AccountInfo>> {
    db.run(|c| {
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

pub(super) async fn account(db: &SqliteDb, name: &str) -> DbResult<Option<Account>> {
    let name = name.to_string();
    db.run(move |c| {
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

pub(super) async fn add_enrolment(
    db: &SqliteDb,
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
    db.run(move |c| {
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

pub(super) async fn enrolment(db: &SqliteDb, code_hash: &str) -> DbResult<Option<EnrolmentCode>> {
    let code_hash = code_hash.to_string();
    db.run(move |c| enrolment_row(c, &code_hash)).await
}

pub(super) async fn redeem(db: &SqliteDb, r: &Redeem) -> DbResult<Redeemed> {
    let r = r.clone();
    db.run(move |c| {
        let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let code = enrolment_row(&tx, &r.code_hash)?;
        let account = crate::enrolment::enrolling_account(code.as_ref(), &r.account, r.now_ms)?;
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
        let role: Option<String> = tx
            .query_row("SELECT role FROM accounts WHERE name = ?1", [&account], |x| x.get(0))
            .optional()?;
        let role = redeem_check(&site, &unknown, &account, role, &sites_of(&tx, &account)?)?;
        let exists = tx
            .query_row("SELECT 1 FROM devices WHERE id = ?1", [&r.device_id], |_| Ok(()))
            .optional()?;
        if exists.is_some() {
            return Err(RedeemRefusal::DeviceKnown.into());
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

pub(super) async fn bind_account(
    db: &SqliteDb,
    device: &str,
    account: &str,
    at_ms: i64,
) -> DbResult<()> {
    let (device, account) = (device.to_string(), account.to_string());
    db.run(move |c| {
        c.execute(
            "INSERT OR IGNORE INTO device_accounts(device_id, account, proven_ms) VALUES (?1, ?2, ?3)",
            params![device, account, at_ms],
        )?;
        Ok(())
    })
    .await
}

pub(super) async fn bound_accounts(db: &SqliteDb, device: &str) -> DbResult<Vec<String>> {
    let device = device.to_string();
    db.rows(
        "SELECT account FROM device_accounts WHERE device_id = ?1 ORDER BY account",
        (device,),
        |r| r.get(0),
    )
    .await
}

pub(super) async fn device_by_token(db: &SqliteDb, token_hash: &str) -> DbResult<Option<Device>> {
    let token_hash = token_hash.to_string();
    db.run(move |c| {
        Ok(c.query_row(
            &format!("{DEVICE_SELECT} WHERE d.token_hash = ?1"),
            [&token_hash],
            device_row,
        )
        .optional()?)
    })
    .await
}

pub(super) async fn devices_by_id(db: &SqliteDb, ids: &[String]) -> DbResult<Vec<Device>> {
    let ids = ids.to_vec();
    db.run(move |c| {
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

pub(super) async fn revoke(db: &SqliteDb, id: &str) -> DbResult<bool> {
    let id = id.to_string();
    db.run(move |c| {
        let tx = c.transaction()?;
        let n = tx.execute("UPDATE devices SET revoked = 1 WHERE id = ?1", [&id])?;
        // A revoked device's escrowed key is handed to nobody again.
        tx.execute("DELETE FROM restricted_keys WHERE device_id = ?1", [&id])?;
        tx.commit()?;
        Ok(n > 0)
    })
    .await
}

pub(super) async fn escrow_restricted_key(
    db: &SqliteDb,
    key: &EscrowedKey,
    at_ms: i64,
) -> DbResult<String> {
    let key = key.clone();
    db.run(move |c| {
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

pub(super) async fn escrowed_restricted_key(
    db: &SqliteDb,
    device: &str,
) -> DbResult<Option<EscrowedKey>> {
    let device = device.to_string();
    db.run(move |c| {
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

pub(super) async fn devices(db: &SqliteDb) -> DbResult<Vec<DeviceRow>> {
    db.rows(
        "SELECT id, site, account, last_sync, revoked, via_hub FROM devices ORDER BY id",
        (),
        |r| {
            Ok(DeviceRow {
                id: r.get(0)?,
                site: r.get(1)?,
                user: r.get(2)?,
                last_sync: r.get(3)?,
                revoked: r.get::<_, i64>(4)? != 0,
                via_hub: r.get(5)?,
            })
        },
    )
    .await
}

pub(super) async fn register_hub_device(
    db: &SqliteDb,
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
    db.run(move |c| {
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
        match hub_link(known.as_ref(), &hub, &device, &account)? {
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

pub(super) async fn hub_devices(db: &SqliteDb, hub: &str) -> DbResult<Vec<(String, bool)>> {
    let hub = hub.to_string();
    db.rows(
        "SELECT id, revoked FROM devices WHERE via_hub = ?1 ORDER BY id",
        (hub,),
        |r| Ok((r.get(0)?, r.get::<_, i64>(1)? != 0)),
    )
    .await
}

pub(super) async fn set_password_hash(db: &SqliteDb, name: &str, hash: &str) -> DbResult<()> {
    let (name, hash) = (name.to_string(), hash.to_string());
    db.run(move |c| {
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

pub(super) async fn setting(db: &SqliteDb, key: &str) -> DbResult<Option<String>> {
    let key = key.to_string();
    db.run(move |c| {
        Ok(
            c.query_row("SELECT value FROM settings WHERE key = ?1", [&key], |r| {
                r.get(0)
            })
            .optional()?,
        )
    })
    .await
}

pub(super) async fn set_setting(db: &SqliteDb, key: &str, value: &str) -> DbResult<()> {
    let (key, value) = (key.to_string(), value.to_string());
    db.run(move |c| {
        c.execute(
            "INSERT INTO settings(key, value) VALUES (?1, ?2)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    })
    .await
}

pub(super) async fn touch_device(
    db: &SqliteDb,
    id: &str,
    at: &str,
    audit: Option<&AuditEntry>,
) -> DbResult<()> {
    let (id, at, audit) = (id.to_string(), at.to_string(), audit.cloned());
    db.run(move |c| {
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

pub(super) async fn login_failures(db: &SqliteDb, key: &str, since_ms: i64) -> DbResult<i64> {
    let key = key.to_string();
    db.run(move |c| {
        Ok(c.query_row(
            "SELECT count(*) FROM login_failures WHERE key = ?1 AND at_ms >= ?2",
            params![key, since_ms],
            |r| r.get(0),
        )?)
    })
    .await
}

pub(super) async fn note_login_failure(db: &SqliteDb, key: &str, at_ms: i64) -> DbResult<()> {
    let key = key.to_string();
    db.run(move |c| {
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

pub(super) async fn add_session(
    db: &SqliteDb,
    token_hash: &str,
    account: &str,
    expires_ms: i64,
) -> DbResult<()> {
    let (t, a) = (token_hash.to_string(), account.to_string());
    db.run(move |c| {
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

pub(super) async fn session(
    db: &SqliteDb,
    token_hash: &str,
    now_ms: i64,
) -> DbResult<Option<String>> {
    let t = token_hash.to_string();
    db.run(move |c| {
        Ok(c.query_row(
            "SELECT account FROM sessions WHERE token_hash = ?1 AND expires_ms > ?2",
            params![t, now_ms],
            |r| r.get(0),
        )
        .optional()?)
    })
    .await
}

pub(super) async fn end_session(db: &SqliteDb, token_hash: &str) -> DbResult<()> {
    let t = token_hash.to_string();
    db.run(move |c| {
        c.execute("DELETE FROM sessions WHERE token_hash = ?1", params![t])?;
        Ok(())
    })
    .await
}

pub(super) async fn touch_session(
    db: &SqliteDb,
    token_hash: &str,
    expires_ms: i64,
) -> DbResult<()> {
    let t = token_hash.to_string();
    db.run(move |c| {
        c.execute(
            "UPDATE sessions SET expires_ms = ?2 WHERE token_hash = ?1 AND expires_ms < ?2",
            params![t, expires_ms],
        )?;
        Ok(())
    })
    .await
}

pub(super) async fn forget_login_failure(db: &SqliteDb, key: &str, at_ms: i64) -> DbResult<()> {
    let key = key.to_string();
    db.run(move |c| {
        c.execute(
            "DELETE FROM login_failures WHERE rowid IN \
             (SELECT rowid FROM login_failures WHERE key = ?1 AND at_ms = ?2 LIMIT 1)",
            params![key, at_ms],
        )?;
        Ok(())
    })
    .await
}

pub(super) async fn audit(db: &SqliteDb, e: &AuditEntry) -> DbResult<()> {
    let e = e.clone();
    db.run(move |c| {
        c.execute(
            "INSERT INTO access_log(at, actor, role, device, site, action, object)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![e.at, e.actor, e.role, e.device, e.site, e.action, e.object],
        )?;
        Ok(())
    })
    .await
}

pub(super) async fn audit_list(
    db: &SqliteDb,
    sites: Option<&[String]>,
    limit: i64,
) -> DbResult<Vec<AuditEntry>> {
    // The sites are filtered before the limit (issue 13: filtering the newest
    // rows afterwards showed a supervisor nothing once other sites were busy).
    let sites = sites.map(|s| serde_json::to_string(s).unwrap_or_default());
    db.rows(
        "SELECT at, actor, role, device, site, action, object FROM access_log
             WHERE ?2 IS NULL OR site IN (SELECT value FROM json_each(?2))
             ORDER BY id DESC LIMIT ?1",
        (limit, sites),
        |r| {
            Ok(AuditEntry {
                at: r.get(0)?,
                actor: r.get(1)?,
                role: r.get(2)?,
                device: r.get(3)?,
                site: r.get(4)?,
                action: r.get(5)?,
                object: r.get(6)?,
            })
        },
    )
    .await
}

pub(super) async fn site_accounts(
    db: &SqliteDb,
    sites: &[String],
) -> DbResult<Vec<(String, String)>> {
    let sites = serde_json::to_string(sites).unwrap_or_else(|_| "[]".into());
    db.rows(
        "SELECT DISTINCT a.name, a.role FROM accounts a
             JOIN account_sites s ON s.account = a.name
             WHERE s.site IN (SELECT value FROM json_each(?1)) ORDER BY a.name",
        (sites,),
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .await
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
