//! Webhook bodies in SEEK's documented shapes and `Seek-Signature` verification.

use candex_client::{verify_seek_signature, WebhookBody};
use hmac::{Hmac, Mac};
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
    let secret = b"a-secret-of-at-least-16-chars";
    let body = br#"{"events":[],"subscriptionId":"s"}"#;
    let good = sign(secret, body);
    assert!(verify_seek_signature(secret, body, &good));
    assert!(verify_seek_signature(secret, body, &good.to_uppercase()), "hex case is not significant");
    assert!(!verify_seek_signature(b"another-secret-entirely", body, &good), "wrong secret");
    assert!(!verify_seek_signature(secret, br#"{"events":[],"subscriptionId":"t"}"#, &good), "tampered body");
    assert!(!verify_seek_signature(secret, body, "not hex at all"), "bad hex");
    assert!(!verify_seek_signature(secret, body, &good[..good.len() - 2]), "truncated");
    assert!(!verify_seek_signature(secret, body, ""), "empty");
}
