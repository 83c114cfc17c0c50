//! The HTTP server's bearer tokens: with tokens configured, `/metrics`
//! needs the `metrics` scope and every scorecard page the `read` scope; a
//! request without a token, with an unknown one, with the wrong scope or
//! another scheme gets 401 and nothing else; `/healthz` and `/readyz` stay
//! open. Without tokens, a listen address other machines can reach is
//! refused by the configuration.

use ragline::config::{Config, HttpSettings, HttpTls, HttpToken, Scope};
use ragline::pipeline::{Engine, Mode};
use ragline::shared::Shared;
use ragline::store::{MemoryDisk, Store};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

#[path = "common/tools.rs"]
mod tools;

const METRICS_TOKEN: &str = "metrics-token-0123456789abcdef";
const READ_TOKEN: &str = "read-token-0123456789abcdef";

/// SHA-256 of a token by coreutils, independent of ragline's.
fn sha256sum(text: &str) -> String {
    tools::sha256sum(text.as_bytes())
}

/// Serves a small engine with the given tokens on 127.0.0.1; returns the
/// address and a handle that stops the server when dropped.
struct Server {
    address: std::net::SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(tokens: Vec<HttpToken>) -> Server {
    serve_with(tokens, None)
}

fn serve_with(tokens: Vec<HttpToken>, tls: Option<HttpTls>) -> Server {
    let engine = Engine::open_store(
        ragline::harness::config(),
        Store::in_memory(&MemoryDisk::new("http")),
        "http",
        Mode::Live,
    )
    .unwrap();
    let mut shared = Shared::new(engine, true);
    shared.http = Arc::new(HttpSettings {
        listen: "127.0.0.1:0".into(),
        tokens,
        allow_unauthenticated: false,
        tls,
    });
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            ragline::sink::http::serve(listener, shared, async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
        });
    });
    Server {
        address,
        stop: Some(stop),
        thread: Some(thread),
    }
}

