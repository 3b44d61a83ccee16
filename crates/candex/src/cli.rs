//! Command-line flags. Every option can also be set through a `CANDEX_*` environment variable.

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::telemetry::LogFormat;

/// candex: a self-hostable, SEEK-API-compatible candidate profile export server.
///
/// A job board ingests applications through the operator API; partners (ATSs) holding the
/// ApplicationExport relationship with the hirer read them over SEEK's GraphQL API.
#[derive(Debug, Parser)]
#[command(
    name = "candex",
    version,
    propagate_version = true,
    max_term_width = 100,
    after_help = "Quick start: `candex serve --demo` loads demo data and prints credentials.\n\
                  Every command but `export` reads its database from --database (or \
                  CANDEX_DATABASE), default sqlite://candex.db."
)]
pub struct Cli {
    /// Log format on stderr: text (coloured only on a terminal, and never with NO_COLOR set)
    /// or json (one object per line).
    #[arg(long, global = true, env = "CANDEX_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Read settings from this TOML file: keys are long flag names, at the top (every command)
    /// or in a table per command ([serve], [admin], [export.sync], …). Flags and CANDEX_*
    /// variables win over the file, the file over defaults (docs/operators.md).
    #[arg(long, global = true, env = "CANDEX_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server: GraphQL, partner tokens and the operator API on one listener.
    ///
    /// Also serves the GraphQL explorer (GET /graphql in a browser, no internet needed), the
    /// operator API reference (/operator/v1/reference), GET /healthz (liveness), GET /readyz
    /// (503 while the database or the attachment storage is unusable) and GET /metrics.
    /// Refuses to start when the database or the attachment storage does not work.
    Serve(Box<ServeArgs>),
    /// Manage hirers, partners, relationships, job ads and candidates directly in the database,
    /// purge expired data, and look at webhook delivery (prints JSON).
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Ingest applications from an NDJSON file (one operator-API application per line).
    Import(ImportArgs),
    /// Generate deterministic synthetic hirers, job ads and applications (for benchmarks).
    Seed(SeedArgs),
    /// The partner's side: export applications from SEEK or a candex server into a folder,
    /// NDJSON, or SQL tables (sync, listen for webhooks, or get one profile).
    #[command(subcommand)]
    Export(ExportCommand),
    /// Print a shell completion script for candex to stdout (bash, zsh, fish, elvish,
    /// powershell), e.g. `candex completions bash > /etc/bash_completion.d/candex`.
    Completions(CompletionsArgs),
    /// Print candex's man page (roff) to stdout, or write a page per command into a folder.
    Man(ManArgs),
}

/// `candex completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// `candex man`.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write candex.1 and a page per subcommand (candex-serve.1, …) into this folder instead.
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

/// Where the data lives.
#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// Database URL: sqlite://FILE (or a plain file path; only `serve` and `seed` create a
    /// missing one) or postgres://USER:PASS@HOST:PORT/DB (several instances may share one).
    /// Other schemes are refused.
    #[arg(long, env = "CANDEX_DATABASE", default_value = "sqlite://candex.db")]
    pub database: String,
}

/// Where attachment files live, what is accepted, and for how long files are kept.
#[derive(Debug, Clone, Args)]
pub struct BlobArgs {
    /// Attachment storage: a folder, or s3://bucket/prefix (credentials and region from the
    /// usual AWS_* variables). Default: a `blobs` folder beside the SQLite file (./blobs with
    /// PostgreSQL).
    #[arg(long, env = "CANDEX_BLOBS")]
    pub blobs: Option<String>,

    /// Endpoint of an S3-compatible service for s3:// storage (MinIO, R2, …).
    #[arg(long, env = "CANDEX_BLOBS_ENDPOINT")]
    pub blobs_endpoint: Option<String>,

    /// Largest accepted attachment file, in bytes.
    #[arg(long, env = "CANDEX_ATTACHMENT_MAX_BYTES", default_value_t = candex_server::attachments::policy::DEFAULT_MAX_BYTES)]
    pub attachment_max_bytes: u64,

    /// Accepted attachment types: extensions SEEK documents (doc, docx, rtf, pdf, txt), or
    /// EXT=content/type for others; comma-separated.
    #[arg(long, env = "CANDEX_ATTACHMENT_TYPES", default_value = "doc,docx,rtf,pdf,txt")]
    pub attachment_types: String,

