//! FHIR R4 resources of an export (FORMS.md 8), as JSON: the form as a
//! `Questionnaire`, and per record a pseudonymous `Patient` (once per subject), an
//! `Encounter`, a `QuestionnaireResponse`, an `Observation` for every answered field
//! with a LOINC code (UCUM units), an `Immunization` per vaccination with its CVX
//! code, and a `Condition` for the TB classification. Pure.

use super::model::{ExportRecord, Layout};
use super::pseudonym::Pseudonyms;
use serde_json::{json, Map, Value as J};
use tern_forms::{Field, FieldKind, Form};

pub const LOINC: &str = "http://loinc.org";
pub const UCUM: &str = "http://unitsofmeasure.org";
pub const CVX: &str = "http://hl7.org/fhir/sid/cvx";
/// The system of ISO 3166-1 country codes in FHIR.
pub const ISO3166: &str = "urn:iso:std:iso:3166";

/// The canonical URL of a form's Questionnaire (its version after `|`).
pub fn questionnaire_url(form_id: &str) -> String {
    format!("urn:tern:form:{form_id}")
}

/// The code system of a form's choice list.
pub fn choice_system(form: &Form, list: &str) -> String {
    if form.choice_list_is_external(list) {
        ISO3166.to_string()
    } else {
        format!("urn:tern:choices:{}:{list}", form.form_id())
    }
}

/// How resources refer to each other: `urn:uuid:` inside a Bundle, `Type/id` in
/// NDJSON files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refs {
    Bundle,
    Ndjson,
}

impl Refs {
    pub fn to(self, kind: &str, id: &str) -> J {
        match self {
            Refs::Bundle => json!({ "reference": format!("urn:uuid:{id}") }),
            Refs::Ndjson => json!({ "reference": format!("{kind}/{id}") }),
        }
    }
}

fn label<'f>(form: &'f Form, f: &Field) -> Option<&'f str> {
    form.text("en", &format!("field.{}.label", f.id()))
        .filter(|s| !s.trim().is_empty())
}

fn coding(form: &Form, f: &Field, code: &str) -> J {
    let list = f.choice_list().unwrap_or("");
    let mut c = json!({ "system": choice_system(form, list), "code": code });
    if let Some(d) = form
        .text("en", &format!("choice.{list}.{code}"))
        .filter(|s| !s.trim().is_empty())
    {
        c["display"] = J::String(d.to_string());
    }
    c
}

/// An RFC 3339 time as a FHIR dateTime (seconds, offset), or `None`.
pub fn date_time(s: &str) -> Option<String> {
    chrono::DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S%:z").to_string())
}

fn date(s: &str) -> Option<String> {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .map(|d| d.to_string())
}

fn integer(v: &J) -> Option<i64> {
    v.as_i64()
        .or_else(|| v.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
        .filter(|i| i32::try_from(*i).is_ok())
}

/// The answers of one field value as `QuestionnaireResponse.item.answer` entries.
fn answers(form: &Form, f: &Field, v: &J) -> Vec<J> {
    let text = |s: &str| (!s.trim().is_empty()).then(|| json!({ "valueString": s }));
    let one = match (f.kind(), f.value_kind(), v) {
        (FieldKind::SelectMultiple, _, J::Array(items)) => {
            return items
                .iter()
                .filter_map(J::as_str)
                .map(|c| json!({ "valueCoding": coding(form, f, c) }))
                .collect()
        }
        (FieldKind::SelectOne, _, J::String(c)) if !c.is_empty() => {
            Some(json!({ "valueCoding": coding(form, f, c) }))
        }
        (_, _, J::Bool(b)) => Some(json!({ "valueBoolean": b })),
        (FieldKind::Integer, _, n @ J::Number(_))
        | (FieldKind::Calculate, Some(FieldKind::Integer), n @ J::Number(_)) => integer(n)
            .map(|i| json!({ "valueInteger": i }))
            .or_else(|| Some(json!({ "valueDecimal": n }))),
        (_, _, n @ J::Number(_)) => Some(json!({ "valueDecimal": n })),
        (FieldKind::Date, _, J::String(s))
        | (FieldKind::Calculate, Some(FieldKind::Date), J::String(s)) => date(s)
            .map(|d| json!({ "valueDate": d }))
            .or_else(|| text(s)),
        (FieldKind::DateTime, _, J::String(s)) => date_time(s)
            .map(|d| json!({ "valueDateTime": d }))
            .or_else(|| text(s)),
        (_, _, J::String(s)) => text(s),
        (_, _, J::Null) => None,
        (_, _, other) => text(&other.to_string()),
    };
    one.into_iter().collect()
}

fn item_type(f: &Field) -> &'static str {
    match f.kind() {
        FieldKind::Text => "string",
        FieldKind::Integer => "integer",
        FieldKind::Decimal => "decimal",
        FieldKind::Date => "date",
        FieldKind::DateTime => "dateTime",
        FieldKind::SelectOne | FieldKind::SelectMultiple => "choice",
        FieldKind::Boolean => "boolean",
        FieldKind::Repeat => "group",
        FieldKind::Note => "display",
        FieldKind::Calculate => match f.value_kind() {
            Some(FieldKind::Integer) => "integer",
            Some(FieldKind::Boolean) => "boolean",
            Some(FieldKind::Date) => "date",
            Some(FieldKind::Text) => "string",
            _ => "decimal",
        },
    }
}

