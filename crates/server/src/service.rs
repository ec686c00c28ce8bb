//! What the endpoints do, as plain async functions over a [`Db`], so the axum
//! handlers stay a few lines each and the CLI's `tern admin` calls the same code.

use crate::auth::{self, Action};
use crate::db::*;
use automerge::Change;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use tern_record::{ChunkKind, Role};
use tern_sync::protocol::{
    self, ConfigItem, DocChanges, EnrolRequest, EnrolResponse, ErrorCode, FormItem, FrameError,
    Kind, ProveRequest, ProveResponse, SiteAccounts, SyncRequest, SyncResponse, PULL_PAGE_BYTES,
};

/// Failed login attempts per account allowed in [`LOGIN_WINDOW_MS`].
pub const LOGIN_MAX_FAILURES: i64 = 5;
pub const LOGIN_WINDOW_MS: i64 = 15 * 60 * 1000;
/// Most local users an enrolment request may name.
const MAX_LOCAL_USERS: usize = 1000;

/// How long an enrolment code stays valid by default.
pub const ENROLMENT_MS: i64 = 24 * 3600 * 1000;

/// An error as every endpoint returns it: a closed code and a message saying what to
/// do. Messages never carry health data.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            message: message.into(),
        }
    }
    pub fn forbidden(what: &str) -> ApiError {
        ApiError::new(ErrorCode::Forbidden, format!("your role may not {what}"))
    }
    pub fn bad(message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorCode::BadRequest, message)
    }
    /// HTTP status of the code.
    pub fn status(&self) -> u16 {
        match self.code {
            ErrorCode::Upgrade => 426,
            ErrorCode::Revoked => 403,
            ErrorCode::Unauthorized => 401,
            ErrorCode::Forbidden => 403,
            ErrorCode::BadRequest => 400,
            ErrorCode::TooLarge => 413,
            ErrorCode::RateLimited => 429,
            ErrorCode::NotFound => 404,
            ErrorCode::Conflict => 409,
            ErrorCode::Internal => 500,
            ErrorCode::Unavailable => 503,
        }
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> ApiError {
        match e {
            DbError::Exists(m) => ApiError::new(ErrorCode::Conflict, format!("{m} already exists")),
            DbError::NotFound(m) => ApiError::new(ErrorCode::NotFound, m),
            DbError::Code(e) => ApiError::new(ErrorCode::Forbidden, e.to_string()),
            DbError::Redeem(e) => ApiError::new(ErrorCode::Forbidden, e.to_string()),
            DbError::HubLink(e) => ApiError::new(ErrorCode::Forbidden, e.to_string()),
            other => {
                tracing::error!(error = %other, "storage failure");
                ApiError::new(
                    ErrorCode::Internal,
                    "the server's storage failed; try again later",
                )
            }
        }
    }
}

impl From<auth::AuthError> for ApiError {
    fn from(e: auth::AuthError) -> ApiError {
        tracing::error!(error = %e, "secret handling failure");
        ApiError::new(
            ErrorCode::Internal,
            "the server could not make a secret; try again",
        )
    }
}

impl From<FrameError> for ApiError {
    fn from(e: FrameError) -> ApiError {
        match e {
            FrameError::Version { .. } => ApiError::new(ErrorCode::Upgrade, e.to_string()),
            FrameError::TooLarge(..) => ApiError::new(ErrorCode::TooLarge, e.to_string()),
            other => ApiError::bad(other.to_string()),
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn now_text() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> ApiResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::new(ErrorCode::Internal, format!("a worker failed: {e}")))
}

pub(crate) fn parse_role(role: &str) -> ApiResult<Role> {
    Role::parse(role).map_err(|e| ApiError::bad(e.to_string()))
}

fn check_name(what: &str, s: &str) -> ApiResult<()> {
    if protocol::valid_name(s) {
        Ok(())
    } else {
        Err(ApiError::bad(format!(
            "a {what} is 1 to 80 letters, digits, `-`, `_` or `.`"
        )))
    }
}

// ---------------------------------------------------------------- administration

pub async fn add_site<D: Db>(db: &D, name: &str) -> ApiResult<()> {
    check_name("site", name)?;
    db.add_site(name).await?;
    Ok(())
}

pub async fn add_user<D: Db>(
    db: &D,
    name: &str,
    role: &str,
    password: &str,
    sites: &[String],
) -> ApiResult<()> {
    check_name("user name", name)?;
    let role = parse_role(role)?;
    // The one password rule, shared with the devices (issue 13).
    tern_record::password::check(password).map_err(|e| ApiError::bad(e.to_string()))?;
    if sites.is_empty() && !auth::all_sites(role) {
        return Err(ApiError::bad(format!(
            "a {} works at a site: add --site SITE",
            role.name()
        )));
    }
    let pw = password.to_string();
    let hash = blocking(move || auth::hash_password(&pw)).await??;
    db.add_account(&Account {
        name: name.into(),
        role: role.name().into(),
        password_hash: hash,
        sites: sites.to_vec(),
    })
    .await?;
    Ok(())
}

/// Gives an account another role and/or more sites. The account list a device
/// holds changes with it, so devices learn it at their next sync (roles sync down).
pub async fn change_user<D: Db>(
    db: &D,
    name: &str,
    role: Option<&str>,
    add_sites: &[String],
) -> ApiResult<()> {
    let role = role.map(parse_role).transpose()?;
    if role.is_none() && add_sites.is_empty() {
        return Err(ApiError::bad(
            "nothing to change: give --role ROLE and/or --site SITE",
        ));
    }
    for s in add_sites {
        check_name("site", s)?;
    }
    db.change_account(name, role.map(|r| r.name()), add_sites)
        .await?;
    Ok(())
}

/// Makes a one-time enrolment code for `site` (optionally for one account), valid for
/// `valid_ms` milliseconds. Whoever redeems it still proves the account with its own
/// password.
pub async fn enrolment_code<D: Db>(
    db: &D,
    site: &str,
    account: Option<&str>,
    valid_ms: i64,
) -> ApiResult<String> {
    if let Some(account) = account {
        match db.account(account).await? {
            Some(a) if a.sites.iter().any(|s| s == site) => {}
            Some(_) => {
                return Err(ApiError::bad(format!(
                    "account `{account}` does not work at site `{site}`; give it the site \
                     first (`tern admin user change {account} --site {site}`)"
                )))
            }
            None => {
                return Err(ApiError::new(
                    ErrorCode::NotFound,
                    format!("no account `{account}`"),
                ))
            }
        }
    }
    let code = auth::new_code()?;
    let hash = auth::token_hash(&auth::normalise_code(&code));
    db.add_enrolment(&hash, site, account, now_ms() + valid_ms)
        .await?;
    Ok(code)
}

pub async fn revoke<D: Db>(db: &D, device: &str) -> ApiResult<()> {
    if db.revoke(device).await? {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::NotFound,
            format!("no device `{device}`"),
        ))
    }
}

