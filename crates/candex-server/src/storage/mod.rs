//! Attachment blob storage on `object_store`: a local folder (the default) or an S3-compatible
//! bucket, content-addressed by SHA-256 (`sha256/<hex>` keys).
//!
//! Writes stream: each chunk is hashed and counted as it goes to a temporary key (`tmp/…`, a
//! multipart upload once it outgrows one part), the size limit is enforced chunk by chunk, and
//! the finished object ([`TempBlob`]) is moved over its content key, always, once the caller
//! has leased the hash in the database (so the content is its own even if a deletion removed
//! an identical blob a moment before). At no point is a whole file held in memory. Reads
//! stream too, optionally one byte range. Deleting a blob is the caller's decision: only under
//! the store's blob lock, when no attachment row references its hash and no lease claims it.
//! The orphan sweep lists blobs and temporary files as streams.

use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::stream::{BoxStream, StreamExt, TryStreamExt};
use object_store::buffered::BufWriter;
use object_store::path::Path;
use object_store::{GetOptions, GetRange, GetResultPayload, ObjectStore};
use rand::RngCore;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

/// Part size of local multipart writes: the most a local upload buffers before writing.
const LOCAL_PART_BYTES: usize = 1024 * 1024;
/// Part size of S3 multipart uploads: S3's minimum for every part but the last.
const S3_PART_BYTES: usize = 5 * 1024 * 1024;
/// Parts in flight per upload.
const PARTS_IN_FLIGHT: usize = 2;
/// How long one S3 request may take to connect, and in all, before it counts as failed.
const S3_CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
const S3_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Retries of a failed S3 request, and the time they may take together: an unreachable
/// service is reported (503) within seconds rather than after object_store's default
/// 10 retries over up to 3 minutes, longer than any request may take.
const S3_RETRIES: usize = 3;
const S3_RETRY_TIMEOUT: Duration = Duration::from_secs(10);
/// The key the readiness check reads and the start-up check writes, reads and deletes.
const PROBE_KEY: &str = "candex-probe";

/// Where blobs live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlobLocation {
    /// A folder on the local file system (created if missing).
    Local(PathBuf),
    /// An S3-compatible bucket, optionally under a key prefix. Credentials and region come from
    /// the usual `AWS_*` environment variables.
    S3 {
        /// Bucket name.
        bucket: String,
        /// Key prefix inside the bucket (no leading or trailing slash), possibly empty.
        prefix: String,
        /// A custom endpoint (MinIO, R2, …); `None` uses AWS.
        endpoint: Option<String>,
    },
    /// Process memory, for tests and embedding; lost on exit.
    Memory,
}

impl BlobLocation {
    /// Parses `--blobs`: `s3://bucket/prefix` for S3 (with `endpoint` from `--blobs-endpoint`),
    /// `file://DIR` or a plain path for a local folder.
    pub fn parse(value: &str, endpoint: Option<&str>) -> Result<Self, BlobError> {
        if let Some(rest) = value.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(BlobError::Config(format!("{value}: an S3 URL needs a bucket, as in s3://bucket/prefix")));
            }
            return Ok(Self::S3 {
                bucket: bucket.to_owned(),
                prefix: prefix.trim_matches('/').to_owned(),
                endpoint: endpoint.map(str::to_owned),
            });
        }
        if value.contains("://") && !value.starts_with("file://") {
            return Err(BlobError::Config(format!("{value}: use a folder path or s3://bucket/prefix")));
        }
        if endpoint.is_some() {
            return Err(BlobError::Config("--blobs-endpoint applies only to s3:// blob storage".into()));
        }
        Ok(Self::Local(PathBuf::from(value.strip_prefix("file://").unwrap_or(value))))
    }
}

impl std::fmt::Display for BlobLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Local(dir) => write!(f, "{}", dir.display()),
            Self::S3 { bucket, prefix, .. } => write!(f, "s3://{bucket}/{prefix}"),
            Self::Memory => f.write_str("memory"),
        }
    }
}

