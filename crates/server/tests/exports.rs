//! Exports for health authorities (issue 18) of records synced from a device, on both
//! databases: CSV checked cell by cell, FHIR resource by resource and by an
//! independent validator (PyPI fhir.resources), consent and legal-basis filtering,
//! per-recipient pseudonyms, restricted sections and identity only under a
//! supervisor's approval (and who may give it), encryption to a recipient opened
//! with the `age` library, formula guarding, merged subjects as one person, and the
//! access log.

use crate::common::*;
use serde_json::Value as J;
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use tern_server::export::service::{ExportReport, ExportRequest, Exporter};
use tern_server::service::Caller;

/// The current version of pda, which new records take (the CSV file names carry it);
/// checked against schemas/forms/pda.json by the first assertion of the scenario.
const V: &str = "1.2.0";

/// A CSV file as rows of cells (RFC 4180 quoting), without its byte-order mark.
pub fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let text = text.strip_prefix('\u{feff}').expect("a byte-order mark");
    let (mut rows, mut row, mut cell) = (Vec::new(), Vec::new(), String::new());
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut cell)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => cell.push(c),
        }
    }
    rows
}

/// A CSV table with named columns.
struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn new(text: &str) -> Table {
        let mut all = parse_csv(text);
        let header = all.remove(0);
        Table { header, rows: all }
    }
    fn col(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }
    fn cell(&self, row: usize, name: &str) -> &str {
        let i = self.col(name).unwrap_or_else(|| panic!("no column {name}"));
        &self.rows[row][i]
    }
    /// The row whose `name` is `value`.
    fn find(&self, name: &str, value: &str) -> usize {
        let i = self.col(name).unwrap_or_else(|| panic!("no column {name}"));
        self.rows
            .iter()
            .position(|r| r[i] == value)
            .unwrap_or_else(|| panic!("no row with {name}={value}"))
    }
}

fn unzip(bytes: &[u8]) -> HashMap<String, String> {
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a zip archive");
    let mut out = HashMap::new();
    for i in 0..z.len() {
        let mut f = z.by_index(i).expect("entry");
        let mut text = String::new();
        f.read_to_string(&mut text).expect("UTF-8 entry");
        out.insert(f.name().expect("entry name").to_string(), text);
    }
    out
}

fn decrypt(bytes: &[u8], identity: &age::x25519::Identity) -> Vec<u8> {
    let mut out = Vec::new();
    age::Decryptor::new(bytes)
        .expect("an age file")
        .decrypt(std::iter::once(identity as &dyn age::Identity))
        .expect("opens with the recipient's key")
        .read_to_end(&mut out)
        .expect("read");
    out
}

