//! A real candex server in the test's process.

use std::ops::Deref;
use std::path::PathBuf;
use std::sync::{Arc, Once};
use std::time::Duration;

use candex_server::config::TokenSettings;
use candex_server::{Application, Settings};
use candex_store::Store;

use crate::operator::Operator;
use crate::store::{scratch_store, ScratchStore};

/// The operator key every test server uses.
pub const OPERATOR_KEY: &str = "test-operator-key";
/// The token signing key every test server uses, so tests can forge tokens deliberately.
pub const SIGNING_KEY: [u8; 32] = [42; 32];
/// The master key (key-encryption key) every test server seals its secrets with, so a second
/// server on the same database ([`TestServer::spawn_beside`]) opens them.
pub const MASTER_KEY: [u8; 32] = [24; 32];

static TRACING: Once = Once::new();

/// Server logs in the test output when `TEST_LOG` is set.
fn init_tracing() {
    TRACING.call_once(|| {
        if std::env::var_os("TEST_LOG").is_some() {
            let _ = tracing_subscriber::fmt().with_test_writer().with_env_filter("info").try_init();
        }
    });
}

/// A candex server running on `127.0.0.1:0` in this process, over a [`scratch_store`], with
/// attachment blobs in a temporary folder. It stops, and its database and files go, when this
/// is dropped.
///
/// It dereferences to its [`Operator`], so `server.create_hirer("Acme")`, `server.base` and
/// `server.client` work directly.
pub struct TestServer {
    operator: Operator,
    /// The server's store, for tests that look past the API.
    pub store: Arc<dyn Store>,
    /// The URL of the server's database, for tests that inspect rows directly.
    pub db_url: String,
    /// The folder of the server's attachment blobs.
    pub blobs_dir: PathBuf,
    _dir: tempfile::TempDir,
    _shutdown: tokio::sync::oneshot::Sender<()>,
    _database: Option<ScratchStore>,
}

/// The test settings: operator key [`OPERATOR_KEY`], signing key [`SIGNING_KEY`], master key
/// [`MASTER_KEY`], 30-minute tokens for SEEK's audiences, blobs in `blobs_dir`.
pub fn test_settings(blobs_dir: PathBuf) -> Settings {
    Settings {
        blobs: Some(candex_server::storage::BlobLocation::Local(blobs_dir)),
        master_key: candex_server::auth::master_key::MasterKey::from_bytes(&MASTER_KEY).expect("32 bytes"),
        tokens: TokenSettings {
            issuer: None,
            audience: None,
            accepted_audiences: candex_server::config::SEEK_AUDIENCES.map(String::from).to_vec(),
            lifetime: Duration::from_secs(1800),
            signing_key: Some(SIGNING_KEY.to_vec()),
        },
        ..Settings::default()
    }
    .with_operator_key(OPERATOR_KEY)
}

impl TestServer {
    /// Starts a server with the test settings: operator key [`OPERATOR_KEY`], signing key
    /// [`SIGNING_KEY`], 30-minute tokens for SEEK's audiences, local blobs.
    pub async fn spawn() -> TestServer {
        Self::spawn_with(|s| s).await
    }

    /// Starts a server after `adjust` has changed the test settings.
    pub async fn spawn_with(adjust: impl FnOnce(Settings) -> Settings) -> TestServer {
        init_tracing();
        let database = scratch_store().await;
        let (store, url) = (database.store.clone(), database.url.clone());
        Self::start(adjust, store, url, Some(database)).await
    }

    /// Starts a second server (another instance) on this server's database, with the test
    /// settings `adjust` changed; its own blob folder. Both have this server's public URL (the
    /// token audience), as instances behind one load balancer do. The database goes with `self`.
    pub async fn spawn_beside(&self, adjust: impl FnOnce(Settings) -> Settings) -> TestServer {
        let public_url = url::Url::parse(&self.base).expect("base URL");
        let adjust = move |settings: Settings| adjust(Settings { public_url: Some(public_url), ..settings });
        let store: Arc<dyn Store> = if self.db_url.starts_with("postgres") {
            Arc::new(candex_store_postgres::PgStore::connect(&self.db_url).await.expect("open postgres"))
        } else {
            Arc::new(candex_store_sqlite::SqliteStore::connect(&self.db_url).await.expect("open sqlite"))
        };
        Self::start(adjust, store, self.db_url.clone(), None).await
    }

    async fn start(
        adjust: impl FnOnce(Settings) -> Settings,
        store: Arc<dyn Store>,
        db_url: String,
        database: Option<ScratchStore>,
    ) -> TestServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let blobs_dir = dir.path().join("blobs");
        let settings = test_settings(blobs_dir.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let app = Application::build(adjust(settings), store.clone(), listener).await.expect("build app");
        let addr = app.local_addr();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(app.run_until_stopped(async move {
            let _ = rx.await;
        }));
        TestServer {
            operator: Operator::new(format!("http://{addr}"), OPERATOR_KEY),
            store,
            db_url,
            blobs_dir,
            _dir: dir,
            _shutdown: tx,
            _database: database,
        }
    }
}

impl Deref for TestServer {
    type Target = Operator;

    fn deref(&self) -> &Operator {
        &self.operator
    }
}
