//! Bundles at the hub (issue 16; `docs/bundles.md`). Toward its team's devices the hub
//! is a server: `tern_server::bundle` on the hub's database, with the hub's keys (made
//! at set-up, its id the hub's device id upstream). Toward its upstream the hub is a
//! device: a bundle up carries the pages [`Hub::sync`] would push (what the hub's
//! verifier accepted, origin not `upstream`, from what upstream acknowledged), and a
//! bundle from upstream is stored as a sync's pull pages are (origin `upstream`, the
//! same cheap checks, then the hub's verifier), and moves the acknowledged marker.

use crate::{Hub, HubError};
use std::path::Path;
use tern_server::db::{Db, Scope};
use tern_server::service::{self, ApiResult};
use tern_sync::bundle::{
    self, BundleBody, BundleError, BundleHeader, BundlePage, BundleSummary, Direction, Identity,
    Novelty, PeerKeys, PublicIdentity,
};
use tern_sync::protocol::{self, SyncRequest, SyncResponse};

const UPSTREAM_KEYS: &str = "hub.upstream_keys";
const BUNDLES_IN: &str = "hub.bundles_in";
const OUT_SEQ: &str = "hub.bundle_out_seq";

/// At set-up: the hub's keys and the upstream's (from its enrolment answer).
pub(crate) async fn keep_upstream<D: Db>(
    db: &D,
    me: &Identity,
    upstream: Option<&PeerKeys>,
) -> ApiResult<()> {
    tern_server::bundle::keep_identity(db, me).await?;
    if let Some(keys) = upstream {
        PublicIdentity::parse(keys)?;
        let json =
            serde_json::to_string(keys).map_err(|e| service::ApiError::bad(e.to_string()))?;
        db.set_setting(UPSTREAM_KEYS, &json).await?;
    }
    Ok(())
}

fn bad_state(e: impl std::fmt::Display) -> HubError {
    HubError::State(e.to_string())
}

impl Hub {
    fn upstream_keys(&self) -> Result<Option<PublicIdentity>, HubError> {
        match self.setting(UPSTREAM_KEYS)? {
            None => Ok(None),
            Some(json) => {
                let keys: PeerKeys = serde_json::from_str(&json).map_err(bad_state)?;
                Ok(Some(PublicIdentity::parse(&keys).map_err(bad_state)?))
            }
        }
    }

    fn identity(&self) -> Result<Identity, HubError> {
        Ok(self.rt.block_on(tern_server::bundle::ensure_identity(
            &self.db,
            Some(&self.info.device_id),
        ))?)
    }

