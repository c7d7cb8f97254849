//! `AriError`: every way an ARI request can fail, typed by what it means for the caller (the channel is
//! gone, it is not in Stasis, the request was wrong, Asterisk is unavailable…) rather than by HTTP status, and
//! always carrying Asterisk's own message.

use std::time::Duration;

/// What went wrong talking to Asterisk. `operation` names the ARI operation (e.g. `channels.answer`) so a log
/// line says what was attempted; `message` is Asterisk's own text (`{"message": …}` or `{"error": …}`).
#[derive(Debug, thiserror::Error)]
pub enum AriError {
    /// 404: the channel, bridge, playback, recording … does not exist (any more).
    #[error("{operation}: not found: {message}")]
    NotFound {
        operation: &'static str,
        message: String,
    },
    /// 409 on a channel operation, or 412: the channel exists but is not in a Stasis application (it left,
    /// or is being hung up).
    #[error("{operation}: channel not in Stasis: {message}")]
    NotInStasis {
        operation: &'static str,
        status: u16,
        message: String,
    },
    /// 409 elsewhere: a conflict, e.g. a recording of that name exists with `ifExists=fail`, or an id is
    /// already in use.
    #[error("{operation}: conflict: {message}")]
    Conflict {
        operation: &'static str,
        message: String,
    },
    /// 400: a parameter is missing or malformed.
    #[error("{operation}: bad request: {message}")]
    BadRequest {
        operation: &'static str,
        message: String,
    },
    /// 422: well-formed but not processable (unknown format, channel not in that bridge …).
    #[error("{operation}: unprocessable: {message}")]
    Unprocessable {
        operation: &'static str,
        message: String,
    },
    /// 401/403: the ARI credentials were refused.
    #[error("{operation}: unauthorized (HTTP {status}): {message}")]
    Unauthorized {
        operation: &'static str,
        status: u16,
        message: String,
    },
    /// 5xx, or the connection could not be made: Asterisk is down, restarting or failing.
    #[error("{operation}: Asterisk unavailable (HTTP {status:?}): {message}")]
    Unavailable {
        operation: &'static str,
        /// `None` when no HTTP answer came (connection refused/reset).
        status: Option<u16>,
        message: String,
    },
    /// No answer within the client's per-call timeout.
    #[error("{operation}: no answer within {after:?}")]
    Timeout {
        operation: &'static str,
        after: Duration,
    },
    /// Any other unexpected HTTP status.
    #[error("{operation}: unexpected HTTP {status}: {message}")]
    Unexpected {
        operation: &'static str,
        status: u16,
        message: String,
    },
    /// A 2xx reply whose body is not what the ARI spec promises.
    #[error("{operation}: could not decode the reply: {source}")]
    Decode {
        operation: &'static str,
        #[source]
        source: serde_json::Error,
    },
    /// The request could not be built (e.g. a bad base URL); a bug or a configuration error.
    #[error("{operation}: invalid request: {message}")]
    InvalidRequest {
        operation: &'static str,
        message: String,
    },
}

impl AriError {
    /// True when the object the request was about no longer exists or is no longer ours: a 404, or a channel
    /// that has left Stasis. After a hangup (ours or the caller's) this is the expected outcome, not a failure.
    pub fn is_gone(&self) -> bool {
        matches!(self, Self::NotFound { .. } | Self::NotInStasis { .. })
    }

