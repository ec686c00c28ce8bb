//! Bundles in the app: every user's app writes the device's changes to a bundle file
//! on a USB stick or in a folder, and reads a bundle its hub or server wrote for it
//! (tern-sync's `device_bundle`, the same code as `tern device bundle`).
//!
//! Who may use it: any unlocked user of an enrolled device (a bundle is sealed to
//! the peer and signed by the device; what it carries is what a sync would carry).
//! The window never names a file to read: it picks one of the places this module
//! lists (removable drives under `/media` and `/run/media`, `/mnt`, the user's
//! Documents folder; `TERN_BUNDLE_DIRS` replaces the list, colon-separated), and an
//! import reads only a `.ternbundle` file directly inside one of them.
//! An export or import runs over its own store connection, so form filling does not
//! wait; `bundle_view` shows its progress.

use crate::core::Core;
use crate::dto::{BundleActivity, BundleFile, BundlePlace, BundleView};
use crate::error::{ApiError, ApiResult, Code};
use std::path::{Path, PathBuf};
use tern_store::Store;
use tern_sync::bundle::{BundleProgress, BundleSummary};
use tern_sync::device_bundle::{self, DeviceBundleError};

/// The ending of bundle files the app writes and reads.
pub const EXTENSION: &str = "ternbundle";

impl From<DeviceBundleError> for ApiError {
    fn from(e: DeviceBundleError) -> ApiError {
        match e {
            DeviceBundleError::Store(e) => e.into(),
            DeviceBundleError::Io { .. } => ApiError::new(Code::Storage, e.to_string()),
            DeviceBundleError::NoPeer => ApiError::new(Code::NotEnrolled, e.to_string()),
            _ => ApiError::new(Code::InvalidInput, e.to_string()),
        }
    }
}

/// The folders offered for bundles, those that exist.
fn places() -> Vec<(PathBuf, bool)> {
    if let Some(list) = std::env::var_os("TERN_BUNDLE_DIRS").filter(|v| !v.is_empty()) {
        return std::env::split_paths(&list)
            .filter(|p| p.is_dir())
            .map(|p| (p, true))
            .collect();
    }
    let mut found = Vec::new();
    // Removable drives: /media/USER/LABEL, /run/media/USER/LABEL, /mnt/LABEL.
    for root in ["/media", "/run/media"] {
        for user in subfolders(Path::new(root)) {
            found.extend(subfolders(&user).into_iter().map(|p| (p, true)));
        }
    }
    found.extend(subfolders(Path::new("/mnt")).into_iter().map(|p| (p, true)));
    if let Some(home) = std::env::var_os("HOME").map(PathBuf::from) {
        let documents = home.join("Documents");
        found.push((if documents.is_dir() { documents } else { home }, false));
    }
    found
}

fn subfolders(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    out.sort();
    out
}

fn bundle_files(dir: &Path) -> Vec<BundleFile> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<BundleFile> = entries
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == EXTENSION))
        .filter_map(|e| {
            let meta = e.metadata().ok().filter(|m| m.is_file())?;
            let modified = meta
                .modified()
                .ok()
                .map(|t| chrono::DateTime::<chrono::Utc>::from(t).to_rfc3339());
            Some(BundleFile {
                path: e.path().to_string_lossy().into_owned(),
                name: e.file_name().to_string_lossy().into_owned(),
                bytes: meta.len(),
                modified,
            })
        })
        .collect();
    files.sort_by(|a, b| b.modified.cmp(&a.modified).then(a.name.cmp(&b.name)));
    files
}

/// The place `path` names, if it is one of those offered.
fn offered_place(path: &str) -> ApiResult<PathBuf> {
    places()
        .into_iter()
        .map(|(p, _)| p)
        .find(|p| p.as_os_str() == path)
        .ok_or_else(|| ApiError::invalid("Choose one of the folders the app offers."))
}