/// Stores the built-in forms, translations and configuration tables as sync items
/// (idempotent: each is content-addressed by its SHA-256).
pub async fn publish_builtin_forms<D: Db>(db: &D) -> ApiResult<u64> {
    let mut docs = Vec::new();
    for (name, text) in tern_record::builtin::CONFIG {
        let item = ConfigItem {
            name: (*name).into(),
            text: (*text).into(),
        };
        docs.push(item_doc(&format!("config:{name}"), "config", &item)?);
    }
    for (name, text) in tern_record::builtin::FORMS {
        let id = name.trim_end_matches(".json");
        let head: serde_json::Value = serde_json::from_str(text).map_err(|e| {
            ApiError::new(ErrorCode::Internal, format!("built-in form {name}: {e}"))
        })?;
        let version = head["version"].as_str().unwrap_or("0");
        let item = FormItem {
            definition: (*text).into(),
            translations: tern_record::builtin::TRANSLATIONS
                .iter()
                .filter(|(n, _)| n.split('.').next() == Some(id))
                .map(|(n, t)| ((*n).into(), (*t).into()))
                .collect(),
        };
        docs.push(item_doc(&format!("form:{id}:{version}"), "form", &item)?);
    }
    Ok(db.store_changes("server", &docs).await?)
}

fn item_doc<T: Serialize>(id: &str, kind: &str, item: &T) -> ApiResult<NewDoc> {
    let bytes =
        serde_json::to_vec(item).map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))?;
    let hash: [u8; 32] = Sha256::digest(&bytes).into();
    Ok(NewDoc {
        doc_id: id.into(),
        kind: kind.into(),
        site: "*".into(),
        changes: vec![(hash, bytes)],
    })
}

// ---------------------------------------------------------------- callers

/// Who is calling: a device (token) or a signed-in account (session).
#[derive(Debug, Clone)]
pub struct Caller {
    pub account: String,
    pub role: Role,
    pub sites: Vec<String>,
    pub device: Option<String>,
}

impl Caller {
    pub fn require(&self, action: Action, what: &str) -> ApiResult<()> {
        if auth::allowed(self.role, action) {
            Ok(())
        } else {
            Err(ApiError::forbidden(what))
        }
    }

    /// Sites the caller may see; `None` for all.
    pub fn site_filter(&self) -> Option<&[String]> {
        if auth::all_sites(self.role) {
            None
        } else {
            Some(&self.sites)
        }
    }

    pub(crate) fn audit(&self, action: &str, site: &str, object: &str) -> AuditEntry {
        AuditEntry {
            at: now_text(),
            actor: self.account.clone(),
            role: self.role.name().into(),
            device: self.device.clone().unwrap_or_default(),
            site: site.into(),
            action: action.into(),
            object: object.into(),
        }
    }
}

fn unauthorized() -> ApiError {
    ApiError::new(
        ErrorCode::Unauthorized,
        "missing or unknown token; enrol the device or sign in again",
    )
}

/// Authenticates a bearer token: a device token, else a session.
pub async fn caller<D: Db>(db: &D, token: Option<&str>) -> ApiResult<Caller> {
    let token = token.ok_or_else(unauthorized)?;
    let hash = auth::token_hash(token);
    if let Some(d) = db.device_by_token(&hash).await? {
        if d.revoked {
            tracing::warn!(device = %d.id, "revoked device refused");
            return Err(ApiError::new(
                ErrorCode::Revoked,
                "this device was revoked: destroy its keys and database",
            ));
        }
        return Ok(Caller {
            account: d.account,
            role: parse_role(&d.role)?,
            sites: vec![d.site],
            device: Some(d.id),
        });
    }
    let account = db
        .session(&hash, now_ms())
        .await?
        .ok_or_else(unauthorized)?;
    let a = db.account(&account).await?.ok_or_else(unauthorized)?;
    Ok(Caller {
        account: a.name,
        role: parse_role(&a.role)?,
        sites: a.sites,
        device: None,
    })
}

// ---------------------------------------------------------------- sign-in

#[derive(Deserialize, Serialize)]
pub struct LoginRequest {
    pub user: String,
    pub password: String,
}

impl std::fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginRequest")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub struct LoginResponse {
    pub token: String,
    pub role: String,
    pub sites: Vec<String>,
}

/// Checks `name`'s own password, at most [`LOGIN_MAX_FAILURES`] failures per account
/// in [`LOGIN_WINDOW_MS`] (counted in the database, so every replica shares the
/// limit). An attempt counts as a failure before its password is checked (taken back
/// when it succeeds), so concurrent guesses see each other and cannot pass the limit.
/// Every failure is access-logged as `action`_failed with `device`; the password is
/// hashed even for unknown names, so timing does not tell which accounts exist. The
/// one password check of sign-in, enrolment and proof.
pub(crate) async fn check_password<D: Db>(
    db: &D,
    name: &str,
    password: String,
    action: &str,
    device: &str,
) -> ApiResult<Account> {
    let key = name.chars().take(80).collect::<String>();
    let now = now_ms();
    db.note_login_failure(&key, now).await?;
    if db.login_failures(&key, now - LOGIN_WINDOW_MS).await? > LOGIN_MAX_FAILURES {
        tracing::warn!(user = %key, "password checks rate limited");
        return Err(ApiError::new(
            ErrorCode::RateLimited,
            "too many wrong passwords for this account; wait 15 minutes",
        ));
    }
    let account = db.account(&key).await?;
    let stored = account.as_ref().map(|a| a.password_hash.clone());
    let ok = blocking(move || match stored {
        Some(h) => auth::verify_password(&password, &h),
        None => {
            let _ = auth::hash_password(&password);
            false
        }
    })
    .await?;
    match account.filter(|_| ok) {
        Some(account) => {
            db.forget_login_failure(&key, now).await?;
            Ok(account)
        }
        None => {
            db.audit(&AuditEntry {
                at: now_text(),
                actor: key,
                role: String::new(),
                device: device.into(),
                site: String::new(),
                action: format!("{action}_failed"),
                object: String::new(),
            })
            .await?;
            Err(ApiError::new(
                ErrorCode::Unauthorized,
                "wrong user name or password",
            ))
        }
    }
}

