//! `candex-export`: the partner's exporter engine. It reads the events stream (from a persisted
//! cursor) and webhooks into one durable inbox, fetches each new application's profile and
//! attachments with [`candex_client`], and commits them to a sink (a folder tree, NDJSON, or SQL
//! tables) so that a run killed at any moment and rerun ends with nothing missing, nothing
//! duplicated and no partial files.
//!
//! * [`state`] owns the inbox, the cursor and what was exported (a SQLite file).
//! * [`sink`] owns where profiles go and how each commit is made atomic.
//! * [`engine`] owns fetching and the bounded-concurrency export loop.
//! * [`sync`] and [`listen`] are the two ways events reach the inbox.
//! * [`progress`] owns counters, the progress bar or periodic logs, and the summary.

pub mod engine;
pub mod error;
pub mod files;
pub mod listen;
pub mod names;
pub mod progress;
pub mod sink;
pub mod state;
pub mod sync;

pub use engine::{Exporter, ProfileMeta};
pub use error::ExportError;
pub use progress::Summary;
pub use sink::{open_sink, Sink, SinkSpec};
pub use state::State;
