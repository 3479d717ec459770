//! The JSON-lines transport of scheduler extenders (a kubesim protocol):
//! the extender is a subprocess, spawned once, that reads one request per
//! line on stdin and writes one reply per line on stdout. stderr is
//! inherited, so its logs and tracebacks show up in kubesim's output.
//!
//! Request: `{"verb": "filter"|"prioritize"|"bind", "args": <ExtenderArgs
//! or ExtenderBindingArgs>}`, the same JSON as the HTTP protocol. Reply:
//! `ExtenderFilterResult`, `HostPriorityList` or `ExtenderBindingResult`.
//! Blank reply lines are skipped; every other line is a reply, so the
//! extender must write exactly one line per request and nothing else.
//!
//! Each call waits at most the extender's timeout for its reply (a reader
//! thread feeds a channel; the writer is a thread too, so a child that
//! stops reading cannot block kubesim). On timeout the child is killed and
//! the call fails with `no reply within <timeout>`; a child that exits or
//! closes stdout, or a reply that is not JSON, fails the call with the
//! command line in the message. Once the child is gone, every later call
//! fails at once with the reason. Replies are data: only the timeout error
//! depends on wall-clock time. Dropping the transport closes stdin, gives
//! the child a moment to exit, then kills and reaps it.

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::Instant;

use serde_json::{json, Value};

use super::extender::{snippet, Call, Transport};
use crate::engine::Duration;

/// Longest reply line accepted.
const MAX_LINE: u64 = 256 << 20;

/// How long Drop waits for the child to exit after closing its stdin.
const EXIT_GRACE: std::time::Duration = std::time::Duration::from_millis(200);

/// What the I/O threads report.
enum Event {
    Line(Vec<u8>),
    Eof,
    TooLong,
    ReadError(std::io::Error),
    WriteError(std::io::Error),
}

/// A running JSON-lines extender.
pub struct JsonlTransport {
    timeout: Duration,
    child: Child,
    /// Requests to the writer thread; `None` once closed.
    requests: Option<Sender<Vec<u8>>>,
    events: Receiver<Event>,
    /// Why the child is no longer usable.
    dead: Option<String>,
}

impl JsonlTransport {
    /// Spawns `cmd` (`name` is its printable form, used in messages).
    pub fn spawn(cmd: &[String], name: &str, timeout: Duration) -> Result<JsonlTransport, String> {
        let Some((prog, args)) = cmd.split_first() else {
            return Err("extender: empty command".to_string());
        };
        let mut child = Command::new(prog)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("extender {name}: cannot start {prog:?}: {e}"))?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("extender {name}: no pipes to the child"));
        };
        let (ev_tx, events) = mpsc::channel();
        let (requests, req_rx) = mpsc::channel();
        let spawn_err = |e: std::io::Error| format!("extender {name}: cannot start a thread: {e}");
        let w_tx = ev_tx.clone();
        let started = std::thread::Builder::new()
            .name("kubesim-extender-writer".into())
            .spawn(move || writer(stdin, req_rx, w_tx))
            .map_err(spawn_err)
            .and_then(|_| {
                std::thread::Builder::new()
                    .name("kubesim-extender-reader".into())
                    .spawn(move || reader(stdout, ev_tx))
                    .map_err(spawn_err)
            });
        if let Err(e) = started {
            let _ = child.kill();
            let _ = child.wait();
            return Err(e);
        }
        Ok(JsonlTransport {
            timeout,
            child,
            requests: Some(requests),
            events,
            dead: None,
        })
    }

    /// Kills and reaps the child, remembering why.
    fn stop(&mut self, why: String) {
        self.requests = None;
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.dead = Some(why);
    }

    /// The child closed stdout or stdin: report how it ended, waiting for
    /// it at most until `deadline`.
    // The wall clock only bounds how long we wait; it never shapes a reply.
    #[allow(clippy::disallowed_methods)]
    fn ended(
        &mut self,
        call: Call,
        deadline: Instant,
        write_err: Option<std::io::Error>,
    ) -> String {
        self.requests = None;
        let status = loop {
            match self.child.try_wait() {
                Ok(Some(st)) => break Some(st),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(2))
                }
                _ => break None,
            }
        };
        let mut why = match status {
            Some(st) => format!("exited ({st})"),
            None => "closed its stdout".to_string(),
        };
        if let Some(e) = write_err.filter(|e| e.kind() != ErrorKind::BrokenPipe) {
            why.push_str(&format!("; writing the request failed: {e}"));
        }
        self.stop(why.clone());
        format!("{why} without replying to {}", call.as_str())
    }
}

