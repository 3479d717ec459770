//! The World's side of the Service traffic model (`crate::traffic`,
//! docs/traffic.md): each Service with traffic has an arrival process
//! (`Event::TrafficArrival`); a request goes to an endpoint kube-proxy
//! would choose (`Service::endpoints`), into that pod's processor-sharing
//! queue, whose requests in flight are extra CPU demand on the pod's first
//! container in the node model (`min(n × 1000m, CPU limit)`); the grant the
//! node model gives back is shared by the requests, so they slow down when
//! the pod is throttled or its node is contended. One timer per pod
//! (`Event::TrafficPod`) fires at its next completion or timeout. Requests
//! fail when no endpoint is there, when the pod's concurrency limit is
//! reached (503), on timeout, or when the pod stops running. Counters feed
//! `services.csv`, the summary and the HPA's custom metrics.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use super::{Event, World};
use crate::controllers::WorkloadKind;
use crate::engine::rng::SimRng;
use crate::engine::{SimTime, TimerId};
use crate::model::{NodeId, PodId, PodPhase};
use crate::traffic::{select, ArrivalGen, TrafficSpec};

/// CPU one request in flight asks for (one core), millicores.
pub const DEMAND_PER_REQUEST_M: i64 = 1000;

/// A (namespace, name) key, owned or borrowed, ordered as the World's
/// `pod_index` keys `(String, String)` are: an arrival looks its
/// endpoints' pods up without cloning the two strings.
trait NsName {
    fn key(&self) -> (&str, &str);
}

impl NsName for (String, String) {
    fn key(&self) -> (&str, &str) {
        (&self.0, &self.1)
    }
}

impl NsName for (&str, &str) {
    fn key(&self) -> (&str, &str) {
        (self.0, self.1)
    }
}

impl<'a> Borrow<dyn NsName + 'a> for (String, String) {
    fn borrow(&self) -> &(dyn NsName + 'a) {
        self
    }
}

impl PartialEq for dyn NsName + '_ {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}

impl Eq for dyn NsName + '_ {}

impl PartialOrd for dyn NsName + '_ {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for dyn NsName + '_ {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key().cmp(&other.key())
    }
}

/// Counts of one sample interval.
#[derive(Clone, Debug, Default)]
struct Interval {
    arrivals: u64,
    served: u64,
    failed: u64,
    slo_violations: u64,
    latencies: Vec<u64>,
}

impl Interval {
    fn merge(&mut self, o: Interval) {
        self.arrivals += o.arrivals;
        self.served += o.served;
        self.failed += o.failed;
        self.slo_violations += o.slo_violations;
        self.latencies.extend(o.latencies);
    }
}

/// Totals of one Service over the run (summary.json).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct TrafficTotals {
    pub namespace: String,
    pub name: String,
    pub requests: u64,
    pub served: u64,
    pub failed: u64,
    /// Failures by cause.
    pub failed_no_endpoint: u64,
    pub failed_overload: u64,
    pub failed_timeout: u64,
    pub failed_pod_stopped: u64,
    /// Requests still in flight at the end.
    pub in_flight: u64,
    /// Failed / (served + failed), parts per million.
    pub error_rate_ppm: u64,
    pub latency_p50_us: u64,
    pub latency_p90_us: u64,
    pub latency_p99_us: u64,
    pub latency_max_us: u64,
    /// The latency objective, when given.
    pub slo_latency_us: Option<u64>,
    /// Served requests slower than the objective.
    pub slo_violations: u64,
}

struct SvcTraffic {
    namespace: String,
    name: String,
    spec: TrafficSpec,
    gen: ArrivalGen,
    arrival_rng: SimRng,
    select_rng: SimRng,
    work_rng: SimRng,
    cursor: u64,
    cur: Interval,
    prev: Interval,
    prev_t: Option<u64>,
    totals: TrafficTotals,
    latencies: Vec<u64>,
    /// Sum of the served requests' latencies (µs), for the HPA's
    /// `request_latency_seconds`.
    latency_sum_us: u128,
    in_flight: u64,
}

