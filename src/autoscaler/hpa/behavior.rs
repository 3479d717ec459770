//! Scaling behavior: upstream's `behavior` defaults
//! (`pkg/apis/autoscaling/v2/defaults.go`) and the controller's
//! normalization of a desired replica count (`horizontal.go`): the older
//! path without `behavior` (`normalizeDesiredReplicas`: downscale
//! stabilization window, scale-up limit `max(2 × current, 4)`) and the
//! path with it (`normalizeDesiredReplicasWithBehaviors`: per-direction
//! stabilization windows, Pods/Percent policies per period,
//! selectPolicy Max/Min/Disabled).

use crate::engine::{Duration, SimTime};

/// `HPAScalingPolicyType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyType {
    Pods,
    Percent,
}

/// One `HPAScalingPolicy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScalingPolicy {
    pub kind: PolicyType,
    pub value: i32,
    pub period_seconds: i32,
}

/// `ScalingPolicySelect`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SelectPolicy {
    Max,
    Min,
    Disabled,
}

impl SelectPolicy {
    pub fn parse(s: &str) -> Option<SelectPolicy> {
        match s {
            "Max" => Some(SelectPolicy::Max),
            "Min" => Some(SelectPolicy::Min),
            "Disabled" => Some(SelectPolicy::Disabled),
            _ => None,
        }
    }
}

/// `HPAScalingRules` after defaulting. `stabilization_window_seconds` is
/// `None` only for a scale-down rule left to the controller's
/// `--horizontal-pod-autoscaler-downscale-stabilization` (300 s).
#[derive(Clone, Debug, PartialEq)]
pub struct ScalingRules {
    pub stabilization_window_seconds: Option<i32>,
    pub select_policy: SelectPolicy,
    pub policies: Vec<ScalingPolicy>,
    /// Per-direction tolerance (`HPAConfigurableTolerance`, beta in v1.35).
    pub tolerance: Option<f64>,
}

/// `HPAScalingRules` as written: any field may be missing.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PartialRules {
    pub stabilization_window_seconds: Option<i32>,
    pub select_policy: Option<SelectPolicy>,
    pub policies: Option<Vec<ScalingPolicy>>,
    pub tolerance: Option<f64>,
}

/// A complete `behavior` (both directions filled in).
#[derive(Clone, Debug, PartialEq)]
pub struct Behavior {
    pub scale_up: ScalingRules,
    pub scale_down: ScalingRules,
}

impl Behavior {
    /// `SetDefaults_HorizontalPodAutoscalerBehavior`: each missing field
    /// takes upstream's default.
    pub fn with_defaults(up: Option<&PartialRules>, down: Option<&PartialRules>) -> Behavior {
        Behavior {
            scale_up: generate_scale_up_rules(up),
            scale_down: generate_scale_down_rules(down),
        }
    }
}

fn copy_rules(from: Option<&PartialRules>, mut to: ScalingRules) -> ScalingRules {
    if let Some(f) = from {
        if let Some(s) = f.select_policy {
            to.select_policy = s;
        }
        if let Some(w) = f.stabilization_window_seconds {
            to.stabilization_window_seconds = Some(w);
        }
        if let Some(p) = &f.policies {
            to.policies = p.clone();
        }
        if let Some(t) = f.tolerance {
            to.tolerance = Some(t);
        }
    }
    to
}

/// `GenerateHPAScaleUpRules`: no stabilization, Max of 4 pods and 100%
/// per 15 s.
pub fn generate_scale_up_rules(from: Option<&PartialRules>) -> ScalingRules {
    copy_rules(
        from,
        ScalingRules {
            stabilization_window_seconds: Some(0),
            select_policy: SelectPolicy::Max,
            policies: vec![
                ScalingPolicy {
                    kind: PolicyType::Pods,
                    value: 4,
                    period_seconds: 15,
                },
                ScalingPolicy {
                    kind: PolicyType::Percent,
                    value: 100,
                    period_seconds: 15,
                },
            ],
            tolerance: None,
        },
    )
}

/// `GenerateHPAScaleDownRules`: the controller's stabilization window,
/// Max of 100% per 15 s.
pub fn generate_scale_down_rules(from: Option<&PartialRules>) -> ScalingRules {
    copy_rules(
        from,
        ScalingRules {
            stabilization_window_seconds: None,
            select_policy: SelectPolicy::Max,
            policies: vec![ScalingPolicy {
                kind: PolicyType::Percent,
                value: 100,
                period_seconds: 15,
            }],
            tolerance: None,
        },
    )
}