fn question(form: &Form, f: &Field) -> J {
    let mut item = json!({ "linkId": f.id(), "type": item_type(f) });
    if let Some(l) = label(form, f) {
        item["text"] = J::String(l.to_string());
    } else if f.kind() == FieldKind::Note {
        item["text"] = J::String(f.id().to_string());
    }
    if let Some(c) = f.code() {
        item["code"] = json!([{ "system": c.system, "code": c.code }]);
    }
    if matches!(f.kind(), FieldKind::SelectMultiple | FieldKind::Repeat) {
        item["repeats"] = J::Bool(true);
    }
    if f.kind() == FieldKind::Calculate {
        item["readOnly"] = J::Bool(true);
    }
    if let Some(u) = f.unit() {
        item["extension"] = json!([{
            "url": "http://hl7.org/fhir/StructureDefinition/questionnaire-unit",
            "valueCoding": { "system": UCUM, "code": u }
        }]);
    }
    if let Some(list) = f.choice_list() {
        if !form.choice_list_is_external(list) {
            let options: Vec<J> = form
                .choice_codes(list)
                .unwrap_or(&[])
                .iter()
                .map(|c| json!({ "valueCoding": coding(form, f, c) }))
                .collect();
            if !options.is_empty() {
                item["answerOption"] = J::Array(options);
            }
        }
    }
    item
}

/// The form as an R4 `Questionnaire`: sections as groups, repeat groups as
/// repeating groups, choice lists as answer options, calculations read-only. Only the
/// fields `keep` accepts are items: an export describes what it carries (a recipient
/// without approval for restricted sections does not get their questions either).
pub fn questionnaire(form: &Form, id: &str, keep: impl Fn(&Field) -> bool) -> J {
    let mut sections: Vec<J> = Vec::new();
    for s in form.sections() {
        let mut items: Vec<J> = Vec::new();
        for f in form.fields() {
            if form.group_of(f).is_some() || !std::ptr::eq(form.section_of(f), s) || !keep(f) {
                continue;
            }
            let mut q = question(form, f);
            if f.kind() == FieldKind::Repeat {
                let children: Vec<J> = form
                    .fields()
                    .iter()
                    .filter(|c| form.group_of(c).is_some_and(|g| g.id() == f.id()) && keep(c))
                    .map(|c| question(form, c))
                    .collect();
                q["item"] = J::Array(children);
            }
            items.push(q);
        }
        if items.is_empty() {
            continue;
        }
        let mut group = json!({ "linkId": s.id(), "type": "group", "item": items });
        if let Some(t) = form
            .text("en", &format!("section.{}.title", s.id()))
            .filter(|t| !t.trim().is_empty())
        {
            group["text"] = J::String(t.to_string());
        }
        sections.push(group);
    }
    let mut q = json!({
        "resourceType": "Questionnaire",
        "id": id,
        "url": questionnaire_url(form.form_id()),
        "version": form.version(),
        "name": format!("Tern_{}", form.form_id()),
        "status": "active",
        "subjectType": ["Patient"],
        "item": sections,
    });
    if let Some(t) = form.text("en", "title").filter(|t| !t.trim().is_empty()) {
        q["title"] = J::String(t.to_string());
    }
    q
}

