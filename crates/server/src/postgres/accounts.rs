//! Accounts and devices in the PostgreSQL backend: sites, accounts, sessions and login
//! failures, enrolment codes, devices and the accounts bound to them, escrowed
//! restricted keys, devices enrolled through hubs; and the server's settings and
//! access log. Each function is one `Db` operation (crate::db).

use super::*;
use crate::enrolment::{redeem_check, RedeemRefusal};

pub(super) async fn ping(db: &PgDb) -> DbResult<()> {
    db.client().await?.execute("SELECT 1", &[]).await?;
    Ok(())
}

pub(super) async fn add_site(db: &PgDb, name: &str) -> DbResult<()> {
    let n = db
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

pub(super) async fn site_exists(db: &PgDb, name: &str) -> DbResult<bool> {
    Ok(db
        .client()
        .await?
        .query_opt("SELECT 1 FROM sites WHERE name = $1", &[&name])
        .await?
        .is_some())
}

pub(super) async fn add_account(db: &PgDb, a: &Account) -> DbResult<()> {
    let mut c = db.client().await?;
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

pub(super) async fn change_account(
    db: &PgDb,
    name: &str,
    role: Option<&str>,
    add_sites: &[String],
) -> DbResult<()> {
    let mut c = db.client().await?;
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

pub(super) async fn accounts(db: &PgDb) -> DbResult<Vec<AccountInfo>> {
    let c = db.client().await?;
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

pub(super) async fn account(db: &PgDb, name: &str) -> DbResult<Option<Account>> {
    let c = db.client().await?;
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

pub(super) async fn add_enrolment(
    db: &PgDb,
    code_hash: &str,
    site: &str,
    account: Option<&str>,
    expires_ms: i64,
) -> DbResult<()> {
    let c = db.client().await?;
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

pub(super) async fn enrolment(db: &PgDb, code_hash: &str) -> DbResult<Option<EnrolmentCode>> {
    let c = db.client().await?;
    enrolment_row(&c, code_hash, false).await
}

pub(super) async fn redeem(db: &PgDb, r: &Redeem) -> DbResult<Redeemed> {
    let mut c = db.client().await?;
    let tx = c.transaction().await?;
    let code = enrolment_row(&tx, &r.code_hash, true).await?;
    let account = crate::enrolment::enrolling_account(code.as_ref(), &r.account, r.now_ms)?;
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
    let role: Option<String> = tx
        .query_opt("SELECT role FROM accounts WHERE name = $1", &[&account])
        .await?
        .map(|r| r.get(0));
    let account_sites = sites_of(&tx, &account).await?;
    let role = redeem_check(&site, &unknown, &account, role, &account_sites)?;
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
        Err(e) if is_unique_violation(&e) => return Err(RedeemRefusal::DeviceKnown.into()),
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

pub(super) async fn bind_account(
    db: &PgDb,
    device: &str,
    account: &str,
    at_ms: i64,
) -> DbResult<()> {
    db.client()
        .await?
        .execute(
            "INSERT INTO device_accounts(device_id, account, proven_ms) VALUES ($1, $2, $3)
             ON CONFLICT DO NOTHING",
            &[&device, &account, &at_ms],
        )
        .await?;
    Ok(())
}

pub(super) async fn bound_accounts(db: &PgDb, device: &str) -> DbResult<Vec<String>> {
    let rows = db
        .client()
        .await?
        .query(
            "SELECT account FROM device_accounts WHERE device_id = $1 ORDER BY account",
            &[&device],
        )
        .await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

pub(super) async fn device_by_token(db: &PgDb, token_hash: &str) -> DbResult<Option<Device>> {
    let row = db
        .client()
        .await?
        .query_opt(
            &format!("{DEVICE_SELECT} WHERE d.token_hash = $1"),
            &[&token_hash],
        )
        .await?;
    Ok(row.as_ref().map(device_row))
}

pub(super) async fn devices_by_id(db: &PgDb, ids: &[String]) -> DbResult<Vec<Device>> {
    let rows = db
        .client()
        .await?
        .query(&format!("{DEVICE_SELECT} WHERE d.id = ANY($1)"), &[&ids])
        .await?;
    Ok(rows.iter().map(device_row).collect())
}

pub(super) async fn revoke(db: &PgDb, id: &str) -> DbResult<bool> {
    let mut c = db.client().await?;
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

pub(super) async fn escrow_restricted_key(
    db: &PgDb,
    key: &EscrowedKey,
    at_ms: i64,
) -> DbResult<String> {
    let c = db.client().await?;
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

pub(super) async fn escrowed_restricted_key(
    db: &PgDb,
    device: &str,
) -> DbResult<Option<EscrowedKey>> {
    Ok(db
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

pub(super) async fn devices(db: &PgDb) -> DbResult<Vec<DeviceRow>> {
    let rows = db
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

pub(super) async fn register_hub_device(
    db: &PgDb,
    hub: &str,
    device: &str,
    site: &str,
    account: &str,
) -> DbResult<()> {
    let mut c = db.client().await?;
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
    match hub_link(known.as_ref(), hub, device, account)? {
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

pub(super) async fn hub_devices(db: &PgDb, hub: &str) -> DbResult<Vec<(String, bool)>> {
    let rows = db
        .client()
        .await?
        .query(
            "SELECT id, revoked FROM devices WHERE via_hub = $1 ORDER BY id",
            &[&hub],
        )
        .await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

pub(super) async fn set_password_hash(db: &PgDb, name: &str, hash: &str) -> DbResult<()> {
    let n = db
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

pub(super) async fn setting(db: &PgDb, key: &str) -> DbResult<Option<String>> {
    Ok(db
        .client()
        .await?
        .query_opt("SELECT value FROM settings WHERE key = $1", &[&key])
        .await?
        .map(|r| r.get(0)))
}

pub(super) async fn set_setting(db: &PgDb, key: &str, value: &str) -> DbResult<()> {
    db.client()
        .await?
        .execute(
            "INSERT INTO settings(key, value) VALUES ($1, $2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            &[&key, &value],
        )
        .await?;
    Ok(())
}

pub(super) async fn touch_device(
    db: &PgDb,
    id: &str,
    at: &str,
    audit: Option<&AuditEntry>,
) -> DbResult<()> {
    let mut c = db.client().await?;
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

pub(super) async fn login_failures(db: &PgDb, key: &str, since_ms: i64) -> DbResult<i64> {
    let row = db
        .client()
        .await?
        .query_one(
            "SELECT count(*) FROM login_failures WHERE key = $1 AND at_ms >= $2",
            &[&key, &since_ms],
        )
        .await?;
    Ok(row.get(0))
}

pub(super) async fn note_login_failure(db: &PgDb, key: &str, at_ms: i64) -> DbResult<()> {
    let c = db.client().await?;
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

pub(super) async fn add_session(
    db: &PgDb,
    token_hash: &str,
    account: &str,
    expires_ms: i64,
) -> DbResult<()> {
    db.client()
        .await?
        .execute(
            "INSERT INTO sessions(token_hash, account, expires_ms) VALUES ($1, $2, $3)",
            &[&token_hash, &account, &expires_ms],
        )
        .await?;
    // Ended sessions go (issue 13): every sign-in removes them.
    db.client()
        .await?
        .execute(
            "DELETE FROM sessions WHERE expires_ms < $1",
            &[&chrono::Utc::now().timestamp_millis()],
        )
        .await?;
    Ok(())
}

pub(super) async fn session(db: &PgDb, token_hash: &str, now_ms: i64) -> DbResult<Option<String>> {
    let row = db
        .client()
        .await?
        .query_opt(
            "SELECT account FROM sessions WHERE token_hash = $1 AND expires_ms > $2",
            &[&token_hash, &now_ms],
        )
        .await?;
    Ok(row.map(|r| r.get(0)))
}

pub(super) async fn end_session(db: &PgDb, token_hash: &str) -> DbResult<()> {
    db.client()
        .await?
        .execute("DELETE FROM sessions WHERE token_hash = $1", &[&token_hash])
        .await?;
    Ok(())
}

pub(super) async fn touch_session(db: &PgDb, token_hash: &str, expires_ms: i64) -> DbResult<()> {
    db.client()
        .await?
        .execute(
            "UPDATE sessions SET expires_ms = $2 WHERE token_hash = $1 AND expires_ms < $2",
            &[&token_hash, &expires_ms],
        )
        .await?;
    Ok(())
}

pub(super) async fn forget_login_failure(db: &PgDb, key: &str, at_ms: i64) -> DbResult<()> {
    db.client()
        .await?
        .execute(
            "DELETE FROM login_failures WHERE ctid IN \
             (SELECT ctid FROM login_failures WHERE key = $1 AND at_ms = $2 LIMIT 1)",
            &[&key, &at_ms],
        )
        .await?;
    Ok(())
}

pub(super) async fn audit(db: &PgDb, e: &AuditEntry) -> DbResult<()> {
    db.client()
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

pub(super) async fn audit_list(
    db: &PgDb,
    sites: Option<&[String]>,
    limit: i64,
) -> DbResult<Vec<AuditEntry>> {
    let c = db.client().await?;
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

pub(super) async fn site_accounts(db: &PgDb, sites: &[String]) -> DbResult<Vec<(String, String)>> {
    let rows = db
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

fn device_row(r: &tokio_postgres::Row) -> Device {
    Device {
        id: r.get(0),
        site: r.get(1),
        account: r.get(2),
        role: r.get(3),
        revoked: r.get(4),
    }
}

const DEVICE_SELECT: &str = "SELECT d.id, d.site, d.account, a.role, d.revoked
    FROM devices d JOIN accounts a ON a.name = d.account";
