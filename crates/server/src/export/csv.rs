//! CSV files of an export (FORMS.md 8): one row per record, one column per field
//! named by its id, option codes, ISO 8601 dates, `.` decimals; repeat groups in
//! child files keyed by record key and index; a data dictionary. UTF-8 with a
//! byte-order mark (Excel then opens Arabic and Dari correctly), CRLF line ends,
//! and every text cell a spreadsheet would run as a formula guarded with a leading
//! `'`. Pure: writes to any `Write`.

use super::model::{ExportRecord, Layout};
use serde_json::Value as J;
use std::io::{self, Write};
use tern_forms::{Field, FieldKind, Form};

/// The UTF-8 byte-order mark every CSV file starts with.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// A text cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR)
/// gets a leading `'`.
pub fn guard(text: &str) -> std::borrow::Cow<'_, str> {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}").into(),
        _ => text.into(),
    }
}

/// A value as a cell: text guarded, numbers and booleans as they are, the codes of a
/// multiple choice separated by spaces, nothing for no value.
pub fn cell(v: Option<&J>) -> String {
    match v {
        None | Some(J::Null) => String::new(),
        Some(J::String(s)) => guard(s).into_owned(),
        Some(J::Bool(b)) => b.to_string(),
        Some(J::Number(n)) => n.to_string(),
        Some(J::Array(items)) => guard(
            &items
                .iter()
                .map(|i| match i {
                    J::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect::<Vec<_>>()
                .join(" "),
        )
        .into_owned(),
        Some(other) => guard(&other.to_string()).into_owned(),
    }
}

/// Writes one CSV line (RFC 4180 quoting, CRLF).
pub fn line<W: Write + ?Sized, S: AsRef<str>>(out: &mut W, cells: &[S]) -> io::Result<()> {
    for (i, c) in cells.iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        let c = c.as_ref();
        if c.contains([',', '"', '\n', '\r']) {
            out.write_all(b"\"")?;
            out.write_all(c.replace('"', "\"\"").as_bytes())?;
            out.write_all(b"\"")?;
        } else {
            out.write_all(c.as_bytes())?;
        }
    }
    out.write_all(b"\r\n")
}

/// The fixed columns before a record's fields.
pub fn main_header(layout: &Layout<'_>, identified: bool) -> Vec<String> {
    let mut h: Vec<String> = vec!["record_key".into(), "subject_key".into()];
    if identified {
        h.extend(["subject_id", "name", "date_of_birth", "documents"].map(String::from));
    }
    h.extend(
        [
            "site",
            "form_id",
            "form_version",
            "status",
            "encounter_date",
            "complete",
            "sex",
            "age_years",
        ]
        .map(String::from),
    );
    h.extend(layout.main.iter().map(|f| f.id().to_string()));
    h
}

/// A record's row of the main file.
pub fn main_row(layout: &Layout<'_>, r: &ExportRecord, identified: bool) -> Vec<String> {
    let mut row = vec![r.record_key.clone(), r.subject_key.clone()];
    if identified {
        let id = r.identity.clone().unwrap_or_default();
        row.extend([
            guard(&id.subject_id).into_owned(),
            guard(&id.name).into_owned(),
            id.date_of_birth.unwrap_or_default(),
            guard(&id.documents).into_owned(),
        ]);
    }
    row.extend([
        guard(&r.site).into_owned(),
        r.form_id.clone(),
        r.form_version.clone(),
        r.status.clone(),
        r.encounter_date.clone(),
        r.complete.to_string(),
        cell(r.sex.as_ref().map(|s| J::String(s.clone())).as_ref()),
        r.age_years.map(|a| a.to_string()).unwrap_or_default(),
    ]);
    row.extend(layout.main.iter().map(|f| cell(r.value(f.id()))));
    row
}

/// The header of a repeat group's child file.
pub fn child_header(children: &[&Field]) -> Vec<String> {
    let mut h: Vec<String> = vec!["record_key".into(), "index".into()];
    h.extend(children.iter().map(|f| f.id().to_string()));
    h
}

/// Writes the child rows of one record for one group.
pub fn child_rows<W: Write + ?Sized>(
    out: &mut W,
    group: &Field,
    children: &[&Field],
    r: &ExportRecord,
) -> io::Result<u64> {
    let n = r.instances(group.id()).len();
    for i in 0..n {
        let mut row = vec![r.record_key.clone(), i.to_string()];
        row.extend(
            children
                .iter()
                .map(|f| cell(r.child_value(group.id(), i, f.id()))),
        );
        line(out, &row)?;
    }
    Ok(n as u64)
}

/// The type of a field as the dictionary names it.
fn type_name(f: &Field) -> &'static str {
    match (f.kind(), f.value_kind()) {
        (FieldKind::Calculate, Some(k)) => k.name(),
        (k, _) => k.name(),
    }
}

