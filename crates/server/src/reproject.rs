//! `tern admin reproject`: rebuilds the `record_facts` projection (crate::facts)
//! from the verified documents, in batches, on either backend. Gives the rows the
//! verifier would write (each record evaluated with its own form version, its
//! subject's values from the verified summary, on its encounter day).

use crate::db::{Db, DbResult, RecordRow};
use crate::facts::{record_facts, subject_values, FactsRow};

/// Documents loaded per batch.
const BATCH: usize = 256;

/// What a reprojection did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Reprojected {
    /// Records whose facts were written.
    pub records: usize,
    /// Records left out: of a form version the server does not have, or that do not
    /// load (their ids; never a value).
    pub skipped: Vec<String>,
}

/// The record row a loaded record document projects to (`None`: not a record).
fn record_row(id: &str, doc: &automerge::Automerge) -> Option<RecordRow> {
    RecordRow::from_summary(
        id,
        &tern_record::summarize(tern_record::DocKind::Record, doc)?,
    )
}

/// Rebuilds every record's facts; `today` is the day for records without a start.
pub async fn reproject<D: Db>(db: &D, today: chrono::NaiveDate) -> DbResult<Reprojected> {
    let mut done = Reprojected::default();
    let all = db.verified_records().await?;
    for part in all.chunks(BATCH) {
        let wanted: Vec<(String, i64, i64)> =
            part.iter().map(|(id, seq)| (id.clone(), 0, *seq)).collect();
        let chunks = db.docs_chunks(&wanted).await?;
        let mut loaded = Vec::new();
        for ((id, _), chunks) in part.iter().zip(chunks) {
            match tern_record::load_chunks(chunks) {
                Ok(doc) => loaded.push((id.clone(), doc)),
                Err(_) => done.skipped.push(id.clone()),
            }
        }
        let ids: Vec<String> = loaded
            .iter()
            .filter_map(|(_, d)| tern_record::document_root(d, "subject_id"))
            .collect();
        let subjects = db.subject_summaries(&ids).await?;
        let rows: Vec<FactsRow> = loaded
            .into_iter()
            .filter_map(|(id, doc)| {
                let record = record_row(&id, &doc);
                let form = record
                    .as_ref()
                    .and_then(|r| tern_record::builtin::form(&r.form_id, &r.form_version));
                let (Some(record), Some(form)) = (record, form) else {
                    done.skipped.push(id);
                    return None;
                };
                let subject = subjects
                    .get(&record.subject_id)
                    .map(|s| subject_values(s))
                    .unwrap_or_default();
                let input = tern_record::record_input(&doc);
                Some(record_facts(&form, &record, &input, &subject, today))
            })
            .collect();
        done.records += rows.len();
        db.put_facts(&rows).await?;
    }
    // Every record's report parts are now this version's (`tern serve` rebuilds
    // them at start otherwise).
    db.set_setting(crate::reports::PARTS_SETTING, crate::reports::PARTS_VERSION)
        .await?;
    Ok(done)
}
