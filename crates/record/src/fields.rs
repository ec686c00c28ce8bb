//! Where a form field's answer lives, by the record model's rules: in the restricted
//! twin (restricted field, section or group), among a subject's identity data (never
//! copied into records), and how document numbers are compared.

use tern_forms::{Field, Form};

/// Further subject fields, free text.
pub const EXTRA_IDENTITY: &[&str] = &[
    "other_names",
    "document_number",
    "document_type",
    "case_ref",
    "phone",
];

/// Whether `id` names a subject's identity field (names, document numbers, ...).
pub fn is_identity_field(id: &str) -> bool {
    matches!(id, "family_name" | "given_name") || EXTRA_IDENTITY.contains(&id)
}

/// A document number as compared in searches: letters and digits only, upper case.
pub fn normalise_document(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_uppercase)
        .collect()
}

/// Whether a field's answer lives in the restricted twin: the field, its section or
/// its repeat group is restricted.
pub fn is_restricted(form: &Form, field: &Field) -> bool {
    field.restricted().is_some()
        || form.section_of(field).restricted().is_some()
        || form
            .group_of(field)
            .is_some_and(|g| g.restricted().is_some())
}
