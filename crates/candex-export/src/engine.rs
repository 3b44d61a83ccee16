//! `Exporter`: fetches each due application's profile and attachments with bounded concurrency
//! and commits them to the sink in groups (one sync and one state transaction per group); carries out erasures (`CandidateErased`, a candex extension)
//! alone, between exports; polls the events stream into the inbox from the saved cursor.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};

use candex_client::ops::CandidateProfile;
use candex_client::{Client, EventsPager};
use chrono::{SecondsFormat, Utc};
use futures::stream::{FuturesUnordered, StreamExt};
use tokio_util::sync::CancellationToken;

use crate::names::{safe_name, unique_name};
use crate::progress::{Progress, Summary};
pub use crate::sink::ProfileMeta;
use crate::sink::{Erasure, Export, FetchedAttachment, Sink};
use crate::state::{InboxEvent, Pending, CANDIDATE_ERASED};
use crate::{ExportError, State};

/// How many due events are read from the inbox at a time (memory stays flat in the backlog).
const BATCH: i64 = 256;

/// How many fetched exports may wait for a commit before no new fetch starts (those already in
/// flight still join, so a group holds at most this plus the concurrency): memory stays bounded
/// when the sink is slower than the server.
const GROUP: usize = 64;

/// A fetched export waiting for its group's commit. It holds its profile's lock, so another
/// event for the same profile waits until this one is committed.
struct Staged {
    pending: Pending,
    export: Export,
    attachments: u64,
    bytes: u64,
    lock: Arc<tokio::sync::Mutex<()>>,
    guard: tokio::sync::OwnedMutexGuard<()>,
}

/// The export engine: one client, one state, one sink.
pub struct Exporter {
    client: Client,
    state: State,
    sink: Arc<dyn Sink>,
    concurrency: usize,
    progress: Progress,
    in_flight: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// Whether the server has candex's erasure events, asked once.
    erasures: tokio::sync::OnceCell<bool>,
}

fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

impl Exporter {
    /// An exporter running at most `concurrency` profile exports at once.
    pub fn new(client: Client, state: State, sink: Arc<dyn Sink>, concurrency: usize, progress: Progress) -> Self {
        Self {
            client,
            state,
            sink,
            concurrency: concurrency.max(1),
            progress,
            in_flight: Mutex::new(HashMap::new()),
            erasures: tokio::sync::OnceCell::new(),
        }
    }

    /// The client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The state.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// The sink.
    pub fn sink(&self) -> &dyn Sink {
        self.sink.as_ref()
    }

    /// The progress view.
    pub fn progress(&self) -> &Progress {
        &self.progress
    }

    /// Reads the events stream from the saved cursor (or from `since` on a first run) into the
    /// inbox, saving the cursor with each page. Returns the number of new events.
    pub async fn pull(
        &self,
        scheme_id: &str,
        since: Option<String>,
        cancel: &CancellationToken,
    ) -> Result<u64, ExportError> {
        let cursor = self.state.cursor(scheme_id).await?;
        // `--since` counts until the stream yields a cursor, even across runs that find nothing.
        let since_key = format!("since:{scheme_id}");
        let since = match since {
            Some(since) if cursor.is_none() => {
                self.state.set_meta(&since_key, &since).await?;
                Some(since)
            }
            Some(_) => None,
            None if cursor.is_none() => self.state.meta(&since_key).await?,
            None => None,
        };
        // A server with candex's erasure events (never SEEK) is asked for them too.
        let erasures = *self.erasures.get_or_try_init(|| self.client.supports_erasure_events()).await?;
        let mut pager = EventsPager::new(self.client.clone(), scheme_id, cursor).since(since).with_erasures(erasures);
        let mut new = 0;
        while !cancel.is_cancelled() {
            let Some(page) = pager.next_page().await? else { break };
            let events: Vec<InboxEvent> =
                page.events.iter().filter_map(|edge| edge.node.as_ref()).filter_map(InboxEvent::from_node).collect();
            let added = self.state.save_page(scheme_id, &events, page.cursor.as_deref()).await?;
            new += added;
            self.progress.events(added);
            if !page.has_next_page {
                break;
            }
        }
        Ok(new)
    }

    /// Records events from a webhook; returns how many were new.
    pub async fn accept(&self, events: &[InboxEvent]) -> Result<u64, ExportError> {
        let added = self.state.enqueue(events).await?;
        self.progress.events(added);
        Ok(added)
    }

