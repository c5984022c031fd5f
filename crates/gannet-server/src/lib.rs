//! Gannet server runtime (skeleton).
