//! From the file as written to a checked [`Form`]: every check a form designer needs
//! (unknown references, type errors, duplicate ids, cycles), each reported at its line
//! and column.

use super::raw::*;
use super::*;
use crate::config::ConfigTables;
use crate::countries::ISO3166_ALPHA2;
use crate::diagnostic::{Diagnostic, Diagnostics, SourceFile};
use crate::expr::check::{check, FieldSig, Scope};
use crate::expr::syntax::{parse, ExprError};
use crate::json_pos::{self, Positions};
use crate::value::Type;
use std::collections::{HashMap, HashSet};

impl Form {
    /// Parses and checks a form file. `config` holds the tables `lookup()` may read.
    pub fn parse(file: &SourceFile, config: &ConfigTables) -> Result<Form, Diagnostics> {
        let raw: RawForm =
            serde_json::from_str(&file.text).map_err(|e| Diagnostics::from_json(file, &e))?;
        let positions = json_pos::index(&file.text);
        let mut loader = Loader {
            file,
            positions: &positions,
            problems: Vec::new(),
        };
        let form = loader.build(raw, config);
        if loader.problems.is_empty() {
            Ok(form)
        } else {
            loader.problems.sort_by_key(|d| (d.line, d.column));
            Err(Diagnostics(loader.problems))
        }
    }
}

struct Loader<'a> {
    file: &'a SourceFile,
    positions: &'a Positions,
    problems: Vec<Diagnostic>,
}

/// An expression waiting to be checked, with where it sits in the file.
struct Pending {
    text: String,
    pointer: String,
}

struct PendingField {
    pointer: String,
    relevant: Option<Pending>,
    calculate: Option<Pending>,
    required: Option<Pending>,
}