/// The header of the data dictionary.
pub const DICTIONARY_HEADER: [&str; 12] = [
    "file",
    "field_id",
    "label",
    "type",
    "unit",
    "unit_system",
    "codes",
    "choice_list",
    "choices",
    "restricted",
    "identity",
    "calculated",
];

/// The dictionary rows of a form version's files: every column that is a field.
pub fn dictionary_rows<W: Write + ?Sized>(
    out: &mut W,
    form: &Form,
    layout: &Layout<'_>,
    main_file: &str,
    child_file: impl Fn(&str) -> String,
) -> io::Result<()> {
    let fixed: [(&str, &str, &str); 8] = [
        (
            "record_key",
            "Record key (pseudonymous, per recipient and purpose)",
            "text",
        ),
        (
            "subject_key",
            "Subject pseudonym (per recipient and purpose)",
            "text",
        ),
        ("site", "Site", "text"),
        ("form_version", "Form version", "text"),
        (
            "status",
            "Record status (draft, submitted, reviewed, locked, returned)",
            "text",
        ),
        ("encounter_date", "Encounter date (ISO 8601)", "date"),
        ("sex", "Sex (subject record)", "select_one"),
        (
            "age_years",
            "Age in completed years at the encounter",
            "integer",
        ),
    ];
    for (id, label, ty) in fixed {
        line(
            out,
            &[main_file, id, label, ty, "", "", "", "", "", "", "", ""],
        )?;
    }
    let mut field_row = |file: &str, f: &Field| -> io::Result<()> {
        let label = form
            .text("en", &format!("field.{}.label", f.id()))
            .unwrap_or("");
        let codes = std::iter::once(f.code())
            .flatten()
            .chain(f.codes().iter())
            .map(|c| match &c.role {
                Some(role) => format!("{}|{} ({role})", c.system, c.code),
                None => format!("{}|{}", c.system, c.code),
            })
            .collect::<Vec<_>>()
            .join("; ");
        let list = f.choice_list().unwrap_or("");
        let choices = if list.is_empty() {
            String::new()
        } else if form.choice_list_is_external(list) {
            "ISO 3166-1 alpha-2 codes".to_string()
        } else {
            form.choice_codes(list)
                .unwrap_or(&[])
                .iter()
                .map(|c| {
                    let l = form.text("en", &format!("choice.{list}.{c}")).unwrap_or("");
                    format!("{c}={l}")
                })
                .collect::<Vec<_>>()
                .join("; ")
        };
        let unit = f.unit().unwrap_or("");
        let restricted = tern_record::is_restricted_path(form, f.id());
        let identity = tern_record::is_identity_path(form, f.id());
        line(
            out,
            &[
                file,
                f.id(),
                &guard(label),
                type_name(f),
                unit,
                if unit.is_empty() {
                    ""
                } else {
                    "http://unitsofmeasure.org"
                },
                &codes,
                list,
                &guard(&choices),
                if restricted { "true" } else { "false" },
                if identity { "true" } else { "false" },
                if f.kind() == FieldKind::Calculate {
                    "true"
                } else {
                    "false"
                },
            ],
        )
    };
    for f in &layout.main {
        field_row(main_file, f)?;
    }
    for (g, children) in &layout.groups {
        let file = child_file(g.id());
        for f in children {
            field_row(&file, f)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_guarded_and_cells_quoted() {
        for bad in ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tx", "\rx"] {
            assert_eq!(guard(bad), format!("'{bad}"), "{bad:?}");
        }
        assert_eq!(guard("fever"), "fever");
        assert_eq!(guard("a=b"), "a=b");
        // Numbers are numbers, not text a spreadsheet would run.
        assert_eq!(cell(Some(&serde_json::json!(-3.5))), "-3.5");
        assert_eq!(cell(Some(&serde_json::json!("-3.5"))), "'-3.5");
        assert_eq!(
            cell(Some(&serde_json::json!(["fever", "cough"]))),
            "fever cough"
        );
        let mut out = Vec::new();
        line(&mut out, &["a,b", "say \"hi\"", "=x", "line\nbreak"]).expect("write");
        assert_eq!(
            String::from_utf8(out).expect("utf8"),
            "\"a,b\",\"say \"\"hi\"\"\",=x,\"line\nbreak\"\r\n"
        );
    }
}