/// How a supervisor hub checks an account's own password: it holds no password
/// hashes (accounts come from upstream with their roles and sites only), so it asks
/// its upstream server, which records `device` as enrolled through the hub and binds
/// the account to it. Implemented by tern-hub over HTTPS; the server crate knows no
/// HTTP client.
pub trait Upstream: Send + Sync + 'static {
    /// Checks `account`'s password for `device` (an enrolment or a proof at the hub).
    fn prove<'a>(
        &'a self,
        device: &'a str,
        account: &'a str,
        password: &'a str,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ApiResult<ProveResponse>> + Send + 'a>>;
    /// Checks `account`'s password for a sign-in to the hub's dashboard.
    fn sign_in<'a>(
        &'a self,
        account: &'a str,
        password: &'a str,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ApiResult<ProveResponse>> + Send + 'a>>;
}

/// Gives `name` a password of this server's own (a hub's supervisor, who signs in to
/// the hub's dashboard while the upstream is out of reach).
pub async fn set_local_password<D: Db>(db: &D, name: &str, password: &str) -> ApiResult<()> {
    let password = password.to_string();
    let hash = blocking(move || auth::hash_password(&password)).await??;
    db.set_password_hash(name, &hash).await?;
    Ok(())
}

/// `account`'s own password, checked here or, on a hub, by its upstream server (the
/// account is then stored here with the role and sites upstream answered, and no
/// password hash).
async fn verify_account<D: Db>(
    db: &D,
    upstream: Option<&dyn Upstream>,
    account: &str,
    password: String,
    action: &str,
    device: &str,
) -> ApiResult<Account> {
    let Some(up) = upstream else {
        return check_password(db, account, password, action, device).await;
    };
    let proven = up.prove(device, account, &password).await?;
    mirror_account(db, &proven.account, &proven.role, &proven.sites).await?;
    // Accounts proven on the device upstream are proven here too.
    for other in &proven.bound {
        db.bind_account(device, other, now_ms()).await?;
    }
    db.account(&proven.account)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::Internal, "the mirrored account is missing"))
}

