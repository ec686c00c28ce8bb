//! Translation files: one per form and language, where a translator edits them.

use crate::definition::{placeholders, Form};
use crate::diagnostic::{Diagnostic, Diagnostics, SourceFile};
use crate::json_pos;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap, HashSet};

/// Whether a native-speaking health translator has signed a translation off.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Review {
    pub status: ReviewStatus,
    #[serde(default)]
    pub reviewed_by: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewStatus {
    Unreviewed,
    Reviewed,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTranslation {
    form_id: String,
    language: String,
    #[serde(default)]
    form_version: Option<String>,
    review: Review,
    texts: BTreeMap<String, String>,
}

impl Form {
    /// Adds a translation after checking it: it must be for this form and one of its
    /// languages, give every text key (see [`Form::translation_keys`]) and no others,
    /// and keep each message's `{placeholders}`.
    ///
    /// A translation that names a `form_version` other than this form's translates
    /// another version of the form (the store keeps every version's translations under
    /// the form id): it is left out, without error, and the form keeps whatever it had.
    /// A translation without `form_version` is taken for any version.
    pub fn add_translation(&mut self, file: &SourceFile) -> Result<(), Diagnostics> {
        let raw: RawTranslation =
            serde_json::from_str(&file.text).map_err(|e| Diagnostics::from_json(file, &e))?;
        if raw.form_id == self.form_id
            && raw
                .form_version
                .as_deref()
                .is_some_and(|v| v != self.version)
        {
            return Ok(());
        }
        let positions = json_pos::index(&file.text);
        let mut problems = Vec::new();
        let mut problem = |pointer: &str, msg: String| {
            problems.push(Diagnostic::at(file, positions.at(pointer), msg))
        };
        if raw.form_id != self.form_id {
            problem(
                "/form_id",
                format!(
                    "this translation is for form `{}`, not `{}`",
                    raw.form_id, self.form_id
                ),
            );
        }
        if raw.language == "en" || !self.languages.contains(&raw.language) {
            problem(
                "/language",
                format!(
                    "language `{}` is not among the form's translated languages {:?}",
                    raw.language,
                    &self.languages[1..]
                ),
            );
        }
        if raw.review.status == ReviewStatus::Reviewed
            && raw.review.reviewed_by.as_deref().unwrap_or("").is_empty()
        {
            problem(
                "/review",
                "a reviewed translation names its reviewer in `reviewed_by`".to_string(),
            );
        }
        let keys = self.translation_keys();
        let wanted: HashSet<&str> = keys.iter().map(String::as_str).collect();
        let missing: Vec<&str> = keys
            .iter()
            .map(String::as_str)
            .filter(|k| !raw.texts.contains_key(*k))
            .collect();
        if !missing.is_empty() {
            let shown: Vec<&str> = missing.iter().take(20).copied().collect();
            let more = if missing.len() > 20 {
                format!(" and {} more", missing.len() - 20)
            } else {
                String::new()
            };
            problem(
                "/texts",
                format!(
                    "{} text(s) missing: {}{more}",
                    missing.len(),
                    shown.join(", ")
                ),
            );
        }
        for (key, text) in &raw.texts {
            let pointer = format!("/texts/{}", key.replace('~', "~0").replace('/', "~1"));
            if !wanted.contains(key.as_str()) {
                problem(
                    &pointer,
                    format!("`{key}` is not a text of this form (renamed or removed field?)"),
                );
                continue;
            }
            if text.trim().is_empty() {
                problem(&pointer, format!("`{key}` is empty"));
            }
            if key.starts_with("rule.") {
                let english = self.text("en", key).unwrap_or("");
                let mut want = placeholders(english);
                let mut got = placeholders(text);
                want.sort();
                got.sort();
                if want != got {
                    problem(
                        &pointer,
                        format!(
                            "`{key}` must insert {want:?} like the English message, not {got:?}"
                        ),
                    );
                }
            }
        }
        if !problems.is_empty() {
            return Err(Diagnostics(problems));
        }
        self.texts.insert(
            raw.language.clone(),
            raw.texts.into_iter().collect::<HashMap<_, _>>(),
        );
        self.reviews.insert(raw.language, raw.review);
        Ok(())
    }

    /// Declared languages that have no translation loaded yet.
    pub fn missing_translations(&self) -> Vec<&str> {
        self.languages
            .iter()
            .skip(1)
            .filter(|l| !self.texts.contains_key(*l))
            .map(String::as_str)
            .collect()
    }

    /// The review state of a loaded translation.
    pub fn review(&self, language: &str) -> Option<&Review> {
        self.reviews.get(language)
    }
}