    /// Exports every due event once, in inbox order, `concurrency` at a time. Fetched exports
    /// are committed in groups, one group at a time while the next is fetched: a group is
    /// everything fetched since the last commit began (bounded by [`GROUP`]), so the sink's
    /// syncs and the state's transaction are paid once per group rather than once per profile.
    /// Failures are recorded (and retried later); only state errors and configuration errors
    /// stop the pass.
    pub async fn export_due(&self, cancel: &CancellationToken) -> Result<(), ExportError> {
        self.progress.expect(self.state.count_due().await?);
        let mut in_flight = FuturesUnordered::new();
        let mut queue = VecDeque::new();
        let mut staged: Vec<Staged> = Vec::new();
        // The group being committed: at most one at a time.
        let mut committing = FuturesUnordered::new();
        let (mut after, mut exhausted) = (0i64, false);
        loop {
            if committing.is_empty() && !staged.is_empty() {
                committing.push(self.commit_group(std::mem::take(&mut staged)));
            }
            if queue.is_empty() && !exhausted && !cancel.is_cancelled() {
                // Keep driving the exports in flight (and the commit) while the next batch is
                // read: they may hold state connections (and the write lock) that it waits for.
                let fetch = self.state.due(after, BATCH);
                tokio::pin!(fetch);
                let batch = loop {
                    tokio::select! {
                        batch = &mut fetch => break batch?,
                        Some(result) = in_flight.next(), if !in_flight.is_empty() => staged.extend(result?),
                        Some(result) = committing.next(), if !committing.is_empty() => result?,
                    }
                };
                match batch.last() {
                    Some(last) => {
                        after = last.seq;
                        self.progress.add_work(batch.len() as u64);
                        queue.extend(batch);
                    }
                    None => exhausted = true,
                }
            }
            while in_flight.len() < self.concurrency && staged.len() < GROUP {
                match queue.front() {
                    // An erasure runs alone: the exports before it are committed first (one of
                    // them may be the candidate's, or share a file with it), and none starts
                    // meanwhile.
                    Some(next) if next.type_code == CANDIDATE_ERASED => {
                        if !in_flight.is_empty() || !staged.is_empty() || !committing.is_empty() {
                            break;
                        }
                        if let Some(pending) = queue.pop_front() {
                            self.erase(pending, cancel).await?;
                        }
                    }
                    Some(_) => {
                        if let Some(pending) = queue.pop_front() {
                            in_flight.push(self.handle(pending, cancel));
                        }
                    }
                    None => break,
                }
            }
            tokio::select! {
                Some(result) = in_flight.next(), if !in_flight.is_empty() => staged.extend(result?),
                Some(result) = committing.next(), if !committing.is_empty() => result?,
                else => {
                    if staged.is_empty() && queue.is_empty() && (exhausted || cancel.is_cancelled()) {
                        break;
                    }
                }
            }
        }
        self.sink.tidy().await
    }

    /// Carries out an erasure: every export of the candidate leaves the sink. Failures are
    /// recorded and retried like failed exports.
    async fn erase(&self, pending: Pending, cancel: &CancellationToken) -> Result<(), ExportError> {
        if cancel.is_cancelled() {
            return Ok(());
        }
        let candidate_id = pending.candidate_id.clone().unwrap_or_default();
        let profiles = self.state.profiles_of(&candidate_id).await?;
        let erasure = Erasure { event_id: pending.event_id.clone(), candidate_id, profiles };
        match self.sink.erase(&erasure, &self.state).await {
            Ok(removed) => {
                tracing::info!(
                    event = %pending.event_id,
                    candidate = %erasure.candidate_id,
                    profiles_removed = removed,
                    "candidate erased: its exports are removed"
                );
                self.progress.erased(removed);
                Ok(())
            }
            Err(e) if e.is_fatal() => Err(e),
            Err(e) => {
                tracing::warn!(
                    event = %pending.event_id,
                    candidate = %erasure.candidate_id,
                    attempt = pending.attempts + 1,
                    error = %e,
                    "erasure failed; it will be retried"
                );
                self.state.fail(&pending.event_id, &e.to_string()).await?;
                self.progress.failed();
                Ok(())
            }
        }
    }

    /// Fetches one due export into its staging folder; `None` if there is nothing to commit
    /// (cancelled, skipped, or failed and recorded).
    async fn handle(&self, pending: Pending, cancel: &CancellationToken) -> Result<Option<Staged>, ExportError> {
        if cancel.is_cancelled() {
            return Ok(None);
        }
        // An application of a candidate erased meanwhile is never exported (erasures run
        // alone, so none can start while this one runs).
        if let Some(candidate) = pending.candidate_id.as_deref().filter(|c| !c.is_empty()) {
            if self.state.is_erased(candidate).await? {
                tracing::debug!(event = %pending.event_id, profile = %pending.profile_id, "candidate erased; skipped");
                self.state.skip_erased(&pending.event_id).await?;
                self.progress.skipped();
                return Ok(None);
            }
        }
        // Held until the export is committed: the profile's staging folder is its own.
        let lock = self.profile_lock(&pending.profile_id);
        let guard = lock.clone().lock_owned().await;
        match self.fetch(&pending).await {
            Ok((export, attachments, bytes)) => Ok(Some(Staged { pending, export, attachments, bytes, lock, guard })),
            Err(e) => {
                drop(guard);
                self.release_profile_lock(&pending.profile_id, lock);
                self.settle(&pending, Err(e)).await?;
                Ok(None)
            }
        }
    }