/// `timestampedRecommendation`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Recommendation {
    pub replicas: i32,
    pub at: SimTime,
}

/// `timestampedScaleEvent` (the change is positive in both directions).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScaleEvent {
    pub change: i32,
    pub at: SimTime,
    pub outdated: bool,
}

/// What the controller remembers of one HPA between syncs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct History {
    pub recommendations: Vec<Recommendation>,
    pub scale_up_events: Vec<ScaleEvent>,
    pub scale_down_events: Vec<ScaleEvent>,
}

fn secs(s: i32) -> Duration {
    Duration::from_secs(s.max(0) as u64)
}

/// `now - d`, or `None` when that is before the start of the run (every
/// recorded time is then after the cutoff and none before it).
fn cutoff(now: SimTime, d: Duration) -> Option<SimTime> {
    now.0.checked_sub(d.0).map(SimTime)
}
fn before(t: SimTime, c: Option<SimTime>) -> bool {
    c.is_some_and(|c| t < c)
}
fn after(t: SimTime, c: Option<SimTime>) -> bool {
    c.is_none_or(|c| t > c)
}

impl History {
    /// `recordInitialRecommendation`.
    pub fn record_initial(&mut self, current: i32, now: SimTime) {
        if self.recommendations.is_empty() {
            self.recommendations.push(Recommendation {
                replicas: current,
                at: now,
            });
        }
    }

    /// `stabilizeRecommendation` (no `behavior`): the highest
    /// recommendation within the downscale window; the newest sample
    /// replaces the last expired one.
    pub fn stabilize(&mut self, window: Duration, desired: i32, now: SimTime) -> i32 {
        let mut max = desired;
        let mut old = None;
        let c = cutoff(now, window);
        for (i, r) in self.recommendations.iter().enumerate() {
            if before(r.at, c) {
                old = Some(i);
            } else if r.replicas > max {
                max = r.replicas;
            }
        }
        let rec = Recommendation {
            replicas: desired,
            at: now,
        };
        match old {
            Some(i) => self.recommendations[i] = rec,
            None => self.recommendations.push(rec),
        }
        max
    }

    /// `stabilizeRecommendationWithBehaviors`: the recommendation kept
    /// between the lowest of the scale-up window and the highest of the
    /// scale-down window; returns it with the AbleToScale reason/message.
    pub fn stabilize_with_behaviors(
        &mut self,
        up_window_seconds: i32,
        down_window_seconds: i32,
        current: i32,
        desired: i32,
        now: SimTime,
    ) -> (i32, &'static str, &'static str) {
        let up_cut = cutoff(now, secs(up_window_seconds));
        let down_cut = cutoff(now, secs(down_window_seconds));
        let mut up_rec = desired;
        let mut down_rec = desired;
        let mut old = None;
        for (i, r) in self.recommendations.iter().enumerate() {
            if after(r.at, up_cut) {
                up_rec = up_rec.min(r.replicas);
            }
            if after(r.at, down_cut) {
                down_rec = down_rec.max(r.replicas);
            }
            if before(r.at, up_cut) && before(r.at, down_cut) {
                old = Some(i);
            }
        }
        let mut rec = current;
        if rec < up_rec {
            rec = up_rec;
        }
        if rec > down_rec {
            rec = down_rec;
        }
        let new = Recommendation {
            replicas: desired,
            at: now,
        };
        match old {
            Some(i) => self.recommendations[i] = new,
            None => self.recommendations.push(new),
        }
        if desired >= current {
            (
                rec,
                "ScaleUpStabilized",
                "recent recommendations were lower than current one, applying the lowest recent recommendation",
            )
        } else {
            (
                rec,
                "ScaleDownStabilized",
                "recent recommendations were higher than current one, applying the highest recent recommendation",
            )
        }
    }

    /// `storeScaleEvent` (only with `behavior`): reuses the last event
    /// outdated by the direction's longest policy period.
    pub fn store_scale_event(&mut self, behavior: &Behavior, prev: i32, new: i32, now: SimTime) {
        let (events, rules, change) = if new > prev {
            (&mut self.scale_up_events, &behavior.scale_up, new - prev)
        } else {
            (
                &mut self.scale_down_events,
                &behavior.scale_down,
                prev - new,
            )
        };
        let longest = rules
            .policies
            .iter()
            .map(|p| p.period_seconds)
            .max()
            .unwrap_or(0)
            .max(0);
        mark_outdated(events, longest, now);
        let mut old = None;
        for (i, e) in events.iter().enumerate() {
            if e.outdated {
                old = Some(i);
            }
        }
        let ev = ScaleEvent {
            change,
            at: now,
            outdated: false,
        };
        match old {
            Some(i) => events[i] = ev,
            None => events.push(ev),
        }
    }
}

