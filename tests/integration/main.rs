//! Integration tests of the whole helpline against the in-process simulator (one test binary): the call
//! flows of 1100.toml, concurrency, reconnection, shutdown, the demo and several nodes on one database.

mod flows;
mod support;
