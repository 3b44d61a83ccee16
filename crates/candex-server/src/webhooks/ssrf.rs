//! SSRF guard for webhook targets: URL validation at subscription time, DNS checks, and the
//! guarded reqwest client (DNS resolver + no redirects + no proxies) used at delivery time.
//!
//! Webhook subscription URLs are partner input, and the server sends requests to them, so they
//! must not be able to reach loopback, private, link-local or cloud metadata addresses. The guard
//! works in three layers:
//!
//! 1. [`parse_target`] checks the URL syntactically and refuses IP-literal hosts (and `localhost`)
//!    that are not public.
//! 2. [`check_target`] resolves the host name and refuses it if any address is not public.
//! 3. [`delivery_client`] builds the HTTP client used for deliveries; its [`GuardedResolver`] checks
//!    every address again at connection time, which defeats DNS rebinding between (2) and delivery.
//!
//! All of it is disabled by [`TargetPolicy::allow_private`], which the server sets only when run with
//! `--allow-private-webhook-targets` (tests and the demo, whose receivers listen on localhost).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

/// Longest webhook URL accepted, in bytes (both as given and after URL normalisation).
///
/// 2048 bytes is far beyond any sensible endpoint URL while still small enough to store and log.
pub const MAX_URL_LEN: usize = 2048;

/// Upper bound on the connect timeout of the [`delivery_client`].
const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Upper bound on a DNS lookup made by [`check_target`].
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(5);

/// What the SSRF guard lets through.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TargetPolicy {
    /// Allow loopback, private, link-local, metadata and other non-public targets. Only for tests
    /// and demos (`--allow-private-webhook-targets`); never in production.
    pub allow_private: bool,
}

/// Why a webhook target URL was refused. The messages are written to be shown to the partner
/// (e.g. as a GraphQL `BAD_USER_INPUT` error about the URL field).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    /// The input does not parse as an absolute URL with a host.
    #[error("must be an absolute http or https URL")]
    NotAUrl,
    /// The URL's scheme is not `http` or `https`.
    #[error("must use http or https")]
    Scheme,
    /// The URL carries a user name or password.
    #[error("must not contain a user name or password")]
    Credentials,
    /// The URL is longer than [`MAX_URL_LEN`] bytes.
    #[error("must be at most {} bytes long", MAX_URL_LEN)]
    TooLong,
    /// The host is, or resolves to, a non-public address and the policy does not allow that.
    #[error(
        "resolves to {} {reason} address ({host}); such targets are refused unless the server runs with \
         --allow-private-webhook-targets",
        article(.reason)
    )]
    Forbidden {
        /// The host as written in the URL (an IP literal or a host name). For host names the
        /// resolved address is deliberately not echoed back, so that the check cannot be used to
        /// map internal DNS.
        host: String,
        /// The address class, as returned by [`forbidden_reason`].
        reason: &'static str,
    },
    /// The host name did not resolve (or the lookup timed out). Holds the host name.
    #[error("the host name {0} could not be resolved")]
    Unresolvable(String),
}

fn article(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

/// Classifies an address that webhook deliveries must not reach, or returns `None` for a public one.
///
/// Reasons: `"unspecified"`, `"loopback"`, `"private"`, `"shared (CGNAT)"`, `"link-local"`,
/// `"cloud metadata"`, `"multicast"`, `"broadcast"`, `"documentation"`, `"reserved"`.
///
/// IPv4: 0.0.0.0/8, 10/8, 100.64/10 (100.100.100.200 is Alibaba Cloud metadata), 127/8,
/// 169.254/16 (169.254.169.254 and the ECS endpoint 169.254.170.2 are cloud metadata), 172.16/12,
/// 192.0.0/24, 192.0.2/24, 192.88.99/24, 192.168/16, 198.18/15, 198.51.100/24, 203.0.113/24,
/// 224/4, 240/4 and 255.255.255.255.
///
/// IPv6: `::`, `::1`, the deprecated IPv4-compatible `::/96`, fc00::/7 (`fd00:ec2::254` is AWS
/// metadata), fe80::/10, the deprecated site-local fec0::/10, ff00::/8, 2001:db8::/32 and
/// 3fff::/20 (documentation), the local-use NAT64 prefix 64:ff9b:1::/48, and everything outside
/// the global unicast range 2000::/3. IPv4-mapped (`::ffff:0:0/96`), NAT64 (`64:ff9b::/96`) and
/// 6to4 (`2002::/16`) addresses are classified by the IPv4 address they embed.
pub fn forbidden_reason(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_reason(v4),
        IpAddr::V6(v6) => v6_reason(v6),
    }
}

