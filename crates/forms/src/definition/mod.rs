//! A form definition: the checked [`Form`] and its parts. A form file becomes one in
//! two steps, each a module: `raw` (the file's serde shape) and `loader` (every check
//! a form designer needs, each reported at its line and column; [`Form::parse`]).

use crate::expr::check::Node;
use serde::Deserialize;
use std::collections::HashMap;

mod loader;
mod raw;

pub(crate) use loader::placeholders;

/// The kinds of alert or task a rule may raise (`alert.kind`).
pub const ALERT_KINDS: &[&str] = &["tb_suspect", "notifiable_alert", "isolation"];

/// What a rule raises as data when it fires (an alert or a task, see
/// [`crate::alerts_of`]): its kind and the notification deadline after it fired, a
/// fixed number of hours or the value of a calculated field (read from
/// configuration by the form).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertSpec {
    pub kind: String,
    pub deadline_hours: Option<u32>,
    pub deadline_field: Option<String>,
    /// Raised while the rule's `when` holds (`"while": "when"`), not only while the
    /// rule fires: an alert that stays after the form's own check is satisfied.
    pub while_when: bool,
}

// ---------------------------------------------------------------------------------
// The checked form.

/// A standard code attached to a field (LOINC, CVX).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Code {
    pub system: String,
    pub code: String,
    #[serde(default = "yes")]
    pub verified: bool,
    /// What an additional code (`codes`) is for: `fhir-vital-signs` (the code a
    /// FHIR profile asks for beside the primary one), `panel` (the panel the
    /// observation belongs to).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

/// The `role` values an additional code may take.
pub const CODE_ROLES: &[&str] = &["fhir-vital-signs", "panel"];

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    Text,
    Integer,
    Decimal,
    Date,
    DateTime,
    SelectOne,
    SelectMultiple,
    Boolean,
    Calculate,
    Repeat,
    Note,
}

impl FieldKind {
    fn parse(s: &str) -> Option<FieldKind> {
        Some(match s {
            "text" => FieldKind::Text,
            "integer" => FieldKind::Integer,
            "decimal" => FieldKind::Decimal,
            "date" => FieldKind::Date,
            "datetime" => FieldKind::DateTime,
            "select_one" => FieldKind::SelectOne,
            "select_multiple" => FieldKind::SelectMultiple,
            "boolean" => FieldKind::Boolean,
            "calculate" => FieldKind::Calculate,
            "repeat" => FieldKind::Repeat,
            "note" => FieldKind::Note,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            FieldKind::Text => "text",
            FieldKind::Integer => "integer",
            FieldKind::Decimal => "decimal",
            FieldKind::Date => "date",
            FieldKind::DateTime => "datetime",
            FieldKind::SelectOne => "select_one",
            FieldKind::SelectMultiple => "select_multiple",
            FieldKind::Boolean => "boolean",
            FieldKind::Calculate => "calculate",
            FieldKind::Repeat => "repeat",
            FieldKind::Note => "note",
        }
    }
}

/// Where a field's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldSource {
    Answer,
    /// The subject record (FORMS.md 2.4).
    Subject,
    /// Filled by the app from the evaluation context (ids, site, start time).
    Context,
}

#[derive(Debug, Clone)]
pub(crate) enum Required {
    No,
    Yes,
    When(Node),
}

#[derive(Debug, Clone)]
pub struct Field {
    pub(crate) id: String,
    pub(crate) kind: FieldKind,
    pub(crate) section: usize,
    pub(crate) group: Option<usize>,
    pub(crate) choices: Option<String>,
    pub(crate) required: Required,
    pub(crate) relevant: Option<Node>,
    pub(crate) calculate: Option<Node>,
    /// For calculate fields: the declared result type (decides integer vs decimal).
    pub(crate) value_kind: Option<FieldKind>,
    pub(crate) decimals: Option<u8>,
    pub(crate) min: Option<u32>,
    pub(crate) max: Option<u32>,
    pub(crate) source: FieldSource,
    pub(crate) editable_subject: bool,
    pub(crate) identity: bool,
    pub(crate) restricted: Option<String>,
    pub(crate) unit: Option<String>,
    pub(crate) code: Option<Code>,
    /// Further codes of the same observation (`codes`), each with its role.
    pub(crate) codes: Vec<Code>,
    pub(crate) licensed_text: Option<String>,
    pub(crate) appearance: Option<String>,
    /// The roles that may write the field (its own `write_roles`, else its group's,
    /// else its section's); `None`: every role that enters answers.
    pub(crate) write_roles: Option<Vec<String>>,
    /// `choices_from.accounts`: the value is the name of one of the site's accounts
    /// with one of these roles (the store offers and checks them).
    pub(crate) account_roles: Option<Vec<String>>,
    pub(crate) has_label: bool,
    pub(crate) has_hint: bool,
}

