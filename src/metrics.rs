//! The process's Prometheus metrics: one registry, created on first use, that every layer
//! records into. A leaf module (it imports nothing of the crate), so the store, the ingest
//! pipeline and the HTTP layer can all reach it without bending the layering.
//!
//! Why one process-wide registry rather than one per server: the store and the ingest
//! pipeline record deep below anything that could carry a handle, and a process serves one
//! gateway. Values that belong to one store (the writer's queue, the evidence journal's
//! lag) are not kept here: the scrape reads them from the store it serves
//! ([`Scrape`]), so they are never stale.
//!
//! Recording costs an atomic add, or a short lock for a histogram; label sets are static
//! strings, so nothing is allocated after a series' first use.
//!
//! Other modules publish their own gauges (a connector's or forwarder's status, say)
//! through [`gauge_family`].

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64};
use std::sync::{LazyLock, Mutex, OnceLock};
use std::time::{Duration, Instant};

use prometheus_client::encoding::text::{encode_eof, encode_registry};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

/// The content type of [`Scrape::finish`]'s text: OpenMetrics 1.0, which Prometheus asks
/// for first. Its text is also valid Prometheus text format 0.0.4 (`# EOF` and `# UNIT`
/// read as comments there), so scrapers that ask for that get the same body under
/// [`PROMETHEUS_TEXT`].
pub const OPENMETRICS_TEXT: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
/// The content type of the Prometheus text format 0.0.4.
pub const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Request latency buckets, in seconds: 1 ms to 10 s.
const LATENCY_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
/// Statements per accepted batch.
const BATCH_BUCKETS: [f64; 11] = [
    1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 5000.0,
];

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

/// An HTTP request's series: the matched route template (never the raw path), the method
/// and the status.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: &'static str,
    method: &'static str,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: &'static str,
    method: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RuleLabels {
    rule: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabels {
    operation: &'static str,
}

/// A labelled gauge published through [`gauge_family`]; its label set is a list of
/// (name, value) pairs.
pub type GaugeFamily = Family<Vec<(String, String)>, Gauge>;

/// Every series the process records, registered once.
struct Metrics {
    registry: Mutex<Registry>,
    requests: Family<RequestLabels, Counter>,
    request_seconds: HistogramFamily<RouteLabels>,
    in_flight: Gauge,
    ingested: Counter,
    batch_size: Histogram,
    validation_failures: Family<RuleLabels, Counter>,
    tagging_seconds: Histogram,
    store_seconds: HistogramFamily<OperationLabels>,
    /// Families registered by other modules, by name.
    published: Mutex<HashMap<String, GaugeFamily>>,
}

static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);

impl Metrics {
    fn new() -> Self {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "lrsgate_http_requests",
            "HTTP requests answered, by route template, method and status",
            requests.clone(),
        );
        let request_seconds: HistogramFamily<RouteLabels> =
            Family::new_with_constructor(latency_histogram);
        registry.register_with_unit(
            "lrsgate_http_request_duration",
            "Time from a request's arrival to its answer's head, by route template and method",
            Unit::Seconds,
            request_seconds.clone(),
        );
        let in_flight = Gauge::default();
        registry.register(
            "lrsgate_http_requests_in_flight",
            "HTTP requests being served now",
            in_flight.clone(),
        );
        let ingested = Counter::default();
        registry.register(
            "lrsgate_statements_ingested",
            "Statements stored through the ingest pipeline",
            ingested.clone(),
        );
        let batch_size = Histogram::new(BATCH_BUCKETS);
        registry.register(
            "lrsgate_ingest_batch_size",
            "Statements per stored batch (one PUT or POST, or one connector batch)",
            batch_size.clone(),
        );
        let validation_failures = Family::<RuleLabels, Counter>::default();
        registry.register(
            "lrsgate_validation_failures",
            "Batches refused by validation, by the rule the first violation broke",
            validation_failures.clone(),
        );
        let tagging_seconds = latency_histogram();
        registry.register_with_unit(
            "lrsgate_tagging_duration",
            "Time spent tagging one batch of statements with competencies",
            Unit::Seconds,
            tagging_seconds.clone(),
        );
        let store_seconds: HistogramFamily<OperationLabels> =
            Family::new_with_constructor(latency_histogram);
        registry.register_with_unit(
            "lrsgate_store_operation_duration",
            "Time a store operation took, by operation",
            Unit::Seconds,
            store_seconds.clone(),
        );
        Metrics {
            registry: Mutex::new(registry),
            requests,
            request_seconds,
            in_flight,
            ingested,
            batch_size,
            validation_failures,
            tagging_seconds,
            store_seconds,
            published: Mutex::new(HashMap::new()),
        }
    }
}

