//! The blocking client a desktop app (from a background thread) or the `bangfu` command uses:
//! enrol with a one-time code, then `sync_once` pushes this device's own ops from where the
//! hub says it has them and pulls the scope's ops after the kept hub position.
//!
//! Every page is applied in its own short transaction and the position is recorded only after
//! it commits, so a cut anywhere is resumed by the next call without gaps or doubles.

use std::time::Duration;

use bangfu_core::store::Store;
use bangfu_core::sync::changeset;
use bangfu_core::sync::exchange::SyncError;
use bangfu_core::sync::relay;
use bangfu_core::sync::signing::SignatureError;
use serde::Serialize;

pub use crate::error::HubError;
use crate::wire::{self, EnrolRequest, EnrolResponse, ErrorBody, PushCursor, PushOutcome};

/// How the client talks to the hub.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The longest one request may take, connection included.
    pub timeout: Duration,
    /// Ops per push request and per pull page.
    pub page_ops: usize,
    /// Extra trusted root certificates (PEM), for a county CA or a test certificate.
    pub extra_roots_pem: Option<Vec<u8>>,
    /// Keep each request's duration (for the load test).
    pub record_timings: bool,
    /// A copy that never pulled (position 0) and holds no op of another device asks for its
    /// scope's current heads only (a compacted start), then pulls the log from the position it
    /// reached. A copy holding other devices' ops (imported from a file, or restored) pulls
    /// the whole history: a snapshot's heads name predecessors it would not know, and what it
    /// holds would stand beside them as false conflicts.
    pub snapshot_bootstrap: bool,
}

impl ClientConfig {
    /// A laptop's own sync (`bangfu sync`, the app's background sync): the defaults, with a
    /// new laptop's first pull from a snapshot.
    pub fn laptop() -> ClientConfig {
        ClientConfig {
            snapshot_bootstrap: true,
            ..ClientConfig::default()
        }
    }
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            timeout: Duration::from_secs(60),
            page_ops: 5_000,
            extra_roots_pem: None,
            record_timings: false,
            snapshot_bootstrap: false,
        }
    }
}

/// What one sync did.
#[derive(ts_rs::TS, Debug, Clone, Default, Serialize)]
pub struct SyncReport {
    /// Own ops the hub newly acknowledged.
    pub pushed: u64,
    /// Ops received from the hub (own ops filtered out).
    pub pulled: u64,
    /// Of those, ops this copy did not hold yet.
    pub applied: u64,
    pub requests: u64,
    /// The hub position this copy has pulled up to.
    pub position: i64,
    /// Own ops the hub held aside instead of storing (outside this device's scope, or an op id
    /// it holds with other content); the county admin sees them in `bangfu-hub held`.
    pub held: u64,
    /// The hub was another database or restored from an older backup: this copy pulled again
    /// from the beginning (and pushed again what the hub lacked).
    pub hub_reset: bool,
    /// Files of the archive (photos, scans) sent to the hub: only those it lacked.
    pub files_pushed: u64,
    /// Files of the archive received: those this copy's attachments name and it lacked.
    pub files_pulled: u64,
    /// Ops the hub's pages brought that no signature of their writer covered (pushed by an
    /// older version, or handed on by an older hub): taken on the hub's word.
    pub unsigned: u64,
    /// Ops of held files (待确认设备) that merged because the hub vouched for their
    /// devices' keys in this sync.
    pub held_merged: u64,
    /// This copy believes another county key than the hub's (a person confirmed another, or
    /// the copy synced with another county's hub): the hub's certificates were not taken.
    pub county_key_differs: bool,
    /// Ops taken out of the data: the county's key for their device replaced one this copy
    /// learnt from a file, and only that one signed them (they are not the device's).
    pub withdrawn: u64,
}

