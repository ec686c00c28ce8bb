//! The real forms conform to the published meta-schema `schemas/form.schema.json`,
//! which editors use for completion; the loader checks more than the schema can.

use std::path::Path;

#[test]
fn real_forms_conform_to_the_meta_schema() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let read = |p: &Path| -> serde_json::Value {
        serde_json::from_str(
            &std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())),
        )
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    };
    let schema = read(&root.join("schemas/form.schema.json"));
    let validator = jsonschema::validator_for(&schema).expect("the meta-schema is valid");
    for id in ["pda", "pec", "arr_t1", "arr_t2"] {
        let form = read(&root.join(format!("schemas/forms/{id}.json")));
        let errors: Vec<String> = validator
            .iter_errors(&form)
            .map(|e| format!("{}: {e}", e.instance_path))
            .collect();
        assert!(errors.is_empty(), "{id}:\n{}", errors.join("\n"));
    }
    // And the schema refuses what the format forbids.
    let bad = serde_json::json!({"form_id": "x", "version": "1", "title": "X", "languages": ["ar"], "sections": []});
    assert!(!validator.is_valid(&bad));
    let with_roles = |roles: serde_json::Value| {
        serde_json::json!({"form_id": "x", "version": "1.0.0", "title": "X", "languages": ["en"],
            "sections": [{"id": "s", "title": "S", "write_roles": roles,
                "fields": [{"id": "f", "type": "text", "label": "F"}]}]})
    };
    assert!(validator.is_valid(&with_roles(serde_json::json!(["clinician"]))));
    assert!(!validator.is_valid(&with_roles(serde_json::json!([]))));
    assert!(!validator.is_valid(&with_roles(serde_json::json!(["nurse"]))));
}
