//! Embeds the supervisor dashboard (the UI build's `dashboard.html` and `assets/`,
//! `ui/dist`) in the server at compile time, so `tern serve` is one binary. When
//! the UI has not been built the server is built without it (crates that do not
//! serve it, tests, clippy) and `tern serve` says how to get it; CI builds the UI
//! first (`.ci/run`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("manifest dir"));
    let dist = manifest.join("../../ui/dist");
    println!("cargo:rerun-if-changed={}", dist.display());
    println!(
        "cargo:rerun-if-changed={}",
        dist.join("dashboard.html").display()
    );
    println!("cargo:rerun-if-changed={}", dist.join("assets").display());
    let mut files: Vec<(String, PathBuf)> = Vec::new();
    let page = dist.join("dashboard.html");
    if page.is_file() {
        files.push(("dashboard.html".into(), page));
        if let Ok(listing) = std::fs::read_dir(dist.join("assets")) {
            let mut assets: Vec<PathBuf> = listing
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file())
                .collect();
            assets.sort();
            for p in assets {
                if let Some(name) = p.file_name().and_then(|n| n.to_str()) {
                    files.push((format!("assets/{name}"), p.clone()));
                }
            }
        }
    }
    let mut out = String::from("/// The UI build embedded at compile time (empty: built without it).\npub static EMBEDDED: &[(&str, &[u8])] = &[\n");
    for (name, path) in &files {
        let _ = writeln!(
            out,
            "    ({name:?}, include_bytes!({:?})),",
            canonical(path)
        );
    }
    out.push_str("];\n");
    let dest = PathBuf::from(std::env::var("OUT_DIR").expect("out dir")).join("dashboard_files.rs");
    std::fs::write(dest, out).expect("write the embedded file list");
}

fn canonical(p: &Path) -> String {
    p.canonicalize()
        .unwrap_or_else(|_| p.to_path_buf())
        .display()
        .to_string()
}
