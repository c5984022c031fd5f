//! Writing server operations (skeleton).