    /// Days attachments are kept after their job ad closes; then rows and files are deleted.
    #[arg(long, env = "CANDEX_ATTACHMENT_RETENTION_DAYS", default_value_t = candex_server::attachments::policy::DEFAULT_RETENTION_DAYS)]
    pub attachment_retention_days: u32,

    /// Seconds an upload may take: files no application references, and temporary files, are
    /// deleted by the orphan sweep (`serve` hourly, `admin purge`) only once older than this.
    /// Must exceed the longest upload; 0 is safe only while no server or import runs.
    #[arg(long, env = "CANDEX_ORPHAN_GRACE_SECS", default_value_t = candex_server::attachments::policy::DEFAULT_ORPHAN_GRACE_SECS)]
    pub orphan_grace_secs: u64,
}

/// `candex serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub db: DatabaseArgs,

    #[command(flatten)]
    pub blobs: BlobArgs,

    /// Address to listen on: IP:PORT or HOST:PORT (e.g. localhost:8080, [::]:8080).
    #[arg(long, env = "CANDEX_LISTEN", default_value = "127.0.0.1:8080", value_parser = parse_listen)]
    pub listen: ListenAddr,

    /// Public base URL partners use (token audience and issuer); defaults to http://LISTEN.
    #[arg(long, env = "CANDEX_PUBLIC_URL")]
    pub public_url: Option<url::Url>,

    /// Identifier scheme of minted ids (first segment of every id).
    #[arg(long, env = "CANDEX_SCHEME", default_value = candex_domain::Scheme::DEFAULT)]
    pub scheme: String,

    /// Load deterministic demo data into an empty database and print demo credentials.
    #[arg(long, env = "CANDEX_DEMO", value_parser = boolish())]
    pub demo: bool,

    /// Let partners record process history (shortlisted, interviewed, offered, …) on
    /// application profiles, read it back in `seekProcessHistory`, and let the operator API
    /// read it. Off by default: then, as at SEEK, process history is for uploaded candidates
    /// only and every application's `seekProcessHistory` is null.
    #[arg(long, env = "CANDEX_PROCESS_HISTORY_ON_APPLICATIONS", value_parser = boolish())]
    pub process_history_on_applications: bool,

    /// Key the job board uses for /operator/v1 (Authorization: Bearer). Without one the
    /// operator API is disabled, except with --demo, which uses `demo-operator-key`.
    #[arg(long, env = "CANDEX_OPERATOR_KEY", hide_env_values = true)]
    pub operator_key: Option<String>,

    /// Partner token lifetime in seconds (SEEK's is 1800; a few seconds is useful to test that
    /// clients refresh tokens).
    #[arg(long, env = "CANDEX_TOKEN_LIFETIME", default_value_t = 1800, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub token_lifetime: u64,

    /// Token issuer (`iss`); defaults to the public URL.
    #[arg(long, env = "CANDEX_TOKEN_ISSUER")]
    pub token_issuer: Option<String>,

    /// Token audience (`aud`); defaults to the public URL.
    #[arg(long, env = "CANDEX_TOKEN_AUDIENCE")]
    pub token_audience: Option<String>,

    /// Other `audience` values a token request may name, comma-separated; tokens are still
    /// issued for --token-audience. The default is SEEK's production and Playground audiences,
    /// so SEEK integrations work unchanged; an empty value accepts only --token-audience.
    #[arg(
        long,
        env = "CANDEX_TOKEN_ACCEPTED_AUDIENCES",
        default_value = "https://graphql.seek.com,https://test.graphql.seek.com"
    )]
    pub token_accepted_audiences: String,

    /// Token signing key, base64 (at least 32 bytes), installed in the database (sealed) as
    /// the key that signs; a key that was ever rotated out is refused. Without it, the key
    /// kept in the database signs (generated on first start; rotate it with
    /// `candex admin signing-key rotate`).
    #[arg(long, env = "CANDEX_TOKEN_SIGNING_KEY", hide_env_values = true)]
    pub token_signing_key: Option<String>,

    /// An origin (scheme://host[:port]) whose pages may call /graphql and download attachments
    /// with a browser token (CORS); repeat for several, or `*` for any. None by default. The
    /// environment variable takes a comma-separated list.
    #[arg(long = "cors-allow-origin", value_name = "ORIGIN", env = "CANDEX_CORS_ALLOW_ORIGINS", value_delimiter = ',')]
    pub cors_allow_origins: Vec<String>,

    #[command(flatten)]
    pub master_key: MasterKeyArgs,

    #[command(flatten)]
    pub webhooks: WebhookArgs,

    #[command(flatten)]
    pub limits: LimitArgs,
}

