//! Reports over the server's record projection (FORMS.md 8), computed here so that
//! the dashboard only draws them. Counts and ids only: no answers, no names.

use crate::db::{DeviceRow, RecordRow};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

/// Every status a record can have, in workflow order (the report's columns).
const STATUSES: &[&str] = tern_store::STATUSES;

/// "Daily activity" and the stale part of "Incomplete and conflicting records".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActivityReport {
    /// The days covered, newest first (`YYYY-MM-DD`, UTC).
    pub days: Vec<String>,
    /// The status columns, in workflow order.
    pub statuses: Vec<String>,
    /// Records started on each day, by site and form; newest day first.
    pub rows: Vec<ActivityRow>,
    /// Drafts started more than 24 hours ago, oldest first.
    pub stale_drafts: Vec<StaleDraft>,
    /// Every record of the sites by status, whatever its day (every status present).
    pub totals: BTreeMap<String, usize>,
    /// Records waiting for someone: a clinician's sign-off (submitted), a
    /// supervisor's lock (reviewed), or a conflict to resolve.
    pub to_review: Vec<String>,
    /// Records holding concurrent values a supervisor must resolve.
    pub conflicts: usize,
    /// Records whose start is unknown (projected before the server kept it).
    pub undated: usize,
    /// Enrolled devices of these sites that have not synced for more than 24 hours
    /// (or never), longest silent first: their records are not on the server yet.
    pub quiet_devices: Vec<QuietDevice>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuietDevice {
    pub id: String,
    pub site: String,
    pub user: String,
    pub last_sync: Option<String>,
    /// Whole hours since its last sync; `None` when it never synced.
    pub hours: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActivityRow {
    pub day: String,
    pub site: String,
    pub form_id: String,
    pub total: usize,
    /// Count per status (every status present, zero included).
    pub by_status: BTreeMap<String, usize>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StaleDraft {
    pub record_id: String,
    pub site: String,
    pub form_id: String,
    pub created: String,
    /// Whole hours since it was started.
    pub hours: i64,
}

/// Whether a record waits for a reviewer: signed off next, locked next, or holding a
/// conflict.
fn waits_for_review(r: &RecordRow) -> bool {
    r.conflict || r.status == "submitted" || r.status == "reviewed"
}

/// The report for the `days` days up to `now` (1 to 92), from the rows and the
/// (unrevoked) devices of the caller's sites.
pub fn daily_activity(
    rows: &[RecordRow],
    devices: &[DeviceRow],
    now: DateTime<Utc>,
    days: u32,
) -> ActivityReport {
    let days = days.clamp(1, 92);
    let today = now.date_naive();
    let covered: Vec<String> = (0..days)
        .map(|i| (today - Duration::days(i64::from(i))).to_string())
        .collect();
    let mut grouped: BTreeMap<(String, String, String), BTreeMap<String, usize>> = BTreeMap::new();
    let mut stale = Vec::new();
    let mut undated = 0;
    for r in rows {
        let Some(started) = DateTime::parse_from_rfc3339(&r.created)
            .ok()
            .map(|t| t.with_timezone(&Utc))
        else {
            undated += 1;
            continue;
        };
        let day = started.date_naive().to_string();
        if covered.contains(&day) {
            let counts = grouped
                .entry((day, r.site.clone(), r.form_id.clone()))
                .or_insert_with(|| STATUSES.iter().map(|s| (s.to_string(), 0)).collect());
            *counts.entry(r.status.clone()).or_default() += 1;
        }
        let hours = (now - started).num_hours();
        if r.status == "draft" && hours >= 24 {
            stale.push(StaleDraft {
                record_id: r.record_id.clone(),
                site: r.site.clone(),
                form_id: r.form_id.clone(),
                created: r.created.clone(),
                hours,
            });
        }
    }
    stale.sort_by(|a, b| b.hours.cmp(&a.hours).then(a.record_id.cmp(&b.record_id)));
    // Newest day first; within a day by site and form.
    let mut rows_out: Vec<ActivityRow> = grouped
        .into_iter()
        .map(|((day, site, form_id), by_status)| ActivityRow {
            total: by_status.values().sum(),
            day,
            site,
            form_id,
            by_status,
        })
        .collect();
    rows_out.sort_by(|a, b| {
        b.day
            .cmp(&a.day)
            .then(a.site.cmp(&b.site))
            .then(a.form_id.cmp(&b.form_id))
    });
    let mut quiet: Vec<QuietDevice> = devices
        .iter()
        .filter(|d| !d.revoked)
        .filter_map(|d| {
            let hours = d
                .last_sync
                .as_deref()
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                .map(|t| (now - t.with_timezone(&Utc)).num_hours());
            (hours.is_none_or(|h| h >= 24)).then(|| QuietDevice {
                id: d.id.clone(),
                site: d.site.clone(),
                user: d.user.clone(),
                last_sync: d.last_sync.clone(),
                hours,
            })
        })
        .collect();
    // Never synced first, then the longest silent.
    quiet.sort_by(|a, b| {
        let key = |d: &QuietDevice| d.hours.unwrap_or(i64::MAX);
        key(b).cmp(&key(a)).then(a.id.cmp(&b.id))
    });
    let mut totals: BTreeMap<String, usize> = STATUSES.iter().map(|s| (s.to_string(), 0)).collect();
    for r in rows {
        *totals.entry(r.status.clone()).or_default() += 1;
    }
    ActivityReport {
        totals,
        to_review: rows
            .iter()
            .filter(|r| waits_for_review(r))
            .map(|r| r.record_id.clone())
            .collect(),
        quiet_devices: quiet,
        days: covered,
        statuses: STATUSES.iter().map(|s| s.to_string()).collect(),
        rows: rows_out,
        stale_drafts: stale,
        conflicts: rows.iter().filter(|r| r.conflict).count(),
        undated,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, site: &str, form: &str, status: &str, created: &str) -> RecordRow {
        RecordRow {
            record_id: id.into(),
            site: site.into(),
            form_id: form.into(),
            form_version: "1.0.0".into(),
            subject_id: "S".into(),
            status: status.into(),
            conflict: id == "c",
            created: created.into(),
        }
    }

    #[test]
    fn records_are_counted_by_day_site_form_and_status() {
        let now = DateTime::parse_from_rfc3339("2026-03-10T09:00:00Z")
            .expect("now")
            .with_timezone(&Utc);
        let rows = [
            row("a", "site-a", "pda", "draft", "2026-03-10T08:00:00Z"),
            row(
                "b",
                "site-a",
                "pda",
                "submitted",
                "2026-03-10T07:00:00+02:00",
            ),
            row("c", "site-a", "pda", "locked", "2026-03-09T10:00:00Z"),
            row("d", "site-b", "arr_t1", "draft", "2026-03-08T08:59:00Z"),
            row("e", "site-a", "pda", "draft", "2026-01-01T00:00:00Z"),
            row("f", "site-a", "pda", "draft", ""),
        ];
        let device = |id: &str, last: Option<&str>, revoked: bool| DeviceRow {
            id: id.into(),
            site: "site-a".into(),
            user: "amina".into(),
            last_sync: last.map(String::from),
            revoked,
            via_hub: None,
        };
        let devices = [
            device("fresh", Some("2026-03-10T08:00:00Z"), false),
            device("quiet", Some("2026-03-08T09:00:00Z"), false),
            device("never", None, false),
            device("gone", None, true),
        ];
        let r = daily_activity(&rows, &devices, now, 3);
        assert_eq!(r.days, ["2026-03-10", "2026-03-09", "2026-03-08"]);
        let summary: Vec<(&str, &str, &str, usize)> = r
            .rows
            .iter()
            .map(|x| (x.day.as_str(), x.site.as_str(), x.form_id.as_str(), x.total))
            .collect();
        assert_eq!(
            summary,
            [
                ("2026-03-10", "site-a", "pda", 2),
                ("2026-03-09", "site-a", "pda", 1),
                ("2026-03-08", "site-b", "arr_t1", 1),
            ]
        );
        assert_eq!(r.rows[0].by_status["draft"], 1);
        assert_eq!(
            r.rows[0].by_status["submitted"], 1,
            "05:00Z is the 10th in UTC"
        );
        assert_eq!(
            r.rows[0].by_status["locked"], 0,
            "every status has a column"
        );
        let stale: Vec<(&str, i64)> = r
            .stale_drafts
            .iter()
            .map(|d| (d.record_id.as_str(), d.hours))
            .collect();
        assert_eq!(stale, [("e", 1641), ("d", 48)], "oldest first; a is fresh");
        assert_eq!((r.conflicts, r.undated), (1, 1));
        assert_eq!(r.totals["draft"], 4, "every day counts in the totals");
        assert_eq!((r.totals["locked"], r.totals["reviewed"]), (1, 0));
        assert_eq!(
            r.to_review,
            ["b", "c"],
            "submitted, and locked with a conflict"
        );
        let quiet: Vec<(&str, Option<i64>)> = r
            .quiet_devices
            .iter()
            .map(|d| (d.id.as_str(), d.hours))
            .collect();
        assert_eq!(
            quiet,
            [("never", None), ("quiet", Some(48))],
            "revoked and fresh left out"
        );
    }

    #[test]
    fn the_window_is_bounded() {
        let now = Utc::now();
        assert_eq!(daily_activity(&[], &[], now, 0).days.len(), 1);
        assert_eq!(daily_activity(&[], &[], now, 10_000).days.len(), 92);
    }
}
