//! The hubs and servers this device syncs with (its *peers*, issue 15): one
//! enrolment each, with its own token, pinned certificate, cursor and push marker, so a
//! device can sync with its supervisor's hub in the field and with the central server
//! in town.
//!
//! The first enrolment is the device's default peer; [`Store::use_peer`] chooses
//! another for what follows (a sync, a bundle). Every sync-state call below reads and
//! writes the chosen peer's row of `sync_peers`.
//!
//! Invariants:
//! - One row per peer address; a second enrolment must cover the site the device
//!   works for (its records belong there), and never replaces the first.
//! - A device pushes to each peer only changes made on it (`sync_log.from_server = 0`):
//!   a change pulled from one peer reaches the other through the hub's own upstream
//!   sync, never relayed by a device (servers accept a device's own changes only). The
//!   same change arriving from both peers is stored once (the log is unique per
//!   document and hash).
//! - Each peer's push marker and cursor only move forward, in the transaction that
//!   makes what they cover durable.
//! - Tokens live only inside the encrypted database.

use crate::error::{Result, StoreError};
use crate::roles::Role;
use crate::store::Store;
use rusqlite::{params, OptionalExtension};
use serde::Serialize;

/// The peers table (part of the sync schema, `sync_state.rs`).
pub(crate) const PEERS_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS sync_peers(
    peer INTEGER PRIMARY KEY,
    server TEXT NOT NULL UNIQUE,
    token TEXT NOT NULL,
    account TEXT NOT NULL,
    role TEXT NOT NULL,
    sites TEXT NOT NULL,
    pin TEXT,
    bundle_peer TEXT,
    cursor INTEGER NOT NULL DEFAULT 0,
    push_acked INTEGER NOT NULL DEFAULT 0,
    accounts_version INTEGER NOT NULL DEFAULT 0,
    last_sync TEXT);
";

/// Sync schema 4 kept the one enrolment as keys of `sync_state`: they become peer 1.
pub(crate) const MOVE_TO_PEERS: &str = "
INSERT OR IGNORE INTO sync_peers(peer, server, token, account, role, sites, pin, cursor,
                                 push_acked, accounts_version, last_sync)
SELECT 1, s.value,
    coalesce((SELECT value FROM sync_state WHERE key = 'token'), ''),
    coalesce((SELECT value FROM sync_state WHERE key = 'account'), ''),
    coalesce((SELECT value FROM sync_state WHERE key = 'role'), ''),
    coalesce((SELECT value FROM sync_state WHERE key = 'sites'), '[]'),
    (SELECT value FROM sync_state WHERE key = 'pin'),
    coalesce(CAST((SELECT value FROM sync_state WHERE key = 'cursor') AS INTEGER), 0),
    coalesce(CAST((SELECT value FROM sync_state WHERE key = 'push_acked') AS INTEGER), 0),
    coalesce(CAST((SELECT value FROM sync_state WHERE key = 'accounts_version') AS INTEGER), 0),
    (SELECT value FROM sync_state WHERE key = 'last_sync')
FROM sync_state s WHERE s.key = 'server';
DELETE FROM sync_state WHERE key IN ('server', 'token', 'account', 'role', 'sites', 'pin',
    'cursor', 'push_acked', 'accounts_version', 'last_sync');
";

/// What enrolment gave this device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Enrolment {
    pub server: String,
    #[serde(skip)]
    pub token: String,
    /// The server account the local user is bound to.
    pub account: String,
    pub role: String,
    /// The sites the device may hold records of; the first is where it works.
    pub sites: Vec<String>,
}

/// One peer as `tern device status` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SyncPeer {
    /// The hub's or server's address.
    pub server: String,
    pub account: String,
    pub sites: Vec<String>,
    /// The peer's id for bundles (`--to`), once its bundle keys are known.
    pub bundle_peer: Option<String>,
    /// Whether the peer is a supervisor hub whose certificate this device pins.
    pub pinned: bool,
    pub last_sync: Option<String>,
    /// The last sequence of the peer this device applied.
    pub cursor: i64,
    /// Changes made on this device that this peer has not acknowledged.
    pub pending_changes: i64,
    /// Whether sync and bundles use this peer unless told otherwise.
    pub default: bool,
}

/// The rest of a first or later enrolment: the pinned certificate of a hub, and the
/// peer's bundle id.
#[derive(Debug, Clone, Copy, Default)]
pub struct PeerExtras<'a> {
    /// SHA-256 fingerprint (hex) of a hub's certificate.
    pub pin: Option<&'a str>,
    /// The peer's id for bundles.
    pub bundle_peer: Option<&'a str>,
}

