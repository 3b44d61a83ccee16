//! Counters, what the operator sees while an export runs (a progress bar with counts and rates on
//! a terminal, a structured log line every few seconds otherwise), and the summary at the end.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
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
        write!(
            f,
            "exported {} and {} ({}) in {:.1} s ({}); {}, {} failed, {} rejected, {}, {}, {} still pending",
            plural(self.profiles, "profile", "profiles"),
            plural(self.attachments, "attachment", "attachments"),
            human_bytes(self.bytes),
            self.elapsed_secs,
            rate(self.profiles, self.elapsed_secs, "profiles/s"),
            plural(self.events, "new event", "new events"),
            self.failures,
            self.rejected,
            plural(self.retries, "retry", "retries"),
            plural(self.token_requests, "token request", "token requests"),
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

/// `12.3 profiles/s`: one decimal below 100 a second, none above.
fn rate(count: u64, secs: f64, unit: &str) -> String {
    let per_sec = if secs > 0.0 { count as f64 / secs } else { 0.0 };
    if per_sec >= 100.0 {
        format!("{per_sec:.0} {unit}")
    } else {
        format!("{per_sec:.1} {unit}")
    }
}

/// `1 profile`, `2 profiles`.
pub fn plural(n: u64, one: &str, many: &str) -> String {
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
    /// Exports handed out since the current pass began (see [`Self::expect`]).
    queued: AtomicU64,
    /// The bar's position when the current pass began.
    pass_start: AtomicU64,
    started: Instant,
    ticker: Option<tokio::task::JoinHandle<()>>,
}

/// The bar while the amount of work is unknown (reading events): no bar, no ETA.
const COUNTING: &str = "{spinner} [{elapsed_precise}] {pos} exports ({rate}) {msg}";
/// The bar once the pass's work is counted.
const EXPORTING: &str = "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} exports ({rate}, eta {eta}) {msg}";

fn bar_style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_spinner()).with_key(
        "rate",
        |state: &ProgressState, w: &mut dyn std::fmt::Write| {
            let per_sec = state.per_sec();
            let _ = if !per_sec.is_finite() {
                write!(w, "-/s")
            } else if per_sec >= 100.0 {
                write!(w, "{per_sec:.0}/s")
            } else {
                write!(w, "{per_sec:.1}/s")
            };
        },
    )
}

impl Progress {
    /// A progress bar on stderr when `interactive`, else a log line every `log_every`.
    pub fn new(interactive: bool, log_every: Duration) -> Progress {
        let stats = Arc::new(Stats::default());
        let started = Instant::now();
        let (queued, pass_start) = (AtomicU64::new(0), AtomicU64::new(0));
        if interactive {
            // No length until the work is counted: a bar of 0/0 draws full.
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            bar.set_style(bar_style(COUNTING));
            bar.enable_steady_tick(Duration::from_millis(200));
            return Progress { stats, bar: Some(bar), queued, pass_start, started, ticker: None };
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
                let per_sec = (profiles - last.0) as f64 / log_every.as_secs_f64();
                tracing::info!(
                    profiles,
                    profiles_per_s = (per_sec * 10.0).round() / 10.0,
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
        Progress { stats, bar: None, queued, pass_start, started, ticker: Some(ticker) }
    }

    /// A silent view (library use and tests).
    pub fn hidden() -> Progress {
        Progress {
            stats: Arc::new(Stats::default()),
            bar: None,
            queued: AtomicU64::new(0),
            pass_start: AtomicU64::new(0),
            started: Instant::now(),
            ticker: None,
        }
    }

    /// The counters.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// A pass over the inbox begins with `due` exports counted: the bar shows them as its
    /// length (and an ETA) from now on.
    pub fn expect(&self, due: u64) {
        if let Some(bar) = &self.bar {
            let position = bar.position();
            self.pass_start.store(position, Ordering::Relaxed);
            self.queued.store(0, Ordering::Relaxed);
            bar.set_length(position + due);
            bar.set_style(bar_style(EXPORTING));
        }
    }

    /// `n` more exports handed out in this pass; the length grows if more arrived than were
    /// counted (webhooks, or events recorded meanwhile).
    pub fn add_work(&self, n: u64) {
        if let Some(bar) = &self.bar {
            let queued = self.queued.fetch_add(n, Ordering::Relaxed) + n;
            let needed = self.pass_start.load(Ordering::Relaxed) + queued;
            if bar.length().is_none_or(|len| len < needed) {
                bar.set_length(needed);
                bar.set_style(bar_style(EXPORTING));
            }
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

    /// An export skipped (its candidate was erased meanwhile).
    pub fn skipped(&self) {
        self.tick();
    }

    /// A candidate erased, with this many exported profiles removed.
    pub fn erased(&self, profiles: u64) {
        self.stats.erased_candidates.fetch_add(1, Ordering::Relaxed);
        self.stats.erased_profiles.fetch_add(profiles, Ordering::Relaxed);
        self.tick();
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
    fn the_summary_counts_in_words_and_rounds_rates() {
        let one = Summary {
            profiles: 1,
            attachments: 1,
            events: 1,
            retries: 1,
            token_requests: 1,
            elapsed_secs: 3.0,
            ..Summary::default()
        };
        let text = one.to_string();
        for part in
            ["exported 1 profile and 1 attachment", "(0.3 profiles/s)", "1 new event,", "1 retry,", "1 token request,"]
        {
            assert!(text.contains(part), "{part:?} in {text}");
        }
        let many = Summary { profiles: 12_345, token_requests: 2, elapsed_secs: 7.0, ..Summary::default() };
        let text = many.to_string();
        assert!(text.contains("(1764 profiles/s)") && text.contains("2 token requests"), "{text}");
    }

    #[test]
    fn the_bar_has_no_length_until_the_work_is_counted_and_grows_past_the_count() {
        let progress = Progress::new(true, Duration::from_secs(5));
        let bar = progress.bar.clone().expect("a bar");
        bar.set_draw_target(ProgressDrawTarget::hidden());
        assert_eq!(bar.length(), None, "no 0/0 (drawn full) while events are read");
        progress.expect(10);
        assert_eq!(bar.length(), Some(10));
        progress.add_work(8);
        progress.exported(0, 0);
        progress.add_work(4); // 12 handed out, 10 counted: webhooks arrived meanwhile
        assert_eq!(bar.length(), Some(12));
        assert_eq!(bar.position(), 1);
        progress.expect(3); // the next pass counts from where the bar is
        assert_eq!(bar.length(), Some(4));
    }

    #[test]
    fn sizes_read_well() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(4 * 1024 * 1024), "4.0 MiB");
    }
}
