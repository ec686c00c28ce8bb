//! Reports over the server's record projections (FORMS.md 8), computed here so that
//! the dashboard only draws them: the daily activity over `records`, and the
//! public-health reports over `record_facts` (crate::facts) as [`Report`] tables
//! with a chart. Subjects appear by id (pseudonymised for roles without identity
//! rights) and by name only when the caller passes names (roles that may see
//! identity); no restricted answer is in the projection to begin with.

use crate::db::{DeviceRow, RecordRow};
use crate::facts::FactsRow;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value as J};
use std::collections::BTreeMap;
use std::collections::{BTreeSet, HashMap};

/// Every status a record can have, in workflow order (the report's columns).
const STATUSES: &[&str] = tern_record::STATUSES;

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
    /// Records of the covered days by outcome (`outcome`, `pec_outcome`).
    pub outcomes: BTreeMap<String, usize>,
    /// Records of the covered days whose screening consent was refused.
    pub refusals: usize,
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
        outcomes: BTreeMap::new(),
        refusals: 0,
    }
}

/// Adds the outcome counts and refusals of the covered days from the facts rows.
pub fn add_outcomes(report: &mut ActivityReport, facts: &[FactsRow]) {
    for f in facts {
        if !report.days.contains(&f.encounter_date) {
            continue;
        }
        if let Some(o) = &f.outcome {
            *report.outcomes.entry(o.clone()).or_default() += 1;
        }
        if f.facts.refused {
            report.refusals += 1;
        }
    }
}

// ---------------------------------------------------------------- public-health reports

/// The reports served as [`Report`] tables (`GET /v1/reports/<name>`).
pub const REPORTS: &[&str] = &[
    "daily",
    "tb_suspects",
    "alerts",
    "vulnerability",
    "vaccination",
    "test_uptake",
    "incomplete",
    "conflicts",
];

/// One report: a table (column keys the dashboard translates, rows of cells), the
/// chart drawn from it, and notes (keys) about what the data cannot say.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub name: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<J>>,
    /// How many rows the whole report has: more than `rows` when the list was
    /// bounded for the screen ([`Report::bounded`]); the chart and the CSV cover all.
    pub total_rows: usize,
    pub chart: Option<Chart>,
    pub notes: Vec<String>,
}

impl Report {
    /// The report with at most `limit` rows, the first ones (each report orders its
    /// rows most urgent or oldest first), and `total_rows` saying how many there are:
    /// a worklist of every record is read by no one and stalls a browser, while its
    /// chart and its CSV download stay whole.
    pub fn bounded(mut self, limit: usize) -> Report {
        self.total_rows = self.total_rows.max(self.rows.len());
        self.rows.truncate(limit);
        self
    }
}

/// A chart of the report: `bar` (grouped) or `line`, labels along the axis, one
/// series per drawn column.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Chart {
    pub kind: String,
    pub labels: Vec<String>,
    pub series: Vec<Series>,
}

impl Chart {
    /// A bar chart of one series of counts, a bar per key in key order.
    fn counts(series: &str, by: &BTreeMap<String, usize>) -> Chart {
        Chart {
            kind: "bar".into(),
            labels: by.keys().cloned().collect(),
            series: vec![Series {
                name: series.into(),
                values: by.values().map(|v| *v as f64).collect(),
            }],
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Series {
    pub name: String,
    pub values: Vec<f64>,
}

/// How subjects are shown: by id, pseudonymised, with names (identity rights).
#[derive(Debug, Clone, Default)]
pub struct Subjects {
    /// Replace subject ids by pseudonyms (roles without identity rights).
    pub pseudonymise: bool,
    /// Display names by subject id: present only for roles that may see identity.
    pub names: Option<HashMap<String, String>>,
}

impl Subjects {
    fn id(&self, subject: &str) -> J {
        if self.pseudonymise {
            J::String(crate::service::pseudonym(subject))
        } else {
            J::String(subject.to_string())
        }
    }

    fn columns(&self) -> Vec<&'static str> {
        if self.names.is_some() {
            vec!["subject", "name"]
        } else {
            vec!["subject"]
        }
    }

    fn cells(&self, subject: &str) -> Vec<J> {
        let mut out = vec![self.id(subject)];
        if let Some(names) = &self.names {
            out.push(J::String(names.get(subject).cloned().unwrap_or_default()));
        }
        out
    }
}

/// Why a report could not be made.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReportError {
    #[error("there is no report `{0}`; the reports are: daily, tb_suspects, alerts, vulnerability, vaccination, test_uptake, incomplete, conflicts")]
    Unknown(String),
    #[error("a stored part of the `{0}` report does not read: run `tern admin reproject`")]
    Unreadable(String),
}

// ------------------------------------------------ what each record gives the reports
//
// Every report is defined here once, in two pure halves: what one record gives it
// (`parts_of`, run when the verifier or a reprojection writes the record's facts,
// stored in `report_counts` and `report_lines` beside `record_facts`), and how the
// report is made from those parts (`assemble`, at request time, with the caller's
// names and the current time). Aggregate reports are counts under keys that the
// database adds up (`SELECT key, sum(n) ... GROUP BY key`); worklists are lines, one
// per record that belongs on the list. The backends differ only in SQL dialect.

/// How a report is read from the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Counts under keys, added up by the database.
    Counts,
    /// One line per record on the list.
    Lines,
}

/// How report `name` is read (`None`: no such report).
pub fn shape(name: &str) -> Option<Shape> {
    match name {
        "daily" | "vulnerability" | "vaccination" | "test_uptake" => Some(Shape::Counts),
        "tb_suspects" | "alerts" | "incomplete" | "conflicts" => Some(Shape::Lines),
        _ => None,
    }
}

/// What every worklist line says of its record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Head {
    pub record: String,
    pub subject: String,
    pub site: String,
    pub form: String,
    /// The encounter day (`YYYY-MM-DD`).
    pub day: String,
    /// The encounter start (RFC 3339; empty when unknown).
    pub created: String,
    pub status: String,
}

/// A TB suspect (FORMS.md 8): why, and where the work-up stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TbLine {
    pub age_band: String,
    pub reasons: String,
    pub cxr: J,
    pub culture_pending: bool,
    pub class: String,
    pub referral: String,
}

/// An alert on the worklist: the alerts the record's rules raise
/// (`tern_forms::alerts_of`, as the device lists them) or the record's open alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertLine {
    pub disease: String,
    pub rules: String,
    pub raised_at: String,
    /// The earliest deadline of the record's alerts (RFC 3339).
    pub deadline: Option<String>,
    pub status: String,
    pub notified_at: Option<String>,
    pub isolation: J,
    pub contacts: J,
}

/// What keeps a record from being complete; whether a draft is stale is decided
/// when the report is made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncompleteLine {
    pub missing_total: usize,
    pub missing_fields: String,
    pub errors: String,
    pub open_warnings: String,
    pub overridden_warnings: String,
}

/// The report-specific part of a line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Body {
    TbSuspect(TbLine),
    Alert(AlertLine),
    Incomplete(IncompleteLine),
    Conflict,
}

/// One line of a worklist report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Line {
    pub head: Head,
    pub body: Body,
}