/// The id of a form version's Questionnaire resource: a UUID named by the form id
/// and version (the same in every export).
pub fn questionnaire_id(form: &Form) -> String {
    use sha2::{Digest, Sha256};
    let h = Sha256::digest(format!(
        "tern-questionnaire:{}|{}",
        form.form_id(),
        form.version()
    ));
    let mut b = [0u8; 16];
    b.copy_from_slice(&h[..16]);
    uuid::Builder::from_sha1_bytes(b).into_uuid().to_string()
}

/// A subject's pseudonymous `Patient` (its name, id and full date of birth only in
/// an identified export; otherwise the year of birth).
pub fn patient(r: &ExportRecord, keys: &Pseudonyms, birth_date: Option<&str>) -> J {
    let mut p = json!({
        "resourceType": "Patient",
        "id": keys.uuid("Patient", &r.subject_key),
        "identifier": [{ "system": "urn:tern:pseudonym", "value": r.subject_key }],
    });
    if let Some(g) = r.sex.as_deref().and_then(|s| match s {
        "female" => Some("female"),
        "male" => Some("male"),
        "intersex_other" => Some("other"),
        "unknown" => Some("unknown"),
        _ => None,
    }) {
        p["gender"] = J::String(g.into());
    }
    match &r.identity {
        Some(id) => {
            if let Some(a) = p["identifier"].as_array_mut() {
                a.push(json!({ "system": "urn:tern:subject-id", "value": id.subject_id }));
            }
            if !id.name.trim().is_empty() {
                p["name"] = json!([{ "text": id.name }]);
            }
            if let Some(d) = id.date_of_birth.as_deref().and_then(date) {
                p["birthDate"] = J::String(d);
            }
        }
        None => {
            if let Some(y) = birth_date.and_then(date).map(|d| d[..4].to_string()) {
                p["birthDate"] = J::String(y);
            }
        }
    }
    p
}

fn finished(status: &str) -> bool {
    matches!(status, "submitted" | "reviewed" | "locked")
}

