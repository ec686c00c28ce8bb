//! Alerts and tasks the forms' rules raise (issue 14 item 4): a TB suspect task, a
//! notifiable disease alert, an isolation. A rule with an `alert` in the form raises
//! it while it fires (or while its `when` holds), by [`tern_forms::alerts_of`]; the
//! store keeps them as a projection of the records (`alerts`), updated with every
//! write of a record and, for records that arrived by sync, when the list is read.
//! No document of their own: every device and the server derive the same alerts
//! from the same record. Listed for the site's clinicians and supervisors.

use crate::error::{Result, StoreError};
use crate::store::{restricted_id, Store};
use automerge::ReadDoc;
use chrono::{DateTime, FixedOffset};
use rusqlite::params;
use serde::Serialize;
use std::collections::HashMap;

/// One line of the alert list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlertRow {
    pub record_id: String,
    pub form_id: String,
    pub subject_id: String,
    pub site: String,
    /// The rule that raised it and the field (path) it is attached to.
    pub rule: String,
    pub field: String,
    /// `tb_suspect`, `notifiable_alert`, `isolation` ([`tern_forms::ALERT_KINDS`]).
    pub kind: String,
    /// When it was raised: the time of the record's latest change when the store
    /// first saw it raised (RFC 3339).
    pub fired_at: String,
    /// `fired_at` plus the rule's deadline; `None` when the form names none or the
    /// configuration value it reads is not set.
    pub deadline: Option<String>,
    /// `open` while the rule raises it; `closed` once the record no longer does
    /// (e.g. the TB section completed, the authority notified).
    pub state: String,
    pub closed_at: Option<String>,
}

/// The time of a document's latest change (its heads), in milliseconds.
fn latest_change_ms(d: &automerge::Automerge) -> i64 {
    d.get_heads()
        .iter()
        .filter_map(|h| d.get_change_by_hash(h))
        .map(|c| c.timestamp())
        .max()
        .unwrap_or(0)
}

