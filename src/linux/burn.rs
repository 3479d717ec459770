//! `kubesim burn`: the built-in workload of real containers. It follows a
//! CPU demand in millicores (duty-cycled busy loops, one thread per started
//! core), allocates and touches memory up to a target (both may change
//! over time: breakpoints `ms:value,...` of the container's usage model,
//! as the simulator evaluates it; memory above a lower target is freed),
//! and ends after a
//! wall-clock duration or once it has used a given amount of CPU time,
//! with a given exit code (with neither it runs until stopped); SIGTERM
//! ends it at once with 143.
//!
//! The wall clock is the point here (clippy's ban is lifted locally).
#![allow(clippy::disallowed_methods)]

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use nix::libc;

/// What to do.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BurnSpec {
    /// CPU demand in millicores (0 = idle).
    pub cpu_m: u64,
    /// Bytes to allocate and touch.
    pub memory_bytes: u64,
    /// Stop after this wall-clock time.
    pub duration: Option<Duration>,
    /// Stop after using this much CPU time (all threads, from the start).
    pub cpu_work: Option<Duration>,
    pub exit_code: i32,
    /// Duty-cycle period (default 10 ms).
    pub period: Option<Duration>,
    /// Time-varying CPU demand: (time since start, millicores), sorted;
    /// when set it replaces `cpu_m`.
    pub cpu_steps: Vec<(Duration, u64)>,
    /// Time-varying memory target: (time since start, bytes), sorted;
    /// when set it replaces `memory_bytes`.
    pub memory_steps: Vec<(Duration, u64)>,
}

/// Parses breakpoints `ms:value,ms:value,...` (times in milliseconds
/// since start, non-decreasing).
pub fn parse_steps(s: &str) -> Result<Vec<(Duration, u64)>, String> {
    let mut v: Vec<(Duration, u64)> = Vec::new();
    for part in s.split(',').filter(|p| !p.trim().is_empty()) {
        let (t, x) = part
            .split_once(':')
            .ok_or_else(|| format!("breakpoint {part:?} is not ms:value"))?;
        let t: u64 = t
            .trim()
            .parse()
            .map_err(|_| format!("breakpoint {part:?}: bad time"))?;
        let x: u64 = x
            .trim()
            .parse()
            .map_err(|_| format!("breakpoint {part:?}: bad value"))?;
        let t = Duration::from_millis(t);
        if v.last().is_some_and(|(p, _)| *p > t) {
            return Err(format!("breakpoint {part:?}: times must not decrease"));
        }
        v.push((t, x));
    }
    Ok(v)
}

/// The value of breakpoints at `t` (0 before the first).
pub fn step_value(steps: &[(Duration, u64)], t: Duration) -> u64 {
    let i = steps.partition_point(|(at, _)| *at <= t);
    if i == 0 {
        0
    } else {
        steps[i - 1].1
    }
}

static TERM: AtomicBool = AtomicBool::new(false);

extern "C" fn on_term(_: libc::c_int) {
    TERM.store(true, Ordering::SeqCst);
}

/// CPU time of this process (all threads).
pub fn process_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid out-pointer.
    let r = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    if r != 0 {
        return Duration::ZERO;
    }
    Duration::new(
        ts.tv_sec.max(0) as u64,
        ts.tv_nsec.clamp(0, 999_999_999) as u32,
    )
}

