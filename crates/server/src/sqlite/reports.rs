//! Report parts in the SQLite backend (crate::reports): the counts and worklist
//! lines reports read by report, day, site and form. Each function is one `Db`
//! operation (crate::db).

use super::*;

pub(super) async fn report_counts(
    db: &SqliteDb,
    report: &str,
    filter: &crate::db::FactsFilter,
) -> DbResult<Vec<(String, i64)>> {
    db.report_parts_impl(
        "SELECT key, sum(n) FROM report_counts WHERE report = ?1 AND {FILTER} GROUP BY key".into(),
        report,
        filter,
        Vec::new(),
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .await
}

pub(super) async fn report_tally(
    db: &SqliteDb,
    report: &str,
    filter: &crate::db::FactsFilter,
    now: &str,
) -> DbResult<crate::reports::Tally> {
    let rows = db
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

pub(super) async fn report_lines(
    db: &SqliteDb,
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
    db.report_parts_impl(sql, report, filter, extra, |r| {
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

pub(super) async fn report_parts_missing(db: &SqliteDb, version: &str) -> DbResult<bool> {
    let version = version.to_string();
    db.run(move |c| {
        Ok(c.query_row(
            "SELECT EXISTS(SELECT 1 FROM record_facts)
               AND coalesce((SELECT value FROM settings WHERE key = ?1), '') <> ?2",
            params![crate::reports::PARTS_SETTING, version],
            |r| r.get(0),
        )?)
    })
    .await
}

impl SqliteDb {
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
}