/// Checks a FHIR file with the independent library (scripts/validate_fhir.py).
pub fn validate_fhir(path: &Path) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/validate_fhir.py");
    let out = std::process::Command::new("python3")
        .arg(&script)
        .arg(path)
        .output()
        .expect("python3 runs (scripts/install-deps.sh installs fhir.resources)");
    assert!(
        out.status.success(),
        "fhir.resources refused {}: {}{}",
        path.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn request(format: &str, purpose: &str) -> ExportRequest {
    ExportRequest {
        form: "pda".into(),
        format: format.into(),
        purpose: purpose.into(),
        ..ExportRequest::default()
    }
}

struct Ctx {
    exporter: Exporter,
    dana: Caller,
    dir: PathBuf,
}

impl Ctx {
    fn export(&self, req: &ExportRequest, name: &str) -> (ExportReport, Vec<u8>) {
        let out = self.dir.join(name);
        let report = self
            .exporter
            .export(&self.dana, req, &out, &mut |_, _| {})
            .unwrap_or_else(|e| panic!("export {name}: {e}"));
        (report, std::fs::read(&out).expect("the export file"))
    }
}

fn resources(bundle: &J) -> Vec<J> {
    bundle["entry"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| e["resource"].clone())
        .collect()
}

fn of_type(rs: &[J], t: &str) -> Vec<J> {
    rs.iter()
        .filter(|r| r["resourceType"] == t)
        .cloned()
        .collect()
}

fn exports_of_synced_records(backend: Backend) {
    let name = backend.name;
    let current: J =
        serde_json::from_str(include_str!("../../../schemas/forms/pda.json")).expect("pda");
    assert_eq!(current["version"], V, "V names pda's current version");
    let server = TestServer::start(&backend.storage);
    let admin = accounts(&backend.storage);
    admin
        .add_user(
            "sam",
            "supervisor",
            ACCOUNT_PASSWORD,
            &["site-b".to_string()],
        )
        .expect("supervisor of site-b");
    let url = server.url();
    let tmp = tempfile::tempdir().expect("tmp");
    let dev = device(tmp.path(), &admin, &url, "amina", "site-a");
    let (first_subject, r1, r4, r5) = {
        let mut s = open(&dev);
        let subject = |s: &mut tern_store::Store, sex: &str, dob: &str| {
            s.add_subject(&[
                ("sex".into(), sex.into()),
                ("date_of_birth".into(), dob.into()),
                ("dob_precision".into(), "exact".into()),
                ("nationality".into(), "AF".into()),
                ("family_name".into(), "Haidari".into()),
                ("given_name".into(), "Zahra".into()),
            ])
            .expect("subject")
        };
        let a = subject(&mut s, "female", "1990-05-01");
        let b = subject(&mut s, "male", "1985-02-02");
        let c = subject(&mut s, "female", "1990-05-01");
        let set = |s: &mut tern_store::Store, r: &str, answers: &[(&str, &str)]| {
            for (f, v) in answers {
                s.set_answer(r, f, v, None)
                    .unwrap_or_else(|e| panic!("{f}: {e}"));
            }
        };
        let r1 = s.new_record("pda", &a).expect("record");
        set(
            &mut s,
            &r1,
            &[
                ("consent_screening", "granted"),
                ("consent_research", "granted"),
                ("temp_c", "37.2"),
                ("heart_rate", "88"),
                ("tb_cough", "true"),
                ("tb_diagnosis", "pulmonary_tb"),
                ("drug_allergy", "true"),
                (
                    "allergy_details",
                    "=HYPERLINK(\"http://evil.example\",\"x\")",
                ),
                ("hiv_offered", "true"),
            ],
        );
        s.add_repeat(&r1, "vacc", None).expect("vacc");
        set(
            &mut s,
            &r1,
            &[
                ("vacc[0].vaccine_cvx", "03"),
                ("vacc[0].date_given", "2020-01-15"),
                ("vacc[0].source", "card"),
            ],
        );
        s.add_repeat(&r1, "current_meds", None).expect("meds");
        set(&mut s, &r1, &[("current_meds[0].med_name", "باراسيتامول")]);
        let r2 = s.new_record("pda", &a).expect("record");
        set(
            &mut s,
            &r2,
            &[
                ("consent_screening", "granted"),
                ("consent_research", "refused"),
            ],
        );
        let r3 = s.new_record("pda", &a).expect("record");
        set(
            &mut s,
            &r3,
            &[
                ("consent_screening", "granted"),
                ("consent_research", "withdrawn"),
            ],
        );
        let r4 = s.new_record("pda", &b).expect("record");
        set(
            &mut s,
            &r4,
            &[
                ("consent_screening", "granted"),
                ("legal_basis_research", "public_health"),
                ("temp_c", "36.5"),
            ],
        );
        // A record of a subject later found to be the first one.
        let r5 = s.new_record("pda", &c).expect("record");
        set(
            &mut s,
            &r5,
            &[("consent_research", "granted"), ("temp_c", "38.4")],
        );
        s.merge_subjects(&a, &c).expect("merge");
        (a, r1, r4, r5)
    };
    sync(&dev);

    let exporter = Exporter::open(&backend.storage).expect("exporter");
    let dana = exporter.sign_in("dana", ACCOUNT_PASSWORD).expect("dana");
    let ctx = Ctx {
        exporter,
        dana,
        dir: tmp.path().to_path_buf(),
    };
    // The verifier projects after the acknowledgement: wait (bounded) for all five.
    let mut seen = 0;
    for _ in 0..150 {
        let (rep, _) = ctx.export(&request("csv", "screening"), "wait.zip");
        seen = rep.outcome.records + rep.outcome.left_out_total();
        if seen == 5 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(seen, 5, "{name}: five records projected");

    // ---- CSV for research: consent or a legal basis covers it.
    let (rep, bytes) = ctx.export(&request("csv", "research"), "research.zip");
    assert_eq!(rep.outcome.records, 3, "{name}: r1, r4 (legal basis), r5");
    assert_eq!(
        rep.outcome.left_out.len(),
        2,
        "{name}: {:?}",
        rep.outcome.left_out
    );
    assert_eq!(rep.outcome.left_out_total(), 2);
    assert_eq!(
        rep.outcome.subjects, 2,
        "{name}: merged subjects are one person"
    );
    assert!(!rep.encrypted);
    let files = unzip(&bytes);
    for f in [
        format!("pda_{V}.csv"),
        format!("pda_{V}.vacc.csv"),
        format!("pda_{V}.current_meds.csv"),
        "dictionary.csv".into(),
        "export.json".into(),
    ] {
        assert!(files.contains_key(&f), "{name}: {f} in {:?}", files.keys());
    }
    let main = Table::new(&files[&format!("pda_{V}.csv")]);
    assert_eq!(main.rows.len(), 3);
    for absent in [
        "hiv_offered",
        "family_name",
        "given_name",
        "encounter_id",
        "subject_id",
        "name",
    ] {
        assert!(
            main.col(absent).is_none(),
            "{name}: no {absent} column without approval"
        );
    }
    let a = main.find("temp_c", "37.2");
    assert_eq!(main.cell(a, "heart_rate"), "88");
    assert_eq!(main.cell(a, "tb_cough"), "true");
    assert_eq!(main.cell(a, "tb_diagnosis"), "pulmonary_tb");
    assert_eq!(main.cell(a, "consent_research"), "granted");
    assert_eq!(main.cell(a, "sex"), "female");
    assert_eq!(main.cell(a, "site"), "site-a");
    assert_eq!(main.cell(a, "form_version"), V);
    assert_eq!(
        main.cell(a, "allergy_details"),
        "'=HYPERLINK(\"http://evil.example\",\"x\")",
        "{name}: a formula is guarded"
    );
    let key = main.cell(a, "record_key").to_string();
    assert!(
        key.starts_with('E') && key != r1,
        "{name}: a pseudonymous record key"
    );
    let b = main.find("temp_c", "36.5");
    assert_eq!(main.cell(b, "legal_basis_research"), "public_health");
    assert_eq!(main.cell(b, "sex"), "male");
    let merged = main.find("temp_c", "38.4");
    assert_eq!(
        main.cell(merged, "subject_key"),
        main.cell(a, "subject_key"),
        "{name}: the merged subject exports as one person"
    );
    assert_ne!(main.cell(b, "subject_key"), main.cell(a, "subject_key"));
    let vacc = Table::new(&files[&format!("pda_{V}.vacc.csv")]);
    assert_eq!(vacc.rows.len(), 1);
    assert_eq!(vacc.cell(0, "record_key"), key);
    assert_eq!(vacc.cell(0, "index"), "0");
    assert_eq!(vacc.cell(0, "vaccine_cvx"), "03");
    assert_eq!(vacc.cell(0, "date_given"), "2020-01-15");
    let meds = Table::new(&files[&format!("pda_{V}.current_meds.csv")]);
    assert_eq!(meds.cell(0, "med_name"), "باراسيتامول");
    let dict = Table::new(&files["dictionary.csv"]);
    let t = dict.find("field_id", "temp_c");
    assert_eq!(dict.cell(t, "unit"), "Cel");
    assert!(
        dict.cell(t, "codes").contains("http://loinc.org|8310-5"),
        "{}",
        dict.cell(t, "codes")
    );
    assert_eq!(dict.cell(t, "label"), "Body temperature");
    let cvx = dict.find("field_id", "vaccine_cvx");
    assert_eq!(dict.cell(cvx, "file"), format!("pda_{V}.vacc.csv"));
    assert!(
        dict.cell(cvx, "choices").contains("03=MMR"),
        "{}",
        dict.cell(cvx, "choices")
    );
    let manifest: J = serde_json::from_str(&files["export.json"]).expect("manifest");
    assert_eq!(manifest["purpose"], "research");
    assert_eq!(
        manifest["left_out"]["consent_refused"], "<5",
        "small counts suppressed"
    );
    assert_eq!(manifest["left_out"]["consent_withdrawn"], "<5");
    for id in [
        r1.as_str(),
        r4.as_str(),
        r5.as_str(),
        first_subject.as_str(),
        "Haidari",
    ] {
        assert!(
            !files.values().any(|t| t.contains(id)),
            "{name}: {id} does not leave the server"
        );
    }

    // ---- Recipients: pseudonyms keyed per recipient and purpose, files encrypted.
    let rki = age::x25519::Identity::generate();
    let ukhsa = age::x25519::Identity::generate();
    admin
        .add_recipient("rki", &rki.to_public().to_string())
        .expect("recipient");
    admin
        .add_recipient("ukhsa", &ukhsa.to_public().to_string())
        .expect("recipient");
    assert!(admin.add_recipient("bad", "age1notakey").is_err());
    let to = |recipient: &str, format: &str, purpose: &str| ExportRequest {
        recipient: Some(recipient.into()),
        ..request(format, purpose)
    };
    let (rep, enc) = ctx.export(&to("rki", "fhir", "research"), "rki.json.age");
    assert!(rep.encrypted);
    assert!(
        !enc.windows(6).any(|w| w == b"Bundle"),
        "{name}: no plain text"
    );
    let bundle: J = serde_json::from_slice(&decrypt(&enc, &rki)).expect("a JSON bundle");
    let plain = tmp.path().join("rki.json");
    std::fs::write(&plain, serde_json::to_vec(&bundle).expect("json")).expect("write");
    validate_fhir(&plain);
    let (_, enc_again) = ctx.export(&to("rki", "fhir", "research"), "rki2.json.age");
    let again: J = serde_json::from_slice(&decrypt(&enc_again, &rki)).expect("bundle");
    let (_, enc_other) = ctx.export(&to("ukhsa", "fhir", "research"), "ukhsa.json.age");
    let other: J = serde_json::from_slice(&decrypt(&enc_other, &ukhsa)).expect("bundle");
    let pseudonyms = |b: &J| -> Vec<String> {
        let mut v: Vec<String> = of_type(&resources(b), "Patient")
            .iter()
            .map(|p| {
                p["identifier"][0]["value"]
                    .as_str()
                    .unwrap_or("")
                    .to_string()
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        pseudonyms(&bundle).len(),
        2,
        "{name}: two people (one merged)"
    );
    assert_eq!(
        pseudonyms(&bundle),
        pseudonyms(&again),
        "{name}: stable for one recipient"
    );
    assert!(
        pseudonyms(&bundle)
            .iter()
            .all(|p| !pseudonyms(&other).contains(p)),
        "{name}: two recipients cannot join their files"
    );
    let (_, enc_share) = ctx.export(&to("rki", "fhir", "screening"), "rki-screening.json.age");
    let share: J = serde_json::from_slice(&decrypt(&enc_share, &rki)).expect("bundle");
    assert!(
        pseudonyms(&bundle)
            .iter()
            .all(|p| !pseudonyms(&share).contains(p)),
        "{name}: nor one recipient's files for two purposes"
    );
    assert!(
        age::Decryptor::new(&enc[..])
            .expect("an age file")
            .decrypt(std::iter::once(&ukhsa as &dyn age::Identity))
            .is_err(),
        "another recipient's key does not open it"
    );

    // ---- FHIR resource by resource.
    assert_eq!(bundle["resourceType"], "Bundle");
    assert_eq!(bundle["type"], "collection");
    let rs = resources(&bundle);
    let q = of_type(&rs, "Questionnaire");
    assert_eq!(q.len(), 1);
    assert_eq!(q[0]["url"], "urn:tern:form:pda");
    assert_eq!(q[0]["version"], V);
    let patients = of_type(&rs, "Patient");
    let woman = patients
        .iter()
        .find(|p| p["gender"] == "female")
        .expect("patient");
    assert_eq!(woman["birthDate"], "1990", "{name}: the year of birth only");
    assert!(woman.get("name").is_none());
    let encounters = of_type(&rs, "Encounter");
    assert_eq!(encounters.len(), 3);
    let qrs = of_type(&rs, "QuestionnaireResponse");
    assert_eq!(qrs.len(), 3);
    assert!(qrs
        .iter()
        .all(|r| r["questionnaire"] == format!("urn:tern:form:pda|{V}").as_str()));
    let obs = of_type(&rs, "Observation");
    let temp = obs
        .iter()
        .find(|o| o["code"]["coding"][0]["code"] == "8310-5" && o["valueQuantity"]["value"] == 37.2)
        .expect("a temperature observation");
    assert_eq!(temp["code"]["coding"][0]["system"], "http://loinc.org");
    assert_eq!(temp["valueQuantity"]["system"], "http://unitsofmeasure.org");
    assert_eq!(temp["valueQuantity"]["code"], "Cel");
    assert_eq!(temp["category"][0]["coding"][0]["code"], "vital-signs");
    assert_eq!(
        temp["subject"]["reference"],
        format!("urn:uuid:{}", woman["id"].as_str().unwrap_or(""))
    );
    assert!(obs
        .iter()
        .any(|o| o["code"]["coding"][0]["code"] == "8867-4" && o["valueQuantity"]["value"] == 88));
    let imm = of_type(&rs, "Immunization");
    assert_eq!(imm.len(), 1);
    assert_eq!(
        imm[0]["vaccineCode"]["coding"][0]["system"],
        "http://hl7.org/fhir/sid/cvx"
    );
    assert_eq!(imm[0]["vaccineCode"]["coding"][0]["code"], "03");
    assert_eq!(imm[0]["occurrenceDateTime"], "2020-01-15");
    assert_eq!(imm[0]["primarySource"], false);
    let cond = of_type(&rs, "Condition");
    assert_eq!(cond.len(), 1);
    assert_eq!(cond[0]["code"]["coding"][0]["code"], "pulmonary_tb");
    let text = serde_json::to_string(&bundle).expect("json");
    assert!(
        !text.contains("hiv_offered"),
        "{name}: no restricted answer without approval"
    );
    assert!(
        !text.contains(&first_subject) && !text.contains(&r1),
        "{name}: no ids"
    );

    // ---- NDJSON, validated line by line.
    let (_, nd) = ctx.export(&request("fhir-ndjson", "research"), "research.ndjson");
    let lines: Vec<J> = std::str::from_utf8(&nd)
        .expect("utf8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("one resource a line"))
        .collect();
    assert_eq!(
        lines.len(),
        rs.len(),
        "{name}: the same resources as the bundle"
    );
    assert!(of_type(&lines, "Observation")[0]["subject"]["reference"]
        .as_str()
        .is_some_and(|r| r.starts_with("Patient/")));
    validate_fhir(&tmp.path().join("research.ndjson"));

    // ---- Identified data and restricted sections: only with a supervisor's approval.
    let dana_web = login(&url, "dana");
    let mut ask = request("csv", "research");
    ask.identified = true;
    let refused = ctx
        .exporter
        .export(&ctx.dana, &ask, &tmp.path().join("x.zip"), &mut |_, _| {});
    assert!(refused.is_err(), "{name}: identified needs an approval");
    let (status, a) = post(
        &url,
        "/v1/exports/approvals",
        &dana_web,
        serde_json::json!({"purpose": "research", "form": "pda", "sites": ["site-a"], "identified": true, "restricted": true}),
    );
    assert_eq!(status, 200, "{name}: {a}");
    let id = a["id"].as_str().expect("id").to_string();
    ask.approval = Some(id.clone());
    let early = ctx
        .exporter
        .export(&ctx.dana, &ask, &tmp.path().join("x.zip"), &mut |_, _| {});
    assert!(early.is_err(), "{name}: not approved yet");
    for who in ["bilal", "amina", "sam", "dana", "root"] {
        let t = login(&url, who);
        let (status, body) = post(
            &url,
            &format!("/v1/exports/approvals/{id}/approve"),
            &t,
            J::Null,
        );
        assert_eq!(status, 403, "{name}: {who} may not approve: {body}");
    }
    let chen = login(&url, "chen");
    let (status, listed) = get(&url, "/v1/exports/approvals", &chen);
    assert_eq!(status, 200);
    assert!(listed
        .as_array()
        .is_some_and(|l| l.iter().any(|x| x["id"] == id.as_str())));
    let (status, body) = post(
        &url,
        &format!("/v1/exports/approvals/{id}/approve"),
        &chen,
        J::Null,
    );
    assert_eq!(
        status, 200,
        "{name}: the supervisor of site-a approves: {body}"
    );
    assert_eq!(body["approved_by"], "chen");
    let (rep, bytes) = ctx.export(&ask, "identified.zip");
    assert!(rep.identified && rep.restricted_sections);
    let files = unzip(&bytes);
    let main = Table::new(&files[&format!("pda_{V}.csv")]);
    let a = main.find("temp_c", "37.2");
    assert_eq!(main.cell(a, "subject_id"), first_subject);
    assert!(
        main.cell(a, "name").contains("Haidari"),
        "{}",
        main.cell(a, "name")
    );
    assert_eq!(main.cell(a, "date_of_birth"), "1990-05-01");
    assert_eq!(
        main.cell(a, "hiv_offered"),
        "true",
        "{name}: approved restricted section"
    );
    let merged = main.find("temp_c", "38.4");
    assert_eq!(
        main.cell(merged, "subject_id"),
        first_subject,
        "{name}: merged into the first"
    );
    // The approval is for research at site-a only.
    let mut wrong = ask.clone();
    wrong.purpose = "share_destination".into();
    assert!(ctx
        .exporter
        .export(&ctx.dana, &wrong, &tmp.path().join("x.zip"), &mut |_, _| {})
        .is_err());
    let mut wider = ask.clone();
    wider.sites = vec!["site-b".into()];
    assert!(ctx
        .exporter
        .export(&ctx.dana, &wider, &tmp.path().join("x.zip"), &mut |_, _| {})
        .is_err());
    assert!(
        !tmp.path().join("x.zip").exists(),
        "a refused export leaves no file"
    );

    // ---- Only a data manager exports.
    let chen_caller = ctx
        .exporter
        .sign_in("chen", ACCOUNT_PASSWORD)
        .expect("chen");
    assert!(ctx
        .exporter
        .export(
            &chen_caller,
            &request("csv", "research"),
            &tmp.path().join("y.zip"),
            &mut |_, _| {}
        )
        .is_err());
    let (status, _) = post(
        &url,
        "/v1/exports",
        &chen,
        serde_json::to_value(request("csv", "research")).expect("json"),
    );
    assert_eq!(status, 403, "{name}: a supervisor does not export");

    // ---- The dashboard's download: the same export over HTTP.
    let resp = reqwest::blocking::Client::new()
        .post(format!("{url}/v1/exports"))
        .bearer_auth(&dana_web)
        .body(serde_json::to_string(&request("csv", "research")).expect("json"))
        .send()
        .expect("post");
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(
        resp.headers()
            .get("x-tern-export-records")
            .and_then(|v| v.to_str().ok()),
        Some("5")
    );
    let files = unzip(&resp.bytes().expect("body"));
    assert_eq!(Table::new(&files[&format!("pda_{V}.csv")]).rows.len(), 3);

    // ---- The access log: who, purpose, filter, record count.
    let (_, log) = get(&url, "/v1/audit", &dana_web);
    let exports: Vec<&J> = log
        .as_array()
        .expect("log")
        .iter()
        .filter(|e| e["action"] == "export")
        .collect();
    assert!(
        exports.iter().any(|e| e["actor"] == "dana"
            && e["object"]
                .as_str()
                .is_some_and(|o| o.contains("purpose=research")
                    && o.contains("recipient=rki")
                    && o.contains("records=3")
                    && o.contains("left_out=2"))),
        "{name}: {exports:?}"
    );
    assert!(exports.iter().any(|e| e["object"]
        .as_str()
        .is_some_and(|o| o.contains("identified=true") && o.contains(&format!("approval={id}")))));
}

#[test]
fn exports_on_sqlite() {
    exports_of_synced_records(sqlite());
}

#[test]
fn exports_on_postgres() {
    exports_of_synced_records(postgres());
}