impl Field {
    pub fn id(&self) -> &str {
        &self.id
    }
    pub fn kind(&self) -> FieldKind {
        self.kind
    }
    pub fn source(&self) -> FieldSource {
        self.source
    }
    pub fn choice_list(&self) -> Option<&str> {
        self.choices.as_deref()
    }
    /// For a calculate field, the declared type of its result (integer, decimal,
    /// boolean, date, text); `None` when not declared or not a calculate field.
    pub fn value_kind(&self) -> Option<FieldKind> {
        self.value_kind
    }
    pub fn is_identity(&self) -> bool {
        self.identity
    }
    pub fn editable_subject(&self) -> bool {
        self.editable_subject
    }
    pub fn restricted(&self) -> Option<&str> {
        self.restricted.as_deref()
    }
    pub fn unit(&self) -> Option<&str> {
        self.unit.as_deref()
    }
    /// The further codes of the field (`codes`: a FHIR profile's code, a panel).
    pub fn codes(&self) -> &[Code] {
        &self.codes
    }
    pub fn code(&self) -> Option<&Code> {
        self.code.as_ref()
    }
    pub fn appearance(&self) -> Option<&str> {
        self.appearance.as_deref()
    }
    pub fn licensed_text(&self) -> Option<&str> {
        self.licensed_text.as_deref()
    }
    pub fn max_instances(&self) -> Option<u32> {
        self.max
    }
    pub fn decimals(&self) -> Option<u8> {
        self.decimals
    }
    /// The roles that may write this field (FORMS.md 2.2: e.g. only `clinician` for
    /// the TB classification and the outcome), inherited from the field's repeat
    /// group or section unless it names its own; `None` when the form sets no limit.
    /// The decision itself is `tern_store::Role::may_write_field`, on the device and
    /// on the server alike.
    pub fn write_roles(&self) -> Option<&[String]> {
        self.write_roles.as_deref()
    }
    /// The roles of the site's accounts the value is picked from
    /// (`choices_from.accounts`), if the field is such a pick.
    pub fn account_roles(&self) -> Option<&[String]> {
        self.account_roles.as_deref()
    }
}

#[derive(Debug, Clone)]
pub struct Section {
    pub(crate) id: String,
    pub(crate) relevant: Option<Node>,
    pub(crate) restricted: Option<String>,
    pub(crate) write_roles: Option<Vec<String>>,
    pub(crate) has_hint: bool,
    /// Top-level fields of the section, in order (repeat children hang off their group).
    pub(crate) fields: Vec<usize>,
}

impl Section {
    pub fn id(&self) -> &str {
        &self.id
    }
    pub fn restricted(&self) -> Option<&str> {
        self.restricted.as_deref()
    }
    /// The roles that may write the section's fields, unless a field or its group
    /// names its own (see [`Field::write_roles`]).
    pub fn write_roles(&self) -> Option<&[String]> {
        self.write_roles.as_deref()
    }
}

#[derive(Debug, Clone)]
pub(crate) struct ChoiceList {
    pub codes: Vec<String>,
    /// Codes from an external standard list (ISO 3166-1), labelled by the UI.
    pub external: bool,
    /// Codes with a label in the form (all of an inline list, the extras of an external one).
    pub labelled: Vec<String>,
}

