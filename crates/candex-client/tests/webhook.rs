//! Webhook bodies in SEEK's documented shapes, and `Seek-Signature` and Standard Webhooks
//! verification through `WebhookVerifier`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use candex_client::{VerifyError, WebhookBody, WebhookVerifier};
use candex_server::webhooks::signature::{seek_signature, standard_webhooks};
use hmac::{Hmac, Mac};
use reqwest::header::HeaderMap;
use sha2::Sha512;

fn sign(secret: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha512>::new_from_slice(secret).expect("key");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

#[test]
fn decodes_signed_body_with_hirer_id_and_url() {
    let raw = br#"{"events":[{
       "id":"seekAnzPublicTest:event:events:5cKZnRzXas97fyUAhpiAV1",
       "type":"CandidateApplicationCreated",
       "createDateTime":"2019-09-13T22:16:10.593Z",
       "candidateApplicationProfileId":"seekAnzPublicTest:candidateProfile:apply:7DtW6Q68gk2R4okNGhvg1Y",
       "candidateId":"seekAnzPublicTest:candidate:feed:5PGXAHysiXhtA9JUqhyM8hhzMuWMPA",
       "hirerId":"seekAnzPublicTest:organization:seek:93WyyF1h"}],
     "subscriptionId":"seekAnzPublicTest:webhookSubscription:events:BoJiJ9ZWFVgejLXLJxUnvL",
     "url":"https://example.com/webhook"}"#;
    let body = WebhookBody::parse(raw).expect("decodes");
    assert_eq!(body.events.len(), 1);
    let e = &body.events[0];
    assert_eq!(e.type_code, "CandidateApplicationCreated");
    assert_eq!(e.hirer_id.as_deref(), Some("seekAnzPublicTest:organization:seek:93WyyF1h"));
    assert_eq!(
        e.candidate_application_profile_id.as_deref(),
        Some("seekAnzPublicTest:candidateProfile:apply:7DtW6Q68gk2R4okNGhvg1Y")
    );
    assert_eq!(e.create_date_time.as_deref(), Some("2019-09-13T22:16:10.593Z"));
    assert!(e.extra.is_empty());
    assert_eq!(body.url.as_deref(), Some("https://example.com/webhook"));
}

#[test]
fn decodes_older_bodies_without_hirer_id_and_with_unknown_keys() {
    let raw = br#"{"events":[
       {"id":"e1","type":"CandidateApplicationCreated","createDateTime":"2019-09-13T22:16:10.593Z",
        "candidateApplicationProfileId":"p1","candidateId":"c1","expireDateTime":"2019-10-13T22:16:10.593Z"},
       {"id":"e2","type":"PositionProfileClosed","createDateTime":"2019-09-13T22:16:11Z","positionProfileId":"pp1"},
       {"id":"e3","type":"SomethingNew","createDateTime":"2030-01-01T00:00:00Z","newField":{"nested":true}}],
     "subscriptionId":"s1"}"#;
    let body = WebhookBody::parse(raw).expect("decodes");
    assert_eq!(body.events.len(), 3);
    assert_eq!(body.events[0].hirer_id, None);
    assert_eq!(body.events[0].extra["expireDateTime"], "2019-10-13T22:16:10.593Z");
    assert_eq!(body.events[1].position_profile_id.as_deref(), Some("pp1"));
    assert_eq!(body.events[2].type_code, "SomethingNew");
    assert_eq!(body.events[2].extra["newField"]["nested"], true);
    assert_eq!(body.url, None);
    assert_eq!(body.subscription_id.as_deref(), Some("s1"));
}

#[test]
fn signature_verification() {
    let secret = "a-secret-of-at-least-16-chars";
    let verifier = WebhookVerifier::new(secret);
    let body = br#"{"events":[],"subscriptionId":"s"}"#;
    let good = sign(secret.as_bytes(), body);
    let refused = Err(VerifyError::InvalidSignature);
    assert_eq!(verifier.verify_seek_signature(body, &good), Ok(()));
    assert_eq!(verifier.verify_seek_signature(body, &good.to_uppercase()), Ok(()), "hex case is not significant");
    let other = WebhookVerifier::new("another-secret-entirely");
    assert_eq!(other.verify_seek_signature(body, &good), refused, "wrong secret");
    let tampered = br#"{"events":[],"subscriptionId":"t"}"#;
    assert_eq!(verifier.verify_seek_signature(tampered, &good), refused, "tampered body");
    assert_eq!(verifier.verify_seek_signature(body, "not hex at all"), refused, "bad hex");
    assert_eq!(verifier.verify_seek_signature(body, &good[..good.len() - 2]), refused, "truncated");
    assert_eq!(verifier.verify_seek_signature(body, ""), refused, "empty");
    // What the candex server sends verifies.
    assert_eq!(verifier.verify_seek_signature(body, &seek_signature(secret.as_bytes(), body)), Ok(()));
}

/// The Standard Webhooks headers the candex server sends on a signed delivery.
fn standard_headers(secret: &[u8], id: &str, timestamp: i64, body: &[u8]) -> HeaderMap {
    let signed = standard_webhooks(secret, id, timestamp, body);
    let mut headers = HeaderMap::new();
    headers.insert("webhook-id", signed.id.parse().expect("header"));
    headers.insert("webhook-timestamp", signed.timestamp.to_string().parse().expect("header"));
    headers.insert("webhook-signature", signed.signature.parse().expect("header"));
    headers
}

#[test]
fn standard_webhooks_verification() {
    let secret = "a-secret-of-at-least-16-chars";
    let body = br#"{"events":[],"subscriptionId":"s"}"#;
    let now = SystemTime::now();
    let now_secs = i64::try_from(now.duration_since(UNIX_EPOCH).expect("after 1970").as_secs()).expect("secs");
    let headers = standard_headers(secret.as_bytes(), "msg_1", now_secs, body);
    let verifier = WebhookVerifier::new(secret);
    assert_eq!(verifier.verify_standard(&headers, body, now), Ok(()));
    assert_eq!(verifier.verify_standard(&headers, body, now + Duration::from_secs(300)), Ok(()));
    assert_eq!(
        verifier.verify_standard(&headers, body, now + Duration::from_secs(301)),
        Err(VerifyError::OutsideTolerance),
        "a replay after the default five minutes"
    );
    let strict = verifier.clone().with_tolerance(Duration::from_secs(10));
    assert_eq!(
        strict.verify_standard(&headers, body, now + Duration::from_secs(11)),
        Err(VerifyError::OutsideTolerance)
    );
    assert_eq!(
        verifier.verify_standard(&headers, br#"{"events":[],"subscriptionId":"t"}"#, now),
        Err(VerifyError::InvalidSignature),
        "tampered body"
    );
    assert_eq!(
        WebhookVerifier::new("another-secret-entirely").verify_standard(&headers, body, now),
        Err(VerifyError::InvalidSignature),
        "wrong secret"
    );
    let mut unsigned = headers.clone();
    unsigned.remove("webhook-signature");
    assert_eq!(verifier.verify_standard(&unsigned, body, now), Err(VerifyError::MissingHeader("webhook-signature")));
}
