//! Subject rules (skeleton).
