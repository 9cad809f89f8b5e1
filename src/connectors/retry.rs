//! Calls to other services that survive their bad moments: timeouts, retries with
//! exponential backoff and full jitter, and `Retry-After` on 429 and 503.

use std::time::Duration;

use rand::Rng as _;
use reqwest::{RequestBuilder, Response, StatusCode};

use crate::redact::redacted_url;

/// How a connector retries one call.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Tries in all, the first included.
    pub attempts: u32,
    /// The backoff before the second try; it doubles with each try, up to `max_delay`.
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 5,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(60),
        }
    }
}

/// Why a call failed for good.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// The service answered with a status no retry will change (4xx other than 408/429).
    #[error("{url} answered {status}: {body}")]
    Rejected {
        url: String,
        status: StatusCode,
        body: String,
    },
    /// Every try failed with a transient error; the last one is kept.
    #[error("{url}: gave up after {attempts} tries: {last}")]
    Exhausted {
        url: String,
        attempts: u32,
        last: String,
    },
}

impl RetryPolicy {
    /// Sends the request `build` makes (called once per try) until it succeeds, fails for
    /// good, or the tries run out. Transient: connection errors, timeouts, 408, 429 and
    /// 5xx; a `Retry-After` in seconds is honoured (capped at `max_delay`).
    pub async fn send(
        &self,
        mut build: impl FnMut() -> RequestBuilder,
    ) -> Result<Response, CallError> {
        let mut last = String::new();
        let mut url = String::new();
        for attempt in 0..self.attempts.max(1) {
            let mut wait = None;
            match build().send().await {
                Ok(response) if response.status().is_success() => return Ok(response),
                Ok(response) => {
                    let status = response.status();
                    url = redacted_url(response.url().as_str());
                    wait = retry_after(&response);
                    let body = response.text().await.unwrap_or_default();
                    let body: String = body.chars().take(500).collect();
                    if !is_transient(status) {
                        return Err(CallError::Rejected { url, status, body });
                    }
                    last = format!("{status}: {body}");
                }
                Err(e) => {
                    if let Some(u) = e.url() {
                        url = redacted_url(u.as_str());
                    }
                    last = e.without_url().to_string();
                }
            }
            if attempt + 1 < self.attempts {
                let delay = wait
                    .unwrap_or_else(|| self.backoff(attempt))
                    .min(self.max_delay);
                tokio::time::sleep(delay).await;
            }
        }
        Err(CallError::Exhausted {
            url,
            attempts: self.attempts.max(1),
            last,
        })
    }

    /// Full jitter: a uniform pick up to the exponential bound, so many callers retrying
    /// at once spread out.
    fn backoff(&self, attempt: u32) -> Duration {
        let bound = self
            .base_delay
            .saturating_mul(2u32.saturating_pow(attempt))
            .min(self.max_delay);
        let millis = u64::try_from(bound.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(rand::thread_rng().gen_range(0..=millis))
    }
}

fn is_transient(status: StatusCode) -> bool {
    status == StatusCode::REQUEST_TIMEOUT
        || status == StatusCode::TOO_MANY_REQUESTS
        || status.is_server_error()
}

/// `Retry-After` in seconds (the HTTP-date form is rare from APIs and falls back to
/// backoff).
fn retry_after(response: &Response) -> Option<Duration> {
    let value = response.headers().get(reqwest::header::RETRY_AFTER)?;
    let seconds: u64 = value.to_str().ok()?.trim().parse().ok()?;
    Some(Duration::from_secs(seconds))
}
