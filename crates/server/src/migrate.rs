//! Numbered schema migrations, one mechanism for both backends.
//!
//! Each backend keeps its own list of steps (`crate::sqlite::schema::MIGRATIONS`,
//! `crate::postgres::schema::MIGRATIONS`), numbered 1, 2, 3, ... The database
//! remembers the steps it has run in a table of the same name on both backends:
//!
//! ```sql
//! schema_migrations(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)
//! ```
//!
//! At open the backend runs each step not yet recorded, in order, each in one
//! transaction with its row in `schema_migrations` (PostgreSQL under an advisory
//! lock, so replicas starting together do not race). A database that records a step
//! this binary does not know was made by a newer tern and is refused, never touched.
//!
//! The rule: a schema change is a new numbered step on both backends; steps are
//! never edited once released. Step 1 is the schema as tern made it before
//! numbered migrations, written so that any database made before (which has no
//! `schema_migrations` table) is brought up to it.
//!
//! This module holds the pure part: which steps are due, given the versions a
//! database records.

use crate::db::DbError;

/// One numbered step of a backend's schema. `S` is how the backend runs it (SQL
/// text, or a function where SQL alone cannot say it).
#[derive(Debug, Clone, Copy)]
pub struct Migration<S> {
    /// 1, 2, 3, ...: the order of the steps, never reused.
    pub version: u32,
    /// What the step is for, in a few words (kept in `schema_migrations.name`).
    pub name: &'static str,
    pub step: S,
}

/// Why the schema could not be brought up to date.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error(
        "this database was made by a newer tern (schema version {found}, this tern knows \
         {known}); update tern"
    )]
    Newer { found: u32, known: u32 },
    #[error("schema migration {version} ({name}) failed: {source}")]
    Step {
        version: u32,
        name: &'static str,
        source: Box<DbError>,
    },
    #[error("schema_migrations holds version {0}, which no tern makes: is this a tern database?")]
    Unknown(i64),
}

/// The latest version of a list of steps (0 for none).
pub fn latest<S>(steps: &[Migration<S>]) -> u32 {
    steps.iter().map(|m| m.version).max().unwrap_or(0)
}

/// The steps a database that records the versions `applied` still has to run, in
/// order. Refuses a database that records a version past the last step.
pub fn due<'a, S>(
    steps: &'a [Migration<S>],
    applied: &[u32],
) -> Result<Vec<&'a Migration<S>>, MigrateError> {
    let known = latest(steps);
    if let Some(&found) = applied.iter().filter(|&&v| v > known).max() {
        return Err(MigrateError::Newer { found, known });
    }
    let mut out: Vec<&Migration<S>> = steps
        .iter()
        .filter(|m| !applied.contains(&m.version))
        .collect();
    out.sort_by_key(|m| m.version);
    Ok(out)
}

/// Whether a list of steps is numbered 1, 2, 3, ... without gaps or repeats (each
/// backend's list is checked by a unit test).
pub fn well_numbered<S>(steps: &[Migration<S>]) -> bool {
    steps
        .iter()
        .enumerate()
        .all(|(i, m)| usize::try_from(m.version).is_ok_and(|v| v == i + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    const STEPS: &[Migration<&str>] = &[
        Migration {
            version: 1,
            name: "one",
            step: "a",
        },
        Migration {
            version: 2,
            name: "two",
            step: "b",
        },
        Migration {
            version: 3,
            name: "three",
            step: "c",
        },
    ];

    fn versions(due: &[&Migration<&str>]) -> Vec<u32> {
        due.iter().map(|m| m.version).collect()
    }

    #[test]
    fn a_new_database_runs_every_step_in_order() {
        assert_eq!(versions(&due(STEPS, &[]).expect("due")), vec![1, 2, 3]);
    }

    #[test]
    fn a_database_runs_only_the_steps_it_lacks() {
        assert_eq!(versions(&due(STEPS, &[1]).expect("due")), vec![2, 3]);
        assert_eq!(versions(&due(STEPS, &[2, 1]).expect("due")), vec![3]);
        assert!(due(STEPS, &[1, 2, 3]).expect("due").is_empty());
        // A step missing in the middle (never expected) is run, not skipped.
        assert_eq!(versions(&due(STEPS, &[1, 3]).expect("due")), vec![2]);
    }

    #[test]
    fn a_database_of_a_newer_tern_is_refused_with_what_to_do() {
        let err = due(STEPS, &[1, 2, 3, 4, 5]).expect_err("newer");
        assert!(matches!(err, MigrateError::Newer { found: 5, known: 3 }));
        assert_eq!(
            err.to_string(),
            "this database was made by a newer tern (schema version 5, this tern knows 3); \
             update tern"
        );
    }

    #[test]
    fn lists_are_numbered_from_one_without_gaps() {
        assert!(well_numbered(STEPS));
        assert!(!well_numbered(&STEPS[1..]));
        assert!(!well_numbered(&[STEPS[0], STEPS[2]]));
        assert!(well_numbered::<&str>(&[]));
        assert_eq!(latest(STEPS), 3);
        assert_eq!(latest::<&str>(&[]), 0);
    }
}
