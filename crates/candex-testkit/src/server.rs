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
    _database: ScratchStore,
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
        let dir = tempfile::tempdir().expect("temp dir");
        let blobs_dir = dir.path().join("blobs");
        let settings = Settings {
            blobs: Some(candex_server::storage::BlobLocation::Local(blobs_dir.clone())),
            tokens: TokenSettings {
                issuer: None,
                audience: None,
                accepted_audiences: candex_server::config::SEEK_AUDIENCES.map(String::from).to_vec(),
                lifetime: Duration::from_secs(1800),
                signing_key: Some(SIGNING_KEY.to_vec()),
            },
            ..Settings::default()
        }
        .with_operator_key(OPERATOR_KEY);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let app = Application::build(adjust(settings), database.store.clone(), listener).await.expect("build app");
        let addr = app.local_addr();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(app.run_until_stopped(async move {
            let _ = rx.await;
        }));
        TestServer {
            operator: Operator::new(format!("http://{addr}"), OPERATOR_KEY),
            store: database.store.clone(),
            db_url: database.url.clone(),
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
