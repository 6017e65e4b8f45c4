//! Where a webhook may point: an http(s) URL whose host resolves to public addresses only
//! (unless `EVENTHUB_WEBHOOKS_ALLOW_PRIVATE=true`). Checked when an endpoint is added and again
//! before every delivery, which then connects to the very address checked (no second look-up
//! an attacker's DNS could answer differently).
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// The longest a host name look-up may take.
const LOOKUP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Why a URL is refused.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Not an http(s) URL with a host.
    Malformed,
    /// The host has no address (or the look-up failed: it may work later).
    Unresolvable,
    /// An address on loopback, a private or local network, or otherwise not public.
    Private(IpAddr),
}

impl Refusal {
    pub fn text(&self) -> String {
        match self {
            Refusal::Malformed => "the URL must be http:// or https:// with a host".into(),
            Refusal::Unresolvable => "the host of the URL could not be resolved".into(),
            Refusal::Private(ip) => {
                format!("the URL points to {ip}, a loopback, private or local address")
            }
        }
    }
}

/// A checked target: the URL, its host as written, and the address to connect to.
#[derive(Clone, Debug)]
pub struct Target {
    pub url: reqwest::Url,
    /// The host name when the URL names one (not an IP literal): what the connection pins.
    pub domain: Option<String>,
    pub addr: SocketAddr,
}

/// Parses `url`, resolves its host and checks every address it resolves to.
pub async fn check(url: &str, allow_private: bool) -> Result<Target, Refusal> {
    let url = reqwest::Url::parse(url).map_err(|_| Refusal::Malformed)?;
    if !matches!(url.scheme(), "http" | "https") || !url.username().is_empty() {
        return Err(Refusal::Malformed);
    }
    let port = url.port_or_known_default().ok_or(Refusal::Malformed)?;
    let host = url.host_str().ok_or(Refusal::Malformed)?;
    let literal = host.trim_start_matches('[').trim_end_matches(']');
    let (domain, addrs): (Option<String>, Vec<SocketAddr>) = match literal.parse::<IpAddr>() {
        Ok(ip) => (None, vec![SocketAddr::new(ip, port)]),
        Err(_) => {
            let lookup = tokio::net::lookup_host((host, port));
            let found = tokio::time::timeout(LOOKUP_TIMEOUT, lookup)
                .await
                .map_err(|_| Refusal::Unresolvable)?
                .map_err(|_| Refusal::Unresolvable)?
                .collect();
            (Some(host.to_owned()), found)
        }
    };
    let first = *addrs.first().ok_or(Refusal::Unresolvable)?;
    if !allow_private && let Some(bad) = addrs.iter().find(|a| !is_public(a.ip())) {
        return Err(Refusal::Private(bad.ip()));
    }
    Ok(Target {
        url,
        domain,
        addr: first,
    })
}

/// Whether `ip` is an ordinary public address: not loopback, private (RFC 1918), link-local,
/// shared (CGNAT, 100.64/10), unique-local (fc00::/7), unspecified, multicast, broadcast,
/// reserved or documentation, nor an IPv4-mapped / NAT64 / 6to4 form of one of those.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || a == 0
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || (a == 100 && (64..128).contains(&b))
        || ip.is_multicast()
        || ip.is_broadcast()
        || a >= 240
        || (a == 192 && b == 0 && c == 0)
        || (a == 192 && b == 0 && c == 2)
        || (a == 198 && (18..20).contains(&b))
        || (a == 198 && b == 51 && c == 100)
        || (a == 203 && b == 0 && c == 113))
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let s = ip.segments();
    // NAT64 (64:ff9b::/96) carries an IPv4 address in its last 32 bits.
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
        let [a, b] = s[6].to_be_bytes();
        let [c, d] = s[7].to_be_bytes();
        return is_public_v4(Ipv4Addr::new(a, b, c, d));
    }
    // 6to4 (2002::/16) carries one in bits 16–48.
    if s[0] == 0x2002 {
        let [a, b] = s[1].to_be_bytes();
        let [c, d] = s[2].to_be_bytes();
        return is_public_v4(Ipv4Addr::new(a, b, c, d));
    }
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (s[0] & 0xfe00) == 0xfc00
        || (s[0] & 0xffc0) == 0xfe80
        || (s[0] & 0xffc0) == 0xfec0
        || (s[0] == 0 && s[1..6] == [0, 0, 0, 0, 0])
        || (s[0] == 0x2001 && s[1] == 0x0db8))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_local_addresses_are_not_public() {
        for text in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a00:1",
            "2002:7f00:1::",
            "::127.0.0.1",
        ] {
            let ip: IpAddr = text.parse().unwrap();
            assert!(!is_public(ip), "{text} counted as public");
        }
        for text in [
            "93.184.216.34",
            "1.1.1.1",
            "2606:4700:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            let ip: IpAddr = text.parse().unwrap();
            assert!(is_public(ip), "{text} counted as private");
        }
    }

    #[tokio::test]
    async fn a_loopback_target_is_refused_unless_allowed() {
        let refused = check("http://127.0.0.1:9/hook", false).await.unwrap_err();
        assert_eq!(refused, Refusal::Private("127.0.0.1".parse().unwrap()));
        assert!(matches!(
            check("http://localhost:9/hook", false).await,
            Err(Refusal::Private(_))
        ));
        assert!(matches!(
            check("http://[::ffff:7f00:1]/", false).await,
            Err(Refusal::Private(_))
        ));
        let allowed = check("http://127.0.0.1:9/hook", true).await.unwrap();
        assert_eq!(allowed.addr, "127.0.0.1:9".parse().unwrap());
        assert_eq!(
            check("ftp://example.com/", true).await.unwrap_err(),
            Refusal::Malformed
        );
    }
}
