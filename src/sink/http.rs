//! HTTP: `/metrics` (Prometheus text), `/healthz`, `/readyz`, and the live
//! scorecard pages `/scorecard` and `/scorecard/{unit}`.

use crate::live::Shared;
use crate::report;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::fmt::Write as _;
use std::sync::atomic::Ordering;

/// The router over the shared engine and telemetry.
pub fn router(shared: Shared) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(ready))
        .route("/scorecard", get(scorecard_default))
        .route("/scorecard/:unit", get(scorecard_unit))
        .with_state(shared)
}

/// Serves the router on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    shared: Shared,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(shared))
        .with_graceful_shutdown(shutdown)
        .await
}

async fn metrics(State(shared): State<Shared>) -> Response {
    let text = shared.telemetry.render();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

async fn ready(State(shared): State<Shared>) -> Response {
    if shared.ready.load(Ordering::SeqCst) {
        (StatusCode::OK, "ready\n").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready\n").into_response()
    }
}

async fn scorecard_default(State(shared): State<Shared>) -> Response {
    let root = {
        let engine = shared
            .engine
            .lock()
            .expect("the engine lock is never poisoned");
        let config = engine.config();
        config.unit(config.root_of(config.default_la)).id.clone()
    };
    render(shared, root).await
}

async fn scorecard_unit(State(shared): State<Shared>, Path(unit): Path<String>) -> Response {
    render(shared, unit).await
}

async fn render(shared: Shared, unit_id: String) -> Response {
    let page = tokio::task::spawn_blocking(move || page(&shared, &unit_id)).await;
    match page {
        Ok(Some(html)) => Html(html).into_response(),
        Ok(None) => (StatusCode::NOT_FOUND, "no such unit\n").into_response(),
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "rendering failed\n").into_response(),
    }
}

/// The live scorecard page of a unit (as at the processor's current date),
/// with a unit picker; it refreshes itself every 30 seconds.
pub fn page(shared: &Shared, unit_id: &str) -> Option<String> {
    let engine = shared
        .engine
        .lock()
        .expect("the engine lock is never poisoned");
    let config = engine.config();
    let unit = config.unit_by_id(unit_id)?;
    let reader = engine.reader();
    let clock = engine.clock();
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"30\"><title>Scorecard - {name}</title><style>{style} nav a{{margin-right:.6em}} nav a.current{{font-weight:bold}}</style></head><body>\n",
        name = escape(&config.unit(unit).name),
        style = report::style()
    );
    out.push_str("<nav id=\"units\">");
    for (index, node) in config.units.iter().enumerate() {
        let class = if index as u32 == unit.0 {
            " class=\"current\""
        } else {
            ""
        };
        let indent = "&nbsp;&nbsp;".repeat(node.depth as usize);
        let _ = write!(
            out,
            "{indent}<a{class} href=\"/scorecard/{}\">{}</a>",
            escape(&node.id),
            escape(&node.name)
        );
    }
    out.push_str("</nav>\n");
    match clock.current() {
        None => {
            let _ = write!(
                out,
                "<h2>Scorecard - {}</h2><p>No events yet.</p>",
                escape(&config.unit(unit).name)
            );
        }
        Some(current) => {
            let rows = report::unit_rows_at(&reader, unit, current);
            let title = format!("Scorecard - {} - as at {current}", config.unit(unit).name);
            out.push_str(&report::unit_table_html(&reader, unit, &rows, &title));
        }
    }
    out.push_str("</body></html>\n");
    Some(out)
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