/// `markScaleEventsOutdated`.
pub fn mark_outdated(events: &mut [ScaleEvent], longest_period: i32, now: SimTime) {
    let c = cutoff(now, secs(longest_period));
    for e in events.iter_mut() {
        if before(e.at, c) {
            e.outdated = true;
        }
    }
}

/// `getReplicasChangePerPeriod`.
pub fn replicas_change_per_period(period_seconds: i32, events: &[ScaleEvent], now: SimTime) -> i32 {
    let c = cutoff(now, secs(period_seconds));
    events
        .iter()
        .filter(|e| after(e.at, c))
        .map(|e| e.change)
        .fold(0i32, |a, b| a.wrapping_add(b))
}

/// `calculateScaleUpLimitWithScalingRules`.
pub fn scale_up_limit_with_rules(
    current: i32,
    up_events: &[ScaleEvent],
    down_events: &[ScaleEvent],
    rules: &ScalingRules,
    now: SimTime,
) -> i32 {
    let (mut result, pick): (i32, fn(i32, i32) -> i32) = match rules.select_policy {
        SelectPolicy::Disabled => return current,
        SelectPolicy::Min => (i32::MAX, std::cmp::min),
        SelectPolicy::Max => (i32::MIN, std::cmp::max),
    };
    for p in &rules.policies {
        let added = replicas_change_per_period(p.period_seconds, up_events, now);
        let deleted = replicas_change_per_period(p.period_seconds, down_events, now);
        let start = current - added + deleted;
        let proposed = match p.kind {
            PolicyType::Pods => start.saturating_add(p.value),
            // Rounded up so a small percentage still adds a pod.
            PolicyType::Percent => (start as f64 * (1.0 + p.value as f64 / 100.0)).ceil() as i32,
        };
        result = pick(result, proposed);
    }
    result
}

/// `calculateScaleDownLimitWithBehaviors`.
pub fn scale_down_limit_with_rules(
    current: i32,
    up_events: &[ScaleEvent],
    down_events: &[ScaleEvent],
    rules: &ScalingRules,
    now: SimTime,
) -> i32 {
    let (mut result, pick): (i32, fn(i32, i32) -> i32) = match rules.select_policy {
        SelectPolicy::Disabled => return current,
        SelectPolicy::Min => (i32::MIN, std::cmp::max),
        SelectPolicy::Max => (i32::MAX, std::cmp::min),
    };
    for p in &rules.policies {
        let added = replicas_change_per_period(p.period_seconds, up_events, now);
        let deleted = replicas_change_per_period(p.period_seconds, down_events, now);
        let start = current - added + deleted;
        let proposed = match p.kind {
            PolicyType::Pods => start.saturating_sub(p.value),
            // Go: int32(float64(start) * (1 - value/100)), truncation.
            PolicyType::Percent => (start as f64 * (1.0 - p.value as f64 / 100.0)) as i32,
        };
        result = pick(result, proposed);
    }
    result
}

/// The ScalingLimited outcome of a normalization: replicas, reason, message.
pub type Limited = (i32, &'static str, &'static str);

/// `convertDesiredReplicasWithBehaviorRate`.
#[allow(clippy::too_many_arguments)]
pub fn convert_with_behavior_rate(
    history: &History,
    behavior: &Behavior,
    min_replicas: i32,
    max_replicas: i32,
    current: i32,
    desired: i32,
    now: SimTime,
) -> Limited {
    if desired > current {
        let mut limit = scale_up_limit_with_rules(
            current,
            &history.scale_up_events,
            &history.scale_down_events,
            &behavior.scale_up,
            now,
        );
        if limit < current {
            limit = current;
        }
        let (max_allowed, reason, msg) = if max_replicas > limit {
            (
                limit,
                "ScaleUpLimit",
                "the desired replica count is increasing faster than the maximum scale rate",
            )
        } else {
            (
                max_replicas,
                "TooManyReplicas",
                "the desired replica count is more than the maximum replica count",
            )
        };
        if desired > max_allowed {
            return (max_allowed, reason, msg);
        }
    } else if desired < current {
        let mut limit = scale_down_limit_with_rules(
            current,
            &history.scale_up_events,
            &history.scale_down_events,
            &behavior.scale_down,
            now,
        );
        if limit > current {
            limit = current;
        }
        let (min_allowed, reason, msg) = if min_replicas < limit {
            (
                limit,
                "ScaleDownLimit",
                "the desired replica count is decreasing faster than the maximum scale rate",
            )
        } else {
            (
                min_replicas,
                "TooFewReplicas",
                "the desired replica count is less than the minimum replica count",
            )
        };
        if desired < min_allowed {
            return (min_allowed, reason, msg);
        }
    }
    (
        desired,
        "DesiredWithinRange",
        "the desired count is within the acceptable range",
    )
}