/// Runs the workload; returns the exit code.
pub fn burn(spec: &BurnSpec) -> i32 {
    use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
    let act = SigAction::new(
        SigHandler::Handler(on_term),
        SaFlags::empty(),
        SigSet::empty(),
    );
    // SAFETY: the handler only stores to an atomic.
    unsafe {
        let _ = sigaction(Signal::SIGTERM, &act);
    }
    let start = Instant::now();
    let cpu0 = process_cpu_time();
    let done = Arc::new(AtomicBool::new(false));
    let period = spec.period.unwrap_or(Duration::from_millis(10));
    let cpu_at = |t: Duration| {
        if spec.cpu_steps.is_empty() {
            spec.cpu_m
        } else {
            step_value(&spec.cpu_steps, t)
        }
    };
    let mem_at = |t: Duration| {
        if spec.memory_steps.is_empty() {
            spec.memory_bytes
        } else {
            step_value(&spec.memory_steps, t)
        }
    };
    let peak = spec
        .cpu_steps
        .iter()
        .map(|s| s.1)
        .max()
        .unwrap_or(0)
        .max(spec.cpu_m);
    // The current demand, read by every CPU thread.
    let demand = Arc::new(AtomicU64::new(cpu_at(Duration::ZERO)));
    let threads = peak.div_ceil(1000).min(256);
    let mut handles = Vec::new();
    for i in 0..threads {
        // Spread the demand: full cores first, the remainder on the last.
        let d = done.clone();
        let dm = demand.clone();
        match std::thread::Builder::new().spawn(move || duty_cycle(i, &dm, period, &d)) {
            Ok(h) => handles.push(h),
            Err(e) => {
                // A pids limit (or memory) refused the thread: exit with
                // an error at once, as a real workload would, rather than
                // panicking (a panic's backtrace is slow under a CPU quota).
                eprintln!("burn: cannot start CPU thread {i}: {e}");
                done.store(true, Ordering::SeqCst);
                for h in handles {
                    let _ = h.join();
                }
                return 1;
            }
        }
    }
    // Memory: 1 MiB chunks, every page written, held until the target
    // drops or the end.
    let mut held: Vec<Vec<u8>> = Vec::new();
    let mut held_bytes = 0u64;
    let code = loop {
        let t = start.elapsed();
        demand.store(cpu_at(t), Ordering::Relaxed);
        let target = mem_at(t);
        while held_bytes < target && !TERM.load(Ordering::SeqCst) {
            let n = (target - held_bytes).min(1 << 20) as usize;
            let mut v = vec![0u8; n];
            for b in v.iter_mut().step_by(4096) {
                *b = 1;
            }
            held.push(std::hint::black_box(v));
            held_bytes += n as u64;
        }
        while held_bytes > target {
            match held.pop() {
                Some(v) => held_bytes -= v.len() as u64,
                None => held_bytes = 0,
            }
        }
        if TERM.load(Ordering::SeqCst) {
            break 143;
        }
        if spec.duration.is_some_and(|d| start.elapsed() >= d) {
            break spec.exit_code;
        }
        if spec
            .cpu_work
            .is_some_and(|w| process_cpu_time().saturating_sub(cpu0) >= w)
        {
            break spec.exit_code;
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    done.store(true, Ordering::SeqCst);
    for h in handles {
        let _ = h.join();
    }
    drop(held);
    code
}

/// CPU time of the calling thread.
fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid out-pointer.
    let r = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if r != 0 {
        return Duration::ZERO;
    }
    Duration::new(
        ts.tv_sec.max(0) as u64,
        ts.tv_nsec.clamp(0, 999_999_999) as u32,
    )
}

/// Thread `i`: uses its share (the demand above `i` cores, at most one
/// core) of each period as CPU time, and sleeps for the rest of the
/// period. Counting CPU time rather than wall time keeps the demand a
/// demand when the thread shares its CPU (a wall-clock busy loop that is
/// preempted would ask for less); a period in which the share cannot be
/// had ends at the period's end (no catching up, as in the simulator).
fn duty_cycle(i: u64, demand: &AtomicU64, period: Duration, done: &AtomicBool) {
    let mut x = 0u64;
    while !done.load(Ordering::Relaxed) {
        let m = demand
            .load(Ordering::Relaxed)
            .saturating_sub(i * 1000)
            .min(1000);
        let busy = period.mul_f64(m as f64 / 1000.0);
        let t0 = Instant::now();
        let c0 = thread_cpu_time();
        let mut n = 0u32;
        while !busy.is_zero() {
            x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
            n = n.wrapping_add(1);
            // Check the clocks every 256 rounds (a system call each).
            if n.is_multiple_of(256)
                && (thread_cpu_time().saturating_sub(c0) >= busy || t0.elapsed() >= period)
            {
                break;
            }
        }
        let spent = t0.elapsed();
        if spent < period {
            std::thread::sleep(period - spent);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exits_with_its_code_after_cpu_work() {
        let spec = BurnSpec {
            cpu_m: 1000,
            cpu_work: Some(Duration::from_millis(50)),
            memory_bytes: 3 << 20,
            exit_code: 7,
            ..Default::default()
        };
        let before = process_cpu_time();
        assert_eq!(burn(&spec), 7);
        assert!(process_cpu_time() - before >= Duration::from_millis(50));
    }

    #[test]
    fn steps_parse_and_evaluate() {
        let s = parse_steps("0:100,500:800, 1500:0").unwrap();
        assert_eq!(step_value(&s, Duration::from_millis(0)), 100);
        assert_eq!(step_value(&s, Duration::from_millis(499)), 100);
        assert_eq!(step_value(&s, Duration::from_millis(500)), 800);
        assert_eq!(step_value(&s, Duration::from_millis(2000)), 0);
        assert!(parse_steps("5:1,4:2").is_err());
        assert!(parse_steps("5").is_err());
        assert!(parse_steps("x:1").is_err());
        assert_eq!(parse_steps("").unwrap(), vec![]);
    }

    #[test]
    fn memory_follows_its_steps_down() {
        // 4 MiB, then 1 MiB, then the end: exits with its code.
        let spec = BurnSpec {
            memory_steps: vec![
                (Duration::ZERO, 4 << 20),
                (Duration::from_millis(20), 1 << 20),
            ],
            duration: Some(Duration::from_millis(60)),
            exit_code: 5,
            ..Default::default()
        };
        assert_eq!(burn(&spec), 5);
    }

    #[test]
    fn zero_duration_ends_at_once() {
        assert_eq!(
            burn(&BurnSpec {
                exit_code: 3,
                duration: Some(Duration::ZERO),
                ..Default::default()
            }),
            3
        );
    }
}
