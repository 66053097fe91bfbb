//! A blocking HTTP client for tests that talk to a running pitboss (`demo` or `run`): an
//! error status is an answer to check, not an error.

use std::io::Read;
use std::time::Duration;

#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: String,
}

impl Reply {
    /// The body as JSON; panics showing the body if it is not.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

fn reply(r: Result<ureq::Response, ureq::Error>) -> Result<Reply, String> {
    let resp = match r {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => return Err(e.to_string()),
    };
    let status = resp.status();
    let mut body = String::new();
    resp.into_reader()
        .take(16 << 20)
        .read_to_string(&mut body)
        .map_err(|e| e.to_string())?;
    Ok(Reply { status, body })
}

/// GET with an optional bearer key; `Err` only if no answer came (connection refused...).
pub fn get(url: &str, key: Option<&str>) -> Result<Reply, String> {
    let mut req = ureq::get(url).timeout(Duration::from_secs(10));
    if let Some(k) = key {
        req = req.set("Authorization", &format!("Bearer {k}"));
    }
    reply(req.call())
}

/// A request with a JSON body (POST, PATCH) and an optional `X-Api-Key`.
pub fn send(method: &str, url: &str, key: Option<&str>, body: &str) -> Reply {
    send_within(Duration::from_secs(10), method, url, key, body)
}

/// [`send`], waiting up to `timeout` for the answer (a request whose work is slow on a
/// loaded machine, such as starting a browser).
pub fn send_within(
    timeout: Duration,
    method: &str,
    url: &str,
    key: Option<&str>,
    body: &str,
) -> Reply {
    let mut req = ureq::request(method, url)
        .timeout(timeout)
        .set("Content-Type", "application/json");
    if let Some(k) = key {
        req = req.set("X-Api-Key", k);
    }
    reply(req.send_string(body)).expect("request sent")
}
