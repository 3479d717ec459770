//! The `predictive` horizontal autoscaling policy: Holt's linear
//! exponential smoothing (level and trend) over the HPA's demand history
//! ([`super::policy::DemandSample`], one point per sync), forecast `lead`
//! ahead (the time a new pod needs to become useful), and the proposal
//! raised to `ceil(forecast)` when that is above upstream's reactive one.
//! Everything after the proposal (stabilization, rate limits, bounds,
//! conditions) is upstream's, so the two policies differ only in what they
//! propose. It scales ahead of a rising (diurnal) load and, through the
//! downscale stabilization, does not drop capacity faster than upstream.
//!
//! Parameters (annotations on the HPA): `kubesim.dev/autoscaler-alpha`
//! (level smoothing, default 0.5), `kubesim.dev/autoscaler-beta` (trend
//! smoothing, default 0.3), `kubesim.dev/autoscaler-lead` (forecast
//! horizon, default 2m).
//!
//! Floats: the smoothing is `f64` arithmetic in a fixed order over a
//! history that is itself deterministic, so a run is reproducible on one
//! binary and platform.

use std::collections::BTreeMap;

use super::hpa::{self, HpaState};
use super::policy::{AutoscalerPolicy, DemandSample, PolicyOutput, PolicyView};
use crate::engine::Duration;

/// Holt's linear method over `series` sampled every `step`: the forecast
/// `h` steps past the last point. Returns `None` for an empty series.
pub fn holt_forecast(series: &[f64], alpha: f64, beta: f64, h: f64) -> Option<f64> {
    let (&first, rest) = series.split_first()?;
    let mut level = first;
    let mut trend = 0.0;
    for &x in rest {
        let prev = level;
        level = alpha * x + (1.0 - alpha) * (level + trend);
        trend = beta * (level - prev) + (1.0 - beta) * trend;
    }
    Some(level + h * trend)
}

/// The predictive policy.
pub struct Predictive {
    pub alpha: f64,
    pub beta: f64,
    pub lead: Duration,
    state: HpaState,
}

impl Default for Predictive {
    fn default() -> Self {
        Predictive {
            alpha: 0.5,
            beta: 0.3,
            lead: Duration::from_secs(120),
            state: HpaState::default(),
        }
    }
}

fn unit(params: &BTreeMap<String, String>, key: &str, default: f64) -> Result<f64, String> {
    match params.get(key) {
        None => Ok(default),
        Some(v) => match v.trim().parse::<f64>() {
            Ok(x) if (0.0..=1.0).contains(&x) => Ok(x),
            _ => Err(format!(
                "kubesim.dev/autoscaler-{key}: expected a number between 0 and 1, found {v:?}"
            )),
        },
    }
}

impl Predictive {
    /// From the `kubesim.dev/autoscaler-*` annotations (suffix → value).
    pub fn from_params(params: &BTreeMap<String, String>) -> Result<Predictive, String> {
        let mut p = Predictive {
            alpha: unit(params, "alpha", 0.5)?,
            beta: unit(params, "beta", 0.3)?,
            ..Default::default()
        };
        if let Some(l) = params.get("lead") {
            p.lead = Duration::parse(l).map_err(|e| format!("kubesim.dev/autoscaler-lead: {e}"))?;
        }
        Ok(p)
    }

    /// The forecast demand in replicas (rounded up), if there is history.
    pub fn forecast_replicas(&self, history: &[DemandSample], step: Duration) -> Option<i32> {
        let series: Vec<f64> = history
            .iter()
            .map(|s| s.milli_replicas as f64 / 1000.0)
            .collect();
        let h = self.lead.as_micros() as f64 / step.as_micros().max(1) as f64;
        let f = holt_forecast(&series, self.alpha, self.beta, h)?;
        if !f.is_finite() {
            return None;
        }
        Some(f.max(0.0).ceil().min(i32::MAX as f64) as i32)
    }
}

