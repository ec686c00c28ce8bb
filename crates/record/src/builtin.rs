//! The real forms, their translations and the configuration tables, built into the
//! binary so a new store can capture data with no files beside it. `Store::init`
//! seeds them into the `forms` and `config_tables` tables; a later form version is
//! added beside the old ones, never over them, because records keep their version.
//!
//! The binary keeps every version it ever shipped: the current files of
//! `schemas/forms/` and the earlier ones of `schemas/forms/archive/`
//! (`<form_id>-<version>.json`, translations in `archive/translations/`). Every
//! translation names the `form_version` it translates, so a form given all the
//! translations of its form id (as the store and the server do) takes only its own.

/// `(file name, text)` of every form definition, current versions first, then every
/// archived version (same file name: the form id and version are read from the text).
pub const FORMS: &[(&str, &str)] = &[
    ("pda.json", include_str!("../../../schemas/forms/pda.json")),
    ("pec.json", include_str!("../../../schemas/forms/pec.json")),
    (
        "arr_t1.json",
        include_str!("../../../schemas/forms/arr_t1.json"),
    ),
    (
        "arr_t2.json",
        include_str!("../../../schemas/forms/arr_t2.json"),
    ),
    (
        "pda.json",
        include_str!("../../../schemas/forms/archive/pda-1.0.0.json"),
    ),
    (
        "pec.json",
        include_str!("../../../schemas/forms/archive/pec-1.0.0.json"),
    ),
    (
        "arr_t1.json",
        include_str!("../../../schemas/forms/archive/arr_t1-1.0.0.json"),
    ),
    (
        "arr_t2.json",
        include_str!("../../../schemas/forms/archive/arr_t2-1.0.0.json"),
    ),
    (
        "pda.json",
        include_str!("../../../schemas/forms/archive/pda-1.1.0.json"),
    ),
    (
        "arr_t2.json",
        include_str!("../../../schemas/forms/archive/arr_t2-1.1.0.json"),
    ),
];

/// `(file name, text)` of every translation, current and archived; the form id is the
/// name up to the first dot, the version its `form_version`.
pub const TRANSLATIONS: &[(&str, &str)] = &[
    (
        "arr_t1.ar.json",
        include_str!("../../../schemas/forms/translations/arr_t1.ar.json"),
    ),
    (
        "arr_t2.ar.json",
        include_str!("../../../schemas/forms/translations/arr_t2.ar.json"),
    ),
    (
        "pda.ar.json",
        include_str!("../../../schemas/forms/translations/pda.ar.json"),
    ),
    (
        "pda.fa.json",
        include_str!("../../../schemas/forms/translations/pda.fa.json"),
    ),
    (
        "pda.fr.json",
        include_str!("../../../schemas/forms/translations/pda.fr.json"),
    ),
    (
        "pda.uk.json",
        include_str!("../../../schemas/forms/translations/pda.uk.json"),
    ),
    (
        "pec.ar.json",
        include_str!("../../../schemas/forms/translations/pec.ar.json"),
    ),
    (
        "arr_t1.ar.json",
        include_str!("../../../schemas/forms/archive/translations/arr_t1-1.0.0.ar.json"),
    ),
    (
        "arr_t2.ar.json",
        include_str!("../../../schemas/forms/archive/translations/arr_t2-1.0.0.ar.json"),
    ),
    (
        "pda.ar.json",
        include_str!("../../../schemas/forms/archive/translations/pda-1.0.0.ar.json"),
    ),
    (
        "pda.fa.json",
        include_str!("../../../schemas/forms/archive/translations/pda-1.0.0.fa.json"),
    ),
    (
        "pda.fr.json",
        include_str!("../../../schemas/forms/archive/translations/pda-1.0.0.fr.json"),
    ),
    (
        "pda.uk.json",
        include_str!("../../../schemas/forms/archive/translations/pda-1.0.0.uk.json"),
    ),
    (
        "pec.ar.json",
        include_str!("../../../schemas/forms/archive/translations/pec-1.0.0.ar.json"),
    ),
    (
        "arr_t2.ar.json",
        include_str!("../../../schemas/forms/archive/translations/arr_t2-1.1.0.ar.json"),
    ),
    (
        "pda.ar.json",
        include_str!("../../../schemas/forms/archive/translations/pda-1.1.0.ar.json"),
    ),
    (
        "pda.fa.json",
        include_str!("../../../schemas/forms/archive/translations/pda-1.1.0.fa.json"),
    ),
    (
        "pda.fr.json",
        include_str!("../../../schemas/forms/archive/translations/pda-1.1.0.fr.json"),
    ),
    (
        "pda.uk.json",
        include_str!("../../../schemas/forms/archive/translations/pda-1.1.0.uk.json"),
    ),
];

/// `(file name, text)` of every configuration table.
pub const CONFIG: &[(&str, &str)] = &[
    (
        "catchup_schedule.json",
        include_str!("../../../schemas/config/catchup_schedule.json"),
    ),
    (
        "cvx_vaccines.json",
        include_str!("../../../schemas/config/cvx_vaccines.json"),
    ),
    (
        "destination_tb_rules.json",
        include_str!("../../../schemas/config/destination_tb_rules.json"),
    ),
    (
        "ecdc_prevalence.json",
        include_str!("../../../schemas/config/ecdc_prevalence.json"),
    ),
    (
        "ecdc_thresholds.json",
        include_str!("../../../schemas/config/ecdc_thresholds.json"),
    ),
    (
        "endemic_areas.json",
        include_str!("../../../schemas/config/endemic_areas.json"),
    ),
    (
        "member_state_settings.json",
        include_str!("../../../schemas/config/member_state_settings.json"),
    ),
    (
        "programme_settings.json",
        include_str!("../../../schemas/config/programme_settings.json"),
    ),
    (
        "who_tb_incidence.json",
        include_str!("../../../schemas/config/who_tb_incidence.json"),
    ),
];