/// A standard method's name as a static label; `OTHER` for an extension method.
pub fn method_label(method: &str) -> &'static str {
    const KNOWN: [&str; 9] = [
        "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE",
    ];
    KNOWN.into_iter().find(|m| *m == method).unwrap_or("OTHER")
}

/// A request being served: counted in flight until it is [`finish`](Self::finish)ed or
/// dropped (a dropped request, e.g. a client that went away, is counted in flight only).
pub struct RequestTimer {
    started: Instant,
    method: &'static str,
}

impl RequestTimer {
    pub fn start(method: &'static str) -> Self {
        METRICS.in_flight.inc();
        RequestTimer {
            started: Instant::now(),
            method,
        }
    }

    /// Records the answer: `route` is the route template that matched (`unmatched` when
    /// none did).
    pub fn finish(self, route: &'static str, status: u16) {
        let seconds = self.started.elapsed().as_secs_f64();
        let m = &*METRICS;
        m.requests
            .get_or_create(&RequestLabels {
                route,
                method: self.method,
                status,
            })
            .inc();
        m.request_seconds
            .get_or_create(&RouteLabels {
                route,
                method: self.method,
            })
            .observe(seconds);
    }
}

impl Drop for RequestTimer {
    fn drop(&mut self) {
        METRICS.in_flight.dec();
    }
}

/// A batch of `statements` was stored.
pub fn statements_ingested(statements: usize) {
    METRICS.ingested.inc_by(statements as u64);
    METRICS.batch_size.observe(statements as f64);
}

/// A batch was refused because a statement broke `rule`.
pub fn validation_failed(rule: &'static str) {
    METRICS
        .validation_failures
        .get_or_create(&RuleLabels { rule })
        .inc();
}

/// Tagging one batch took `elapsed`.
pub fn tagging_took(elapsed: Duration) {
    METRICS.tagging_seconds.observe(elapsed.as_secs_f64());
}

/// A store `operation` (e.g. `insert_statements`) took `elapsed`.
pub fn store_operation_took(operation: &'static str, elapsed: Duration) {
    METRICS
        .store_seconds
        .get_or_create(&OperationLabels { operation })
        .observe(elapsed.as_secs_f64());
}

/// The gauge family called `name` (a full metric name, e.g. `lrsgate_connector_up`),
/// registered with `help` on first call; later calls with the same name return the same
/// family, so a component restarted in one process keeps one series. Set a value with
/// `family.get_or_create(&vec![("connector".into(), "linkedin".into())]).set(1)`.
///
/// This is how components that come and go (connectors, forwarders) publish their
/// status: pick a name under `lrsgate_`, a help text saying what the value means, and
/// labels naming the instance.
pub fn gauge_family(name: &str, help: &str) -> GaugeFamily {
    let m = &*METRICS;
    let mut published = m
        .published
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(family) = published.get(name) {
        return family.clone();
    }
    let family = GaugeFamily::default();
    m.registry
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .register(name, help, family.clone());
    published.insert(name.to_owned(), family.clone());
    family
}

/// One scrape's text: the process's registry, then the values read at scrape time from
/// the server being scraped (see [`Scrape::gauge`]), then the end marker.
pub struct Scrape {
    registry: Registry,
}

impl Default for Scrape {
    fn default() -> Self {
        Self::new()
    }
}

impl Scrape {
    /// A scrape with the process's resident memory and start time already read.
    pub fn new() -> Self {
        let mut registry = Registry::default();
        if let Some(bytes) = resident_bytes() {
            let rss = Gauge::<i64, AtomicI64>::default();
            rss.set(i64::try_from(bytes).unwrap_or(i64::MAX));
            registry.register_with_unit(
                "process_resident_memory",
                "Resident memory size of the process",
                Unit::Bytes,
                rss,
            );
        }
        let start = Gauge::<f64, AtomicU64>::default();
        start.set(process_start());
        registry.register_with_unit(
            "process_start_time",
            "Start time of the process since the Unix epoch",
            Unit::Seconds,
            start,
        );
        Scrape { registry }
    }

