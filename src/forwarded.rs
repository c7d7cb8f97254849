//! Whose request it is behind a reverse proxy: the login throttle, the rate limit and the request
//! log key on the client's address, and behind a proxy the peer of every connection is the proxy.
//! Only a peer in `http.trusted_proxies` is believed about whom it forwards for, and only in the
//! one header `http.client_address_header` names (a proxy that sets `X-Forwarded-For` passes a
//! client's own `Forwarded` on untouched, and the other way round): the client is the rightmost
//! hop that is not a trusted proxy. A hop that does not parse stops the walk at the proxy that
//! sent it. Pure: the server (`http::serve`) calls [`client_address`] for each request.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use axum::http::HeaderMap;

/// A network of trusted proxies: an address and a prefix length (`10.0.0.0/8`, `::1/128`; a
/// bare address is the one host).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Whether `addr` is in this network (an IPv4-mapped IPv6 address counts as its IPv4 one).
    pub fn contains(&self, addr: IpAddr) -> bool {
        let addr = canonical(addr);
        match (self.network, addr) {
            (IpAddr::V4(net), IpAddr::V4(a)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

impl FromStr for Cidr {
    type Err = String;
    fn from_str(text: &str) -> Result<Cidr, String> {
        let text = text.trim();
        let (addr, prefix) = match text.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (text, None),
        };
        let network = canonical(
            addr.parse::<IpAddr>()
                .map_err(|_| format!("{text:?} is not an address or a network (10.0.0.0/8)"))?,
        );
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{text:?}: the prefix length must be 0 to {max}"))?,
        };
        Ok(Cidr { network, prefix })
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// The header a trusted proxy says whom it forwards for in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForwardedHeader {
    /// `X-Forwarded-For: client, proxy1, proxy2` (nginx, HAProxy, most load balancers).
    XForwardedFor,
    /// RFC 7239 `Forwarded: for=client;proto=https, for="[2001:db8::1]:4711"`.
    Forwarded,
}

impl FromStr for ForwardedHeader {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "x-forwarded-for" => Ok(ForwardedHeader::XForwardedFor),
            "forwarded" => Ok(ForwardedHeader::Forwarded),
            other => Err(format!("{other:?}: one of x-forwarded-for, forwarded")),
        }
    }
}

/// The client's address for a request from `peer`: `peer` itself unless it is a trusted proxy;
/// then the rightmost hop of `header` that is not one (the port kept from `peer`: proxies'
/// hops seldom say theirs).
pub fn client_address(
    peer: SocketAddr,
    headers: &HeaderMap,
    trusted: &[Cidr],
    header: ForwardedHeader,
) -> SocketAddr {
    let is_trusted = |addr: IpAddr| trusted.iter().any(|net| net.contains(addr));
    if !is_trusted(peer.ip()) {
        return peer;
    }
    let hops: Vec<Option<IpAddr>> = match header {
        ForwardedHeader::XForwardedFor => headers
            .get_all("x-forwarded-for")
            .iter()
            .flat_map(|v| v.to_str().ok().into_iter().flat_map(|v| v.split(',')))
            .map(parse_hop)
            .collect(),
        ForwardedHeader::Forwarded => headers
            .get_all("forwarded")
            .iter()
            .flat_map(|v| v.to_str().ok().into_iter().flat_map(|v| v.split(',')))
            .map(|element| {
                element
                    .split(';')
                    .filter_map(|pair| pair.split_once('='))
                    .find(|(name, _)| name.trim().eq_ignore_ascii_case("for"))
                    .and_then(|(_, value)| parse_hop(value))
            })
            .collect(),
    };
    let mut client = peer.ip();
    for hop in hops.into_iter().rev() {
        if !is_trusted(client) {
            break;
        }
        match hop {
            Some(addr) => client = addr,
            None => break,
        }
    }
    SocketAddr::new(client, peer.port())
}

/// One hop: an address, maybe quoted, bracketed, with a port (`"[2001:db8::1]:4711"`,
/// `192.0.2.7:1234`, `192.0.2.7`); `None` for anything else (`unknown`, an obfuscated `_name`).
fn parse_hop(raw: &str) -> Option<IpAddr> {
    let raw = raw.trim().trim_matches('"');
    if let Ok(addr) = raw.parse::<IpAddr>() {
        return Some(canonical(addr));
    }
    if let Ok(addr) = raw.parse::<SocketAddr>() {
        return Some(canonical(addr.ip()));
    }
    raw.strip_prefix('[')
        .and_then(|r| r.strip_suffix(']'))
        .and_then(|r| r.parse::<IpAddr>().ok())
        .map(canonical)
}