/// A built-in form by id and version, current or archived, loaded once (without translations: for
/// checks such as the server's field-level write rights, not for display). `None`
/// for a form or version not built in, or one that does not load.
pub fn form(form_id: &str, version: &str) -> Option<std::sync::Arc<tern_forms::Form>> {
    use std::collections::HashMap;
    use std::sync::{Arc, OnceLock};
    use tern_forms::{ConfigTables, Form, SourceFile};
    type Forms = HashMap<(String, String), Arc<Form>>;
    static LOADED: OnceLock<Forms> = OnceLock::new();
    LOADED
        .get_or_init(|| {
            let config: Vec<SourceFile> = CONFIG
                .iter()
                .map(|(n, t)| SourceFile::new(*n, *t))
                .collect();
            let Ok(tables) = ConfigTables::parse(&config) else {
                return HashMap::new();
            };
            FORMS
                .iter()
                .filter_map(|(name, text)| {
                    Form::parse(&SourceFile::new(*name, *text), &tables).ok()
                })
                .map(|f| {
                    (
                        (f.form_id().to_string(), f.version().to_string()),
                        Arc::new(f),
                    )
                })
                .collect()
        })
        .get(&(form_id.to_string(), version.to_string()))
        .cloned()
}

/// Whether `form_id` is one of the built-in forms (any version).
pub fn is_form(form_id: &str) -> bool {
    FORMS
        .iter()
        .any(|(name, _)| name.strip_suffix(".json") == Some(form_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tern_forms::{ConfigTables, Form, SourceFile};

    #[test]
    fn every_builtin_form_loads_with_its_translations() {
        let config: Vec<SourceFile> = CONFIG
            .iter()
            .map(|(n, t)| SourceFile::new(*n, *t))
            .collect();
        let tables = ConfigTables::parse(&config).expect("config tables parse");
        for (name, text) in FORMS {
            let mut form =
                Form::parse(&SourceFile::new(*name, *text), &tables).expect("form parses");
            let id = form.form_id().to_string();
            for (tname, ttext) in TRANSLATIONS
                .iter()
                .filter(|(n, _)| n.starts_with(&format!("{id}.")))
            {
                form.add_translation(&SourceFile::new(*tname, *ttext))
                    .expect("translation loads");
            }
            assert!(
                super::form(&id, form.version()).is_some(),
                "{id} is found by id and version"
            );
        }
        assert!(super::form("pda", "0.0.0").is_none());
    }

    #[test]
    fn every_shipped_version_is_built_in_once_with_its_own_translations() {
        let config: Vec<SourceFile> = CONFIG
            .iter()
            .map(|(n, t)| SourceFile::new(*n, *t))
            .collect();
        let tables = ConfigTables::parse(&config).expect("config tables parse");
        let mut seen = std::collections::HashSet::new();
        for (name, text) in FORMS {
            let mut form = Form::parse(&SourceFile::new(*name, *text), &tables)
                .unwrap_or_else(|d| panic!("{name}: {d}"));
            let key = (form.form_id().to_string(), form.version().to_string());
            assert!(seen.insert(key.clone()), "{key:?} listed twice");
            for (tname, ttext) in TRANSLATIONS
                .iter()
                .filter(|(n, _)| n.split('.').next() == Some(key.0.as_str()))
            {
                form.add_translation(&SourceFile::new(*tname, *ttext))
                    .unwrap_or_else(|d| panic!("{key:?} {tname}: {d}"));
            }
            assert!(
                form.missing_translations().is_empty(),
                "{key:?} misses {:?}",
                form.missing_translations()
            );
        }
        for id in ["pda", "pec", "arr_t1", "arr_t2"] {
            assert!(
                seen.contains(&(id.to_string(), "1.0.0".to_string())),
                "{id} 1.0.0 is kept"
            );
            assert!(
                seen.iter().any(|(f, v)| f == id && v != "1.0.0"),
                "{id} has a newer version"
            );
        }
    }

    #[test]
    fn a_record_captured_with_pda_1_0_0_still_loads_and_evaluates_its_version() {
        let old = super::form("pda", "1.0.0").expect("pda 1.0.0 is built in");
        let new = super::form("pda", "1.1.0").expect("pda 1.1.0 is built in");
        assert_eq!(old.version(), "1.0.0");
        let answers: serde_json::Map<String, serde_json::Value> = serde_json::from_str(
            r#"{"encounter_start": "2026-03-09T08:00:00Z", "programme": "us",
                "consent_screening": "granted", "sex": "female",
                "date_of_birth": "1990-05-01", "dob_precision": "exact",
                "outcome": "fit_with_followup", "tb_diagnosis": "pulmonary_tb"}"#,
        )
        .expect("json");
        let now = chrono::DateTime::parse_from_rfc3339("2026-03-10T12:00:00Z").expect("time");
        let ctx = tern_forms::EvalContext::new(now);
        let before = old.evaluate_json(&answers, &ctx);
        assert_eq!(before.calculated["age_years"], serde_json::json!(35));
        // Version 1.0.0 keeps its own rules (r28 read only fit_to_travel) ...
        assert!(!before.errors.iter().any(|r| r.rule == "r28"));
        // ... and 1.1.0 stops a "fit" outcome with active TB.
        let after = new.evaluate_json(&answers, &ctx);
        assert!(after.errors.iter().any(|r| r.rule == "r28"));
    }
}
