//! Which local users have proven their server account on this device, and what an
//! unproven user's work may not do yet.
//!
//! A local user is bound to the server account of the same name only once that
//! account proved itself to the server with its own password, online, on this device
//! (at enrolment for the enrolling user, `tern_sync::prove` for the others). Until then
//! the user is *unproven*: they may work offline, but
//! - their changes stay on the device: a push page stops before the first change by an
//!   unproven user (order is kept, so nothing later overtakes it), and a document
//!   with their changes never travels whole;
//! - they cannot open restricted sections, whatever role the account list gives the
//!   name (anyone can type a clinician's name on a shared tablet).
//!
//! Before enrolment nobody is proven and nothing is pushed, and the store's roles are
//! those its users declared: the rules above apply to enrolled stores.

use crate::doc::Author;
use crate::error::Result;
use crate::roles::Role;
use crate::store::Store;
use automerge::Change;
use rusqlite::params;
use std::collections::HashSet;

impl Store {
    /// Whether the acting user has proven their server account on this device (true
    /// on a store that is not enrolled: there is no server to prove anything to yet).
    pub fn is_proven(&self) -> Result<bool> {
        Ok(!self.unproven_users()?.contains(&self.user))
    }

    /// Records that the acting user proved their account (the server answered with
    /// the account's `role`, which the user takes).
    pub fn set_proven(&mut self, role: &str) -> Result<()> {
        let role = Role::parse(role)?;
        let now = chrono::Utc::now().to_rfc3339();
        self.in_tx(|s| {
            s.conn.execute(
                "UPDATE users SET proven = ?2, role = ?3 WHERE name = ?1",
                params![s.user, now, role.name()],
            )?;
            Ok(())
        })?;
        self.role = role;
        self.proven = true;
        self.refresh_sealing()
    }

