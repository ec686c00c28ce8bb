//! "Team hub": the supervisor's app runs the hub (tern-hub, the same code as
//! `tern hub`) for the field team's devices on the local network.
//!
//! Who may use it: an unlocked session whose user is a supervisor, on a device
//! enrolled with a server (the hub's upstream). Everyone else gets `forbidden`; the
//! upstream also refuses to enrol a hub for any account but a supervisor's, and the
//! hub's key is wrapped with the supervisor's account password (the session's).
//! The hub keeps serving while the app is locked; it stops with "Stop" or when the
//! app ends.

use crate::core::Core;
use crate::dto::{TeamDevice, TeamHubState};
use crate::error::{ApiError, ApiResult, Code};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use tern_hub::{Hub, HubError, RunningHub};
use tern_store::Role;

/// Where the hub listens unless `TERN_HUB_LISTEN` says otherwise (tests use
/// `127.0.0.1:0`).
const DEFAULT_LISTEN: &str = "0.0.0.0:8443";
/// The hub's data folder, inside the app's.
const HUB_DIR: &str = "hub";

/// The running hub and the enrolment code on show.
pub(crate) struct Running {
    hub: RunningHub,
    code: String,
}

impl From<HubError> for ApiError {
    fn from(e: HubError) -> ApiError {
        match e {
            HubError::Sync(e) => e.into(),
            HubError::Key(e) => e.into(),
            HubError::NotSupervisor(..) => ApiError::new(Code::Forbidden, e.to_string()),
            HubError::Revoked => ApiError::new(Code::Revoked, e.to_string()),
            HubError::AlreadySetUp(_) | HubError::NotAHub(_) => {
                ApiError::new(Code::Conflict, e.to_string())
            }
            HubError::Io(_) | HubError::Db(_) | HubError::State(_) => {
                ApiError::new(Code::Storage, e.to_string())
            }
            _ => ApiError::new(Code::Internal, e.to_string()),
        }
    }
}

fn listen_address() -> ApiResult<SocketAddr> {
    let text = std::env::var("TERN_HUB_LISTEN").unwrap_or_else(|_| DEFAULT_LISTEN.into());
    text.parse()
        .map_err(|_| ApiError::invalid(format!("TERN_HUB_LISTEN={text} is not an address")))
}

/// The addresses team devices can use: the listening address itself, or every
/// non-loopback address of this computer when it listens on all of them.
fn addresses(addr: SocketAddr) -> Vec<String> {
    let url = |ip: IpAddr| match ip {
        IpAddr::V4(v4) => format!("https://{v4}:{}", addr.port()),
        IpAddr::V6(v6) => format!("https://[{v6}]:{}", addr.port()),
    };
    if !addr.ip().is_unspecified() {
        return vec![url(addr.ip())];
    }
    let mut found: Vec<String> = if_addrs::get_if_addrs()
        .unwrap_or_default()
        .into_iter()
        .filter(|i| !i.is_loopback() && i.ip().is_ipv4())
        .map(|i| url(i.ip()))
        .collect();
    found.sort();
    found.dedup();
    if found.is_empty() {
        found.push(url(IpAddr::from([127, 0, 0, 1])));
    }
    found
}

/// The QR code a team device can scan: the hub's address and the code (with the
/// certificate fingerprint to pin), as an SVG image.
fn qr_svg(address: &str, code: &str) -> ApiResult<String> {
    let payload = format!(
        "tern://enrol?server={}&code={}",
        percent(address),
        percent(code)
    );
    let qr = qrcode::QrCode::new(payload.as_bytes())
        .map_err(|e| ApiError::new(Code::Internal, format!("QR code: {e}")))?;
    Ok(qr
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(240, 240)
        .quiet_zone(true)
        .build())
}

