//! HTTP: `/metrics` (Prometheus text), `/healthz`, `/readyz`, the live
//! scorecard pages `/scorecard` and `/scorecard/{unit}`, and their published
//! form (disclosure control, `docs/disclosure.md`) `/scorecard/published`
//! and `/scorecard/published/{unit}`.
//!
//! With tokens configured (`[[http.tokens]]`), `/metrics` needs a bearer
//! token with the `metrics` scope and the pages one with `read`; a request
//! without one, or with an unknown one, gets 401 and nothing else.
//! `/healthz` and `/readyz` stay open (they carry no data).

use crate::config::Scope;
use crate::report;
use crate::shared::{PageKey, Shared};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::fmt::Write as _;
use std::sync::atomic::Ordering;

/// What `/metrics`, `/healthz` and `/readyz` read: the telemetry,
/// readiness and the HTTP settings (tokens), with no engine, so that an
/// instance of a scaled-out deployment, whose engines are per partition,
/// serves them too.
#[derive(Clone)]
pub struct Status {
    /// Metrics.
    pub telemetry: std::sync::Arc<crate::telemetry::Telemetry>,
    /// What `/readyz` answers.
    pub ready: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// The HTTP settings (tokens, TLS).
    pub http: std::sync::Arc<crate::config::HttpSettings>,
}

impl axum::extract::FromRef<Shared> for Status {
    fn from_ref(shared: &Shared) -> Status {
        Status {
            telemetry: shared.telemetry.clone(),
            ready: shared.ready.clone(),
            http: shared.http.clone(),
        }
    }
}

/// `/metrics`, `/healthz` and `/readyz` alone.
pub fn status_router(status: Status) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(ready))
        .with_state(status)
}

/// The router over the shared engine and telemetry.
pub fn router(shared: Shared) -> Router {
    let status = <Status as axum::extract::FromRef<Shared>>::from_ref(&shared);
    Router::new()
        .route("/scorecard", get(scorecard_default))
        .route("/scorecard/:unit", get(scorecard_unit))
        .route("/scorecard/published", get(published_default))
        .route("/scorecard/published/:unit", get(published_unit))
        .with_state(shared)
        .merge(status_router(status))
}

/// Serves the router on `listener` until `shutdown` resolves: over HTTPS
/// when `[http]` names a certificate and key (read again on SIGHUP, so a
/// renewed certificate needs no restart), plain HTTP otherwise.
pub async fn serve(
    listener: tokio::net::TcpListener,
    shared: Shared,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let tls = shared.http.tls.clone();
    serve_router(listener, router(shared), tls, shutdown).await
}

/// Serves `/metrics`, `/healthz` and `/readyz` alone (see [`serve`]).
pub async fn serve_status(
    listener: tokio::net::TcpListener,
    status: Status,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let tls = status.http.tls.clone();
    serve_router(listener, status_router(status), tls, shutdown).await
}

async fn serve_router(
    listener: tokio::net::TcpListener,
    router: Router,
    tls: Option<crate::config::HttpTls>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let Some(tls) = tls else {
        return axum::serve(listener, router)
            .with_graceful_shutdown(shutdown)
            .await;
    };
    // One process-wide provider; a second install (tests) is harmless.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let config = axum_server::tls_rustls::RustlsConfig::from_pem_file(&tls.certificate, &tls.key)
        .await
        .map_err(|error| {
            std::io::Error::new(
                error.kind(),
                format!(
                    "http.tls_certificate {} / http.tls_key {}: {error}",
                    tls.certificate.display(),
                    tls.key.display()
                ),
            )
        })?;
    let handle = axum_server::Handle::new();
    let stopper = handle.clone();
    tokio::spawn(async move {
        shutdown.await;
        stopper.graceful_shutdown(Some(std::time::Duration::from_secs(5)));
    });
    let reloaded = config.clone();
    let reloader = tokio::spawn(async move {
        let Ok(mut hangup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        else {
            return;
        };
        while hangup.recv().await.is_some() {
            match reloaded
                .reload_from_pem_file(&tls.certificate, &tls.key)
                .await
            {
                Ok(()) => tracing::info!("reloaded the HTTPS certificate and key"),
                Err(error) => {
                    tracing::error!(%error, "could not reload the HTTPS certificate and key; keeping the old ones")
                }
            }
        }
    });
    let listener = listener.into_std()?;
    let served = axum_server::from_tcp_rustls(listener, config)
        .handle(handle)
        .serve(router.into_make_service())
        .await;
    reloader.abort();
    served
}

/// `None` when the request may read `scope`; otherwise the 401 to send.
fn refused(
    http: &crate::config::HttpSettings,
    headers: &HeaderMap,
    scope: Scope,
) -> Option<Response> {
    if !http.authenticates() {
        return None;
    }
    let allowed = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| {
            let (kind, token) = value.split_once(' ')?;
            kind.eq_ignore_ascii_case("bearer").then(|| token.trim())
        })
        .and_then(|token| http.scopes_of(token))
        .is_some_and(|scopes| scopes.contains(&scope));
    if allowed {
        None
    } else {
        Some(
            (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer realm=\"ragline\"")],
                "unauthorized\n",
            )
                .into_response(),
        )
    }
}