fn valid_id(id: &str) -> bool {
    let mut chars = id.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn kind_type(kind: FieldKind) -> Type {
    match kind {
        FieldKind::Text | FieldKind::SelectOne | FieldKind::Note => Type::Text,
        FieldKind::Integer | FieldKind::Decimal => Type::Number,
        FieldKind::Date => Type::Date,
        FieldKind::DateTime => Type::DateTime,
        FieldKind::SelectMultiple => Type::list_of(Type::Text),
        FieldKind::Boolean => Type::Bool,
        FieldKind::Repeat => Type::Group,
        FieldKind::Calculate => Type::Any,
    }
}

impl Loader<'_> {
    fn problem(&mut self, pointer: &str, message: impl Into<String>) {
        let pos = self.positions.at(pointer);
        self.problems.push(Diagnostic::at(self.file, pos, message));
    }

    fn expr_problem(&mut self, pending: &Pending, e: &ExprError) {
        let (line, col) = self.positions.at(&pending.pointer);
        // The value's position is its opening quote; columns inside count characters.
        let offset = pending
            .text
            .get(..e.span.start)
            .map(|s| s.chars().count())
            .unwrap_or(0);
        self.problems.push(Diagnostic::at(
            self.file,
            (line, col + 1 + offset),
            format!("in `{}`: {}", pending.text, e.message),
        ));
    }

    fn build(&mut self, raw: RawForm, config: &ConfigTables) -> Form {
        let _ = &raw.description;
        if !valid_id(&raw.form_id) {
            self.problem(
                "/form_id",
                "form_id must be lower case letters, digits and _ (e.g. `pda`)",
            );
        }
        let semver = raw.version.split('.').count() == 3
            && raw
                .version
                .split('.')
                .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
        if !semver {
            self.problem(
                "/version",
                format!(
                    "version `{}` must be MAJOR.MINOR.PATCH, e.g. 1.0.0",
                    raw.version
                ),
            );
        }
        if raw.languages.first().map(String::as_str) != Some(SOURCE_LANGUAGE) {
            self.problem(
                "/languages",
                "languages must start with `en`, the source language of the form",
            );
        }
        let mut seen_langs = HashSet::new();
        for (i, lang) in raw.languages.iter().enumerate() {
            if !seen_langs.insert(lang) {
                self.problem(
                    &format!("/languages/{i}"),
                    format!("language `{lang}` is listed twice"),
                );
            }
        }

        let mut english: HashMap<String, String> = HashMap::new();
        english.insert("title".into(), raw.title.clone());

        // Choice lists.
        let mut choice_lists = HashMap::new();
        for (name, list) in &raw.choice_lists {
            let pointer = format!("/choice_lists/{name}");
            let (items, external) = match list {
                RawChoiceList::Inline(items) => (items, None),
                RawChoiceList::External(ext) => (&ext.extra, Some(ext.external.as_str())),
            };
            let mut codes: Vec<String> = Vec::new();
            match external {
                Some("iso3166-1-alpha2") => {
                    codes.extend(ISO3166_ALPHA2.iter().map(|c| c.to_string()))
                }
                Some(other) => self.problem(
                    &format!("{pointer}/external"),
                    format!("unknown external list `{other}`; the only one is `iso3166-1-alpha2`"),
                ),
                None => {
                    if items.is_empty() {
                        self.problem(&pointer, format!("choice list `{name}` has no choices"));
                    }
                }
            }
            let mut labelled = Vec::new();
            for (i, c) in items.iter().enumerate() {
                let here = if external.is_some() {
                    format!("{pointer}/extra/{i}")
                } else {
                    format!("{pointer}/{i}")
                };
                if c.code.is_empty() || c.code.chars().any(char::is_whitespace) {
                    self.problem(
                        &format!("{here}/code"),
                        "a choice code must be non-empty without spaces",
                    );
                }
                if codes.contains(&c.code) {
                    self.problem(
                        &format!("{here}/code"),
                        format!("code `{}` appears twice in list `{name}`", c.code),
                    );
                }
                codes.push(c.code.clone());
                labelled.push(c.code.clone());
                english.insert(format!("choice.{name}.{}", c.code), c.label.clone());
            }
            choice_lists.insert(
                name.clone(),
                ChoiceList {
                    codes,
                    external: external.is_some(),
                    labelled,
                },
            );
        }

        // Sections and fields, flattened; expressions are checked once every field is known.
        let mut fields: Vec<Field> = Vec::new();
        let mut pending: Vec<PendingField> = Vec::new();
        let mut sections = Vec::new();
        let mut section_pending = Vec::new();
        let mut by_id: HashMap<String, usize> = HashMap::new();
        let mut section_ids = HashSet::new();
        for (si, s) in raw.sections.iter().enumerate() {
            let pointer = format!("/sections/{si}");
            if !valid_id(&s.id) {
                self.problem(
                    &format!("{pointer}/id"),
                    format!(
                        "section id `{}` must be lower case letters, digits and _",
                        s.id
                    ),
                );
            }
            if !section_ids.insert(s.id.clone()) {
                self.problem(
                    &format!("{pointer}/id"),
                    format!("section id `{}` is used twice", s.id),
                );
            }
            self.check_restricted(&s.restricted, &format!("{pointer}/restricted"));
            self.check_write_roles(&s.write_roles, &format!("{pointer}/write_roles"));
            english.insert(format!("section.{}.title", s.id), s.title.clone());
            if let Some(h) = &s.hint {
                english.insert(format!("section.{}.hint", s.id), h.clone());
            }
            section_pending.push(s.relevant.as_ref().map(|t| Pending {
                text: t.clone(),
                pointer: format!("{pointer}/relevant"),
            }));
            let mut top = Vec::new();
            for (fi, f) in s.fields.iter().enumerate() {
                let fp = format!("{pointer}/fields/{fi}");
                if let Some(index) = self.add_field(
                    f,
                    &fp,
                    si,
                    None,
                    s.write_roles.as_ref(),
                    &mut fields,
                    &mut pending,
                    &mut by_id,
                    &mut english,
                    &choice_lists,
                ) {
                    top.push(index);
                }
            }
            if s.fields.is_empty() {
                self.problem(
                    &format!("{pointer}/fields"),
                    format!("section `{}` has no fields", s.id),
                );
            }
            sections.push(Section {
                id: s.id.clone(),
                relevant: None,
                restricted: s.restricted.clone(),
                write_roles: s.write_roles.clone(),
                has_hint: s.hint.is_some(),
                fields: top,
            });
        }

        // Types of fields; calculations are inferred by iterating to a fixed point.
        let tables = &config.tables;
        let mut sigs: HashMap<String, FieldSig> = fields
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let ty = match (f.kind, f.value_kind) {
                    (FieldKind::Calculate, Some(v)) => kind_type(v),
                    (k, _) => kind_type(k),
                };
                (
                    f.id.clone(),
                    FieldSig {
                        index: i,
                        group: f.group,
                        ty,
                    },
                )
            })
            .collect();
        for _ in 0..fields.len().min(32) {
            let mut changed = false;
            for (i, f) in fields.iter().enumerate() {
                let (FieldKind::Calculate, None, Some(p)) =
                    (f.kind, f.value_kind, &pending[i].calculate)
                else {
                    continue;
                };
                let (Some(expr), _) = parse(&p.text) else {
                    continue;
                };
                let scope = Scope {
                    fields: &sigs,
                    tables,
                    host: Some(i),
                    group: f.group,
                };
                let (_, ty) = check(&expr, &scope, &mut Vec::new());
                let sig = sigs.get_mut(&f.id).expect("every field has a signature");
                if sig.ty != ty {
                    sig.ty = ty;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }

        // Compile every expression.
        for (i, p) in pending.iter().enumerate() {
            let group = fields[i].group;
            let relevant = p
                .relevant
                .as_ref()
                .and_then(|e| self.compile(e, &sigs, tables, Some(i), group, Some(Type::Bool)));
            let calculate = p.calculate.as_ref().and_then(|e| {
                let want = fields[i].value_kind.map(kind_type);
                self.compile(e, &sigs, tables, Some(i), group, want)
            });
            let required = match &p.required {
                Some(e) => self
                    .compile(e, &sigs, tables, Some(i), group, Some(Type::Bool))
                    .map(Required::When)
                    .unwrap_or(Required::No),
                None => fields[i].required.clone(),
            };
            let f = &mut fields[i];
            f.relevant = relevant;
            f.calculate = calculate;
            f.required = required;
        }
        for (si, p) in section_pending.iter().enumerate() {
            sections[si].relevant = p
                .as_ref()
                .and_then(|e| self.compile(e, &sigs, tables, None, None, Some(Type::Bool)));
        }

        // Rules.
        let mut rules = Vec::new();
        let mut rule_ids = HashSet::new();
        for (ri, r) in raw.rules.iter().enumerate() {
            let pointer = format!("/rules/{ri}");
            if !rule_ids.insert(r.id.clone()) {
                self.problem(
                    &format!("{pointer}/id"),
                    format!("rule id `{}` is used twice", r.id),
                );
            }
            if !valid_id(&r.id) {
                self.problem(
                    &format!("{pointer}/id"),
                    format!(
                        "rule id `{}` must be lower case letters, digits and _",
                        r.id
                    ),
                );
            }
            let Some(&field) = by_id.get(&r.field) else {
                self.problem(
                    &format!("{pointer}/field"),
                    format!("rule `{}` is attached to unknown field `{}`", r.id, r.field),
                );
                continue;
            };
            let severity = match r.severity.as_str() {
                "error" => Severity::Error,
                "warning" => Severity::Warning,
                "action" => Severity::Action,
                other => {
                    self.problem(
                        &format!("{pointer}/severity"),
                        format!("severity `{other}` must be error, warning or action"),
                    );
                    Severity::Error
                }
            };
            let always = match r.applies.as_deref() {
                None | Some("relevant") => false,
                Some("always") => true,
                Some(other) => {
                    self.problem(
                        &format!("{pointer}/applies"),
                        format!("applies `{other}` must be relevant or always"),
                    );
                    false
                }
            };
            if r.when.is_none() && r.assert.is_none() {
                self.problem(
                    &pointer,
                    format!("rule `{}` needs `when`, `assert` or both", r.id),
                );
            }
            let group = fields[field].group;
            let mut compile_opt = |text: &Option<String>, key: &str| {
                text.as_ref().and_then(|t| {
                    let p = Pending {
                        text: t.clone(),
                        pointer: format!("{pointer}/{key}"),
                    };
                    self.compile(&p, &sigs, tables, Some(field), group, Some(Type::Bool))
                })
            };
            let when = compile_opt(&r.when, "when");
            let assert = compile_opt(&r.assert, "assert");
            let placeholders = placeholders(&r.message);
            for name in &placeholders {
                if !by_id.contains_key(name) {
                    self.problem(
                        &format!("{pointer}/message"),
                        format!("message inserts `{{{name}}}`, which is not a field id"),
                    );
                }
            }
            let alert = r.alert.as_ref().map(|a| {
                let at = format!("{pointer}/alert");
                if !ALERT_KINDS.contains(&a.kind.as_str()) {
                    self.problem(
                        &format!("{at}/kind"),
                        format!(
                            "alert kind `{}` must be one of {}",
                            a.kind,
                            ALERT_KINDS.join(", ")
                        ),
                    );
                }
                if a.deadline_hours.is_some() && a.deadline_field.is_some() {
                    self.problem(
                        &at,
                        "an alert takes deadline_hours or deadline_field, not both",
                    );
                }
                if let Some(d) = &a.deadline_field {
                    let numeric = by_id.get(d).is_some_and(|&i| {
                        fields[i].kind == FieldKind::Calculate
                            && fields[i].group.is_none()
                            && matches!(
                                fields[i].value_kind,
                                Some(FieldKind::Integer) | Some(FieldKind::Decimal)
                            )
                    });
                    if !numeric {
                        self.problem(
                            &format!("{at}/deadline_field"),
                            format!("deadline_field `{d}` must be a calculate field (integer or decimal, not in a repeat group)"),
                        );
                    }
                }
                let while_when = match a.while_.as_deref() {
                    None | Some("fires") => false,
                    Some("when") if r.when.is_some() => true,
                    Some(other) => {
                        self.problem(
                            &format!("{at}/while"),
                            format!("alert while `{other}` must be fires, or when on a rule with `when`"),
                        );
                        false
                    }
                };
                AlertSpec {
                    while_when,
                    kind: a.kind.clone(),
                    deadline_hours: a.deadline_hours,
                    deadline_field: a.deadline_field.clone(),
                }
            });
            english.insert(format!("rule.{}.message", r.id), r.message.clone());
            rules.push(Rule {
                alert,
                id: r.id.clone(),
                field,
                severity,
                when,
                assert,
                always,
                placeholders,
            });
        }

        let order = self.evaluation_order(&fields, &sections, &pending);
        let mut texts = HashMap::new();
        texts.insert(SOURCE_LANGUAGE.to_string(), english);
        Form {
            form_id: raw.form_id,
            version: raw.version,
            languages: raw.languages,
            fields,
            by_id,
            sections,
            choice_lists,
            rules,
            order,
            texts,
            reviews: HashMap::new(),
        }
    }

    fn check_restricted(&mut self, value: &Option<String>, pointer: &str) {
        if let Some(r) = value {
            if !RESTRICTED.contains(&r.as_str()) {
                self.problem(
                    pointer,
                    format!(
                        "restricted category `{r}` must be one of {}",
                        RESTRICTED.join(", ")
                    ),
                );
            }
        }
    }

    /// `write_roles` names known roles, at least one, each once.
    fn check_write_roles(&mut self, value: &Option<Vec<String>>, pointer: &str) {
        let Some(roles) = value else {
            return;
        };
        if roles.is_empty() {
            self.problem(
                pointer,
                format!(
                    "write_roles is empty, so nobody could write here: list the roles that may (from {}), or leave it out to let every role that enters answers write",
                    ROLES.join(", ")
                ),
            );
        }
        let mut seen = HashSet::new();
        for (i, r) in roles.iter().enumerate() {
            if !ROLES.contains(&r.as_str()) {
                self.problem(
                    &format!("{pointer}/{i}"),
                    format!(
                        "write role `{r}` is not a role; roles are {}",
                        ROLES.join(", ")
                    ),
                );
            } else if !seen.insert(r) {
                self.problem(
                    &format!("{pointer}/{i}"),
                    format!("write role `{r}` is listed twice"),
                );
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn add_field(
        &mut self,
        f: &RawField,
        pointer: &str,
        section: usize,
        group: Option<usize>,
        inherited_write_roles: Option<&Vec<String>>,
        fields: &mut Vec<Field>,
        pending: &mut Vec<PendingField>,
        by_id: &mut HashMap<String, usize>,
        english: &mut HashMap<String, String>,
        choice_lists: &HashMap<String, ChoiceList>,
    ) -> Option<usize> {
        if !valid_id(&f.id) {
            self.problem(
                &format!("{pointer}/id"),
                format!(
                    "field id `{}` must be lower case letters, digits and _",
                    f.id
                ),
            );
        }
        if by_id.contains_key(&f.id) {
            self.problem(
                &format!("{pointer}/id"),
                format!("field id `{}` is used twice", f.id),
            );
            return None;
        }
        let Some(kind) = FieldKind::parse(&f.kind) else {
            self.problem(
                &format!("{pointer}/type"),
                format!("field `{}` has unknown type `{}`; types are text, integer, decimal, date, datetime, select_one, select_multiple, boolean, calculate, repeat, note", f.id, f.kind),
            );
            return None;
        };
        let is_select = matches!(kind, FieldKind::SelectOne | FieldKind::SelectMultiple);
        // An integer field may name its scale (a likert row): a list of integer codes
        // whose labels the UI shows on the buttons. The answer stays an integer; the
        // range is checked by rules, as for any integer.
        if kind == FieldKind::Integer {
            if let Some(list) = &f.choices {
                match choice_lists.get(list) {
                    None => self.problem(
                        &format!("{pointer}/choices"),
                        format!("field `{}` uses unknown choice list `{list}`", f.id),
                    ),
                    Some(l) if l.external || l.codes.iter().any(|c| c.parse::<i64>().is_err()) => {
                        self.problem(
                            &format!("{pointer}/choices"),
                            format!(
                                "field `{}` is an integer: its scale `{list}` needs integer codes",
                                f.id
                            ),
                        )
                    }
                    Some(_) => {}
                }
            }
        }
        match (&f.choices, is_select) {
            (None, true) => self.problem(
                pointer,
                format!("field `{}` is a {} and needs `choices`", f.id, f.kind),
            ),
            (Some(list), true) if !choice_lists.contains_key(list) => self.problem(
                &format!("{pointer}/choices"),
                format!("field `{}` uses unknown choice list `{list}`", f.id),
            ),
            (Some(_), false) if kind != FieldKind::Integer => self.problem(
                &format!("{pointer}/choices"),
                format!(
                    "field `{}` is not a select or integer field: remove `choices`",
                    f.id
                ),
            ),
            _ => {}
        }
        match (kind, &f.calculate) {
            (FieldKind::Calculate, None) => self.problem(
                pointer,
                format!("calculate field `{}` needs `calculate`", f.id),
            ),
            (FieldKind::Calculate, Some(_)) => {}
            (_, Some(_)) => self.problem(
                &format!("{pointer}/calculate"),
                format!(
                    "only calculate fields take `calculate`; `{}` is {}",
                    f.id, f.kind
                ),
            ),
            _ => {}
        }
        let value_kind = match (&f.value_type, kind) {
            (None, _) => None,
            (Some(v), FieldKind::Calculate) => match FieldKind::parse(v) {
                Some(
                    k @ (FieldKind::Text
                    | FieldKind::Integer
                    | FieldKind::Decimal
                    | FieldKind::Date
                    | FieldKind::DateTime
                    | FieldKind::Boolean),
                ) => Some(k),
                _ => {
                    self.problem(&format!("{pointer}/value_type"), format!("value_type `{v}` must be text, integer, decimal, date, datetime or boolean"));
                    None
                }
            },
            (Some(_), _) => {
                self.problem(
                    &format!("{pointer}/value_type"),
                    "only calculate fields take `value_type`",
                );
                None
            }
        };
        if f.label.is_none() && !matches!(kind, FieldKind::Calculate) {
            self.problem(pointer, format!("field `{}` needs a `label`", f.id));
        }
        let source = match f.source.as_deref() {
            None | Some("answer") => FieldSource::Answer,
            Some("subject") => FieldSource::Subject,
            Some("context") => {
                if !CONTEXT_FIELDS.contains(&f.id.as_str()) {
                    self.problem(
                        &format!("{pointer}/source"),
                        format!(
                            "`{}` is not a context field the app fills; those are {}",
                            f.id,
                            CONTEXT_FIELDS.join(", ")
                        ),
                    );
                }
                FieldSource::Context
            }
            Some(other) => {
                self.problem(
                    &format!("{pointer}/source"),
                    format!("source `{other}` must be answer, subject or context"),
                );
                FieldSource::Answer
            }
        };
        self.check_restricted(&f.restricted, &format!("{pointer}/restricted"));
        self.check_write_roles(&f.write_roles, &format!("{pointer}/write_roles"));
        let write_roles = f.write_roles.as_ref().or(inherited_write_roles);
        if !f.codes.is_empty() && f.code.is_none() {
            self.problem(
                &format!("{pointer}/codes"),
                "codes adds codes beside `code`: give the primary code in `code`",
            );
        }
        for (ci, c) in f.codes.iter().enumerate() {
            let at = format!("{pointer}/codes/{ci}");
            let twice = f
                .code
                .iter()
                .chain(&f.codes[..ci])
                .any(|o| o.system == c.system && o.code == c.code);
            if twice {
                self.problem(&at, format!("code `{}` is given twice", c.code));
            }
            match c.role.as_deref() {
                Some(r) if CODE_ROLES.contains(&r) => {}
                Some(r) => self.problem(
                    &format!("{at}/role"),
                    format!("code role `{r}` must be one of {}", CODE_ROLES.join(", ")),
                ),
                None => self.problem(
                    &at,
                    format!(
                        "an additional code needs a role ({})",
                        CODE_ROLES.join(", ")
                    ),
                ),
            }
        }
        let account_roles = f.choices_from.as_ref().map(|c| {
            let at = format!("{pointer}/choices_from/accounts");
            if kind != FieldKind::Text || source != FieldSource::Answer || f.identity {
                self.problem(
                    &format!("{pointer}/choices_from"),
                    "choices_from applies to text answers only (not subject, context or identity fields)",
                );
            }
            let roles = Some(c.accounts.clone());
            self.check_write_roles(&roles, &at);
            c.accounts.clone()
        });
        if f.editable_subject && source != FieldSource::Subject {
            self.problem(
                &format!("{pointer}/editable_subject"),
                "editable_subject only applies to fields with source subject",
            );
        }
        let required = match &f.required {
            None | Some(serde_json::Value::Bool(false)) => (Required::No, None),
            Some(serde_json::Value::Bool(true)) => (Required::Yes, None),
            Some(serde_json::Value::String(text)) => (
                Required::No,
                Some(Pending {
                    text: text.clone(),
                    pointer: format!("{pointer}/required"),
                }),
            ),
            Some(_) => {
                self.problem(
                    &format!("{pointer}/required"),
                    "required must be true, false or an expression in quotes",
                );
                (Required::No, None)
            }
        };
        if kind == FieldKind::Calculate && !matches!(required.0, Required::No) {
            self.problem(
                &format!("{pointer}/required"),
                "a calculate field cannot be required: it is never typed",
            );
        }
        if let Some(label) = &f.label {
            english.insert(format!("field.{}.label", f.id), label.clone());
        }
        if let Some(hint) = &f.hint {
            english.insert(format!("field.{}.hint", f.id), hint.clone());
        }
        let index = fields.len();
        by_id.insert(f.id.clone(), index);
        fields.push(Field {
            id: f.id.clone(),
            kind,
            section,
            group,
            choices: f.choices.clone(),
            required: required.0,
            relevant: None,
            calculate: None,
            value_kind,
            decimals: f.decimals,
            min: f.min,
            max: f.max,
            source,
            editable_subject: f.editable_subject,
            identity: f.identity,
            restricted: f.restricted.clone(),
            unit: f.unit.clone(),
            code: f.code.clone(),
            codes: f.codes.clone(),
            licensed_text: f.licensed_text.clone(),
            appearance: f.appearance.clone(),
            write_roles: write_roles.cloned(),
            account_roles,
            has_label: f.label.is_some(),
            has_hint: f.hint.is_some(),
        });
        let pend = |key: &str, text: &Option<String>| {
            text.as_ref().map(|t| Pending {
                text: t.clone(),
                pointer: format!("{pointer}/{key}"),
            })
        };
        pending.push(PendingField {
            pointer: pointer.to_string(),
            relevant: pend("relevant", &f.relevant),
            calculate: pend("calculate", &f.calculate),
            required: required.1,
        });
        match (kind, &f.fields) {
            (FieldKind::Repeat, Some(children)) => {
                if group.is_some() {
                    self.problem(pointer, format!("repeat `{}` sits inside another repeat; nested repeats are not supported", f.id));
                    return Some(index);
                }
                if children.is_empty() {
                    self.problem(
                        &format!("{pointer}/fields"),
                        format!("repeat `{}` has no fields", f.id),
                    );
                }
                for (ci, c) in children.iter().enumerate() {
                    self.add_field(
                        c,
                        &format!("{pointer}/fields/{ci}"),
                        section,
                        Some(index),
                        write_roles,
                        fields,
                        pending,
                        by_id,
                        english,
                        choice_lists,
                    );
                }
                if let (Some(min), Some(max)) = (f.min, f.max) {
                    if min > max {
                        self.problem(
                            &format!("{pointer}/min"),
                            format!("repeat `{}` has min {min} above max {max}", f.id),
                        );
                    }
                }
            }
            (FieldKind::Repeat, None) => {
                self.problem(pointer, format!("repeat `{}` needs `fields`", f.id))
            }
            (_, Some(_)) => self.problem(
                &format!("{pointer}/fields"),
                format!("only repeat fields have `fields`; `{}` is {}", f.id, f.kind),
            ),
            _ => {}
        }
        if (f.min.is_some() || f.max.is_some()) && kind != FieldKind::Repeat {
            self.problem(
                pointer,
                format!(
                    "`min`/`max` count repeat instances; use a rule for the range of `{}`",
                    f.id
                ),
            );
        }
        Some(index)
    }

    #[allow(clippy::too_many_arguments)]
    fn compile(
        &mut self,
        pending: &Pending,
        sigs: &HashMap<String, FieldSig>,
        tables: &HashMap<String, std::sync::Arc<crate::config::ConfigTable>>,
        host: Option<usize>,
        group: Option<usize>,
        want: Option<Type>,
    ) -> Option<Node> {
        let (expr, errors) = parse(&pending.text);
        for e in &errors {
            self.expr_problem(pending, e);
        }
        let expr = expr?;
        let scope = Scope {
            fields: sigs,
            tables,
            host,
            group,
        };
        let mut errors = Vec::new();
        let (node, ty) = check(&expr, &scope, &mut errors);
        if let Some(want) = want {
            if errors.is_empty() && !ty.matches(&want) {
                errors.push(ExprError::new(
                    expr.span,
                    format!("this gives a {ty}, but a {want} is needed here"),
                ));
            }
        }
        for e in &errors {
            self.expr_problem(pending, e);
        }
        errors.is_empty().then_some(node)
    }

    /// Orders fields so that each comes after what its relevance and calculation
    /// read; reports cycles.
    fn evaluation_order(
        &mut self,
        fields: &[Field],
        sections: &[Section],
        pending: &[PendingField],
    ) -> Vec<usize> {
        let n = fields.len();
        let mut deps: Vec<HashSet<usize>> = vec![HashSet::new(); n];
        for (i, f) in fields.iter().enumerate() {
            let mut refs = Vec::new();
            for node in [&f.relevant, &f.calculate, &sections[f.section].relevant]
                .into_iter()
                .flatten()
            {
                node_refs(node, &mut refs);
            }
            if let Some(g) = f.group {
                refs.push(g);
                if let Some(node) = &fields[g].relevant {
                    node_refs(node, &mut refs);
                }
            }
            deps[i] = refs.into_iter().filter(|&d| d != i).collect();
            if let Some(node) = &f.calculate {
                let mut own = Vec::new();
                node_refs(node, &mut own);
                if own.contains(&i) {
                    self.problem(
                        &format!("{}/calculate", pending[i].pointer),
                        format!("calculation of `{}` reads itself", f.id),
                    );
                }
            }
        }
        // Kahn's algorithm, taking fields in document order when free to choose.
        let mut remaining: Vec<usize> = deps.iter().map(HashSet::len).collect();
        let mut users: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (i, d) in deps.iter().enumerate() {
            for &j in d {
                users[j].push(i);
            }
        }
        let mut ready: std::collections::BTreeSet<usize> =
            (0..n).filter(|&i| remaining[i] == 0).collect();
        let mut order = Vec::with_capacity(n);
        while let Some(i) = ready.pop_first() {
            order.push(i);
            for &u in &users[i] {
                remaining[u] -= 1;
                if remaining[u] == 0 {
                    ready.insert(u);
                }
            }
        }
        if order.len() < n {
            let stuck: HashSet<usize> = (0..n).filter(|i| !order.contains(i)).collect();
            // Walk from one stuck field along stuck dependencies until a field repeats.
            if let Some(&start) = stuck.iter().min() {
                let mut path = vec![start];
                let mut at = start;
                loop {
                    let next = deps[at].iter().copied().filter(|d| stuck.contains(d)).min();
                    let Some(next) = next else { break };
                    if let Some(pos) = path.iter().position(|&p| p == next) {
                        let cycle: Vec<&str> = path[pos..]
                            .iter()
                            .chain([&next])
                            .map(|&k| fields[k].id.as_str())
                            .collect();
                        let first = path[pos];
                        let key = if pending[first].calculate.is_some() {
                            "calculate"
                        } else {
                            "relevant"
                        };
                        self.problem(
                            &format!("{}/{key}", pending[first].pointer),
                            format!(
                                "cycle: {} (each reads the next in its relevance or calculation)",
                                cycle.join(" → ")
                            ),
                        );
                        break;
                    }
                    path.push(next);
                    at = next;
                }
            }
            order.extend((0..n).filter(|i| stuck.contains(i)));
        }
        order
    }
}

/// Fields a compiled expression reads through relevance-gated values (not `answer()`).
pub(crate) fn node_refs(node: &Node, out: &mut Vec<usize>) {
    match node {
        Node::Const(_) => {}
        Node::Field { index, raw, .. } => {
            if !raw {
                out.push(*index)
            }
        }
        Node::Neg(a) => node_refs(a, out),
        Node::Binary(_, a, b) => {
            node_refs(a, out);
            node_refs(b, out);
        }
        Node::Call(_, args) => args.iter().for_each(|a| node_refs(a, out)),
        Node::Regex(a, _) => node_refs(a, out),
        Node::Lookup { key, .. } => node_refs(key, out),
        Node::MinDaysApart {
            date,
            key,
            at_least,
        } => {
            out.push(*date);
            out.extend(key.iter().copied());
            if let Some(a) = at_least {
                node_refs(a, out);
            }
        }
        Node::Aggregate {
            group,
            value,
            filter,
            ..
        } => {
            out.push(*group);
            for n in [value, filter].into_iter().flatten() {
                node_refs(n, out);
            }
        }
    }
}

/// `{field_id}` names in a message, in order.
pub(crate) fn placeholders(message: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = message;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                out.push(after[..close].to_string());
                rest = &after[close + 1..];
            }
            None => break,
        }
    }
    out
}
