//! A faithful fake Asterisk: an ARI server (REST + WebSocket) with a model of channels, bridges, playbacks and recordings.
