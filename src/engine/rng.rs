//! Named, seeded random streams.
//!
//! Every purpose (arrivals, durations, usage noise, policy, faults, …) draws
//! from its own ChaCha8 stream whose key is SHA-256(master seed ‖ stream
//! name). Adding a draw to one stream never shifts another, and the streams
//! are identical on every platform (ChaCha8 is named explicitly, never
//! `StdRng`).

use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};
use sha2::{Digest, Sha256};

/// The purposes that draw random numbers. Each has a stable name that keys
/// its stream; never rename one (it would change every result).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stream {
    /// Arrival times of generated load.
    Arrivals,
    /// Durations and start-up times drawn from distributions.
    Durations,
    /// Resource-usage noise of running containers.
    Usage,
    /// Choices made by scheduling policies (tie-breaking, random policies).
    Policy,
    /// Injected faults.
    Faults,
    /// Names generated for objects with `generateName`.
    Names,
    /// The default scheduler's preemption offset (upstream's
    /// `GetOffsetAndNumCandidates` draws it with `rand.Int31n`).
    Preemption,
}

impl Stream {
    pub const ALL: [Stream; 7] = [
        Stream::Arrivals,
        Stream::Durations,
        Stream::Usage,
        Stream::Policy,
        Stream::Faults,
        Stream::Names,
        Stream::Preemption,
    ];
    pub fn name(self) -> &'static str {
        match self {
            Stream::Arrivals => "arrivals",
            Stream::Durations => "durations",
            Stream::Usage => "usage",
            Stream::Policy => "policy",
            Stream::Faults => "faults",
            Stream::Names => "names",
            Stream::Preemption => "preemption",
        }
    }
}

/// One random stream.
pub struct SimRng(ChaCha8Rng);

impl SimRng {
    /// The stream `name` of the run seeded with `seed`.
    pub fn derive(seed: u64, name: &str) -> SimRng {
        let mut h = Sha256::new();
        h.update(b"kubesim-rng-v1\0");
        h.update(seed.to_le_bytes());
        h.update(name.as_bytes());
        let key: [u8; 32] = h.finalize().into();
        SimRng(ChaCha8Rng::from_seed(key))
    }
    /// A uniform integer in `[0, n)`; `n` must be non-zero.
    pub fn below(&mut self, n: u64) -> u64 {
        self.0.random_range(0..n.max(1))
    }
    /// A uniform integer in `[lo, hi]`.
    pub fn between(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            return lo;
        }
        self.0.random_range(lo..=hi)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0.random()
    }
    /// Access for distributions (`rand_distr`) that need an `Rng`.
    pub fn inner(&mut self) -> &mut ChaCha8Rng {
        &mut self.0
    }
}

/// All the streams of one run.
pub struct RngStreams {
    seed: u64,
    streams: Vec<SimRng>,
}

impl RngStreams {
    pub fn new(seed: u64) -> RngStreams {
        RngStreams {
            seed,
            streams: Stream::ALL
                .iter()
                .map(|s| SimRng::derive(seed, s.name()))
                .collect(),
        }
    }
    pub fn seed(&self) -> u64 {
        self.seed
    }
    pub fn get(&mut self, s: Stream) -> &mut SimRng {
        // Stream::ALL lists the variants in declaration order.
        &mut self.streams[s as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_independent() {
        let mut a = RngStreams::new(7);
        let mut b = RngStreams::new(7);
        // Drawing from one stream in `a` must not shift the policy stream.
        for _ in 0..100 {
            a.get(Stream::Arrivals).next_u64();
        }
        let pa: Vec<u64> = (0..10).map(|_| a.get(Stream::Policy).next_u64()).collect();
        let pb: Vec<u64> = (0..10).map(|_| b.get(Stream::Policy).next_u64()).collect();
        assert_eq!(pa, pb);
    }

    #[test]
    fn seeds_and_names_give_different_streams() {
        let x = SimRng::derive(1, "policy").next_u64();
        assert_ne!(x, SimRng::derive(2, "policy").next_u64());
        assert_ne!(x, SimRng::derive(1, "arrivals").next_u64());
    }

    #[test]
    fn stream_is_pinned() {
        // Pins the derivation and ChaCha8 so a dependency bump that changed
        // either would be caught here rather than as a silent result change.
        let mut r = SimRng::derive(42, "policy");
        assert_eq!(r.next_u64(), 1285425609459987433);
        assert_eq!(r.below(1000), 977);
        let all: Vec<usize> = Stream::ALL.iter().map(|s| *s as usize).collect();
        assert_eq!(all, (0..Stream::ALL.len()).collect::<Vec<_>>());
    }
}