/// Why an enrolment, a choice of peer or a peer's keys were refused; nothing changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeerRefusal {
    #[error("the server gave this device no site")]
    NoSite,
    #[error(
        "this device is already enrolled with {server}; a device enrols once with each hub \
         or server (use a new store to start again)"
    )]
    AlreadyEnrolled { server: String },
    #[error(
        "this device works for site `{site}`, and {server} serves {serves}; enrol it with \
         the hub or server of its own site"
    )]
    OtherSite {
        site: String,
        server: String,
        serves: String,
    },
    #[error("`{which}` is not a hub or server this device enrolled with; its peers: {peers}")]
    UnknownPeer { which: String, peers: String },
    #[error(
        "the peer `{peer}` presented other bundle keys than it did before; nothing was \
         changed (ask an administrator: this may be an impostor)"
    )]
    KeysChanged { peer: String },
    #[error("no bundle keys of `{peer}` on this device")]
    NoBundleKeys { peer: String },
}

fn same_server(a: &str, b: &str) -> bool {
    a.trim_end_matches('/') == b.trim_end_matches('/')
}

impl Store {
    /// The row of the chosen peer (the first enrolment unless [`Store::use_peer`]
    /// chose another); `None` before enrolment.
    fn peer_row(&self) -> Result<Option<i64>> {
        if !self.synced()? {
            return Ok(None);
        }
        if let Some(p) = self.peer {
            return Ok(Some(p));
        }
        Ok(self
            .conn
            .query_row("SELECT min(peer) FROM sync_peers", [], |r| r.get(0))?)
    }

    /// One column of the chosen peer's row (`column` is one of the table's own names).
    fn peer_get<T: rusqlite::types::FromSql>(&self, column: &'static str) -> Result<Option<T>> {
        let Some(peer) = self.peer_row()? else {
            return Ok(None);
        };
        Ok(self
            .conn
            .query_row(
                &format!("SELECT {column} FROM sync_peers WHERE peer = ?1"),
                [peer],
                |r| r.get::<_, Option<T>>(0),
            )
            .optional()?
            .flatten())
    }

    /// Sets one column of the chosen peer's row; nothing before enrolment.
    fn peer_set(&self, column: &'static str, value: impl rusqlite::ToSql) -> Result<()> {
        if let Some(peer) = self.peer_row()? {
            self.conn.execute(
                &format!("UPDATE sync_peers SET {column} = ?2 WHERE peer = ?1"),
                params![peer, value],
            )?;
        }
        Ok(())
    }

    /// Records the enrolment: server, token, account, role and sites. The acting
    /// local user takes the account's role; the device works for the first site.
    /// Refuses a store already enrolled with this server.
    pub fn set_enrolment(&mut self, e: &Enrolment) -> Result<()> {
        self.set_enrolment_with_accounts(e, None)
    }

    /// [`Store::set_enrolment`] and, in the same transaction, the site's account list
    /// the enrolment answer carried (`(version, [(name, role)])`, as
    /// [`Store::apply_accounts`] takes it): from then on local users have their
    /// server role and [`Store::add_user`] refuses a name that is not an account.
    /// `None` (a server that sends no list) leaves the list unknown until a sync
    /// brings it. Either everything is stored or nothing is.
    pub fn set_enrolment_with_accounts(
        &mut self,
        e: &Enrolment,
        accounts: Option<(u64, &[(String, String)])>,
    ) -> Result<()> {
        self.add_peer(e, accounts, PeerExtras::default())
    }