fn v4_reason(ip: Ipv4Addr) -> Option<&'static str> {
    let reason = match ip.octets() {
        [255, 255, 255, 255] => "broadcast",
        [0, 0, 0, 0] => "unspecified",
        [0, ..] => "reserved",
        [10, ..] => "private",
        [100, 100, 100, 200] => "cloud metadata",
        [100, b, ..] if (64..128).contains(&b) => "shared (CGNAT)",
        [127, ..] => "loopback",
        [169, 254, 169, 254] | [169, 254, 170, 2] => "cloud metadata",
        [169, 254, ..] => "link-local",
        [172, b, ..] if (16..32).contains(&b) => "private",
        [192, 0, 0, _] => "reserved",
        [192, 0, 2, _] => "documentation",
        [192, 88, 99, _] => "reserved",
        [192, 168, ..] => "private",
        [198, 18 | 19, ..] => "reserved",
        [198, 51, 100, _] => "documentation",
        [203, 0, 113, _] => "documentation",
        [224..=239, ..] => "multicast",
        [240..=255, ..] => "reserved",
        _ => return None,
    };
    Some(reason)
}

/// AWS's IPv6 instance metadata endpoint.
const AWS_METADATA_V6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0254);

fn embedded_v4(hi: u16, lo: u16) -> Ipv4Addr {
    Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo))
}

fn v6_reason(ip: Ipv6Addr) -> Option<&'static str> {
    let s = ip.segments();
    if ip.is_unspecified() {
        return Some("unspecified");
    }
    if ip.is_loopback() {
        return Some("loopback");
    }
    // ::ffff:a.b.c.d (IPv4-mapped).
    if let Some(v4) = ip.to_ipv4_mapped() {
        return v4_reason(v4);
    }
    // 64:ff9b::a.b.c.d (well-known NAT64 prefix).
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return v4_reason(embedded_v4(s[6], s[7]));
    }
    // 2002:aabb:ccdd::/48 (6to4).
    if s[0] == 0x2002 {
        return v4_reason(embedded_v4(s[1], s[2]));
    }
    let reason = if s[..6] == [0; 6] {
        // ::a.b.c.d (deprecated IPv4-compatible).
        "reserved"
    } else if ip == AWS_METADATA_V6 {
        "cloud metadata"
    } else if s[0] & 0xfe00 == 0xfc00 {
        "private"
    } else if s[0] & 0xffc0 == 0xfe80 {
        "link-local"
    } else if s[0] & 0xffc0 == 0xfec0 {
        "private"
    } else if s[0] & 0xff00 == 0xff00 {
        "multicast"
    } else if (s[0] == 0x2001 && s[1] == 0x0db8) || s[0] & 0xfff0 == 0x3ff0 {
        "documentation"
    } else if s[0] == 0x64 && s[1] == 0xff9b && s[2] == 0x0001 {
        // 64:ff9b:1::/48, local-use NAT64: may translate into private networks.
        "private"
    } else if s[0] & 0xe000 != 0x2000 {
        // Not global unicast (2000::/3).
        "reserved"
    } else {
        return None;
    };
    Some(reason)
}

/// `localhost` and `*.localhost` are loopback by definition (RFC 6761), whatever DNS says.
fn is_localhost_name(name: &str) -> bool {
    let name = name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase();
    name == "localhost" || name.ends_with(".localhost")
}