    /// Commits a group of fetched exports and records each one's outcome.
    async fn commit_group(&self, group: Vec<Staged>) -> Result<(), ExportError> {
        let mut exports = Vec::with_capacity(group.len());
        let mut settled = Vec::with_capacity(group.len());
        let mut locks = Vec::with_capacity(group.len());
        for staged in group {
            exports.push(staged.export);
            settled.push((staged.pending, staged.attachments, staged.bytes));
            locks.push((staged.lock, staged.guard));
        }
        let profiles = exports.len();
        let outcomes = self.sink.commit_group(exports, &self.state).await;
        tracing::debug!(profiles, "group committed");
        for ((pending, _, _), (lock, guard)) in settled.iter().zip(locks) {
            drop(guard);
            self.release_profile_lock(&pending.profile_id, lock);
        }
        for ((pending, attachments, bytes), outcome) in settled.iter().zip(outcomes?) {
            self.settle(pending, outcome.map(|()| (*attachments, *bytes))).await?;
        }
        Ok(())
    }

    /// Records how an export ended: exported, rejected (not retried unless asked) or failed
    /// (retried later). A fatal error (configuration, the state) is returned and stops the run.
    async fn settle(&self, pending: &Pending, result: Result<(u64, u64), ExportError>) -> Result<(), ExportError> {
        match result {
            Ok((attachments, bytes)) => {
                tracing::debug!(event = %pending.event_id, profile = %pending.profile_id, attachments, "exported");
                self.progress.exported(attachments, bytes);
                Ok(())
            }
            Err(e) if e.is_fatal() => Err(e),
            Err(e) if e.is_permanent() => {
                tracing::warn!(
                    event = %pending.event_id,
                    profile = %pending.profile_id,
                    error = %e,
                    "export rejected; it is not retried unless asked (--retry-rejected)"
                );
                self.state.reject(&pending.event_id, &e.to_string()).await?;
                self.progress.rejected();
                Ok(())
            }
            Err(e) => {
                tracing::warn!(
                    event = %pending.event_id,
                    profile = %pending.profile_id,
                    attempt = pending.attempts + 1,
                    error = %e,
                    "export failed; it will be retried"
                );
                self.state.fail(&pending.event_id, &e.to_string()).await?;
                self.progress.failed();
                Ok(())
            }
        }
    }

    /// Two events for one profile (SEEK re-sends with fixed data) never export it at once.
    fn profile_lock(&self, profile_id: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut map = self.in_flight.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(profile_id.to_owned()).or_default().clone()
    }

    fn release_profile_lock(&self, profile_id: &str, lock: Arc<tokio::sync::Mutex<()>>) {
        let mut map = self.in_flight.lock().unwrap_or_else(|p| p.into_inner());
        drop(lock);
        if map.get(profile_id).is_some_and(|l| Arc::strong_count(l) == 1) {
            map.remove(profile_id);
        }
    }

    /// Fetches one profile and downloads its attachments into its staging folder; returns the
    /// export to commit, its attachment count and bytes.
    async fn fetch(&self, pending: &Pending) -> Result<(Export, u64, u64), ExportError> {
        let raw = self
            .client
            .candidate_profile_raw(&pending.profile_id)
            .await?
            .ok_or_else(|| ExportError::NotFound(pending.profile_id.clone()))?;
        let profile: CandidateProfile = serde_json::from_str(raw.get())
            .map_err(|e| ExportError::Unusable(format!("profile {}: {e}", pending.profile_id)))?;
        let meta = profile_meta(pending, &profile);
        let staging = self.sink.staging(&meta).await?;
        let mut taken = HashSet::new();
        let mut attachments = Vec::with_capacity(profile.attachments.len());
        let mut bytes = 0;
        for (i, attachment) in profile.attachments.iter().enumerate() {
            let url = attachment.url.as_deref().filter(|u| !u.is_empty()).ok_or_else(|| {
                ExportError::Unusable(format!("profile {}: attachment {} has no url", meta.profile_id, i + 1))
            })?;
            let staged = staging.join(format!("attachment-{}", i + 1));
            // Unsynced: the sink makes the whole group durable at once.
            let downloaded = self.client.download_unsynced(url, &staged).await?;
            let fallback = safe_name(
                &format!("{}-{}", attachment.seek_role_code.as_deref().unwrap_or("attachment"), i + 1),
                "attachment",
            );
            let name = safe_name(downloaded.filename.as_deref().unwrap_or(""), &fallback);
            bytes += downloaded.size;
            attachments.push(FetchedAttachment {
                id: attachment.id.as_ref().map(|i| i.value.clone()),
                seek_role_code: attachment.seek_role_code.clone(),
                descriptions: attachment.descriptions.clone(),
                file_name: unique_name(&name, &mut taken),
                original_filename: downloaded.filename,
                content_type: downloaded.content_type,
                size: downloaded.size,
                sha256: downloaded.sha256,
                source_url: url.to_owned(),
                fetched_at: now(),
                blob: None,
                staged,
            });
        }
        let count = attachments.len() as u64;
        Ok((Export { meta, raw, profile, attachments, staging, exported_at: now() }, count, bytes))
    }

