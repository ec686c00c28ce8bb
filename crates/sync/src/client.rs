//! The HTTP client (reqwest, rustls): enrolment and the sync loop over a device
//! store. It carries out what [`crate::plan::Session`] decides; every durable step
//! (acknowledged push, applied pull page with its cursor) is committed before the
//! next round trip, so an interrupted sync resumes where it stopped.

use crate::plan::{Session, SyncReport};
use crate::protocol::{
    self, EnrolRequest, EnrolResponse, ErrorBody, ErrorCode, FrameError, ProveRequest,
    ProveResponse, RestrictedKeyEscrow, RestrictedKeyEscrowed, SyncResponse, CONTENT_TYPE,
    PUSH_PAGE_BYTES,
};
use reqwest::blocking::{Client, Response};
use serde::Serialize;
use std::time::Duration;
use tern_store::{
    Enrolment, IncomingDoc, IncomingForm, OutgoingPage, PeerExtras, PeerRefusal, Store, StoreError,
};

/// Everything a sync or an enrolment can fail with. Messages say what to do.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("cannot reach the server at {url} ({source}); the data stays on this device, sync again when online")]
    Offline {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error(
        "this device was revoked by the server; its keys and database were destroyed \
         (work the server had not received was kept encrypted beside the database, in \
         FILE.unsynced-TIME.tern: give it to the programme's data manager)"
    )]
    Revoked,
    #[error("the server refused this version of tern: {0}; update tern")]
    Upgrade(String),
    #[error("the server refused the request ({code:?}): {message}")]
    Refused { code: ErrorCode, message: String },
    #[error(
        "this store is not enrolled; run `tern device --db FILE enroll --server URL --code CODE`"
    )]
    NotEnrolled,
    #[error("the server's answer is malformed: {0}")]
    Frame(#[from] FrameError),
    #[error("the server's answer is inconsistent: {0}")]
    Plan(#[from] crate::plan::PlanError),
    #[error("the server answered HTTP {status} without an explanation")]
    Http { status: u16 },
    #[error("the server at {url} presented a TLS certificate this device does not trust ({reason}); if the server uses its own certificate, trust it with TERN_CA_CERT=FILE.pem")]
    Untrusted { url: String, reason: String },
    #[error("extra trusted certificates: {0}")]
    Certificates(String),
    #[error("the sync stopped unexpectedly; nothing acknowledged is lost, sync again")]
    Interrupted,
    #[error(
        "{0} is plain http on a network: health data and the device's token would travel \
         readable. Use the server's https:// address (plain http is allowed on this \
         computer only, or where the administrator sets {ALLOW_HTTP_ENV}=1)"
    )]
    Insecure(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl SyncError {
    /// True when the device or its input was refused (exit 1 either way for the CLI,
    /// but the app shows refusals differently from a missing network).
    pub fn is_offline(&self) -> bool {
        matches!(self, SyncError::Offline { .. })
    }
}

/// Set to `1` to allow plain `http://` servers beyond this computer (a test network).
pub const ALLOW_HTTP_ENV: &str = "TERN_ALLOW_HTTP";

/// Plain http only to this computer (loopback) unless the administrator allows it:
/// on a network, anyone on the Wi-Fi would read the data and could forge answers
/// (a forged `revoked` would make the device destroy its data).
fn check_transport(url: &str) -> Result<(), SyncError> {
    let Ok(parsed) = reqwest::Url::parse(url) else {
        return Ok(()); // reqwest reports a malformed address itself.
    };
    if parsed.scheme() != "http" || std::env::var(ALLOW_HTTP_ENV).as_deref() == Ok("1") {
        return Ok(());
    }
    let host = parsed
        .host_str()
        .unwrap_or_default()
        .trim_start_matches('[')
        .trim_end_matches(']');
    let loopback = host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if loopback {
        Ok(())
    } else {
        Err(SyncError::Insecure(url.to_string()))
    }
}

/// The HTTP client: the public web PKI plus extra roots, or, for a supervisor hub,
/// only the certificate with the pinned fingerprint.
fn http_pinned(pin: Option<[u8; 32]>) -> Result<Client, SyncError> {
    let mut builder = Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(300));
    if let Some(pin) = pin {
        return builder
            .use_preconfigured_tls(crate::tls::pinned_config(pin)?)
            .build()
            .map_err(|e| SyncError::Certificates(e.to_string()));
    }
    for root in crate::tls::extra_roots()? {
        builder = builder.add_root_certificate(root);
    }
    // Build errors only happen with a broken TLS backend; fall back to the default.
    Ok(builder.build().unwrap_or_default())
}