/// On a hub: an account as upstream holds it (role, sites), with no usable password.
pub async fn mirror_account<D: Db>(
    db: &D,
    name: &str,
    role: &str,
    sites: &[String],
) -> ApiResult<()> {
    let role = parse_role(role)?;
    for site in sites {
        if !db.site_exists(site).await? {
            db.add_site(site).await?;
        }
    }
    let account = Account {
        name: name.to_string(),
        role: role.name().to_string(),
        // Not a PHC string: no password ever verifies against it.
        password_hash: "!upstream".into(),
        sites: sites.to_vec(),
    };
    match db.add_account(&account).await {
        Ok(()) => Ok(()),
        Err(DbError::Exists(_)) => {
            db.change_account(name, Some(role.name()), sites).await?;
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

/// Signs in with a password (rate-limited by [`check_password`]). On a hub the
/// upstream checks it; while the upstream is out of reach, only an account with a
/// password of the hub's own (its supervisor's) signs in.
/// The session ends after `idle_ms` without a request.
pub async fn login<D: Db>(
    db: &D,
    req: LoginRequest,
    idle_ms: i64,
    upstream: Option<&dyn Upstream>,
) -> ApiResult<LoginResponse> {
    let account = match upstream {
        None => check_password(db, &req.user, req.password, "login", "").await?,
        Some(up) => match up.sign_in(&req.user, &req.password).await {
            Ok(proven) => {
                mirror_account(db, &proven.account, &proven.role, &proven.sites).await?;
                db.account(&proven.account).await?.ok_or_else(|| {
                    ApiError::new(ErrorCode::Internal, "the mirrored account is missing")
                })?
            }
            Err(e) if e.code == ErrorCode::Unavailable => {
                check_password(db, &req.user, req.password, "login", "").await?
            }
            Err(e) => return Err(e),
        },
    };
    let token = auth::new_token()?;
    db.add_session(&auth::token_hash(&token), &account.name, now_ms() + idle_ms)
        .await?;
    db.audit(&AuditEntry {
        at: now_text(),
        actor: account.name.clone(),
        role: account.role.clone(),
        device: String::new(),
        site: String::new(),
        action: "login".into(),
        object: String::new(),
    })
    .await?;
    Ok(LoginResponse {
        token,
        role: account.role,
        sites: account.sites,
    })
}

/// Ends the sign-in session of `token` (the dashboard's sign-out), access-logged. A
/// device token is not a session: devices are revoked, not signed out.
pub async fn logout<D: Db>(db: &D, token: Option<&str>) -> ApiResult<()> {
    let caller = caller(db, token).await?;
    if caller.device.is_some() {
        return Err(ApiError::bad(
            "a device signs out by being revoked (`tern admin device revoke`), not here",
        ));
    }
    if let Some(token) = token {
        db.end_session(&auth::token_hash(token)).await?;
    }
    db.audit(&caller.audit(
        "logout",
        caller.sites.first().map_or("", String::as_str),
        "",
    ))
    .await?;
    Ok(())
}

/// A built-in form as the UI draws it (`FormView`, labels in `lang` where the form
/// has that translation): the dashboard labels a record's answers with it. Forms
/// hold no health data; any signed-in caller may read them.
pub async fn form_view<D: Db>(
    db: &D,
    token: Option<&str>,
    form_id: &str,
    version: &str,
    lang: &str,
) -> ApiResult<tern_forms::FormView> {
    caller(db, token).await?;
    let form = tern_record::builtin::form(form_id, version).ok_or_else(|| {
        ApiError::new(
            ErrorCode::NotFound,
            format!(
                "no form `{}` version `{}` on this server",
                form_id.chars().take(40).collect::<String>(),
                version.chars().take(20).collect::<String>()
            ),
        )
    })?;
    Ok(form.view(lang))
}

// ---------------------------------------------------------------- enrolment

pub async fn enrol<D: Db>(
    db: &D,
    req: EnrolRequest,
    upstream: Option<&dyn Upstream>,
) -> ApiResult<EnrolResponse> {
    if req.protocol < protocol::MIN_PROTOCOL_VERSION || req.protocol > protocol::PROTOCOL_VERSION {
        return Err(ApiError::new(
            ErrorCode::Upgrade,
            format!(
                "protocol version {} is not served here (this server speaks {} to {}); update tern",
                req.protocol,
                protocol::MIN_PROTOCOL_VERSION,
                protocol::PROTOCOL_VERSION
            ),
        ));
    }
    check_name("device id", &req.device_id)?;
    check_name("user name", &req.user)?;
    if req.users.len() > MAX_LOCAL_USERS {
        return Err(ApiError::bad(format!(
            "an enrolment names at most {MAX_LOCAL_USERS} local users"
        )));
    }
    for user in &req.users {
        check_name("user name", user)?;
    }
    let mut users = req.users;
    users.sort();
    users.dedup();
    // The code decides which account may enrol; the account's own password proves it
    // (a code alone, or anyone else's password, never does). The backend re-checks
    // the code inside its transaction.
    // Bundle keys (issue 16) are checked before anything is stored.
    let device_keys = req
        .keys
        .as_ref()
        .map(|k| crate::bundle::checked_keys(k, &req.device_id))
        .transpose()?;
    let code_hash = auth::token_hash(&auth::normalise_code(&req.code));
    let code = db.enrolment(&code_hash).await?;
    let account = crate::enrolment::enrolling_account(code.as_ref(), &req.user, now_ms())
        .map_err(|e| ApiError::new(ErrorCode::Forbidden, e.to_string()))?;
    if req.password.is_empty() {
        return Err(ApiError::new(
            ErrorCode::Unauthorized,
            "enrolment needs the account's own password; update tern",
        ));
    }
    verify_account(
        db,
        upstream,
        &account,
        req.password,
        "enrol",
        &req.device_id,
    )
    .await?;
    let token = auth::new_token()?;
    let redeemed = db
        .redeem(&Redeem {
            code_hash,
            device_id: req.device_id.clone(),
            token_hash: auth::token_hash(&token),
            account,
            users,
            now_ms: now_ms(),
        })
        .await?;
    let caller = Caller {
        account: redeemed.account.clone(),
        role: parse_role(&redeemed.role)?,
        sites: vec![redeemed.site.clone()],
        device: Some(req.device_id.clone()),
    };
    db.audit(&caller.audit("enrol", &redeemed.site, &req.device_id))
        .await?;
    tracing::info!(device = %req.device_id, site = %redeemed.site, "device enrolled");
    // Roles sync down from enrolment on: the same list a sync answer carries.
    let sites = vec![redeemed.site];
    let accounts = SiteAccounts::new(db.site_accounts(&sites).await?);
    // Bundles (issue 16): the device's keys into the registry, ours back.
    if let Some(keys) = &device_keys {
        crate::bundle::register_keys(db, &req.device_id, keys).await?;
    }
    let keys = Some(crate::bundle::identity(db).await?.public().keys());
    Ok(EnrolResponse {
        token,
        device_id: req.device_id,
        account: redeemed.account,
        role: redeemed.role,
        sites,
        accounts: Some(accounts),
        keys,
    })
}

/// Changes by `user`, who has no account: refused whole (nothing stored); the message
/// says what to do.
fn no_account(user: &str, site: &str) -> ApiError {
    crate::push::PushRefusal::NoAccount {
        user: user.into(),
        site: site.into(),
    }
    .into()
}

/// A local user of an enrolled device proves the server account of the same name
/// with its own password (online, once per device): from then on the device may push
/// that account's changes. The account must work at one of the device's sites.
pub async fn prove_account<D: Db>(
    db: &D,
    caller: &Caller,
    req: ProveRequest,
    upstream: Option<&dyn Upstream>,
) -> ApiResult<ProveResponse> {
    let device = caller
        .device
        .clone()
        .ok_or_else(|| ApiError::forbidden("prove an account without an enrolled device"))?;
    check_name("user name", &req.account)?;
    let user_public = req
        .public_key
        .as_deref()
        .map(crate::escrow::user_key)
        .transpose()?;
    // The device holds its site's account list already: saying that a name is no
    // account here tells it nothing new, and tells the user what to do.
    let site = caller.sites.first().map_or("", String::as_str);
    match db.account(&req.account).await? {
        Some(a) if caller.sites.iter().any(|s| a.sites.contains(s)) => {}
        // A hub may not know a new account yet: its upstream decides.
        _ if upstream.is_some() => {}
        _ => return Err(no_account(&req.account, site)),
    }
    let account =
        verify_account(db, upstream, &req.account, req.password, "prove", &device).await?;
    let Some(site) = caller.sites.iter().find(|s| account.sites.contains(s)) else {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            format!(
                "account `{}` does not work at this device's site; ask an administrator to \
                 give it the site (`tern admin user change {} --site SITE`)",
                account.name, account.name
            ),
        ));
    };
    db.bind_account(&device, &account.name, now_ms()).await?;
    // An account whose role may read restricted sections receives the device's own
    // escrowed restricted key, sealed to the user's public key (crate::escrow).
    let restricted_key = crate::escrow::grant_for(
        db,
        &device,
        parse_role(&account.role)?,
        user_public.as_ref(),
    )
    .await?;
    let entry = AuditEntry {
        at: now_text(),
        actor: account.name.clone(),
        role: account.role.clone(),
        device: device.clone(),
        site: site.clone(),
        action: "prove".into(),
        object: device.clone(),
    };
    db.audit(&entry).await?;
    if restricted_key.is_some() {
        db.audit(&AuditEntry {
            action: "restricted_key_granted".into(),
            ..entry
        })
        .await?;
    }
    tracing::info!(device = %device, "account proven on device");
    Ok(ProveResponse {
        account: account.name,
        role: account.role,
        sites: account.sites,
        restricted_key,
        bound: Vec::new(),
    })
}

// ---------------------------------------------------------------- supervisor hubs

/// A hub's device proving an account through the hub (`POST /v1/hub/prove`).
#[derive(Clone, Deserialize, Serialize)]
pub struct HubProveRequest {
    pub device: String,
    pub account: String,
    pub password: String,
}

impl std::fmt::Debug for HubProveRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubProveRequest")
            .field("device", &self.device)
            .field("account", &self.account)
            .finish_non_exhaustive()
    }
}