struct PodTraffic {
    node: NodeId,
    q: crate::traffic::PsQueue,
    timer: Option<TimerId>,
    /// When `timer` fires.
    timer_at: Option<SimTime>,
    /// (deadline, request) of requests with a timeout.
    deadlines: BTreeSet<(SimTime, u64)>,
    /// Requests routed to the pod so far (for requests_per_second).
    routed: u64,
    limit_m: Option<i64>,
    /// The pod's `namespace/name` (its key in `TrafficState::routed`).
    key: String,
}

struct Req {
    svc: u32,
    arrived: SimTime,
    deadline: Option<SimTime>,
}

/// Why a request failed.
#[derive(Clone, Copy)]
enum Fail {
    NoEndpoint,
    Overload,
    Timeout,
    PodStopped,
}

/// The traffic model's state in the World.
#[derive(Default)]
pub(super) struct TrafficState {
    services: Vec<SvcTraffic>,
    pods: BTreeMap<PodId, PodTraffic>,
    reqs: BTreeMap<u64, Req>,
    next_id: u64,
    /// Requests routed per pod (namespace/name) so far, kept after the
    /// pod's queue is gone (the metrics pipeline reads rates from it).
    pub(super) routed: BTreeMap<String, u64>,
    /// Buffers reused by every arrival (endpoint indices, candidate pods)
    /// and grant refresh (pods to re-arm).
    eps: Vec<usize>,
    cands: Vec<PodId>,
    rearm: Vec<PodId>,
}

impl TrafficState {
    pub(super) fn is_empty(&self) -> bool {
        self.services.is_empty()
    }
}

impl World {
    /// Sets up the arrival processes of the scenario's traffic.
    pub(super) fn traffic_init(&mut self) {
        let seed = self.rng.seed();
        let decl = self.scenario.traffic.clone();
        for (i, t) in decl.into_iter().enumerate() {
            let key = format!("{}/{}", t.namespace, t.name);
            let slo = t.spec.slo.map(|d| d.as_micros());
            self.traffic.services.push(SvcTraffic {
                gen: ArrivalGen::new(t.spec.load.clone(), t.spec.arrivals, SimTime::ZERO),
                arrival_rng: SimRng::derive(seed, &format!("traffic/arrivals/{key}")),
                select_rng: SimRng::derive(seed, &format!("traffic/select/{key}")),
                work_rng: SimRng::derive(seed, &format!("traffic/work/{key}")),
                cursor: 0,
                cur: Interval::default(),
                prev: Interval::default(),
                prev_t: None,
                totals: TrafficTotals {
                    namespace: t.namespace.clone(),
                    name: t.name.clone(),
                    slo_latency_us: slo,
                    ..Default::default()
                },
                latencies: Vec::new(),
                latency_sum_us: 0,
                in_flight: 0,
                namespace: t.namespace,
                name: t.name,
                spec: t.spec,
            });
            self.traffic_schedule_arrival(i);
        }
    }

    /// How far arrivals are generated: the run's end, or a week.
    fn traffic_horizon(&self) -> SimTime {
        self.end
            .unwrap_or(SimTime::ZERO.after(crate::engine::Duration::from_secs(7 * 86_400)))
    }

    fn traffic_schedule_arrival(&mut self, i: usize) {
        // Without a duration, traffic alone does not keep a run going.
        if self.end.is_none() && self.pending_real == 0 && self.now > SimTime::ZERO {
            return;
        }
        let until = self.traffic_horizon();
        let s = &mut self.traffic.services[i];
        if let Some(t) = s.gen.next(&mut s.arrival_rng, until) {
            let t = t.max(self.now);
            self.push(t, Event::TrafficArrival(i as u32));
        }
    }