fn rfc3339(t: DateTime<FixedOffset>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

impl Store {
    /// The sum of the revisions of a record and its restricted twin: changes when
    /// either changes.
    fn record_revs(&self, record: &str) -> Result<i64> {
        Ok(self.conn.query_row(
            "SELECT coalesce(sum(rev), 0) FROM docs WHERE doc_id IN (?1, ?2)",
            params![record, restricted_id(record)],
            |r| r.get(0),
        )?)
    }

    /// Derives a record's alerts again from its documents (inside the open
    /// transaction): new ones are opened, raised ones stay open with the time they
    /// were first raised, ones no longer raised are closed. A record whose form
    /// version the store lacks is left for later.
    pub(crate) fn project_alerts(&mut self, record: &str) -> Result<()> {
        let form = match self.record_form(record) {
            Ok((form, _)) => form,
            Err(StoreError::NoFormVersion(..) | StoreError::NoRecord(_)) => return Ok(()),
            Err(e) => return Err(e),
        };
        if !self.can_read(&restricted_id(record)) {
            // Derived without the restricted answers they could close alerts those
            // answers raise: left for the next session that holds the restricted key
            // (the revisions then differ, see `alerts`).
            return Ok(());
        }
        let mut ms = 0;
        for id in [record.to_string(), restricted_id(record)] {
            if let Some(d) = self.doc(&id)? {
                ms = ms.max(latest_change_ms(d));
            }
        }
        let fired_at = DateTime::from_timestamp_millis(ms)
            .unwrap_or_default()
            .fixed_offset();
        // A form whose rules raise no alert needs no evaluation (pec, arr_t1).
        let raised = if form.raises_alerts() {
            let assessed = self.assess_as(record, "en", true)?;
            tern_forms::alerts_of(&form, &assessed.evaluation, fired_at)
        } else {
            Vec::new()
        };
        let before: HashMap<(String, String), String> = {
            let mut stmt = self
                .conn
                .prepare_cached("SELECT rule, field, state FROM alerts WHERE record_id = ?1")?;
            let rows = stmt.query_map([record], |r| Ok(((r.get(0)?, r.get(1)?), r.get(2)?)))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let at = rfc3339(fired_at);
        for a in &raised {
            let key = (a.rule.clone(), a.field.clone());
            let deadline = a.deadline.map(rfc3339);
            match before.get(&key).map(String::as_str) {
                Some("open") => {}
                Some(_) => {
                    self.conn.execute(
                        "UPDATE alerts SET state = 'open', fired_at = ?4, deadline = ?5, kind = ?6,
                           closed_at = NULL WHERE record_id = ?1 AND rule = ?2 AND field = ?3",
                        params![record, a.rule, a.field, at, deadline, a.kind],
                    )?;
                }
                None => {
                    self.conn.execute(
                        "INSERT INTO alerts(record_id, rule, field, kind, fired_at, deadline, state)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'open')",
                        params![record, a.rule, a.field, a.kind, at, deadline],
                    )?;
                }
            }
        }
        for ((rule, field), state) in &before {
            let still = raised.iter().any(|a| &a.rule == rule && &a.field == field);
            if state == "open" && !still {
                self.conn.execute(
                    "UPDATE alerts SET state = 'closed', closed_at = ?4
                     WHERE record_id = ?1 AND rule = ?2 AND field = ?3",
                    params![record, rule, field, at],
                )?;
            }
        }
        let revs = self.record_revs(record)?;
        self.conn.execute(
            "INSERT INTO alert_revs(record_id, rev) VALUES (?1, ?2)
             ON CONFLICT(record_id) DO UPDATE SET rev = ?2",
            params![record, revs],
        )?;
        Ok(())
    }

    /// The alerts and tasks of the device's records (open only, or all), open ones
    /// first by deadline: the worklist of the site's clinicians and supervisors.
    /// Records changed by a sync since their alerts were derived are brought up to
    /// date first.
    /// Whether the acting user is shown alerts and tasks (the site's clinicians and
    /// supervisors, proven on this device).
    pub fn may_see_alerts(&self) -> bool {
        self.may_see_restricted()
    }

    pub fn alerts(&mut self, open_only: bool) -> Result<Vec<AlertRow>> {
        self.role.require(
            self.may_see_alerts(),
            "see alerts (clinicians and supervisors)",
        )?;
        let stale: Vec<String> = {
            let mut stmt = self.conn.prepare(
                "SELECT r.record_id FROM records r
                 LEFT JOIN alert_revs a ON a.record_id = r.record_id
                 WHERE a.rev IS NULL OR a.rev != (SELECT coalesce(sum(rev), 0) FROM docs
                   WHERE doc_id IN (r.record_id, r.record_id || '.restricted'))",
            )?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        if !stale.is_empty() {
            self.in_tx(|s| {
                for record in &stale {
                    s.project_alerts(record)?;
                }
                Ok(())
            })?;
        }
        let mut stmt = self.conn.prepare(
            "SELECT a.record_id, r.form_id, r.subject_id, r.site, a.rule, a.field, a.kind,
                    a.fired_at, a.deadline, a.state, a.closed_at
             FROM alerts a JOIN records r ON r.record_id = a.record_id
             WHERE ?1 = 0 OR a.state = 'open'
             ORDER BY a.state DESC, a.deadline IS NULL, a.deadline, a.fired_at, a.record_id, a.rule",
        )?;
        let rows = stmt.query_map([open_only], |r| {
            Ok(AlertRow {
                record_id: r.get(0)?,
                form_id: r.get(1)?,
                subject_id: r.get(2)?,
                site: r.get(3)?,
                rule: r.get(4)?,
                field: r.get(5)?,
                kind: r.get(6)?,
                fired_at: r.get(7)?,
                deadline: r.get(8)?,
                state: r.get(9)?,
                closed_at: r.get(10)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The open alerts of one record (for its screen).
    pub fn record_alerts(&mut self, record: &str) -> Result<Vec<AlertRow>> {
        Ok(self
            .alerts(true)?
            .into_iter()
            .filter(|a| a.record_id == record)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Role;

    fn at(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).expect("time")
    }

    /// Issue 14 item 4: a TB suspect (r34) and a possible measles case (r35) on
    /// arrival raise a task and an alert as data, with their deadlines; the task
    /// closes when the record no longer raises it; a rebuild derives them again.
    #[test]
    fn rules_with_an_alert_raise_it_as_data() {
        let dir = tempfile::tempdir().expect("tmp");
        let db = dir.path().join("s.db");
        let mut s = Store::init(&db, "dr-okafor", Role::Clinician, "pass-word", "x").expect("init");
        s.set_now(Some(at("2026-03-09T08:00:00Z")));
        let subject = s
            .add_subject(&[("date_of_birth".into(), "1990-05-01".into())])
            .expect("subject");
        let r = s.new_record("arr_t2", &subject).expect("record");
        assert!(s.alerts(false).expect("alerts").is_empty());
        s.set_answer(&r, "sx_cough_2w", "true", None)
            .expect("cough");
        let open = s.alerts(true).expect("alerts");
        assert_eq!(open.len(), 1, "{open:?}");
        let tb = &open[0];
        assert_eq!((tb.rule.as_str(), tb.kind.as_str()), ("r34", "tb_suspect"));
        assert_eq!(tb.record_id, r);
        assert_eq!(tb.fired_at, "2026-03-09T08:00:00Z");
        assert_eq!(tb.deadline.as_deref(), Some("2026-03-12T08:00:00Z"));

        s.set_now(Some(at("2026-03-09T09:00:00Z")));
        s.set_answer(&r, "sx_fever_rash", "true", None)
            .expect("rash");
        let open = s.record_alerts(&r).expect("alerts");
        let measles = open.iter().find(|a| a.rule == "r35").expect("r35");
        assert_eq!(measles.kind, "isolation");
        assert_eq!(measles.fired_at, "2026-03-09T09:00:00Z");
        // alert_notify_hours: the default rule set's 24 hours.
        assert_eq!(measles.deadline.as_deref(), Some("2026-03-10T09:00:00Z"));
        let tb = open
            .iter()
            .find(|a| a.rule == "r34")
            .expect("r34 still open");
        assert_eq!(
            tb.fired_at, "2026-03-09T08:00:00Z",
            "keeps the time it was raised"
        );

        s.set_now(Some(at("2026-03-09T10:00:00Z")));
        s.set_answer(&r, "sx_cough_2w", "false", None)
            .expect("no cough");
        let all = s.alerts(false).expect("alerts");
        let tb = all.iter().find(|a| a.rule == "r34").expect("r34 kept");
        assert_eq!(tb.state, "closed");
        assert_eq!(tb.closed_at.as_deref(), Some("2026-03-09T10:00:00Z"));
        assert_eq!(s.alerts(true).expect("open").len(), 1);

        s.rebuild_projections().expect("rebuild");
        let open = s.alerts(true).expect("alerts");
        assert_eq!(open.len(), 1);
        assert_eq!(open[0].rule, "r35");

        // A screener does not see the list.
        s.add_user("bilal", Role::Screener, "pass-word-2")
            .expect("user");
        drop(s);
        let mut scr = Store::open(&db, Some("bilal"), "pass-word-2").expect("open");
        assert!(scr.alerts(true).is_err());
    }

    /// A record that arrived without its alerts derived (as by a sync) gets them
    /// when the list is read.
    #[test]
    fn records_changed_elsewhere_are_brought_up_to_date_when_listed() {
        let dir = tempfile::tempdir().expect("tmp");
        let db = dir.path().join("s.db");
        let mut s = Store::init(&db, "dr-okafor", Role::Clinician, "pass-word", "x").expect("init");
        let subject = s
            .add_subject(&[("date_of_birth".into(), "1990-05-01".into())])
            .expect("subject");
        let r = s.new_record("arr_t2", &subject).expect("record");
        s.set_answer(&r, "sx_cough_2w", "true", None)
            .expect("cough");
        s.conn
            .execute_batch("DELETE FROM alerts; DELETE FROM alert_revs;")
            .expect("forget");
        assert_eq!(s.alerts(true).expect("alerts").len(), 1);
    }
}