async fn metrics(State(status): State<Status>, headers: HeaderMap) -> Response {
    if let Some(refusal) = refused(&status.http, &headers, Scope::Metrics) {
        return refusal;
    }
    let text = status.telemetry.render();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

async fn ready(State(status): State<Status>) -> Response {
    if status.ready.load(Ordering::SeqCst) {
        (StatusCode::OK, "ready\n").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready\n").into_response()
    }
}

async fn scorecard_default(State(shared): State<Shared>, headers: HeaderMap) -> Response {
    page(shared, &headers, PageKey::exact(String::new())).await
}

async fn scorecard_unit(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path(unit): Path<String>,
) -> Response {
    page(shared, &headers, PageKey::exact(unit)).await
}

async fn published_default(State(shared): State<Shared>, headers: HeaderMap) -> Response {
    page(shared, &headers, PageKey::published(String::new())).await
}

async fn published_unit(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path(unit): Path<String>,
) -> Response {
    page(shared, &headers, PageKey::published(unit)).await
}

async fn page(shared: Shared, headers: &HeaderMap, key: PageKey) -> Response {
    match refused(&shared.http, headers, Scope::Read) {
        Some(refusal) => refusal,
        None => render(shared, key).await,
    }
}

/// Longest a page request waits for the engine before it is served the
/// page last rendered for its unit.
const PAGE_WAIT: std::time::Duration = std::time::Duration::from_millis(50);

/// What a page request gets.
enum Page {
    Html(String),
    NoSuchUnit,
    /// The published pages are not enabled (`[disclosure] outputs`).
    NotEnabled,
    /// The engine is busy and no page of this unit was rendered yet.
    Busy,
}

async fn render(shared: Shared, key: PageKey) -> Response {
    let page = tokio::task::spawn_blocking(move || current_page(&shared, &key)).await;
    match page {
        Ok(Page::Html(html)) => Html(html).into_response(),
        Ok(Page::NoSuchUnit) => (StatusCode::NOT_FOUND, "no such unit\n").into_response(),
        Ok(Page::NotEnabled) => (
            StatusCode::NOT_FOUND,
            "published pages are not enabled: add \"page\" to outputs under [disclosure]\n",
        )
            .into_response(),
        Ok(Page::Busy) => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, "1")],
            "busy: retry in a second\n",
        )
            .into_response(),
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "rendering failed\n").into_response(),
    }
}