/// The resources of one record (its Patient aside).
pub fn record_resources(
    form: &Form,
    layout: &Layout<'_>,
    r: &ExportRecord,
    keys: &Pseudonyms,
    refs: Refs,
) -> Vec<J> {
    let patient = refs.to("Patient", &keys.uuid("Patient", &r.subject_key));
    let enc_id = keys.uuid("Encounter", &r.record_key);
    let encounter_ref = refs.to("Encounter", &enc_id);
    let started = r.started.as_deref().and_then(date_time);
    let when = started.clone().unwrap_or_else(|| r.encounter_date.clone());
    let mut out = Vec::new();

    let mut enc = json!({
        "resourceType": "Encounter",
        "id": enc_id,
        "identifier": [{ "system": "urn:tern:record-key", "value": r.record_key }],
        "status": if finished(&r.status) { "finished" } else { "in-progress" },
        "class": {
            "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
            "code": "FLD",
            "display": "field"
        },
        "type": [{ "coding": [{ "system": "urn:tern:form", "code": r.form_id }] }],
        "subject": patient,
    });
    if let Some(s) = &started {
        enc["period"] = json!({ "start": s });
    }
    out.push(enc);

    // QuestionnaireResponse: the carried answers, in the Questionnaire's shape.
    let mut sections: Vec<(String, Vec<J>)> = Vec::new();
    let mut push = |section: &str, item: J| match sections.iter_mut().find(|(s, _)| s == section) {
        Some((_, items)) => items.push(item),
        None => sections.push((section.to_string(), vec![item])),
    };
    for f in &layout.main {
        if let Some(v) = r.value(f.id()) {
            let a = answers(form, f, v);
            if !a.is_empty() {
                push(
                    form.section_of(f).id(),
                    json!({ "linkId": f.id(), "answer": a }),
                );
            }
        }
    }
    for (g, children) in &layout.groups {
        for i in 0..r.instances(g.id()).len() {
            let items: Vec<J> = children
                .iter()
                .filter_map(|c| {
                    let a = answers(form, c, r.child_value(g.id(), i, c.id())?);
                    (!a.is_empty()).then(|| json!({ "linkId": c.id(), "answer": a }))
                })
                .collect();
            if !items.is_empty() {
                push(
                    form.section_of(g).id(),
                    json!({ "linkId": g.id(), "item": items }),
                );
            }
        }
    }
    let mut qr = json!({
        "resourceType": "QuestionnaireResponse",
        "id": keys.uuid("QuestionnaireResponse", &r.record_key),
        "identifier": { "system": "urn:tern:record-key", "value": r.record_key },
        "questionnaire": format!("{}|{}", questionnaire_url(&r.form_id), r.form_version),
        "status": if finished(&r.status) { "completed" } else { "in-progress" },
        "subject": patient,
        "encounter": encounter_ref,
        "item": sections
            .into_iter()
            .map(|(s, items)| json!({ "linkId": s, "item": items }))
            .collect::<Vec<_>>(),
    });
    if let Some(s) = &started {
        qr["authored"] = J::String(s.clone());
    }
    if qr["item"].as_array().is_some_and(Vec::is_empty) {
        if let Some(o) = qr.as_object_mut() {
            o.remove("item");
        }
    }
    out.push(qr);

    // Observations: every answered field with a LOINC code.
    for f in &layout.main {
        let (Some(code), Some(v)) = (f.code(), r.value(f.id())) else {
            continue;
        };
        if code.system != LOINC {
            continue;
        }
        let Some(value) = observation_value(form, f, v) else {
            continue;
        };
        let section = form.section_of(f).id();
        let category = if section == "vitals" || section == "check" || section == "health_check" {
            "vital-signs"
        } else if matches!(section, "lab_tests" | "tests" | "tb") || section.contains("lab") {
            "laboratory"
        } else {
            "exam"
        };
        let mut coding = vec![json!({ "system": LOINC, "code": code.code })];
        for extra in f.codes() {
            if extra.role.as_deref() == Some("fhir-vital-signs") {
                coding.push(json!({ "system": extra.system, "code": extra.code }));
            }
        }
        let mut code_cc = json!({ "coding": coding });
        if let Some(l) = label(form, f) {
            code_cc["text"] = J::String(l.to_string());
        }
        let mut obs = json!({
            "resourceType": "Observation",
            "id": keys.uuid("Observation", &format!("{}:{}", r.record_key, f.id())),
            "status": if matches!(r.status.as_str(), "reviewed" | "locked") { "final" } else { "preliminary" },
            "category": [{ "coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                "code": category
            }] }],
            "code": code_cc,
            "subject": patient,
            "encounter": encounter_ref,
            "effectiveDateTime": when,
        });
        if let (Some(o), J::Object(val)) = (obs.as_object_mut(), value) {
            o.extend(val);
        }
        out.push(obs);
    }

    // Immunizations: every instance of a group holding `vaccine_cvx`.
    for (g, children) in &layout.groups {
        if !children.iter().any(|c| c.id() == "vaccine_cvx") {
            continue;
        }
        for i in 0..r.instances(g.id()).len() {
            let get = |id: &str| r.child_value(g.id(), i, id);
            let Some(cvx) = get("vaccine_cvx")
                .and_then(J::as_str)
                .filter(|s| !s.is_empty())
            else {
                continue;
            };
            let Some(cvx_field) = form.field("vaccine_cvx") else {
                continue;
            };
            let mut code = coding(form, cvx_field, cvx);
            code["system"] = J::String(CVX.into());
            let source = get("source").and_then(J::as_str).unwrap_or("");
            let primary = source == "administered_here";
            let mut imm = json!({
                "resourceType": "Immunization",
                "id": keys.uuid("Immunization", &format!("{}:{}:{i}", r.record_key, g.id())),
                "status": "completed",
                "vaccineCode": { "coding": [code] },
                "patient": patient,
                "encounter": encounter_ref,
                "primarySource": primary,
            });
            match get("date_given").and_then(J::as_str).and_then(date) {
                Some(d) => imm["occurrenceDateTime"] = J::String(d),
                None => imm["occurrenceString"] = J::String("unknown".into()),
            }
            if !primary {
                let origin = match source {
                    "verbal" => Some("recall"),
                    "card" | "registry" => Some("record"),
                    _ => None,
                };
                if let Some(o) = origin {
                    imm["reportOrigin"] = json!({ "coding": [{
                        "system": "http://terminology.hl7.org/CodeSystem/immunization-origin",
                        "code": o
                    }] });
                }
            }
            if let Some(lot) = get("lot_number")
                .and_then(J::as_str)
                .filter(|s| !s.trim().is_empty())
            {
                imm["lotNumber"] = J::String(lot.into());
            }
            if let Some(d) = get("expiry_date").and_then(J::as_str).and_then(date) {
                imm["expirationDate"] = J::String(d);
            }
            if let Some(n) = get("dose_no").and_then(integer).filter(|n| *n > 0) {
                imm["protocolApplied"] = json!([{ "doseNumberPositiveInt": n }]);
            }
            out.push(imm);
        }
    }

    // Conditions: the TB classification.
    for (id, none) in [("tb_diagnosis", "no_tb"), ("tb_class_us", "none")] {
        let Some(f) = layout.main.iter().find(|f| f.id() == id) else {
            continue;
        };
        let Some(v) = r
            .value(id)
            .and_then(J::as_str)
            .filter(|v| !v.is_empty() && *v != none)
        else {
            continue;
        };
        let clinical = if v == "past_tb_inactive" {
            "inactive"
        } else {
            "active"
        };
        let c = coding(form, f, v);
        let mut cc = json!({ "coding": [c.clone()] });
        if let Some(d) = c.get("display") {
            cc["text"] = d.clone();
        }
        out.push(json!({
            "resourceType": "Condition",
            "id": keys.uuid("Condition", &format!("{}:{id}", r.record_key)),
            "clinicalStatus": { "coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                "code": clinical
            }] },
            "verificationStatus": { "coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                "code": "confirmed"
            }] },
            "category": [{ "coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/condition-category",
                "code": "encounter-diagnosis"
            }] }],
            "code": cc,
            "subject": patient,
            "encounter": encounter_ref,
            "recordedDate": when,
        }));
    }
    out
}