/// A hub's device registry as the hub sends it at each upstream sync.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct HubDevices {
    /// `(device id, revoked on the hub)`.
    pub devices: Vec<(String, bool)>,
}

/// The devices revoked here among those of the hub: the hub refuses them from then on.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct HubRevoked {
    pub revoked: Vec<String>,
    /// `(device, account)`: accounts proven on the hub's devices, bound at the hub too.
    #[serde(default)]
    pub bound: Vec<(String, String)>,
}

/// The caller as a supervisor hub: a device of a supervisor's account.
fn hub_of(caller: &Caller) -> ApiResult<String> {
    match &caller.device {
        Some(d) if caller.role == Role::Supervisor => Ok(d.clone()),
        _ => Err(ApiError::forbidden(
            "act as a supervisor hub (a device of a supervisor's account)",
        )),
    }
}

/// A device that enrolled with a hub proves an account through it: the account's own
/// password is checked here, the device is recorded as enrolled through the hub (at
/// the hub's site) and the account bound to it, so its changes are accepted when the
/// hub forwards them.
pub async fn hub_prove<D: Db>(
    db: &D,
    caller: &Caller,
    req: HubProveRequest,
) -> ApiResult<ProveResponse> {
    let hub = hub_of(caller)?;
    check_name("device id", &req.device)?;
    check_name("user name", &req.account)?;
    let site = caller.sites.first().cloned().unwrap_or_default();
    match db.account(&req.account).await? {
        Some(a) if a.sites.contains(&site) => {}
        _ => return Err(no_account(&req.account, &site)),
    }
    let account = check_password(db, &req.account, req.password, "prove", &req.device).await?;
    db.register_hub_device(&hub, &req.device, &site, &account.name)
        .await?;
    db.bind_account(&req.device, &account.name, now_ms())
        .await?;
    db.audit(&AuditEntry {
        at: now_text(),
        actor: account.name.clone(),
        role: account.role.clone(),
        device: req.device.clone(),
        site,
        action: "prove_via_hub".into(),
        object: hub,
    })
    .await?;
    Ok(ProveResponse {
        account: account.name,
        role: account.role,
        sites: account.sites,
        // The device escrowed its key with the hub, which answers its proofs.
        restricted_key: None,
        bound: db.bound_accounts(&req.device).await?,
    })
}

/// The hub's registry: devices the hub revoked are revoked here too; the answer lists
/// the hub's devices revoked here, which the hub then refuses.
pub async fn hub_devices<D: Db>(db: &D, caller: &Caller, req: HubDevices) -> ApiResult<HubRevoked> {
    let hub = hub_of(caller)?;
    let known: HashMap<String, bool> = db.hub_devices(&hub).await?.into_iter().collect();
    for (device, revoked) in &req.devices {
        if *revoked && known.get(device) == Some(&false) {
            db.revoke(device).await?;
        }
    }
    let revoked = db
        .hub_devices(&hub)
        .await?
        .into_iter()
        .filter(|(_, r)| *r)
        .map(|(d, _)| d)
        .collect();
    // Accounts proven on the hub's devices (here, or through the hub): the hub binds
    // them too, so proofs made at the server reach the hub at its next sync.
    let mut bound = Vec::new();
    for (device, _) in db.hub_devices(&hub).await? {
        for account in db.bound_accounts(&device).await? {
            bound.push((device.clone(), account));
        }
    }
    Ok(HubRevoked { revoked, bound })
}

// ---------------------------------------------------------------- sync

/// A push page after the cheap checks: what to store, and the actors to check.
pub(crate) struct Checked {
    pub(crate) docs: Vec<NewDoc>,
    /// `(device, user)` of every change.
    authors: HashSet<(String, String)>,
    /// The users who wrote each document's changes, beside `docs`; a user whose only
    /// change is the document's empty creation skeleton is not listed.
    doc_users: Vec<HashSet<String>>,
}

/// True for the first change of a document that only creates empty containers (the
/// `answers` map and its lists): it carries no data, so any author may write it. Every
/// new record brings the skeleton of its restricted part, whoever creates the record.
fn is_empty_skeleton(change: &Change) -> bool {
    change.deps().is_empty()
        && change.seq() == 1
        && change
            .decode()
            .operations
            .iter()
            .all(|op| matches!(op.action, automerge::legacy::OpType::Make(_)) && !op.insert)
}

/// `(device, user)` of an actor id `tern:<device>:<user>`.
pub(crate) fn tern_author(actor: &[u8], doc: &str) -> ApiResult<(String, String)> {
    let actor = String::from_utf8_lossy(actor);
    let mut parts = actor.splitn(3, ':');
    match (parts.next(), parts.next(), parts.next()) {
        (Some("tern"), Some(dev), Some(user)) => Ok((dev.to_string(), user.to_string())),
        _ => Err(ApiError::new(
            ErrorCode::Forbidden,
            format!("a chunk of document {doc} has no tern author"),
        )),
    }
}