/// The master key (key-encryption key) that seals the secrets kept in the database.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Master key")]
pub struct MasterKeyArgs {
    /// File holding the master key: 32 bytes in base64 (`candex admin master-key generate
    /// --out FILE`). Required outside `--demo`; keep it apart from the database and its backups.
    #[arg(long, env = "CANDEX_MASTER_KEY_FILE")]
    pub master_key_file: Option<std::path::PathBuf>,
    /// The master key itself, base64 (prefer the file: flags are visible to other local users).
    #[arg(long, env = "CANDEX_MASTER_KEY", hide_env_values = true, conflicts_with = "master_key_file")]
    pub master_key: Option<String>,
}

/// Limits of `candex serve`: what one client, connection or request may cost. The defaults
/// suit a server facing the internet; docs/operators.md lists each one.
#[derive(Debug, Args)]
#[command(next_help_heading = "Limits")]
pub struct LimitArgs {
    /// Connections served at once; one more is answered 503 and closed.
    #[arg(long, env = "CANDEX_MAX_CONNECTIONS", default_value_t = 1024,
          value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_connections: u64,

    /// Seconds a client has to send a complete request head (also HTTP/1's keep-alive idle limit).
    #[arg(long, env = "CANDEX_HEADER_READ_TIMEOUT_SECS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..=3_600))]
    pub header_read_timeout_secs: u64,

    /// Seconds a connection may sit with no request in flight and no bytes moving.
    #[arg(long, env = "CANDEX_IDLE_TIMEOUT_SECS", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub idle_timeout_secs: u64,

    /// Seconds one request may take, body and execution included (answered 408).
    #[arg(long, env = "CANDEX_REQUEST_TIMEOUT_SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=3_600))]
    pub request_timeout_secs: u64,

    /// Seconds in-flight requests get after SIGTERM before remaining connections are dropped.
    #[arg(long, env = "CANDEX_SHUTDOWN_GRACE_SECS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(0..=3_600))]
    pub shutdown_grace_secs: u64,

    /// Largest request body in bytes for JSON and GraphQL (attachment uploads have their own
    /// limit, --attachment-max-bytes).
    #[arg(long, env = "CANDEX_MAX_BODY_BYTES", default_value_t = 1024 * 1024,
          value_parser = clap::value_parser!(u64).range(1024..=64 * 1024 * 1024))]
    pub max_body_bytes: u64,

    /// Longest GraphQL query text, in bytes.
    #[arg(long, env = "CANDEX_GRAPHQL_MAX_QUERY_BYTES", default_value_t = 64 * 1024,
          value_parser = clap::value_parser!(u64).range(1024..=16 * 1024 * 1024))]
    pub graphql_max_query_bytes: u64,

    /// Most lexical tokens in one GraphQL query text.
    #[arg(long, env = "CANDEX_GRAPHQL_MAX_TOKENS", default_value_t = 10_000,
          value_parser = clap::value_parser!(u64).range(100..=1_000_000))]
    pub graphql_max_tokens: u64,

    /// Deepest nesting of brackets in a GraphQL query and of arrays and objects in its JSON.
    #[arg(long, env = "CANDEX_GRAPHQL_MAX_NESTING", default_value_t = 64,
          value_parser = clap::value_parser!(u64).range(16..=128))]
    pub graphql_max_nesting: u64,

    /// Most selections (fields, fragments, directives) in a GraphQL document with every
    /// fragment spread expanded.
    #[arg(long, env = "CANDEX_GRAPHQL_MAX_SELECTIONS", default_value_t = 5_000,
          value_parser = clap::value_parser!(u64).range(100..=1_000_000))]
    pub graphql_max_selections: u64,

    /// Token requests per second per source address (0 turns the limit off).
    #[arg(long, env = "CANDEX_RATE_TOKEN_PER_ADDRESS", default_value_t = 10)]
    pub rate_token_per_address: u32,

    /// Token requests per second per client id (0 turns the limit off).
    #[arg(long, env = "CANDEX_RATE_TOKEN_PER_CLIENT", default_value_t = 5)]
    pub rate_token_per_client: u32,

    /// GraphQL requests per second without a valid token, per source address (0: off).
    #[arg(long, env = "CANDEX_RATE_ANONYMOUS_PER_ADDRESS", default_value_t = 20)]
    pub rate_anonymous_per_address: u32,

    /// GraphQL requests and attachment downloads per second per partner (0: off).
    #[arg(long, env = "CANDEX_RATE_PARTNER", default_value_t = 2_000)]
    pub rate_partner: u32,

    /// Take each client's address from the last X-Forwarded-For entry, for rate limits behind
    /// a reverse proxy that appends it. Leave off when clients connect directly.
    #[arg(long, env = "CANDEX_TRUST_FORWARDED_FOR", value_parser = boolish())]
    pub trust_forwarded_for: bool,
}