/// The certificate fingerprint this store pins (it enrolled with a hub's code).
fn store_pin(store: &Store) -> Result<Option<[u8; 32]>, SyncError> {
    store
        .server_pin()?
        .map(|p| crate::tls::parse_pin(&p))
        .transpose()
}

/// The client for this store's server: pinned when it enrolled with a hub's code.
fn http_for(store: &Store) -> Result<Client, SyncError> {
    http_pinned(store_pin(store)?)
}

/// POSTs `body` as JSON (with a bearer token when given) and reads a JSON answer: the
/// small calls a supervisor hub makes to its upstream server. `pin`: trust only the
/// certificate with this fingerprint.
pub fn post_json<T: Serialize, R: serde::de::DeserializeOwned>(
    url: &str,
    token: Option<&str>,
    body: &T,
    pin: Option<[u8; 32]>,
) -> Result<R, SyncError> {
    check_transport(url)?;
    let mut req = http_pinned(pin)?
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(serde_json::to_vec(body).map_err(|e| FrameError::Malformed(e.to_string()))?);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().map_err(offline(url))?;
    let status = resp.status().as_u16();
    let bytes = resp.bytes().map_err(offline(url))?;
    if status != 200 {
        return Err(error_from(url, status, &bytes));
    }
    serde_json::from_slice(&bytes).map_err(|e| FrameError::Malformed(format!("answer: {e}")).into())
}

/// One sync round trip as messages (a supervisor hub is not a device store): the
/// request out, the answer in, with the bytes sent and received.
pub fn round_trip(
    server: &str,
    token: &str,
    request: &protocol::SyncRequest,
    pin: Option<[u8; 32]>,
) -> Result<(SyncResponse, u64, u64), SyncError> {
    let url = format!("{}/v1/sync", server.trim_end_matches('/'));
    check_transport(&url)?;
    let body = protocol::encode(request)?;
    let sent = body.len() as u64;
    let resp = http_pinned(pin)?
        .post(&url)
        .bearer_auth(token)
        .header(reqwest::header::CONTENT_TYPE, CONTENT_TYPE)
        .body(body)
        .send()
        .map_err(offline(&url))?;
    let status = resp.status().as_u16();
    let bytes = resp.bytes().map_err(offline(&url))?;
    if status != 200 {
        return Err(error_from(&url, status, &bytes));
    }
    let received = bytes.len() as u64;
    Ok((protocol::decode(&bytes)?, sent, received))
}

fn offline(url: &str) -> impl FnOnce(reqwest::Error) -> SyncError + '_ {
    move |source| match crate::tls::certificate_failure(&source) {
        Some(reason) => SyncError::Untrusted {
            url: url.to_string(),
            reason,
        },
        None => SyncError::Offline {
            url: url.to_string(),
            source,
        },
    }
}

/// Approximate size on the wire of the request line and headers, so reported bytes
/// are what a metered link counts rather than bodies alone.
fn head_bytes(req: &reqwest::blocking::Request) -> u64 {
    let url = req.url();
    let mut n = req.method().as_str().len() + url.path().len() + " HTTP/1.1\r\n".len() + 1;
    n += "host: \r\n".len() + url.host_str().map_or(0, str::len) + 6;
    n += "accept: */*\r\n".len();
    for (k, v) in req.headers() {
        n += k.as_str().len() + v.len() + 4;
    }
    n += 2;
    n as u64
}

