//! HTTP: `/metrics` (Prometheus text), `/healthz`, `/readyz`, and the live
//! scorecard pages `/scorecard` and `/scorecard/{unit}`.

use crate::report;
use crate::shared::Shared;
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
    render(shared, String::new()).await
}

async fn scorecard_unit(State(shared): State<Shared>, Path(unit): Path<String>) -> Response {
    render(shared, unit).await
}

/// Longest a page request waits for the engine before it is served the
/// page last rendered for its unit.
const PAGE_WAIT: std::time::Duration = std::time::Duration::from_millis(50);

/// What a page request gets.
enum Page {
    Html(String),
    NoSuchUnit,
    /// The engine is busy and no page of this unit was rendered yet.
    Busy,
}

async fn render(shared: Shared, unit_id: String) -> Response {
    let page = tokio::task::spawn_blocking(move || current_page(&shared, &unit_id)).await;
    match page {
        Ok(Page::Html(html)) => Html(html).into_response(),
        Ok(Page::NoSuchUnit) => (StatusCode::NOT_FOUND, "no such unit\n").into_response(),
        Ok(Page::Busy) => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, "1")],
            "busy: retry in a second\n",
        )
            .into_response(),
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "rendering failed\n").into_response(),
    }
}

/// The page of `unit_id` (the default authority's root when empty): rendered
/// from the engine when it is free within [`PAGE_WAIT`], else the page last
/// rendered for that unit, so that a slow batch never stalls a reader.
fn current_page(shared: &Shared, unit_id: &str) -> Page {
    let deadline = std::time::Instant::now() + PAGE_WAIT;
    loop {
        match shared.engine.try_lock() {
            Ok(engine) => {
                let config = engine.config();
                let resolved = if unit_id.is_empty() {
                    config.unit(config.root_of(config.default_la)).id.clone()
                } else {
                    unit_id.to_string()
                };
                return match page_of(&engine, &resolved) {
                    Some(html) => {
                        let mut pages = shared
                            .pages
                            .lock()
                            .unwrap_or_else(|poisoned| poisoned.into_inner());
                        // The default page is kept under "" as well.
                        pages.insert(unit_id.to_string(), html.clone());
                        pages.insert(resolved, html.clone());
                        Page::Html(html)
                    }
                    None => Page::NoSuchUnit,
                };
            }
            Err(std::sync::TryLockError::Poisoned(_)) => return Page::Busy,
            Err(std::sync::TryLockError::WouldBlock) => {
                if std::time::Instant::now() >= deadline {
                    let pages = shared
                        .pages
                        .lock()
                        .unwrap_or_else(|poisoned| poisoned.into_inner());
                    return pages.get(unit_id).cloned().map_or(Page::Busy, Page::Html);
                }
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
        }
    }
}

/// The live scorecard page of a unit (as at the processor's current date),
/// with a unit picker; it refreshes itself every 30 seconds.
fn page_of(engine: &crate::pipeline::Engine, unit_id: &str) -> Option<String> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::{Engine, Mode};
    use crate::store::{MemoryDisk, Store};
    use std::sync::mpsc;
    use std::time::{Duration, Instant};

    #[test]
    fn a_busy_engine_never_stalls_a_page_request() {
        let engine = Engine::open_store(
            crate::harness::config(),
            Store::in_memory(&MemoryDisk::new("pages")),
            "pages",
            Mode::Live,
        )
        .unwrap();
        let shared = Shared::new(engine, true);
        // Free: rendered from the engine (and kept).
        let Page::Html(first) = current_page(&shared, "north") else {
            panic!("a page");
        };
        assert!(first.contains("North"));
        assert!(matches!(
            current_page(&shared, "atlantis"),
            Page::NoSuchUnit
        ));
        // A batch holds the engine: the kept page comes back at once, and a
        // unit never rendered gets "busy" instead of a wait.
        let (locked, release) = (mpsc::channel(), mpsc::channel::<()>());
        let holder = {
            let shared = shared.clone();
            let locked = locked.0;
            let release = release.1;
            std::thread::spawn(move || {
                let _guard = shared.engine.lock().unwrap();
                locked.send(()).unwrap();
                release.recv().unwrap();
            })
        };
        locked.1.recv().unwrap();
        let started = Instant::now();
        let Page::Html(kept) = current_page(&shared, "north") else {
            panic!("the kept page");
        };
        assert_eq!(kept, first);
        assert!(matches!(current_page(&shared, "south"), Page::Busy));
        assert!(started.elapsed() < Duration::from_secs(2));
        release.0.send(()).unwrap();
        holder.join().unwrap();
        assert!(matches!(current_page(&shared, "south"), Page::Html(_)));
    }
}
