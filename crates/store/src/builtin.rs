//! The real forms, their translations and the configuration tables, built into the
//! binary so a new store can capture data with no files beside it. `Store::init`
//! seeds them into the `forms` and `config_tables` tables; a later form version is
//! added beside the old ones, never over them, because records keep their version.

/// `(file name, text)` of every form definition.
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
];

/// `(file name, text)` of every translation; the form id is the name up to the first dot.
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
];

/// `(file name, text)` of every configuration table.
pub const CONFIG: &[(&str, &str)] = &[
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

/// A built-in form by id and version, loaded once (without translations: for
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
}
