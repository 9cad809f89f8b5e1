//! Admission and the request deadline. Write requests beyond `max_inflight_writes` are
//! refused before their bodies are read (`admit_writes`); statement bodies beyond
//! `max_inflight_statement_bytes` wait their turn to be parsed (`StatementRoom`). Every
//! request must be answered within `request_timeout_secs`:
//! a handler still working then (waiting on a busy store, say) is dropped and the client
//! told 503 with `Retry-After`, since the fault is the server's load; a client still
//! sending its body then is told 408 (`Deadline::body`), since the fault is its own.
//! Headers have their own, shorter limit: actix's `client_request_timeout` answers a
//! client that has not sent them all in time with a bare 408.
//!
//! Dropping a handler is safe here: a write already handed to the store still commits (a
//! 503 never claims it did not), and no handler holds a lock across an await.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage as _, HttpRequest};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use super::error::{ApiError, RETRY_BUSY_SECS};
use super::AppState;

/// When the request being served must be answered by.
#[derive(Debug, Clone, Copy)]
pub struct Deadline(Instant);

impl Deadline {
    /// The deadline of `req`, when one is set.
    pub fn of(req: &HttpRequest) -> Option<Deadline> {
        req.extensions().get::<Deadline>().copied()
    }

    /// Reads a request body by the deadline, or answers 408.
    pub async fn body<T>(
        deadline: Option<Deadline>,
        read: impl Future<Output = Result<T, ApiError>>,
    ) -> Result<T, ApiError> {
        match deadline {
            Some(Deadline(at)) => tokio::time::timeout_at(at, read).await.unwrap_or_else(|_| {
                Err(ApiError::RequestTimeout(
                    "the request body did not arrive within the request deadline".into(),
                ))
            }),
            None => read.await,
        }
    }
}

/// Answers 503 for a request not answered within its deadline.
pub async fn deadline(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let secs = req
        .app_data::<web::Data<AppState>>()
        .map_or(0, |state| state.settings.request_timeout_secs);
    if secs == 0 {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    }
    let at = Instant::now() + Duration::from_secs(secs);
    req.extensions_mut().insert(Deadline(at));
    let path = req.path().to_owned();
    match tokio::time::timeout_at(at, next.call(req)).await {
        Ok(answer) => answer.map(ServiceResponse::map_into_boxed_body),
        Err(_) => {
            tracing::warn!(path, secs, "request deadline passed");
            // An error, not a response: the request was handed on and routing needs it
            // unshared, so no copy is kept to answer with. The dispatcher renders the
            // error's own response (status, JSON body, `Retry-After`).
            Err(ApiError::Unavailable {
                message: format!("the request was not answered within its {secs} s deadline"),
                retry_after_secs: RETRY_BUSY_SECS,
            }
            .into())
        }
    }
}

/// Write requests (any method but GET, HEAD and OPTIONS) served at once. Each holds its
/// body until answered (statements are parsed as `StatementRoom` allows); one more than
/// `max_inflight_writes` is refused at once with 503 and `Retry-After`, before its body
/// is read, so a flood of writers costs the server a bounded amount of memory instead of
/// a growing queue.
#[derive(Debug, Clone)]
pub struct WriteAdmission {
    permits: Arc<Semaphore>,
    limit: usize,
}

impl WriteAdmission {
    pub fn new(limit: usize) -> Self {
        let limit = limit.max(1);
        WriteAdmission {
            permits: Arc::new(Semaphore::new(limit)),
            limit,
        }
    }
}

/// Statement bodies parsed and stored at once, counted in bytes as sent. Parsed, a batch
/// takes several times its size until it is stored, so the writes admitted at once could
/// otherwise hold many times this. A PUT or POST of statements whose body does not fit
/// waits, holding only its body, until earlier ones are answered (first come, first
/// served); one larger than the whole room waits for all of it and runs alone. The wait
/// counts against the request's deadline.
#[derive(Debug, Clone)]
pub struct StatementRoom {
    room: Arc<Semaphore>,
    bytes: u32,
}

impl StatementRoom {
    pub fn new(bytes: usize) -> Self {
        let bytes = u32::try_from(bytes).unwrap_or(u32::MAX).max(1);
        StatementRoom {
            room: Arc::new(Semaphore::new(bytes as usize)),
            bytes,
        }
    }

    /// Waits until a body of `body_bytes` fits; it holds its room until the turn is dropped.
    /// (None would mean the room was closed, which nothing does.)
    pub async fn turn(&self, body_bytes: usize) -> Option<OwnedSemaphorePermit> {
        let wanted = u32::try_from(body_bytes)
            .unwrap_or(u32::MAX)
            .clamp(1, self.bytes);
        self.room.clone().acquire_many_owned(wanted).await.ok()
    }
}

/// Refuses a write request with 503 when `max_inflight_writes` are being served.
pub async fn admit_writes(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let reads = [Method::GET, Method::HEAD, Method::OPTIONS];
    let admission = req
        .app_data::<web::Data<AppState>>()
        .map(|state| state.writes.clone());
    let permit = match admission {
        Some(admission) if !reads.contains(req.method()) => {
            match admission.permits.try_acquire_owned() {
                Ok(permit) => Some(permit),
                Err(_) => {
                    return Err(ApiError::Unavailable {
                        message: format!(
                            "{} write requests are being served, the most at once \
                             (max_inflight_writes); retry shortly",
                            admission.limit
                        ),
                        retry_after_secs: RETRY_BUSY_SECS,
                    }
                    .into())
                }
            }
        }
        _ => None,
    };
    let answer = next.call(req).await;
    drop(permit);
    answer.map(ServiceResponse::map_into_boxed_body)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// How long a turn that should come is waited for, and one that should not is
    /// watched, in these tests.
    const COMES: Duration = Duration::from_secs(10);
    const WATCHED: Duration = Duration::from_millis(100);

    #[tokio::test]
    async fn a_body_that_does_not_fit_waits_for_the_room_an_earlier_one_frees() {
        let room = StatementRoom::new(100);
        let first = room.turn(60).await;
        let second = room.turn(40).await;
        let third = tokio::spawn({
            let room = room.clone();
            async move { room.turn(30).await }
        });
        tokio::time::sleep(WATCHED).await;
        assert!(
            !third.is_finished(),
            "30 more bytes do not fit in a full room"
        );
        drop(first);
        let third = tokio::time::timeout(COMES, third).await.unwrap().unwrap();
        assert!(third.is_some() && second.is_some());
    }

    #[tokio::test]
    async fn a_body_larger_than_the_room_runs_alone() {
        let room = StatementRoom::new(100);
        let small = room.turn(10).await;
        let large = tokio::spawn({
            let room = room.clone();
            async move { room.turn(5_000).await }
        });
        tokio::time::sleep(WATCHED).await;
        assert!(!large.is_finished(), "it waits for the whole room");
        drop(small);
        let large = tokio::time::timeout(COMES, large).await.unwrap().unwrap();
        // First come, first served: a later small body waits behind it.
        let after = tokio::spawn({
            let room = room.clone();
            async move { room.turn(1).await }
        });
        tokio::time::sleep(WATCHED).await;
        assert!(!after.is_finished());
        drop(large);
        assert!(tokio::time::timeout(COMES, after)
            .await
            .unwrap()
            .unwrap()
            .is_some());
    }

    #[tokio::test]
    async fn an_empty_body_still_takes_a_turn() {
        let room = StatementRoom::new(1);
        let held = room.turn(0).await;
        assert!(held.is_some());
        assert!(tokio::time::timeout(WATCHED, room.turn(0)).await.is_err());
    }
}