    /// Sums up the run.
    pub async fn summary(&self) -> Result<Summary, ExportError> {
        let counts = self.state.counts().await?;
        Ok(self.progress.finish(self.client.retries(), self.client.token_requests(), counts.pending + counts.failed))
    }
}

/// Where a profile belongs: the job ad's hirer and id from the profile, the event's ids otherwise.
pub fn profile_meta(pending: &Pending, profile: &CandidateProfile) -> ProfileMeta {
    let position = profile.associated_position_profile.as_ref();
    let hirer = position
        .and_then(|p| p.position_organizations.first())
        .and_then(|o| o.id.as_ref())
        .map(|i| i.value.clone())
        .filter(|v| !v.is_empty())
        .or_else(|| pending.hirer_id.clone())
        .unwrap_or_default();
    ProfileMeta {
        // The id asked for, not the one echoed back: that is the key the state and sink use.
        profile_id: pending.profile_id.clone(),
        hirer_id: hirer,
        position_id: position.and_then(|p| p.profile_id.as_ref()).map(|i| i.value.clone()).filter(|v| !v.is_empty()),
        candidate_id: profile
            .candidate
            .as_ref()
            .and_then(|c| c.document_id.as_ref())
            .map(|i| i.value.clone())
            .filter(|v| !v.is_empty())
            .or_else(|| pending.candidate_id.clone()),
        event_id: pending.event_id.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending() -> Pending {
        Pending {
            seq: 1,
            event_id: "e1".into(),
            type_code: crate::state::APPLICATION_CREATED.into(),
            profile_id: "seekAnz:candidateProfile:apply:asked".into(),
            candidate_id: Some("c1".into()),
            hirer_id: Some("seekAnz:organization:seek:fromEvent".into()),
            attempts: 0,
        }
    }

    #[test]
    fn meta_comes_from_the_profile_and_tolerates_nulls_and_unknown_fields() {
        let profile: CandidateProfile = serde_json::from_value(serde_json::json!({
            "profileId": {"value": "seekAnz:candidateProfile:apply:echoed"},
            "candidate": {"documentId": {"value": "c-from-profile"}, "person": null},
            "seekNewField": {"anything": [1, 2]},
            "employment": null,
            "associatedPositionProfile": {
                "profileId": {"value": "seekAnz:positionProfile:jobAd:P1"},
                "positionOrganizations": [{"id": {"value": "seekAnz:organization:seek:H1"}, "name": null}],
                "seekHirerJobReference": null
            },
            "attachments": [{"id": {"value": "a1"}, "url": "https://x/a1", "seekRoleCode": "FutureRole", "descriptions": null}]
        }))
        .expect("lenient");
        let meta = profile_meta(&pending(), &profile);
        assert_eq!(meta.profile_id, "seekAnz:candidateProfile:apply:asked", "the id asked for is the key");
        assert_eq!(meta.hirer_id, "seekAnz:organization:seek:H1");
        assert_eq!(meta.position_id.as_deref(), Some("seekAnz:positionProfile:jobAd:P1"));
        assert_eq!(meta.candidate_id.as_deref(), Some("c-from-profile"));
        assert_eq!(profile.attachments[0].seek_role_code.as_deref(), Some("FutureRole"));
    }

    #[test]
    fn meta_falls_back_to_the_event_when_the_profile_names_no_job_ad() {
        let profile: CandidateProfile =
            serde_json::from_value(serde_json::json!({"associatedPositionProfile": null})).expect("decodes");
        let meta = profile_meta(&pending(), &profile);
        assert_eq!(meta.hirer_id, "seekAnz:organization:seek:fromEvent");
        assert_eq!(meta.position_id, None);
        assert_eq!(meta.candidate_id.as_deref(), Some("c1"));
    }
}