/// `calculateScaleUpLimit`: `max(2 × current, 4)` in float64.
pub fn scale_up_limit(current: i32) -> i32 {
    (2.0 * current as f64).max(4.0) as i32
}

/// `convertDesiredReplicasWithRules` (no `behavior`).
pub fn convert_with_rules(current: i32, desired: i32, min: i32, max: i32) -> Limited {
    let limit = scale_up_limit(current);
    let (max_allowed, mut reason, mut msg) = if max > limit {
        (
            limit,
            "ScaleUpLimit",
            "the desired replica count is increasing faster than the maximum scale rate",
        )
    } else {
        (
            max,
            "TooManyReplicas",
            "the desired replica count is more than the maximum replica count",
        )
    };
    if desired < min {
        reason = "TooFewReplicas";
        msg = "the desired replica count is less than the minimum replica count";
        return (min, reason, msg);
    } else if desired > max_allowed {
        return (max_allowed, reason, msg);
    }
    (
        desired,
        "DesiredWithinRange",
        "the desired count is within the acceptable range",
    )
}

#[cfg(test)]
mod tests {
    //! Ports of upstream's horizontal_test.go tables: TestScalingWithRules,
    //! TestStoreScaleEvents, TestNormalizeDesiredReplicas,
    //! TestNormalizeDesiredReplicasWithBehavior, and the scale-down limit
    //! test before them.
    use super::*;

    const NOW: SimTime = SimTime(36_000_000_000);

    fn ago(secs_f: f64) -> SimTime {
        SimTime(NOW.0 - (secs_f * 1e6) as u64)
    }

    fn rules(pods: i32, pods_period: i32, pct: i32, pct_period: i32, window: i32) -> PartialRules {
        let mut p = Vec::new();
        if pods != 0 {
            p.push(ScalingPolicy {
                kind: PolicyType::Pods,
                value: pods,
                period_seconds: pods_period,
            });
        }
        if pct != 0 {
            p.push(ScalingPolicy {
                kind: PolicyType::Percent,
                value: pct,
                period_seconds: pct_period,
            });
        }
        PartialRules {
            stabilization_window_seconds: Some(window),
            select_policy: Some(SelectPolicy::Max),
            policies: Some(p),
            tolerance: None,
        }
    }

    /// `generateEventsUniformDistribution`: events centred in equal
    /// segments of the last `period` seconds. Upstream converts the
    /// segment boundary to whole seconds (`time.Duration(float)` of a
    /// count of seconds truncates), reproduced here.
    fn uniform(raw: &[i32], period: i32) -> Vec<ScaleEvent> {
        let seg = period as f64 / raw.len() as f64;
        raw.iter()
            .enumerate()
            .map(|(i, &c)| {
                let boundary = (period as f64 - seg * (i + 1) as f64 + seg / 2.0) as i64;
                ScaleEvent {
                    change: c,
                    at: ago(boundary as f64),
                    outdated: false,
                }
            })
            .collect()
    }

    struct Row {
        name: &'static str,
        up_events: Vec<ScaleEvent>,
        down_events: Vec<ScaleEvent>,
        min: i32,
        max: i32,
        up: Option<PartialRules>,
        down: Option<PartialRules>,
        current: i32,
        desired: i32,
        expected: i32,
        cond: &'static str,
    }

    fn row(
        name: &'static str,
        min: i32,
        max: i32,
        current: i32,
        desired: i32,
        expected: i32,
        cond: &'static str,
    ) -> Row {
        Row {
            name,
            up_events: vec![],
            down_events: vec![],
            min,
            max,
            up: None,
            down: None,
            current,
            desired,
            expected,
            cond,
        }
    }

