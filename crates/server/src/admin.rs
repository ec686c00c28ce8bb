//! `tern admin`: blocking administration over either backend, for the CLI. Calls the
//! same [`crate::service`] functions as the HTTP endpoints.

use crate::db::DeviceRow;
use crate::postgres::PgDb;
use crate::service::{self, ApiError};
use crate::sqlite::SqliteDb;
use crate::{ServerError, Storage};

enum Backend {
    Sqlite(SqliteDb),
    Pg(PgDb),
}

/// An opened server store for administration.
pub struct Admin {
    rt: tokio::runtime::Runtime,
    db: Backend,
}

impl std::fmt::Debug for Admin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Admin")
    }
}

macro_rules! with_db {
    ($self:ident, $db:ident => $body:expr) => {
        match &$self.db {
            Backend::Sqlite($db) => $self.rt.block_on($body),
            Backend::Pg($db) => $self.rt.block_on($body),
        }
    };
}

impl Admin {
    pub fn open(storage: &Storage) -> Result<Admin, ServerError> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(ServerError::Runtime)?;
        let db = match storage {
            Storage::Dir(dir) => Backend::Sqlite(SqliteDb::open(dir)?),
            Storage::Keyed(dir, key) => Backend::Sqlite(SqliteDb::open_with(dir, Some(&key.0))?),
            Storage::Url(url) => Backend::Pg(rt.block_on(PgDb::connect(url))?),
        };
        Ok(Admin { rt, db })
    }

    pub fn add_site(&self, name: &str) -> Result<(), ApiError> {
        with_db!(self, db => service::add_site(db, name))
    }

    pub fn add_user(
        &self,
        name: &str,
        role: &str,
        password: &str,
        sites: &[String],
    ) -> Result<(), ApiError> {
        with_db!(self, db => service::add_user(db, name, role, password, sites))
    }

    /// Another role and/or more sites for an existing account.
    pub fn change_user(
        &self,
        name: &str,
        role: Option<&str>,
        add_sites: &[String],
    ) -> Result<(), ApiError> {
        with_db!(self, db => service::change_user(db, name, role, add_sites))
    }

    /// Every account with its role and sites (no password hashes).
    pub fn users(&self) -> Result<Vec<crate::db::AccountInfo>, ApiError> {
        with_db!(self, db => async { Ok(crate::db::Db::accounts(db).await?) })
    }

    /// A one-time enrolment code for a device of `site` (optionally for one account),
    /// valid for [`service::ENROLMENT_MS`].
    pub fn enrolment_code(&self, site: &str, account: Option<&str>) -> Result<String, ApiError> {
        self.enrolment_code_valid(site, account, service::ENROLMENT_MS)
    }

    /// [`Admin::enrolment_code`], valid for `valid_ms` milliseconds.
    pub fn enrolment_code_valid(
        &self,
        site: &str,
        account: Option<&str>,
        valid_ms: i64,
    ) -> Result<String, ApiError> {
        with_db!(self, db => service::enrolment_code(db, site, account, valid_ms))
    }

    pub fn revoke(&self, device: &str) -> Result<(), ApiError> {
        with_db!(self, db => service::revoke(db, device))
    }

    /// What the server holds and what still waits for verification.
    pub fn backlog(&self) -> Result<crate::db::Backlog, ApiError> {
        with_db!(self, db => async { Ok(crate::db::Db::backlog(db).await?) })
    }

    /// Documents with quarantined changes and why (no health values).
    pub fn quarantined(&self) -> Result<Vec<(String, String)>, ApiError> {
        with_db!(self, db => async { Ok(crate::db::Db::quarantined(db).await?) })
    }

    /// Documents with quarantined changes waiting for a decision: site, authors and
    /// why (names, never values).
    pub fn quarantine_list(&self) -> Result<Vec<crate::quarantine::QuarantineEntry>, ApiError> {
        with_db!(self, db => crate::quarantine::list(db, crate::quarantine::Reviewer::Cli))
    }

    /// Releases or rejects a document's quarantined changes (crate::quarantine),
    /// access-logged as `tern-admin`. A running server's verifier picks released
    /// changes up within a second.
    pub fn quarantine_decide(
        &self,
        doc: &str,
        choice: crate::quarantine::Choice,
        why: &str,
    ) -> Result<crate::quarantine::Decided, ApiError> {
        with_db!(self, db => crate::quarantine::decide(db, crate::quarantine::Reviewer::Cli, doc, choice, why))
    }

    pub fn devices(&self) -> Result<Vec<DeviceRow>, ApiError> {
        with_db!(self, db => async { Ok(crate::db::Db::devices(db).await?) })
    }

    /// Imports a bundle a device or hub wrote for this server (issue 16).
    pub fn bundle_import(
        &self,
        bytes: &[u8],
    ) -> Result<tern_sync::bundle::BundleSummary, ApiError> {
        let limits = tern_record::ChunkLimits::default();
        with_db!(self, db => crate::bundle::import(db, bytes, &limits))
    }

    /// A bundle for the device or hub `to` (its bytes, to write to a file).
    pub fn bundle_export(
        &self,
        to: &str,
    ) -> Result<(Vec<u8>, tern_sync::bundle::BundleSummary), ApiError> {
        let limits = tern_record::ChunkLimits::default();
        with_db!(self, db => crate::bundle::export(db, to, &limits))
    }

    /// Registers an export recipient's `age` public key (issue 18).
    pub fn add_recipient(&self, name: &str, key: &str) -> Result<(), ApiError> {
        with_db!(self, db => crate::export::service::add_recipient(db, name, key))
    }

    /// The export recipients.
    pub fn recipients(&self) -> Result<Vec<crate::export::store::Recipient>, ApiError> {
        use crate::export::store::ExportDb;
        with_db!(self, db => async { Ok(db.recipients().await?) })
    }

    /// Rebuilds the record facts projection from the verified documents.
    pub fn reproject(&self) -> Result<crate::reproject::Reprojected, ApiError> {
        let today = chrono::Utc::now().date_naive();
        with_db!(self, db => async { Ok(crate::reproject::reproject(db, today).await?) })
    }
}
