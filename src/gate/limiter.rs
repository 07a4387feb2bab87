//! How many requests a gate admits at once. Fixed for now; the trait is the
//! seam for an adaptive algorithm (Vegas, Gradient, AIMD in the style of
//! Netflix's concurrency-limits) that learns the limit from the latency of
//! each completed request.

use std::time::Duration;

/// What a limiter learns when a permit comes back.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    /// How long the permit was held (the processor's service time).
    pub held: Duration,
    /// Requests holding a permit when this one was admitted, itself included.
    pub in_flight: u32,
}

pub trait Limiter: Send + Sync {
    /// The current limit (>= 1).
    fn limit(&self) -> u32;

    /// Feedback after each release; a fixed limit ignores it.
    fn on_release(&self, _sample: Sample) {}
}

/// A limit set by configuration.
#[derive(Debug)]
pub struct Fixed(pub u32);

impl Limiter for Fixed {
    fn limit(&self) -> u32 {
        self.0.max(1)
    }
}
