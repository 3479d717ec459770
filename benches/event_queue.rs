//! Event queue under the hold model (pop one, push one at a later time)
//! with 1k and 100k pending events, beside a plain `BinaryHeap` baseline
//! carrying the same key and payload.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use kubesim::cluster::Event;
use kubesim::engine::{EventQueue, SimRng, SimTime};
use kubesim::model::PodId;

const OPS: u64 = 10_000;

/// Increments drawn once so both queues see the same sequence.
fn increments(n: usize) -> Vec<u64> {
    let mut r = SimRng::derive(7, "bench");
    (0..n).map(|_| 1 + r.below(1_000_000)).collect()
}

fn hold(c: &mut Criterion) {
    let mut g = c.benchmark_group("event_queue_hold");
    g.throughput(Throughput::Elements(OPS));
    for &pending in &[1_000usize, 100_000] {
        let inc = increments(pending + OPS as usize);
        g.bench_with_input(
            BenchmarkId::new("kubesim_EventQueue", pending),
            &pending,
            |b, &n| {
                b.iter_batched_ref(
                    || {
                        let mut q = EventQueue::with_capacity(n + 1);
                        for (i, d) in inc.iter().take(n).enumerate() {
                            q.push(SimTime(*d), Event::PodStarted(PodId(i as u32)));
                        }
                        q
                    },
                    |q| {
                        for k in 0..OPS as usize {
                            let (t, _, e) = q.pop().expect("non-empty");
                            q.push(SimTime(t.0 + inc[n + k]), e);
                        }
                    },
                    BatchSize::LargeInput,
                )
            },
        );
        g.bench_with_input(
            BenchmarkId::new("baseline_BinaryHeap", pending),
            &pending,
            |b, &n| {
                b.iter_batched_ref(
                    || {
                        let mut h = BinaryHeap::with_capacity(n + 1);
                        for (i, d) in inc.iter().take(n).enumerate() {
                            h.push(Reverse((*d, i as u64, i as u64)));
                        }
                        (h, n as u64)
                    },
                    |(h, seq)| {
                        for k in 0..OPS as usize {
                            let Reverse((t, _, p)) = h.pop().expect("non-empty");
                            *seq += 1;
                            h.push(Reverse((t + inc[n + k], *seq, p)));
                        }
                    },
                    BatchSize::LargeInput,
                )
            },
        );
    }
    g.finish();
}

criterion_group!(benches, hold);
criterion_main!(benches);