/// Webhook delivery options of `candex serve`.
#[derive(Debug, Args)]
#[command(next_help_heading = "Webhooks")]
pub struct WebhookArgs {
    /// Accept webhook subscription URLs on loopback, private and link-local addresses (and
    /// deliver to them). Off by default: such targets are refused as SSRF. `--demo` turns it on
    /// so a receiver on localhost works.
    #[arg(long, env = "CANDEX_ALLOW_PRIVATE_WEBHOOK_TARGETS", value_parser = boolish())]
    pub allow_private_webhook_targets: bool,

    /// Milliseconds a webhook receiver has to answer before the request counts as
    /// `RequestTimeout` (SEEK allows 10 s).
    #[arg(long, env = "CANDEX_WEBHOOK_TIMEOUT_MS", default_value_t = 10_000,
          value_parser = clap::value_parser!(u64).range(100..=60_000))]
    pub webhook_timeout_ms: u64,

    /// Milliseconds of backoff after a subscription's first failed request; it doubles per
    /// further failure (with jitter) up to --webhook-retry-max-secs.
    #[arg(long, env = "CANDEX_WEBHOOK_RETRY_BASE_MS", default_value_t = 5_000,
          value_parser = clap::value_parser!(u64).range(10..=3_600_000))]
    pub webhook_retry_base_ms: u64,

    /// Longest backoff between retries, in seconds. Undelivered events are retried until
    /// they leave the retention window.
    #[arg(long, env = "CANDEX_WEBHOOK_RETRY_MAX_SECS", default_value_t = 3_600,
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub webhook_retry_max_secs: u64,

    /// Webhook requests in flight at once (at most one per subscription).
    #[arg(long, env = "CANDEX_WEBHOOK_CONCURRENCY", default_value_t = 16,
          value_parser = clap::value_parser!(u64).range(1..=1_000))]
    pub webhook_concurrency: u64,

    /// Days events, webhook requests and attempts are kept (SEEK keeps 90).
    #[arg(long, env = "CANDEX_EVENT_RETENTION_DAYS", default_value_t = 90,
          value_parser = clap::value_parser!(u64).range(1..=3_650))]
    pub event_retention_days: u64,
}

/// `candex admin …`.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Hirers.
    #[command(subcommand)]
    Hirer(HirerCommand),
    /// Partners.
    #[command(subcommand)]
    Partner(PartnerCommand),
    /// Partner-hirer relationships.
    #[command(subcommand)]
    Relationship(RelationshipCommand),
    /// Job ads.
    #[command(subcommand)]
    Position(PositionCommand),
    /// Candidates.
    #[command(subcommand)]
    Candidate(CandidateCommand),
    /// Delete attachments kept longer than the retention period after their job ad closed
    /// (rows, then files no attachment references), orphaned files (no attachment references
    /// them, older than --orphan-grace-secs) and temporary files of unfinished uploads, and
    /// events and webhook delivery records older than the event retention. `serve` also does
    /// this every hour.
    Purge {
        #[command(flatten)]
        db: DatabaseArgs,
        #[command(flatten)]
        blobs: BlobArgs,
        /// Days events, webhook requests and attempts are kept.
        #[arg(long, env = "CANDEX_EVENT_RETENTION_DAYS", default_value_t = 90,
              value_parser = clap::value_parser!(u64).range(1..=3_650))]
        event_retention_days: u64,
        /// Also rewrite the tables that hold personal data, so that no erased value stays in
        /// the database's files. Needed on PostgreSQL, where an erasure leaves old row
        /// versions in the table files (`VACUUM FULL`: each table is locked while it is
        /// rewritten, so run it off-peak); on SQLite an erasure already reaches the file.
        #[arg(long)]
        compact: bool,
    },
    /// Webhook delivery: recent requests, failures and the queue.
    #[command(subcommand)]
    Webhooks(WebhookCommand),
    /// The master key that seals the secrets kept in the database: generate one, or reseal
    /// everything under a new one.
    #[command(subcommand)]
    MasterKey(MasterKeyCommand),
    /// The token signing keys: rotate, list.
    #[command(subcommand)]
    SigningKey(SigningKeyCommand),
}