fn response_head_bytes(resp: &Response) -> u64 {
    let mut n = "HTTP/1.1 200 OK\r\n".len() + 2;
    for (k, v) in resp.headers() {
        n += k.as_str().len() + v.len() + 4;
    }
    n as u64
}

/// Whether answers from `url` are authenticated: HTTPS (the server's certificate was
/// verified, or the hub's pinned) or plain http to this computer. A `revoked` answer
/// destroys a device's data, so it is acted on only from such an answer.
fn authenticated_transport(url: &str) -> bool {
    let Ok(parsed) = reqwest::Url::parse(url) else {
        return false;
    };
    match parsed.scheme() {
        "https" => true,
        "http" => {
            let host = parsed
                .host_str()
                .unwrap_or_default()
                .trim_start_matches('[')
                .trim_end_matches(']');
            host == "localhost"
                || host
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }
        _ => false,
    }
}

fn error_from(url: &str, status: u16, body: &[u8]) -> SyncError {
    match serde_json::from_slice::<ErrorBody>(body) {
        // The server answers a revoked device's token with 403 `revoked`; anything
        // else saying so (another status, an unauthenticated connection where
        // TERN_ALLOW_HTTP=1 allowed plain http) is reported, never acted on.
        Ok(e) if e.code == ErrorCode::Revoked && status == 403 && authenticated_transport(url) => {
            SyncError::Revoked
        }
        Ok(e) if e.code == ErrorCode::Revoked => SyncError::Refused {
            code: e.code,
            message: format!(
                "{} (HTTP {status}; not acted on: this device destroys its data only on a \
                 revocation received over HTTPS or from this computer, and keeps it)",
                e.message
            ),
        },
        Ok(e) if e.code == ErrorCode::Upgrade => SyncError::Upgrade(e.message),
        Ok(e) => SyncError::Refused {
            code: e.code,
            message: e.message,
        },
        Err(_) => SyncError::Http { status },
    }
}

/// Redeems a one-time enrolment code and records the enrolment in the store, with
/// the site's account list when the server sends it (same transaction). `password` is
/// the acting user's server account password (the proof that they are that account);
/// the acting user is proven from then on. The device names all its local users: the
/// server refuses, storing nothing and keeping the code valid, when one is not an
/// account of the site (the store is left as it was).
pub fn enrol(
    store: &mut Store,
    server: &str,
    code: &str,
    password: &str,
) -> Result<Enrolment, SyncError> {
    let server = server.trim_end_matches('/').to_string();
    let url = format!("{server}/v1/enroll");
    // Refused before the code is spent.
    if store.peers()?.iter().any(|p| p.server == server) {
        return Err(StoreError::from(PeerRefusal::AlreadyEnrolled { server }).into());
    }
    // A hub's code pins its certificate: the enrolment itself trusts only it, and the
    // pin is kept with the enrolment, so no later request to this peer trusts another.
    let (code, pin) = crate::tls::split_pinned_code(code)?;
    let code = code.as_str();
    // Bundle keys (issue 16) travel with the enrolment.
    let me = crate::device_bundle::device_identity(store).map_err(bundle_keys_error)?;
    let mut users = store.local_user_names()?;
    if !users.iter().any(|u| u == store.user()) {
        users.push(store.user().to_string());
    }
    let request = EnrolRequest {
        protocol: protocol::PROTOCOL_VERSION,
        code: code.trim().to_string(),
        device_id: store.device().to_string(),
        user: store.user().to_string(),
        password: password.to_string(),
        users,
        keys: Some(me.public().keys()),
    };
    let answer: EnrolResponse = post_json(&url, None, &request, pin)?;
    let peer = answer
        .keys
        .as_ref()
        .map(crate::bundle::PublicIdentity::parse)
        .transpose()
        .map_err(|e| FrameError::Malformed(e.to_string()))?;
    let enrolment = Enrolment {
        server,
        token: answer.token,
        account: answer.account,
        role: answer.role,
        sites: answer.sites,
    };
    let accounts = answer
        .accounts
        .as_ref()
        .map(|a| (a.version, a.accounts.as_slice()));
    let pin = pin.map(hex::encode);
    store.add_peer(
        &enrolment,
        accounts,
        PeerExtras {
            pin: pin.as_deref(),
            bundle_peer: peer.as_ref().map(|p| p.id()),
        },
    )?;
    // The peer's bundle keys only once it is a peer: a refused enrolment (another
    // site) leaves no bundle peer behind.
    if let Some(peer) = &peer {
        crate::device_bundle::keep_peer(store, peer).map_err(bundle_keys_error)?;
    }
    // An enrolling clinician or supervisor made the device's restricted key: escrowed
    // now, or at the next sync if this fails (the enrolment stands either way).
    let _ = escrow_restricted_key(store);
    Ok(enrolment)
}