impl Line {
    /// The report the line belongs to.
    pub fn report(&self) -> &'static str {
        match self.body {
            Body::TbSuspect(_) => "tb_suspects",
            Body::Alert(_) => "alerts",
            Body::Incomplete(_) => "incomplete",
            Body::Conflict => "conflicts",
        }
    }

    /// From when the line is on its list ([`instant_key`]; `""`: always; `None`:
    /// never). Stored beside the line (`listed_from`) so that the database lists
    /// and counts only what is on the list at the request's time.
    pub fn listed_from(&self) -> Option<String> {
        match &self.body {
            Body::Incomplete(i) if !i.kinds().iter().any(|k| *k) => self.stale_from(),
            _ => Some(String::new()),
        }
    }

    /// From when the line's record is a stale draft: 24 hours after a draft was
    /// started ([`instant_key`]; `None`: not a draft, or its start is unknown).
    /// Only the incomplete list speaks of stale drafts. Stored (`stale_from`).
    pub fn stale_from(&self) -> Option<String> {
        if !matches!(self.body, Body::Incomplete(_)) || self.head.status != "draft" {
            return None;
        }
        DateTime::parse_from_rfc3339(&self.head.created)
            .ok()
            .map(|t| instant_key(t.with_timezone(&Utc) + Duration::hours(24)))
    }

    /// The line's place on its list before its day and record: the alerts list
    /// puts the earliest deadline first (alerts notified or without a deadline
    /// last, `~`); every other list is by day and record (`""`). Stored (`urgency`).
    pub fn urgency(&self) -> String {
        match &self.body {
            Body::Alert(a) => a
                .deadline
                .as_deref()
                .filter(|_| a.notified_at.is_none())
                .and_then(|d| DateTime::parse_from_rfc3339(d).ok())
                .map(|d| instant_key(d.with_timezone(&Utc)))
                .unwrap_or_else(|| "~".into()),
            _ => String::new(),
        }
    }

    /// Whether the line is on its list at `now` ([`instant_key`]).
    fn listed_at(&self, now: &str) -> bool {
        self.listed_from().is_some_and(|f| f.as_str() <= now)
    }

    /// The chart's keys the line's record counts under (JSON arrays): the TB
    /// suspect's class, the alert's disease, the incomplete record's kinds that do
    /// not depend on the time, the conflict's site. Written into `report_counts`.
    fn chart_keys(&self) -> Vec<String> {
        match &self.body {
            Body::TbSuspect(t) => vec![key(&[json!(t.class)])],
            Body::Alert(a) => vec![key(&[json!(a.disease)])],
            Body::Incomplete(i) => INCOMPLETE_KINDS
                .iter()
                .zip(i.kinds())
                .filter(|(_, hit)| *hit)
                .map(|(k, _)| key(&[json!(k)]))
                .collect(),
            Body::Conflict => vec![key(&[json!(self.head.site)])],
        }
    }
}

/// An instant as text that sorts as time does (UTC, nanoseconds, fixed width):
/// what the stored `listed_from`, `stale_from` and `urgency` are compared with.
pub fn instant_key(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.9fZ").to_string()
}

/// The kinds of the incomplete report's chart, in order; the last depends on the
/// time of the request.
const INCOMPLETE_KINDS: [&str; 5] = [
    "missing",
    "errors",
    "open_warnings",
    "overridden_warnings",
    "stale_draft",
];

impl IncompleteLine {
    /// The kinds that do not depend on the time: missing answers, errors, open
    /// warnings, overridden warnings.
    fn kinds(&self) -> [bool; 4] {
        [
            self.missing_total > 0,
            !self.errors.is_empty(),
            !self.open_warnings.is_empty(),
            !self.overridden_warnings.is_empty(),
        ]
    }
}

/// The version of what [`parts_of`] writes: a database whose parts were written by
/// another version has them rebuilt once when `tern serve` starts.
pub const PARTS_VERSION: &str = "2";
/// The setting that holds the version of the stored report parts.
pub const PARTS_SETTING: &str = "report_parts_version";

/// How a worklist's lines are read for the screen: at the request's time
/// ([`instant_key`]), the first `limit` lines on the list in the report's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub now: String,
    pub limit: usize,
    /// Order by `urgency` first ([`urgent_first`]).
    pub urgent_first: bool,
}

impl Page {
    pub fn new(name: &str, now: DateTime<Utc>, limit: usize) -> Page {
        Page {
            now: instant_key(now),
            limit,
            urgent_first: urgent_first(name),
        }
    }
}

/// Whether worklist `name` is ordered by its lines' `urgency` before their day and
/// record (the alerts list); every other list is by day and record.
pub fn urgent_first(name: &str) -> bool {
    name == "alerts"
}

/// How many lines of a worklist are on the list at the request's time, and how
/// many of them are stale drafts: counted by the database for a bounded list
/// (`listed_from <= now`, `stale_from <= now`), or here from every line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tally {
    pub listed: usize,
    pub stale: usize,
}

/// The tally of these lines at `now` (pure; what the database counts).
pub fn tally_of(lines: &[Line], now: DateTime<Utc>) -> Tally {
    let now = instant_key(now);
    let mut t = Tally::default();
    for l in lines.iter().filter(|l| l.listed_at(&now)) {
        t.listed += 1;
        t.stale += usize::from(l.stale_from().is_some_and(|s| s <= now));
    }
    t
}

/// What one record gives the reports.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Parts {
    /// `(report, key, n)`: the key is a JSON array of the report's dimensions; a
    /// record gives each key once (equal keys added up).
    pub counts: Vec<(&'static str, String, i64)>,
    pub lines: Vec<Line>,
}

/// The dimensions of a count, as its key.
fn key(parts: &[J]) -> String {
    J::Array(parts.to_vec()).to_string()
}

/// The protection referral's state of a record: `none`, `open` or `completed`.
fn protection_state(f: &FactsRow) -> &'static str {
    match referral_state(f, Some("protection")).as_deref() {
        None => "none",
        Some(s) if s.contains("completed") => "completed",
        Some(_) => "open",
    }
}

/// The vulnerability categories a record marks (`vuln_<category>` yes or true).
fn vulnerability_categories(f: &FactsRow) -> BTreeSet<String> {
    let mut cats = BTreeSet::new();
    for (k, v) in f.facts.answers.iter().chain(f.facts.calculated.iter()) {
        let Some(cat) = k.strip_prefix("vuln_") else {
            continue;
        };
        if cat.contains('_') && !matches!(cat, "single_parent" | "serious_illness") {
            continue; // `_source`, `_needs`, `share_consent`
        }
        if matches!(v, J::Bool(true)) || v.as_str() == Some("yes") {
            cats.insert(cat.to_string());
        }
    }
    cats
}

/// The tests a record speaks of (`<t>_offered` / `<t>_eligible`), HIV not being in
/// the projection.
fn tests_of(f: &FactsRow) -> BTreeSet<&str> {
    f.facts
        .answers
        .iter()
        .chain(f.facts.calculated.iter())
        .filter(|(_, v)| !v.is_null())
        .filter_map(|(k, _)| {
            k.strip_suffix("_offered")
                .or_else(|| k.strip_suffix("_eligible"))
        })
        .filter(|t| !t.contains('['))
        .collect()
}