    /// Whether pod `id` is selected by a Service with traffic (it then
    /// gets node-model containers even without a usage model).
    pub(super) fn traffic_serves(&self, id: PodId) -> bool {
        if self.traffic.services.is_empty() {
            return false;
        }
        let pod = &self.pods[id.0 as usize];
        self.traffic.services.iter().any(|s| {
            s.namespace == pod.meta.namespace
                && self
                    .wl
                    .store
                    .lookup(WorkloadKind::Service, &s.namespace, &s.name)
                    .and_then(|w| self.wl.store.get(w).service())
                    .and_then(|svc| svc.parsed_selector.as_ref())
                    .is_some_and(|sel| !sel.is_empty() && sel.matches(&pod.meta.labels))
        })
    }

    /// `Event::TrafficArrival(i)`: a request to Service `i`.
    pub(super) fn traffic_arrival(&mut self, i: u32) {
        let si = i as usize;
        if si >= self.traffic.services.len() {
            return;
        }
        self.traffic_schedule_arrival(si);
        self.traffic.services[si].cur.arrivals += 1;
        self.traffic.services[si].totals.requests += 1;
        // kube-proxy's candidates, as pods that run in the node model.
        let mut eps = std::mem::take(&mut self.traffic.eps);
        let mut cands = std::mem::take(&mut self.traffic.cands);
        cands.clear();
        let s = &self.traffic.services[si];
        if let Some(svc) = self
            .wl
            .store
            .lookup(WorkloadKind::Service, &s.namespace, &s.name)
            .and_then(|w| self.wl.store.get(w).service())
        {
            select::candidates_into(&svc.endpoints, &mut eps);
            for &k in &eps {
                let key = (s.namespace.as_str(), svc.endpoints[k].pod.as_str());
                if let Some(&p) = self.pod_index.get(&key as &dyn NsName) {
                    if self.traffic.pods.contains_key(&p) {
                        cands.push(p);
                    }
                }
            }
        }
        let s = &mut self.traffic.services[si];
        let pods = &self.traffic.pods;
        let chosen = select::pick(
            s.spec.policy,
            cands.len(),
            |k| pods.get(&cands[k]).map_or(0, |p| p.q.len() as u64),
            &mut s.cursor,
            &mut s.select_rng,
        );
        let pid = chosen.map(|k| cands[k]);
        self.traffic.eps = eps;
        self.traffic.cands = cands;
        let Some(pid) = pid else {
            self.traffic_fail(i, Fail::NoEndpoint, None);
            return;
        };
        let s = &mut self.traffic.services[si];
        let limit = s.spec.concurrency;
        let timeout = s.spec.timeout;
        let work = s.spec.work.draw(&mut s.work_rng);
        let now = self.now;
        let Some(pt) = self.traffic.pods.get_mut(&pid) else {
            return;
        };
        pt.routed += 1;
        match self.traffic.routed.get_mut(pt.key.as_str()) {
            Some(n) => *n += 1,
            None => {
                self.traffic.routed.insert(pt.key.clone(), 1);
            }
        }
        if limit.is_some_and(|l| pt.q.len() as u64 >= u64::from(l)) {
            self.traffic_fail(i, Fail::Overload, None);
            return;
        }
        let id = self.traffic.next_id;
        self.traffic.next_id += 1;
        pt.q.add(now, id, work);
        let deadline = timeout.map(|d| now.after(d));
        if let Some(d) = deadline {
            pt.deadlines.insert((d, id));
        }
        self.traffic.reqs.insert(
            id,
            Req {
                svc: i,
                arrived: now,
                deadline,
            },
        );
        self.traffic.services[si].in_flight += 1;
        self.traffic_demand_changed(pid);
    }

    fn traffic_fail(&mut self, svc: u32, why: Fail, _req: Option<u64>) {
        let Some(s) = self.traffic.services.get_mut(svc as usize) else {
            return;
        };
        s.cur.failed += 1;
        s.totals.failed += 1;
        match why {
            Fail::NoEndpoint => s.totals.failed_no_endpoint += 1,
            Fail::Overload => s.totals.failed_overload += 1,
            Fail::Timeout => s.totals.failed_timeout += 1,
            Fail::PodStopped => s.totals.failed_pod_stopped += 1,
        }
    }