/// Status code and body of a GET with an optional Authorization header.
fn get(address: std::net::SocketAddr, path: &str, authorization: Option<&str>) -> (u16, String) {
    let mut stream = TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n");
    if let Some(value) = authorization {
        request.push_str(&format!("Authorization: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response[9..12].parse().unwrap();
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
        .unwrap_or_default();
    (status, body)
}

fn tokens() -> Vec<HttpToken> {
    vec![
        HttpToken {
            name: "prometheus".into(),
            sha256: sha256sum(METRICS_TOKEN),
            scopes: vec![Scope::Metrics],
        },
        HttpToken {
            name: "dashboard".into(),
            sha256: sha256sum(READ_TOKEN),
            scopes: vec![Scope::Read],
        },
    ]
}

#[test]
fn every_protected_route_refuses_missing_wrong_and_out_of_scope_tokens() {
    let server = serve(tokens());
    let metrics_bearer = format!("Bearer {METRICS_TOKEN}");
    let read_bearer = format!("Bearer {READ_TOKEN}");
    let refused: [Option<&str>; 4] = [
        None,
        Some("Bearer not-a-configured-token-at-all"),
        Some("Basic cmVhZC10b2tlbg=="),
        Some(""),
    ];
    let pages = [
        "/scorecard",
        "/scorecard/north",
        "/scorecard/published",
        "/scorecard/published/north",
    ];
    for path in std::iter::once("/metrics").chain(pages) {
        for authorization in refused {
            let (status, body) = get(server.address, path, authorization);
            assert_eq!(status, 401, "{path} {authorization:?}");
            assert_eq!(body.trim_end(), "unauthorized", "nothing else: {path}");
        }
    }
    // Each token is refused outside its scope.
    let (status, _) = get(server.address, "/metrics", Some(&read_bearer));
    assert_eq!(status, 401);
    for path in pages {
        let (status, _) = get(server.address, path, Some(&metrics_bearer));
        assert_eq!(status, 401, "{path}");
    }
    // And served inside it (the scheme's case does not matter).
    let (status, body) = get(server.address, "/metrics", Some(&metrics_bearer));
    assert_eq!(status, 200);
    assert!(body.contains("ragline_"), "{body}");
    let lower = format!("bearer {METRICS_TOKEN}");
    assert_eq!(get(server.address, "/metrics", Some(&lower)).0, 200);
    for path in pages {
        let (status, body) = get(server.address, path, Some(&read_bearer));
        assert_eq!(status, 200, "{path}");
        assert!(body.contains("North") || body.contains("LA"), "{path}");
    }
    // Probes stay open.
    assert_eq!(get(server.address, "/healthz", None).0, 200);
    assert_eq!(get(server.address, "/readyz", None).0, 200);
}

#[test]
fn without_tokens_every_route_is_open_on_loopback() {
    let server = serve(Vec::new());
    for path in ["/metrics", "/scorecard", "/scorecard/published", "/healthz"] {
        assert_eq!(get(server.address, path, None).0, 200, "{path}");
    }
}

fn kent_with_http(http: &str) -> Result<Config, String> {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config/kent.toml")).unwrap();
    let text = text.replace("[http]\nlisten = \"127.0.0.1:9464\"\n", http);
    assert!(text.contains(http), "kent.toml keeps its [http] section");
    Config::parse(&text, Path::new("kent.toml")).map_err(|error| error.to_string())
}

#[test]
fn tokens_are_configured_by_hash_and_reachable_listeners_need_them() {
    let hash = sha256sum(READ_TOKEN);
    let config = kent_with_http(&format!(
        "[http]\nlisten = \"0.0.0.0:9464\"\n[[http.tokens]]\nname = \"dashboard\"\nscopes = [\"read\"]\nsha256 = \"{}\"\n",
        hash.to_uppercase()
    ))
    .unwrap();
    assert_eq!(config.http.tokens[0].sha256, hash, "hex is case-blind");
    assert_eq!(config.http.scopes_of(READ_TOKEN), Some(&[Scope::Read][..]));
    assert_eq!(
        config.http.scopes_of(&hash),
        None,
        "the hash is not the token"
    );

    let error = kent_with_http("[http]\nlisten = \"0.0.0.0:9464\"\n").unwrap_err();
    assert!(error.contains("http.listen"), "{error}");
    assert!(error.contains("no [[http.tokens]]"), "{error}");
    kent_with_http("[http]\nlisten = \"0.0.0.0:9464\"\nallow_unauthenticated = true\n").unwrap();
    kent_with_http("[http]\nlisten = \"[::1]:9464\"\n").unwrap();
    kent_with_http("[http]\nlisten = \"localhost:9464\"\n").unwrap();

    let error = kent_with_http(&format!(
        "[http]\nlisten = \"127.0.0.1:9464\"\n[[http.tokens]]\nname = \"oops\"\nscopes = [\"read\"]\nsha256 = \"{READ_TOKEN}\"\n"
    ))
    .unwrap_err();
    assert!(error.contains("not the token itself"), "{error}");
    assert!(
        !error.contains(READ_TOKEN),
        "a mistaken token is not echoed: {error}"
    );
    let error = kent_with_http(&format!(
        "[http]\nlisten = \"127.0.0.1:9464\"\n[[http.tokens]]\nname = \"none\"\nscopes = []\nsha256 = \"{hash}\"\n"
    ))
    .unwrap_err();
    assert!(error.contains("scopes"), "{error}");
    let error = kent_with_http(
        "[http]\nlisten = \"127.0.0.1:9464\"\n[[http.tokens]]\nname = \"env\"\nscopes = [\"metrics\"]\nsha256 = \"${RAGLINE_TEST_UNSET_TOKEN_HASH}\"\n",
    )
    .unwrap_err();
    assert!(
        error.contains("RAGLINE_TEST_UNSET_TOKEN_HASH is not set"),
        "{error}"
    );
}

/// `check-config` shows where secrets come from, never the secrets: Kafka
/// passwords from the environment and from files are redacted, tokens from
/// the environment's token files are admitted by name; `hash-token` prints
/// the same SHA-256 as coreutils.
#[test]
fn check_config_redacts_secrets_and_takes_tokens_from_the_environment() {
    let directory = tempfile::tempdir().unwrap();
    let password_file = directory.path().join("kafka-password");
    std::fs::write(&password_file, "password-from-a-file\n").unwrap();
    let token_file = directory.path().join("metrics-token");
    std::fs::write(&token_file, format!("{METRICS_TOKEN}\n")).unwrap();
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config/kent.toml")).unwrap();
    let text = text.replace(
        "[http]\n",
        &format!(
            "[kafka.properties]\n\"security.protocol\" = \"SASL_SSL\"\n\"sasl.username\" = \"ragline\"\n\"sasl.password\" = \"${{RAGLINE_TEST_KAFKA_PASSWORD}}\"\n\"ssl.key.password_file\" = \"{}\"\n\n[http]\n",
            password_file.display()
        ),
    );
    let config = directory.path().join("kent.toml");
    std::fs::write(&config, text).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_ragline"))
        .args(["check-config", "--config"])
        .arg(&config)
        .env(
            "RAGLINE_TEST_KAFKA_PASSWORD",
            "password-from-the-environment",
        )
        .env("RAGLINE_HTTP_LISTEN", "0.0.0.0:9464")
        .env("RAGLINE_HTTP_METRICS_TOKEN_FILE", &token_file)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}{stderr}");
    assert!(
        stdout.contains("kafka.properties.sasl.password = <redacted>"),
        "{stdout}"
    );
    assert!(
        stdout.contains("kafka.properties.ssl.key.password = <redacted>"),
        "{stdout}"
    );
    assert!(
        stdout.contains("kafka.properties.sasl.username = ragline"),
        "{stdout}"
    );
    assert!(
        stdout.contains("http: token RAGLINE_HTTP_METRICS_TOKEN_FILE may read metrics"),
        "{stdout}"
    );
    for secret in ["password-from", METRICS_TOKEN] {
        assert!(
            !stdout.contains(secret) && !stderr.contains(secret),
            "{secret} shown"
        );
    }

    // Without the variable the error names the setting and the variable.
    let output = Command::new(env!("CARGO_BIN_EXE_ragline"))
        .args(["check-config", "--config"])
        .arg(&config)
        .env_remove("RAGLINE_TEST_KAFKA_PASSWORD")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("kafka.properties.sasl.password: environment variable RAGLINE_TEST_KAFKA_PASSWORD is not set"),
        "{stderr}"
    );

    let mut child = Command::new(env!("CARGO_BIN_EXE_ragline"))
        .arg("hash-token")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{READ_TOKEN}\n").as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8(output.stdout).unwrap().trim(),
        sha256sum(READ_TOKEN)
    );
}