/// `candex admin master-key …`.
#[derive(Debug, Subcommand)]
pub enum MasterKeyCommand {
    /// Print a new random master key (base64), or write it to a new owner-only file.
    Generate {
        /// Write the key to this file (created with mode 0600; never overwritten).
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
    /// Reseal every secret in the database under a new master key (one transaction), then
    /// start every instance with the new key.
    Rotate {
        #[command(flatten)]
        db: DatabaseArgs,
        /// The current master key.
        #[command(flatten)]
        key: MasterKeyArgs,
        /// File holding the new master key.
        #[arg(long)]
        new_key_file: std::path::PathBuf,
    },
}

/// `candex admin signing-key …`.
#[derive(Debug, Subcommand)]
pub enum SigningKeyCommand {
    /// Make a new random key the signing key. The old one only verifies from now on, until
    /// every token it signed has expired (the token lifetime), and is then retired for good.
    /// Running servers sign with the new key within seconds.
    Rotate {
        #[command(flatten)]
        db: DatabaseArgs,
        #[command(flatten)]
        key: MasterKeyArgs,
        /// The servers' partner token lifetime in seconds (`serve --token-lifetime`).
        #[arg(long, env = "CANDEX_TOKEN_LIFETIME", default_value_t = 1800,
              value_parser = clap::value_parser!(u64).range(1..=86_400))]
        token_lifetime: u64,
    },
    /// List the signing keys and their state (no secrets).
    List {
        #[command(flatten)]
        db: DatabaseArgs,
    },
}

/// `candex admin webhooks …`.
#[derive(Debug, Subcommand)]
pub enum WebhookCommand {
    /// The most recent webhook requests over every partner, newest first, with status,
    /// outcome code and latency.
    Deliveries {
        #[command(flatten)]
        db: DatabaseArgs,
        /// Only failed requests (any outcome but Success).
        #[arg(long)]
        failures: bool,
        /// How many to show.
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=10_000))]
        limit: u32,
    },
    /// The delivery queue: undelivered (subscription, event) pairs and the oldest one's age.
    Queue {
        #[command(flatten)]
        db: DatabaseArgs,
    },
}

/// `candex admin candidate …`.
#[derive(Debug, Subcommand)]
pub enum CandidateCommand {
    /// Erase a candidate as SEEK redacts deleted candidates: name `redacted`, contact details,
    /// histories, attachments (and their files) and questionnaire answers removed; ids stay valid.
    Erase {
        #[command(flatten)]
        db: DatabaseArgs,
        #[command(flatten)]
        blobs: BlobArgs,
        /// Candidate id.
        id: String,
    },
}

/// `candex admin hirer …`.
#[derive(Debug, Subcommand)]
pub enum HirerCommand {
    /// Create a hirer.
    Create {
        #[command(flatten)]
        db: DatabaseArgs,
        /// Display name.
        #[arg(long)]
        name: String,
        /// Identifier scheme.
        #[arg(long, env = "CANDEX_SCHEME", default_value = candex_domain::Scheme::DEFAULT)]
        scheme: String,
    },
    /// List hirers.
    List {
        #[command(flatten)]
        db: DatabaseArgs,
    },
}

