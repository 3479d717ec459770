//! A real-time clock for the event loop (the Linux backend): simulated
//! time runs with the wall clock, scaled by a speed (scenario seconds per
//! wall-clock second). The loop waits until an event's wall time before
//! it runs it (never ahead of the wall clock), polling the outside world
//! every few milliseconds meanwhile so that something real (a process
//! exiting) can enter the simulation at the current simulated time.
//!
//! A run on this clock is not deterministic: when things happen depends
//! on the host. Simulated runs never use it.
#![allow(clippy::disallowed_methods)] // the wall clock is the point

use std::time::Instant;

use super::time::SimTime;

/// Simulated time driven by the wall clock.
#[derive(Clone, Debug)]
pub struct RealClock {
    start: Instant,
    speed: f64,
    /// How often [`RealClock::wait_until`] polls.
    pub poll: std::time::Duration,
    /// The most the loop ran behind the wall clock (simulated µs).
    max_lag: std::cell::Cell<u64>,
}

/// How a wait ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Waited {
    /// The target time was reached.
    Reached,
    /// The poll asked to stop waiting at this simulated time.
    Polled(SimTime),
}

impl RealClock {
    /// Simulated time zero is now; `speed` scenario seconds pass per
    /// wall-clock second (values outside (0, 1e6] become 1).
    pub fn new(speed: f64) -> RealClock {
        let speed = if speed.is_finite() && speed > 0.0 && speed <= 1e6 {
            speed
        } else {
            1.0
        };
        RealClock {
            start: Instant::now(),
            speed,
            poll: std::time::Duration::from_millis(5),
            max_lag: std::cell::Cell::new(0),
        }
    }

    /// Notes that the event due at `t` runs now: how late it is counts
    /// towards [`RealClock::max_lag`].
    pub fn note_due(&self, t: SimTime) {
        let lag = self.now().as_micros().saturating_sub(t.as_micros());
        self.max_lag.set(self.max_lag.get().max(lag));
    }

    /// The most an event ran after its time (simulated µs): a loop that
    /// falls behind the wall clock (a starved host) timestamps real exits
    /// late.
    pub fn max_lag(&self) -> crate::engine::Duration {
        crate::engine::Duration::from_micros(self.max_lag.get())
    }

    pub fn speed(&self) -> f64 {
        self.speed
    }

    /// The simulated time the wall clock has reached.
    pub fn now(&self) -> SimTime {
        SimTime((self.start.elapsed().as_micros() as f64 * self.speed) as u64)
    }

    /// The wall-clock time still to wait until simulated time `t`.
    pub fn wall_until(&self, t: SimTime) -> std::time::Duration {
        let at = std::time::Duration::from_micros((t.as_micros() as f64 / self.speed) as u64);
        at.saturating_sub(self.start.elapsed())
    }

    /// Waits until the wall clock reaches simulated time `t` (forever
    /// with `None`), calling `poll(now)` at least every [`RealClock::poll`];
    /// returns early when `poll` returns true.
    pub fn wait_until(&self, t: Option<SimTime>, mut poll: impl FnMut(SimTime) -> bool) -> Waited {
        loop {
            let now = self.now();
            if poll(now) {
                return Waited::Polled(now);
            }
            let left = match t {
                Some(t) => {
                    let w = self.wall_until(t);
                    if w.is_zero() {
                        return Waited::Reached;
                    }
                    w
                }
                None => self.poll,
            };
            std::thread::sleep(left.min(self.poll));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_runs_ahead_of_the_wall_clock() {
        let c = RealClock::new(100.0);
        let target = SimTime(1_000_000); // 1 s simulated = 10 ms of wall time
        assert_eq!(c.wait_until(Some(target), |_| false), Waited::Reached);
        assert!(c.now() >= target);
    }

    #[test]
    fn a_poll_ends_the_wait_at_the_current_time() {
        let c = RealClock::new(1.0);
        let mut n = 0;
        let w = c.wait_until(Some(SimTime(3_600_000_000)), |_| {
            n += 1;
            n == 3
        });
        match w {
            Waited::Polled(t) => assert!(t < SimTime(3_600_000_000)),
            Waited::Reached => panic!("an hour cannot have passed"),
        }
    }

    #[test]
    fn lag_is_the_most_an_event_ran_late() {
        let c = RealClock::new(1000.0);
        c.note_due(SimTime(u64::MAX));
        assert_eq!(c.max_lag().as_micros(), 0);
        std::thread::sleep(std::time::Duration::from_millis(2));
        c.note_due(SimTime::ZERO);
        assert!(c.max_lag().as_micros() >= 2_000_000, "{:?}", c.max_lag());
    }

    #[test]
    fn bad_speeds_become_one() {
        assert_eq!(RealClock::new(f64::NAN).speed(), 1.0);
        assert_eq!(RealClock::new(-2.0).speed(), 1.0);
        assert_eq!(RealClock::new(4.0).speed(), 4.0);
    }
}
