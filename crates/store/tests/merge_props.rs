//! Property: 3 to 5 replicas edit one record at random and exchange changes in
//! random order, with duplicates and partial sets; after a final full exchange all
//! hold identical answers and identical conflict sets. Case count: PROPTEST_CASES
//! (default 6, so CI stays fast).

use crate::common::*;
use proptest::prelude::*;
use tern_store::{Role, Store};

const FIELDS: &[(&str, &[&str])] = &[
    ("temp_c", &["36.5", "37", "38.2"]),
    ("consent_research", &["granted", "refused", "withdrawn"]),
    (
        "exam_general_findings",
        &["clear", "wheeze left", "clear chest"],
    ),
    ("hiv_offered", &["true", "false"]),
    ("current_meds[*].med_name", &["metformin", "insulin"]),
];

#[derive(Debug, Clone)]
enum Op {
    Set {
        replica: usize,
        field: usize,
        value: usize,
    },
    /// Send changes from one replica to another: all, odd-numbered or even-numbered
    /// ones (reversed), possibly twice.
    Send {
        from: usize,
        to: usize,
        part: u8,
        twice: bool,
    },
}

fn op(n: usize) -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..n, 0..FIELDS.len(), 0..3usize).prop_map(|(replica, field, value)| Op::Set {
            replica,
            field,
            value
        }),
        (0..n, 0..n, 0..3u8, any::<bool>()).prop_map(|(from, to, part, twice)| Op::Send {
            from,
            to,
            part,
            twice
        }),
    ]
}

fn case() -> impl Strategy<Value = (usize, Vec<Op>)> {
    (3..=5usize).prop_flat_map(|n| (Just(n), proptest::collection::vec(op(n), 5..30)))
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(6)
}

fn send(
    dir: &std::path::Path,
    stores: &mut [Store],
    from: usize,
    to: usize,
    part: u8,
    twice: bool,
    k: usize,
) {
    let file = dir.join(format!("send-{k}.tern"));
    stores[from].export_changes(&file).expect("export");
    let file = if part == 0 {
        file
    } else {
        let p = dir.join(format!("part-{k}.tern"));
        partial(&file, &p, |i| i % 2 == usize::from(part - 1));
        p
    };
    stores[to].import_changes(&file).expect("import");
    if twice {
        stores[to].import_changes(&file).expect("import again");
    }
}

/// Conflicts in a form that does not depend on order.
fn conflict_set(store: &mut Store, record: &str) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = store
        .show(record)
        .expect("show")
        .conflicts
        .into_iter()
        .map(|c| {
            let mut vals: Vec<String> = c
                .values
                .iter()
                .map(|v| format!("{}|{}|{}|{}", v.value, v.user, v.device, v.time))
                .collect();
            vals.sort();
            (c.field, vals)
        })
        .collect();
    out.sort();
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn replicas_converge((n, ops) in case()) {
        let dir = tempfile::tempdir().expect("tmp");
        let mut stores: Vec<Store> = (0..n)
            .map(|i| init(dir.path(), &format!("user{i}"), Role::Clinician).0)
            .collect();
        let subj = subject(&mut stores[0]);
        let record = stores[0].new_record("pda", &subj).expect("record");
        for to in 1..n {
            send(dir.path(), &mut stores, 0, to, 0, false, 1000 + to);
        }
        for (k, op) in ops.iter().enumerate() {
            match op {
                Op::Set { replica, field, value } => {
                    let (name, values) = FIELDS[*field];
                    let path = if name.contains("[*]") {
                        let len = stores[*replica].show(&record).expect("show").answers
                            .get("current_meds").and_then(|v| v.as_array()).map_or(0, Vec::len);
                        name.replace("[*]", &format!("[{}]", if *value == 0 { len } else { 0 }))
                    } else {
                        name.to_string()
                    };
                    stores[*replica]
                        .set_answer(&record, &path, values[*value % values.len()], None)
                        .expect("set");
                }
                Op::Send { from, to, part, twice } => {
                    send(dir.path(), &mut stores, *from, *to, *part, *twice, k)
                }
            }
        }
        // Final full exchange: everyone sends everything to everyone.
        for from in 0..n {
            for to in 0..n {
                if from != to {
                    send(dir.path(), &mut stores, from, to, 0, false, 5000 + from * 10 + to);
                }
            }
        }
        let answers0 = stores[0].show(&record).expect("show").answers;
        let conflicts0 = conflict_set(&mut stores[0], &record);
        for s in stores.iter_mut().skip(1) {
            prop_assert_eq!(&s.show(&record).expect("show").answers, &answers0);
            prop_assert_eq!(&conflict_set(s, &record), &conflicts0);
        }
    }
}