impl AutoscalerPolicy for Predictive {
    fn name(&self) -> &str {
        "predictive"
    }
    fn sync(&mut self, v: &PolicyView) -> PolicyOutput {
        let forecast = self.forecast_replicas(v.history, v.config.sync_period);
        let r = hpa::reconcile_adjusted(
            v.config,
            &mut self.state,
            v.spec,
            v.scale,
            v.pods,
            v.metrics,
            v.now,
            &mut |reactive| match forecast {
                Some(f) if f > reactive => f,
                _ => reactive,
            },
        );
        PolicyOutput {
            desired: r.desired,
            status: self.state.status.clone(),
            events: r.events,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::autoscaler::hpa::{
        ControllerConfig, FetchedPodMetrics, HpaSpec, MetricSource, MetricSpec, MetricTarget,
        MetricsClient, ResourceName, Scale,
    };
    use crate::autoscaler::policy::new_policy;
    use crate::engine::SimTime;

    #[test]
    fn holt_follows_a_linear_trend() {
        let s: Vec<f64> = (0..40).map(|i| 2.0 + 0.5 * i as f64).collect();
        let f = holt_forecast(&s, 0.5, 0.3, 8.0).unwrap();
        // The last point is 21.5; 8 steps ahead on the line is 25.5.
        assert!((f - 25.5).abs() < 0.05, "{f}");
        assert_eq!(holt_forecast(&[], 0.5, 0.3, 1.0), None);
        let flat = holt_forecast(&[3.0; 10], 0.5, 0.3, 10.0).unwrap();
        assert_eq!(flat, 3.0);
    }

    #[test]
    fn params_are_validated() {
        let mut p = BTreeMap::new();
        p.insert("alpha".to_string(), "1.5".to_string());
        assert!(Predictive::from_params(&p).is_err());
        p.insert("alpha".to_string(), "0.2".to_string());
        p.insert("lead".to_string(), "3m".to_string());
        let q = Predictive::from_params(&p).unwrap();
        assert_eq!((q.alpha, q.lead), (0.2, Duration::from_secs(180)));
        assert!(new_policy("nope", &BTreeMap::new()).is_err());
    }

    struct Ext(i64);
    impl MetricsClient for Ext {
        fn resource_metric(&self, _: ResourceName, _: Option<&str>) -> FetchedPodMetrics {
            Err("none".into())
        }
        fn pods_metric(&self, _: &str, _: Option<&crate::model::Selector>) -> FetchedPodMetrics {
            Err("none".into())
        }
        fn object_metric(
            &self,
            _: &str,
            _: &str,
            _: &str,
            _: Option<&crate::model::Selector>,
        ) -> Result<(i64, SimTime), String> {
            Err("none".into())
        }
        fn external_metric(
            &self,
            _: &str,
            _: Option<&crate::model::Selector>,
        ) -> Result<(Vec<i64>, SimTime), String> {
            Ok((vec![self.0], SimTime::ZERO))
        }
    }

    /// On a steadily rising load the predictive policy asks for more
    /// replicas than upstream at the same instant, never fewer.
    #[test]
    fn scales_ahead_of_a_rising_load() {
        let cfg = ControllerConfig::default();
        let spec = HpaSpec {
            min_replicas: 1,
            max_replicas: 100,
            metrics: vec![MetricSpec {
                source: MetricSource::External("queue".into()),
                target: MetricTarget::AverageValue(1000),
                selector: None,
            }],
            behavior: None,
        };
        let mut up = new_policy("upstream", &BTreeMap::new()).unwrap();
        let mut pr = new_policy("predictive", &BTreeMap::new()).unwrap();
        let (mut ru, mut rp) = (2, 2);
        let mut hist = Vec::new();
        let mut ahead = 0;
        for i in 0..40u64 {
            let now = SimTime(i * 15_000_000);
            let load = 2000 + 300 * i as i64; // +0.3 replicas per sync
            let client = Ext(load);
            hist.push(DemandSample {
                at: now,
                milli_replicas: load,
            });
            let mk = |r| Scale {
                spec_replicas: r,
                status_replicas: r,
            };
            let vu = PolicyView {
                now,
                config: &cfg,
                spec: &spec,
                scale: mk(ru),
                pods: &[],
                metrics: &client,
                history: &hist,
            };
            ru = up.sync(&vu).desired;
            let vp = PolicyView {
                scale: mk(rp),
                ..vu
            };
            rp = pr.sync(&vp).desired;
            assert!(rp >= ru, "sync {i}: predictive {rp} < upstream {ru}");
            if rp > ru {
                ahead += 1;
            }
        }
        assert!(ahead > 10, "predictive was ahead at only {ahead} syncs");
    }
}
