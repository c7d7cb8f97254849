//! The 1100 ticket system: complaint numbers, the ticket store (SQLite or PostgreSQL), lifecycle, escalation and the HTTP API.
