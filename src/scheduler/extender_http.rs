//! The HTTP transport of scheduler extenders: the standard kube-scheduler
//! extender protocol (upstream `HTTPExtender.send`). Each call POSTs the
//! JSON arguments to `<urlPrefix>/<verb>` with `Content-Type:
//! application/json` and decodes the first JSON value of a 200 reply.
//!
//! The whole exchange (connect, send, reply) is bounded by the extender's
//! timeout. Connection failures, timeouts, non-200 statuses and bodies that
//! are not JSON are errors that say what happened and on which URL.
//! Proxy environment variables are ignored and redirects are not followed,
//! so only the configured endpoint is ever contacted; `https://` is not
//! supported (the build has no TLS).

use serde_json::Value;

use super::extender::{snippet, Call, Transport};
use crate::engine::Duration;

/// Largest reply body read (a filter reply lists at most every node).
const MAX_BODY: u64 = 256 << 20;

/// POSTs to `<url_prefix>/<verb>`.
pub struct HttpTransport {
    url_prefix: String,
    timeout: Duration,
    agent: ureq::Agent,
}

impl HttpTransport {
    /// Checks the URL and builds the client; nothing is contacted yet.
    pub fn new(url_prefix: &str, timeout: Duration) -> Result<HttpTransport, String> {
        let lower = url_prefix.to_ascii_lowercase();
        if lower.starts_with("https://") {
            return Err(format!(
                "extender {url_prefix}: https is not supported (this build has no TLS); use http://"
            ));
        }
        if !lower.starts_with("http://") || url_prefix.len() <= "http://".len() {
            return Err(format!(
                "extender {url_prefix}: urlPrefix must be an http:// URL"
            ));
        }
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(std::time::Duration::from_micros(timeout.as_micros())))
            .http_status_as_error(false)
            .max_redirects(0)
            .proxy(None)
            .build()
            .into();
        Ok(HttpTransport {
            url_prefix: url_prefix.to_string(),
            timeout,
            agent,
        })
    }

    /// Upstream: `strings.TrimRight(extenderURL, "/") + "/" + verb`.
    pub fn url(&self, verb: &str) -> String {
        format!("{}/{verb}", self.url_prefix.trim_end_matches('/'))
    }

    fn describe(&self, call: Call, url: &str, e: ureq::Error) -> String {
        let what = match e {
            ureq::Error::Timeout(_) => format!("no reply within {}", self.timeout),
            ureq::Error::Io(io) => match io.kind() {
                std::io::ErrorKind::ConnectionRefused => "connection refused".to_string(),
                std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => {
                    format!("no reply within {}", self.timeout)
                }
                _ => io.to_string(),
            },
            ureq::Error::HostNotFound => "host not found".to_string(),
            other => other.to_string(),
        };
        format!("{}: POST {url}: {what}", call.as_str())
    }
}

impl Transport for HttpTransport {
    fn call(&mut self, call: Call, verb: &str, args: &Value) -> Result<Value, String> {
        let url = self.url(verb);
        let body = serde_json::to_vec(args)
            .map_err(|e| format!("{}: cannot encode the request: {e}", call.as_str()))?;
        let mut resp = self
            .agent
            .post(&url)
            .header("Content-Type", "application/json")
            .send(&body[..])
            .map_err(|e| self.describe(call, &url, e))?;
        let status = resp.status().as_u16();
        let bytes = resp.body_mut().with_config().limit(MAX_BODY).read_to_vec();
        if status != 200 {
            let detail = match &bytes {
                Ok(b) if !b.is_empty() => format!(": {}", snippet(b)),
                _ => String::new(),
            };
            return Err(format!(
                "{}: POST {url}: HTTP status {status}, want 200{detail}",
                call.as_str()
            ));
        }
        let bytes = bytes.map_err(|e| self.describe(call, &url, e))?;
        // Like Go's json.Decoder.Decode: the first JSON value; what follows
        // it is not read.
        match serde_json::Deserializer::from_slice(&bytes)
            .into_iter::<Value>()
            .next()
        {
            Some(Ok(v)) => Ok(v),
            Some(Err(e)) => Err(format!(
                "{}: POST {url}: malformed reply: {e} (reply starts {})",
                call.as_str(),
                snippet(&bytes)
            )),
            None => Err(format!(
                "{}: POST {url}: malformed reply: empty body",
                call.as_str()
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let t =
            HttpTransport::new("http://127.0.0.1:1/scheduler/", Duration::from_secs(1)).unwrap();
        assert_eq!(t.url("filter"), "http://127.0.0.1:1/scheduler/filter");
        assert!(HttpTransport::new("https://x", Duration::from_secs(1))
            .err()
            .unwrap()
            .contains("https is not supported"));
        assert!(HttpTransport::new("localhost:80", Duration::from_secs(1)).is_err());
    }

    #[test]
    fn unusable_urls_are_errors_not_panics() {
        for prefix in ["http://127.0.0.1:1/a b", "http://[::1", "http://h\u{0}st/"] {
            let mut t = HttpTransport::new(prefix, Duration::from_millis(200)).unwrap();
            let err = t
                .call(Call::Filter, "fil ter", &serde_json::json!({}))
                .unwrap_err();
            assert!(err.starts_with("filter: POST "), "{err}");
        }
    }
}