    /// The pod's requests in flight changed: its extra demand on the node
    /// model follows, and the node's traffic pods get their new grants.
    fn traffic_demand_changed(&mut self, pid: PodId) {
        let Some(pt) = self.traffic.pods.get(&pid) else {
            return;
        };
        let n = pt.q.len() as i64;
        let mut demand = n.saturating_mul(DEMAND_PER_REQUEST_M);
        if let Some(l) = pt.limit_m {
            demand = demand.min(l);
        }
        let nid = pt.node;
        let now = self.now;
        if let Some(a) = self.agents.get_mut(&nid) {
            a.set_traffic_demand(now, pid.0, demand);
        }
        // Re-arms the node model and refreshes the grants (traffic_refresh_node).
        self.usage_reschedule(nid);
        self.traffic_rearm(pid);
    }

    /// The node model's grants on `nid` may have changed: every traffic
    /// pod there takes its new grant (time so far ran at the old one) and
    /// re-arms its timer.
    pub(super) fn traffic_refresh_node(&mut self, nid: NodeId) {
        if self.traffic.pods.is_empty() {
            return;
        }
        let now = self.now;
        let mut rearm = std::mem::take(&mut self.traffic.rearm);
        rearm.clear();
        let agent = self.agents.get(&nid);
        for (&pid, pt) in self.traffic.pods.iter_mut() {
            if pt.node != nid {
                continue;
            }
            let g = agent.map_or(0, |a| a.traffic_grant(pid.0));
            // Only a pod whose grant changed has new completion times (the
            // pod whose requests changed re-arms itself).
            if pt.q.grant() != g {
                pt.q.set_grant(now, g);
                rearm.push(pid);
            }
        }
        // Re-arming touches only the pod's own timer: the same timers in
        // the same order as re-arming each pod right after its new grant.
        for &pid in &rearm {
            self.traffic_rearm(pid);
        }
        self.traffic.rearm = rearm;
    }

    fn traffic_rearm(&mut self, pid: PodId) {
        let Some(pt) = self.traffic.pods.get_mut(&pid) else {
            return;
        };
        let next = pt.q.next_completion();
        let dl = pt.deadlines.first().map(|(d, _)| *d);
        let at = match (next, dl) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let at = at.map(|t| t.max(self.now));
        if pt.timer.is_some() && pt.timer_at == at {
            return;
        }
        let old = pt.timer.take();
        pt.timer_at = None;
        self.cancel(old);
        if let Some(t) = at {
            let timer = self.push(t, Event::TrafficPod(pid));
            if let Some(pt) = self.traffic.pods.get_mut(&pid) {
                pt.timer = Some(timer);
                pt.timer_at = Some(t);
            }
        }
    }

    /// `Event::TrafficPod(p)`: completions and timeouts on pod `p`.
    pub(super) fn traffic_pod(&mut self, pid: PodId) {
        let now = self.now;
        let Some(pt) = self.traffic.pods.get_mut(&pid) else {
            return;
        };
        pt.timer = None;
        pt.timer_at = None;
        let done = pt.q.pop_done(now);
        let mut timed_out = Vec::new();
        while let Some(&(d, id)) = pt.deadlines.first() {
            if d > now {
                break;
            }
            pt.deadlines.remove(&(d, id));
            if pt.q.remove(now, id).is_some() {
                timed_out.push(id);
            }
        }
        for id in &done {
            let Some(r) = self.traffic.reqs.remove(id) else {
                continue;
            };
            if let Some(d) = r.deadline {
                if let Some(pt) = self.traffic.pods.get_mut(&pid) {
                    pt.deadlines.remove(&(d, *id));
                }
            }
            let lat = now.since(r.arrived).as_micros();
            let s = &mut self.traffic.services[r.svc as usize];
            s.in_flight = s.in_flight.saturating_sub(1);
            s.cur.served += 1;
            s.totals.served += 1;
            s.cur.latencies.push(lat);
            s.latencies.push(lat);
            if s.spec.slo.is_some_and(|o| lat > o.as_micros()) {
                s.cur.slo_violations += 1;
                s.totals.slo_violations += 1;
            }
            s.latency_sum_us += u128::from(lat);
        }
        for id in timed_out {
            if let Some(r) = self.traffic.reqs.remove(&id) {
                let s = &mut self.traffic.services[r.svc as usize];
                s.in_flight = s.in_flight.saturating_sub(1);
                self.traffic_fail(r.svc, Fail::Timeout, Some(id));
            }
        }
        self.traffic_demand_changed(pid);
    }