/// Framing, checksums (Automerge's own, per chunk), sizes and names: everything
/// that needs no database, run on the blocking pool.
pub(crate) fn check_page(
    push: Vec<DocChanges>,
    limits: &tern_record::ChunkLimits,
) -> ApiResult<Checked> {
    let mut docs = Vec::with_capacity(push.len());
    let mut authors = HashSet::new();
    let mut doc_users = Vec::with_capacity(push.len());
    for d in push {
        let mut users = HashSet::new();
        check_name("document id", &d.doc)?;
        check_name("site", &d.site)?;
        let mut changes = Vec::with_capacity(d.changes.len());
        for raw in d.changes {
            let raw = raw.into_vec();
            let damaged = |e: &dyn std::fmt::Display| {
                ApiError::bad(format!("a chunk of document {} is damaged: {e}", d.doc))
            };
            // Bounded before Automerge inflates anything (issue 13).
            tern_record::check_size(&raw, limits).map_err(|e| damaged(&e))?;
            match tern_record::chunk_kind(&raw).map_err(|e| damaged(&e))? {
                ChunkKind::Document => {
                    // Every author of a whole document is in its actor table; the full
                    // load happens in verification, after the acknowledgement.
                    for actor in tern_record::document_actors(&raw).map_err(|e| damaged(&e))? {
                        let (dev, user) = tern_author(&actor, &d.doc)?;
                        authors.insert((dev.clone(), user.clone()));
                        users.insert(user);
                    }
                    changes.push((tern_record::document_hash(&raw), raw));
                }
                ChunkKind::Change => {
                    let change = Change::from_bytes(raw).map_err(|e| damaged(&e))?;
                    let (dev, user) = tern_author(change.actor_id().to_bytes(), &d.doc)?;
                    authors.insert((dev, user.clone()));
                    if !is_empty_skeleton(&change) {
                        users.insert(user);
                    }
                    changes.push((change.hash().0, change.raw_bytes().to_vec()));
                }
            }
        }
        docs.push(NewDoc {
            doc_id: d.doc,
            kind: d.kind.name().into(),
            site: d.site,
            changes,
        });
        doc_users.push(users);
    }
    Ok(Checked {
        docs,
        authors,
        doc_users,
    })
}

/// A page pulled from a hub's upstream server, through the same cheap checks as a
/// push (framing, Automerge checksums, names): what to store with origin `upstream`.
pub fn upstream_page(
    docs: Vec<DocChanges>,
    limits: &tern_record::ChunkLimits,
) -> ApiResult<Vec<NewDoc>> {
    Ok(check_page(docs, limits)?.docs)
}

/// How long a pull with nothing verified to send waits for changes the verifier is
/// still judging (it is woken by every push and takes milliseconds per document).
const VERIFY_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

/// One sync round trip: checks and stores the push page (all or nothing), then
/// reads one pull page. Returns the response and whether new changes were stored.
pub async fn sync<D: Db>(
    db: &D,
    caller: &Caller,
    body: Vec<u8>,
    limits: &tern_record::ChunkLimits,
) -> ApiResult<(SyncResponse, u64)> {
    caller.require(Action::Sync, "sync records")?;
    let device = caller
        .device
        .clone()
        .ok_or_else(|| ApiError::forbidden("sync without an enrolled device"))?;
    let request: SyncRequest = blocking(move || protocol::decode(&body)).await??;
    let pushed = request
        .push
        .iter()
        .map(|d| d.changes.len() as u32)
        .sum::<u32>();
    let request_accounts = request.accounts_version;
    let limits = *limits;
    let mut checked = blocking(move || check_page(request.push, &limits)).await??;
    let stored_new = if checked.docs.is_empty() {
        0
    } else {
        authorise_push(db, caller, &device, &mut checked).await?;
        db.store_changes(&device, &checked.docs).await?
    };
    let scope = Scope {
        sites: caller.sites.clone(),
        restricted: auth::allowed(caller.role, Action::Restricted),
        exclude_origin: device.clone(),
    };
    let cursor = i64::try_from(request.cursor).unwrap_or(i64::MAX);
    let max = (request.max_pull_bytes as usize).clamp(1024, PULL_PAGE_BYTES);
    let mut pulled = db.pull(&scope, cursor, max).await?;
    // Changes for this device acknowledged a moment ago wait for the verifier (pulls
    // never serve unverified chunks): when that is all there is, give it a moment
    // rather than leave them to the next sync.
    let deadline = std::time::Instant::now() + VERIFY_WAIT;
    while pulled.waiting && pulled.items.is_empty() && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        pulled = db.pull(&scope, cursor, max).await?;
    }
    let mut response = blocking(move || build_response(pulled, pushed, stored_new)).await??;
    // Roles sync down: the device's copy of its sites' accounts, when not current.
    let accounts = SiteAccounts::new(db.site_accounts(&caller.sites).await?);
    if accounts.version != request_accounts {
        response.accounts = Some(accounts);
    }
    let audit = (pushed > 0 || !response.docs.is_empty()).then(|| {
        caller.audit(
            "sync",
            caller.sites.first().map_or("", String::as_str),
            &format!("pushed={pushed} pulled_docs={}", response.docs.len()),
        )
    });
    db.touch_device(&device, &now_text(), audit.as_ref())
        .await?;
    tracing::info!(device = %device, pushed, stored_new, pulled_docs = response.docs.len(), more = response.more, "sync round trip");
    Ok((response, stored_new))
}

