//! `/metrics` in the Prometheus text format: requests and their latency by route template, method
//! and status, errors by code, disputes by status and the outbox's depth. A small registry of our own: a handful
//! of series, no exporter to run.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use disputes_domain::Status;
use disputes_ports::{OperationsStats, Sink};

use crate::shared::codes::{self, Code};

/// The latency buckets, in seconds: from a cached read to a request that nearly timed out.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// The route label of a request that matched no route: raw paths would make a series per id.
const UNMATCHED: &str = "unmatched";

/// The counters, and where the store's counts come from.
#[derive(Debug)]
pub(super) struct Metrics {
    requests: Mutex<BTreeMap<Labels, Series>>,
    /// Error answers by code: the codes are the contracts' registries, so the series are few.
    errors: Mutex<BTreeMap<&'static str, u64>>,
    stats: Option<Arc<dyn OperationsStats>>,
}

/// Codes reported even before they first occur, so that an alert on an increase has a series
/// to start from.
const ALWAYS_REPORTED: [Code; 2] = [codes::INTEGRITY_VIOLATION, codes::INTERNAL_ERROR];

/// One series' labels: the route template, the method and the status code.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Labels {
    route: String,
    method: &'static str,
    status: u16,
}

/// The requests of one label set and their latency histogram.
#[derive(Debug, Default)]
struct Series {
    count: u64,
    /// Cumulative counts per [`BUCKETS`] bound.
    buckets: [u64; BUCKETS.len()],
    seconds: f64,
}

impl Metrics {
    pub(super) fn new(stats: Option<Arc<dyn OperationsStats>>) -> Metrics {
        let errors = ALWAYS_REPORTED.iter().map(|code| (code.name, 0)).collect();
        Metrics {
            requests: Mutex::new(BTreeMap::new()),
            errors: Mutex::new(errors),
            stats,
        }
    }

    fn observe(&self, labels: Labels, seconds: f64) {
        // A poisoned lock only means a panic elsewhere while counting; the counts still hold.
        let mut requests = self
            .requests
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let series = requests.entry(labels).or_default();
        series.count += 1;
        series.seconds += seconds;
        for (bound, count) in BUCKETS.iter().zip(series.buckets.iter_mut()) {
            if seconds <= *bound {
                *count += 1;
            }
        }
    }

    fn count_error(&self, code: Code) {
        let mut errors = self
            .errors
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *errors.entry(code.name).or_default() += 1;
    }

    /// The error counts in the text format.
    fn render_errors(&self, out: &mut String) {
        let errors = self
            .errors
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        out.push_str(
            "# HELP disputes_errors_total Error answers by code, in every contract; integrity_violation means a stored dispute failed verification.\n\
             # TYPE disputes_errors_total counter\n",
        );
        for (code, n) in errors.iter() {
            let _ = writeln!(out, "disputes_errors_total{{code=\"{code}\"}} {n}");
        }
    }

    /// The request series in the text format.
    fn render_requests(&self, out: &mut String) {
        let requests = self
            .requests
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        out.push_str(
            "# HELP disputes_http_requests_total HTTP requests answered, by route template, method and status.\n\
             # TYPE disputes_http_requests_total counter\n",
        );
        for (labels, series) in requests.iter() {
            let _ = writeln!(
                out,
                "disputes_http_requests_total{{{}}} {}",
                labels.render(),
                series.count
            );
        }
        out.push_str(
            "# HELP disputes_http_request_duration_seconds Time to answer, by route template, method and status.\n\
             # TYPE disputes_http_request_duration_seconds histogram\n",
        );
        for (labels, series) in requests.iter() {
            let labels = labels.render();
            for (bound, count) in BUCKETS.iter().zip(series.buckets) {
                let _ = writeln!(
                    out,
                    "disputes_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {count}"
                );
            }
            let _ = writeln!(
                out,
                "disputes_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}\n\
                 disputes_http_request_duration_seconds_sum{{{labels}}} {}\n\
                 disputes_http_request_duration_seconds_count{{{labels}}} {}",
                series.count, series.seconds, series.count
            );
        }
    }