    /// Adds a value read now (`name` in full, e.g. `lrsgate_evidence_journal_lag_seconds`).
    pub fn gauge(&mut self, name: &str, help: &str, value: f64) {
        let gauge = Gauge::<f64, AtomicU64>::default();
        gauge.set(value);
        self.registry.register(name, help, gauge);
    }

    /// Adds a count read now (`name` in full, e.g. `lrsgate_store_writer_queue_depth`).
    pub fn count(&mut self, name: &str, help: &str, value: u64) {
        let gauge = Gauge::<i64, AtomicI64>::default();
        gauge.set(i64::try_from(value).unwrap_or(i64::MAX));
        self.registry.register(name, help, gauge);
    }

    /// The exposition text.
    pub fn finish(self) -> String {
        let mut out = String::with_capacity(16 * 1024);
        let written = {
            let registry = METRICS
                .registry
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            encode_registry(&mut out, &registry)
        }
        .and_then(|()| encode_registry(&mut out, &self.registry))
        .and_then(|()| encode_eof(&mut out));
        if let Err(e) = written {
            // Writing to a String does not fail; say so in the text if it ever does.
            let _ = writeln!(out, "# encoding failed: {e}");
        }
        out
    }
}

/// Unix seconds when the process started (when metrics were first touched, which is
/// during start-up).
fn process_start() -> f64 {
    static START: OnceLock<f64> = OnceLock::new();
    *START.get_or_init(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or_default()
    })
}

/// Touches the registry so the start time and every series' help exist from start-up.
pub fn init() {
    LazyLock::force(&METRICS);
    process_start();
}

/// The process's resident set size: resident pages from `/proc/self/statm` times the page
/// size the kernel gave the process (`AT_PAGESZ` in `/proc/self/auxv`). `None` where
/// there is no `/proc` (not Linux).
pub fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * page_size())
}

fn page_size() -> u64 {
    static PAGE: OnceLock<u64> = OnceLock::new();
    *PAGE.get_or_init(|| auxv_page_size().unwrap_or(4096))
}

/// The auxiliary vector is a list of (type, value) machine words; type 6 is `AT_PAGESZ`.
fn auxv_page_size() -> Option<u64> {
    const AT_PAGESZ: u64 = 6;
    const WORD: usize = std::mem::size_of::<usize>();
    let auxv = std::fs::read("/proc/self/auxv").ok()?;
    let word = |b: &[u8]| -> Option<u64> {
        let bytes: [u8; WORD] = b.try_into().ok()?;
        u64::try_from(usize::from_ne_bytes(bytes)).ok()
    };
    auxv.chunks_exact(2 * WORD)
        .filter_map(|pair| Some((word(&pair[..WORD])?, word(&pair[WORD..])?)))
        .find(|(kind, _)| *kind == AT_PAGESZ)
        .map(|(_, size)| size)
        .filter(|size| size.is_power_of_two())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_page_size_comes_from_the_auxiliary_vector() {
        // Linux gives every process AT_PAGESZ; 4 KiB to 64 KiB on the platforms we build.
        let size = auxv_page_size().unwrap();
        assert!((4096..=65536).contains(&size), "{size}");
        let rss = resident_bytes().unwrap();
        assert!(rss > 1024 * 1024, "{rss}");
    }

    #[test]
    fn a_published_family_is_registered_once_and_scraped() {
        let a = gauge_family(
            "lrsgate_test_component_up",
            "Whether the test component runs",
        );
        let b = gauge_family(
            "lrsgate_test_component_up",
            "Whether the test component runs",
        );
        a.get_or_create(&vec![("component".into(), "one".into())])
            .set(1);
        b.get_or_create(&vec![("component".into(), "two".into())])
            .set(0);
        let text = Scrape::new().finish();
        assert_eq!(
            text.matches("# TYPE lrsgate_test_component_up gauge")
                .count(),
            1
        );
        assert!(text.contains("lrsgate_test_component_up{component=\"one\"} 1\n"));
        assert!(text.contains("lrsgate_test_component_up{component=\"two\"} 0\n"));
        assert!(text.ends_with("# EOF\n"));
    }

    #[test]
    fn methods_are_static_labels() {
        assert_eq!(method_label("GET"), "GET");
        assert_eq!(method_label("PROPFIND"), "OTHER");
    }
}