/// Escrows the device's restricted key pair with its server over the device's
/// authenticated channel, when this session holds it and the server has not kept it
/// yet (`Store::restricted_key_to_escrow`; docs/security.md): a clinician or
/// supervisor proven on this device later receives it with their proof. Idempotent:
/// the server accepts the same key again and the store records its answer, so an
/// interrupted escrow is simply sent again. An older server (404) keeps nothing.
/// Another key already escrowed for this device is refused (`Refused`, `Conflict`).
pub fn escrow_restricted_key(store: &mut Store) -> Result<(), SyncError> {
    let Some(pair) = store.restricted_key_to_escrow()? else {
        return Ok(());
    };
    let enrolment = store.enrolment()?.ok_or(SyncError::NotEnrolled)?;
    let url = format!("{}/v1/device/restricted-key", enrolment.server);
    let request = RestrictedKeyEscrow {
        public: pair.public_hex(),
        secret: pair.secret_hex().as_str().to_string(),
    };
    drop(pair);
    let answer: Result<RestrictedKeyEscrowed, SyncError> =
        post_json(&url, Some(&enrolment.token), &request, store_pin(store)?);
    drop(request);
    match answer {
        Ok(kept) => Ok(store.note_restricted_key_escrowed(&kept.public)?),
        Err(SyncError::Http { status: 404 }) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Proves the acting local user's server account with its own `password` (online,
/// once per device) and records the proof in the store: from then on the device
/// pushes that user's changes, and the user may open restricted sections if their
/// role allows. The request carries the user's public key: for a clinician or
/// supervisor, the answer brings the device's restricted key (escrowed by the
/// device) sealed to it, which the store keeps as the user's grant, so they open
/// restricted sections at once. A user already proven is not asked again (returns at
/// once): one who still waits for the key gets it from a holder's session on the
/// device, which grants it to every proven clinician and supervisor there (the
/// session that escrows the key is always such a session).
pub fn prove(store: &mut Store, password: &str) -> Result<(), SyncError> {
    if store.is_proven()? {
        return Ok(());
    }
    let enrolment = store.enrolment()?.ok_or(SyncError::NotEnrolled)?;
    let url = format!("{}/v1/device/accounts", enrolment.server);
    let request = ProveRequest {
        account: store.user().to_string(),
        password: password.to_string(),
        public_key: store.user_public_key(),
    };
    let answer: ProveResponse =
        post_json(&url, Some(&enrolment.token), &request, store_pin(store)?)?;
    store.set_proven(&answer.role)?;
    if let Some(sealed) = answer
        .restricted_key
        .as_deref()
        .and_then(|h| hex::decode(h).ok())
    {
        store.accept_restricted_key(&sealed)?;
    }
    // The first holder of a device enrolled before escrow existed (or whose proof just
    // made the key) escrows it; a failure leaves it for the next sync.
    let _ = escrow_restricted_key(store);
    Ok(())
}

/// Page sizes of a sync; the defaults suit real links.
#[derive(Debug, Clone, Copy)]
pub struct SyncOptions {
    pub push_page_bytes: usize,
    pub pull_page_bytes: u32,
}

impl Default for SyncOptions {
    fn default() -> SyncOptions {
        SyncOptions {
            push_page_bytes: PUSH_PAGE_BYTES,
            pull_page_bytes: protocol::PULL_PAGE_BYTES as u32,
        }
    }
}

/// Runs one sync of `store` with its chosen peer (the first hub or server it
/// enrolled with, unless `Store::use_peer` chose another). On `revoked` (a 403 over an
/// authenticated connection) the work the server has not acknowledged is first kept
/// in an encrypted file beside the database (`Store::keep_unsynced`; if that fails,
/// nothing is destroyed), then the store is destroyed (key file, database) before
/// the error is returned; otherwise the store is handed back with the counters.
pub fn sync(store: Store) -> Result<(Store, SyncReport), SyncError> {
    sync_with(store, &SyncOptions::default())
}

/// [`sync`] with chosen page sizes.
pub fn sync_with(store: Store, options: &SyncOptions) -> Result<(Store, SyncReport), SyncError> {
    sync_reporting(store, options, |_| {})
}

/// Where a running sync is, after each round trip (for a progress bar).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SyncProgress {
    /// Still sending this device's changes (else only pulling).
    pub pushing: bool,
    /// Share of the local changes queued at the start that the server acknowledged.
    pub pushed: f64,
    /// Share of the server's log (as of the last answer) this device has pulled.
    pub pulled: f64,
    pub round_trips: u32,
}

impl SyncProgress {
    /// One number for one bar: pushing counts as the first half when there is
    /// anything to push.
    pub fn fraction(&self) -> f64 {
        if self.pushing {
            self.pushed / 2.0
        } else {
            0.5 + self.pulled / 2.0
        }
    }
}

/// [`sync_with`], calling `on_progress` after every round trip.
pub fn sync_reporting(
    mut store: Store,
    options: &SyncOptions,
    mut on_progress: impl FnMut(&SyncProgress),
) -> Result<(Store, SyncReport), SyncError> {
    match sync_inner(&mut store, options, &mut on_progress) {
        Err(SyncError::Revoked) => {
            store.keep_unsynced()?;
            store.destroy()?;
            Err(SyncError::Revoked)
        }
        Err(e) => Err(e),
        Ok(report) => Ok((store, report)),
    }
}

fn sync_inner(
    store: &mut Store,
    options: &SyncOptions,
    on_progress: &mut dyn FnMut(&SyncProgress),
) -> Result<SyncReport, SyncError> {
    let enrolment = store.enrolment()?.ok_or(SyncError::NotEnrolled)?;
    let url = format!("{}/v1/sync", enrolment.server);
    check_transport(&url)?;
    let client = http_for(store)?;
    exchange_bundle_keys(store, &enrolment, &client)?;
    // A holder's session escrows the device's restricted key if the server has not
    // kept it yet (a device enrolled before escrow existed). A refusal (another key
    // already escrowed for this device) does not stop the sync: holders' sessions
    // still grant the key on the device.
    match escrow_restricted_key(store) {
        Ok(()) | Err(SyncError::Refused { .. }) => {}
        Err(e) => return Err(e),
    }
    let mut session = Session::new(store.sync_cursor()?.max(0) as u64)
        .with_pull_bytes(options.pull_page_bytes)
        .with_accounts_version(store.accounts_version()?);
    let mut acked = store.push_acked()?;
    let (push_from, push_to) = (acked, store.last_local_seq()?);
    let pull_from = store.sync_cursor()?.max(0) as u64;
    let share = |done: f64, total: f64| {
        if total <= 0.0 {
            1.0
        } else {
            (done / total).clamp(0.0, 1.0)
        }
    };
    // The next push page, built while the previous request was in flight.
    let mut prepared: Option<OutgoingPage> = None;
    loop {
        let page = match prepared.take() {
            Some(p) => p,
            None => store.pending_changes(acked, options.push_page_bytes)?,
        };
        let outgoing = session.request(&page)?;
        let body = protocol::encode(&outgoing.request)?;
        let req = client
            .post(&url)
            .bearer_auth(&enrolment.token)
            .header(reqwest::header::CONTENT_TYPE, CONTENT_TYPE)
            .body(body)
            .build()
            .map_err(offline(&url))?;
        let sent = head_bytes(&req)
            + req
                .body()
                .and_then(|b| b.as_bytes())
                .map_or(0, |b| b.len() as u64);
        // While the server works on this page, build the next one as if this one
        // will be acknowledged; it is thrown away if it is not.
        let (answer, next) = std::thread::scope(|scope| {
            let in_flight = scope.spawn(|| -> Result<_, reqwest::Error> {
                let resp = client.execute(req)?;
                let status = resp.status().as_u16();
                let head = response_head_bytes(&resp);
                Ok((status, head, resp.bytes()?))
            });
            let next = page
                .upto
                .map(|upto| store.pending_changes(upto, options.push_page_bytes));
            let answer = match in_flight.join() {
                Ok(result) => result.map_err(offline(&url)),
                Err(_) => Err(SyncError::Interrupted),
            };
            (answer, next)
        });
        let (status, head, bytes) = answer?;
        if status != 200 {
            return Err(error_from(&url, status, &bytes));
        }
        let response: SyncResponse = protocol::decode(&bytes)?;
        let response_head = response.head;
        if let Some(accounts) = &response.accounts {
            store.apply_accounts(accounts.version, &accounts.accounts)?;
        }
        prepared = next.transpose()?;
        let step = session.on_response(&outgoing, &response, sent, head + bytes.len() as u64)?;
        if let Some(upto) = step.ack_upto {
            store.mark_pushed(upto)?;
            acked = upto;
        }
        let (forms, config, docs) = incoming(response);
        let applied = store.apply_pulled(forms, config, docs, step.cursor as i64)?;
        session.applied(applied.new_changes);
        let pending = store.has_pending_changes()?;
        on_progress(&SyncProgress {
            pushing: pending,
            pushed: share((acked - push_from) as f64, (push_to - push_from) as f64),
            pulled: share(
                step.cursor.saturating_sub(pull_from) as f64,
                response_head.saturating_sub(pull_from) as f64,
            ),
            round_trips: session.report().round_trips,
        });
        if session.finished(&step, pending) {
            break;
        }
    }
    store.set_last_sync(&chrono_now())?;
    Ok(session.report().clone())
}

/// A pull page as the store applies it: forms, configuration tables, documents (a
/// sync's answer and a bundle's page alike).
pub(crate) fn incoming(
    response: SyncResponse,
) -> (Vec<IncomingForm>, Vec<(String, String)>, Vec<IncomingDoc>) {
    let forms = response
        .forms
        .into_iter()
        .map(|f| IncomingForm {
            definition: f.definition,
            translations: f.translations,
        })
        .collect();
    let config = response
        .config
        .into_iter()
        .map(|c| (c.name, c.text))
        .collect();
    let docs = response
        .docs
        .into_iter()
        .map(|d| IncomingDoc {
            doc_id: d.doc,
            kind: d.kind.into(),
            changes: d.changes.into_iter().map(|c| c.into_vec()).collect(),
            summary: d.summary,
        })
        .collect();
    (forms, config, docs)
}

/// Bundles (issue 16): a device enrolled before bundles existed has no peer keys; its
/// next sync sends its own with its token and keeps the server's (an authenticated
/// call, so existing devices get keys without enrolling again).
fn exchange_bundle_keys(
    store: &mut Store,
    enrolment: &Enrolment,
    client: &Client,
) -> Result<(), SyncError> {
    if store.peer_bundle_id()?.is_some() {
        return Ok(());
    }
    let me = crate::device_bundle::device_identity(store).map_err(bundle_keys_error)?;
    let url = format!("{}/v1/device/keys", enrolment.server);
    let resp = client
        .post(&url)
        .bearer_auth(&enrolment.token)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(
            serde_json::to_vec(&me.public().keys())
                .map_err(|e| FrameError::Malformed(e.to_string()))?,
        )
        .send()
        .map_err(offline(&url))?;
    let status = resp.status().as_u16();
    let bytes = resp.bytes().map_err(offline(&url))?;
    if status == 404 {
        return Ok(()); // An older server: no bundles there.
    }
    if status != 200 {
        return Err(error_from(&url, status, &bytes));
    }
    let keys: crate::bundle::PeerKeys = serde_json::from_slice(&bytes)
        .map_err(|e| FrameError::Malformed(format!("answer: {e}")))?;
    let peer = crate::bundle::PublicIdentity::parse(&keys)
        .map_err(|e| FrameError::Malformed(e.to_string()))?;
    crate::device_bundle::keep_peer(store, &peer).map_err(bundle_keys_error)?;
    store.set_peer_bundle_id(peer.id())?;
    Ok(())
}

fn bundle_keys_error(e: crate::device_bundle::DeviceBundleError) -> SyncError {
    match e {
        crate::device_bundle::DeviceBundleError::Store(e) => SyncError::Store(e),
        other => SyncError::Frame(FrameError::Malformed(other.to_string())),
    }
}

fn chrono_now() -> String {
    // The store pins "now" in tests; the sync time is only shown to people.
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    format_rfc3339(secs)
}

/// Seconds since 1970 as `YYYY-MM-DDTHH:MM:SSZ` (civil-from-days, no dependency).
fn format_rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn plain_http_only_to_this_computer() {
        for ok in [
            "https://tern.example.org/v1/sync",
            "http://127.0.0.1:8080/v1/sync",
            "http://localhost:1/x",
            "http://[::1]:8080/x",
        ] {
            assert!(super::check_transport(ok).is_ok(), "{ok}");
        }
        if std::env::var(super::ALLOW_HTTP_ENV).is_err() {
            for refused in [
                "http://192.168.1.10:8080/v1/sync",
                "http://tern.example.org/",
            ] {
                assert!(
                    matches!(
                        super::check_transport(refused),
                        Err(super::SyncError::Insecure(_))
                    ),
                    "{refused}"
                );
            }
        }
    }

    #[test]
    fn revocation_is_acted_on_only_from_an_authenticated_403() {
        use super::{error_from, SyncError};
        let body = br#"{"code":"revoked","message":"this device was revoked"}"#;
        for url in [
            "https://tern.example.org/v1/sync",
            "http://127.0.0.1:8080/v1/sync",
        ] {
            assert!(
                matches!(error_from(url, 403, body), SyncError::Revoked),
                "{url}"
            );
        }
        for (url, status) in [
            // Plain http on a network (only reachable with TERN_ALLOW_HTTP=1).
            ("http://192.168.1.10:8080/v1/sync", 403),
            // A proxy or a broken server answering with another status.
            ("https://tern.example.org/v1/sync", 502),
            ("https://tern.example.org/v1/sync", 401),
        ] {
            match error_from(url, status, body) {
                SyncError::Refused { message, .. } => {
                    assert!(message.contains("not acted on"), "{message}")
                }
                other => panic!("{url} {status}: {other:?}"),
            }
        }
    }

    #[test]
    fn dates() {
        assert_eq!(super::format_rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::format_rfc3339(1_780_000_000), "2026-05-28T20:26:40Z");
    }
}