/// The hub link as a status line for the desktop shell.
#[derive(ts_rs::TS, Debug, Clone, Default, Serialize)]
pub struct HubStatus {
    pub enrolled: bool,
    pub hub_url: Option<String>,
    pub scope: Option<String>,
    pub last_sync_ms: Option<i64>,
    /// Own ops the hub has not acknowledged yet (as of the last sync).
    pub ops_waiting: i64,
}

/// Reads the link from the data file, on any connection to it; makes no request.
pub fn status(store: &Store) -> Result<HubStatus, HubError> {
    let own_seq = store.own_last_seq_in_file()?;
    let Some(link) = store.hub_link()? else {
        return Ok(HubStatus {
            ops_waiting: own_seq,
            ..Default::default()
        });
    };
    let acked = if link.pushed_origin == Some(store.device().id) {
        link.pushed_seq
    } else {
        0
    };
    Ok(HubStatus {
        enrolled: true,
        hub_url: Some(link.url),
        scope: Some(link.scope),
        last_sync_ms: link.last_sync_ms,
        ops_waiting: (own_seq - acked).max(0),
    })
}

#[derive(Debug)]
pub struct HubClient {
    agent: ureq::Agent,
    config: ClientConfig,
    timings: std::sync::Mutex<Vec<Duration>>,
}

type Reply = ureq::http::Response<ureq::Body>;