    /// The pod's containers started (hook from `usage_run_started`, after
    /// the node model has them): it can take requests.
    pub(super) fn traffic_pod_started(&mut self, id: PodId) {
        let Some(nid) = self.pods[id.0 as usize].status.node else {
            return;
        };
        if !self.agents.contains_key(&nid) {
            return;
        }
        let limit_m = self.agents.get(&nid).and_then(|a| a.first_cpu_limit(id.0));
        self.traffic.pods.insert(
            id,
            PodTraffic {
                node: nid,
                q: crate::traffic::PsQueue::new(self.now),
                timer: None,
                timer_at: None,
                deadlines: BTreeSet::new(),
                routed: 0,
                limit_m,
                key: self.pods[id.0 as usize].meta.key(),
            },
        );
    }

    /// The pod stopped running (its run ended, it was killed, its node
    /// failed): its requests in flight fail.
    pub(super) fn traffic_pod_stopped(&mut self, id: PodId) {
        let Some(mut pt) = self.traffic.pods.remove(&id) else {
            return;
        };
        let now = self.now;
        self.cancel(pt.timer.take());
        for rid in pt.q.drain(now) {
            if let Some(r) = self.traffic.reqs.remove(&rid) {
                let s = &mut self.traffic.services[r.svc as usize];
                s.in_flight = s.in_flight.saturating_sub(1);
                self.traffic_fail(r.svc, Fail::PodStopped, Some(rid));
            }
        }
        let nid = pt.node;
        if let Some(a) = self.agents.get_mut(&nid) {
            a.set_traffic_demand(now, id.0, 0);
        }
    }

    /// Fills the traffic columns of a `services.csv` row at `t_us` (a
    /// second row at the same instant reports the same interval).
    pub(super) fn traffic_fill_row(&mut self, r: &mut super::ServiceRow) {
        let t_us = r.t_us;
        let now = self.now;
        let Some(s) = self
            .traffic
            .services
            .iter_mut()
            .find(|s| s.namespace == r.namespace && s.name == r.name)
        else {
            return;
        };
        let cur = std::mem::take(&mut s.cur);
        if s.prev_t == Some(t_us) {
            s.prev.merge(cur);
        } else {
            s.prev = cur;
            s.prev_t = Some(t_us);
        }
        let iv = &mut s.prev;
        let (p50, p90, p99) = crate::traffic::stats::p50_90_99(&mut iv.latencies);
        r.offered_milli_rps = s.spec.load.rate_at(now).max(0) as u64;
        r.served = iv.served;
        r.failed = iv.failed;
        r.latency_p50_us = p50;
        r.latency_p90_us = p90;
        r.latency_p99_us = p99;
        r.arrivals = iv.arrivals;
        r.in_flight = s.in_flight;
        r.slo_violations = iv.slo_violations;
    }

    /// Whether traffic keeps a run with a duration sampling.
    pub(super) fn traffic_keeps_sampling(&self) -> bool {
        self.end.is_some() && !self.traffic.is_empty()
    }