fn writer(mut stdin: ChildStdin, requests: Receiver<Vec<u8>>, events: Sender<Event>) {
    for buf in requests {
        if let Err(e) = stdin.write_all(&buf).and_then(|()| stdin.flush()) {
            let _ = events.send(Event::WriteError(e));
            return;
        }
    }
    // The sender is gone: dropping stdin closes the child's input.
}

fn reader(stdout: ChildStdout, events: Sender<Event>) {
    let mut r = BufReader::new(stdout);
    loop {
        let mut line = Vec::new();
        let ev = match r.by_ref().take(MAX_LINE).read_until(b'\n', &mut line) {
            Ok(0) => Event::Eof,
            Ok(_) if line.last() != Some(&b'\n') && line.len() as u64 >= MAX_LINE => Event::TooLong,
            Ok(_) => Event::Line(line),
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => Event::ReadError(e),
        };
        let last = !matches!(ev, Event::Line(_));
        if events.send(ev).is_err() || last {
            return;
        }
    }
}

impl Transport for JsonlTransport {
    // The wall clock only bounds how long we wait; it never shapes a reply.
    #[allow(clippy::disallowed_methods)]
    fn call(&mut self, call: Call, _verb: &str, args: &Value) -> Result<Value, String> {
        if let Some(why) = &self.dead {
            return Err(format!("not running ({why}); cannot {}", call.as_str()));
        }
        let mut line = serde_json::to_vec(&json!({"verb": call.as_str(), "args": args}))
            .map_err(|e| format!("{}: cannot encode the request: {e}", call.as_str()))?;
        line.push(b'\n');
        let timeout = std::time::Duration::from_micros(self.timeout.as_micros());
        let start = Instant::now();
        let deadline = start.checked_add(timeout).unwrap_or(start);
        if let Some(tx) = &self.requests {
            // A send error means the writer thread ended; its event says why.
            let _ = tx.send(line);
        }
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.events.recv_timeout(left) {
                Ok(Event::Line(l)) if l.iter().all(u8::is_ascii_whitespace) => continue,
                Ok(Event::Line(l)) => {
                    return serde_json::from_slice::<Value>(&l).map_err(|e| {
                        format!(
                            "{}: malformed reply line: {e} (line starts {})",
                            call.as_str(),
                            snippet(&l)
                        )
                    });
                }
                Ok(Event::Eof) | Err(RecvTimeoutError::Disconnected) => {
                    return Err(self.ended(call, deadline, None));
                }
                Ok(Event::WriteError(e)) => return Err(self.ended(call, deadline, Some(e))),
                Ok(Event::TooLong) => {
                    let why = format!("reply line longer than {MAX_LINE} bytes");
                    self.stop(format!("killed: {why}"));
                    return Err(format!("{}: {why}; killed it", call.as_str()));
                }
                Ok(Event::ReadError(e)) => {
                    self.stop(format!("killed: reading its stdout failed: {e}"));
                    return Err(format!(
                        "{}: reading its stdout failed: {e}; killed it",
                        call.as_str()
                    ));
                }
                Err(RecvTimeoutError::Timeout) => {
                    self.stop(format!(
                        "killed after no reply within {} to {}",
                        self.timeout,
                        call.as_str()
                    ));
                    return Err(format!(
                        "no reply within {} (to {}); killed it",
                        self.timeout,
                        call.as_str()
                    ));
                }
            }
        }
    }
}

impl Drop for JsonlTransport {
    // The wall clock only bounds how long we wait; it never shapes a reply.
    #[allow(clippy::disallowed_methods)]
    fn drop(&mut self) {
        if self.dead.is_some() {
            return;
        }
        // Closing stdin lets a well-behaved extender exit on its own.
        self.requests = None;
        let start = Instant::now();
        while start.elapsed() < EXIT_GRACE {
            match self.child.try_wait() {
                Ok(Some(_)) => return,
                Err(_) => break,
                Ok(None) => std::thread::sleep(std::time::Duration::from_millis(2)),
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
