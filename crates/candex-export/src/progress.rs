//! Counters, what the operator sees while an export runs (a progress bar with counts and rates on
//! a terminal, a structured log line every few seconds otherwise), and the summary at the end.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;

/// Running totals, shared by every task of a run.
#[derive(Debug, Default)]
pub struct Stats {
    /// Events newly recorded in the inbox.
    pub events: AtomicU64,
    /// Profiles exported.
    pub profiles: AtomicU64,
    /// Attachment files exported.
    pub attachments: AtomicU64,
    /// Attachment bytes exported.
    pub bytes: AtomicU64,
    /// Failed exports (each retried later).
    pub failures: AtomicU64,
    /// Exports rejected for good (profile gone or forbidden).
    pub rejected: AtomicU64,
    /// Erasures carried out (`CandidateErased`).
    pub erased_candidates: AtomicU64,
    /// Exported profiles those erasures removed.
    pub erased_profiles: AtomicU64,
}

impl Stats {
    fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// Events newly recorded (polled or received).
    pub events: u64,
    /// Profiles exported.
    pub profiles: u64,
    /// Attachment files exported.
    pub attachments: u64,
    /// Attachment bytes exported.
    pub bytes: u64,
    /// API calls retried (backoffs and token refreshes after `UNAUTHENTICATED`).
    pub retries: u64,
    /// Partner tokens requested.
    pub token_requests: u64,
    /// Failed exports in this run (retried later).
    pub failures: u64,
    /// Exports rejected in this run: the profile is gone or may not be read (not retried).
    pub rejected: u64,
    /// Application and erasure events still waiting (failed ones included).
    pub pending: u64,
    /// Erasures carried out in this run (candex's `CandidateErased` events).
    pub erased_candidates: u64,
    /// Exported profiles those erasures removed.
    pub erased_profiles: u64,
    /// Wall-clock seconds.
    pub elapsed_secs: f64,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let rate = if self.elapsed_secs > 0.0 { self.profiles as f64 / self.elapsed_secs } else { 0.0 };
        write!(
            f,
            "exported {} profiles and {} attachments ({}) in {:.1} s ({rate:.1} profiles/s); \
             {} new events, {} failed, {} rejected, {} retries, {} token requests, {} still pending",
            self.profiles,
            self.attachments,
            human_bytes(self.bytes),
            self.elapsed_secs,
            self.events,
            self.failures,
            self.rejected,
            self.retries,
            self.token_requests,
            self.pending
        )?;
        if self.erased_candidates > 0 {
            write!(
                f,
                "; {} erased: {} removed",
                plural(self.erased_candidates, "candidate", "candidates"),
                plural(self.erased_profiles, "profile", "profiles")
            )?;
        }
        Ok(())
    }
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `1.5 MiB`-style sizes.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// The operator's view of a run.
pub struct Progress {
    stats: Arc<Stats>,
    bar: Option<ProgressBar>,
    started: Instant,
    ticker: Option<tokio::task::JoinHandle<()>>,
}

impl Progress {
    /// A progress bar on stderr when `interactive`, else a log line every `log_every`.
    pub fn new(interactive: bool, log_every: Duration) -> Progress {
        let stats = Arc::new(Stats::default());
        let started = Instant::now();
        if interactive {
            let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} profiles ({per_sec}, eta {eta}) {msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar.enable_steady_tick(Duration::from_millis(200));
            return Progress { stats, bar: Some(bar), started, ticker: None };
        }
        let ticker_stats = stats.clone();
        let ticker = tokio::spawn(async move {
            let mut last = (0, 0, 0);
            let mut interval = tokio::time::interval(log_every);
            interval.tick().await;
            loop {
                interval.tick().await;
                let profiles = Stats::get(&ticker_stats.profiles);
                let now = (profiles, Stats::get(&ticker_stats.failures), Stats::get(&ticker_stats.rejected));
                if now == last {
                    // Idle (e.g. `listen` waiting for webhooks): nothing new to say.
                    continue;
                }
                tracing::info!(
                    profiles,
                    profiles_per_s = (profiles - last.0) as f64 / log_every.as_secs_f64(),
                    attachments = Stats::get(&ticker_stats.attachments),
                    bytes = Stats::get(&ticker_stats.bytes),
                    failures = now.1,
                    rejected = now.2,
                    elapsed_s = started.elapsed().as_secs(),
                    "export progress"
                );
                last = now;
            }
        });
        Progress { stats, bar: None, started, ticker: Some(ticker) }
    }