/// Every author of the page is an account that proved itself on the pushing device
/// (its own password, online: [`prove_account`] or enrolment), with a role that may
/// write this kind of document at its site; every change was made on the pushing
/// device, or on a device enrolled through it when it is a supervisor hub; every
/// document is in the device's scope. The site of each document is the
/// one the server first stored for it, never a later claim: it is written into the
/// page here, so the log's site (what pulls select by) is the server's own.
/// The rule is [`crate::push::authorise`]; this gathers what it is judged by.
pub(crate) async fn authorise_push<D: Db>(
    db: &D,
    caller: &Caller,
    device: &str,
    page: &mut Checked,
) -> ApiResult<()> {
    let ids: Vec<String> = page.docs.iter().map(|d| d.doc_id.clone()).collect();
    let known: HashMap<String, (String, String)> = db
        .doc_meta(&ids)
        .await?
        .into_iter()
        .map(|(id, k, s)| (id, (k, s)))
        .collect();
    // A supervisor hub forwards the changes of the devices enrolled with it.
    let via_hub: HashMap<String, bool> = db.hub_devices(device).await?.into_iter().collect();
    let mut bound: HashMap<String, HashSet<String>> = HashMap::new();
    for (dev, _) in &page.authors {
        if !bound.contains_key(dev) {
            let accounts = db.bound_accounts(dev).await?.into_iter().collect();
            bound.insert(dev.clone(), accounts);
        }
    }
    let mut accounts: HashMap<String, Account> = HashMap::new();
    for (_, user) in &page.authors {
        if let Some(a) = db.account(user).await? {
            accounts.insert(user.clone(), a);
        }
    }
    let facts = crate::push::PushFacts {
        device: device.to_string(),
        sites: caller.sites.clone(),
        via_hub,
        bound,
        accounts,
        known,
    };
    let docs: Vec<crate::push::PushedDoc> = page
        .docs
        .iter()
        .zip(&page.doc_users)
        .map(|(d, users)| crate::push::PushedDoc {
            doc_id: &d.doc_id,
            kind: &d.kind,
            site: &d.site,
            users,
        })
        .collect();
    let sites = crate::push::authorise(&facts, &page.authors, &docs)?;
    // The server's site, never the pusher's label.
    for (d, site) in page.docs.iter_mut().zip(sites) {
        d.site = site;
    }
    Ok(())
}

pub(crate) fn build_response(
    pulled: Pulled,
    pushed: u32,
    stored_new: u64,
) -> ApiResult<SyncResponse> {
    let mut forms = Vec::new();
    let mut config = Vec::new();
    let mut docs: Vec<DocChanges> = Vec::new();
    for item in pulled.items {
        match item.kind.as_str() {
            "form" => forms.push(
                serde_json::from_slice::<FormItem>(&item.bytes)
                    .map_err(|e| ApiError::new(ErrorCode::Internal, format!("stored form: {e}")))?,
            ),
            "config" => config.push(
                serde_json::from_slice::<ConfigItem>(&item.bytes).map_err(|e| {
                    ApiError::new(ErrorCode::Internal, format!("stored config: {e}"))
                })?,
            ),
            k => {
                let kind = Kind::parse(k).ok_or_else(|| {
                    ApiError::new(ErrorCode::Internal, "stored item of unknown kind")
                })?;
                // The summary goes with a whole document only: the device stores such
                // a document as received and lists it from the summary.
                let whole = tern_record::chunk_kind(&item.bytes) == Ok(ChunkKind::Document);
                let summary = match (whole, &item.summary) {
                    (true, Some(json)) => serde_json::from_str(json).ok(),
                    _ => None,
                };
                match docs.last_mut() {
                    Some(last) if last.doc == item.doc_id => {
                        last.changes.push(serde_bytes::ByteBuf::from(item.bytes));
                        last.summary = last.summary.take().or(summary);
                    }
                    _ => docs.push(DocChanges {
                        doc: item.doc_id,
                        kind,
                        site: item.site,
                        changes: vec![serde_bytes::ByteBuf::from(item.bytes)],
                        summary,
                    }),
                }
            }
        }
    }
    Ok(SyncResponse {
        acked: pushed,
        stored_new: u32::try_from(stored_new).unwrap_or(u32::MAX),
        forms,
        config,
        docs,
        cursor: u64::try_from(pulled.cursor).unwrap_or(0),
        more: pulled.more,
        head: u64::try_from(pulled.head).unwrap_or(0),
        accounts: None,
    })
}

// ---------------------------------------------------------------- records, export, audit

pub async fn list_records<D: Db>(db: &D, caller: &Caller) -> ApiResult<Vec<RecordRow>> {
    caller.require(Action::ListRecords, "list records")?;
    let mut rows = db.records(caller.site_filter()).await?;
    if auth::all_sites(caller.role) {
        // Pseudonymised only: no subject link for roles without identity rights.
        for r in &mut rows {
            r.subject_id = pseudonym(&r.subject_id);
        }
    }
    db.audit(&caller.audit(
        "list_records",
        caller.sites.first().map_or("", String::as_str),
        &format!("count={}", rows.len()),
    ))
    .await?;
    Ok(rows)
}

/// The daily activity report of the caller's sites over `days` days (FORMS.md 8),
/// access-logged.
pub async fn activity_report<D: Db>(
    db: &D,
    caller: &Caller,
    days: u32,
) -> ApiResult<crate::reports::ActivityReport> {
    caller.require(Action::ListRecords, "see reports")?;
    let rows = db.records(caller.site_filter()).await?;
    let mut devices = db.devices().await?;
    if let Some(sites) = caller.site_filter() {
        devices.retain(|d| sites.contains(&d.site));
    }
    let today = chrono::Utc::now().date_naive();
    let facts = db
        .facts(&crate::db::FactsFilter {
            sites: caller.site_filter().map(<[String]>::to_vec),
            from: Some(
                (today - chrono::Duration::days(i64::from(days.clamp(1, 92)) - 1)).to_string(),
            ),
            until: Some(today.to_string()),
            ..Default::default()
        })
        .await?;
    let report = blocking(move || {
        let mut r = crate::reports::daily_activity(&rows, &devices, chrono::Utc::now(), days);
        crate::reports::add_outcomes(&mut r, &facts);
        r
    })
    .await?;
    db.audit(&caller.audit(
        "report_activity",
        caller.sites.first().map_or("", String::as_str),
        &format!("days={days}"),
    ))
    .await?;
    Ok(report)
}

/// The projection row of a record at one of the caller's sites; any other record is
/// "not found", so ids of other sites cannot be probed.
async fn record_at_sites<D: Db>(db: &D, caller: &Caller, id: &str) -> ApiResult<RecordRow> {
    check_name("record id", id)?;
    let not_found = || {
        ApiError::new(
            ErrorCode::NotFound,
            format!("no record `{id}` at your sites"),
        )
    };
    let row = db.record(id).await?.ok_or_else(not_found)?;
    if !caller.sites.contains(&row.site) {
        return Err(not_found());
    }
    Ok(row)
}

