//! Webhook signatures, as Stripe and GitHub sign theirs: the header
//! `Helpline-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`. The
//! timestamp is signed with the body, so a receiver that refuses old timestamps cannot be replayed
//! an old delivery; it compares in constant time ([`verify`]).

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The signature header's name.
pub const SIGNATURE_HEADER: &str = "Helpline-Signature";

type HmacSha256 = Hmac<Sha256>;

fn mac(secret: &[u8], timestamp: i64, body: &[u8]) -> HmacSha256 {
    #[allow(clippy::expect_used)]
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The header value signing `body` at `now`.
pub fn header(secret: &[u8], body: &[u8], now: DateTime<Utc>) -> String {
    let t = now.timestamp();
    let tag = mac(secret, t, body).finalize().into_bytes();
    format!("t={t},v1={}", hex::encode(tag))
}

/// Why a signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the signature header is not `t=<seconds>,v1=<hex>`")]
    Malformed,
    #[error("the signature's timestamp is {0} s away from now, beyond the tolerance")]
    Stale(i64),
    #[error("the signature does not match the body")]
    Mismatch,
}

/// Checks a signature header against `body`, refusing timestamps more than `tolerance_secs` from
/// `now`. For receivers (and the tests that play one).
pub fn verify(
    secret: &[u8],
    header: &str,
    body: &[u8],
    now: DateTime<Utc>,
    tolerance_secs: i64,
) -> Result<(), SignatureError> {
    let mut t = None;
    let mut tags = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = v.parse::<i64>().ok(),
            Some(("v1", v)) => tags.push(hex::decode(v).map_err(|_| SignatureError::Malformed)?),
            _ => {}
        }
    }
    let t = t.ok_or(SignatureError::Malformed)?;
    if tags.is_empty() {
        return Err(SignatureError::Malformed);
    }
    let skew = (now.timestamp() - t).abs();
    if skew > tolerance_secs {
        return Err(SignatureError::Stale(skew));
    }
    for tag in tags {
        if mac(secret, t, body).verify_slice(&tag).is_ok() {
            return Ok(());
        }
    }
    Err(SignatureError::Mismatch)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_796_000_000, 0).unwrap_or_default()
    }

    #[test]
    fn a_known_vector() {
        // HMAC-SHA256("secret", "1796000000.{}") computed independently (Python's hmac module).
        let h = header(b"secret", b"{}", now());
        assert_eq!(
            h,
            "t=1796000000,v1=57bc54136841b3e8fecdbd2debaa2060481b12d0ad680da97df5105c7f915223"
        );
        assert_eq!(verify(b"secret", &h, b"{}", now(), 300), Ok(()));
    }

    #[test]
    fn tampering_staleness_and_garbage_are_refused() {
        let h = header(b"secret", b"{\"a\":1}", now());
        assert_eq!(
            verify(b"secret", &h, b"{\"a\":2}", now(), 300),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(b"other", &h, b"{\"a\":1}", now(), 300),
            Err(SignatureError::Mismatch)
        );
        let later = now() + chrono::Duration::seconds(301);
        assert_eq!(
            verify(b"secret", &h, b"{\"a\":1}", later, 300),
            Err(SignatureError::Stale(301))
        );
        for bad in [
            "",
            "t=abc,v1=00",
            "v1=00",
            "t=1796000000",
            "t=1796000000,v1=zz",
        ] {
            assert_eq!(
                verify(b"secret", bad, b"{}", now(), 300),
                Err(SignatureError::Malformed),
                "{bad}"
            );
        }
    }

    proptest! {
        #[test]
        fn what_is_signed_verifies_and_nothing_else(
            secret in proptest::collection::vec(any::<u8>(), 0..64),
            body in proptest::collection::vec(any::<u8>(), 0..256),
            flip in any::<usize>(),
        ) {
            let h = header(&secret, &body, now());
            prop_assert_eq!(verify(&secret, &h, &body, now(), 300), Ok(()));
            if !body.is_empty() {
                let mut changed = body.clone();
                let i = flip % changed.len();
                changed[i] ^= 0x01;
                prop_assert_eq!(
                    verify(&secret, &h, &changed, now(), 300),
                    Err(SignatureError::Mismatch)
                );
            }
        }
    }
}