    /// Enrols this device with a hub or server: its first peer, or another one (a
    /// supervisor's hub beside the central server). A later peer must cover the site
    /// this device works for; the same address twice is refused. The new peer is the
    /// chosen one for what follows; the first stays the default.
    pub fn add_peer(
        &mut self,
        e: &Enrolment,
        accounts: Option<(u64, &[(String, String)])>,
        extras: PeerExtras<'_>,
    ) -> Result<()> {
        let role = Role::parse(&e.role)?;
        let first = e.sites.first().ok_or(PeerRefusal::NoSite)?.clone();
        self.ensure_sync_schema()?;
        let server = e.server.trim_end_matches('/').to_string();
        let peers = self.peers()?;
        if peers.iter().any(|p| same_server(&p.server, &server)) {
            return Err(PeerRefusal::AlreadyEnrolled { server }.into());
        }
        let later = !peers.is_empty();
        if later && !e.sites.contains(&self.site) {
            return Err(PeerRefusal::OtherSite {
                site: self.site.clone(),
                server,
                serves: e.sites.join(", "),
            }
            .into());
        }
        let sites =
            serde_json::to_string(&e.sites).map_err(|e| StoreError::encode("the sites", e))?;
        let version = accounts.map_or(0, |(v, _)| i64::try_from(v).unwrap_or(i64::MAX));
        let peer = self.in_tx(|s| {
            s.conn.execute(
                "INSERT INTO sync_peers(server, token, account, role, sites, pin, bundle_peer,
                                        accounts_version)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    server,
                    e.token,
                    e.account,
                    e.role,
                    sites,
                    extras.pin,
                    extras.bundle_peer,
                    version
                ],
            )?;
            let peer = s.conn.last_insert_rowid();
            s.conn.execute(
                "UPDATE users SET role = ?2 WHERE name = ?1",
                params![s.user, role.name()],
            )?;
            // The enrolment proved the acting user's account (its own password).
            s.note_proven(&s.user)?;
            if !later {
                s.conn.execute(
                    "UPDATE meta SET value = ?1 WHERE key = 'site'",
                    params![first],
                )?;
            }
            if let Some((_, list)) = accounts {
                s.write_account_list(list)?;
            }
            Ok(peer)
        })?;
        self.peer = Some(peer);
        self.role = role;
        if !later {
            self.site = first;
        }
        if let Some((_, list)) = accounts {
            self.take_account_role(list);
        }
        self.refresh_proven()?;
        self.refresh_sealing()
    }

    /// The hubs and servers this device enrolled with, the default first.
    pub fn peers(&self) -> Result<Vec<SyncPeer>> {
        if !self.synced()? {
            return Ok(Vec::new());
        }
        let mut stmt = self.conn.prepare(
            "SELECT server, account, sites, pin IS NOT NULL, bundle_peer, last_sync, cursor,
                    push_acked
             FROM sync_peers ORDER BY peer",
        )?;
        let rows = stmt.query_map([], |r| {
            let sites: String = r.get(2)?;
            let peer = SyncPeer {
                server: r.get(0)?,
                account: r.get(1)?,
                sites: serde_json::from_str(&sites).unwrap_or_default(),
                pinned: r.get(3)?,
                bundle_peer: r.get(4)?,
                last_sync: r.get(5)?,
                cursor: r.get(6)?,
                pending_changes: 0,
                default: false,
            };
            Ok((peer, r.get::<_, i64>(7)?))
        })?;
        let rows: Vec<(SyncPeer, i64)> = rows.collect::<rusqlite::Result<_>>()?;
        let mut peers = Vec::with_capacity(rows.len());
        for (i, (mut peer, acked)) in rows.into_iter().enumerate() {
            peer.pending_changes = self.pending_after(acked)?;
            peer.default = i == 0;
            peers.push(peer);
        }
        Ok(peers)
    }

    /// Chooses the peer that sync state calls read and write from now on: by its
    /// address or its bundle id. Refused, choosing nothing, for an unknown peer.
    pub fn use_peer(&mut self, which: &str) -> Result<()> {
        let peer: Option<i64> = if self.synced()? {
            self.conn
                .query_row(
                    "SELECT peer FROM sync_peers WHERE server = ?1 OR bundle_peer = ?2",
                    params![which.trim_end_matches('/'), which],
                    |r| r.get(0),
                )
                .optional()?
        } else {
            None
        };
        match peer {
            Some(p) => {
                self.peer = Some(p);
                Ok(())
            }
            None => {
                let names: Vec<String> = self.peers()?.into_iter().map(|p| p.server).collect();
                Err(PeerRefusal::UnknownPeer {
                    which: which.to_string(),
                    peers: if names.is_empty() {
                        "none (enrol it first)".to_string()
                    } else {
                        names.join(", ")
                    },
                }
                .into())
            }
        }
    }

    /// The chosen peer's certificate fingerprint, when it is a supervisor hub.
    pub fn server_pin(&self) -> Result<Option<String>> {
        self.peer_get("pin")
    }

    /// The chosen peer's bundle id, once its bundle keys are known.
    pub fn peer_bundle_id(&self) -> Result<Option<String>> {
        self.peer_get("bundle_peer")
    }

    /// Links the chosen peer to its bundle keys' id (learnt at its first sync).
    pub fn set_peer_bundle_id(&mut self, id: &str) -> Result<()> {
        self.in_tx(|s| s.peer_set("bundle_peer", id))
    }

    /// The enrolment with the chosen peer, or `None` before `tern device enroll`.
    pub fn enrolment(&self) -> Result<Option<Enrolment>> {
        let Some(peer) = self.peer_row()? else {
            return Ok(None);
        };
        let row = self
            .conn
            .query_row(
                "SELECT server, token, account, role, sites FROM sync_peers WHERE peer = ?1",
                [peer],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                    ))
                },
            )
            .optional()?;
        Ok(row.map(|(server, token, account, role, sites)| Enrolment {
            server,
            token,
            account,
            role,
            sites: serde_json::from_str(&sites).unwrap_or_default(),
        }))
    }

    /// The last sequence of the chosen peer this device applied (0 before the first
    /// pull).
    pub fn sync_cursor(&self) -> Result<i64> {
        Ok(self.peer_get("cursor")?.unwrap_or(0))
    }

    /// Moves the chosen peer's cursor forward (inside the caller's transaction).
    pub(crate) fn advance_cursor(&self, cursor: i64) -> Result<()> {
        if cursor > self.sync_cursor()? {
            self.peer_set("cursor", cursor)?;
        }
        Ok(())
    }

    /// The local sequence up to which the chosen peer acknowledged this device's
    /// changes.
    pub fn push_acked(&self) -> Result<i64> {
        Ok(self.peer_get("push_acked")?.unwrap_or(0))
    }

    /// The lowest push marker of all peers: what some peer still lacks starts after
    /// it (kept when a revoked device keeps its unsent work).
    pub(crate) fn push_acked_by_every_peer(&self) -> Result<i64> {
        self.push_marker_of_peers("min")
    }

    /// The highest push marker of all peers: a change before it is off the device.
    pub(crate) fn push_acked_by_a_peer(&self) -> Result<i64> {
        self.push_marker_of_peers("max")
    }

    /// `min` or `max` of the peers' push markers (0 before enrolment).
    fn push_marker_of_peers(&self, aggregate: &'static str) -> Result<i64> {
        if !self.synced()? {
            return Ok(0);
        }
        Ok(self.conn.query_row(
            &format!("SELECT coalesce({aggregate}(push_acked), 0) FROM sync_peers"),
            [],
            |r| r.get(0),
        )?)
    }

    /// Durably notes that the chosen peer acknowledged every local change up to
    /// `upto`. Never moves backwards.
    pub fn mark_pushed(&mut self, upto: i64) -> Result<()> {
        if upto <= self.push_acked()? {
            return Ok(());
        }
        self.in_tx(|s| s.peer_set("push_acked", upto))
    }

    /// The version of the site's account list the chosen peer last sent (0: none).
    pub fn accounts_version(&self) -> Result<u64> {
        Ok(self
            .peer_get::<i64>("accounts_version")?
            .map_or(0, |v| v.max(0) as u64))
    }

    /// Notes the version of the account list the chosen peer sent (inside the
    /// caller's transaction).
    pub(crate) fn note_accounts_version(&self, version: u64) -> Result<()> {
        self.peer_set(
            "accounts_version",
            i64::try_from(version).unwrap_or(i64::MAX),
        )
    }

    /// The time of the last complete sync with the chosen peer (RFC 3339).
    pub fn last_sync(&self) -> Result<Option<String>> {
        self.peer_get("last_sync")
    }

    /// Notes the time of the last complete sync with the chosen peer (RFC 3339).
    pub fn set_last_sync(&mut self, when: &str) -> Result<()> {
        self.ensure_sync_schema()?;
        self.in_tx(|s| s.peer_set("last_sync", when))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enrolment(server: &str, sites: &[&str]) -> Enrolment {
        Enrolment {
            server: server.into(),
            token: format!("token of {server}"),
            account: "bilal".into(),
            role: "screener".into(),
            sites: sites.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn store(dir: &std::path::Path) -> Store {
        Store::init(
            &dir.join("d.db"),
            "bilal",
            Role::Screener,
            "pass-word",
            "site-a",
        )
        .expect("init")
    }

    #[test]
    fn each_peer_keeps_its_own_cursor_and_push_marker() {
        let dir = tempfile::tempdir().expect("tmp");
        let mut s = store(dir.path());
        s.set_enrolment(&enrolment("https://server", &["site-a", "site-b"]))
            .expect("server");
        s.add_peer(
            &enrolment("https://hub:8443/", &["site-a"]),
            None,
            PeerExtras {
                pin: Some("ab"),
                bundle_peer: Some("hub-1"),
            },
        )
        .expect("hub");
        // The new peer is chosen for what follows.
        assert_eq!(s.server_pin().expect("pin").as_deref(), Some("ab"));
        s.mark_pushed(7).expect("hub acked");
        s.in_tx(|s| s.advance_cursor(40)).expect("hub cursor");
        s.use_peer("https://server/").expect("by address");
        assert_eq!(
            (s.push_acked().expect("a"), s.sync_cursor().expect("c")),
            (0, 0)
        );
        assert_eq!(s.server_pin().expect("pin"), None);
        s.mark_pushed(3).expect("server acked");
        s.use_peer("hub-1").expect("by bundle id");
        assert_eq!(
            (s.push_acked().expect("a"), s.sync_cursor().expect("c")),
            (7, 40)
        );
        s.mark_pushed(5).expect("never back");
        assert_eq!(s.push_acked().expect("a"), 7);
        assert_eq!(s.push_acked_by_every_peer().expect("min"), 3);
        assert_eq!(s.push_acked_by_a_peer().expect("max"), 7);
        // A reopened store starts with the first enrolment.
        drop(s);
        let s = Store::open(&dir.path().join("d.db"), None, "pass-word").expect("open");
        assert_eq!(
            s.enrolment().expect("e").expect("some").server,
            "https://server"
        );
        let peers = s.peers().expect("peers");
        assert_eq!(peers.len(), 2);
        assert!(peers[0].default && !peers[1].default);
        assert_eq!(peers[1].server, "https://hub:8443");
    }

    #[test]
    fn a_second_enrolment_must_serve_the_devices_site_and_another_address() {
        let dir = tempfile::tempdir().expect("tmp");
        let mut s = store(dir.path());
        s.set_enrolment(&enrolment("https://server", &["site-a"]))
            .expect("server");
        match s.set_enrolment(&enrolment("https://server/", &["site-a"])) {
            Err(StoreError::Peer(PeerRefusal::AlreadyEnrolled { server })) => {
                assert_eq!(server, "https://server")
            }
            other => panic!("enrolled twice with one server: {other:?}"),
        }
        match s.set_enrolment(&enrolment("https://hub", &["site-b"])) {
            Err(e @ StoreError::Peer(PeerRefusal::OtherSite { .. })) => {
                assert!(e.to_string().contains("works for site `site-a`"), "{e}");
                assert!(e.is_refusal());
            }
            other => panic!("a hub of another site: {other:?}"),
        }
        assert_eq!(s.peers().expect("peers").len(), 1, "nothing was added");
        match s.use_peer("https://elsewhere") {
            Err(StoreError::Peer(PeerRefusal::UnknownPeer { peers, .. })) => {
                assert_eq!(peers, "https://server")
            }
            other => panic!("an unknown peer was chosen: {other:?}"),
        }
        assert_eq!(s.site, "site-a");
    }

    #[test]
    fn an_enrolment_kept_in_sync_state_becomes_the_first_peer() {
        let dir = tempfile::tempdir().expect("tmp");
        let mut s = store(dir.path());
        s.set_enrolment(&enrolment("https://server", &["site-a"]))
            .expect("server");
        // The layout of sync schema 4: the enrolment as keys of `sync_state`.
        s.conn
            .execute_batch(
                "DELETE FROM sync_peers;
                 INSERT INTO sync_state(key, value) VALUES ('server', 'https://old'),
                   ('token', 't'), ('account', 'bilal'), ('role', 'screener'),
                   ('sites', '[\"site-a\"]'), ('cursor', '12'), ('push_acked', '5'),
                   ('accounts_version', '3'), ('last_sync', '2026-11-30T10:00:00Z');
                 UPDATE meta SET value = '4' WHERE key = 'sync_schema';",
            )
            .expect("old layout");
        s.ensure_sync_schema().expect("upgrade");
        let e = s.enrolment().expect("e").expect("enrolled");
        assert_eq!((e.server.as_str(), e.token.as_str()), ("https://old", "t"));
        assert_eq!(s.sync_cursor().expect("c"), 12);
        assert_eq!(s.push_acked().expect("a"), 5);
        assert_eq!(s.accounts_version().expect("v"), 3);
        assert_eq!(
            s.last_sync().expect("l").as_deref(),
            Some("2026-11-30T10:00:00Z")
        );
        let left: i64 = s
            .conn
            .query_row(
                "SELECT count(*) FROM sync_state WHERE key IN ('server', 'token', 'cursor')",
                [],
                |r| r.get(0),
            )
            .expect("count");
        assert_eq!(left, 0, "the token is kept once, in the peer's row");
    }
}
