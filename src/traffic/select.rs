//! Which endpoint of a Service a request goes to, as kube-proxy decides.
//!
//! Candidates (pkg/proxy/topology.go `CategorizeEndpoints`, v1.35): the
//! ready endpoints; if none is ready, the endpoints that are serving and
//! terminating (the `ProxyTerminatingEndpoints` fallback, GA since 1.28);
//! none at all ⇒ the request fails (iptables/nftables REJECT, "no
//! endpoints"). Policies:
//! - `random`: uniform over the candidates, as the iptables mode's
//!   `statistic --mode random --probability 1/n, 1/(n-1), …` chain (and
//!   the nftables mode's `numgen random mod n`) does;
//! - `round-robin`: IPVS `rr`: a cursor over the candidate list that moves
//!   one step per request (the cursor is an index; when the list changes
//!   it continues modulo the new length);
//! - `least-requests`: fewest requests in flight, as IPVS `lc` (least
//!   connections, which keeps the first of equal candidates): ties go to
//!   the lowest index, i.e. the pod name that sorts first.

use crate::engine::rng::SimRng;
use crate::model::service::Endpoint;

/// A load-balancing policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Policy {
    #[default]
    Random,
    RoundRobin,
    LeastRequests,
}

impl Policy {
    pub fn parse(s: &str) -> Option<Policy> {
        match s {
            "random" => Some(Policy::Random),
            "round-robin" => Some(Policy::RoundRobin),
            "least-requests" => Some(Policy::LeastRequests),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Policy::Random => "random",
            Policy::RoundRobin => "round-robin",
            Policy::LeastRequests => "least-requests",
        }
    }
}

/// The endpoints kube-proxy routes to (indices into `eps`, in order).
pub fn candidates(eps: &[Endpoint]) -> Vec<usize> {
    let mut out = Vec::new();
    candidates_into(eps, &mut out);
    out
}

/// [`candidates`] into a buffer the caller keeps (cleared first): the
/// traffic model asks on every request.
pub fn candidates_into(eps: &[Endpoint], out: &mut Vec<usize>) {
    out.clear();
    out.extend((0..eps.len()).filter(|&i| eps[i].ready));
    if out.is_empty() {
        out.extend((0..eps.len()).filter(|&i| eps[i].serving && eps[i].terminating));
    }
}

/// Chooses one of `n` candidates; `in_flight(k)` is the k-th candidate's
/// requests in flight; `cursor` is the round-robin state. `None` when
/// `n == 0`.
pub fn pick(
    policy: Policy,
    n: usize,
    in_flight: impl Fn(usize) -> u64,
    cursor: &mut u64,
    rng: &mut SimRng,
) -> Option<usize> {
    if n == 0 {
        return None;
    }
    Some(match policy {
        Policy::Random => rng.below(n as u64) as usize,
        Policy::RoundRobin => {
            let k = (*cursor % n as u64) as usize;
            *cursor = cursor.wrapping_add(1);
            k
        }
        Policy::LeastRequests => {
            let mut best = 0;
            let mut best_v = in_flight(0);
            for k in 1..n {
                let v = in_flight(k);
                if v < best_v {
                    best = k;
                    best_v = v;
                }
            }
            best
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(pod: &str, ready: bool, serving: bool, terminating: bool) -> Endpoint {
        Endpoint {
            pod: pod.into(),
            node: "n".into(),
            ready,
            serving,
            terminating,
        }
    }

    #[test]
    fn ready_first_then_serving_terminating() {
        let eps = vec![
            ep("a", false, true, true),
            ep("b", true, true, false),
            ep("c", false, false, false),
        ];
        assert_eq!(candidates(&eps), vec![1]);
        let eps = vec![
            ep("a", false, true, true),
            ep("b", false, false, true),
            ep("c", false, false, false),
        ];
        assert_eq!(candidates(&eps), vec![0]);
        assert!(candidates(&[ep("c", false, false, false)]).is_empty());
    }

    #[test]
    fn policies() {
        let mut rng = SimRng::derive(1, "t");
        let mut cur = 0;
        assert_eq!(pick(Policy::Random, 0, |_| 0, &mut cur, &mut rng), None);
        let rr: Vec<usize> = (0..5)
            .filter_map(|_| pick(Policy::RoundRobin, 3, |_| 0, &mut cur, &mut rng))
            .collect();
        assert_eq!(rr, vec![0, 1, 2, 0, 1]);
        let load = [3u64, 1, 1, 2];
        assert_eq!(
            pick(Policy::LeastRequests, 4, |k| load[k], &mut cur, &mut rng),
            Some(1)
        );
        // Uniform: each of 4 gets about a quarter of 40 000.
        let mut hits = [0u32; 4];
        for _ in 0..40_000 {
            hits[pick(Policy::Random, 4, |_| 0, &mut cur, &mut rng).unwrap()] += 1;
        }
        assert!(hits.iter().all(|h| (9_400..10_600).contains(h)), "{hits:?}");
    }
}
