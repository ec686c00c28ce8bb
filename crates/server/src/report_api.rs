//! `GET /v1/reports/<name>?from=&until=&site=&form=&format=csv`: the FORMS.md 8
//! reports over `record_facts` (crate::reports), role-checked (FORMS.md 2.2: site
//! reports for clinicians and supervisors of their own sites, data managers all
//! sites), pseudonymous unless the role may see identity, and access-logged.

use crate::auth::{self, Action};
use crate::db::{Db, FactsFilter};
use crate::reports::{self, Report, Subjects};
use crate::service::{self, ApiError, ApiResult, Caller};
use chrono::{Duration, NaiveDate};

/// The query of a report.
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub struct ReportQuery {
    pub from: Option<String>,
    pub until: Option<String>,
    pub site: Option<String>,
    pub form: Option<String>,
    pub format: Option<String>,
    /// Most rows the JSON answer lists (default [`LIST_ROWS`], at most
    /// [`MAX_LIST_ROWS`]); the CSV download always has every row.
    pub limit: Option<usize>,
}

/// Rows a report lists on the screen unless asked otherwise.
pub const LIST_ROWS: usize = 500;
/// The most rows a report lists on the screen.
pub const MAX_LIST_ROWS: usize = 5000;

/// How many rows the JSON answer of `q` lists (pure).
pub fn list_rows(q: &ReportQuery) -> ApiResult<usize> {
    match q.limit {
        None => Ok(LIST_ROWS),
        Some(n) if (1..=MAX_LIST_ROWS).contains(&n) => Ok(n),
        Some(n) => Err(ApiError::bad(format!(
            "limit {n} is out of range: list 1 to {MAX_LIST_ROWS} rows (the CSV download has them all)"
        ))),
    }
}

/// Longest window a report covers, in days.
pub const MAX_DAYS: i64 = 366;
/// The window when `from` is not given, in days up to `until`.
pub const DEFAULT_DAYS: i64 = 90;

/// The rows a report reads for a caller and query (pure): days `from..=until`
/// (default the 90 days up to `today`), at most 366 days.
pub fn filter_of(
    q: &ReportQuery,
    caller_sites: Option<&[String]>,
    today: NaiveDate,
) -> ApiResult<FactsFilter> {
    let day = |name: &str, v: &Option<String>| -> ApiResult<Option<NaiveDate>> {
        v.as_deref()
            .filter(|s| !s.is_empty())
            .map(|s| {
                NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
                    ApiError::bad(format!(
                        "`{name}` must be a day written YYYY-MM-DD, not `{s}`"
                    ))
                })
            })
            .transpose()
    };
    let until = day("until", &q.until)?.unwrap_or(today);
    let from = day("from", &q.from)?.unwrap_or(until - Duration::days(DEFAULT_DAYS - 1));
    if from > until {
        return Err(ApiError::bad("`from` is after `until`: swap them"));
    }
    if (until - from).num_days() >= MAX_DAYS {
        return Err(ApiError::bad(format!(
            "a report covers at most {MAX_DAYS} days: narrow `from`..`until`"
        )));
    }
    let name = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
    Ok(FactsFilter {
        sites: caller_sites.map(<[String]>::to_vec),
        from: Some(from.to_string()),
        until: Some(until.to_string()),
        site: name(&q.site),
        form: name(&q.form),
    })
}

/// Names of these subjects, from their subjects' summaries.
async fn names<D: Db>(
    db: &D,
    subjects: std::collections::BTreeSet<String>,
) -> ApiResult<std::collections::HashMap<String, String>> {
    let ids: Vec<String> = subjects.into_iter().collect();
    let summaries = db.subject_summaries(&ids).await?;
    Ok(summaries
        .into_iter()
        .filter_map(|(id, s)| match serde_json::from_str(&s) {
            Ok(tern_record::DocSummary::Subject { display_name, .. }) => Some((id, display_name)),
            _ => None,
        })
        .collect())
}

/// The API's answer to a report that cannot be made.
fn refused(e: reports::ReportError) -> ApiError {
    use tern_sync::protocol::ErrorCode;
    let code = match e {
        reports::ReportError::Unknown(_) => ErrorCode::NotFound,
        reports::ReportError::Unreadable(_) => ErrorCode::Internal,
    };
    ApiError::new(code, e.to_string())
}