/// Opens a record (access-logged): its answers, and its restricted section only for
/// roles that may see it.
pub async fn view_record<D: Db>(db: &D, caller: &Caller, id: &str) -> ApiResult<serde_json::Value> {
    caller.require(Action::ViewRecord, "open records")?;
    let row = record_at_sites(db, caller, id).await?;
    // Only what the verifier judged (issue 13): a chunk acknowledged a moment ago
    // may still be quarantined.
    let main = db.doc_changes(id, db.verified_seq(id).await?).await?;
    let restricted = if auth::allowed(caller.role, Action::Restricted) {
        let twin = format!("{id}.restricted");
        Some(db.doc_changes(&twin, db.verified_seq(&twin).await?).await?)
    } else {
        None
    };
    let view = blocking(move || -> ApiResult<serde_json::Value> {
        let load = |chunks: Vec<Vec<u8>>| -> ApiResult<automerge::Automerge> {
            tern_record::load_chunks(chunks)
                .map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))
        };
        let doc = load(main)?;
        let mut v = tern_record::document_answers(&doc);
        if let Some(r) = restricted {
            v["restricted"] = tern_record::document_answers(&load(r)?);
        }
        Ok(v)
    })
    .await??;
    db.audit(&caller.audit(
        if auth::allowed(caller.role, Action::Restricted) {
            "view_record_restricted"
        } else {
            "view_record"
        },
        &row.site,
        id,
    ))
    .await?;
    // The moves this caller may make from the dashboard (submitting stays on devices).
    let moves = tern_record::remote_status_moves(caller.role, &row.status);
    Ok(serde_json::json!({ "record": row, "data": view, "status_moves": moves }))
}

/// A workflow move asked for from the dashboard: `{"to": "locked"}`, a comment with
/// a return.
#[derive(Debug, Deserialize)]
pub struct StatusRequest {
    pub to: String,
    #[serde(default)]
    pub comment: Option<String>,
}

/// Moves a record along the workflow from the dashboard (FORMS.md 2: a clinician
/// signs a submitted record, a supervisor locks or returns it), by the same table the
/// devices use ([`tern_record::status_change`]). The server writes the change as the
/// signed-in account, on a device id of its own for each move (`web-…`), stores it
/// like a pushed change and leaves it to the verifier; devices get it at their next
/// sync. Refused while the record has changes not yet verified, so a move never
/// builds on something that may be quarantined; answered once the move itself is
/// verified (up to a second). Access-logged.
pub async fn move_record<D: Db>(
    db: &D,
    wake: &tokio::sync::Notify,
    caller: &Caller,
    id: &str,
    req: StatusRequest,
) -> ApiResult<serde_json::Value> {
    caller.require(Action::ViewRecord, "open records")?;
    if caller.device.is_some() {
        return Err(ApiError::bad(
            "a device moves records in its own store and syncs the change",
        ));
    }
    let row = record_at_sites(db, caller, id).await?;
    if db.doc_pending(id).await? {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            "the record has changes the server is still checking; try again in a moment",
        ));
    }
    let chunks = db.doc_changes(id, i64::MAX).await?;
    let (role, user) = (caller.role, caller.account.clone());
    let device = format!("web-{}", &auth::new_token()?[..8]);
    let to = req.to.clone();
    let bytes = blocking(move || -> ApiResult<Vec<u8>> {
        let mut doc = tern_record::load_chunks(chunks)
            .map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))?;
        tern_record::status_change(
            &mut doc,
            role,
            &device,
            &user,
            &to,
            req.comment.as_deref(),
            now_ms(),
        )
        .map_err(|e| match e {
            tern_record::RecordError::Forbidden { .. } => ApiError::forbidden(&e.to_string()),
            tern_record::RecordError::BadTransition { .. } => {
                ApiError::new(ErrorCode::Conflict, e.to_string())
            }
            other => ApiError::bad(other.to_string()),
        })
    })
    .await??;
    // A change is named by its Automerge hash, as when a device pushes it.
    let parsed =
        Change::from_bytes(bytes).map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))?;
    let change = NewDoc {
        doc_id: id.to_string(),
        kind: "record".into(),
        site: row.site.clone(),
        changes: vec![(parsed.hash().0, parsed.raw_bytes().to_vec())],
    };
    db.store_changes("dashboard", &[change]).await?;
    db.audit(&caller.audit("move_record", &row.site, &format!("{id} to={}", req.to)))
        .await?;
    // Answer once verified (milliseconds), so the dashboard reads its own move back.
    wake.notify_one();
    let deadline = std::time::Instant::now() + VERIFY_WAIT;
    while db.doc_pending(id).await? && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    Ok(serde_json::json!({ "record_id": id, "status": req.to }))
}

/// A stable pseudonym of a subject id for exports (FORMS.md 7).
pub(crate) fn pseudonym(subject: &str) -> String {
    let h = Sha256::digest(format!("tern-export:{subject}").as_bytes());
    format!("P-{}", &hex::encode(h)[..16])
}

/// Pseudonymised export of the record list (data managers), access-logged.
pub async fn export<D: Db>(db: &D, caller: &Caller) -> ApiResult<Vec<RecordRow>> {
    caller.require(Action::Export, "export data")?;
    let mut rows = db.records(None).await?;
    for r in &mut rows {
        r.subject_id = pseudonym(&r.subject_id);
    }
    db.audit(&caller.audit("export", "", &format!("records={}", rows.len())))
        .await?;
    Ok(rows)
}

pub async fn audit_log<D: Db>(db: &D, caller: &Caller) -> ApiResult<Vec<AuditEntry>> {
    caller.require(Action::ReadAudit, "read the access log")?;
    Ok(db.audit_list(caller.site_filter(), 1000).await?)
}

pub async fn admin_devices<D: Db>(db: &D, caller: &Caller) -> ApiResult<Vec<DeviceRow>> {
    caller.require(Action::Administer, "manage devices")?;
    Ok(db.devices().await?)
}

pub async fn admin_revoke<D: Db>(db: &D, caller: &Caller, device: &str) -> ApiResult<()> {
    caller.require(Action::Administer, "manage devices")?;
    revoke(db, device).await?;
    db.audit(&caller.audit("revoke_device", "", device)).await?;
    Ok(())
}
