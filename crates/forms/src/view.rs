//! The form as a UI draws it, in one language: sections, fields, labels, choices.
//! The UI renders this plus an [`crate::Evaluation`]; it never reads form files or
//! decides relevance itself.

use crate::definition::{FieldKind, FieldSource, Form, Required};
use serde::Serialize;

/// Languages written right to left (FORMS.md 6). Set explicitly: some libraries miss
/// `ckb`.
pub fn is_rtl(language: &str) -> bool {
    let primary = language.split('-').next().unwrap_or(language);
    matches!(
        primary,
        "ar" | "fa" | "prs" | "ps" | "ckb" | "ur" | "he" | "yi" | "dv"
    ) || language.ends_with("-Arab")
}

#[derive(Debug, Clone, Serialize)]
pub struct FormView {
    pub form_id: String,
    pub version: String,
    pub language: String,
    /// `rtl` or `ltr`.
    pub direction: &'static str,
    pub title: String,
    pub languages: Vec<String>,
    pub sections: Vec<SectionView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SectionView {
    pub id: String,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restricted: Option<String>,
    pub fields: Vec<FieldView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ChoiceView {
    pub code: String,
    pub label: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct FieldView {
    pub id: String,
    /// text, integer, decimal, date, datetime, select_one, select_multiple, boolean,
    /// calculate, repeat, note.
    pub kind: &'static str,
    pub label: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// Choices with labels in the view's language (inline lists and extras).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub choices: Option<Vec<ChoiceView>>,
    /// `iso3166-1-alpha2` when the codes are countries the UI labels from CLDR.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_choices: Option<&'static str>,
    /// Always required; fields required only sometimes appear in `missing` when due.
    pub required: bool,
    /// Shown but not typed: calculations, and values filled by the app.
    pub read_only: bool,
    /// answer, subject or context.
    pub source: &'static str,
    pub identity: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restricted: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub appearance: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decimals: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<u32>,
    /// Wording of a licensed instrument, installed per deployment; the label is a placeholder.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub licensed_text: Option<String>,
    /// The roles the form lets write this field (FORMS.md 2.2), when it limits them:
    /// the UI names them to a user who may not (whom to hand the tablet to).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub write_roles: Option<Vec<String>>,
    /// The value is picked from the site's accounts with these roles
    /// (`choices_from.accounts`); the store fills `choices` with them
    /// ([`FormView::fill_account_choices`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub choices_from_accounts: Option<Vec<String>>,
    /// Standard codes of the field (LOINC, CVX): the primary `code` first, then
    /// the further `codes` with their role.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub codes: Vec<crate::Code>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldView>,
}

impl FormView {
    /// Fills the `choices` of every field picked from the site's accounts with the
    /// accounts (`(name, role)`) whose role it names, by name. Pure: the caller
    /// (the device store) passes the accounts it holds.
    pub fn fill_account_choices(&mut self, accounts: &[(String, String)]) {
        fn fill(f: &mut FieldView, accounts: &[(String, String)]) {
            if let Some(roles) = &f.choices_from_accounts {
                let mut names: Vec<&String> = accounts
                    .iter()
                    .filter(|(_, r)| roles.contains(r))
                    .map(|(n, _)| n)
                    .collect();
                names.sort();
                names.dedup();
                f.choices = Some(
                    names
                        .into_iter()
                        .map(|n| ChoiceView {
                            code: n.clone(),
                            label: n.clone(),
                        })
                        .collect(),
                );
            }
            for c in &mut f.fields {
                fill(c, accounts);
            }
        }
        for s in &mut self.sections {
            for f in &mut s.fields {
                fill(f, accounts);
            }
        }
    }
}

impl Form {
    /// The form in `language` (English where a text has no translation).
    pub fn view(&self, language: &str) -> FormView {
        let text = |key: String| self.text(language, &key).map(str::to_string);
        let sections = self
            .sections
            .iter()
            .map(|s| SectionView {
                id: s.id.clone(),
                title: text(format!("section.{}.title", s.id)).unwrap_or_default(),
                hint: text(format!("section.{}.hint", s.id)),
                restricted: s.restricted.clone(),
                fields: s
                    .fields
                    .iter()
                    .map(|&i| self.field_view(i, language))
                    .collect(),
            })
            .collect();
        FormView {
            form_id: self.form_id.clone(),
            version: self.version.clone(),
            language: language.to_string(),
            direction: if is_rtl(language) { "rtl" } else { "ltr" },
            title: text("title".into()).unwrap_or_default(),
            languages: self.languages.clone(),
            sections,
        }
    }

    fn field_view(&self, index: usize, language: &str) -> FieldView {
        let f = &self.fields[index];
        let text = |key: String| self.text(language, &key).map(str::to_string);
        let list = f
            .choices
            .as_ref()
            .and_then(|name| self.choice_lists.get(name).map(|l| (name, l)));
        let choices = list.map(|(name, l)| {
            l.labelled
                .iter()
                .map(|code| ChoiceView {
                    code: code.clone(),
                    label: text(format!("choice.{name}.{code}")).unwrap_or_else(|| code.clone()),
                })
                .collect()
        });
        let children = (0..self.fields.len())
            .filter(|&c| self.fields[c].group == Some(index))
            .map(|c| self.field_view(c, language))
            .collect();
        FieldView {
            id: f.id.clone(),
            kind: f.kind.name(),
            label: text(format!("field.{}.label", f.id)).unwrap_or_default(),
            hint: text(format!("field.{}.hint", f.id)),
            choices,
            external_choices: list.and_then(|(_, l)| l.external.then_some("iso3166-1-alpha2")),
            required: matches!(f.required, Required::Yes),
            read_only: f.kind == FieldKind::Calculate
                || f.source == FieldSource::Context
                || (f.source == FieldSource::Subject && !f.editable_subject),
            source: match f.source {
                FieldSource::Answer => "answer",
                FieldSource::Subject => "subject",
                FieldSource::Context => "context",
            },
            identity: f.identity,
            restricted: f.restricted.clone(),
            unit: f.unit.clone(),
            appearance: f.appearance.clone(),
            decimals: f.decimals,
            max: f.max,
            licensed_text: f.licensed_text.clone(),
            write_roles: f.write_roles().map(<[String]>::to_vec),
            choices_from_accounts: f.account_roles().map(<[String]>::to_vec),
            codes: f.code().into_iter().chain(f.codes()).cloned().collect(),
            fields: children,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_rtl;

    #[test]
    fn right_to_left_languages_of_forms_md() {
        for l in ["ar", "fa", "fa-AF", "prs", "ps", "ckb", "ur", "ku-Arab"] {
            assert!(is_rtl(l), "{l}");
        }
        for l in [
            "en", "kmr", "ku", "ti", "am", "so", "uk", "ru", "fr", "es", "it", "el", "de",
        ] {
            assert!(!is_rtl(l), "{l}");
        }
    }
}