    #[test]
    fn scaling_with_rules_upstream_table() {
        let e159 = || uniform(&[1, 5, 9], 120);
        let mut rows = vec![
            row("within range", 3, 8, 5, 7, 7, "DesiredWithinRange"),
            row("< minReplicas", 2, 8, 3, 1, 2, "TooFewReplicas"),
            row("min 0", 0, 10, 1, 0, 0, "DesiredWithinRange"),
            row(
                "maxReplicas < scaleUpLimit",
                1,
                10,
                20,
                1000,
                10,
                "TooManyReplicas",
            ),
            row("more than max", 100, 150, 100, 1000, 150, "TooManyReplicas"),
            Row {
                up: Some(rules(0, 0, 1, 60, 0)),
                ..row(
                    "scaleUpLimit with user policies",
                    1,
                    2000,
                    3,
                    1000,
                    4,
                    "ScaleUpLimit",
                )
            },
            row(
                "scaleUp default behavior",
                1,
                1000,
                10,
                50,
                20,
                "ScaleUpLimit",
            ),
            Row {
                up: Some(rules(100, 60, 100, 60, 0)),
                ..row("pods > percent", 1, 1000, 10, 500, 110, "ScaleUpLimit")
            },
            Row {
                up: Some(rules(2, 60, 100, 60, 0)),
                ..row("percent > pods", 1, 1000, 10, 500, 20, "ScaleUpLimit")
            },
            Row {
                up: Some(rules(100, 60, 0, 0, 0)),
                ..row(
                    "large pod policy",
                    1,
                    1000,
                    10,
                    50,
                    50,
                    "DesiredWithinRange",
                )
            },
            Row {
                up: Some(rules(10000, 60, 0, 0, 0)),
                ..row(
                    "large percent policy",
                    1,
                    1000,
                    10,
                    50,
                    50,
                    "DesiredWithinRange",
                )
            },
            Row {
                up: Some(rules(30, 60, 0, 0, 0)),
                ..row("pod policy limitation", 1, 1000, 10, 50, 40, "ScaleUpLimit")
            },
            Row {
                up: Some(rules(0, 0, 200, 60, 0)),
                ..row(
                    "percent policy limitation",
                    1,
                    1000,
                    10,
                    50,
                    30,
                    "ScaleUpLimit",
                )
            },
            Row {
                down: Some(rules(20, 60, 1, 60, 300)),
                ..row("down percent > pods", 1, 1000, 100, 2, 80, "ScaleDownLimit")
            },
            Row {
                down: Some(rules(2, 60, 1, 60, 300)),
                ..row("down pods > percent", 1, 1000, 100, 2, 98, "ScaleDownLimit")
            },
            Row {
                down: Some(rules(100, 60, 0, 0, 300)),
                ..row(
                    "down min nil large pod",
                    1,
                    1000,
                    10,
                    0,
                    1,
                    "TooFewReplicas",
                )
            },
            Row {
                down: Some(rules(0, 0, 100, 60, 300)),
                ..row(
                    "down min large percent",
                    5,
                    1000,
                    10,
                    2,
                    5,
                    "TooFewReplicas",
                )
            },
            Row {
                down: Some(rules(5, 60, 0, 0, 300)),
                ..row("down pod policy", 1, 1000, 10, 2, 5, "ScaleDownLimit")
            },
            Row {
                down: Some(rules(0, 0, 50, 60, 300)),
                ..row(
                    "down percent policy",
                    1,
                    1000,
                    10,
                    5,
                    5,
                    "DesiredWithinRange",
                )
            },
            Row {
                up_events: e159(),
                up: Some(rules(300, 60, 0, 0, 0)),
                ..row(
                    "max with pod policy and events",
                    1,
                    200,
                    100,
                    500,
                    200,
                    "TooManyReplicas",
                )
            },
            Row {
                up_events: e159(),
                up: Some(rules(0, 0, 10000, 60, 0)),
                ..row(
                    "max with percent and events",
                    1,
                    200,
                    100,
                    500,
                    200,
                    "TooManyReplicas",
                )
            },
            Row {
                up_events: e159(),
                up: Some(rules(5, 120, 0, 0, 0)),
                ..row(
                    "many recent up events",
                    1,
                    1000,
                    100,
                    500,
                    100,
                    "ScaleUpLimit",
                )
            },
            Row {
                up_events: e159(),
                up: Some(rules(150, 120, 0, 0, 0)),
                ..row(
                    "pod policy and up events",
                    1,
                    1000,
                    100,
                    500,
                    235,
                    "ScaleUpLimit",
                )
            },
            Row {
                up_events: e159(),
                up: Some(rules(0, 0, 200, 120, 0)),
                ..row(
                    "percent policy and up events",
                    1,
                    1000,
                    100,
                    500,
                    255,
                    "ScaleUpLimit",
                )
            },
            Row {
                up_events: uniform(&[4], 120),
                down_events: uniform(&[2], 120),
                up: Some(rules(0, 0, 300, 300, 0)),
                ..row(
                    "percent, up and down events",
                    1,
                    1000,
                    6,
                    24,
                    16,
                    "ScaleUpLimit",
                )
            },
            Row {
                down_events: e159(),
                ..row(
                    "down default and events",
                    1,
                    1000,
                    10,
                    5,
                    5,
                    "DesiredWithinRange",
                )
            },
            Row {
                down_events: e159(),
                down: Some(rules(115, 120, 0, 0, 300)),
                ..row(
                    "down min nil large pod, events",
                    1,
                    1000,
                    100,
                    0,
                    1,
                    "TooFewReplicas",
                )
            },
            Row {
                down_events: e159(),
                down: Some(rules(130, 120, 0, 0, 300)),
                ..row(
                    "down min large pod, events",
                    5,
                    1000,
                    100,
                    0,
                    5,
                    "TooFewReplicas",
                )
            },
            Row {
                down_events: e159(),
                down: Some(rules(0, 0, 100, 120, 300)),
                ..row(
                    "down min large percent, events",
                    5,
                    1000,
                    100,
                    2,
                    5,
                    "TooFewReplicas",
                )
            },
            Row {
                down_events: e159(),
                down: Some(rules(5, 120, 0, 0, 300)),
                ..row(
                    "down pod policy, events",
                    1,
                    1000,
                    100,
                    2,
                    100,
                    "ScaleDownLimit",
                )
            },
            Row {
                down_events: uniform(&[2, 4, 6], 120),
                down: Some(rules(0, 0, 50, 120, 300)),
                ..row(
                    "down percent policy, events",
                    1,
                    1000,
                    100,
                    0,
                    56,
                    "ScaleDownLimit",
                )
            },
            Row {
                up_events: uniform(&[2], 120),
                down_events: uniform(&[4], 120),
                down: Some(rules(0, 0, 50, 180, 0)),
                ..row(
                    "down percent, up and down events",
                    1,
                    1000,
                    10,
                    1,
                    6,
                    "ScaleDownLimit",
                )
            },
            Row {
                down_events: uniform(&[10, 10, 10], 120),
                down: Some(rules(0, 0, 10, 120, 300)),
                ..row(
                    "events preventing scale down",
                    1,
                    1000,
                    100,
                    0,
                    100,
                    "ScaleDownLimit",
                )
            },
            Row {
                down_events: uniform(&[10, 10, 10], 120),
                down: Some(rules(0, 0, 1000, 120, 300)),
                ..row(
                    "events allowing scale down",
                    1,
                    1000,
                    10,
                    5,
                    5,
                    "DesiredWithinRange",
                )
            },
        ];
        for (up, name) in [
            (rules(1000, 60, 0, 0, 0), "outdated, one policy, up"),
            (
                rules(1000, 120, 100, 60, 0),
                "not outdated, two policies, up",
            ),
            (rules(1000, 30, 100, 60, 0), "outdated, two policies, up"),
        ] {
            rows.push(Row {
                up_events: uniform(&[8, 12, 9, 11], 120),
                up: Some(up),
                ..row(name, 1, 1000, 100, 200, 200, "DesiredWithinRange")
            });
        }
        for (down, name) in [
            (rules(1000, 60, 0, 0, 300), "outdated, one policy, down"),
            (
                rules(1000, 120, 100, 60, 300),
                "not outdated, two policies, down",
            ),
            (
                rules(1000, 30, 100, 60, 300),
                "outdated, two policies, down",
            ),
        ] {
            rows.push(Row {
                down_events: uniform(&[8, 12, 9, 11], 120),
                down: Some(down),
                ..row(name, 1, 1000, 100, 5, 5, "DesiredWithinRange")
            });
        }
        for r in rows {
            let h = History {
                recommendations: vec![],
                scale_up_events: r.up_events.clone(),
                scale_down_events: r.down_events.clone(),
            };
            let b = Behavior::with_defaults(r.up.as_ref(), r.down.as_ref());
            let (got, cond, _) =
                convert_with_behavior_rate(&h, &b, r.min, r.max, r.current, r.desired, NOW);
            assert_eq!((got, cond), (r.expected, r.cond), "{}", r.name);
        }
    }