    /// Totals per Service at the end of the run.
    pub(super) fn traffic_totals(&mut self) -> (Vec<TrafficTotals>, TrafficTotals) {
        let mut out = Vec::new();
        let mut all = TrafficTotals::default();
        let mut lat_all: Vec<u64> = Vec::new();
        for s in &mut self.traffic.services {
            let mut t = s.totals.clone();
            t.in_flight = s.in_flight;
            let done = t.served + t.failed;
            t.error_rate_ppm = (t.failed * 1_000_000).checked_div(done).unwrap_or(0);
            let (p50, p90, p99) = crate::traffic::stats::p50_90_99(&mut s.latencies);
            t.latency_p50_us = p50;
            t.latency_p90_us = p90;
            t.latency_p99_us = p99;
            t.latency_max_us = s.latencies.last().copied().unwrap_or(0);
            lat_all.extend_from_slice(&s.latencies);
            all.requests += t.requests;
            all.served += t.served;
            all.failed += t.failed;
            all.failed_no_endpoint += t.failed_no_endpoint;
            all.failed_overload += t.failed_overload;
            all.failed_timeout += t.failed_timeout;
            all.failed_pod_stopped += t.failed_pod_stopped;
            all.in_flight += t.in_flight;
            all.slo_violations += t.slo_violations;
            out.push(t);
        }
        let done = all.served + all.failed;
        all.error_rate_ppm = (all.failed * 1_000_000).checked_div(done).unwrap_or(0);
        let (p50, p90, p99) = crate::traffic::stats::p50_90_99(&mut lat_all);
        all.latency_p50_us = p50;
        all.latency_p90_us = p90;
        all.latency_p99_us = p99;
        all.latency_max_us = lat_all.last().copied().unwrap_or(0);
        (out, all)
    }

    /// Whether pod `id` runs in the node model for traffic.
    pub(super) fn traffic_in_node_model(&self, id: PodId) -> bool {
        self.traffic.pods.contains_key(&id)
    }

    /// The pods (namespace/name) that take requests now.
    pub(super) fn traffic_serving_pods(&self) -> Vec<String> {
        self.traffic
            .pods
            .keys()
            .map(|p| self.pods[p.0 as usize].meta.key())
            .collect()
    }

    /// Requests that arrived at each Service so far.
    pub(super) fn traffic_service_requests(&self) -> Vec<((String, String), u64)> {
        self.traffic
            .services
            .iter()
            .map(|s| ((s.namespace.clone(), s.name.clone()), s.totals.requests))
            .collect()
    }

    /// Per Service: requests served so far and the sum of their
    /// latencies (µs).
    pub(super) fn traffic_service_latency(&self) -> Vec<((String, String), u64, u128)> {
        self.traffic
            .services
            .iter()
            .map(|s| {
                let key = (s.namespace.clone(), s.name.clone());
                (key, s.totals.served, s.latency_sum_us)
            })
            .collect()
    }

    /// CPU the traffic of pod `id` has used so far (millicore-µs), and
    /// whether it is running (tests).
    #[allow(dead_code)]
    pub(super) fn traffic_pod_cpu(&self, id: PodId) -> Option<u128> {
        let p = &self.pods[id.0 as usize];
        if p.phase() != PodPhase::Running {
            return None;
        }
        self.traffic.pods.get(&id).map(|t| t.q.used_m_us)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Borrowed `(namespace, name)` lookups find exactly what owned keys
    /// find: the `dyn NsName` order is the `(String, String)` order,
    /// including names that are prefixes of others and split differently.
    #[test]
    fn borrowed_pod_key_lookup_matches_owned() {
        let keys = [
            ("a", "bc"),
            ("ab", "c"),
            ("a", "b"),
            ("", "x"),
            ("default", "web-1"),
            ("default", "web-10"),
            ("default", "web-2"),
            ("kube-system", "web-1"),
        ];
        let index: BTreeMap<(String, String), u32> = keys
            .iter()
            .enumerate()
            .map(|(i, (n, m))| ((n.to_string(), m.to_string()), i as u32))
            .collect();
        for (i, (n, m)) in keys.iter().enumerate() {
            let k = (*n, *m);
            assert_eq!(index.get(&k as &dyn NsName), Some(&(i as u32)), "{n}/{m}");
        }
        for (n, m) in [("a", "bcd"), ("default", "web-3"), ("abc", ""), ("", "")] {
            let k = (n, m);
            assert_eq!(index.get(&k as &dyn NsName), None, "{n}/{m}");
        }
    }
}