/// Percent-encodes everything but unreserved characters (RFC 3986).
fn percent(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl Core {
    fn hub_dir(&self) -> PathBuf {
        self.data_dir().join(HUB_DIR)
    }

    /// The unlocked supervisor's account, password and upstream; `forbidden` for
    /// any other session.
    fn supervisor(&self) -> ApiResult<(String, crate::core::SyncCredentials, String)> {
        let role = self.session_role()?;
        if role != Role::Supervisor {
            return Err(ApiError::new(
                Code::Forbidden,
                "Only a supervisor runs a team hub.",
            ));
        }
        let upstream = self.server_url()?.ok_or_else(|| {
            ApiError::new(
                Code::NotEnrolled,
                "This device is not enrolled with a server.",
            )
        })?;
        let credentials = self.sync_credentials()?.ok_or_else(ApiError::locked)?;
        Ok((credentials.user.clone(), credentials, upstream))
    }

    /// The team hub as the screen shows it.
    pub fn hub_state(&self) -> ApiResult<TeamHubState> {
        let available = self.session_role()? == Role::Supervisor;
        let set_up = tern_hub::is_hub(&self.hub_dir());
        let slot = self.team_hub();
        let Some(running) = slot.as_ref() else {
            return Ok(TeamHubState {
                available,
                set_up,
                ..TeamHubState::default()
            });
        };
        if !available {
            return Ok(TeamHubState {
                available,
                set_up,
                running: true,
                ..TeamHubState::default()
            });
        }
        let hub = running.hub.hub();
        let addresses = addresses(running.hub.addr());
        let qr = match addresses.first() {
            Some(a) => Some(qr_svg(a, &running.code)?),
            None => None,
        };
        let status = hub.status()?;
        let devices = hub
            .devices()?
            .into_iter()
            .map(|d| TeamDevice {
                id: d.id,
                site: d.site,
                user: d.user,
                last_sync: d.last_sync,
                revoked: d.revoked,
            })
            .collect();
        Ok(TeamHubState {
            available,
            set_up,
            running: true,
            addresses,
            fingerprint: Some(status.fingerprint),
            enrolment_code: Some(running.code.clone()),
            qr_svg: qr,
            sites: status.sites,
            devices,
            pending_up: status.pending_up,
            last_sync: status.last_sync,
            upstream: Some(running.hub.upstream()),
        })
    }

    /// Starts the team hub; the first time, `code` (an enrolment code the server's
    /// administrator made for the supervisor) sets it up with the app's server as its
    /// upstream.
    pub fn hub_start(&self, code: Option<&str>) -> ApiResult<TeamHubState> {
        self.hub_start_on(code, listen_address()?)
    }

    /// [`Core::hub_start`] on a given address (port 0 picks a free one).
    pub fn hub_start_on(&self, code: Option<&str>, listen: SocketAddr) -> ApiResult<TeamHubState> {
        let (account, credentials, upstream) = self.supervisor()?;
        {
            let slot = self.team_hub();
            if slot.is_some() {
                drop(slot);
                return self.hub_state();
            }
        }
        let dir = self.hub_dir();
        let hub = if tern_hub::is_hub(&dir) {
            Hub::open(&dir, Some(&account), credentials.password())?
        } else {
            let code = code
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .ok_or_else(|| {
                    ApiError::invalid(
                    "Type the hub's enrolment code: an administrator makes one for your account.",
                )
                })?;
            Hub::init(&dir, &upstream, code, &account, credentials.password())?
        };
        let code = hub.enrolment_code(None)?;
        let running = hub.start(listen).map_err(|e| match e {
            HubError::Server(e) => ApiError::new(
                Code::Conflict,
                format!("The hub cannot listen for the team ({e}): is another hub running here?"),
            ),
            e => e.into(),
        })?;
        running.sync_now();
        *self.team_hub() = Some(Running { hub: running, code });
        self.hub_state()
    }

    /// A new one-time enrolment code for the next team device.
    pub fn hub_new_code(&self) -> ApiResult<TeamHubState> {
        self.supervisor()?;
        {
            let mut slot = self.team_hub();
            let running = slot.as_mut().ok_or_else(not_running)?;
            running.code = running.hub.hub().enrolment_code(None)?;
        }
        self.hub_state()
    }

    /// Syncs the hub with the upstream server now.
    pub fn hub_sync_now(&self) -> ApiResult<TeamHubState> {
        self.supervisor()?;
        self.team_hub()
            .as_ref()
            .ok_or_else(not_running)?
            .hub
            .sync_now();
        self.hub_state()
    }

    /// Stops serving the team (the hub's data stays, encrypted, for the next start).
    pub fn hub_stop(&self) -> ApiResult<TeamHubState> {
        self.supervisor()?;
        self.stop_team_hub();
        self.hub_state()
    }

    /// Stops the hub whoever is signed in (the app is ending).
    pub(crate) fn stop_team_hub(&self) {
        let running = self.team_hub().take();
        if let Some(running) = running {
            running.hub.stop();
        }
    }
}

fn not_running() -> ApiError {
    ApiError::new(
        Code::Conflict,
        "The team hub is not running: start it first.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_encoding_keeps_only_unreserved_characters() {
        assert_eq!(
            percent("https://10.0.0.5:8443"),
            "https%3A%2F%2F10.0.0.5%3A8443"
        );
        assert_eq!(percent("AB12-cd#ff"), "AB12-cd%23ff");
    }

    #[test]
    fn a_specific_listening_address_is_the_only_one_shown() {
        let addr: SocketAddr = "127.0.0.1:9443".parse().expect("addr");
        assert_eq!(addresses(addr), vec!["https://127.0.0.1:9443".to_string()]);
        let any: SocketAddr = "0.0.0.0:8443".parse().expect("addr");
        assert!(addresses(any).iter().all(|a| a.ends_with(":8443")));
    }

    #[test]
    fn the_qr_code_is_an_svg_image() {
        let svg = qr_svg("https://10.0.0.5:8443", "ABCD-EFGH#00ff").expect("qr");
        assert!(svg.contains("<svg"));
    }
}