    #[test]
    fn scale_down_limit_min_select_policy() {
        // The last check of TestCalculateScaleDownLimitWithBehaviors.
        let r = ScalingRules {
            stabilization_window_seconds: Some(300),
            select_policy: SelectPolicy::Min,
            policies: vec![
                ScalingPolicy {
                    kind: PolicyType::Pods,
                    value: 2,
                    period_seconds: 60,
                },
                ScalingPolicy {
                    kind: PolicyType::Percent,
                    value: 50,
                    period_seconds: 60,
                },
            ],
            tolerance: None,
        };
        assert_eq!(scale_down_limit_with_rules(5, &[], &[], &r, NOW), 3);
        let mut d = r.clone();
        d.select_policy = SelectPolicy::Disabled;
        assert_eq!(scale_down_limit_with_rules(5, &[], &[], &d, NOW), 5);
        assert_eq!(scale_up_limit_with_rules(5, &[], &[], &d, NOW), 5);
    }

    #[test]
    fn store_scale_events_upstream_table() {
        let ev = |c: i32, s: f64, o: bool| ScaleEvent {
            change: c,
            at: ago(s),
            outdated: o,
        };
        // (name, prev, expected new (change, outdated), rules, expected change in 60 s)
        type Case = (
            &'static str,
            Vec<ScaleEvent>,
            Vec<(i32, bool)>,
            Option<PartialRules>,
            i32,
        );
        let cases: Vec<Case> = vec![
            ("empty, default", vec![], vec![], None, 0),
            (
                "empty, two policies",
                vec![],
                vec![(5, false)],
                Some(rules(10, 60, 100, 60, 0)),
                0,
            ),
            (
                "outdated kept without behavior",
                vec![ev(7, 61.0, false)],
                vec![(7, false)],
                None,
                0,
            ),
            (
                "outdated replaced",
                vec![ev(7, 61.0, false)],
                vec![(5, false)],
                Some(rules(10, 60, 100, 60, 0)),
                0,
            ),
            (
                "actual not touched",
                vec![ev(7, 58.0, false)],
                vec![(7, false), (5, false)],
                Some(rules(10, 60, 100, 60, 0)),
                7,
            ),
            (
                "two entries, one replaced",
                vec![ev(7, 61.0, false), ev(6, 59.0, false)],
                vec![(5, false), (6, false)],
                Some(rules(10, 60, 0, 0, 0)),
                6,
            ),
            (
                "different periods",
                vec![
                    ev(8, 29.0, false),
                    ev(6, 59.0, false),
                    ev(7, 61.0, false),
                    ev(9, 61.0, false),
                ],
                vec![(8, false), (6, false), (7, true), (5, false)],
                Some(rules(10, 60, 100, 30, 0)),
                14,
            ),
            (
                "both actual",
                vec![ev(7, 58.0, false), ev(6, 59.0, false)],
                vec![(7, false), (6, false), (5, false)],
                Some(rules(10, 120, 100, 30, 0)),
                13,
            ),
        ];
        for (name, prev, want, r, change) in cases {
            for up in [true, false] {
                let mut h = History::default();
                let events = if up {
                    &mut h.scale_up_events
                } else {
                    &mut h.scale_down_events
                };
                *events = prev.clone();
                assert_eq!(
                    replicas_change_per_period(60, events, NOW),
                    change,
                    "{name}"
                );
                // Upstream's test only stores events when behavior is set.
                if let Some(r) = &r {
                    let b = if up {
                        Behavior::with_defaults(Some(r), None)
                    } else {
                        Behavior::with_defaults(None, Some(r))
                    };
                    let new = if up { 15 } else { 5 };
                    h.store_scale_event(&b, 10, new, NOW);
                }
                let events = if up {
                    &h.scale_up_events
                } else {
                    &h.scale_down_events
                };
                let got: Vec<(i32, bool)> = events.iter().map(|e| (e.change, e.outdated)).collect();
                let want = if r.is_none() {
                    prev.iter().map(|e| (e.change, e.outdated)).collect()
                } else {
                    want.clone()
                };
                assert_eq!(got, want, "{name} up={up}");
            }
        }
    }

