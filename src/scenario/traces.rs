//! `spec.traces`: traces a scenario replays directly (no YAML per pod).
//! Each entry's files are imported ([`crate::trace::import`]), the replay
//! knobs applied ([`crate::trace::replay::expand`]), and the result added
//! in bulk: nodes and PriorityClasses as time-zero objects, pods arriving
//! at 0 as time-zero objects, later pods as timeline `apply` entries.
//! Paths are relative to the scenario file. Errors are reported at the
//! entry's field path, with the trace file and line in the message.

use std::path::{Path, PathBuf};

use super::convert::Doc;
use super::manifest::TraceRefM;
use super::yaml::index_path;
use super::{Action, Object, Scenario, TimedAction};
use crate::engine::SimTime;
use crate::model::pod::PodBehavior;
use crate::trace::replay::{self, ReplayOptions, PPM};
use crate::trace::{self, Format, ImportOptions};

/// The largest factor accepted for `loadFactor` and `timeCompression`.
const MAX_FACTOR_PPM: i64 = 1_000 * PPM as i64;

fn factor(doc: &mut Doc, path: &str, v: &super::manifest::Scalar, max: i64) -> Option<u64> {
    match trace::parse_scaled(&v.0, i128::from(PPM)) {
        Ok(x) if x > 0 && x <= max => Some(x as u64),
        Ok(_) => {
            doc.err(
                path,
                format!(
                    "must be greater than 0 and at most {}, found {:?}",
                    max / PPM as i64,
                    v.0
                ),
            );
            None
        }
        Err(e) => {
            doc.err(path, e);
            None
        }
    }
}

pub(super) fn expand_into(
    doc: &mut Doc,
    refs: &[TraceRefM],
    file: &Path,
    defaults: &PodBehavior,
    sc: &mut Scenario,
) {
    let base = file.parent().unwrap_or(Path::new("."));
    for (i, r) in refs.iter().enumerate() {
        let p = index_path("spec.traces", i);
        let f = format!("{p}.format");
        let format = match r.format.as_deref().map(Format::parse) {
            None => {
                doc.err(&f, "required: the trace format");
                continue;
            }
            Some(Err(e)) => {
                doc.err(&f, e);
                continue;
            }
            Some(Ok(x)) => x,
        };
        let mut paths: Vec<PathBuf> = r.path.iter().map(|s| base.join(s)).collect();
        paths.extend(r.paths.iter().map(|s| base.join(s)));
        if paths.is_empty() {
            doc.err(
                &format!("{p}.path"),
                "required: the trace file (path or paths)",
            );
            continue;
        }
        let mut opts = ReplayOptions::default();
        let mut ok = true;
        if let Some(v) = &r.load_factor {
            match factor(doc, &format!("{p}.loadFactor"), v, MAX_FACTOR_PPM) {
                Some(x) => opts.load_factor_ppm = x,
                None => ok = false,
            }
        }
        if let Some(v) = &r.time_compression {
            match factor(doc, &format!("{p}.timeCompression"), v, MAX_FACTOR_PPM) {
                Some(x) => opts.time_compression_ppm = x,
                None => ok = false,
            }
        }
        if let Some(s) = &r.sample {
            if let Some(v) = &s.fraction {
                match factor(doc, &format!("{p}.sample.fraction"), v, PPM as i64) {
                    Some(x) => opts.sample_fraction_ppm = x,
                    None => ok = false,
                }
            }
            opts.seed = s.seed.unwrap_or(sc.seed);
        } else {
            opts.seed = sc.seed;
        }
        let iopts = ImportOptions {
            skip_bad_rows: r.skip_bad_rows.unwrap_or(false),
            with_times: r.with_times.unwrap_or(true),
        };
        if let Some(d) = &r.durations {
            match trace::philly::import(&base.join(d), &iopts) {
                Ok((dist, _)) => opts.durations = Some(dist),
                Err(e) => {
                    doc.err(&format!("{p}.durations"), e.to_string());
                    ok = false;
                }
            }
        }
        if !ok {
            continue;
        }
        let t = match trace::import(format, &paths, &iopts) {
            Ok(t) => t,
            Err(e) => {
                let at = if r.path.is_some() { "path" } else { "paths" };
                doc.err(&format!("{p}.{at}"), e.to_string());
                continue;
            }
        };
        if t.stats.skipped > 0 {
            doc.warn(
                &format!("{p}.skipBadRows"),
                format!(
                    "skipped {} malformed row(s) of {}; first: {}",
                    t.stats.skipped,
                    t.stats.rows,
                    t.stats
                        .errors
                        .first()
                        .map(|e| e.to_string())
                        .unwrap_or_default()
                ),
            );
        }
        let ex = replay::expand_owned(t, &opts, defaults);
        let origin = paths
            .first()
            .map(|x| x.display().to_string())
            .unwrap_or_default();
        for c in ex.priority_classes {
            sc.objects.push(Object::PriorityClass(c));
        }
        for n in ex.nodes {
            sc.objects.push(Object::Node(Box::new(n)));
        }
        for (at, pod) in ex.pods {
            if at == SimTime::ZERO {
                sc.objects.push(Object::Pod(Box::new(pod)));
            } else {
                sc.timeline.push(TimedAction {
                    at,
                    action: Action::Apply(Object::Pod(Box::new(pod))),
                    origin: origin.clone(),
                });
            }
        }
    }
}