/// The vaccination counts of a record with a vaccination section: the record in its
/// age band, each antigen it names, each antigen documented or verbal only, doses
/// given here, catch-up doses not given yet by due date.
fn vaccination_counts(f: &FactsRow, out: &mut Vec<(&'static str, String, i64)>) {
    if value(f, "vacc_evidence").is_none() && !f.facts.answers.contains_key("vacc") {
        return;
    }
    let band = age_band(f.facts.age_years);
    let mut push = |kind: &str, antigen: &str, band: &str, extra: &str, n: i64| {
        out.push((
            "vaccination",
            key(&[json!(kind), json!(antigen), json!(band), json!(extra)]),
            n,
        ));
    };
    push("records", "", band, "", 1);
    let doses = instances(f, "vacc");
    let mut antigens: BTreeSet<&str> = BTreeSet::new();
    for d in &doses {
        if let Some(a) = d.get("vacc_antigen").and_then(J::as_str) {
            antigens.extend(a.split_whitespace());
        }
    }
    let plan = instances(f, "catchup_plan");
    for p in &plan {
        if let Some(a) = p.get("antigen").and_then(J::as_str) {
            antigens.insert(a);
        }
    }
    fn source(d: &Map<String, J>) -> &str {
        d.get("source").and_then(J::as_str).unwrap_or("")
    }
    for antigen in antigens {
        push("antigen", antigen, "", "", 1);
        let of: Vec<&Map<String, J>> = doses
            .iter()
            .filter(|d| {
                d.get("vacc_antigen")
                    .and_then(J::as_str)
                    .is_some_and(|a| a.split_whitespace().any(|x| x == antigen))
            })
            .collect();
        if of.iter().any(|d| source(d) != "verbal") {
            push("documented", antigen, band, "", 1);
        } else if !of.is_empty() {
            push("verbal", antigen, band, "", 1);
        }
        let here = of
            .iter()
            .filter(|d| source(d) == "administered_here")
            .count();
        if here > 0 {
            push("here", antigen, band, "", here as i64);
        }
        for p in plan.iter().filter(|p| {
            p.get("antigen").and_then(J::as_str) == Some(antigen) && p.get("given_date").is_none()
        }) {
            let due = p.get("due_date").and_then(J::as_str).unwrap_or("");
            push("catchup", antigen, band, due, 1);
        }
    }
}

/// What a record gives every report (pure): run once when its facts are written.
pub fn parts_of(f: &FactsRow) -> Parts {
    let mut counts = Vec::new();
    let mut lines = Vec::new();
    let head = || Head {
        record: f.record_id.clone(),
        subject: f.subject_id.clone(),
        site: f.site.clone(),
        form: f.form_id.clone(),
        day: f.encounter_date.clone(),
        created: f.created.clone(),
        status: f.status.clone(),
    };
    counts.push((
        "daily",
        key(&[
            json!(f.encounter_date),
            json!(f.site),
            json!(f.form_id),
            json!(f.status),
            json!(f.facts.refused),
            json!(f.outcome),
        ]),
        1,
    ));
    let protection = protection_state(f);
    for cat in vulnerability_categories(f) {
        counts.push((
            "vulnerability",
            key(&[json!(cat), json!(f.site), json!(protection)]),
            1,
        ));
    }
    vaccination_counts(f, &mut counts);
    for t in tests_of(f) {
        let offered = yes(f, &format!("{t}_offered"));
        let eligible = yes(f, &format!("{t}_eligible"))
            || (offered && value(f, &format!("{t}_eligible")).is_none());
        counts.push((
            "test_uptake",
            key(&[
                json!(t),
                json!(f.site),
                json!(eligible),
                json!(offered),
                json!(yes(f, &format!("{t}_accepted"))),
                json!(text(f, &format!("{t}_result")).is_some_and(|r| POSITIVE.contains(&r))),
                json!(yes(f, &format!("{t}_linked_to_care"))),
            ]),
            1,
        ));
    }
    let why = tb_reasons(f);
    if !why.is_empty() {
        let class = text(f, "tb_class_us")
            .filter(|c| *c != "none")
            .or_else(|| text(f, "tb_diagnosis"))
            .unwrap_or("pending")
            .to_string();
        lines.push(Line {
            head: head(),
            body: Body::TbSuspect(TbLine {
                age_band: age_band(f.facts.age_years).into(),
                reasons: why.join(" "),
                cxr: value(f, "cxr_result")
                    .or_else(|| value(f, "active_tb_cxr_result"))
                    .cloned()
                    .unwrap_or(J::Null),
                culture_pending: yes(f, "tb_culture_pending"),
                class,
                referral: referral_state(f, Some("tb")).unwrap_or_else(|| "none".into()),
            }),
        });
    }
    if let Some(alert) = alert_line(f) {
        lines.push(Line {
            head: head(),
            body: Body::Alert(alert),
        });
    }
    let facts = &f.facts;
    if !facts.missing.is_empty()
        || !facts.errors.is_empty()
        || !facts.warnings.is_empty()
        || !facts.confirmed.is_empty()
        || f.status == "draft"
    {
        let rules = |v: &[crate::facts::RuleHit]| {
            v.iter()
                .map(|h| format!("{}@{}", h.rule, h.field))
                .collect::<Vec<_>>()
                .join(" ")
        };
        let mut missing: Vec<&str> = facts.missing.iter().map(String::as_str).take(10).collect();
        if facts.missing_total > 10 {
            missing.push("…");
        }
        let line = Line {
            head: head(),
            body: Body::Incomplete(IncompleteLine {
                missing_total: facts.missing_total,
                missing_fields: missing.join(" "),
                errors: rules(&facts.errors),
                open_warnings: rules(&facts.warnings),
                overridden_warnings: rules(&facts.confirmed),
            }),
        };
        // A draft with nothing else to say whose start is unknown is never listed.
        if line.listed_from().is_some() {
            lines.push(line);
        }
    }
    if f.conflict {
        lines.push(Line {
            head: head(),
            body: Body::Conflict,
        });
    }
    // The worklists' charts are counts too, so that a bounded list is charted whole.
    for l in &lines {
        for k in l.chart_keys() {
            counts.push((l.report(), k, 1));
        }
    }
    // Equal keys of one record are one count.
    counts.sort();
    counts.dedup_by(|b, a| {
        let same = a.0 == b.0 && a.1 == b.1;
        if same {
            a.2 += b.2;
        }
        same
    });
    Parts { counts, lines }
}

/// The alert worklist's line of a record: the notifiable alerts and isolations its
/// rules raise (`tern_forms::alerts_of`, the same alerts the device lists; TB
/// suspect tasks are on the TB suspects list), or an alert its alert section opened.
fn alert_line(f: &FactsRow) -> Option<AlertLine> {
    let raised: Vec<&crate::facts::AlertHit> = f
        .facts
        .alerts
        .iter()
        .filter(|a| a.kind != "tb_suspect")
        .collect();
    if !yes(f, "alert_open") && raised.is_empty() {
        return None;
    }
    let mut rules: Vec<&str> = raised.iter().map(|a| a.rule.as_str()).collect();
    rules.dedup();
    let at = |t: &str| {
        DateTime::parse_from_rfc3339(t)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    };
    let earliest = |times: Vec<DateTime<Utc>>| times.into_iter().min();
    let raised_at = earliest(raised.iter().filter_map(|a| at(&a.fired_at)).collect())
        .or_else(|| text(f, "alert_datetime").and_then(at))
        .or_else(|| at(&f.created));
    // Without an alert raised by a rule, the alert section's own deadline.
    let deadline = earliest(
        raised
            .iter()
            .filter_map(|a| a.deadline.as_deref().and_then(at))
            .collect(),
    )
    .or_else(|| {
        let hours = value(f, "alert_notify_hours").and_then(J::as_f64)?;
        raised_at.map(|r| r + Duration::minutes((hours * 60.0) as i64))
    });
    let iso = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    Some(AlertLine {
        disease: text(f, "alert_disease")
            .unwrap_or("unspecified")
            .to_string(),
        rules: rules.join(" "),
        raised_at: raised_at.map(iso).unwrap_or_default(),
        deadline: deadline.map(iso),
        status: text(f, "alert_status").unwrap_or("draft").to_string(),
        notified_at: text(f, "notified_at").map(str::to_string),
        isolation: value(f, "isolation_started").cloned().unwrap_or(J::Null),
        contacts: value(f, "contacts_listed").cloned().unwrap_or(J::Null),
    })
}

/// Makes report `name` over the facts rows (already filtered by sites, days, site,
/// form) at `now`: the same parts the database keeps, added up here.
pub fn report(
    name: &str,
    rows: &[FactsRow],
    subjects: &Subjects,
    now: DateTime<Utc>,
) -> Result<Report, ReportError> {
    if shape(name).is_none() {
        return Err(ReportError::Unknown(name.to_string()));
    }
    let mut counts: BTreeMap<String, i64> = BTreeMap::new();
    let mut lines = Vec::new();
    for f in rows {
        let parts = parts_of(f);
        for (report, key, n) in parts.counts {
            if report == name {
                *counts.entry(key).or_default() += n;
            }
        }
        lines.extend(parts.lines.into_iter().filter(|l| l.report() == name));
    }
    assemble(
        name,
        counts.into_iter().collect(),
        lines,
        None,
        subjects,
        now,
    )
}

/// Makes report `name` from its parts over the caller's filter, at `now`: the counts
/// added up by key (for [`Shape::Counts`]; for a worklist, its chart's), and for a
/// worklist ([`Shape::Lines`]) its lines: every line (`tally` `None`: the whole
/// list, counted here), or the first lines on the list at `now` in the report's
/// order with the database's [`Tally`] of the whole list (a bounded list).
pub fn assemble(
    name: &str,
    counts: Vec<(String, i64)>,
    lines: Vec<Line>,
    tally: Option<Tally>,
    subjects: &Subjects,
    now: DateTime<Utc>,
) -> Result<Report, ReportError> {
    let read = |what: &str| ReportError::Unreadable(what.to_string());
    if shape(name) == Some(Shape::Lines) {
        let tally = tally.unwrap_or_else(|| tally_of(&lines, now));
        let lines = on_the_list(lines, now);
        let chart: Vec<((String,), usize)> = parse_keys(&counts).map_err(|_| read(name))?;
        let chart: BTreeMap<String, usize> = chart.into_iter().map(|((k,), n)| (k, n)).collect();
        let mut r = match name {
            "tb_suspects" => tb_suspects(&lines, chart, subjects, now),
            "alerts" => alerts(&lines, chart, subjects, now),
            "incomplete" => incomplete(lines, chart, tally.stale, now),
            _ => conflicts(&lines, chart, subjects, now),
        };
        r.total_rows = tally.listed;
        return Ok(r);
    }
    Ok(match name {
        "daily" => daily(&parse_keys(&counts).map_err(|_| read(name))?),
        "vulnerability" => vulnerability(&parse_keys(&counts).map_err(|_| read(name))?),
        "vaccination" => vaccination(&parse_keys(&counts).map_err(|_| read(name))?, now),
        "test_uptake" => test_uptake(&parse_keys(&counts).map_err(|_| read(name))?),
        other => return Err(ReportError::Unknown(other.to_string())),
    })
}

/// The lines on their list at `now`, in the list's order: by `urgency` (the alerts
/// list), then day and record; the same order whatever the database's (pure).
pub fn on_the_list(lines: Vec<Line>, now: DateTime<Utc>) -> Vec<Line> {
    let now = instant_key(now);
    let mut out: Vec<(String, Line)> = lines
        .into_iter()
        .filter(|l| l.listed_at(&now))
        .map(|l| (l.urgency(), l))
        .collect();
    out.sort_by(|(ua, a), (ub, b)| {
        (ua.as_str(), a.head.day.as_str(), a.head.record.as_str()).cmp(&(
            ub.as_str(),
            b.head.day.as_str(),
            b.head.record.as_str(),
        ))
    });
    out.into_iter().map(|(_, l)| l).collect()
}

/// The counts with their keys read as the report's dimensions.
fn parse_keys<K: serde::de::DeserializeOwned>(
    counts: &[(String, i64)],
) -> Result<Vec<(K, usize)>, serde_json::Error> {
    counts
        .iter()
        .map(|(k, n)| Ok((serde_json::from_str(k)?, usize::try_from(*n).unwrap_or(0))))
        .collect()
}

fn report_of(name: &str, columns: &[&str], rows: Vec<Vec<J>>) -> Report {
    Report {
        name: name.into(),
        columns: columns.iter().map(|c| c.to_string()).collect(),
        total_rows: rows.len(),
        rows,
        chart: None,
        notes: Vec::new(),
    }
}

/// A field's value in a row's answers or calculated values (a null is no value).
fn value<'a>(f: &'a FactsRow, id: &str) -> Option<&'a J> {
    f.facts
        .answers
        .get(id)
        .or_else(|| f.facts.calculated.get(id))
        .filter(|v| !v.is_null())
}