    #[test]
    fn normalize_desired_replicas_upstream_table() {
        let rec = |r: i32, m: f64| Recommendation {
            replicas: r,
            at: ago(m * 60.0),
        };
        let cases = vec![
            ("empty log", vec![], 5, 5, 1),
            ("stabilize", vec![rec(4, 2.0), rec(5, 1.0)], 3, 5, 3),
            ("no stabilize", vec![rec(1, 2.0), rec(2, 1.0)], 3, 3, 3),
            (
                "old recommendations",
                vec![rec(10, 10.0), rec(9, 9.0)],
                3,
                3,
                2,
            ),
            (
                "stabilize, old recommendations",
                vec![rec(10, 10.0), rec(4, 1.0), rec(5, 2.0), rec(9, 9.0)],
                3,
                5,
                4,
            ),
        ];
        for (name, recs, pre, want, len) in cases {
            let mut h = History {
                recommendations: recs,
                ..Default::default()
            };
            assert_eq!(
                h.stabilize(Duration::from_secs(300), pre, NOW),
                want,
                "{name}"
            );
            assert_eq!(h.recommendations.len(), len, "{name}");
        }
    }

    #[test]
    fn normalize_with_behavior_upstream_table() {
        let rec = |r: i32, m: f64| Recommendation {
            replicas: r,
            at: ago(m * 60.0),
        };
        // (name, recs, current, pre, expected, stored, up window, down window)
        type Case = (
            &'static str,
            Vec<Recommendation>,
            i32,
            i32,
            i32,
            Option<Vec<i32>>,
            i32,
            i32,
        );
        let cases: Vec<Case> = vec![
            ("empty, down", vec![], 100, 5, 5, Some(vec![5]), 0, 0),
            (
                "simple down",
                vec![rec(4, 2.0), rec(5, 1.0)],
                100,
                3,
                5,
                Some(vec![4, 5, 3]),
                0,
                180,
            ),
            (
                "simple up",
                vec![rec(4, 2.0), rec(5, 1.0)],
                1,
                7,
                4,
                Some(vec![4, 5, 7]),
                300,
                0,
            ),
            (
                "no down",
                vec![rec(1, 2.0), rec(2, 1.0)],
                100,
                3,
                3,
                Some(vec![1, 2, 3]),
                300,
                0,
            ),
            (
                "no up",
                vec![rec(4, 2.0), rec(5, 1.0)],
                1,
                3,
                3,
                Some(vec![4, 5, 3]),
                0,
                300,
            ),
            (
                "no down, reuse",
                vec![rec(10, 10.0), rec(9, 9.0)],
                100,
                3,
                3,
                Some(vec![10, 3]),
                0,
                0,
            ),
            (
                "no up, reuse",
                vec![rec(10, 10.0), rec(9, 9.0)],
                1,
                100,
                100,
                Some(vec![10, 100]),
                0,
                0,
            ),
            (
                "down, reuse obsolete",
                vec![rec(10, 10.0), rec(4, 1.0), rec(5, 2.0), rec(9, 9.0)],
                100,
                3,
                5,
                Some(vec![10, 4, 5, 3]),
                0,
                180,
            ),
            (
                "up, reuse obsolete",
                vec![rec(10, 100.0), rec(6, 1.0), rec(5, 2.0), rec(9, 3.0)],
                1,
                100,
                5,
                Some(vec![100, 6, 5, 9]),
                300,
                0,
            ),
            (
                "no up when rec goes down",
                vec![rec(2, 100.0), rec(3, 3.0)],
                2,
                1,
                2,
                None,
                300,
                300,
            ),
            (
                "no down when rec goes up",
                vec![rec(2, 100.0), rec(1, 3.0)],
                2,
                3,
                2,
                None,
                300,
                300,
            ),
        ];
        for (name, recs, current, pre, want, stored, up, down) in cases {
            let mut h = History {
                recommendations: recs,
                ..Default::default()
            };
            let (got, _, _) = h.stabilize_with_behaviors(up, down, current, pre, NOW);
            assert_eq!(got, want, "{name}");
            if let Some(s) = stored {
                let r: Vec<i32> = h.recommendations.iter().map(|r| r.replicas).collect();
                assert_eq!(r, s, "{name}");
            }
        }
    }

    #[test]
    fn convert_with_rules_old_path() {
        // TestConvertDesiredReplicasWithRules-style checks of the older
        // path: the scale-up limit is max(2 × current, 4).
        assert_eq!(
            convert_with_rules(1, 10, 1, 100),
            (
                4,
                "ScaleUpLimit",
                "the desired replica count is increasing faster than the maximum scale rate"
            )
        );
        assert_eq!(convert_with_rules(5, 30, 1, 100).0, 10);
        assert_eq!(convert_with_rules(5, 30, 1, 8).1, "TooManyReplicas");
        assert_eq!(convert_with_rules(5, 0, 2, 8).1, "TooFewReplicas");
        assert_eq!(convert_with_rules(5, 7, 2, 8).1, "DesiredWithinRange");
        assert_eq!(scale_up_limit(0), 4);
        assert_eq!(scale_up_limit(3), 6);
    }
}
