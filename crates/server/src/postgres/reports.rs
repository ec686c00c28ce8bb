//! Report parts in the PostgreSQL backend (crate::reports): the counts and worklist
//! lines reports read by report, day, site and form. Each function is one `Db`
//! operation (crate::db).

use super::*;

/// The filter of a report parts query: `$2` the caller's sites, `$3`..`$4` the days,
/// `$5` a site, `$6` a form.
const PARTS_FILTER: &str = "encounter_date >= coalesce($3::text, '')
    AND encounter_date <= coalesce($4::text, '~')
    AND ($2::text[] IS NULL OR site = ANY($2))
    AND ($5::text IS NULL OR site = $5) AND ($6::text IS NULL OR form_id = $6)";

pub(super) async fn report_counts(
    db: &PgDb,
    report: &str,
    f: &crate::db::FactsFilter,
) -> DbResult<Vec<(String, i64)>> {
    let sql = format!(
        "SELECT key, sum(n)::bigint FROM report_counts WHERE report = $1 AND {PARTS_FILTER}
         GROUP BY key"
    );
    let rows = db
        .client()
        .await?
        .query(
            &sql,
            &[&report, &f.sites, &f.from, &f.until, &f.site, &f.form],
        )
        .await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

pub(super) async fn report_tally(
    db: &PgDb,
    report: &str,
    f: &crate::db::FactsFilter,
    now: &str,
) -> DbResult<crate::reports::Tally> {
    let sql = format!(
        "SELECT count(*), count(*) FILTER (WHERE stale_from <= $7) FROM report_lines
         WHERE report = $1 AND {PARTS_FILTER} AND listed_from <= $7"
    );
    let row = db
        .client()
        .await?
        .query_one(
            &sql,
            &[&report, &f.sites, &f.from, &f.until, &f.site, &f.form, &now],
        )
        .await?;
    let n = |i: usize| usize::try_from(row.get::<_, i64>(i)).unwrap_or(0);
    Ok(crate::reports::Tally {
        listed: n(0),
        stale: n(1),
    })
}

pub(super) async fn report_lines(
    db: &PgDb,
    report: &str,
    f: &crate::db::FactsFilter,
    page: Option<&crate::reports::Page>,
) -> DbResult<Vec<(crate::reports::Head, String)>> {
    let select = format!(
        "SELECT record_id, subject_id, site, form_id, encounter_date, created, status, body
         FROM report_lines WHERE report = $1 AND {PARTS_FILTER}"
    );
    let client = db.client().await?;
    let rows = match page {
        None => {
            client
                .query(
                    &format!("{select} ORDER BY encounter_date, record_id"),
                    &[&report, &f.sites, &f.from, &f.until, &f.site, &f.form],
                )
                .await?
        }
        Some(p) => {
            let sql = format!(
                "{select} AND listed_from <= $7 ORDER BY {}encounter_date, record_id
                 LIMIT $8",
                if p.urgent_first { "urgency, " } else { "" }
            );
            let limit = i64::try_from(p.limit).unwrap_or(i64::MAX);
            client
                .query(
                    &sql,
                    &[
                        &report, &f.sites, &f.from, &f.until, &f.site, &f.form, &p.now, &limit,
                    ],
                )
                .await?
        }
    };
    Ok(rows
        .iter()
        .map(|r| {
            (
                crate::reports::Head {
                    record: r.get(0),
                    subject: r.get(1),
                    site: r.get(2),
                    form: r.get(3),
                    day: r.get(4),
                    created: r.get(5),
                    status: r.get(6),
                },
                r.get(7),
            )
        })
        .collect())
}

pub(super) async fn report_parts_missing(db: &PgDb, version: &str) -> DbResult<bool> {
    let row = db
        .client()
        .await?
        .query_one(
            "SELECT EXISTS(SELECT 1 FROM record_facts)
               AND coalesce((SELECT value FROM settings WHERE key = $1), '') <> $2",
            &[&crate::reports::PARTS_SETTING, &version],
        )
        .await?;
    Ok(row.get(0))
}
