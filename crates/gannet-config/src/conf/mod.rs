//! The NATS config file format (skeleton).