impl ChoiceList {
    pub(crate) fn contains(&self, code: &str) -> bool {
        self.codes.iter().any(|c| c == code)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
    Action,
}

#[derive(Debug, Clone)]
pub(crate) struct Rule {
    pub id: String,
    pub field: usize,
    pub severity: Severity,
    pub when: Option<Node>,
    pub assert: Option<Node>,
    pub always: bool,
    /// Field ids inserted into the message.
    pub placeholders: Vec<String>,
    pub alert: Option<AlertSpec>,
}

/// A checked form definition, ready to evaluate answers.
#[derive(Debug, Clone)]
pub struct Form {
    pub(crate) form_id: String,
    pub(crate) version: String,
    pub(crate) languages: Vec<String>,
    pub(crate) fields: Vec<Field>,
    pub(crate) by_id: HashMap<String, usize>,
    pub(crate) sections: Vec<Section>,
    pub(crate) choice_lists: HashMap<String, ChoiceList>,
    pub(crate) rules: Vec<Rule>,
    /// Fields in an order where everything a field's relevance or calculation reads
    /// comes before it.
    pub(crate) order: Vec<usize>,
    /// Texts by language, then key (`field.sex.label`); English comes from the form.
    pub(crate) texts: HashMap<String, HashMap<String, String>>,
    pub(crate) reviews: HashMap<String, crate::translation::Review>,
}

const SOURCE_LANGUAGE: &str = "en";
const RESTRICTED: &[&str] = &[
    "hiv",
    "mental_health",
    "violence",
    "fgm",
    "lgbti",
    "trafficking",
];
/// The role names of FORMS.md 2.2, as `write_roles` lists them (and as
/// `tern_store::Role` names them).
pub const ROLES: &[&str] = &[
    "screener",
    "clinician",
    "supervisor",
    "data_manager",
    "admin",
];
const CONTEXT_FIELDS: &[&str] = &[
    "encounter_id",
    "form_version",
    "site_id",
    "device_id",
    "screener_id",
    "encounter_start",
    "subject_id",
    "rule_set",
    "linked_pda_encounter_id",
    "linked_pda_outcome",
];

impl Form {
    pub fn form_id(&self) -> &str {
        &self.form_id
    }
    pub fn version(&self) -> &str {
        &self.version
    }
    pub fn languages(&self) -> &[String] {
        &self.languages
    }
    pub fn fields(&self) -> &[Field] {
        &self.fields
    }
    pub fn sections(&self) -> &[Section] {
        &self.sections
    }
    pub fn field(&self, id: &str) -> Option<&Field> {
        self.by_id.get(id).map(|&i| &self.fields[i])
    }
    /// The repeat group a field sits in, if any.
    pub fn group_of(&self, field: &Field) -> Option<&Field> {
        field.group.map(|g| &self.fields[g])
    }

    /// The section a field sits in (for a repeat child, its group's section). Storage
    /// uses it to keep fields of restricted sections apart.
    pub fn section_of(&self, field: &Field) -> &Section {
        &self.sections[field.section]
    }

    /// Codes of a choice list (for an external list, every ISO code plus the extras).
    pub fn choice_codes(&self, list: &str) -> Option<&[String]> {
        self.choice_lists.get(list).map(|l| l.codes.as_slice())
    }

    /// True for lists whose codes come from a standard (ISO 3166-1) and whose labels
    /// the UI takes from CLDR.
    pub fn choice_list_is_external(&self, list: &str) -> bool {
        self.choice_lists.get(list).is_some_and(|l| l.external)
    }

    /// A text in `lang`, falling back to English; `None` for unknown keys.
    pub fn text(&self, lang: &str, key: &str) -> Option<&str> {
        self.texts
            .get(lang)
            .and_then(|t| t.get(key))
            .or_else(|| self.texts.get(SOURCE_LANGUAGE).and_then(|t| t.get(key)))
            .map(String::as_str)
    }

    /// Every text key a translation must provide, in form order.
    pub fn translation_keys(&self) -> Vec<String> {
        let mut keys = vec!["title".to_string()];
        for s in &self.sections {
            keys.push(format!("section.{}.title", s.id));
            if s.has_hint {
                keys.push(format!("section.{}.hint", s.id));
            }
        }
        for f in &self.fields {
            if f.has_label && f.licensed_text.is_none() {
                keys.push(format!("field.{}.label", f.id));
            }
            if f.has_hint && f.licensed_text.is_none() {
                keys.push(format!("field.{}.hint", f.id));
            }
        }
        let mut lists: Vec<(&String, &ChoiceList)> = self.choice_lists.iter().collect();
        lists.sort_by_key(|(name, _)| *name);
        for (name, list) in lists {
            for code in &list.labelled {
                keys.push(format!("choice.{name}.{code}"));
            }
        }
        for r in &self.rules {
            keys.push(format!("rule.{}.message", r.id));
        }
        keys
    }
}