/// Reads what report `name` needs over `filter` (its counts added up in SQL, or its
/// worklist lines) and makes it at `now`: subjects pseudonymised when asked, with
/// their names when `with_names`. With a `limit` (the screen), at most that many
/// rows: a worklist reads only its first `limit` lines on the list, with its chart
/// and `total_rows` counted in SQL; without one (the CSV download), every row. Also
/// gives how many parts were read.
pub async fn make<D: Db>(
    db: &D,
    name: &str,
    filter: &FactsFilter,
    pseudonymise: bool,
    with_names: bool,
    now: chrono::DateTime<chrono::Utc>,
    limit: Option<usize>,
) -> ApiResult<(Report, usize)> {
    let shape = reports::shape(name)
        .ok_or_else(|| refused(reports::ReportError::Unknown(name.to_string())))?;
    let counts = db.report_counts(name, filter).await?;
    let (texts, tally) = match (shape, limit) {
        (reports::Shape::Counts, _) => (Vec::new(), None),
        (reports::Shape::Lines, None) => (db.report_lines(name, filter, None).await?, None),
        (reports::Shape::Lines, Some(limit)) => {
            let page = reports::Page::new(name, now, limit);
            let tally = db.report_tally(name, filter, &page.now).await?;
            (
                db.report_lines(name, filter, Some(&page)).await?,
                Some(tally),
            )
        }
    };
    let read = counts.len() + texts.len();
    let report_name = name.to_string();
    let lines = service::blocking(move || {
        texts
            .into_iter()
            .map(|(head, body)| {
                serde_json::from_str::<reports::Body>(&body)
                    .map(|body| reports::Line { head, body })
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| reports::ReportError::Unreadable(report_name))
    })
    .await?
    .map_err(refused)?;
    let subjects = Subjects {
        pseudonymise,
        names: if with_names {
            Some(names(db, lines.iter().map(|l| l.head.subject.clone()).collect()).await?)
        } else {
            None
        },
    };
    let report_name = name.to_string();
    let report = service::blocking(move || {
        reports::assemble(&report_name, counts, lines, tally, &subjects, now)
    })
    .await?
    .map_err(refused)?;
    Ok((
        match limit {
            Some(limit) => report.bounded(limit),
            None => report,
        },
        read,
    ))
}

/// Makes report `name` for the caller (role-checked, access-logged).
/// The JSON answer lists at most [`list_rows`] rows; the CSV download
/// (`format=csv`) every row.
pub async fn report<D: Db>(
    db: &D,
    caller: &Caller,
    name: &str,
    q: &ReportQuery,
) -> ApiResult<Report> {
    caller.require(Action::ListRecords, "see reports")?;
    if !reports::REPORTS.contains(&name) {
        return Err(refused(reports::ReportError::Unknown(name.to_string())));
    }
    let filter = filter_of(q, caller.site_filter(), chrono::Utc::now().date_naive())?;
    let limit = match q.format.as_deref() {
        Some("csv") => None,
        _ => Some(list_rows(q)?),
    };
    let identity = caller.role.may_see_identity() && !auth::all_sites(caller.role);
    let (report, _) = make(
        db,
        name,
        &filter,
        auth::all_sites(caller.role),
        identity,
        chrono::Utc::now(),
        limit,
    )
    .await?;
    db.audit(
        &caller.audit(
            &format!("report_{name}"),
            filter
                .site
                .as_deref()
                .or(caller.sites.first().map(String::as_str))
                .unwrap_or(""),
            &format!(
                "from={} until={} form={} rows={}",
                filter.from.as_deref().unwrap_or(""),
                filter.until.as_deref().unwrap_or(""),
                filter.form.as_deref().unwrap_or(""),
                report.rows.len()
            ),
        ),
    )
    .await?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_bounded_and_the_bound_is_checked() {
        let q = |limit| ReportQuery {
            limit,
            ..ReportQuery::default()
        };
        assert_eq!(list_rows(&q(None)).ok(), Some(LIST_ROWS));
        assert_eq!(list_rows(&q(Some(1))).ok(), Some(1));
        assert_eq!(list_rows(&q(Some(MAX_LIST_ROWS))).ok(), Some(MAX_LIST_ROWS));
        assert!(list_rows(&q(Some(0))).is_err());
        assert!(list_rows(&q(Some(MAX_LIST_ROWS + 1))).is_err());
    }

    #[test]
    fn the_window_defaults_to_90_days_and_is_checked() {
        let today: NaiveDate = "2026-03-10".parse().expect("day");
        let f = filter_of(&ReportQuery::default(), None, today).expect("filter");
        assert_eq!(
            (f.from.as_deref(), f.until.as_deref()),
            (Some("2025-12-11"), Some("2026-03-10"))
        );
        let q = |from: &str, until: &str| ReportQuery {
            from: Some(from.into()),
            until: Some(until.into()),
            ..ReportQuery::default()
        };
        assert!(filter_of(&q("2026-03-11", "2026-03-10"), None, today).is_err());
        assert!(filter_of(&q("2025-01-01", "2026-03-10"), None, today).is_err());
        let e = filter_of(&q("10/03/2026", ""), None, today).expect_err("format");
        assert!(e.message.contains("YYYY-MM-DD"), "{}", e.message);
        let sites = vec!["site-a".to_string()];
        let f = filter_of(&q("2026-03-01", "2026-03-10"), Some(&sites), today).expect("ok");
        assert_eq!(f.sites, Some(sites));
    }
}