/// An IPv4-mapped IPv6 address as its IPv4 address.
fn canonical(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(list: &[&str]) -> Vec<Cidr> {
        list.iter().map(|n| n.parse().unwrap()).collect()
    }

    fn headers(name: &str, values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for v in values {
            map.append(
                axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        map
    }

    fn client(peer: &str, h: &HeaderMap, trusted: &[Cidr], which: ForwardedHeader) -> String {
        client_address(peer.parse().unwrap(), h, trusted, which)
            .ip()
            .to_string()
    }

    #[test]
    fn networks_parse_and_contain_what_they_should() {
        let net: Cidr = "10.1.0.0/16".parse().unwrap();
        assert!(net.contains("10.1.200.3".parse().unwrap()));
        assert!(!net.contains("10.2.0.1".parse().unwrap()));
        assert!(
            net.contains("::ffff:10.1.0.9".parse().unwrap()),
            "IPv4-mapped"
        );
        let host: Cidr = "127.0.0.1".parse().unwrap();
        assert_eq!(host.to_string(), "127.0.0.1/32");
        assert!(!host.contains("127.0.0.2".parse().unwrap()));
        let all: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains("203.0.113.9".parse().unwrap()));
        let v6: Cidr = "2001:db8::/32".parse().unwrap();
        assert!(v6.contains("2001:db8:1::5".parse().unwrap()));
        assert!(!v6.contains("10.0.0.1".parse().unwrap()));
        for bad in ["10.0.0.0/33", "10.0.0/8", "proxy", "::/129", "10.0.0.0/x"] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad}");
        }
    }

    #[test]
    fn only_a_trusted_peer_is_believed_and_the_rightmost_untrusted_hop_is_the_client() {
        let trusted = nets(&["10.0.0.0/8", "127.0.0.1"]);
        let xff = ForwardedHeader::XForwardedFor;
        // An untrusted peer's header is ignored: it could say anything.
        let h = headers("x-forwarded-for", &["198.51.100.1"]);
        assert_eq!(client("203.0.113.5:4000", &h, &trusted, xff), "203.0.113.5");
        // One proxy: the hop before it.
        assert_eq!(client("10.0.0.2:4000", &h, &trusted, xff), "198.51.100.1");
        // A client's forged first hop stays to the left of its real address.
        let h = headers("x-forwarded-for", &["1.2.3.4, 198.51.100.7", "10.0.0.9"]);
        assert_eq!(client("127.0.0.1:4000", &h, &trusted, xff), "198.51.100.7");
        // No header: the proxy itself.
        assert_eq!(
            client("10.0.0.2:4000", &HeaderMap::new(), &trusted, xff),
            "10.0.0.2"
        );
        // Every hop trusted: the leftmost.
        let h = headers("x-forwarded-for", &["10.9.9.9, 10.0.0.3"]);
        assert_eq!(client("10.0.0.2:1", &h, &trusted, xff), "10.9.9.9");
        // A hop that does not parse stops the walk at the proxy that sent it.
        let h = headers("x-forwarded-for", &["198.51.100.1, garbage"]);
        assert_eq!(client("10.0.0.2:1", &h, &trusted, xff), "10.0.0.2");
        // No trusted proxies at all: always the peer.
        let h = headers("x-forwarded-for", &["198.51.100.1"]);
        assert_eq!(client("10.0.0.2:1", &h, &[], xff), "10.0.0.2");
    }

    #[test]
    fn the_forwarded_header_and_only_the_configured_one() {
        let trusted = nets(&["10.0.0.0/8"]);
        let mut h = headers(
            "forwarded",
            &["for=\"[2001:db8::7]:4711\";proto=https, for=10.0.0.4"],
        );
        h.append("x-forwarded-for", "192.0.2.99".parse().unwrap());
        assert_eq!(
            client("10.0.0.2:1", &h, &trusted, ForwardedHeader::Forwarded),
            "2001:db8::7"
        );
        // Told to read X-Forwarded-For, the Forwarded header is not looked at.
        assert_eq!(
            client("10.0.0.2:1", &h, &trusted, ForwardedHeader::XForwardedFor),
            "192.0.2.99"
        );
        let h = headers("forwarded", &["for=unknown"]);
        assert_eq!(
            client("10.0.0.2:1", &h, &trusted, ForwardedHeader::Forwarded),
            "10.0.0.2"
        );
        let h = headers("forwarded", &["proto=https;For=198.51.100.3:99"]);
        assert_eq!(
            client("10.0.0.2:1", &h, &trusted, ForwardedHeader::Forwarded),
            "198.51.100.3"
        );
    }
}