fn text<'a>(f: &'a FactsRow, id: &str) -> Option<&'a str> {
    value(f, id).and_then(J::as_str)
}

fn yes(f: &FactsRow, id: &str) -> bool {
    matches!(value(f, id), Some(J::Bool(true))) || text(f, id) == Some("yes")
}

/// The instances of a repeat group (field ids without the `group[i].` prefix).
fn instances(f: &FactsRow, group: &str) -> Vec<Map<String, J>> {
    let mut out: Vec<Map<String, J>> = match f.facts.answers.get(group) {
        Some(J::Array(items)) => items
            .iter()
            .map(|i| {
                i.as_object()
                    .map(|m| {
                        m.iter()
                            .map(|(k, v)| {
                                (k.rsplit('.').next().unwrap_or(k).to_string(), v.clone())
                            })
                            .collect()
                    })
                    .unwrap_or_default()
            })
            .collect(),
        _ => Vec::new(),
    };
    // Calculated values of the instances: `group[i].field`.
    let prefix = format!("{group}[");
    for (k, v) in &f.facts.calculated {
        let Some(rest) = k.strip_prefix(&prefix) else {
            continue;
        };
        let Some((i, field)) = rest.split_once("].") else {
            continue;
        };
        if let Some(entry) = i.parse::<usize>().ok().and_then(|i| out.get_mut(i)) {
            entry.insert(field.to_string(), v.clone());
        }
    }
    out
}

/// FORMS.md age bands.
fn age_band(age: Option<i64>) -> &'static str {
    match age {
        None => "unknown",
        Some(a) if a < 1 => "0",
        Some(a) if a < 5 => "1-4",
        Some(a) if a < 15 => "5-14",
        Some(a) if a < 18 => "15-17",
        Some(a) if a < 60 => "18-59",
        Some(_) => "60+",
    }
}

const AGE_BANDS: &[&str] = &["0", "1-4", "5-14", "15-17", "18-59", "60+", "unknown"];

fn days_since(day: &str, now: DateTime<Utc>) -> J {
    day.parse::<chrono::NaiveDate>()
        .map(|d| json!((now.date_naive() - d).num_days()))
        .unwrap_or(J::Null)
}

fn n(x: usize) -> J {
    json!(x)
}

/// Whether a record makes its subject a TB suspect, and why (rule keys).
fn tb_reasons(f: &FactsRow) -> Vec<&'static str> {
    let mut why = Vec::new();
    if yes(f, "tb_symptom_positive") || yes(f, "sx_cough_2w") {
        why.push("symptoms");
    }
    if text(f, "cxr_result") == Some("abnormal_suggestive_tb")
        || text(f, "active_tb_cxr_result")
            .is_some_and(|r| r.contains("suggestive") || r == "abnormal")
    {
        why.push("cxr");
    }
    if yes(f, "tb_bact_positive") {
        why.push("bacteriology");
    }
    if matches!(
        text(f, "tb_diagnosis"),
        Some("pulmonary_tb" | "extrapulmonary_tb")
    ) || text(f, "tb_class_us").is_some_and(|c| c != "none")
    {
        why.push("classification");
    }
    if yes(f, "tb_contact") {
        why.push("contact");
    }
    why
}