    /// A silent view (library use and tests).
    pub fn hidden() -> Progress {
        Progress { stats: Arc::new(Stats::default()), bar: None, started: Instant::now(), ticker: None }
    }

    /// The counters.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// More profiles to do.
    pub fn add_work(&self, n: u64) {
        if let Some(bar) = &self.bar {
            bar.inc_length(n);
        }
    }

    /// Shows a phase (e.g. "reading events").
    pub fn phase(&self, message: &str) {
        match &self.bar {
            Some(bar) => bar.set_message(message.to_owned()),
            None => tracing::info!("{message}"),
        }
    }

    /// A profile exported with these attachments.
    pub fn exported(&self, attachments: u64, bytes: u64) {
        self.stats.profiles.fetch_add(1, Ordering::Relaxed);
        self.stats.attachments.fetch_add(attachments, Ordering::Relaxed);
        self.stats.bytes.fetch_add(bytes, Ordering::Relaxed);
        self.tick();
    }

    /// A profile that failed this time.
    pub fn failed(&self) {
        self.stats.failures.fetch_add(1, Ordering::Relaxed);
        self.tick();
    }

    /// A profile rejected for good.
    pub fn rejected(&self) {
        self.stats.rejected.fetch_add(1, Ordering::Relaxed);
        self.tick();
    }

    /// A candidate erased, with this many exported profiles removed.
    pub fn erased(&self, profiles: u64) {
        self.stats.erased_candidates.fetch_add(1, Ordering::Relaxed);
        self.stats.erased_profiles.fetch_add(profiles, Ordering::Relaxed);
    }

    /// Events newly recorded.
    pub fn events(&self, n: u64) {
        self.stats.events.fetch_add(n, Ordering::Relaxed);
    }

    fn tick(&self) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
            bar.set_message(format!(
                "{} attachments, {}, {} failed, {} rejected",
                Stats::get(&self.stats.attachments),
                human_bytes(Stats::get(&self.stats.bytes)),
                Stats::get(&self.stats.failures),
                Stats::get(&self.stats.rejected)
            ));
        }
    }

    /// Stops the bar or ticker and sums up.
    pub fn finish(&self, retries: u64, token_requests: u64, pending: u64) -> Summary {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        if let Some(ticker) = &self.ticker {
            ticker.abort();
        }
        Summary {
            events: Stats::get(&self.stats.events),
            profiles: Stats::get(&self.stats.profiles),
            attachments: Stats::get(&self.stats.attachments),
            bytes: Stats::get(&self.stats.bytes),
            retries,
            token_requests,
            failures: Stats::get(&self.stats.failures),
            rejected: Stats::get(&self.stats.rejected),
            pending,
            erased_candidates: Stats::get(&self.stats.erased_candidates),
            erased_profiles: Stats::get(&self.stats.erased_profiles),
            elapsed_secs: self.started.elapsed().as_secs_f64(),
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(ticker) = &self.ticker {
            ticker.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_mentions_erasures_only_when_there_were_some() {
        let mut summary = Summary { profiles: 3, ..Summary::default() };
        assert!(!summary.to_string().contains("erased"), "{summary}");
        summary.erased_candidates = 1;
        summary.erased_profiles = 2;
        assert!(summary.to_string().ends_with("; 1 candidate erased: 2 profiles removed"), "{summary}");
    }

    #[test]
    fn sizes_read_well() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(4 * 1024 * 1024), "4.0 MiB");
    }
}
