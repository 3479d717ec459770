//! The event log: one JSON line per thing that happened, streamed to a
//! writer and folded into a SHA-256 digest as it goes. Two runs are
//! identical exactly when their digests are.

use std::io::Write;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::engine::SimTime;

/// One record of `events.jsonl`. Fields that do not apply are omitted.
#[derive(Serialize)]
pub struct Record<'a> {
    /// Simulated time in microseconds.
    pub t_us: u64,
    /// Record number, from 0.
    pub seq: u64,
    #[serde(rename = "type")]
    pub kind: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pod: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<&'a str>,
}

pub struct EventLog {
    out: Option<Box<dyn Write>>,
    hasher: Sha256,
    seq: u64,
    buf: Vec<u8>,
    error: Option<std::io::Error>,
}

impl EventLog {
    /// A log that writes to `out` (or only hashes when `None`).
    pub fn new(out: Option<Box<dyn Write>>) -> EventLog {
        EventLog {
            out,
            hasher: Sha256::new(),
            seq: 0,
            buf: Vec::with_capacity(256),
            error: None,
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub fn record(
        &mut self,
        t: SimTime,
        kind: &str,
        pod: Option<&str>,
        node: Option<&str>,
        reason: Option<&str>,
        message: Option<&str>,
    ) {
        let r = Record {
            t_us: t.as_micros(),
            seq: self.seq,
            kind,
            pod,
            node,
            reason,
            message,
        };
        self.seq += 1;
        self.buf.clear();
        // Serializing plain strings and integers cannot fail.
        if serde_json::to_writer(&mut self.buf, &r).is_err() {
            return;
        }
        self.buf.push(b'\n');
        self.hasher.update(&self.buf);
        if let Some(out) = self.out.as_mut() {
            if self.error.is_none() {
                if let Err(e) = out.write_all(&self.buf) {
                    self.error = Some(e);
                }
            }
        }
    }

    pub fn len(&self) -> u64 {
        self.seq
    }

    pub fn is_empty(&self) -> bool {
        self.seq == 0
    }

    /// Flushes the writer and returns the hex digest of every line.
    pub fn finish(mut self) -> Result<String, std::io::Error> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        if let Some(out) = self.out.as_mut() {
            out.flush()?;
        }
        let d = self.hasher.finalize();
        Ok(d.iter().map(|b| format!("{b:02x}")).collect())
    }
}