/// The page of `key.unit` (the default authority's root when empty), exact
/// or published: rendered from the engine when it is free within
/// [`PAGE_WAIT`], else the page last rendered for that unit and form, so
/// that a slow batch never stalls a reader.
fn current_page(shared: &Shared, key: &PageKey) -> Page {
    let deadline = std::time::Instant::now() + PAGE_WAIT;
    loop {
        match shared.engine.try_lock() {
            Ok(engine) => {
                let config = engine.config();
                if key.published
                    && config
                        .disclosure
                        .check_enabled(crate::disclosure::Output::Page)
                        .is_err()
                {
                    return Page::NotEnabled;
                }
                let resolved = if key.unit.is_empty() {
                    config.unit(config.root_of(config.default_la)).id.clone()
                } else {
                    key.unit.clone()
                };
                return match page_of(&engine, &resolved, key.published) {
                    Some(html) => {
                        let mut pages = shared
                            .pages
                            .lock()
                            .unwrap_or_else(|poisoned| poisoned.into_inner());
                        // The default page is kept under "" as well.
                        pages.insert(key.clone(), html.clone());
                        pages.insert(
                            PageKey {
                                unit: resolved,
                                published: key.published,
                            },
                            html.clone(),
                        );
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
                    return pages.get(key).cloned().map_or(Page::Busy, Page::Html);
                }
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
        }
    }
}

/// The live scorecard page of a unit (as at the processor's current date),
/// exact or published, with a unit picker; it refreshes itself every 30
/// seconds. Each row's trend ends with its value as at the current date.
/// `None` when there is no such unit.
fn page_of(engine: &crate::pipeline::Engine, unit_id: &str, published: bool) -> Option<String> {
    let config = engine.config();
    let unit = config.unit_by_id(unit_id)?;
    let reader = engine.reader();
    let clock = engine.clock();
    let past = crate::history::Past::new(crate::history::Span::starting(clock.first_month));
    let span = past.span;
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"30\"><title>Scorecard - {name}</title><style>{style} nav a{{margin-right:.6em}} nav a.current{{font-weight:bold}}</style></head><body>\n",
        name = escape(&config.unit(unit).name),
        style = report::style()
    );
    let base = if published {
        "/scorecard/published"
    } else {
        "/scorecard"
    };
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
            "{indent}<a{class} href=\"{base}/{}\">{}</a>",
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
        Some(current) if published => {
            use crate::disclosure::{render, table::Publisher};
            let shelf = page_shelf(engine, unit);
            let title = format!(
                "Scorecard - {} - as at {current} (published)",
                config.unit(unit).name
            );
            let rows = Publisher::new(&reader, &config.disclosure).and_then(|mut publisher| {
                let rows = publisher.unit_rows_at(unit, current)?;
                let pasts = render::histories(&mut publisher, span, &rows)?;
                Ok((rows, pasts))
            });
            match rows {
                Ok((rows, pasts)) => {
                    out.push_str(&render::unit_table_html(
                        &reader, &shelf, unit, &rows, &pasts, &title,
                    ));
                    out.push_str(&render::legend_html(&config.disclosure));
                }
                // Never the exact figures in place of published ones.
                Err(error) => {
                    let _ = write!(
                        out,
                        "<h2>{}</h2><p>Not available: {}</p>",
                        escape(&title),
                        escape(&error.to_string())
                    );
                }
            }
        }
        Some(current) => {
            let rows = report::unit_rows_at(&reader, unit, current);
            let title = format!("Scorecard - {} - as at {current}", config.unit(unit).name);
            let shelf = page_shelf(engine, unit);
            out.push_str(&report::unit_table_html(
                &reader, &past, &shelf, unit, &rows, &title,
            ));
        }
    }
    out.push_str("</body></html>\n");
    Some(out)
}