/// A CA `{name}-ca.pem` and a certificate for 127.0.0.1 signed by it.
fn certificates(directory: &Path, name: &str) -> HttpTls {
    let (certificate, key) = tools::certificates(directory, name);
    HttpTls { certificate, key }
}

/// `curl` over HTTPS trusting `ca`: (exit code, status, body).
fn curl(ca: &Path, url: &str, token: Option<&str>) -> (i32, String) {
    let mut command = Command::new("curl");
    command
        .args([
            "-sS",
            "--max-time",
            "10",
            "-o",
            "-",
            "-w",
            "\n%{http_code}",
            "--cacert",
        ])
        .arg(ca)
        .arg(url);
    if let Some(token) = token {
        command.args(["-H", &format!("Authorization: Bearer {token}")]);
    }
    let output = command
        .output()
        .expect("curl (installed by scripts/setup.sh)");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

/// HTTPS with a certificate made here: a client that verifies against the
/// test CA gets the pages (tokens still apply); one that trusts another CA
/// refuses the connection; plain HTTP gets no page.
#[test]
fn https_serves_a_verifying_client_and_tokens_still_apply() {
    let directory = tempfile::tempdir().unwrap();
    let tls = certificates(directory.path(), "good");
    certificates(directory.path(), "other");
    let server = serve_with(tokens(), Some(tls));
    let base = format!("https://127.0.0.1:{}", server.address.port());
    let ca = directory.path().join("good-ca.pem");
    let (code, out) = curl(&ca, &format!("{base}/healthz"), None);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("ok\n") && out.ends_with("200"), "{out}");
    let (_, out) = curl(&ca, &format!("{base}/metrics"), None);
    assert!(out.ends_with("401"), "{out}");
    let (_, out) = curl(&ca, &format!("{base}/metrics"), Some(METRICS_TOKEN));
    assert!(out.contains("ragline_") && out.ends_with("200"), "{out}");
    let (_, out) = curl(&ca, &format!("{base}/scorecard/north"), Some(READ_TOKEN));
    assert!(out.contains("North") && out.ends_with("200"), "{out}");
    // curl's exit code 60: the peer's certificate cannot be verified.
    let (code, _) = curl(
        &directory.path().join("other-ca.pem"),
        &format!("{base}/healthz"),
        None,
    );
    assert_eq!(code, 60);
    // Plain HTTP to the HTTPS port gets no page.
    let mut stream = TcpStream::connect(server.address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    assert!(!String::from_utf8_lossy(&response).contains("ok\n"));

    // A renewed certificate (here: from the other CA) is taken up on
    // SIGHUP, without a restart.
    for suffix in ["server.pem", "server.key"] {
        std::fs::copy(
            directory.path().join(format!("other-{suffix}")),
            directory.path().join(format!("good-{suffix}")),
        )
        .unwrap();
    }
    let status = Command::new("kill")
        .args(["-HUP", &std::process::id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let other = directory.path().join("other-ca.pem");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let mut renewed = false;
    while std::time::Instant::now() < deadline && !renewed {
        renewed = curl(&other, &format!("{base}/healthz"), None).0 == 0;
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(renewed, "the renewed certificate is served after SIGHUP");
    assert_eq!(curl(&ca, &format!("{base}/healthz"), None).0, 60);

    // A reload that fails (a broken file) keeps the certificate in use.
    std::fs::write(
        directory.path().join("good-server.pem"),
        "not a certificate",
    )
    .unwrap();
    let status = Command::new("kill")
        .args(["-HUP", &std::process::id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(curl(&other, &format!("{base}/healthz"), None).0, 0);
}

#[test]
fn a_certificate_without_its_key_is_refused() {
    let error = kent_with_http(
        "[http]\nlisten = \"127.0.0.1:9464\"\ntls_certificate = \"/etc/ragline/cert.pem\"\n",
    )
    .unwrap_err();
    assert!(
        error.contains("give both tls_certificate and tls_key"),
        "{error}"
    );
}