/// `candex admin partner …`.
#[derive(Debug, Subcommand)]
pub enum PartnerCommand {
    /// Create a partner; prints its client id and secret (shown only this once).
    Create {
        #[command(flatten)]
        db: DatabaseArgs,
        /// Display name.
        #[arg(long)]
        name: String,
        /// Identifier scheme.
        #[arg(long, env = "CANDEX_SCHEME", default_value = candex_domain::Scheme::DEFAULT)]
        scheme: String,
    },
    /// List partners (without secrets).
    List {
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Give a partner a new client secret (printed once); the previous one keeps working
    /// until `retire-secret`.
    RotateSecret {
        #[command(flatten)]
        db: DatabaseArgs,
        /// Partner id.
        id: String,
    },
    /// Retire a partner's previous client secret: only the newest one works from now on.
    RetireSecret {
        #[command(flatten)]
        db: DatabaseArgs,
        /// Partner id.
        id: String,
    },
    /// Revoke every token issued to a partner so far, on every instance at once.
    RevokeTokens {
        #[command(flatten)]
        db: DatabaseArgs,
        /// Partner id.
        id: String,
    },
}

/// `candex admin relationship …`.
#[derive(Debug, Subcommand)]
pub enum RelationshipCommand {
    /// Replace the relationships a partner holds with a hirer; no --type revokes them all.
    Set {
        #[command(flatten)]
        db: DatabaseArgs,
        /// Partner id.
        #[arg(long)]
        partner: String,
        /// Hirer id.
        #[arg(long)]
        hirer: String,
        /// ApplicationExport, JobPosting or ProactiveSourcing; repeat for several.
        #[arg(long = "type", value_name = "CODE")]
        types: Vec<String>,
    },
}

/// `candex admin position …`.
#[derive(Debug, Subcommand)]
pub enum PositionCommand {
    /// Post a job ad.
    Create {
        #[command(flatten)]
        db: DatabaseArgs,
        /// Hirer id.
        #[arg(long)]
        hirer: String,
        /// Job title.
        #[arg(long)]
        title: String,
        /// The hirer's job reference.
        #[arg(long)]
        reference: Option<String>,
        /// Work type: FullTime, PartTime, ContractTemp or Casual.
        #[arg(long)]
        work_type: Option<String>,
        /// Public URL of the ad (defaults to one under the server's public URL).
        #[arg(long)]
        position_uri: Option<String>,
        /// The server's public base URL, for the ad's default URL. Default: the one `candex
        /// serve` last ran with on this database.
        #[arg(long, env = "CANDEX_PUBLIC_URL")]
        public_url: Option<String>,
        /// Identifier scheme.
        #[arg(long, env = "CANDEX_SCHEME", default_value = candex_domain::Scheme::DEFAULT)]
        scheme: String,
    },
    /// Close a job ad.
    Close {
        #[command(flatten)]
        db: DatabaseArgs,
        /// Position profile id.
        id: String,
    },
    /// List job ads, newest first.
    List {
        #[command(flatten)]
        db: DatabaseArgs,
        /// Only this hirer's.
        #[arg(long)]
        hirer: Option<String>,
    },
}

/// `candex import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(flatten)]
    pub db: DatabaseArgs,
    #[command(flatten)]
    pub blobs: BlobArgs,
    /// NDJSON file, one application per line (`-` reads stdin).
    pub file: PathBuf,
    /// Applications stored per transaction.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub batch_size: u32,
    /// Identifier scheme.
    #[arg(long, env = "CANDEX_SCHEME", default_value = candex_domain::Scheme::DEFAULT)]
    pub scheme: String,
}

/// `candex seed`.
#[derive(Debug, Args)]
pub struct SeedArgs {
    #[command(flatten)]
    pub db: DatabaseArgs,
    /// Number of applications (candidate profiles) to generate.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    pub profiles: u64,
    /// Random seed; the same seed gives the same data.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Number of hirers.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub hirers: u32,
    /// Job ads per hirer.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub positions_per_hirer: u32,
    /// Public base URL used for position URIs.
    #[arg(long, env = "CANDEX_PUBLIC_URL", default_value = "http://127.0.0.1:8080")]
    pub public_url: String,
    /// Identifier scheme.
    #[arg(long, env = "CANDEX_SCHEME", default_value = candex_domain::Scheme::DEFAULT)]
    pub scheme: String,
}

/// The value parser of boolean flags that also read an environment variable: besides
/// `true`/`false` it takes the usual spellings (1/0, yes/no, on/off, y/n, t/f).
fn boolish() -> clap::builder::BoolishValueParser {
    clap::builder::BoolishValueParser::new()
}

/// A listen address as given (`localhost:8080`) and what it resolved to, IPv4 first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenAddr {
    /// The text given, for messages.
    pub given: String,
    /// The addresses to try binding, in order.
    pub addrs: Vec<SocketAddr>,
}

impl std::fmt::Display for ListenAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.given)
    }
}