/// Syntactic checks plus the IP-literal / `localhost` check on an already parsed URL.
fn check_url(url: &Url, policy: TargetPolicy) -> Result<(), TargetError> {
    if url.as_str().len() > MAX_URL_LEN {
        return Err(TargetError::TooLong);
    }
    if !matches!(url.scheme(), "http" | "https") {
        return Err(TargetError::Scheme);
    }
    let Some(host) = url.host() else {
        return Err(TargetError::NotAUrl);
    };
    if !url.username().is_empty() || url.password().is_some() {
        return Err(TargetError::Credentials);
    }
    if policy.allow_private {
        return Ok(());
    }
    let refused = match host {
        Host::Ipv4(ip) => v4_reason(ip).map(|reason| (ip.to_string(), reason)),
        Host::Ipv6(ip) => v6_reason(ip).map(|reason| (ip.to_string(), reason)),
        Host::Domain(name) => is_localhost_name(name).then(|| (name.to_owned(), "loopback")),
    };
    match refused {
        Some((host, reason)) => Err(TargetError::Forbidden { host, reason }),
        None => Ok(()),
    }
}

/// Parses and checks a webhook target URL without touching the network.
///
/// Requires an absolute `http` or `https` URL with a host, no user name or password, and at most
/// [`MAX_URL_LEN`] bytes. Unless `policy.allow_private`, an IP-literal host (IPv4, including the
/// WHATWG forms such as `2130706433` or `0x7f.1`, or bracketed IPv6) must be public per
/// [`forbidden_reason`], and `localhost` / `*.localhost` are refused as loopback. Host names are not
/// resolved here; use [`check_target`] for that.
pub fn parse_target(url: &str, policy: TargetPolicy) -> Result<Url, TargetError> {
    if url.len() > MAX_URL_LEN {
        return Err(TargetError::TooLong);
    }
    let parsed = Url::parse(url).map_err(|_| TargetError::NotAUrl)?;
    check_url(&parsed, policy)?;
    Ok(parsed)
}

/// Refuses `host` if any of `addrs` is not public. Logs the offending address (the error does not
/// carry it, see [`TargetError::Forbidden`]).
fn refuse_forbidden(host: &str, addrs: &[SocketAddr]) -> Result<(), TargetError> {
    for addr in addrs {
        if let Some(reason) = forbidden_reason(addr.ip()) {
            tracing::info!(host, ip = %addr.ip(), reason, "refused webhook target host");
            return Err(TargetError::Forbidden { host: host.to_owned(), reason });
        }
    }
    Ok(())
}

/// Checks a webhook target, including a DNS lookup of its host name.
///
/// Runs the same checks as [`parse_target`]; then, for a host name, resolves it (with the URL's
/// port or the scheme's default) and refuses the target if **any** resolved address is not public.
/// A name that does not resolve, resolves to nothing or takes more than 5 s gives
/// [`TargetError::Unresolvable`]; the caller decides whether to accept such a target (delivery
/// re-checks anyway, see [`delivery_client`]).
///
/// With `policy.allow_private` there is nothing to refuse, so no lookup is made and the result is
/// `Ok(())` for any syntactically valid URL, resolvable or not.
pub async fn check_target(url: &Url, policy: TargetPolicy) -> Result<(), TargetError> {
    check_url(url, policy)?;
    if policy.allow_private {
        return Ok(());
    }
    let Some(Host::Domain(name)) = url.host() else {
        // IP literals were fully checked by `check_url`.
        return Ok(());
    };
    lookup_checked(name, url.port_or_known_default().unwrap_or(0)).await
}

/// Resolves `host` and refuses it if any address is not public.
async fn lookup_checked(host: &str, port: u16) -> Result<(), TargetError> {
    let addrs: Vec<SocketAddr> = match tokio::time::timeout(LOOKUP_TIMEOUT, tokio::net::lookup_host((host, port))).await
    {
        Ok(Ok(addrs)) => addrs.collect(),
        Ok(Err(error)) => {
            tracing::debug!(host, %error, "webhook target host did not resolve");
            Vec::new()
        }
        Err(_) => {
            tracing::debug!(host, "webhook target host lookup timed out");
            Vec::new()
        }
    };
    if addrs.is_empty() {
        return Err(TargetError::Unresolvable(host.to_owned()));
    }
    refuse_forbidden(host, &addrs)
}