    /// The store's counts, read now. A store that does not answer is reported as down, and the
    /// rest of the page is still served.
    async fn render_store(&self, out: &mut String) {
        let Some(stats) = &self.stats else {
            return;
        };
        let by_status = stats.disputes_by_status().await;
        let depth = stats.outbox_depth(Utc::now()).await;
        let dead_letters = stats.dead_letters_by_sink().await;
        let up = by_status.is_ok() && depth.is_ok() && dead_letters.is_ok();
        out.push_str(
            "# HELP disputes_store_up Whether the store answered the counts below (1) or not (0).\n\
             # TYPE disputes_store_up gauge\n",
        );
        let _ = writeln!(out, "disputes_store_up {}", u8::from(up));
        match by_status {
            Ok(counts) => {
                out.push_str(
                    "# HELP disputes_disputes Disputes in each status, across tenants.\n\
                     # TYPE disputes_disputes gauge\n",
                );
                for status in Status::ALL {
                    let n = counts
                        .iter()
                        .find(|(s, _)| s == status)
                        .map_or(0, |(_, n)| *n);
                    let _ = writeln!(out, "disputes_disputes{{status=\"{status}\"}} {n}");
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot count disputes for /metrics"),
        }
        match depth {
            Ok(depth) => {
                let _ = write!(
                    out,
                    "# HELP disputes_outbox_pending_jobs Notification jobs not delivered yet.\n\
                     # TYPE disputes_outbox_pending_jobs gauge\n\
                     disputes_outbox_pending_jobs {}\n\
                     # HELP disputes_outbox_due_jobs Undelivered notification jobs that are due now.\n\
                     # TYPE disputes_outbox_due_jobs gauge\n\
                     disputes_outbox_due_jobs {}\n",
                    depth.pending, depth.due
                );
            }
            Err(e) => tracing::warn!(error = %e, "cannot measure the outbox for /metrics"),
        }
        match dead_letters {
            Ok(counts) => {
                out.push_str(
                    "# HELP disputes_outbox_dead_lettered_jobs Notification jobs given up on (a permanent refusal, or every attempt failed), by sink; `disputes outbox retry` replays them.\n\
                     # TYPE disputes_outbox_dead_lettered_jobs gauge\n",
                );
                // Every sink, zeros too, so an alert on an increase has a series to start from.
                for sink in Sink::ALL {
                    let n = counts
                        .iter()
                        .find(|(s, _)| s == sink)
                        .map_or(0, |(_, n)| *n);
                    let _ = writeln!(
                        out,
                        "disputes_outbox_dead_lettered_jobs{{sink=\"{sink}\"}} {n}"
                    );
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot count dead letters for /metrics"),
        }
    }
}

impl Labels {
    fn render(&self) -> String {
        format!(
            "route=\"{}\",method=\"{}\",status=\"{}\"",
            escape(&self.route),
            self.method,
            self.status
        )
    }
}

/// A label value as the text format wants it: backslash, quote and newline escaped.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The method as a label: the standard ones by name, anything a client invents as `other`, so
/// no client can add series at will.
fn method_label(method: &Method) -> &'static str {
    const KNOWN: [Method; 9] = [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::HEAD,
        Method::OPTIONS,
        Method::TRACE,
        Method::CONNECT,
    ];
    KNOWN
        .iter()
        .find(|known| *known == method)
        .map_or("other", Method::as_str)
}

/// Counts the request under its route template once it is answered.
pub(super) async fn record(
    State(metrics): State<Arc<Metrics>>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or(UNMATCHED, MatchedPath::as_str)
        .to_owned();
    let method = method_label(request.method());
    let response = next.run(request).await;
    let labels = Labels {
        route,
        method,
        status: response.status().as_u16(),
    };
    metrics.observe(labels, started.elapsed().as_secs_f64());
    // A contract's error answer carries its code (`Problem::annotate`).
    if let Some(code) = response.extensions().get::<Code>() {
        metrics.count_error(*code);
    }
    response
}

/// `GET /metrics`.
pub(super) async fn serve(State(metrics): State<Arc<Metrics>>) -> Response {
    let mut out = String::new();
    metrics.render_requests(&mut out);
    metrics.render_errors(&mut out);
    metrics.render_store(&mut out).await;
    let mut response = out.into_response();
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use disputes_ports::{MockOperationsStats, OutboxDepth, StoreError};

    #[tokio::test]
    async fn counts_and_histograms_by_route_method_and_status() {
        let mut stats = MockOperationsStats::new();
        stats
            .expect_disputes_by_status()
            .returning(|| Ok(vec![(Status::Open, 2), (Status::Resolved, 1)]));
        stats
            .expect_outbox_depth()
            .returning(|_| Ok(OutboxDepth { pending: 5, due: 3 }));
        stats
            .expect_dead_letters_by_sink()
            .returning(|| Ok(vec![(Sink::Webhook, 2)]));
        let metrics = Metrics::new(Some(Arc::new(stats)));
        let labels = Labels {
            route: "/v1/disputes/{id}".to_owned(),
            method: "GET",
            status: 200,
        };
        metrics.observe(labels.clone(), 0.003);
        metrics.observe(labels, 0.2);
        let mut out = String::new();
        metrics.render_requests(&mut out);
        metrics.render_store(&mut out).await;
        let series = r#"route="/v1/disputes/{id}",method="GET",status="200""#;
        for line in [
            format!("disputes_http_requests_total{{{series}}} 2"),
            format!("disputes_http_request_duration_seconds_bucket{{{series},le=\"0.0025\"}} 0"),
            format!("disputes_http_request_duration_seconds_bucket{{{series},le=\"0.005\"}} 1"),
            format!("disputes_http_request_duration_seconds_bucket{{{series},le=\"0.25\"}} 2"),
            format!("disputes_http_request_duration_seconds_bucket{{{series},le=\"+Inf\"}} 2"),
            format!("disputes_http_request_duration_seconds_count{{{series}}} 2"),
            "disputes_store_up 1".to_owned(),
            "disputes_disputes{status=\"open\"} 2".to_owned(),
            "disputes_disputes{status=\"resolved\"} 1".to_owned(),
            "disputes_disputes{status=\"withdrawn\"} 0".to_owned(),
            "disputes_outbox_pending_jobs 5".to_owned(),
            "disputes_outbox_due_jobs 3".to_owned(),
            "disputes_outbox_dead_lettered_jobs{sink=\"webhook\"} 2".to_owned(),
            "disputes_outbox_dead_lettered_jobs{sink=\"email\"} 0".to_owned(),
        ] {
            assert!(out.lines().any(|l| l == line), "no {line} in\n{out}");
        }
    }

    #[tokio::test]
    async fn a_store_that_does_not_answer_is_reported_down() {
        let mut stats = MockOperationsStats::new();
        stats
            .expect_disputes_by_status()
            .returning(|| Err(StoreError::Unavailable("down".to_owned())));
        stats
            .expect_outbox_depth()
            .returning(|_| Err(StoreError::Unavailable("down".to_owned())));
        stats
            .expect_dead_letters_by_sink()
            .returning(|| Err(StoreError::Unavailable("down".to_owned())));
        let metrics = Metrics::new(Some(Arc::new(stats)));
        let mut out = String::new();
        metrics.render_store(&mut out).await;
        assert!(out.lines().any(|l| l == "disputes_store_up 0"), "{out}");
        assert!(!out.contains("disputes_disputes{"), "{out}");
    }

    #[test]
    fn invented_methods_share_one_label() {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(
            method_label(&Method::from_bytes(b"BREW").expect("a method")),
            "other"
        );
        assert_eq!(escape(r#"a"b\c"#), r#"a\"b\\c"#);
    }
}
