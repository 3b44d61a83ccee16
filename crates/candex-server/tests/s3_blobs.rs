//! Blob storage on an S3-compatible service, through the same `BlobStore` the server uses:
//! multipart upload across several parts, content addressing, ranged and whole reads,
//! deduplication and deletion. Runs when `CANDEX_TEST_S3_ENDPOINT` names a service (CI starts
//! moto's S3 server); otherwise it says it was skipped.

use bytes::Bytes;
use candex_server::storage::{BlobLocation, BlobStore};
use futures::TryStreamExt;
use sha2::{Digest, Sha256};

fn endpoint() -> Option<String> {
    std::env::var("CANDEX_TEST_S3_ENDPOINT").ok().filter(|v| !v.is_empty())
}

async fn read_all(store: &BlobStore, sha: &str, range: Option<std::ops::Range<u64>>) -> Vec<u8> {
    let chunks: Vec<Bytes> = store.read(sha, range).await.expect("read").try_collect().await.expect("stream");
    chunks.concat()
}

#[tokio::test]
async fn blobs_round_trip_through_an_s3_compatible_store() {
    let Some(endpoint) = endpoint() else {
        println!("skipped: set CANDEX_TEST_S3_ENDPOINT (e.g. a local moto_server) to test S3 blob storage");
        return;
    };
    // Credentials and region come from the environment, as in production; the emulator
    // accepts any.
    for (key, value) in [("AWS_ACCESS_KEY_ID", "test"), ("AWS_SECRET_ACCESS_KEY", "test"), ("AWS_REGION", "us-east-1")]
    {
        if std::env::var_os(key).is_none() {
            std::env::set_var(key, value);
        }
    }
    let bucket = format!("candex-test-{}", std::process::id());
    let created = reqwest::Client::new().put(format!("{endpoint}/{bucket}")).send().await.expect("create bucket");
    assert!(created.status().is_success(), "bucket creation: {}", created.status());
    let location = BlobLocation::parse(&format!("s3://{bucket}/blobs"), Some(&endpoint)).expect("location");
    let store = BlobStore::open(&location).expect("open");
    store.check_writable().await.expect("the start-up check passes (and leaves nothing behind)");
    store.check().await.expect("the readiness check passes");

    // 12 MiB in 1 MiB chunks: more than two 5 MiB parts of a multipart upload.
    let content: Vec<u8> = (0..12 * 1024 * 1024u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    let mut writer = store.writer(64 * 1024 * 1024);
    for chunk in content.chunks(1024 * 1024) {
        writer.write(Bytes::copy_from_slice(chunk)).await.expect("write");
    }
    let blob = writer.finish().await.expect("finish").place().await.expect("place");
    let expected: String = Sha256::digest(&content).iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(blob.sha256, expected);
    assert_eq!(blob.size, content.len() as u64);
    assert!(store.exists(&blob.sha256).await.expect("exists"));
    assert_eq!(read_all(&store, &blob.sha256, None).await, content);
    assert_eq!(read_all(&store, &blob.sha256, Some(5_000_000..5_000_100)).await, content[5_000_000..5_000_100]);

    // The same content again replaces the one blob.
    let mut again = store.writer(64 * 1024 * 1024);
    again.write(Bytes::from(content.clone())).await.expect("write again");
    let placed = again.finish().await.expect("finish again").place().await.expect("place again");
    assert_eq!(placed, blob, "the same content key");
    let listed: Vec<_> = store.list_blobs().try_collect().await.expect("list");
    assert_eq!(listed.len(), 1, "{listed:?}");

    // Over the limit: refused, and nothing is left behind.
    let mut small = store.writer(1024);
    let refused = small.write(Bytes::from(vec![1u8; 4096])).await;
    assert!(refused.is_err(), "a write over the limit is refused");
    small.abort().await;

    store.delete(&blob.sha256).await.expect("delete");
    assert!(!store.exists(&blob.sha256).await.expect("exists after delete"));
    let listing = reqwest::Client::new()
        .get(format!("{endpoint}/{bucket}?list-type=2"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!listing.contains("<Key>"), "no object is left in the bucket (no temporary parts): {listing}");
}