/// The `value[x]` of an Observation for a field's value (an object of one key).
fn observation_value(form: &Form, f: &Field, v: &J) -> Option<J> {
    Some(match v {
        J::Number(n) => {
            let mut q = json!({ "value": n });
            if let Some(u) = f.unit() {
                q["unit"] = J::String(u.into());
                q["system"] = J::String(UCUM.into());
                q["code"] = J::String(u.into());
            }
            json!({ "valueQuantity": q })
        }
        J::Bool(b) => json!({ "valueBoolean": b }),
        J::String(s) if s.is_empty() => return None,
        J::String(s) if f.choice_list().is_some() => {
            let c = coding(form, f, s);
            json!({ "valueCodeableConcept": { "coding": [c] } })
        }
        J::String(s) => match f.kind() {
            FieldKind::Date | FieldKind::DateTime | FieldKind::Calculate => {
                match date(s).or_else(|| date_time(s)) {
                    Some(d) => json!({ "valueDateTime": d }),
                    None => json!({ "valueString": s }),
                }
            }
            _ => json!({ "valueString": s }),
        },
        J::Array(items) => {
            let coding: Vec<J> = items
                .iter()
                .filter_map(J::as_str)
                .map(|c| coding(form, f, c))
                .collect();
            if coding.is_empty() {
                return None;
            }
            json!({ "valueCodeableConcept": { "coding": coding } })
        }
        _ => return None,
    })
}

/// A resource as a Bundle entry.
pub fn entry(resource: J) -> J {
    let id = resource["id"].as_str().unwrap_or_default().to_string();
    let mut e = Map::new();
    e.insert("fullUrl".into(), J::String(format!("urn:uuid:{id}")));
    e.insert("resource".into(), resource);
    J::Object(e)
}