    /// Marks a user proven inside the caller's transaction (enrolment).
    pub(crate) fn note_proven(&self, user: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE users SET proven = ?2 WHERE name = ?1",
            params![user, chrono::Utc::now().to_rfc3339()],
        )?;
        Ok(())
    }

    /// Local users of an enrolled store who have not proven their account here. The
    /// enrolling account counts as proven (stores enrolled before proofs were
    /// recorded have no `proven` mark for it).
    pub fn unproven_users(&self) -> Result<HashSet<String>> {
        let Some(account) = self.enrolled_account()? else {
            return Ok(HashSet::new());
        };
        let mut stmt = self
            .conn
            .prepare_cached("SELECT name FROM users WHERE proven IS NULL AND name != ?1")?;
        let rows = stmt.query_map([&account], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The account this store enrolled with, when it is enrolled.
    fn enrolled_account(&self) -> Result<Option<String>> {
        Ok(self.enrolment()?.map(|e| e.account))
    }

    /// Whether the acting user may open restricted sections: their role allows it and,
    /// on an enrolled store, they proved their account.
    /// Where restricted twins are sealed (sealed.rs), the session must also hold the
    /// restricted key.
    pub(crate) fn may_see_restricted(&self) -> bool {
        self.role.may_see_restricted() && self.proven && self.holds_restricted_key()
    }

    /// Recomputes the acting user's proof (after opening, enrolling or proving).
    pub(crate) fn refresh_proven(&mut self) -> Result<()> {
        self.proven = self.is_proven()?;
        Ok(())
    }

    /// Re-reads the acting user's role and proof, after another connection to the
    /// same store (the app's background sync) proved the account.
    pub fn refresh_user(&mut self) -> Result<()> {
        let role: String = self.conn.query_row(
            "SELECT role FROM users WHERE name = ?1",
            [&self.user],
            |r| r.get(0),
        )?;
        self.role = Role::parse(&role)?;
        self.refresh_proven()?;
        self.refresh_sealing()
    }

    /// The local sequence of the first unacknowledged change (after `acked`) by an
    /// unproven user: pushes stop just before it. `None` when no such change waits.
    /// Reads change authors only when an unproven user exists (`unproven`: from
    /// [`Store::unproven_users`], read once per page by the caller).
    pub(crate) fn held_from(
        &mut self,
        acked: i64,
        unproven: &HashSet<String>,
    ) -> Result<Option<i64>> {
        if unproven.is_empty() {
            return Ok(None);
        }
        let rows: Vec<(i64, String, Vec<u8>)> = {
            let mut stmt = self.conn.prepare_cached(
                "SELECT seq, doc_id, hash FROM sync_log
                 WHERE seq > ?1 AND from_server = 0 ORDER BY seq",
            )?;
            let rows = stmt.query_map([acked], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        for (seq, doc_id, hash) in rows {
            if !self.can_read(&doc_id) {
                // Set aside for a session with the restricted key (sealed.rs).
                continue;
            }
            let bytes = self.queued_change(&doc_id, &hash)?;
            let author = match Change::from_bytes(bytes) {
                Ok(c) => Author::from_actor(c.actor_id()).user,
                // A change the store cannot read is held rather than guessed about.
                Err(_) => return Ok(Some(seq)),
            };
            if unproven.contains(&author) {
                return Ok(Some(seq));
            }
        }
        Ok(None)
    }

    /// Whether a whole document (its actor table) has a change by one of `unproven`.
    pub(crate) fn has_unproven_author(document: &[u8], unproven: &HashSet<String>) -> bool {
        if unproven.is_empty() {
            return false;
        }
        let Ok(actors) = crate::chunk::document_actors(document) else {
            return true;
        };
        actors
            .into_iter()
            .any(|a| unproven.contains(&Author::from_actor(&automerge::ActorId::from(a)).user))
    }
}

#[cfg(test)]
mod tests {
    use crate::chunk::{chunk_kind, document_actors, ChunkKind};
    use crate::doc::Author;
    use crate::{Enrolment, Role, Store};
    use automerge::{ActorId, Change};

    const PW: &str = "pass-word-1";

    /// Every user who wrote a chunk of the page.
    fn page_authors(s: &mut Store) -> (Vec<String>, Option<i64>) {
        let page = s.pending_changes(0, 1 << 24).expect("page");
        let mut users = Vec::new();
        for c in &page.chunks {
            match chunk_kind(&c.bytes).expect("kind") {
                ChunkKind::Document => {
                    for a in document_actors(&c.bytes).expect("actors") {
                        users.push(Author::from_actor(&ActorId::from(a)).user);
                    }
                }
                ChunkKind::Change => {
                    let ch = Change::from_bytes(c.bytes.clone()).expect("change");
                    users.push(Author::from_actor(ch.actor_id()).user);
                }
            }
        }
        users.sort();
        users.dedup();
        (users, page.upto)
    }

    #[test]
    fn an_unproven_users_work_stays_on_the_device_until_the_proof() {
        let dir = tempfile::tempdir().expect("tmp");
        let db = dir.path().join("d.db");
        let mut bilal = Store::init(&db, "bilal", Role::Screener, PW, "site-a").expect("init");
        let accounts = [
            ("bilal".to_string(), "screener".to_string()),
            ("amina".to_string(), "clinician".to_string()),
        ];
        bilal
            .set_enrolment_with_accounts(
                &Enrolment {
                    server: "http://127.0.0.1:9".into(),
                    token: "t".into(),
                    account: "bilal".into(),
                    role: "screener".into(),
                    sites: vec!["site-a".into()],
                },
                Some((1, &accounts)),
            )
            .expect("enrolled");
        assert!(bilal.is_proven().expect("p"), "enrolment proves its user");
        let subject = bilal
            .add_subject(&[("sex".into(), "female".into())])
            .expect("subject");
        let record = bilal.new_record("pda", &subject).expect("record");
        // A local user under a clinician's name, added offline with any password.
        bilal.add_user("amina", Role::Screener, PW).expect("add");
        drop(bilal);
        let mut amina = Store::open(&db, Some("amina"), PW).expect("open");
        assert_eq!(amina.role(), Role::Clinician);
        assert!(!amina.is_proven().expect("p"));
        assert!(
            amina
                .set_answer(&record, "hiv_offered", "true", None)
                .is_err(),
            "an unproven user opens no restricted section"
        );
        amina
            .set_answer(&record, "temp_c", "38.5", None)
            .expect("offline work is kept");
        drop(amina);
        let mut bilal = Store::open(&db, Some("bilal"), PW).expect("open");
        bilal
            .set_answer(&record, "weight_kg", "60", None)
            .expect("later work");

        // Only bilal's changes before amina's first one travel; the record goes as
        // changes (never whole with hers inside).
        let (users, upto) = page_authors(&mut bilal);
        assert_eq!(users, vec!["bilal".to_string()]);
        bilal
            .mark_pushed(upto.expect("something to push"))
            .expect("ack");
        assert!(
            !bilal.has_pending_changes().expect("pending"),
            "held changes are not pending for this sync"
        );
        assert_eq!(
            bilal.sync_status().expect("status").unproven_users,
            vec!["amina".to_string()]
        );
        drop(bilal);

        // After her proof, hers and what followed travel, in order.
        let mut amina = Store::open(&db, Some("amina"), PW).expect("open");
        amina.set_proven("clinician").expect("proven");
        assert!(amina.may_see_restricted());
        amina
            .set_answer(&record, "hiv_offered", "true", None)
            .expect("now restricted sections open");
        assert!(amina.has_pending_changes().expect("pending"));
        let (users, _) = page_authors(&mut amina);
        assert_eq!(users, vec!["amina".to_string(), "bilal".to_string()]);
    }

    #[test]
    fn nobody_is_unproven_on_a_store_that_is_not_enrolled() {
        let dir = tempfile::tempdir().expect("tmp");
        let db = dir.path().join("d.db");
        let mut s = Store::init(&db, "amina", Role::Clinician, PW, "site-a").expect("init");
        s.add_user("bilal", Role::Screener, PW).expect("add");
        assert!(s.unproven_users().expect("u").is_empty());
        assert!(s.may_see_restricted());
    }
}
