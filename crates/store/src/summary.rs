//! The store side of projections: the projection rows (`records`, `subjects`)
//! written from a document's summary ([`tern_record::summarize`], the pure part,
//! which the server computes too).

use crate::doc;
use crate::store::{restricted_id, Store};
use crate::Result;
use rusqlite::params;
use tern_record::fold::{fold, skeleton};
use tern_record::{summarize, DocKind, DocSummary};

impl Store {
    /// Writes the projection row of document `id` from its summary. A record's row
    /// also shows its restricted twin's conflicts (`twin_conflict`); a twin's summary
    /// only ever raises its record's conflict flag.
    pub(crate) fn write_summary(
        &mut self,
        id: &str,
        summary: &DocSummary,
        twin_conflict: bool,
    ) -> Result<()> {
        match summary {
            DocSummary::Record {
                form_id,
                form_version,
                subject_id,
                site,
                status,
                created,
                conflict,
            } => {
                let updated = self.now().to_rfc3339();
                self.conn.execute(
                    "INSERT INTO records(record_id, form_id, form_version, subject_id, site, status, conflict, created, updated)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                     ON CONFLICT(record_id) DO UPDATE SET form_id = ?2, form_version = ?3, subject_id = ?4,
                       site = ?5, status = ?6, conflict = ?7, updated = ?9",
                    params![
                        id,
                        form_id,
                        form_version,
                        subject_id,
                        site,
                        status,
                        *conflict || twin_conflict,
                        created,
                        updated
                    ],
                )?;
            }
            DocSummary::Restricted { conflict } => {
                if let (true, Some(record)) = (*conflict, id.strip_suffix(".restricted")) {
                    self.conn.execute(
                        "UPDATE records SET conflict = 1 WHERE record_id = ?1",
                        [record],
                    )?;
                }
            }
            DocSummary::Subject {
                subject_id,
                display_name,
                date_of_birth,
                documents,
                sex,
                merged_into,
                conflict,
                created,
            } => {
                self.conn.execute(
                    "INSERT INTO subjects(subject_id, display_name, name_fold, name_skeleton, date_of_birth, documents, sex, merged_into, conflict, created)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                     ON CONFLICT(subject_id) DO UPDATE SET display_name = ?2, name_fold = ?3, name_skeleton = ?4,
                       date_of_birth = ?5, documents = ?6, sex = ?7, merged_into = ?8, conflict = ?9",
                    params![
                        subject_id,
                        display_name,
                        fold(display_name),
                        skeleton(display_name),
                        date_of_birth,
                        documents,
                        sex,
                        merged_into,
                        conflict,
                        created
                    ],
                )?;
            }
        }
        Ok(())
    }

    /// Rewrites the projection row of a record from its documents.
    pub(crate) fn project_record(&mut self, record: &str) -> Result<()> {
        let Some(d) = self.doc(record)? else {
            return Ok(());
        };
        let Some(summary) = summarize(DocKind::Record, d) else {
            // Changes whose creation has not arrived yet: nothing to list.
            return Ok(());
        };
        // A session without the restricted key does not see (or resolve) conflicts
        // inside restricted sections.
        let twin = restricted_id(record);
        let twin_conflict = match self.can_read(&twin) {
            true => self
                .doc(&twin)?
                .is_some_and(|r| doc::has_conflict(r, "answers")),
            false => false,
        };
        self.write_summary(record, &summary, twin_conflict)?;
        self.project_alerts(record)
    }

    /// Rewrites the search row of a subject from its document.
    pub(crate) fn project_subject(&mut self, id: &str) -> Result<()> {
        let Some(d) = self.doc(id)? else {
            return Ok(());
        };
        match summarize(DocKind::Subject, d) {
            Some(summary) => self.write_summary(id, &summary, false),
            None => Ok(()),
        }
    }
}
