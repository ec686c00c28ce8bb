//! Answer sets shared by the store's and the server's integration tests.

use tern_store::Store;

/// A new `arr_t1` record for a new subject with what its rules read (sex, date of
/// birth, nationality); not complete until [`complete_arr_t1`].
pub fn arr_t1_record(s: &mut Store) -> String {
    let subject = s
        .add_subject(&[
            ("sex".into(), "female".into()),
            ("date_of_birth".into(), "1990-05-01".into()),
            ("dob_precision".into(), "exact".into()),
            ("nationality".into(), "SY".into()),
        ])
        .expect("subject");
    s.new_record("arr_t1", &subject).expect("record")
}

/// Answers that make an `arr_t1` record complete, for a subject with sex, date of
/// birth and nationality.
pub fn complete_arr_t1(s: &mut Store, r: &str) {
    // A pick from the site's accounts (`choices_from`): the acting user.
    let me = s.user().to_string();
    for (f, v) in [
        ("t1_datetime", "2026-11-25T10:00:00Z"),
        ("t1_location_type", "screening_centre"),
        ("t1_personnel_id", me.as_str()),
        ("t1_emergency_signs", "none"),
        ("t1_infectious_signs", "none"),
        ("t1_isolation", "false"),
        ("t1_vuln_flags", "none"),
        ("t1_no_further_check", "true"),
        ("t1_screening_form_note", "check_done_no_needs"),
        ("legal_basis_screening", "consent"),
        ("consent_screening", "granted"),
    ] {
        s.set_answer(r, f, v, None).expect(f);
    }
}