/// Parses IP:PORT, or resolves HOST:PORT (IPv4 addresses first, so `localhost` serves the
/// clients that try 127.0.0.1).
fn parse_listen(value: &str) -> Result<ListenAddr, String> {
    if let Ok(addr) = value.parse::<SocketAddr>() {
        return Ok(ListenAddr { given: value.to_owned(), addrs: vec![addr] });
    }
    let (host, port) = value.rsplit_once(':').ok_or("expected IP:PORT or HOST:PORT, e.g. 127.0.0.1:8080")?;
    if host.is_empty() {
        return Err("the host is missing: use IP:PORT or HOST:PORT, e.g. 0.0.0.0:8080".to_owned());
    }
    port.parse::<u16>().map_err(|_| format!("port {port:?} is not a number from 0 to 65535"))?;
    let mut addrs: Vec<SocketAddr> =
        value.to_socket_addrs().map_err(|e| format!("cannot resolve {host:?}: {e}"))?.collect();
    addrs.sort_by_key(|a| a.is_ipv6());
    addrs.dedup();
    if addrs.is_empty() {
        return Err(format!("{host:?} resolves to no address"));
    }
    Ok(ListenAddr { given: value.to_owned(), addrs })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn listen_addresses_take_host_names_and_report_bad_ones() {
        assert_eq!(parse_listen("127.0.0.1:8080").unwrap().addrs, vec!["127.0.0.1:8080".parse().unwrap()]);
        assert_eq!(parse_listen("[::1]:0").unwrap().addrs, vec!["[::1]:0".parse().unwrap()]);
        let local = parse_listen("localhost:8080").unwrap();
        assert_eq!(local.given, "localhost:8080");
        assert_eq!(local.addrs[0], "127.0.0.1:8080".parse().unwrap(), "IPv4 first: {local:?}");
        assert!(parse_listen("localhost").unwrap_err().contains("HOST:PORT"));
        assert!(parse_listen("localhost:http").unwrap_err().contains("not a number"));
        assert!(parse_listen(":8080").unwrap_err().contains("host is missing"));
    }

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}

/// `candex export …`: the partner's exporter.
#[derive(Debug, Subcommand)]
#[command(after_help = "Against a candex server: --server http://127.0.0.1:8080. Without --server, \
    candex export talks to SEEK (graphql.seek.com, auth.seek.com).\n\
    Exit codes: 0 done, 1 some exports failed or are still pending (rerun to retry them) or were \
    rejected (see --retry-rejected), 2 usage or configuration error.")]
pub enum ExportCommand {
    /// Read the events stream from the saved cursor, export every new application with its
    /// attachments, and exit when caught up (or keep following with --follow).
    Sync(ExportSyncArgs),
    /// Receive signed webhooks, record them in a durable inbox, answer at once, and export in
    /// the background; poll the events stream on an interval to fill gaps.
    Listen(ExportListenArgs),
    /// Print one candidate profile as JSON, exactly as the server returns it.
    Get(ExportGetArgs),
}

/// Which API and as whom.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "API")]
pub struct ExportApiArgs {
    /// Base URL of a candex server (GraphQL at /graphql, tokens at /oauth/token, audience = the
    /// URL). Without it, SEEK's production endpoints are used.
    #[arg(long, env = "CANDEX_EXPORT_SERVER")]
    pub server: Option<url::Url>,

    /// Partner client id.
    #[arg(long, env = "CANDEX_EXPORT_CLIENT_ID")]
    pub client_id: String,

    /// Partner client secret. Prefer the environment variable: flags are visible to other
    /// users in the process list.
    #[arg(long, env = "CANDEX_EXPORT_CLIENT_SECRET", hide_env_values = true)]
    pub client_secret: String,

    /// Scheme of the events stream. Default: seekAnz against SEEK, seekAnzPublicTest (candex's
    /// default scheme) with --server.
    #[arg(long, env = "CANDEX_EXPORT_SCHEME_ID")]
    pub scheme_id: Option<String>,

    /// Token audience, if not the default (https://graphql.seek.com against SEEK, the --server
    /// URL otherwise). SEEK's Playground uses https://test.graphql.seek.com.
    #[arg(long, env = "CANDEX_EXPORT_AUDIENCE")]
    pub audience: Option<String>,
}

/// Where exported profiles go.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Output")]
pub struct ExportSinkArgs {
    /// Destination: a folder (DIR/<hirer>/<job ad>/<profile>/ with profile.json, manifest.json
    /// and attachments/), a .ndjson file, `-` for NDJSON on stdout, or a sqlite://FILE or
    /// postgres:// URL (tables candex_profiles, candex_candidates, candex_attachments).
    #[arg(long, env = "CANDEX_EXPORT_OUT")]
    pub out: String,

    /// Format of a file --out (a .ndjson or .jsonl name already means ndjson).
    #[arg(long, env = "CANDEX_EXPORT_FORMAT", value_enum)]
    pub format: Option<ExportFormat>,