/// Why a blob operation failed.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// The content exceeds the size limit; nothing was kept.
    #[error("the file is larger than {limit} bytes")]
    TooLarge {
        /// The limit in bytes.
        limit: u64,
    },
    /// The storage is misconfigured.
    #[error("blob storage: {0}")]
    Config(String),
    /// The source of the bytes failed (client disconnected, unreadable file).
    #[error("could not read the file: {0}")]
    Source(String),
    /// The storage failed or could not be reached.
    #[error("blob storage failed: {0}")]
    Storage(#[from] object_store::Error),
}

/// A blob just written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBlob {
    /// SHA-256 of the content, lowercase hex.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
}

/// A blob in storage, as the orphan sweep lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedBlob {
    /// SHA-256 of the content, lowercase hex.
    pub sha256: String,
    /// When it was last written.
    pub last_modified: DateTime<Utc>,
}

/// Bytes through the blob store, for metrics ([`crate::metrics`]); shared by its clones.
#[derive(Debug, Clone, Default)]
pub struct BlobCounters {
    /// Bytes of uploads written (counted as each chunk is accepted by the storage).
    pub written: prometheus_client::metrics::counter::Counter,
    /// Bytes of blobs read (counted as each chunk is streamed).
    pub read: prometheus_client::metrics::counter::Counter,
}

/// The attachment blob store; cheap to clone.
#[derive(Clone)]
pub struct BlobStore {
    inner: Arc<dyn ObjectStore>,
    counters: BlobCounters,
    part_bytes: usize,
    location: Arc<str>,
    /// The folder of a local store: object_store's listing hides the staging files of
    /// unfinished local writes (`tmp/<id>#1`), which the sweep must see.
    local_dir: Option<Arc<std::path::Path>>,
}

impl std::fmt::Debug for BlobStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobStore").field("location", &self.location).finish_non_exhaustive()
    }
}

impl BlobStore {
    /// Opens the store at `location`, creating a local folder if needed.
    pub fn open(location: &BlobLocation) -> Result<Self, BlobError> {
        let (inner, part_bytes): (Arc<dyn ObjectStore>, usize) = match location {
            BlobLocation::Local(dir) => {
                owner_only_dir(dir)?;
                let fs = object_store::local::LocalFileSystem::new_with_prefix(dir)?;
                (Arc::new(fs), LOCAL_PART_BYTES)
            }
            BlobLocation::S3 { bucket, prefix, endpoint } => {
                let retry = object_store::RetryConfig {
                    max_retries: S3_RETRIES,
                    retry_timeout: S3_RETRY_TIMEOUT,
                    backoff: object_store::BackoffConfig {
                        init_backoff: Duration::from_millis(100),
                        max_backoff: Duration::from_secs(2),
                        base: 2.0,
                    },
                };
                let client = object_store::ClientOptions::new()
                    .with_connect_timeout(S3_CONNECT_TIMEOUT)
                    .with_timeout(S3_REQUEST_TIMEOUT);
                let mut builder = object_store::aws::AmazonS3Builder::from_env()
                    .with_bucket_name(bucket)
                    .with_retry(retry)
                    .with_client_options(client);
                if let Some(endpoint) = endpoint {
                    builder = builder.with_endpoint(endpoint).with_allow_http(endpoint.starts_with("http://"));
                }
                let s3 = builder.build()?;
                if prefix.is_empty() {
                    (Arc::new(s3), S3_PART_BYTES)
                } else {
                    (Arc::new(object_store::prefix::PrefixStore::new(s3, prefix.as_str())), S3_PART_BYTES)
                }
            }
            BlobLocation::Memory => (Arc::new(object_store::memory::InMemory::new()), LOCAL_PART_BYTES),
        };
        let local_dir = match location {
            BlobLocation::Local(dir) => Some(Arc::from(dir.as_path())),
            _ => None,
        };
        Ok(Self {
            inner,
            counters: BlobCounters::default(),
            part_bytes,
            location: location.to_string().into(),
            local_dir,
        })
    }

    /// The byte counters of this store and its clones.
    pub fn counters(&self) -> &BlobCounters {
        &self.counters
    }