/// The state of a record's referrals of one type (`None`: no such referral).
fn referral_state(f: &FactsRow, ref_type: Option<&str>) -> Option<String> {
    let states: Vec<String> = instances(f, "referral")
        .iter()
        .filter(|r| ref_type.is_none_or(|t| r.get("ref_type").and_then(J::as_str) == Some(t)))
        .map(|r| {
            r.get("status")
                .and_then(J::as_str)
                .unwrap_or("unknown")
                .to_string()
        })
        .collect();
    (!states.is_empty()).then(|| states.join(" "))
}

/// Result codes that count as positive in test uptake.
const POSITIVE: &[&str] = &[
    "positive",
    "reactive",
    "detected",
    "mtb_detected",
    "positive_pf",
    "positive_non_pf",
    "abnormal_suggestive_tb",
    "abnormal",
    "parasites_seen",
];

/// Daily count keys: day, site, form, status, refused, outcome.
type DailyKey = (String, String, String, String, bool, Option<String>);

/// Daily activity by day, site and form: statuses, refusals and outcomes.
fn daily(counts: &[(DailyKey, usize)]) -> Report {
    let outcomes: BTreeSet<String> = counts.iter().filter_map(|(k, _)| k.5.clone()).collect();
    #[derive(Default)]
    struct Group {
        total: usize,
        statuses: HashMap<String, usize>,
        refused: usize,
        outcomes: HashMap<String, usize>,
    }
    let mut groups: BTreeMap<(&str, &str, &str), Group> = BTreeMap::new();
    for ((day, site, form, status, refused, outcome), n) in counts {
        let g = groups.entry((day, site, form)).or_default();
        g.total += n;
        *g.statuses.entry(status.clone()).or_default() += n;
        if *refused {
            g.refused += n;
        }
        if let Some(o) = outcome {
            *g.outcomes.entry(o.clone()).or_default() += n;
        }
    }
    let mut columns: Vec<String> = ["day", "site", "form", "total"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    columns.extend(STATUSES.iter().map(|s| s.to_string()));
    columns.push("refused".into());
    columns.extend(outcomes.iter().map(|o| format!("outcome:{o}")));
    let mut out = Vec::new();
    let mut per_day: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for ((day, site, form), g) in &groups {
        let mut row = vec![json!(day), json!(site), json!(form), n(g.total)];
        row.extend(
            STATUSES
                .iter()
                .map(|s| n(g.statuses.get(*s).copied().unwrap_or(0))),
        );
        row.push(n(g.refused));
        row.extend(
            outcomes
                .iter()
                .map(|o| n(g.outcomes.get(o).copied().unwrap_or(0))),
        );
        let d = per_day.entry(day.to_string()).or_default();
        d.0 += g.total;
        d.1 += g.refused;
        out.push(row);
    }
    Report {
        name: "daily".into(),
        columns,
        total_rows: out.len(),
        rows: out,
        chart: Some(Chart {
            kind: "line".into(),
            labels: per_day.keys().cloned().collect(),
            series: vec![
                Series {
                    name: "total".into(),
                    values: per_day.values().map(|d| d.0 as f64).collect(),
                },
                Series {
                    name: "refused".into(),
                    values: per_day.values().map(|d| d.1 as f64).collect(),
                },
            ],
        }),
        notes: Vec::new(),
    }
}

/// TB suspects line list: who, site, screening date, age band, why, CXR, culture
/// pending, classification, days since, TB referral state.
fn tb_suspects(
    lines: &[Line],
    by_class: BTreeMap<String, usize>,
    subjects: &Subjects,
    now: DateTime<Utc>,
) -> Report {
    let mut columns = vec!["record"];
    columns.extend(subjects.columns());
    columns.extend([
        "site",
        "form",
        "screening_date",
        "age_band",
        "reasons",
        "cxr_result",
        "culture_pending",
        "classification",
        "days_since",
        "referral",
    ]);
    let mut out = Vec::new();
    for l in lines {
        let Body::TbSuspect(t) = &l.body else {
            continue;
        };
        let h = &l.head;
        let mut row = vec![json!(h.record)];
        row.extend(subjects.cells(&h.subject));
        row.extend([
            json!(h.site),
            json!(h.form),
            json!(h.day),
            json!(t.age_band),
            json!(t.reasons),
            t.cxr.clone(),
            json!(t.culture_pending),
            json!(t.class),
            days_since(&h.day, now),
            json!(t.referral),
        ]);
        out.push(row);
    }
    let mut r = report_of("tb_suspects", &columns, out);
    r.chart = Some(Chart::counts("suspects", &by_class));
    r
}

/// Alert worklist: records whose rules raise a notifiable alert or an isolation
/// (`tern_forms::alerts_of`, the alerts the device lists), or with an open alert;
/// the deadline counted from when the alert was raised; most urgent first (the
/// earliest deadline; notified alerts and alerts without a deadline last).
fn alerts(
    lines: &[Line],
    by_disease: BTreeMap<String, usize>,
    subjects: &Subjects,
    now: DateTime<Utc>,
) -> Report {
    let mut columns = vec!["record"];
    columns.extend(subjects.columns());
    columns.extend([
        "site",
        "disease",
        "rules",
        "raised_at",
        "deadline",
        "hours_left",
        "status",
        "notified_at",
        "isolation",
        "contacts",
    ]);
    let mut out = Vec::new();
    for l in lines {
        let Body::Alert(a) = &l.body else {
            continue;
        };
        let deadline = a
            .deadline
            .as_deref()
            .and_then(|d| DateTime::parse_from_rfc3339(d).ok())
            .map(|d| d.with_timezone(&Utc));
        let mut row = vec![json!(l.head.record)];
        row.extend(subjects.cells(&l.head.subject));
        row.extend([
            json!(l.head.site),
            json!(a.disease),
            json!(a.rules),
            json!(a.raised_at),
            a.deadline.clone().map_or(J::Null, J::String),
            match (&a.notified_at, deadline) {
                (None, Some(d)) => json!((d - now).num_hours()),
                _ => J::Null,
            },
            json!(a.status),
            a.notified_at.clone().map_or(J::Null, J::String),
            a.isolation.clone(),
            a.contacts.clone(),
        ]);
        out.push(row);
    }
    // Most urgent first (the lines' order): the earliest deadline, notified last.
    let mut r = report_of("alerts", &columns, out);
    r.notes.push("alerts_from_rules".into());
    r.chart = Some(Chart::counts("alerts", &by_disease));
    r
}

/// Vulnerability categories by site and their referrals' states. Categories in
/// restricted sections (mental health, LGBTI, trafficking, violence, FGM) are not in
/// the projection: the report says so.
fn vulnerability(counts: &[((String, String, String), usize)]) -> Report {
    let mut by: BTreeMap<(&str, &str), [usize; 4]> = BTreeMap::new();
    for ((cat, site, state), n) in counts {
        let c = by.entry((cat, site)).or_default();
        c[0] += n;
        match state.as_str() {
            "none" => c[1] += n,
            "completed" => c[3] += n,
            _ => c[2] += n,
        }
    }
    let rows_out = by
        .iter()
        .map(|((cat, site), c)| vec![json!(cat), json!(site), n(c[0]), n(c[1]), n(c[2]), n(c[3])])
        .collect();
    let mut by_cat: BTreeMap<String, usize> = BTreeMap::new();
    for ((cat, _), c) in &by {
        *by_cat.entry(cat.to_string()).or_default() += c[0];
    }
    let mut r = report_of(
        "vulnerability",
        &[
            "category",
            "site",
            "subjects",
            "no_referral",
            "referral_open",
            "referral_completed",
        ],
        rows_out,
    );
    r.notes.push("sensitive_categories_not_projected".into());
    r.chart = Some(Chart::counts("subjects", &by_cat));
    r
}

/// Vaccination count keys: kind, antigen, age band, due date (catch-up doses).
type VaccinationKey = (String, String, String, String);

/// Vaccination coverage by antigen and age band over records with a vaccination
/// section: documented (card, registry or given here), verbal only, none; doses
/// given here; catch-up doses due and overdue (a due date before today).
fn vaccination(counts: &[(VaccinationKey, usize)], now: DateTime<Utc>) -> Report {
    let today = now.date_naive().to_string();
    let mut records: HashMap<&str, usize> = HashMap::new();
    let mut antigens: BTreeSet<&str> = BTreeSet::new();
    // (antigen, band) -> documented, verbal only, doses here, catch-up due, overdue
    let mut by: HashMap<(&str, &str), [usize; 5]> = HashMap::new();
    for ((kind, antigen, band, extra), n) in counts {
        match kind.as_str() {
            "records" => *records.entry(band).or_default() += n,
            "antigen" => {
                antigens.insert(antigen);
            }
            other => {
                let c = by.entry((antigen, band)).or_default();
                match other {
                    "documented" => c[0] += n,
                    "verbal" => c[1] += n,
                    "here" => c[2] += n,
                    "catchup" if !extra.is_empty() && extra.as_str() < today.as_str() => c[4] += n,
                    "catchup" => c[3] += n,
                    _ => {}
                }
            }
        }
    }
    let mut out = Vec::new();
    let mut documented_by_antigen: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for antigen in &antigens {
        for band in AGE_BANDS {
            let total = records.get(band).copied().unwrap_or(0);
            if total == 0 {
                continue;
            }
            let c = by.get(&(*antigen, *band)).copied().unwrap_or_default();
            let e = documented_by_antigen
                .entry(antigen.to_string())
                .or_default();
            e.0 += c[0];
            e.1 += total;
            let pct = (c[0] as f64 * 1000.0 / total as f64).round() / 10.0;
            let none = total.saturating_sub(c[0] + c[1]);
            let mut row = vec![json!(antigen), json!(band), n(total), n(c[0])];
            row.push(json!(pct));
            row.extend([n(c[1]), n(none), n(c[2]), n(c[3]), n(c[4])]);
            out.push(row);
        }
    }
    let mut r = report_of(
        "vaccination",
        &[
            "antigen",
            "age_band",
            "records",
            "documented",
            "documented_pct",
            "verbal_only",
            "none",
            "doses_given_here",
            "catchup_due",
            "catchup_overdue",
        ],
        out,
    );
    r.chart = Some(Chart {
        kind: "bar".into(),
        labels: documented_by_antigen.keys().cloned().collect(),
        series: vec![Series {
            name: "documented_pct".into(),
            values: documented_by_antigen
                .values()
                .map(|(d, t)| {
                    if *t == 0 {
                        0.0
                    } else {
                        (*d as f64 * 1000.0 / *t as f64).round() / 10.0
                    }
                })
                .collect(),
        }],
    });
    r
}

/// Test uptake count keys: test, site, eligible, offered, accepted, positive,
/// linked to care.
type UptakeKey = (String, String, bool, bool, bool, bool, bool);

/// Test uptake (ECDC) by test and site: eligible, offered, accepted, positive,
/// linked to care. Restricted tests (HIV) are not in the projection.
fn test_uptake(counts: &[(UptakeKey, usize)]) -> Report {
    let mut by: BTreeMap<(&str, &str), [usize; 5]> = BTreeMap::new();
    for ((t, site, eligible, offered, accepted, positive, linked), n) in counts {
        let c = by.entry((t, site)).or_default();
        for (i, hit) in [eligible, offered, accepted, positive, linked]
            .into_iter()
            .enumerate()
        {
            if *hit {
                c[i] += n;
            }
        }
    }
    let mut by_test: BTreeMap<String, [usize; 3]> = BTreeMap::new();
    let rows_out = by
        .iter()
        .map(|((t, site), c)| {
            let e = by_test.entry(t.to_string()).or_default();
            e[0] += c[1];
            e[1] += c[2];
            e[2] += c[3];
            vec![
                json!(t),
                json!(site),
                n(c[0]),
                n(c[1]),
                n(c[2]),
                n(c[3]),
                n(c[4]),
            ]
        })
        .collect();
    let mut r = report_of(
        "test_uptake",
        &[
            "test",
            "site",
            "eligible",
            "offered",
            "accepted",
            "positive",
            "linked_to_care",
        ],
        rows_out,
    );
    r.notes.push("restricted_tests_not_projected".into());
    r.chart = Some(Chart {
        kind: "bar".into(),
        labels: by_test.keys().cloned().collect(),
        series: ["offered", "accepted", "positive"]
            .iter()
            .enumerate()
            .map(|(i, name)| Series {
                name: name.to_string(),
                values: by_test.values().map(|c| c[i] as f64).collect(),
            })
            .collect(),
    });
    r
}

/// Incomplete records: missing required answers, errors, open warnings, warnings
/// overridden (confirmed), and drafts started more than 24 hours ago.
/// The chart counts every record of the window by kind (`by_kind`, stored counts,
/// and `stale` drafts, counted at the request's time); the lines are those on the
/// list, maybe only the first ones.
fn incomplete(
    lines: Vec<Line>,
    by_kind: BTreeMap<String, usize>,
    stale: usize,
    now: DateTime<Utc>,
) -> Report {
    let now_key = instant_key(now);
    let mut out = Vec::new();
    // The lines are moved into the rows (a list can hold every record).
    for l in lines {
        let stale = l.stale_from().is_some_and(|s| s <= now_key);
        let Line {
            head: h,
            body: Body::Incomplete(i),
        } = l
        else {
            continue;
        };
        out.push(vec![
            J::String(h.record),
            J::String(h.site),
            J::String(h.form),
            J::String(h.status),
            J::String(h.day),
            n(i.missing_total),
            J::String(i.missing_fields),
            J::String(i.errors),
            J::String(i.open_warnings),
            J::String(i.overridden_warnings),
            J::Bool(stale),
        ]);
    }
    let mut r = report_of(
        "incomplete",
        &[
            "record",
            "site",
            "form",
            "status",
            "day",
            "missing",
            "missing_fields",
            "errors",
            "open_warnings",
            "overridden_warnings",
            "stale_draft",
        ],
        out,
    );
    r.chart = Some(Chart {
        kind: "bar".into(),
        labels: INCOMPLETE_KINDS.iter().map(|s| s.to_string()).collect(),
        series: vec![Series {
            name: "records".into(),
            values: INCOMPLETE_KINDS
                .iter()
                .map(|k| match *k {
                    "stale_draft" => stale as f64,
                    k => by_kind.get(k).copied().unwrap_or(0) as f64,
                })
                .collect(),
        }],
    });
    r
}

/// Records holding concurrent values a supervisor must resolve.
fn conflicts(
    lines: &[Line],
    by_site: BTreeMap<String, usize>,
    subjects: &Subjects,
    now: DateTime<Utc>,
) -> Report {
    let mut columns = vec!["record"];
    columns.extend(subjects.columns());
    columns.extend(["site", "form", "status", "day", "days_since"]);
    let mut out = Vec::new();
    for l in lines.iter().filter(|l| matches!(l.body, Body::Conflict)) {
        let h = &l.head;
        let mut row = vec![json!(h.record)];
        row.extend(subjects.cells(&h.subject));
        row.extend([
            json!(h.site),
            json!(h.form),
            json!(h.status),
            json!(h.day),
            days_since(&h.day, now),
        ]);
        out.push(row);
    }
    let mut r = report_of("conflicts", &columns, out);
    r.chart = Some(Chart::counts("records", &by_site));
    r
}

/// A cell as CSV text, guarded against formula injection: a cell starting with
/// `=`, `+`, `-`, `@`, tab or carriage return gets a leading `'`.
fn csv_cell(v: &J) -> String {
    let s = match v {
        J::Null => String::new(),
        J::String(s) => s.clone(),
        other => other.to_string(),
    };
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// The report's table as CSV (UTF-8, header row of column keys, CRLF lines).
pub fn to_csv(r: &Report) -> String {
    let mut out = String::new();
    let line = |cells: Vec<String>| cells.join(",") + "\r\n";
    out.push_str(&line(
        r.columns
            .iter()
            .map(|c| csv_cell(&J::String(c.clone())))
            .collect(),
    ));
    for row in &r.rows {
        out.push_str(&line(row.iter().map(csv_cell).collect()));
    }
    out
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

    fn facts(id: &str, form: &str, day: &str, answers: J) -> FactsRow {
        let form_def = tern_record::builtin::form(form, "1.1.0").expect("form");
        let record = RecordRow {
            record_id: id.into(),
            site: if id.starts_with('b') {
                "site-b"
            } else {
                "site-a"
            }
            .into(),
            form_id: form.into(),
            form_version: "1.1.0".into(),
            subject_id: format!("S-{id}"),
            status: "submitted".into(),
            conflict: id.ends_with('c'),
            created: format!("{day}T09:00:00Z"),
        };
        let input = tern_record::RecordInput {
            answers: answers.as_object().cloned().unwrap_or_default(),
            created: record.created.clone(),
            subject_id: record.subject_id.clone(),
            site: record.site.clone(),
            ..Default::default()
        };
        let mut subject = Map::new();
        subject.insert("date_of_birth".into(), json!("2016-01-01"));
        subject.insert("sex".into(), json!("female"));
        crate::facts::record_facts(
            &form_def,
            &record,
            &input,
            &subject,
            day.parse().expect("day"),
        )
    }

    fn col(r: &Report, row: usize, name: &str) -> J {
        let i = r.columns.iter().position(|c| c == name).expect(name);
        r.rows[row][i].clone()
    }

    #[test]
    fn public_health_reports_count_what_the_records_say() {
        let now = DateTime::parse_from_rfc3339("2026-03-12T09:00:00Z")
            .expect("now")
            .with_timezone(&Utc);
        let rows = vec![
            facts(
                "a1",
                "pda",
                "2026-03-10",
                json!({"consent_screening": "granted", "tb_cough": true, "tb_cough_weeks": 3,
                       "outcome": "deferred",
                       "vacc": [{"vaccine_cvx": "03", "source": "card", "date_given": "2017-01-05"},
                                {"vaccine_cvx": "20", "source": "verbal", "date_given": "2017-01-05"}]}),
            ),
            facts(
                "a2c",
                "pda",
                "2026-03-10",
                json!({"consent_screening": "refused"}),
            ),
            facts(
                "b1",
                "arr_t2",
                "2026-03-11",
                json!({"hbv_offered": true, "hbv_accepted": true, "hbv_result": "positive",
                       "sx_fever_rash": true}),
            ),
        ];
        let plain = Subjects::default();
        let daily = report("daily", &rows, &plain, now).expect("daily");
        assert_eq!(daily.rows.len(), 2);
        assert_eq!(col(&daily, 0, "total"), json!(2));
        assert_eq!(col(&daily, 0, "refused"), json!(1));
        assert_eq!(col(&daily, 0, "outcome:deferred"), json!(1));
        assert_eq!(
            daily.chart.as_ref().expect("chart").labels,
            ["2026-03-10", "2026-03-11"]
        );

        let named = Subjects {
            pseudonymise: false,
            names: Some([("S-a1".to_string(), "Amina".to_string())].into()),
        };
        let tb = report("tb_suspects", &rows, &named, now).expect("tb");
        assert_eq!(tb.rows.len(), 1, "{:?}", tb.rows);
        assert_eq!(col(&tb, 0, "name"), json!("Amina"));
        assert_eq!(col(&tb, 0, "age_band"), json!("5-14"));
        assert_eq!(col(&tb, 0, "days_since"), json!(2));
        assert!(col(&tb, 0, "reasons")
            .as_str()
            .expect("text")
            .contains("symptoms"));
        let hidden = report(
            "tb_suspects",
            &rows,
            &Subjects {
                pseudonymise: true,
                names: None,
            },
            now,
        )
        .expect("tb");
        assert!(!hidden.columns.contains(&"name".to_string()));
        assert_ne!(col(&hidden, 0, "subject"), json!("S-a1"), "pseudonymised");

        let vacc = report("vaccination", &rows, &plain, now).expect("vaccination");
        let measles = vacc
            .rows
            .iter()
            .position(|r| r[0] == json!("measles"))
            .expect("measles row");
        assert_eq!(col(&vacc, measles, "age_band"), json!("5-14"));
        assert_eq!(col(&vacc, measles, "documented"), json!(1));
        let dtp = vacc
            .rows
            .iter()
            .position(|r| r[0] == json!("dtp"))
            .expect("dtp");
        assert_eq!(col(&vacc, dtp, "verbal_only"), json!(1));

        let uptake = report("test_uptake", &rows, &plain, now).expect("uptake");
        let hbv = uptake
            .rows
            .iter()
            .position(|r| r[0] == json!("hbv"))
            .expect("hbv");
        assert_eq!(
            [
                col(&uptake, hbv, "offered"),
                col(&uptake, hbv, "accepted"),
                col(&uptake, hbv, "positive")
            ],
            [json!(1), json!(1), json!(1)]
        );

        let alerts = report("alerts", &rows, &plain, now).expect("alerts");
        assert_eq!(
            alerts.rows.len(),
            1,
            "the measles rule raises one: {:?}",
            alerts.rows
        );
        assert_eq!(col(&alerts, 0, "record"), json!("b1"));
        assert_eq!(
            col(&alerts, 0, "hours_left"),
            json!(0),
            "24 h from the encounter start: due now"
        );

        let incomplete = report("incomplete", &rows, &plain, now).expect("incomplete");
        assert!(incomplete.rows.iter().any(|r| r[0] == json!("a1")));
        let conflicts = report("conflicts", &rows, &plain, now).expect("conflicts");
        assert_eq!(conflicts.rows.len(), 1);
        assert_eq!(col(&conflicts, 0, "record"), json!("a2c"));
        assert!(report("nope", &rows, &plain, now).is_err());
        // Reports read the compact copy of each row: it gives the same reports.
        let compact: Vec<FactsRow> = rows.iter().map(crate::facts::report_view).collect();
        for name in REPORTS {
            assert_eq!(
                report(name, &compact, &named, now),
                report(name, &rows, &named, now),
                "{name}"
            );
        }
    }

    #[test]
    fn a_bounded_report_keeps_its_first_rows_and_says_how_many_there_are() {
        let rows: Vec<Vec<J>> = (0..5).map(|i| vec![json!(i)]).collect();
        let r = report_of("incomplete", &["record"], rows).bounded(2);
        assert_eq!(r.rows, vec![vec![json!(0)], vec![json!(1)]]);
        assert_eq!(r.total_rows, 5);
        let whole = report_of("incomplete", &["record"], vec![vec![json!(0)]]).bounded(2);
        assert_eq!((whole.rows.len(), whole.total_rows), (1, 1));
    }

    /// What the database does with the stored columns of the lines (`listed_from`,
    /// `stale_from`, `urgency`): the first `limit` on the list, and the tally.
    fn as_the_database_does(lines: &[Line], page: &Page) -> (Vec<Line>, Tally) {
        let mut listed: Vec<&Line> = lines
            .iter()
            .filter(|l| l.listed_from().is_some_and(|f| f <= page.now))
            .collect();
        let tally = Tally {
            listed: listed.len(),
            stale: listed
                .iter()
                .filter(|l| l.stale_from().is_some_and(|s| s <= page.now))
                .count(),
        };
        listed.sort_by_key(|l| {
            (
                if page.urgent_first {
                    l.urgency()
                } else {
                    String::new()
                },
                l.head.day.clone(),
                l.head.record.clone(),
            )
        });
        let first = listed.into_iter().take(page.limit).cloned().collect();
        (first, tally)
    }

    #[test]
    fn a_bounded_worklist_is_the_first_rows_of_the_whole_with_its_chart_and_total() {
        let now = DateTime::parse_from_rfc3339("2026-03-12T09:00:00Z")
            .expect("now")
            .with_timezone(&Utc);
        let mut rows = Vec::new();
        for (i, day) in ["2026-03-11", "2026-03-10", "2026-03-11", "2026-03-09"]
            .iter()
            .enumerate()
        {
            rows.push(facts(
                &format!("a{i}"),
                "pda",
                day,
                json!({"consent_screening": "granted", "tb_cough": true, "tb_cough_weeks": 3}),
            ));
            let mut isolated = facts(
                &format!("b{i}c"),
                "arr_t2",
                day,
                json!({"sx_fever_rash": true}),
            );
            if i == 1 {
                isolated
                    .facts
                    .answers
                    .insert("notified_at".into(), json!("2026-03-10T10:00:00Z"));
            }
            rows.push(isolated);
        }
        // A complete draft started 2026-03-11T09:00Z: stale from 2026-03-12T09:00Z.
        let mut draft = facts("d1", "arr_t1", "2026-03-11", json!({}));
        draft.status = "draft".into();
        draft.facts.missing.clear();
        draft.facts.missing_total = 0;
        draft.facts.errors.clear();
        draft.facts.warnings.clear();
        draft.facts.confirmed.clear();
        rows.push(draft);
        let rows: Vec<FactsRow> = rows.iter().map(crate::facts::report_view).collect();
        let subjects = Subjects::default();
        let mut counts: BTreeMap<(&str, String), i64> = BTreeMap::new();
        let mut lines = Vec::new();
        for f in &rows {
            let parts = parts_of(f);
            for (r, k, n) in parts.counts {
                *counts.entry((r, k)).or_default() += n;
            }
            lines.extend(parts.lines);
        }
        for name in ["tb_suspects", "alerts", "incomplete", "conflicts"] {
            let mine: Vec<Line> = lines
                .iter()
                .filter(|l| l.report() == name)
                .cloned()
                .collect();
            let chart: Vec<(String, i64)> = counts
                .iter()
                .filter(|((r, _), _)| *r == name)
                .map(|((_, k), n)| (k.clone(), *n))
                .collect();
            for at in [now - Duration::seconds(1), now] {
                let whole = report(name, &rows, &subjects, at).expect("whole");
                assert!(whole.total_rows > 1, "{name}: {whole:?}");
                for limit in [1, 2, whole.total_rows, 100] {
                    let page = Page::new(name, at, limit);
                    let (first, tally) = as_the_database_does(&mine, &page);
                    let bounded = assemble(name, chart.clone(), first, Some(tally), &subjects, at)
                        .expect("bounded");
                    assert_eq!(bounded, whole.clone().bounded(limit), "{name} {limit} {at}");
                }
            }
        }
        // The draft is listed, and stale, from 24 hours after its start to the second.
        let stale = |at: DateTime<Utc>| {
            let r = report("incomplete", &rows, &subjects, at).expect("incomplete");
            let listed = r.rows.iter().any(|x| x[0] == json!("d1"));
            let chart = r.chart.expect("chart").series[0].values[4];
            (listed, chart)
        };
        assert_eq!(stale(now - Duration::seconds(1)), (false, 0.0));
        assert_eq!(stale(now), (true, 1.0));
        // The alerts: the earliest deadline first, the notified one last.
        let alerts = report("alerts", &rows, &subjects, now).expect("alerts");
        let order: Vec<&J> = alerts.rows.iter().map(|r| &r[0]).collect();
        assert_eq!(
            order,
            [&json!("b3c"), &json!("b0c"), &json!("b2c"), &json!("b1c")],
            "{alerts:?}"
        );
    }

    #[test]
    fn stored_instants_sort_as_time_does() {
        let at = |t: &str| {
            DateTime::parse_from_rfc3339(t)
                .expect("time")
                .with_timezone(&Utc)
        };
        assert_eq!(
            instant_key(at("2026-03-10T09:00:00+02:00")),
            "2026-03-10T07:00:00.000000000Z"
        );
        assert!(
            instant_key(at("2026-03-10T07:00:00.5Z")) > instant_key(at("2026-03-10T07:00:00Z"))
        );
        assert!(instant_key(at("2026-03-10T10:00:00Z")).as_str() < "~");
        let line = |status: &str, created: &str| Line {
            head: Head {
                record: "r".into(),
                subject: "s".into(),
                site: "site-a".into(),
                form: "pda".into(),
                day: "2026-03-10".into(),
                created: created.into(),
                status: status.into(),
            },
            body: Body::Incomplete(IncompleteLine {
                missing_total: 0,
                missing_fields: String::new(),
                errors: String::new(),
                open_warnings: String::new(),
                overridden_warnings: String::new(),
            }),
        };
        let draft = line("draft", "2026-03-10T09:00:00+02:00");
        assert_eq!(
            draft.stale_from().as_deref(),
            Some("2026-03-11T07:00:00.000000000Z")
        );
        assert_eq!(draft.listed_from(), draft.stale_from(), "listed once stale");
        assert_eq!(line("draft", "").listed_from(), None, "never listed");
        assert_eq!(line("submitted", "2026-03-10T09:00:00Z").stale_from(), None);
        let mut missing = line("draft", "2026-03-10T09:00:00Z");
        if let Body::Incomplete(i) = &mut missing.body {
            i.missing_total = 2;
        }
        assert_eq!(missing.listed_from().as_deref(), Some(""), "listed at once");
        assert_eq!(missing.chart_keys(), ["[\"missing\"]"]);
    }

    #[test]
    fn csv_cells_cannot_start_a_formula() {
        let r = Report {
            name: "x".into(),
            columns: vec!["a".into(), "b".into()],
            rows: vec![
                vec![json!("=HYPERLINK(\"x\")"), json!(-3)],
                vec![json!("@x,y"), J::Null],
            ],
            total_rows: 2,
            chart: None,
            notes: Vec::new(),
        };
        assert_eq!(
            to_csv(&r),
            "a,b\r\n\"'=HYPERLINK(\"\"x\"\")\",'-3\r\n\"'@x,y\",\r\n"
        );
    }
}