    /// Folder for attachment files of NDJSON and SQL outputs (stored by SHA-256). Default:
    /// beside the file (FILE.files); required for stdout and postgres://.
    #[arg(long, env = "CANDEX_EXPORT_BLOBS")]
    pub blobs: Option<PathBuf>,

    /// The export state (events cursor, inbox, what was exported where). Default: DIR/.candex/
    /// for folders, FILE.state.db beside files, BLOBS/.candex/ otherwise.
    #[arg(long, env = "CANDEX_EXPORT_STATE")]
    pub state: Option<PathBuf>,

    /// Profiles exported at once.
    #[arg(long, env = "CANDEX_EXPORT_CONCURRENCY", default_value_t = 8,
          value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: u16,

    /// Progress display: a bar on a terminal and log lines otherwise (auto), or force one.
    #[arg(long, env = "CANDEX_EXPORT_PROGRESS", value_enum, default_value_t = ExportProgress::Auto)]
    pub progress: ExportProgress,
}

/// `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// A folder tree.
    Dir,
    /// Newline-delimited JSON, one profile per line.
    Ndjson,
}

/// `--progress`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportProgress {
    /// A bar when stderr is a terminal, log lines otherwise.
    Auto,
    /// Always a bar.
    Bar,
    /// Always log lines.
    Log,
}

/// `candex export sync`.
#[derive(Debug, Args)]
pub struct ExportSyncArgs {
    #[command(flatten)]
    pub api: ExportApiArgs,

    #[command(flatten)]
    pub sink: ExportSinkArgs,

    /// On the first run only (no saved cursor), start at events after this time (RFC 3339,
    /// e.g. 2026-11-01T00:00:00Z) instead of the start of the stream.
    #[arg(long, env = "CANDEX_EXPORT_SINCE")]
    pub since: Option<String>,

    /// Keep running: poll for new events every --poll-interval-secs until interrupted.
    #[arg(long, env = "CANDEX_EXPORT_FOLLOW", value_parser = boolish())]
    pub follow: bool,

    /// Retry exports rejected by earlier runs because the profile was gone or reading it was
    /// forbidden (e.g. after a hirer restored the relationship). Failed exports of other kinds
    /// are always retried.
    #[arg(long)]
    pub retry_rejected: bool,

    /// Seconds between polls with --follow.
    #[arg(long, env = "CANDEX_EXPORT_POLL_INTERVAL_SECS", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub poll_interval_secs: u64,
}

/// `candex export listen`.
#[derive(Debug, Args)]
pub struct ExportListenArgs {
    #[command(flatten)]
    pub api: ExportApiArgs,

    #[command(flatten)]
    pub sink: ExportSinkArgs,

    /// Address to receive webhooks on (any path; GET /healthz answers "ok"): IP:PORT or
    /// HOST:PORT.
    #[arg(long, env = "CANDEX_EXPORT_BIND", default_value = "127.0.0.1:8090", value_parser = parse_listen)]
    pub bind: ListenAddr,

    /// The webhook subscription's secret (16 characters to 255 bytes, as the server requires):
    /// requests without a valid Seek-Signature are refused with 400.
    #[arg(
        long,
        env = "CANDEX_EXPORT_WEBHOOK_SECRET",
        hide_env_values = true,
        required_unless_present = "allow_unsigned"
    )]
    pub secret: Option<String>,

    /// Accept unsigned webhooks (a subscription with signingAlgorithmCode None). Anyone who
    /// can reach --bind can then make the exporter fetch profiles.
    #[arg(long, env = "CANDEX_EXPORT_ALLOW_UNSIGNED", value_parser = boolish(), conflicts_with = "secret")]
    pub allow_unsigned: bool,

    /// On the first run only (no saved cursor), poll events after this time (RFC 3339)
    /// instead of the start of the stream.
    #[arg(long, env = "CANDEX_EXPORT_SINCE")]
    pub since: Option<String>,

    /// Seconds between polls of the events stream that fill gaps lost webhooks leave; 0
    /// turns polling off.
    #[arg(long, env = "CANDEX_EXPORT_POLL_INTERVAL_SECS", default_value_t = 300,
          value_parser = clap::value_parser!(u64).range(0..=86_400))]
    pub poll_interval_secs: u64,
}

/// `candex export get`.
#[derive(Debug, Args)]
pub struct ExportGetArgs {
    #[command(flatten)]
    pub api: ExportApiArgs,

    /// The candidate profile id (e.g. from a CandidateApplicationCreated event).
    pub profile_id: String,
}