    /// Where the blobs are, for logs.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// Whether the storage answers: reads the probe key (absent is fine). For readiness.
    pub async fn check(&self) -> Result<(), BlobError> {
        match self.inner.head(&Path::from(PROBE_KEY)).await {
            Ok(_) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Whether the storage can be written: writes, reads back and deletes the probe key. For
    /// the start-up check, so that missing credentials or a missing bucket are found before
    /// the first upload.
    pub async fn check_writable(&self) -> Result<(), BlobError> {
        let key = Path::from(PROBE_KEY);
        self.inner.put(&key, Bytes::from_static(b"candex start-up check").into()).await?;
        self.inner.head(&key).await?;
        self.inner.delete(&key).await?;
        Ok(())
    }

    /// The key of a content hash.
    fn key(sha256: &str) -> Result<Path, BlobError> {
        if sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
            Ok(Path::from(format!("sha256/{sha256}")))
        } else {
            Err(BlobError::Config(format!("not a SHA-256 hex digest: {sha256:?}")))
        }
    }

    /// Starts a streaming write of at most `max_bytes`.
    pub fn writer(&self, max_bytes: u64) -> BlobWriter {
        let mut id = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut id);
        let tmp = Path::from(format!("tmp/{}", hex::encode(id)));
        let writer = BufWriter::with_capacity(self.inner.clone(), tmp.clone(), self.part_bytes)
            .with_max_concurrency(PARTS_IN_FLIGHT);
        BlobWriter { store: self.clone(), tmp, writer: Some(writer), hasher: Sha256::new(), written: 0, max_bytes }
    }