/// A reqwest DNS resolver that refuses names resolving to non-public addresses.
///
/// Installed by [`delivery_client`] so that every connection re-checks the addresses it is about to
/// use, which defeats DNS rebinding (a name that was public when the subscription was created and
/// points at an internal address at delivery time). A name is refused if **any** of its addresses
/// is not public; the error is a boxed [`TargetError::Forbidden`].
#[derive(Debug, Clone, Copy, Default)]
pub struct GuardedResolver {
    policy: TargetPolicy,
}

impl GuardedResolver {
    /// A resolver enforcing `policy`.
    pub fn new(policy: TargetPolicy) -> Self {
        Self { policy }
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(guarded_lookup(name, self.policy))
    }
}

async fn guarded_lookup(name: Name, policy: TargetPolicy) -> Result<Addrs, Box<dyn std::error::Error + Send + Sync>> {
    let host = name.as_str();
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, 0)).await?.collect();
    if !policy.allow_private {
        refuse_forbidden(host, &addrs)?;
    }
    Ok(Box::new(addrs.into_iter()))
}

/// Builds the HTTP client for webhook deliveries.
///
/// - redirects are not followed (`redirect::Policy::none()`): a 3xx is the receiver's answer;
/// - environment proxies are ignored (`no_proxy()`), since a proxy would resolve and connect on
///   our behalf and bypass the guard;
/// - `timeout` bounds each whole request, and the connect timeout is `min(timeout, 5 s)`;
/// - every host name is resolved through a [`GuardedResolver`] enforcing `policy`.
///
/// reqwest does **not** call the resolver for IP-literal hosts (`http://10.0.0.1/`,
/// `http://[::1]/`), so callers must also run [`parse_target`] on the URL before each request;
/// the client alone does not guard IP literals.
pub fn delivery_client(policy: TargetPolicy, timeout: Duration, user_agent: &str) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(timeout)
        .connect_timeout(timeout.min(MAX_CONNECT_TIMEOUT))
        .user_agent(user_agent)
        .dns_resolver(Arc::new(GuardedResolver::new(policy)))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    const DENY: TargetPolicy = TargetPolicy { allow_private: false };
    const ALLOW: TargetPolicy = TargetPolicy { allow_private: true };

    fn reason(ip: &str) -> Option<&'static str> {
        forbidden_reason(ip.parse().expect("test IP parses"))
    }

    #[test]
    fn ipv4_ranges_are_classified() {
        let cases: &[(&str, Option<&str>)] = &[
            ("0.0.0.0", Some("unspecified")),
            ("0.1.2.3", Some("reserved")),
            ("10.0.0.1", Some("private")),
            ("10.255.255.255", Some("private")),
            ("100.64.0.1", Some("shared (CGNAT)")),
            ("100.127.255.255", Some("shared (CGNAT)")),
            ("100.100.100.200", Some("cloud metadata")),
            ("100.63.255.255", None),
            ("100.128.0.0", None),
            ("127.0.0.1", Some("loopback")),
            ("127.255.255.254", Some("loopback")),
            ("169.254.169.254", Some("cloud metadata")),
            ("169.254.170.2", Some("cloud metadata")),
            ("169.254.1.1", Some("link-local")),
            ("172.16.0.1", Some("private")),
            ("172.31.255.255", Some("private")),
            ("172.15.255.255", None),
            ("172.32.0.0", None),
            ("192.0.0.1", Some("reserved")),
            ("192.0.2.1", Some("documentation")),
            ("192.88.99.1", Some("reserved")),
            ("192.168.1.1", Some("private")),
            ("198.18.0.1", Some("reserved")),
            ("198.19.255.255", Some("reserved")),
            ("198.20.0.0", None),
            ("198.51.100.7", Some("documentation")),
            ("203.0.113.9", Some("documentation")),
            ("224.0.0.1", Some("multicast")),
            ("239.255.255.250", Some("multicast")),
            ("240.0.0.1", Some("reserved")),
            ("254.1.2.3", Some("reserved")),
            ("255.255.255.255", Some("broadcast")),
            ("93.184.216.34", None),
            ("8.8.8.8", None),
            ("1.1.1.1", None),
        ];
        for (ip, expected) in cases {
            assert_eq!(reason(ip), *expected, "{ip}");
        }
    }

    #[test]
    fn ipv6_ranges_are_classified() {
        let cases: &[(&str, Option<&str>)] = &[
            ("::", Some("unspecified")),
            ("::1", Some("loopback")),
            ("::ffff:127.0.0.1", Some("loopback")),
            ("::ffff:10.0.0.1", Some("private")),
            ("::ffff:169.254.169.254", Some("cloud metadata")),
            ("::ffff:93.184.216.34", None),
            ("::127.0.0.1", Some("reserved")),
            ("64:ff9b::127.0.0.1", Some("loopback")),
            ("64:ff9b::a9fe:a9fe", Some("cloud metadata")),
            ("64:ff9b::8.8.8.8", None),
            ("64:ff9b:1::1", Some("private")),
            ("2002:7f00:1::1", Some("loopback")),
            ("2002:c0a8:101::1", Some("private")),
            ("2002:5db8:d822::1", None),
            ("fc00::1", Some("private")),
            ("fd12:3456::1", Some("private")),
            ("fd00:ec2::254", Some("cloud metadata")),
            ("fe80::1", Some("link-local")),
            ("febf::1", Some("link-local")),
            ("fec0::1", Some("private")),
            ("ff02::1", Some("multicast")),
            ("ff05::1:3", Some("multicast")),
            ("2001:db8::1", Some("documentation")),
            ("3fff::1", Some("documentation")),
            ("100::1", Some("reserved")),
            ("4000::1", Some("reserved")),
            ("2606:4700::1", None),
            ("2001:4860:4860::8888", None),
            ("2a00:1450:4001::1", None),
        ];
        for (ip, expected) in cases {
            assert_eq!(reason(ip), *expected, "{ip}");
        }
    }

    fn refused_reason(url: &str, policy: TargetPolicy) -> &'static str {
        match parse_target(url, policy) {
            Err(TargetError::Forbidden { reason, .. }) => reason,
            other => panic!("{url}: expected Forbidden, got {other:?}"),
        }
    }

    #[test]
    fn parse_target_rejects_malformed_urls() {
        assert_eq!(parse_target("ftp://x", DENY), Err(TargetError::Scheme));
        assert_eq!(parse_target("file:///etc/passwd", ALLOW), Err(TargetError::Scheme));
        assert_eq!(parse_target("not a url", DENY), Err(TargetError::NotAUrl));
        assert_eq!(parse_target("/relative/hook", DENY), Err(TargetError::NotAUrl));
        assert_eq!(parse_target("http://", DENY), Err(TargetError::NotAUrl));
        assert_eq!(parse_target("http://user:pw@example.com/", DENY), Err(TargetError::Credentials));
        assert_eq!(parse_target("http://user@example.com/", ALLOW), Err(TargetError::Credentials));
        let long = format!("https://example.com/{}", "a".repeat(MAX_URL_LEN));
        assert_eq!(parse_target(&long, DENY), Err(TargetError::TooLong));
    }

    #[test]
    fn parse_target_refuses_non_public_literals() {
        assert_eq!(refused_reason("http://127.0.0.1:8080/hook", DENY), "loopback");
        assert_eq!(refused_reason("http://10.1.2.3/", DENY), "private");
        assert_eq!(refused_reason("http://[fe80::1]/", DENY), "link-local");
        assert_eq!(refused_reason("http://[::1]/", DENY), "loopback");
        assert_eq!(refused_reason("http://[::ffff:127.0.0.1]/", DENY), "loopback");
        assert_eq!(refused_reason("http://169.254.169.254/latest/meta-data/", DENY), "cloud metadata");
        assert_eq!(refused_reason("http://[fd00:ec2::254]/", DENY), "cloud metadata");
        assert_eq!(refused_reason("http://localhost/", DENY), "loopback");
        assert_eq!(refused_reason("http://LOCALHOST./", DENY), "loopback");
        assert_eq!(refused_reason("https://api.localhost:8443/x", DENY), "loopback");
        // WHATWG IPv4 spellings are normalised by the URL parser before the check.
        assert_eq!(refused_reason("http://2130706433/", DENY), "loopback");
        assert_eq!(refused_reason("http://0x7f.1/", DENY), "loopback");
        assert_eq!(refused_reason("http://127.0.0.1./", DENY), "loopback");
        assert_eq!(refused_reason("http://0/", DENY), "unspecified");
    }

    #[test]
    fn parse_target_accepts_public_and_allowed_targets() {
        let url = parse_target("https://example.com/webhook", DENY).expect("public URL accepted");
        assert_eq!(url.as_str(), "https://example.com/webhook");
        assert!(parse_target("http://93.184.216.34:8080/hook", DENY).is_ok());
        assert!(parse_target("https://[2606:4700::1]/hook", DENY).is_ok());
        assert!(parse_target("https://notlocalhost/hook", DENY).is_ok());
        for url in [
            "http://127.0.0.1:8080/hook",
            "http://10.1.2.3/",
            "http://[fe80::1]/",
            "http://localhost/",
            "http://[::1]/",
        ] {
            assert!(parse_target(url, ALLOW).is_ok(), "{url}");
        }
    }

    #[test]
    fn forbidden_message_is_partner_readable() {
        let err = parse_target("http://127.0.0.1/", DENY).expect_err("refused");
        assert_eq!(
            err.to_string(),
            "resolves to a loopback address (127.0.0.1); such targets are refused unless the server runs with \
             --allow-private-webhook-targets"
        );
        let err = parse_target("http://0.0.0.0/", DENY).expect_err("refused");
        assert!(err.to_string().starts_with("resolves to an unspecified address (0.0.0.0);"), "{err}");
    }

    #[tokio::test]
    async fn check_target_resolves_localhost() {
        let url = Url::parse("http://localhost:1/").expect("valid URL");
        assert!(matches!(check_target(&url, DENY).await, Err(TargetError::Forbidden { reason: "loopback", .. })));
        assert_eq!(check_target(&url, ALLOW).await, Ok(()));
    }

    #[tokio::test]
    async fn check_target_refuses_literals_and_bad_schemes() {
        let url = Url::parse("http://10.0.0.1/").expect("valid URL");
        assert!(matches!(check_target(&url, DENY).await, Err(TargetError::Forbidden { reason: "private", .. })));
        let url = Url::parse("ftp://example.com/").expect("valid URL");
        assert_eq!(check_target(&url, ALLOW).await, Err(TargetError::Scheme));
        let url = Url::parse("https://93.184.216.34/").expect("valid URL");
        assert_eq!(check_target(&url, DENY).await, Ok(()));
    }

    #[tokio::test]
    async fn check_target_reports_unresolvable_names() {
        // `.invalid` never resolves (RFC 6761).
        let url = Url::parse("https://candex-test.invalid/hook").expect("valid URL");
        assert_eq!(check_target(&url, DENY).await, Err(TargetError::Unresolvable("candex-test.invalid".to_owned())));
    }

    #[tokio::test]
    async fn dns_check_refuses_names_resolving_to_loopback() {
        // Bypasses the `localhost` name rule to exercise the resolved-address check itself.
        assert!(matches!(
            lookup_checked("localhost", 80).await,
            Err(TargetError::Forbidden { reason: "loopback", .. })
        ));
    }

    #[test]
    fn any_forbidden_address_refuses_the_name() {
        let public: SocketAddr = "93.184.216.34:443".parse().expect("addr");
        let metadata: SocketAddr = "[fd00:ec2::254]:443".parse().expect("addr");
        assert_eq!(refuse_forbidden("example.com", &[public]), Ok(()));
        assert_eq!(
            refuse_forbidden("rebind.example", &[public, metadata]),
            Err(TargetError::Forbidden { host: "rebind.example".to_owned(), reason: "cloud metadata" })
        );
    }

    fn name(host: &str) -> Name {
        host.parse().expect("valid DNS name")
    }

    #[tokio::test]
    async fn resolver_refuses_localhost_unless_allowed() {
        let err = match GuardedResolver::new(DENY).resolve(name("localhost")).await {
            Ok(addrs) => panic!("expected refusal, got {:?}", addrs.collect::<Vec<_>>()),
            Err(err) => err,
        };
        assert!(
            matches!(err.downcast_ref::<TargetError>(), Some(TargetError::Forbidden { reason: "loopback", .. })),
            "{err}"
        );

        let addrs: Vec<SocketAddr> =
            GuardedResolver::new(ALLOW).resolve(name("localhost")).await.expect("localhost resolves").collect();
        assert!(addrs.iter().any(|a| a.ip() == IpAddr::V4(Ipv4Addr::LOCALHOST)), "{addrs:?}");
        assert!(addrs.iter().all(|a| a.ip().is_loopback()), "{addrs:?}");
    }

    /// Serves every connection on `listener` with `respond(path)`, one request per connection.
    fn serve(listener: TcpListener, respond: fn(&str) -> String) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut request = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                        match socket.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => request.extend_from_slice(&buf[..n]),
                        }
                    }
                    let request = String::from_utf8_lossy(&request);
                    let path = request.split(' ').nth(1).unwrap_or("/").to_owned();
                    let _ = socket.write_all(respond(&path).as_bytes()).await;
                    let _ = socket.shutdown().await;
                });
            }
        })
    }

    fn no_content(_path: &str) -> String {
        "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n".to_owned()
    }

    fn error_chain_has_target_error(err: &reqwest::Error) -> bool {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
        while let Some(e) = source {
            if matches!(e.downcast_ref::<TargetError>(), Some(TargetError::Forbidden { .. })) {
                return true;
            }
            source = e.source();
        }
        false
    }

    #[tokio::test]
    async fn delivery_client_guards_localhost_end_to_end() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("local addr").port();
        let server = serve(listener, no_content);
        let url = format!("http://localhost:{port}/");

        let denied = delivery_client(DENY, Duration::from_secs(5), "candex-test").expect("client builds");
        let err = denied.post(&url).body("{}").send().await.expect_err("localhost must be refused");
        assert!(err.is_connect(), "{err:?}");
        assert!(error_chain_has_target_error(&err), "{err:?}");

        let allowed = delivery_client(ALLOW, Duration::from_secs(5), "candex-test").expect("client builds");
        let response = allowed.post(&url).body("{}").send().await.expect("allowed request succeeds");
        assert_eq!(response.status(), reqwest::StatusCode::NO_CONTENT);
        server.abort();
    }

    #[tokio::test]
    async fn delivery_client_does_not_follow_redirects() {
        fn redirect_once(path: &str) -> String {
            if path == "/moved" {
                "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_owned()
            } else {
                "HTTP/1.1 302 Found\r\nLocation: /moved\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_owned()
            }
        }
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("local addr").port();
        let server = serve(listener, redirect_once);

        let client = delivery_client(ALLOW, Duration::from_secs(5), "candex-test").expect("client builds");
        let response = client.post(format!("http://127.0.0.1:{port}/hook")).body("{}").send().await.expect("request");
        assert_eq!(response.status(), reqwest::StatusCode::FOUND);
        assert_eq!(response.headers().get(reqwest::header::LOCATION).and_then(|v| v.to_str().ok()), Some("/moved"));
        server.abort();
    }
}
