//! Fixtures shared by the synth tests.

use candex_domain::input::ApplicationInput;

pub(super) const PPID: &str = "seekAnzPublicTest:positionProfile:jobAd:demo1";
pub(super) const HIRER: &str = "seekAnzPublicTest:organization:seek:demo1";

pub(super) fn emails(app: &ApplicationInput) -> Vec<String> {
    app.candidate
        .as_ref()
        .and_then(|c| c.person.as_ref())
        .and_then(|p| p.communication.as_ref())
        .map(|c| c.email.iter().filter_map(|e| e.address.clone()).collect())
        .unwrap_or_default()
}
