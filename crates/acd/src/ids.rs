//! The names the ACD and its driver share: a call's channel id, an agent's login name, and the id of
//! one attempt to reach a phone (the driver uses it as the ARI channel id it originates).
//!
//! Call and agent ids are `Arc<str>`: the maps, the queue entries and every [`Action`](crate::Action)
//! that names them share one copy, so an action costs a reference count, not a string.

use std::borrow::Borrow;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

macro_rules! shared_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Arc<str>);

        impl $name {
            pub fn new(id: &str) -> $name {
                $name(Arc::from(id))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> $name {
                $name::new(id)
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> $name {
                $name(Arc::from(id))
            }
        }

        impl Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

shared_id!(
    /// A call: the caller's channel id (for a call-back, the id the slot was booked under).
    CallId
);
shared_id!(
    /// An agent: the login name of their user account.
    AgentId
);

/// One attempt to reach a phone: an agent's ring, or the citizen's leg of a call-back. Unique for the
/// life of the ACD and across restarts (the counter is part of the [`Durable`](crate::Durable) state,
/// and a fresh ACD starts it from the clock), so the driver can use [`AttemptId::channel_id`] as the
/// ARI channel id it originates with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AttemptId(pub u64);

impl AttemptId {
    /// The ARI channel id for this attempt: `acd-<n>`.
    pub fn channel_id(self) -> String {
        self.to_string()
    }
}

impl fmt::Display for AttemptId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "acd-{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn ids_are_looked_up_by_str_and_shared_when_cloned() {
        let id = CallId::new("1795921121.47");
        let copy = id.clone();
        assert!(Arc::ptr_eq(&id.0, &copy.0));
        let mut map = HashMap::new();
        map.insert(id, 1);
        assert_eq!(map.get("1795921121.47"), Some(&1));
        assert_eq!(AttemptId(17).channel_id(), "acd-17");
    }
}
