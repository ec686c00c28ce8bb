//! The form file as written: its serde shape, read before any check.

use super::Code;
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawForm {
    #[serde(rename = "$schema", default)]
    pub(super) _schema: Option<String>,
    pub(super) form_id: String,
    pub(super) version: String,
    pub(super) title: String,
    #[serde(default)]
    pub(super) description: Option<String>,
    pub(super) languages: Vec<String>,
    #[serde(default)]
    pub(super) choice_lists: BTreeMap<String, RawChoiceList>,
    pub(super) sections: Vec<RawSection>,
    #[serde(default)]
    pub(super) rules: Vec<RawRule>,
}

#[derive(Deserialize)]
#[serde(untagged)]
pub(super) enum RawChoiceList {
    Inline(Vec<RawChoice>),
    External(RawExternal),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawExternal {
    pub(super) external: String,
    #[serde(default)]
    pub(super) extra: Vec<RawChoice>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawChoice {
    pub(super) code: String,
    pub(super) label: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSection {
    pub(super) id: String,
    pub(super) title: String,
    #[serde(default)]
    pub(super) hint: Option<String>,
    #[serde(default)]
    pub(super) relevant: Option<String>,
    #[serde(default)]
    pub(super) restricted: Option<String>,
    #[serde(default)]
    pub(super) write_roles: Option<Vec<String>>,
    pub(super) fields: Vec<RawField>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawField {
    pub(super) id: String,
    #[serde(rename = "type")]
    pub(super) kind: String,
    #[serde(default)]
    pub(super) label: Option<String>,
    #[serde(default)]
    pub(super) hint: Option<String>,
    #[serde(default)]
    pub(super) choices: Option<String>,
    #[serde(default)]
    pub(super) required: Option<serde_json::Value>,
    #[serde(default)]
    pub(super) relevant: Option<String>,
    #[serde(default)]
    pub(super) calculate: Option<String>,
    #[serde(default)]
    pub(super) value_type: Option<String>,
    #[serde(default)]
    pub(super) fields: Option<Vec<RawField>>,
    #[serde(default)]
    pub(super) min: Option<u32>,
    #[serde(default)]
    pub(super) max: Option<u32>,
    #[serde(default)]
    pub(super) source: Option<String>,
    #[serde(default)]
    pub(super) editable_subject: bool,
    #[serde(default)]
    pub(super) identity: bool,
    #[serde(default)]
    pub(super) restricted: Option<String>,
    #[serde(default)]
    pub(super) unit: Option<String>,
    #[serde(default)]
    pub(super) code: Option<Code>,
    #[serde(default)]
    pub(super) decimals: Option<u8>,
    #[serde(default)]
    pub(super) licensed_text: Option<String>,
    #[serde(default)]
    pub(super) appearance: Option<String>,
    #[serde(default)]
    pub(super) write_roles: Option<Vec<String>>,
    #[serde(default)]
    pub(super) choices_from: Option<RawChoicesFrom>,
    #[serde(default)]
    pub(super) codes: Vec<Code>,
}

/// `choices_from` on a text field: where its choices come from at run time.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawChoicesFrom {
    /// The site's accounts with one of these roles.
    pub(super) accounts: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRule {
    pub(super) id: String,
    pub(super) field: String,
    pub(super) severity: String,
    #[serde(default)]
    pub(super) when: Option<String>,
    #[serde(default)]
    pub(super) assert: Option<String>,
    pub(super) message: String,
    #[serde(default)]
    pub(super) applies: Option<String>,
    #[serde(default)]
    pub(super) alert: Option<RawAlert>,
}

/// `alert` on a rule: what it raises as data when it fires.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAlert {
    pub(super) kind: String,
    #[serde(default)]
    pub(super) deadline_hours: Option<u32>,
    #[serde(default)]
    pub(super) deadline_field: Option<String>,
    #[serde(default, rename = "while")]
    pub(super) while_: Option<String>,
}
