//! IVR scripts and the IVR state machine: plain code with no I/O (inputs in, actions out).