/// The commentary a page shows on a unit's rows; unreadable commentary
/// leaves the figures shown without it.
fn page_shelf(
    engine: &crate::pipeline::Engine,
    unit: crate::config::UnitIdx,
) -> crate::pack::commentary::Shelf {
    crate::pack::commentary::Shelf::of_units(engine.store(), &[unit]).unwrap_or_else(|error| {
        tracing::warn!(%error, "the scorecard page shows no commentary");
        Default::default()
    })
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
        let Page::Html(first) = current_page(&shared, &PageKey::exact("north")) else {
            panic!("a page");
        };
        assert!(first.contains("North"));
        assert!(matches!(
            current_page(&shared, &PageKey::exact("atlantis")),
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
        let Page::Html(kept) = current_page(&shared, &PageKey::exact("north")) else {
            panic!("the kept page");
        };
        assert_eq!(kept, first);
        assert!(matches!(
            current_page(&shared, &PageKey::exact("south")),
            Page::Busy
        ));
        assert!(started.elapsed() < Duration::from_secs(2));
        release.0.send(()).unwrap();
        holder.join().unwrap();
        assert!(matches!(
            current_page(&shared, &PageKey::exact("south")),
            Page::Html(_)
        ));
    }

    fn engine_with_referrals(disclosure: &str) -> Engine {
        let base = crate::harness::config();
        let config = if disclosure.is_empty() {
            base
        } else {
            // The harness configuration with a [disclosure] section added.
            let mut file = String::new();
            file.push_str(disclosure);
            file.push('\n');
            file.push_str(&harness_text());
            std::sync::Arc::new(
                crate::config::Config::parse(&file, std::path::Path::new("pages.toml")).unwrap(),
            )
        };
        let mut engine = Engine::open_store(
            config,
            Store::in_memory(&MemoryDisk::new("published")),
            "published",
            Mode::Live,
        )
        .unwrap();
        // Seven open cases in n-cswt, two in s-cswt: north 7, south 2, la 9.
        let lines: Vec<String> = (0..9)
            .map(|child| {
                let unit = if child < 7 { "n-cswt" } else { "s-cswt" };
                format!(
                    r#"{{"event_id":"r{child}","type":"referral","child_id":"c{child}","date":"2017-03-01","unit":"{unit}"}}"#
                )
            })
            .collect();
        let outcome = engine
            .run_batch(&crate::event::RawMessage::file_lines("pages", lines), None)
            .unwrap();
        assert!(outcome.rejected.is_empty(), "{:?}", outcome.rejected);
        engine
    }

    fn harness_text() -> String {
        // The same units and indicators as crate::harness::config().
        let config = crate::harness::config();
        let mut text = String::from("[[authority]]\nid = \"la\"\nname = \"LA\"\nroot = \"la\"\n\n");
        for unit in &config.units {
            text.push_str(&format!(
                "[[unit]]\nid = \"{}\"\nname = \"{}\"\nkind = \"{}\"\n",
                unit.id, unit.name, unit.kind
            ));
            if let Some(parent) = unit.parent {
                text.push_str(&format!("parent = \"{}\"\n", config.unit(parent).id));
            }
            text.push('\n');
        }
        text.push_str("[[indicator]]\nid = \"SCS01\"\n\n[calendar]\nbank_holidays = []\n");
        text
    }

    fn scs01_cell(page: &str) -> String {
        let row = page
            .lines()
            .find(|line| line.starts_with("<tr data-indicator=\"SCS01\""))
            .expect("an SCS01 row");
        // The fourth cell: "Latest Result and RAG".
        let cell = row.split("<td").nth(4).unwrap();
        cell[cell.find('>').unwrap() + 1..cell.find("</td>").unwrap()].to_string()
    }

    #[test]
    fn the_published_page_withholds_small_counts_and_the_exact_one_does_not() {
        let shared = Shared::new(engine_with_referrals(""), true);
        let page = |key: PageKey| match current_page(&shared, &key) {
            Page::Html(html) => html,
            _ => panic!("a page for {key:?}"),
        };
        assert_eq!(scs01_cell(&page(PageKey::exact("s-cswt"))), "2");
        assert_eq!(scs01_cell(&page(PageKey::published("s-cswt"))), "c");
        // South (2) is small itself; la less north would give it away, so
        // north (7) goes, and then north's larger team, n-cswt (7), not
        // n-cic (0).
        assert_eq!(scs01_cell(&page(PageKey::published("south"))), "c");
        assert_eq!(scs01_cell(&page(PageKey::published("north"))), "c");
        assert_eq!(scs01_cell(&page(PageKey::published("n-cswt"))), "c");
        assert_eq!(scs01_cell(&page(PageKey::published("n-cic"))), "0");
        assert_eq!(scs01_cell(&page(PageKey::exact("north"))), "7");
        assert_eq!(scs01_cell(&page(PageKey::published("la"))), "9");
        let default = page(PageKey::published(""));
        assert_eq!(scs01_cell(&default), "9");
        assert!(default.contains("href=\"/scorecard/published/north\""));
        assert!(default.contains("<b>c</b> confidential"));
        // Kept separately: the exact page of a unit is never served for the published one.
        let pages = shared.pages.lock().unwrap();
        assert_eq!(scs01_cell(&pages[&PageKey::published("n-cswt")]), "c");
    }

    /// Commentary on March 2017 (the current month) shows beneath the
    /// table of its unit, exact and published; February's does not.
    #[test]
    fn the_live_pages_show_the_commentary_of_the_current_month() {
        let mut engine = engine_with_referrals("");
        let lines = vec![
            r#"{"event_id":"k1","type":"commentary","date":"2017-03-02","unit":"north","indicator":"SCS01","month":"2017-03","text":"Seven open in March.","author":"Team Manager"}"#.to_string(),
            r#"{"event_id":"k2","type":"commentary","date":"2017-03-02","unit":"north","indicator":"SCS01","month":"2017-02","text":"About February.","author":"Analyst"}"#.to_string(),
        ];
        let outcome = engine
            .run_batch(&crate::event::RawMessage::file_lines("pages", lines), None)
            .unwrap();
        assert!(outcome.rejected.is_empty(), "{:?}", outcome.rejected);
        let shared = Shared::new(engine, true);
        let page = |key: PageKey| match current_page(&shared, &key) {
            Page::Html(html) => html,
            _ => panic!("a page for {key:?}"),
        };
        for key in [PageKey::exact("north"), PageKey::published("north")] {
            let html = page(key);
            assert!(html.contains("<div class=\"commentary-row\" data-indicator=\"SCS01\">"));
            assert!(html.contains("<p class=\"commentary\">Seven open in March.</p>\n<p class=\"commentary-author\">&mdash; Team Manager, 2017-03-02</p>"));
            assert!(!html.contains("About February."));
        }
        assert!(!page(PageKey::exact("south")).contains("class=\"commentary"));
    }

    #[test]
    fn published_pages_can_be_switched_off() {
        let engine = engine_with_referrals("[disclosure]\noutputs = [\"report\"]\n");
        let shared = Shared::new(engine, true);
        assert!(matches!(
            current_page(&shared, &PageKey::published("la")),
            Page::NotEnabled
        ));
        assert!(matches!(
            current_page(&shared, &PageKey::exact("la")),
            Page::Html(_)
        ));
    }
}
