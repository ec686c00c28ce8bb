//! The sample person the app tests register (Halima Yusuf, born 1996-01-15, from
//! Somalia), shared by the tests that need a record.

use tern_app::core::Core;
use tern_app::dto::{NewSubject, RegisterResult};

/// Registers the sample person and returns their subject id.
pub fn register_halima(core: &Core) -> String {
    let RegisterResult::Registered { subject } = core
        .subjects_register(
            &NewSubject {
                family_name: "Yusuf".into(),
                given_name: "Halima".into(),
                sex: "female".into(),
                date_of_birth: "1996-01-15".into(),
                dob_precision: "exact".into(),
                nationality: vec!["SO".into()],
                case_ref: None,
            },
            false,
        )
        .expect("register")
    else {
        panic!("registered expected")
    };
    subject.subject_id
}