    /// True when retrying later may succeed (Asterisk down or slow); false for errors in the request itself.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Unavailable { .. } | Self::Timeout { .. })
    }

    /// The ARI operation that failed, e.g. `channels.play`.
    pub fn operation(&self) -> &'static str {
        match self {
            Self::NotFound { operation, .. }
            | Self::NotInStasis { operation, .. }
            | Self::Conflict { operation, .. }
            | Self::BadRequest { operation, .. }
            | Self::Unprocessable { operation, .. }
            | Self::Unauthorized { operation, .. }
            | Self::Unavailable { operation, .. }
            | Self::Timeout { operation, .. }
            | Self::Unexpected { operation, .. }
            | Self::Decode { operation, .. }
            | Self::InvalidRequest { operation, .. } => operation,
        }
    }

    /// The HTTP status Asterisk answered with, if it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::NotFound { .. } => Some(404),
            Self::NotInStasis { status, .. } => Some(*status),
            Self::Conflict { .. } => Some(409),
            Self::BadRequest { .. } => Some(400),
            Self::Unprocessable { .. } => Some(422),
            Self::Unauthorized { status, .. } | Self::Unexpected { status, .. } => Some(*status),
            Self::Unavailable { status, .. } => *status,
            Self::Timeout { .. } | Self::Decode { .. } | Self::InvalidRequest { .. } => None,
        }
    }

    /// Classifies an HTTP error reply. A 409 is "not in Stasis" when Asterisk's message says so, or, with no
    /// message, when `channel_op` (a channel operation); otherwise a conflict (e.g. a recording that exists).
    /// `body` is the raw reply; Asterisk's `message`/`error` text is kept.
    pub fn from_status(
        operation: &'static str,
        channel_op: bool,
        status: u16,
        body: &[u8],
    ) -> Self {
        let message = error_message(body);
        match status {
            404 => Self::NotFound { operation, message },
            412 => Self::NotInStasis {
                operation,
                status,
                message,
            },
            409 if mentions_stasis(&message) || (channel_op && message.is_empty()) => {
                Self::NotInStasis {
                    operation,
                    status,
                    message,
                }
            }
            409 => Self::Conflict { operation, message },
            400 => Self::BadRequest { operation, message },
            422 => Self::Unprocessable { operation, message },
            401 | 403 => Self::Unauthorized {
                operation,
                status,
                message,
            },
            500..=599 => Self::Unavailable {
                operation,
                status: Some(status),
                message,
            },
            _ => Self::Unexpected {
                operation,
                status,
                message,
            },
        }
    }
}

fn mentions_stasis(message: &str) -> bool {
    message.to_ascii_lowercase().contains("stasis")
}

/// Asterisk's error text: `{"message": …}` (most errors) or `{"error": …}` (e.g. originate's "Allocation
/// failed"); otherwise the body itself, cut short, so nothing is silently dropped.
fn error_message(body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct ErrorBody {
        message: Option<String>,
        error: Option<String>,
    }
    if let Ok(parsed) = serde_json::from_slice::<ErrorBody>(body)
        && let Some(text) = parsed.message.or(parsed.error)
    {
        return text;
    }
    const MAX: usize = 300;
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text == "{}" {
        String::new()
    } else if text.len() <= MAX {
        text.to_owned()
    } else {
        let mut end = MAX;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}…", &text[..end])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_message_and_error_keys() {
        let e = AriError::from_status(
            "channels.get",
            true,
            404,
            br#"{"message": "Channel not found"}"#,
        );
        assert!(matches!(&e, AriError::NotFound { message, .. } if message == "Channel not found"));
        assert!(e.is_gone());
        let e = AriError::from_status(
            "channels.originate",
            false,
            500,
            br#"{"error": "Allocation failed"}"#,
        );
        assert!(
            matches!(&e, AriError::Unavailable { message, status: Some(500), .. } if message == "Allocation failed")
        );
        assert!(e.is_transient());
        assert!(!e.is_gone());
    }

    #[test]
    fn conflict_depends_on_operation_kind() {
        let e = AriError::from_status("channels.answer", true, 409, b"{}");
        assert!(matches!(e, AriError::NotInStasis { status: 409, .. }));
        let e = AriError::from_status(
            "channels.answer",
            true,
            409,
            br#"{"message":"Channel not in Stasis application"}"#,
        );
        assert!(matches!(e, AriError::NotInStasis { status: 409, .. }));
        // The real reply to a second recording of the same name (record_complaint trace).
        let e = AriError::from_status(
            "channels.record",
            true,
            409,
            br#"{"message": "Recording 'complaint-a35a7976' already exists and can not be overwritten"}"#,
        );
        assert!(matches!(e, AriError::Conflict { .. }));
        assert!(!e.is_gone());
        let e = AriError::from_status("channels.continue", true, 412, b"");
        assert!(matches!(e, AriError::NotInStasis { status: 412, .. }));
        assert_eq!(e.status(), Some(412));
    }

    #[test]
    fn non_json_body_kept_and_cut() {
        let e = AriError::from_status("asterisk.info", false, 502, b"Bad Gateway");
        assert!(matches!(&e, AriError::Unavailable { message, .. } if message == "Bad Gateway"));
        let long = "x".repeat(1000);
        let e = AriError::from_status("asterisk.info", false, 418, long.as_bytes());
        assert!(matches!(&e, AriError::Unexpected { message, .. } if message.len() < 400));
    }
}