impl HubClient {
    pub fn new(config: ClientConfig) -> HubClient {
        let mut builder = ureq::Agent::config_builder()
            .timeout_global(Some(config.timeout))
            // The hub never redirects; following one could lead from https:// to plain http://
            // elsewhere, past the check on the address the person typed.
            .max_redirects(0)
            // The hub closes a connection idle for 15 s (its header timeout): a pooled one is
            // given up sooner, so a push is never sent on a connection the hub just closed.
            .max_idle_age(Duration::from_secs(10))
            .http_status_as_error(false);
        if let Some(pem) = &config.extra_roots_pem {
            let certs: Vec<_> = ureq::tls::parse_pem(pem)
                .filter_map(|item| match item {
                    Ok(ureq::tls::PemItem::Certificate(c)) => Some(c.to_owned()),
                    _ => None,
                })
                .collect();
            let tls = ureq::tls::TlsConfig::builder()
                .root_certs(ureq::tls::RootCerts::new_with_certs(&certs))
                .build();
            builder = builder.tls_config(tls);
        }
        HubClient {
            agent: builder.build().into(),
            config,
            timings: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// The durations of the requests made since the last call (with `record_timings`).
    pub fn take_timings(&self) -> Vec<Duration> {
        std::mem::take(&mut *self.timings.lock().unwrap_or_else(|p| p.into_inner()))
    }

    fn timed<T>(&self, started: std::time::Instant, value: T) -> T {
        if self.config.record_timings {
            let mut timings = self.timings.lock().unwrap_or_else(|p| p.into_inner());
            timings.push(started.elapsed());
        }
        value
    }

    /// Spends a one-time code and keeps the hub's address, token and scope in the data file.
    pub fn enrol(&self, store: &mut Store, url: &str, code: &str) -> Result<String, HubError> {
        let url = url.trim().trim_end_matches('/');
        check_url(url)?;
        // The tokens this file was enrolled with before prove to the hub that this is the
        // same laptop: it keeps pushing its own origins under the new token.
        let mut previous_tokens = store.hub_previous_tokens()?;
        if let Some(link) = store.hub_link()? {
            previous_tokens.push(link.token);
        }
        let request = EnrolRequest {
            code: code.to_owned(),
            device_name: store.device().name.clone(),
            previous_tokens,
        };
        let reply = self
            .agent
            .post(format!("{url}{}", wire::ENROL))
            .send_json(&request)
            .map_err(unreachable)?;
        let reply: EnrolResponse = match reply.status().as_u16() {
            200 => read_json(reply)?,
            _ => {
                return Err(match refusal(reply) {
                    // An older hub says only 401: the code was not taken.
                    HubError::Unauthorized => HubError::BadCode { tries_left: None },
                    other => other,
                });
            }
        };
        store.set_hub_link(url, &reply.token, &reply.scope)?;
        Ok(reply.scope)
    }

    /// Fetches the release the hub at `url` offers into `into` (a folder of its own): the
    /// signed description first, checked against `trusted` before anything else, then the
    /// package it names, checked against it; a changed byte is refused and nothing is kept.
    pub fn fetch_update(
        &self,
        url: &str,
        into: &std::path::Path,
        trusted: &[bangfu_core::update::VerifyingKey],
        running: &str,
    ) -> Result<bangfu_core::update::VerifiedUpdate, HubError> {
        use bangfu_core::update::{MANIFEST_FILE, UpdateError, verify_folder, verify_manifest};
        let base = url.trim().trim_end_matches('/');
        check_url(base)?;
        let get = |path: &str| -> Result<Vec<u8>, HubError> {
            let reply = self
                .agent
                .get(format!("{base}{path}"))
                .call()
                .map_err(unreachable)?;
            match reply.status().as_u16() {
                200 => read_bytes(reply),
                404 => Err(HubError::NoRelease),
                _ => Err(refusal(reply)),
            }
        };
        let manifest = get(wire::UPDATE_MANIFEST)?;
        let release = verify_manifest(&manifest, trusted)?;
        let package = get(&format!(
            "{}{}",
            wire::UPDATE_PACKAGE_PREFIX,
            release.package
        ))?;
        let write = |name: &str, bytes: &[u8]| -> Result<(), HubError> {
            let path = into.join(name);
            bangfu_core::files::write_file(&path, bytes).map_err(|e| {
                HubError::Update(UpdateError::Read {
                    path,
                    source: std::io::Error::other(e.to_string()),
                })
            })
        };
        std::fs::create_dir_all(into).map_err(|source| {
            HubError::Update(UpdateError::Read {
                path: into.to_path_buf(),
                source,
            })
        })?;
        write(&release.package, &package)?;
        write(MANIFEST_FILE, &manifest)?;
        match verify_folder(into, trusted, running) {
            Ok(update) => Ok(update),
            Err(error) => {
                let _ = std::fs::remove_file(into.join(&release.package));
                let _ = std::fs::remove_file(into.join(MANIFEST_FILE));
                Err(error.into())
            }
        }
    }

    /// Pushes this copy's own ops the hub lacks, then pulls the scope's ops after the kept
    /// position. Safe to call at any time, again and again; a failure leaves what was
    /// committed on both sides and the next call goes on from there.
    ///
    /// A push the hub refuses does not stop the pull: the pull runs, and the answer is
    /// [`HubError::PushFailed`] carrying what the pull did. Ops the hub held aside (outside this
    /// device's scope) are reported as [`HubError::Held`], also after the pull.
    pub fn sync_once(&self, store: &mut Store) -> Result<SyncReport, HubError> {
        let link = store.hub_link()?.ok_or(HubError::NotEnrolled)?;
        let base = link.url.trim_end_matches('/').to_owned();
        // A link an earlier version kept may name plain http:// to another computer: the
        // token and the people's data would cross the network in the clear.
        check_url(&base)?;
        let auth = format!("Bearer {}", link.token);
        let mut report = SyncReport::default();
        store.record_hub_own_origin()?;
        let origins = store.hub_own_origins()?;
        // Pushed with this copy's ops and handed on by the hub, so copies that learn this one
        // only through the hub can seal their files to it.
        store.ensure_sealing_key()?;

        let pushed = self.push_all(store, &base, &auth, &origins, &mut report);
        if let Err(
            error @ (HubError::Unreachable(_) | HubError::Unauthorized | HubError::Revoked),
        ) = pushed
        {
            return Err(error); // the pull would meet the same
        }
        if pushed.is_ok() {
            // After the ops: the hub keeps only files its stored attachments name.
            self.push_files(store, &base, &auth, &mut report)?;
        }
        // The county's list is a help, not the sync: a hub or a proxy that refuses it (an
        // earlier version, a broken row) leaves the pull to go on.
        if let Err(error) = self.take_county_list(store, &base, &auth, &mut report) {
            if matches!(error, HubError::Store(_)) {
                return Err(error);
            }
            eprintln!("the county's device list was not taken: {error}");
        }
        self.pull_all(store, &base, &auth, &origins, link.pulled_pos, &mut report)?;
        self.pull_files(store, &base, &auth, &mut report)?;
        store.record_hub_sync(store.wall_ms() as i64)?;
        match pushed {
            Err(error) => Err(HubError::PushFailed {
                error: Box::new(error),
                report: Box::new(report),
            }),
            Ok(()) if report.held > 0 => Err(HubError::Held {
                report: Box::new(report),
            }),
            Ok(()) => Ok(report),
        }
    }

    /// Pushes, for every identity this copy wrote under (see [`Store::hub_own_origins`]), the
    /// ops the hub lacks, from where the hub says it has them. One origin's refusal does not
    /// stop the others; the first refusal is returned after all were tried.
    fn push_all(
        &self,
        store: &Store,
        base: &str,
        auth: &str,
        origins: &[uuid::Uuid],
        report: &mut SyncReport,
    ) -> Result<(), HubError> {
        let current = store.device().id;
        let mut first_error = None;
        for &origin in origins {
            // A past identity the copy holds nothing of needs no request.
            if origin != current && store.ops_of_origin_after(origin, 0, 1)?.is_empty() {
                continue;
            }
            match self.push_origin(store, base, auth, origin, report) {
                Ok(()) => {}
                Err(
                    error @ (HubError::Unreachable(_) | HubError::Unauthorized | HubError::Revoked),
                ) => {
                    return Err(error);
                }
                Err(error) => {
                    first_error.get_or_insert(error);
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Fetches the county's device list and takes it (`trust::take_county_list`): the county
    /// key believed, this copy's own certificate kept to carry in its files, the county's
    /// certificates confirming the devices this copy knows. A hub of an earlier version has
    /// no list (404): nothing is taken, the sync goes on.
    fn take_county_list(
        &self,
        store: &mut Store,
        base: &str,
        auth: &str,
        report: &mut SyncReport,
    ) -> Result<(), HubError> {
        let mut request = self
            .agent
            .get(format!("{base}{}", wire::COUNTY))
            .header("Authorization", auth);
        // The list taken last time, by its tag: the hub answers 304 when it names the same
        // certificates, and nothing is downloaded.
        let tag = store.county_list_tag()?;
        if let Some(tag) = &tag {
            request = request.header("If-None-Match", tag);
        }
        let reply = request.call().map_err(unreachable)?;
        report.requests += 1;
        match reply.status().as_u16() {
            200 => {}
            304 => {
                let at = reply
                    .headers()
                    .get(wire::COUNTY_LIST_MS_HEADER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<i64>().ok());
                if let Some(at) = at {
                    store.county_list_still_at(at)?;
                }
                return Ok(());
            }
            404 => return Ok(()),
            _ => return Err(refusal(reply)),
        }
        let new_tag = reply
            .headers()
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let list: bangfu_core::sync::county::CountyList = read_json(reply)?;
        let taken = bangfu_core::sync::trust::take_county_list(store, &list)?;
        report.county_key_differs = taken.other_key;
        // Kept only once taken: a list that was not (another county key believed here) is
        // asked for whole again.
        if !taken.other_key {
            store.set_county_list_tag(new_tag.as_deref())?;
        }
        Ok(())
    }

    fn push_origin(
        &self,
        store: &Store,
        base: &str,
        auth: &str,
        origin: uuid::Uuid,
        report: &mut SyncReport,
    ) -> Result<(), HubError> {
        let origin_text = origin.to_string();
        let own = origin == store.device().id;
        let started = std::time::Instant::now();
        let reply = self
            .agent
            .get(format!("{base}{}", wire::PUSH_CURSOR))
            .header("Authorization", auth)
            .query("origin", &origin_text)
            .call()
            .map_err(unreachable)?;
        report.requests += 1;
        let mut stored = self
            .timed(started, expect_ok::<PushCursor>(reply))?
            .stored_seq;
        if own {
            store.record_hub_push(origin, stored)?;
        }
        loop {
            // Pages end where a write batch ends, so the hub gets each batch whole with its
            // signature and hands it on; a batch up to four pages long goes in one push, a
            // longer one (a bulk load) in pages, unsigned, so a cut connection loses little.
            let longest = self.config.page_ops.saturating_mul(4).min(wire::MAX_PAGE);
            let (ops, signatures) =
                relay::push_page(store, origin, stored, self.config.page_ops, longest)?;
            if ops.is_empty() {
                break;
            }
            let body = wire::encode_ops(origin, &store.device().name, &ops, signatures);
            let started = std::time::Instant::now();
            let reply = self
                .agent
                .post(format!("{base}{}", wire::PUSH))
                .header("Authorization", auth)
                .header("Content-Type", "application/octet-stream")
                .query("origin", &origin_text)
                .send(&body[..])
                .map_err(unreachable)?;
            report.requests += 1;
            let now = match reply.status().as_u16() {
                409 => {
                    let body: ErrorBody = read_json(reply)?;
                    body.stored_seq.unwrap_or(stored)
                }
                _ => {
                    let outcome = self.timed(started, expect_ok::<PushOutcome>(reply))?;
                    report.held += outcome.held.len() as u64;
                    outcome.stored_seq
                }
            };
            if now <= stored {
                // The hub took nothing from a non-empty page: stop rather than loop.
                return Err(HubError::BadResponse {
                    status: 409,
                    detail: format!("push made no progress at seq {stored}"),
                });
            }
            report.pushed += (now - stored) as u64;
            stored = now;
            if own {
                store.record_hub_push(origin, stored)?;
            }
        }
        Ok(())
    }

    /// Sends the archive's files this copy's attachments name that the hub lacks, each once:
    /// the hub is asked which it lacks first. A hub of an earlier version (no such route)
    /// takes none and the sync goes on.
    fn push_files(
        &self,
        store: &Store,
        base: &str,
        auth: &str,
        report: &mut SyncReport,
    ) -> Result<(), HubError> {
        let held = bangfu_core::archive::blobs::named_files(store, true)?;
        for chunk in held.chunks(FILES_ASKED_AT_ONCE) {
            let body = serde_json::to_vec(chunk).map_err(|e| bad(&e.to_string()))?;
            let reply = self
                .agent
                .post(format!("{base}{}", wire::BLOBS_MISSING))
                .header("Authorization", auth)
                .header("Content-Type", "application/json")
                .send(&body[..])
                .map_err(unreachable)?;
            report.requests += 1;
            if reply.status().as_u16() == 404 {
                return Ok(());
            }
            let missing: Vec<String> = expect_ok(reply)?;
            for sha256 in missing.iter().filter(|h| chunk.contains(h)) {
                let Ok((_, bytes)) = bangfu_core::archive::blob_bytes(store, sha256) else {
                    continue;
                };
                let reply = self
                    .agent
                    .put(format!("{base}{}{sha256}", wire::BLOB_PREFIX))
                    .header("Authorization", auth)
                    .header("Content-Type", "application/octet-stream")
                    .send(&bytes[..])
                    .map_err(unreachable)?;
                report.requests += 1;
                let put: wire::BlobPut = expect_ok(reply)?;
                if put == wire::BlobPut::Stored {
                    report.files_pushed += 1;
                }
            }
        }
        Ok(())
    }

    /// Fetches the archive's files this copy's attachments name and it lacks. A file the hub
    /// does not have yet (its laptop has not synced) is asked for again at the next sync; one
    /// whose bytes do not match its name is not kept.
    fn pull_files(
        &self,
        store: &mut Store,
        base: &str,
        auth: &str,
        report: &mut SyncReport,
    ) -> Result<(), HubError> {
        for sha256 in bangfu_core::archive::blobs::named_files(store, false)? {
            let reply = self
                .agent
                .get(format!("{base}{}{sha256}", wire::BLOB_PREFIX))
                .header("Authorization", auth)
                .call()
                .map_err(unreachable)?;
            report.requests += 1;
            if reply.status().as_u16() != 200 {
                continue;
            }
            let bytes = read_bytes(reply)?;
            if matches!(
                bangfu_core::archive::blobs::receive_file(store, &sha256, &bytes),
                Ok(true)
            ) {
                report.files_pulled += 1;
            }
        }
        Ok(())
    }

    /// Pulls the scope's ops after `position`. A hub whose epoch differs from the one pulled
    /// from before, or whose log ends before `position` (restored from an older backup), is
    /// pulled again from the beginning; what this copy already holds applies nothing twice.
    fn pull_all(
        &self,
        store: &mut Store,
        base: &str,
        auth: &str,
        origins: &[uuid::Uuid],
        mut position: i64,
        report: &mut SyncReport,
    ) -> Result<(), HubError> {
        // Ops taken out since the last sync (a key that gave way signed them): the scope is
        // pulled again from the start, so what the device's real key signed comes back.
        let repull = store.take_hub_repull()?;
        if repull {
            position = 0;
        }
        let known_epoch = store.hub_epoch()?;
        let mut op_at = store.hub_pulled_op()?.filter(|_| position > 0);
        let mut checked = false;
        // Not after a take-out (`repull`): the hub's snapshot leaves out an op whose id any
        // op named, while copies keep one named only from another row or field (an id a
        // forgery took), so the pages are pulled op by op.
        let snapshot = self.config.snapshot_bootstrap
            && !repull
            && position == 0
            && holds_only_own(store, origins)?;
        loop {
            let started = std::time::Instant::now();
            let mut request = self
                .agent
                .get(format!("{base}{}", wire::PULL))
                .header("Authorization", auth)
                .query("after", position.to_string())
                .query("limit", self.config.page_ops.to_string());
            if let Some(at) = op_at.as_deref().filter(|_| !checked) {
                request = request.query("at", at);
            }
            if snapshot {
                request = request.query("snapshot", "1");
            }
            let reply = request.call().map_err(unreachable)?;
            report.requests += 1;
            if reply.status().as_u16() != 200 {
                return Err(refusal(reply));
            }
            let header = |name: &str| {
                reply
                    .headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            };
            let number = |name: &str| header(name).and_then(|v| v.parse::<i64>().ok());
            let (Some(next), Some(more)) = (number(wire::NEXT_HEADER), number(wire::MORE_HEADER))
            else {
                return Err(bad("pull reply without position headers"));
            };
            if !checked {
                checked = true;
                let epoch = header(wire::EPOCH_HEADER).unwrap_or_default();
                let head = number(wire::HEAD_HEADER).unwrap_or(i64::MAX);
                let other_hub =
                    !epoch.is_empty() && known_epoch.as_deref().is_some_and(|known| known != epoch);
                let lost = number(wire::LOST_HEADER) == Some(1);
                if other_hub || lost || head < position {
                    store.reset_hub_position(&epoch)?;
                    report.hub_reset = true;
                    position = 0;
                    op_at = None;
                    continue;
                }
                if known_epoch.is_none() && !epoch.is_empty() {
                    store.set_hub_epoch(&epoch)?;
                }
            }
            let next_op = header(wire::NEXT_OP_HEADER);
            let scopes =
                wire::parse_signer_scopes(&header(wire::SIGNER_SCOPES_HEADER).unwrap_or_default());
            let bytes = self.timed(started, read_bytes(reply))?;
            let (page, mut ops) = changeset::decode(&bytes).map_err(|e| bad(&e.to_string()))?;
            // Checked whole before anything of it is applied: the hub cannot alter or invent
            // the ops of a batch it hands on signed (see `relay` for those it hands on without).
            report.unsigned += relay::check_page(store, &page, &ops).map_err(|e| match e {
                SyncError::Store(e) => HubError::Store(e),
                SyncError::Signature(SignatureError::KeyMismatch { origin }) => {
                    key_differs(store, &page, origin)
                }
                other => HubError::Forged(other.to_string()),
            })?;
            ops.retain(|op| !origins.contains(&op.id.origin));
            if !ops.is_empty() {
                // The keys first: one replacing a key learnt from a file has what only the
                // old one signed taken out by this apply, before the page's ops under the
                // same ids.
                relay::take_page_keys(store, &page, &scopes)?;
                // In a transaction of its own, whatever becomes of the page's.
                report.withdrawn += store.settle_withdrawn()?;
                let stats = store.apply_remote(&ops)?;
                report.pulled += ops.len() as u64;
                report.applied += stats.applied;
                report.withdrawn += stats.withdrawn;
                relay::keep_page_signatures(store, &page, &ops)?;
            }
            // Recorded only after the page is committed: a crash here re-pulls the page,
            // which applies nothing twice.
            if next > position {
                position = next;
                match &next_op {
                    Some(op) => store.record_hub_pull_at(position, op)?,
                    None => store.record_hub_pull(position)?,
                }
            }
            if more == 0 {
                break;
            }
        }
        report.position = position;
        {
            // What waited for the devices the county confirmed (files from a stick) merges
            // now (keys of this pull, or a reading an earlier sync did not finish). The pull is
            // committed already: a held file that cannot be read again now (the window
            // writing, a full disk) waits for the next sync, and this one goes on.
            match bangfu_core::sync::trust::read_held_after_vouch(store) {
                Ok((merged, failed)) => {
                    report.held_merged += merged;
                    for why in failed {
                        eprintln!("a held file was not read again after the hub vouched: {why}");
                    }
                }
                Err(error) => {
                    eprintln!("the held files were not read again after the hub vouched: {error}")
                }
            }
        }
        Ok(())
    }
}

/// A page whose key for `origin` is not the one a person (or the county) confirmed here: the
/// device named, with both 安全码, so the person can check with the county and take this
/// copy's confirmation back (`trust::unconfirm_device`).
fn key_differs(store: &Store, page: &changeset::Header, origin: uuid::Uuid) -> HubError {
    let here = bangfu_core::sync::trust::list_devices(store)
        .ok()
        .and_then(|all| all.into_iter().find(|d| d.key.device == origin));
    let hub = page
        .signers
        .as_ref()
        .and_then(|s| s.get(&origin))
        .and_then(|k| bangfu_core::sync::trust::fingerprint_of_key_hex(k))
        .unwrap_or_default();
    let name = here
        .as_ref()
        .map(|d| d.key.name.clone())
        .filter(|n| !n.is_empty())
        .or_else(|| page.device_names.get(&origin).cloned())
        .unwrap_or_else(|| origin.to_string());
    HubError::DeviceKeyDiffers {
        name,
        here: here.map(|d| d.key.fingerprint).unwrap_or_default(),
        hub,
    }
}

/// Whether every op the copy holds is its own (written under one of `origins`): nothing of
/// its scope came from elsewhere yet.
fn holds_only_own(store: &Store, origins: &[uuid::Uuid]) -> Result<bool, HubError> {
    Ok(store
        .held_ranges()?
        .keys()
        .all(|origin| origins.contains(origin)))
}

/// The hub's address must be `https://`, or `http://` to this computer itself (tests, and a
/// hub reached through a local tunnel): anything else would carry tokens and people's ID
/// numbers in the clear.
/// How many of its files' hashes a device offers the hub in one request.
const FILES_ASKED_AT_ONCE: usize = 1_000;

pub fn check_url(url: &str) -> Result<(), HubError> {
    let lower = url.to_ascii_lowercase();
    if lower.starts_with("https://") {
        return Ok(());
    }
    if !lower.starts_with("http://") {
        return Err(HubError::BadUrl(url.to_owned()));
    }
    let uri: ureq::http::Uri = url.parse().map_err(|_| HubError::BadUrl(url.to_owned()))?;
    let host = uri.host().ok_or_else(|| HubError::BadUrl(url.to_owned()))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if loopback {
        Ok(())
    } else {
        Err(HubError::InsecureUrl(url.to_owned()))
    }
}

fn unreachable(e: ureq::Error) -> HubError {
    HubError::Unreachable(e.to_string())
}

fn bad(detail: &str) -> HubError {
    HubError::BadResponse {
        status: 200,
        detail: detail.to_owned(),
    }
}

fn read_bytes(mut reply: Reply) -> Result<Vec<u8>, HubError> {
    reply
        .body_mut()
        .with_config()
        .limit(256 << 20)
        .read_to_vec()
        .map_err(unreachable)
}

fn read_json<T: serde::de::DeserializeOwned>(reply: Reply) -> Result<T, HubError> {
    let bytes = read_bytes(reply)?;
    serde_json::from_slice(&bytes).map_err(|e| bad(&e.to_string()))
}

/// The JSON body of a 200, or the error the status and body say.
fn expect_ok<T: serde::de::DeserializeOwned>(reply: Reply) -> Result<T, HubError> {
    if reply.status().as_u16() == 200 {
        read_json(reply)
    } else {
        Err(refusal(reply))
    }
}

fn refusal(reply: Reply) -> HubError {
    let status = reply.status().as_u16();
    let body: Option<ErrorBody> = read_json(reply).ok();
    let kind = body.as_ref().map_or("", |b| b.kind.as_str());
    let detail = body.as_ref().map_or_else(String::new, |b| b.detail.clone());
    match (status, kind) {
        (401, "bad_code") => HubError::BadCode {
            tries_left: body.as_ref().and_then(|b| b.tries_left),
        },
        (401, "code_used") => HubError::CodeUsed,
        (401, "code_expired") => HubError::CodeExpired,
        (401, "code_locked") => HubError::CodeLocked,
        (401, "revoked") => HubError::Revoked,
        (401, _) => HubError::Unauthorized,
        (429, _) => HubError::TooManyAttempts {
            retry_after_s: body.as_ref().and_then(|b| b.retry_after_s).unwrap_or(600),
        },
        (403, "origin_taken") => HubError::OriginTaken,
        (400, "bad_signature") => HubError::PushSignatureRefused(detail),
        (403, _) => HubError::OutsideScope(detail),
        _ => HubError::BadResponse { status, detail },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bangfu_core::UserFacing;

    #[test]
    fn plain_http_is_refused_except_to_this_computer() {
        // (address, "ok" | the error kind)
        let cases = [
            ("https://sync.example.gov.cn", "ok"),
            ("HTTPS://sync.example.gov.cn:8443/", "ok"),
            ("https://10.0.0.12:8443", "ok"),
            ("http://127.0.0.1:8717", "ok"),
            ("http://127.8.9.10:8717", "ok"),
            ("http://localhost:8717", "ok"),
            ("http://LOCALHOST", "ok"),
            ("http://[::1]:8717", "ok"),
            ("http://sync.example.gov.cn", "insecure_url"),
            ("http://10.0.0.12:8717", "insecure_url"),
            ("http://192.168.1.5", "insecure_url"),
            ("http://[2001:db8::1]:8717", "insecure_url"),
            // A name that merely starts like loopback is another computer.
            ("http://localhost.example.com", "insecure_url"),
            ("http://127.0.0.1.example.com", "insecure_url"),
            ("http://127.0.0.1@evil.example.com", "insecure_url"),
            ("ftp://sync.example.gov.cn", "bad_url"),
            ("sync.example.gov.cn", "bad_url"),
        ];
        for (url, want) in cases {
            let got = check_url(url).map_or_else(|e| e.kind(), |()| "ok");
            assert_eq!(got, want, "{url}");
        }
    }
}
