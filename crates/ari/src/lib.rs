//! The Asterisk REST Interface (ARI): the only place in `helpline` that knows ARI URLs and JSON field names.