    /// A hub set up before bundles existed sends its keys upstream at its next sync
    /// (with its token) and keeps the upstream's.
    pub(crate) fn exchange_bundle_keys(&self, token: &str) -> Result<(), HubError> {
        if self.upstream_keys()?.is_some() {
            return Ok(());
        }
        let me = self.identity()?;
        let answer: Result<PeerKeys, tern_sync::SyncError> = tern_sync::post_json(
            &format!("{}/v1/device/keys", self.info.upstream),
            Some(token),
            &me.public().keys(),
            None,
        );
        let keys = match answer {
            Ok(keys) => keys,
            // An upstream without bundles.
            Err(tern_sync::SyncError::Http { status: 404 }) => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        PublicIdentity::parse(&keys).map_err(bad_state)?;
        let json = serde_json::to_string(&keys).map_err(bad_state)?;
        self.set(UPSTREAM_KEYS, &json)
    }

    /// Writes a bundle for `to`: `upstream`, or the id of a device of the team.
    pub fn bundle_export(&self, to: &str, out: &Path) -> Result<BundleSummary, HubError> {
        let (bytes, summary) = if to == "upstream" {
            self.bundle_up()?
        } else {
            self.rt.block_on(tern_server::bundle::export(
                &self.db,
                to,
                &tern_record::ChunkLimits::default(),
            ))?
        };
        tern_sync::device_bundle::write_file(out, &bytes)?;
        Ok(summary)
    }

    /// Imports a bundle from the upstream server or from a device of the team.
    pub fn bundle_import(&self, path: &Path) -> Result<BundleSummary, HubError> {
        let bytes = std::fs::read(path)?;
        let header = bundle::read(&bytes)
            .map_err(service::ApiError::from)?
            .header;
        let upstream = self.upstream_keys()?;
        match upstream {
            Some(up) if up.id() == header.sender => self.bundle_down(&bytes, &up),
            _ => Ok(self.rt.block_on(tern_server::bundle::import(
                &self.db,
                &bytes,
                &tern_record::ChunkLimits::default(),
            ))?),
        }
    }

    /// The team's work for upstream, as [`Hub::sync`] would push it.
    fn bundle_up(&self) -> Result<(Vec<u8>, BundleSummary), HubError> {
        let _one = self
            .sync_lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let me = self.identity()?;
        let up = self.upstream_keys()?.ok_or_else(|| {
            HubError::State(
                "the upstream's bundle keys are not known yet: sync the hub online once".into(),
            )
        })?;
        let limits = tern_record::ChunkLimits::default();
        self.rt
            .block_on(tern_server::bundle::verify_now(&self.db, &limits))?;
        let scope = Scope {
            sites: self.sites()?,
            restricted: true,
            exclude_origin: "upstream".into(),
        };
        let cursor = self.number("hub.cursor")?.max(0) as u64;
        let accounts_version = self.number("hub.accounts_version")? as u64;
        let mut after = self.number("hub.pushed")?;
        let mut pages = Vec::new();
        let (mut chunks, mut documents) = (0u64, 0u64);
        while pages.len() < crate::MAX_ROUND_TRIPS as usize {
            let page = self
                .rt
                .block_on(self.db.pull(&scope, after, crate::PUSH_PAGE_BYTES))?;
            if page.items.is_empty() || page.cursor <= after {
                break;
            }
            let push = crate::group(&page.items);
            chunks += push.iter().map(|d| d.changes.len() as u64).sum::<u64>();
            documents += push.len() as u64;
            let request = SyncRequest {
                cursor,
                push,
                max_pull_bytes: 0,
                accounts_version,
            };
            pages.push(BundlePage {
                upto: page.cursor,
                frame: protocol::encode(&request)
                    .map_err(|e| service::ApiError::from(BundleError::from(e)))?
                    .into(),
            });
            after = page.cursor;
            if !page.more {
                break;
            }
        }
        let seq = self.number(OUT_SEQ)? as u64 + 1;
        self.set(OUT_SEQ, &seq.to_string())?;
        let page_count = pages.len() as u64;
        let body = BundleBody {
            header: BundleHeader {
                sender: me.id().to_string(),
                recipient: up.id().to_string(),
                seq,
                direction: Direction::Up,
            },
            acked: cursor as i64,
            pages,
        };
        let bytes = bundle::seal(&body, &me, &up).map_err(service::ApiError::from)?;
        let summary = BundleSummary {
            pages: page_count,
            ..BundleSummary::of(&body.header, bytes.len())
        }
        .with_counts(chunks, documents);
        Ok((bytes, summary))
    }

    /// A bundle the upstream wrote for the hub: its pull pages stored as a sync's are.
    fn bundle_down(&self, bytes: &[u8], up: &PublicIdentity) -> Result<BundleSummary, HubError> {
        let _one = self
            .sync_lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let api = service::ApiError::from;
        let envelope = bundle::read(bytes).map_err(api)?;
        let me = self.identity()?;
        let header = envelope.header.clone();
        let body = envelope.open(&me, up).map_err(api)?;
        if header.direction != Direction::Down {
            return Err(service::ApiError::bad(
                "this bundle goes up; a hub imports from its upstream only bundles written for it",
            )
            .into());
        }
        let mut seen: std::collections::BTreeMap<u64, String> = match self.setting(BUNDLES_IN)? {
            Some(json) => serde_json::from_str(&json).map_err(bad_state)?,
            None => Default::default(),
        };
        let last = seen.keys().next_back().copied().unwrap_or(0);
        let digest = seen.get(&header.seq).and_then(|d| hex::decode(d).ok());
        let mut summary = BundleSummary {
            pages: body.pages.len() as u64,
            ..BundleSummary::of(&header, bytes.len())
        };
        if bundle::novelty(&header, &envelope.digest, digest.as_deref(), last).map_err(api)?
            == Novelty::Again
        {
            summary.already_imported = true;
            return Ok(summary);
        }
        let limits = tern_record::ChunkLimits::default();
        // Every page decoded and checked before any is stored.
        let mut pages = Vec::with_capacity(body.pages.len());
        for page in &body.pages {
            let answer: SyncResponse = protocol::decode(&page.frame)
                .map_err(|e| service::ApiError::from(BundleError::from(e)))?;
            summary.chunks += answer
                .docs
                .iter()
                .map(|d| d.changes.len() as u64)
                .sum::<u64>();
            summary.documents += answer.docs.len() as u64;
            let cursor = answer.cursor as i64;
            let accounts = answer.accounts.clone();
            let docs = service::upstream_page(answer.docs, &limits)?;
            pages.push((docs, cursor, accounts));
        }
        for (docs, cursor, accounts) in pages {
            if !docs.is_empty() {
                summary.new_changes +=
                    self.rt.block_on(self.db.store_changes("upstream", &docs))?;
            }
            if let Some(accounts) = &accounts {
                self.mirror_accounts(accounts.version, &accounts.accounts)?;
            }
            if cursor > self.number("hub.cursor")? {
                self.set("hub.cursor", &cursor.to_string())?;
            }
        }
        if body.acked > self.number("hub.pushed")? {
            self.set("hub.pushed", &body.acked.to_string())?;
        }
        seen.insert(header.seq, hex::encode(envelope.digest));
        self.set(
            BUNDLES_IN,
            &serde_json::to_string(&seen).map_err(bad_state)?,
        )?;
        self.rt
            .block_on(tern_server::bundle::verify_now(&self.db, &limits))?;
        Ok(summary)
    }
}