impl Core {
    /// Opens the unlocked user's own connection to the store for a bundle: `locked`
    /// when nobody is unlocked or the session was idle past the lock timeout.
    fn bundle_store(&self) -> ApiResult<Store> {
        self.lock_if_idle()?;
        let c = self.sync_credentials()?.ok_or_else(|| {
            if self.server_url().ok().flatten().is_none() {
                ApiError::new(Code::NotEnrolled, "This device is not enrolled.")
            } else {
                ApiError::locked()
            }
        })?;
        Ok(Store::open(&c.db, Some(&c.user), c.password())?)
    }

    /// Where bundles can go and come from, the device's peers, and the export or
    /// import in progress.
    pub fn bundle_view(&self) -> ApiResult<BundleView> {
        let mut store = self.bundle_store()?;
        let peers = store.bundle_peers()?.into_iter().map(|p| p.id).collect();
        let places = places()
            .into_iter()
            .map(|(path, removable)| BundlePlace {
                label: path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| path.to_string_lossy().into_owned()),
                files: bundle_files(&path),
                path: path.to_string_lossy().into_owned(),
                removable,
            })
            .collect();
        let activity = self.bundle_activity().clone();
        Ok(BundleView {
            places,
            peers,
            activity,
        })
    }

    fn run_bundle(
        &self,
        mut store: Store,
        kind: &str,
        work: impl FnOnce(&mut Store, &mut dyn FnMut(&BundleProgress)) -> ApiResult<BundleSummary>,
    ) -> ApiResult<BundleSummary> {
        {
            let mut activity = self.bundle_activity();
            if activity.as_ref().is_some_and(|a| a.running) {
                return Err(ApiError::new(
                    Code::Conflict,
                    "A bundle is being written or read: wait for it to finish.",
                ));
            }
            *activity = Some(BundleActivity {
                kind: kind.into(),
                running: true,
                pages_done: 0,
                pages_total: 0,
                summary: None,
                error: None,
            });
        }
        let result = work(&mut store, &mut |p| {
            if let Some(a) = self.bundle_activity().as_mut() {
                a.pages_done = p.pages_done;
                a.pages_total = p.pages_total;
            }
        });
        if let Some(a) = self.bundle_activity().as_mut() {
            a.running = false;
            match &result {
                Ok(summary) => a.summary = Some(summary.clone()),
                Err(e) => a.error = Some(e.clone()),
            }
        }
        result
    }

    /// Writes a bundle of this device's changes for `to` (default: its only peer)
    /// into the offered folder `place`.
    pub fn bundle_export(&self, place: &str, to: Option<&str>) -> ApiResult<BundleSummary> {
        // A locked app is refused before anything else is looked at.
        let store = self.bundle_store()?;
        let dir = offered_place(place)?;
        self.run_bundle(store, "export", |store, progress| {
            let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
            let out = dir.join(format!("tern-{}-{stamp}.{EXTENSION}", store.device()));
            Ok(device_bundle::export(store, to, &out, progress)?)
        })
    }

    /// Reads a bundle the device's hub or server wrote for it: `file` must be a
    /// `.ternbundle` file directly inside an offered folder.
    pub fn bundle_import(&self, file: &str) -> ApiResult<BundleSummary> {
        let store = self.bundle_store()?;
        let path = PathBuf::from(file);
        let inside_offered = path.extension().is_some_and(|x| x == EXTENSION)
            && path
                .parent()
                .is_some_and(|dir| places().iter().any(|(p, _)| p == dir));
        if !inside_offered {
            return Err(ApiError::invalid(
                "Choose a bundle file (.ternbundle) from one of the folders the app offers.",
            ));
        }
        self.run_bundle(store, "import", |store, progress| {
            Ok(device_bundle::import(store, &path, progress)?)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_bundle_files_directly_in_a_folder_are_listed() {
        let dir = tempfile::tempdir().expect("tmp");
        std::fs::write(dir.path().join("a.ternbundle"), b"x").expect("write");
        std::fs::write(dir.path().join("notes.txt"), b"x").expect("write");
        std::fs::create_dir(dir.path().join("inner.ternbundle")).expect("dir");
        let files = bundle_files(dir.path());
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].name, "a.ternbundle");
        assert_eq!(files[0].bytes, 1);
    }
}