    /// Streams the blob `sha256`, or the byte `range` of it.
    pub async fn read(
        &self,
        sha256: &str,
        range: Option<Range<u64>>,
    ) -> Result<BoxStream<'static, std::io::Result<Bytes>>, BlobError> {
        let key = Self::key(sha256)?;
        let options = GetOptions { range: range.map(GetRange::Bounded), ..GetOptions::default() };
        let result = self.inner.get_opts(&key, options).await?;
        let served = result.range.clone();
        let read = self.counters.read.clone();
        let count = move |chunk: &Bytes| {
            read.inc_by(chunk.len() as u64);
        };
        Ok(match result.payload {
            GetResultPayload::File(file, _) => file_stream(file, served).inspect_ok(count).boxed(),
            GetResultPayload::Stream(stream) => stream.map_err(std::io::Error::other).inspect_ok(count).boxed(),
        })
    }

    /// `range` of the blob `sha256` in one read on the calling thread, when the store is a
    /// local folder and the range is at most [`SMALL_READ_BYTES`]: a small download then costs
    /// no hand-off to the blocking pool (two, open and read, through [`read`](Self::read)).
    /// `None` when it does not apply or the read fails or comes up short; [`read`](Self::read)
    /// then serves the request, or reports what went wrong.
    pub fn read_small(&self, sha256: &str, range: Range<u64>) -> Option<Bytes> {
        use std::io::{Read, Seek, SeekFrom};
        let dir = self.local_dir.as_ref()?;
        let want =
            usize::try_from(range.end.checked_sub(range.start)?).ok().filter(|n| *n as u64 <= SMALL_READ_BYTES)?;
        let key = Self::key(sha256).ok()?;
        let mut file = std::fs::File::open(dir.join(key.as_ref())).ok()?;
        file.seek(SeekFrom::Start(range.start)).ok()?;
        let mut buf = vec![0u8; want];
        file.read_exact(&mut buf).ok()?;
        self.counters.read.inc_by(want as u64);
        Some(Bytes::from(buf))
    }

    /// Whether the blob exists.
    pub async fn exists(&self, sha256: &str) -> Result<bool, BlobError> {
        match self.inner.head(&Self::key(sha256)?).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Deletes the blob `sha256`; a missing blob is fine. The caller holds the store's blob
    /// lock and has checked that nothing references or leases it.
    pub async fn delete(&self, sha256: &str) -> Result<(), BlobError> {
        self.delete_many(std::slice::from_ref(&sha256.to_owned())).await
    }

    /// Deletes these blobs (in bulk where the storage can: S3 deletes up to 1,000 keys per
    /// request); missing ones are fine. As for [`delete`](Self::delete).
    pub async fn delete_many(&self, sha256: &[String]) -> Result<(), BlobError> {
        let keys: Vec<Path> = sha256.iter().map(|s| Self::key(s)).collect::<Result<_, _>>()?;
        let keys = futures::stream::iter(keys.into_iter().map(Ok)).boxed();
        let mut results = self.inner.delete_stream(keys);
        while let Some(result) = results.next().await {
            match result {
                Ok(_) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// Streams every blob under `sha256/` (object_store lists in pages, so memory stays flat
    /// whatever their number). Keys that are not a content hash are skipped.
    pub fn list_blobs(&self) -> BoxStream<'static, Result<ListedBlob, BlobError>> {
        self.inner
            .list(Some(&Path::from("sha256")))
            .map_err(BlobError::from)
            .try_filter_map(|meta| async move {
                let Some(name) = meta.location.filename() else { return Ok(None) };
                Ok(Self::key(name)
                    .is_ok()
                    .then(|| ListedBlob { sha256: name.to_owned(), last_modified: meta.last_modified }))
            })
            .boxed()
    }

    /// Deletes the temporary files (under `tmp/`) last written before `before`: what uploads
    /// cut off by a crash left. On a local folder this includes the staging files of
    /// unfinished writes, which object_store's listing hides; on S3, unfinished multipart
    /// uploads are invisible to listing and need the bucket's lifecycle rule. Returns how
    /// many were deleted.
    pub async fn delete_temp_before(&self, before: DateTime<Utc>) -> Result<u64, BlobError> {
        if let Some(dir) = &self.local_dir {
            let tmp = dir.join("tmp");
            let before = std::time::SystemTime::from(before);
            let generic = |source: Box<dyn std::error::Error + Send + Sync>| {
                BlobError::Storage(object_store::Error::Generic { store: "blobs", source })
            };
            return tokio::task::spawn_blocking(move || delete_old_files(&tmp, before))
                .await
                .map_err(|e| generic(Box::new(e)))?
                .map_err(|e| generic(Box::new(e)));
        }
        let mut listing = self.inner.list(Some(&Path::from("tmp")));
        let mut deleted = 0;
        while let Some(meta) = listing.try_next().await? {
            if meta.last_modified < before {
                match self.inner.delete(&meta.location).await {
                    Ok(()) => deleted += 1,
                    Err(object_store::Error::NotFound { .. }) => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
        Ok(deleted)
    }
}

/// Deletes the files directly in `dir` last modified before `before`, reading the folder as a
/// stream; a missing folder has none. Returns how many were deleted.
fn delete_old_files(dir: &std::path::Path, before: std::time::SystemTime) -> std::io::Result<u64> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    let mut deleted = 0;
    for entry in entries {
        let entry = entry?;
        let Ok(meta) = entry.metadata() else { continue };
        if !meta.is_file() || meta.modified()? >= before {
            continue;
        }
        match std::fs::remove_file(entry.path()) {
            Ok(()) => deleted += 1,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(deleted)
}

/// Creates a missing blob folder (and missing parents) readable by its owner only, and warns
/// when an existing one is wider: it holds candidates' files.
fn owner_only_dir(dir: &std::path::Path) -> Result<(), BlobError> {
    let cannot = |e: std::io::Error| BlobError::Config(format!("cannot create {}: {e}", dir.display()));
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        if dir.is_dir() {
            let mode = std::fs::metadata(dir).map_err(cannot)?.permissions().mode();
            if mode & 0o077 != 0 {
                tracing::warn!(
                    "{} can be read by other users (mode {:o}); it holds candidates' files: chmod 700 it",
                    dir.display(),
                    mode & 0o777
                );
            }
            return Ok(());
        }
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(cannot)
    }
    #[cfg(not(unix))]
    std::fs::create_dir_all(dir).map_err(cannot)
}

/// A streaming write in progress: hashes, counts and uploads each chunk. Dropping it without
/// [`finish`](Self::finish) aborts the upload in the background.
pub struct BlobWriter {
    store: BlobStore,
    tmp: Path,
    writer: Option<BufWriter>,
    hasher: Sha256,
    written: u64,
    max_bytes: u64,
}

impl BlobWriter {
    /// Bytes written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Writes one chunk. Past the size limit the upload is aborted and `TooLarge` returned.
    pub async fn write(&mut self, chunk: Bytes) -> Result<(), BlobError> {
        self.written = self.written.saturating_add(chunk.len() as u64);
        if self.written > self.max_bytes {
            self.abort_now().await;
            return Err(BlobError::TooLarge { limit: self.max_bytes });
        }
        self.hasher.update(&chunk);
        let Some(writer) = self.writer.as_mut() else {
            return Err(BlobError::Config("write after the upload ended".into()));
        };
        let len = chunk.len() as u64;
        if let Err(e) = writer.put(chunk).await {
            self.abort_now().await;
            return Err(e.into());
        }
        self.store.counters.written.inc_by(len);
        Ok(())
    }

    /// Completes the upload to its temporary key and names its content: the caller leases
    /// the hash, then [`places`](TempBlob::place) it.
    pub async fn finish(mut self) -> Result<TempBlob, BlobError> {
        let Some(mut writer) = self.writer.take() else {
            return Err(BlobError::Config("the upload already ended".into()));
        };
        if let Err(e) = writer.shutdown().await {
            // No `abort` here: a writer whose shutdown failed is in object_store's "flushing"
            // state, where `abort` panics ("Already shut down"). A failed multipart completion
            // has already aborted its upload, and a failed single put wrote nothing; the
            // temporary key is removed if it exists.
            drop(writer);
            let _ = self.store.inner.delete(&self.tmp).await;
            return Err(BlobError::Storage(object_store::Error::Generic { store: "blobs", source: Box::new(e) }));
        }
        let sha256 = hex::encode(std::mem::take(&mut self.hasher).finalize());
        Ok(TempBlob {
            store: self.store.clone(),
            tmp: self.tmp.clone(),
            blob: StoredBlob { sha256, size: self.written },
        })
    }

    /// Abandons the upload, removing whatever was written.
    pub async fn abort(mut self) {
        self.abort_now().await;
    }

    async fn abort_now(&mut self) {
        if let Some(mut writer) = self.writer.take() {
            if let Err(e) = writer.abort().await {
                tracing::warn!(error = %e, "failed to abort a blob upload");
            }
        }
    }
}

impl Drop for BlobWriter {
    fn drop(&mut self) {
        // A request cancelled mid-upload (client gone) must not leave parts behind.
        if let Some(mut writer) = self.writer.take() {
            if let Ok(handle) = tokio::runtime::Handle::try_current() {
                handle.spawn(async move {
                    let _ = writer.abort().await;
                });
            }
        }
    }
}

/// A complete upload at its temporary key, its content known. Dropped without
/// [`place`](Self::place) or [`discard`](Self::discard), the temporary file stays until the
/// orphan sweep.
#[derive(Debug)]
pub struct TempBlob {
    store: BlobStore,
    tmp: Path,
    blob: StoredBlob,
}

impl TempBlob {
    /// SHA-256 of the content, lowercase hex.
    pub fn sha256(&self) -> &str {
        &self.blob.sha256
    }

    /// Moves the file over its content key, replacing identical content stored before (the
    /// caller holds a lease on the hash, so no deletion removes it afterwards).
    pub async fn place(self) -> Result<StoredBlob, BlobError> {
        let key = BlobStore::key(&self.blob.sha256)?;
        if let Err(e) = self.store.inner.rename(&self.tmp, &key).await {
            let _ = self.store.inner.delete(&self.tmp).await;
            return Err(e.into());
        }
        Ok(self.blob)
    }

    /// Deletes the temporary file.
    pub async fn discard(self) {
        if let Err(e) = self.store.inner.delete(&self.tmp).await {
            tracing::warn!(error = %e, "failed to delete a temporary upload; the orphan sweep will");
        }
    }
}

/// Bytes per read of a local blob. `object_store`'s own file stream reads 8 KiB per trip to the
/// blocking pool, so a 4 MiB download took 512 thread hand-offs; this takes 16.
const LOCAL_READ_BYTES: u64 = 256 * 1024;

/// Largest range [`BlobStore::read_small`] reads on the calling thread: a few pages, so a read
/// that misses the page cache holds the thread for about as long as a point read of the
/// database does.
pub const SMALL_READ_BYTES: u64 = 64 * 1024;

/// Streams `range` of a local file in [`LOCAL_READ_BYTES`] reads on the blocking pool.
fn file_stream(file: std::fs::File, range: Range<u64>) -> BoxStream<'static, std::io::Result<Bytes>> {
    futures::stream::try_unfold((Some(file), range.start, range.end), |(file, pos, end)| async move {
        let Some(mut file) = file.filter(|_| pos < end) else { return Ok(None) };
        let want = usize::try_from((end - pos).min(LOCAL_READ_BYTES)).unwrap_or(0);
        let (file, buf) = tokio::task::spawn_blocking(move || {
            use std::io::{Read, Seek, SeekFrom};
            file.seek(SeekFrom::Start(pos))?;
            let mut buf = vec![0u8; want];
            let mut filled = 0;
            while filled < want {
                match file.read(&mut buf[filled..])? {
                    0 => break,
                    n => filled += n,
                }
            }
            buf.truncate(filled);
            Ok::<_, std::io::Error>((file, buf))
        })
        .await
        .map_err(std::io::Error::other)??;
        if buf.is_empty() {
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "blob ended before its recorded size"));
        }
        let next = pos + buf.len() as u64;
        Ok(Some((Bytes::from(buf), (Some(file), next, end))))
    })
    .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_parse() {
        assert_eq!(
            BlobLocation::parse("s3://bucket/some/prefix/", Some("http://minio:9000")).unwrap(),
            BlobLocation::S3 {
                bucket: "bucket".into(),
                prefix: "some/prefix".into(),
                endpoint: Some("http://minio:9000".into())
            }
        );
        assert_eq!(BlobLocation::parse("./blobs", None).unwrap(), BlobLocation::Local("./blobs".into()));
        assert!(BlobLocation::parse("s3://", None).is_err());
        assert!(BlobLocation::parse("gs://b", None).is_err());
        assert!(BlobLocation::parse("dir", Some("http://x")).is_err());
    }

    #[tokio::test]
    async fn writes_are_content_addressed_limited_and_readable_by_range() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(&BlobLocation::Local(dir.path().join("b"))).unwrap();
        let mut w = store.writer(10);
        w.write(Bytes::from_static(b"hello ")).await.unwrap();
        w.write(Bytes::from_static(b"you")).await.unwrap();
        let blob = w.finish().await.unwrap().place().await.unwrap();
        assert_eq!(blob.sha256, hex::encode(Sha256::digest(b"hello you")));
        assert_eq!(blob.size, 9);
        let mut again = store.writer(10);
        again.write(Bytes::from_static(b"hello you")).await.unwrap();
        assert_eq!(again.finish().await.unwrap().place().await.unwrap(), blob, "identical content, one key");
        let listed: Vec<ListedBlob> = store.list_blobs().try_collect().await.unwrap();
        assert_eq!(listed.iter().map(|b| b.sha256.as_str()).collect::<Vec<_>>(), [blob.sha256.as_str()]);
        assert_eq!(std::fs::read_dir(dir.path().join("b/tmp")).unwrap().count(), 0, "no temporary file left");

        // A temporary file (a finished one, and a local staging file that listing hides) is
        // swept once older than the cut-off.
        let mut left = store.writer(10);
        left.write(Bytes::from_static(b"cut off")).await.unwrap();
        let left = left.finish().await.unwrap();
        std::fs::write(dir.path().join("b/tmp/abc#1"), b"partial").unwrap();
        assert_eq!(store.delete_temp_before(Utc::now() - chrono::Duration::hours(1)).await.unwrap(), 0);
        assert_eq!(store.delete_temp_before(Utc::now() + chrono::Duration::seconds(1)).await.unwrap(), 2);
        drop(left);

        let part: Vec<Bytes> = store.read(&blob.sha256, Some(2..5)).await.unwrap().try_collect().await.unwrap();
        assert_eq!(part.concat(), b"llo");

        let mut big = store.writer(10);
        let err = big.write(Bytes::from_static(b"01234567890")).await.unwrap_err();
        assert!(matches!(err, BlobError::TooLarge { limit: 10 }));
        drop(big);
        store.delete(&blob.sha256).await.unwrap();
        store.delete(&blob.sha256).await.unwrap();
        assert!(!store.exists(&blob.sha256).await.unwrap());
    }
}
