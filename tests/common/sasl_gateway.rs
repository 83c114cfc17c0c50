//! A SASL gateway for the test broker, which cannot check SASL credentials
//! itself (tansu 0.6 offers no PLAIN, and in memory-storage mode cannot be
//! given SCRAM users once authentication is on): a TCP proxy on
//! 127.0.0.1 that authenticates each connection the way a Kafka broker does
//! and then relays its bytes to the broker unchanged.
//!
//! It speaks just enough of the Kafka protocol for that: length-prefixed
//! frames; request headers v1 and v2 (the flexible versions' tagged
//! fields); ApiVersions, forwarded to the broker with SaslHandshake (key 17,
//! version 1: the tokens then travel in SaslAuthenticate requests, not as
//! bare frames) and SaslAuthenticate (key 36, versions 0-2) put in its list; SaslHandshake and SaslAuthenticate answered here, with PLAIN,
//! SCRAM-SHA-256 and SCRAM-SHA-512 (the server side of RFC 5802 and RFC
//! 7677). Wrong credentials get SASL_AUTHENTICATION_FAILED (58) and the
//! connection is closed, as a Kafka broker does. The broker must advertise
//! the gateway's port so that clients come back through it.

#![allow(dead_code)]

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256, Sha512};
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

const API_VERSIONS: i16 = 18;
const SASL_HANDSHAKE: i16 = 17;
const SASL_AUTHENTICATE: i16 = 36;
const UNSUPPORTED_SASL_MECHANISM: i16 = 33;
const ILLEGAL_SASL_STATE: i16 = 34;
const SASL_AUTHENTICATION_FAILED: i16 = 58;
/// The mechanisms the gateway offers, as a broker lists them.
pub const MECHANISMS: [&str; 3] = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"];
/// PBKDF2 iterations of the SCRAM credentials (Kafka's minimum is 4096).
const SCRAM_ITERATIONS: u32 = 4096;
/// How long an unauthenticated client may stay silent.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);
/// Frames larger than this are refused (the broker's default limit).
const MAX_FRAME: usize = 100 * 1024 * 1024;

/// A running gateway; dropping it stops accepting and closes every
/// connection it holds.
pub struct Gateway {
    port: u16,
    stop: Arc<AtomicBool>,
    open: Arc<Mutex<Vec<TcpStream>>>,
    acceptor: Option<JoinHandle<()>>,
    /// How many authentications failed (wrong user, password or proof).
    failures: Arc<Mutex<Vec<String>>>,
}

/// Users and their passwords: the same for every mechanism.
#[derive(Clone)]
struct Users(Arc<Vec<(String, String)>>);

impl Users {
    fn password(&self, user: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(name, _)| name == user)
            .map(|(_, password)| password.as_str())
    }
}

impl Gateway {
    /// Listens on a free port of 127.0.0.1 and relays authenticated
    /// connections to `upstream` (which need not be up yet).
    pub fn start(upstream: SocketAddr, users: &[(&str, &str)]) -> Gateway {
        let listener = TcpListener::bind("127.0.0.1:0").expect("gateway port");
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let open = Arc::new(Mutex::new(Vec::new()));
        let failures = Arc::new(Mutex::new(Vec::new()));
        let users = Users(Arc::new(
            users
                .iter()
                .map(|(user, password)| (user.to_string(), password.to_string()))
                .collect(),
        ));
        let acceptor = {
            let (stop, open, failures) = (stop.clone(), open.clone(), failures.clone());
            std::thread::spawn(move || {
                for client in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(client) = client else { continue };
                    if let Ok(clone) = client.try_clone() {
                        open.lock().unwrap().push(clone);
                    }
                    let (users, open, failures) = (users.clone(), open.clone(), failures.clone());
                    std::thread::spawn(move || {
                        if let Err(reason) = serve(client, upstream, &users, &open) {
                            if reason.kind() == io::ErrorKind::PermissionDenied {
                                failures.lock().unwrap().push(reason.to_string());
                            }
                        }
                    });
                }
            })
        };
        Gateway {
            port,
            stop,
            open,
            acceptor: Some(acceptor),
            failures,
        }
    }

    /// The port clients (and the broker's advertised listener) use.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The reasons of the authentications refused so far.
    pub fn failures(&self) -> Vec<String> {
        self.failures.lock().unwrap().clone()
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the acceptor, which then sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
        for stream in self.open.lock().unwrap().drain(..) {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }
}

/// One client connection: the SASL exchange here, then a plain relay.
fn serve(
    mut client: TcpStream,
    upstream: SocketAddr,
    users: &Users,
    open: &Mutex<Vec<TcpStream>>,
) -> io::Result<()> {
    client.set_read_timeout(Some(HANDSHAKE_TIMEOUT))?;
    let mut broker = TcpStream::connect_timeout(&upstream, Duration::from_secs(10))?;
    broker.set_read_timeout(Some(HANDSHAKE_TIMEOUT))?;
    open.lock().unwrap().push(broker.try_clone()?);
    let mut mechanism: Option<String> = None;
    let mut scram: Option<ScramExchange> = None;
    loop {
        let frame = read_frame(&mut client)?;
        let header = RequestHeader::parse(&frame)?;
        match header.api_key {
            API_VERSIONS => {
                write_frame(&mut broker, &frame)?;
                let response = read_frame(&mut broker)?;
                write_frame(
                    &mut client,
                    &with_sasl_versions(&response, header.api_version)?,
                )?;
            }
            SASL_HANDSHAKE => {
                if header.api_version < 1 {
                    return Err(io::Error::other(
                        "SaslHandshake v0 (bare tokens) not spoken",
                    ));
                }
                let mut body = Cursor::new(&frame[header.body..]);
                let requested = body.string()?.unwrap_or_default();
                let known = MECHANISMS.contains(&requested.as_str());
                let mut response = header.response_header(false);
                put_i16(
                    &mut response,
                    if known { 0 } else { UNSUPPORTED_SASL_MECHANISM },
                );
                put_i32(&mut response, MECHANISMS.len() as i32);
                for name in MECHANISMS {
                    put_string(&mut response, name);
                }
                write_frame(&mut client, &response)?;
                if !known {
                    return Err(io::Error::other(format!("mechanism {requested}")));
                }
                mechanism = Some(requested);
            }
            SASL_AUTHENTICATE => {
                let flexible = header.api_version >= 2;
                let mut body = Cursor::new(&frame[header.body..]);
                let token = if flexible {
                    body.compact_bytes()?
                } else {
                    body.bytes()?
                };
                let outcome = match mechanism.as_deref() {
                    Some("PLAIN") => plain(users, &token).map(|()| Vec::new()),
                    Some(name @ ("SCRAM-SHA-256" | "SCRAM-SHA-512")) => match scram.take() {
                        None => ScramExchange::first(name, users, &token).map(|exchange| {
                            let reply = exchange.server_first.clone().into_bytes();
                            scram = Some(exchange);
                            reply
                        }),
                        Some(exchange) => exchange.finish(&token),
                    },
                    _ => Err(format!(
                        "SaslAuthenticate before SaslHandshake (error {ILLEGAL_SASL_STATE})"
                    )),
                };
                let (error, message, reply) = match &outcome {
                    Ok(reply) => (0, None, reply.as_slice()),
                    Err(_) => (
                        SASL_AUTHENTICATION_FAILED,
                        Some(format!(
                            "Authentication failed: invalid username or password ({})",
                            mechanism.as_deref().unwrap_or("no mechanism")
                        )),
                        &[][..],
                    ),
                };
                let mut response = header.response_header(flexible);
                put_i16(&mut response, error);
                if flexible {
                    match &message {
                        Some(message) => put_compact_string(&mut response, message),
                        None => put_uvarint(&mut response, 0),
                    }
                    put_uvarint(&mut response, reply.len() as u64 + 1);
                } else {
                    match &message {
                        Some(message) => put_string(&mut response, message),
                        None => put_i16(&mut response, -1),
                    }
                    put_i32(&mut response, reply.len() as i32);
                }
                response.extend_from_slice(reply);
                if header.api_version >= 1 {
                    // session_lifetime_ms: no re-authentication asked for.
                    response.extend_from_slice(&0i64.to_be_bytes());
                }
                if flexible {
                    put_uvarint(&mut response, 0);
                }
                write_frame(&mut client, &response)?;
                match outcome {
                    Err(reason) => {
                        return Err(io::Error::new(io::ErrorKind::PermissionDenied, reason))
                    }
                    // PLAIN is done in one step; SCRAM once the proof is
                    // checked (no exchange left pending).
                    Ok(_) if scram.is_none() => break,
                    Ok(_) => {}
                }
            }
            other => {
                return Err(io::Error::other(format!(
                    "request {other} before authentication (error {ILLEGAL_SASL_STATE})"
                )));
            }
        }
    }
    client.set_read_timeout(None)?;
    broker.set_read_timeout(None)?;
    relay(client, broker)
}

/// Copies bytes both ways until either side closes.
fn relay(client: TcpStream, broker: TcpStream) -> io::Result<()> {
    let (mut client_in, mut broker_out) = (client.try_clone()?, broker.try_clone()?);
    let upward = std::thread::spawn(move || {
        let _ = io::copy(&mut client_in, &mut broker_out);
        let _ = broker_out.shutdown(Shutdown::Both);
    });
    let (mut broker_in, mut client_out) = (broker, client);
    let _ = io::copy(&mut broker_in, &mut client_out);
    let _ = client_out.shutdown(Shutdown::Both);
    let _ = upward.join();
    Ok(())
}

/// PLAIN (RFC 4616): `authzid NUL authcid NUL password`.
fn plain(users: &Users, token: &[u8]) -> Result<(), String> {
    let parts: Vec<&[u8]> = token.split(|byte| *byte == 0).collect();
    let [authzid, user, password] = parts[..] else {
        return Err("PLAIN: malformed token".into());
    };
    let user = std::str::from_utf8(user).map_err(|_| "PLAIN: user not UTF-8")?;
    if !authzid.is_empty() && authzid != user.as_bytes() {
        return Err(format!("PLAIN: {user} may not act for another identity"));
    }
    match users.password(user) {
        Some(expected) if expected.as_bytes() == password => Ok(()),
        Some(_) => Err(format!("PLAIN: wrong password for {user}")),
        None => Err(format!("PLAIN: no user {user}")),
    }
}

/// The state of a SCRAM exchange after the server's first message.
struct ScramExchange {
    mechanism: String,
    user: String,
    /// (stored key, server key), or none for an unknown user (the exchange
    /// still runs to the proof, which then fails, as RFC 5802 suggests).
    keys: Option<(Vec<u8>, Vec<u8>)>,
    client_first_bare: String,
    server_first: String,
    nonce: String,
    gs2_header: String,
}

impl ScramExchange {
    /// Reads the client's first message and makes the server's.
    fn first(mechanism: &str, users: &Users, token: &[u8]) -> Result<ScramExchange, String> {
        let text = std::str::from_utf8(token).map_err(|_| "SCRAM: not UTF-8")?;
        // gs2-header: "n," or "y," (no channel binding), then an optional
        // "a=authzid", then ",".
        let mut pieces = text.splitn(3, ',');
        let (binding, authzid, bare) = match (pieces.next(), pieces.next(), pieces.next()) {
            (Some(binding), Some(authzid), Some(bare)) => (binding, authzid, bare),
            _ => return Err("SCRAM: malformed client-first-message".into()),
        };
        if binding != "n" && binding != "y" {
            return Err(format!("SCRAM: channel binding {binding} not offered"));
        }
        let user = attribute(bare, 'n').ok_or("SCRAM: no user")?;
        let user = user.replace("=2C", ",").replace("=3D", "=");
        let client_nonce = attribute(bare, 'r').ok_or("SCRAM: no nonce")?;
        if !authzid.is_empty() && authzid.strip_prefix("a=") != Some(user.as_str()) {
            return Err(format!("SCRAM: {user} may not act for another identity"));
        }
        let salt: [u8; 16] = rand::random();
        let server_nonce = BASE64.encode(rand::random::<[u8; 18]>());
        let nonce = format!("{client_nonce}{server_nonce}");
        let keys = users
            .password(&user)
            .map(|password| scram_keys(mechanism, password.as_bytes(), &salt));
        Ok(ScramExchange {
            mechanism: mechanism.to_string(),
            user,
            keys,
            client_first_bare: bare.to_string(),
            server_first: format!("r={nonce},s={},i={SCRAM_ITERATIONS}", BASE64.encode(salt)),
            nonce,
            gs2_header: format!("{binding},{authzid},"),
        })
    }

    /// Checks the client's proof; on success, the server's final message
    /// (its signature, which the client checks in turn).
    fn finish(self, token: &[u8]) -> Result<Vec<u8>, String> {
        let text = std::str::from_utf8(token).map_err(|_| "SCRAM: not UTF-8")?;
        let (without_proof, proof) = text
            .rsplit_once(",p=")
            .ok_or("SCRAM: no proof in client-final-message")?;
        let binding = attribute(without_proof, 'c').ok_or("SCRAM: no channel binding")?;
        if BASE64.decode(binding).ok() != Some(self.gs2_header.clone().into_bytes()) {
            return Err("SCRAM: channel binding does not repeat the gs2 header".into());
        }
        if attribute(without_proof, 'r') != Some(self.nonce.as_str()) {
            return Err("SCRAM: nonce changed".into());
        }
        let proof = BASE64
            .decode(proof)
            .map_err(|_| "SCRAM: proof not base64")?;
        let Some((stored_key, server_key)) = &self.keys else {
            return Err(format!("SCRAM: no user {}", self.user));
        };
        let auth_message = format!(
            "{},{},{without_proof}",
            self.client_first_bare, self.server_first
        );
        let signature = hmac(&self.mechanism, stored_key, auth_message.as_bytes());
        if proof.len() != signature.len() {
            return Err("SCRAM: proof of the wrong length".into());
        }
        let client_key: Vec<u8> = proof.iter().zip(&signature).map(|(a, b)| a ^ b).collect();
        if hash(&self.mechanism, &client_key) != *stored_key {
            return Err(format!("SCRAM: wrong password for {}", self.user));
        }
        let server_signature = hmac(&self.mechanism, server_key, auth_message.as_bytes());
        Ok(format!("v={}", BASE64.encode(server_signature)).into_bytes())
    }
}

/// The value of `name=` in a SCRAM message's comma-separated attributes.
fn attribute(message: &str, name: char) -> Option<&str> {
    message
        .split(',')
        .find_map(|part| part.strip_prefix(name)?.strip_prefix('='))
}

/// (StoredKey, ServerKey) of a password, as a broker keeps them.
fn scram_keys(mechanism: &str, password: &[u8], salt: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let salted = if mechanism == "SCRAM-SHA-256" {
        pbkdf2::pbkdf2_hmac_array::<Sha256, 32>(password, salt, SCRAM_ITERATIONS).to_vec()
    } else {
        pbkdf2::pbkdf2_hmac_array::<Sha512, 64>(password, salt, SCRAM_ITERATIONS).to_vec()
    };
    let client_key = hmac(mechanism, &salted, b"Client Key");
    (
        hash(mechanism, &client_key),
        hmac(mechanism, &salted, b"Server Key"),
    )
}

fn hmac(mechanism: &str, key: &[u8], message: &[u8]) -> Vec<u8> {
    if mechanism == "SCRAM-SHA-256" {
        let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
        mac.update(message);
        mac.finalize().into_bytes().to_vec()
    } else {
        let mut mac = Hmac::<Sha512>::new_from_slice(key).unwrap();
        mac.update(message);
        mac.finalize().into_bytes().to_vec()
    }
}

fn hash(mechanism: &str, bytes: &[u8]) -> Vec<u8> {
    if mechanism == "SCRAM-SHA-256" {
        Sha256::digest(bytes).to_vec()
    } else {
        Sha512::digest(bytes).to_vec()
    }
}

/// The broker's ApiVersions response with SaslHandshake and
/// SaslAuthenticate (re)placed by the versions the gateway speaks. An error
/// response (an unsupported request version) passes unchanged.
fn with_sasl_versions(response: &[u8], version: i16) -> io::Result<Vec<u8>> {
    // Response header v0 (correlation id) at every version of ApiVersions.
    let mut body = Cursor::new(&response[4..]);
    let error = body.i16()?;
    if error != 0 {
        return Ok(response.to_vec());
    }
    let flexible = version >= 3;
    let count = if flexible {
        body.uvarint()?
            .checked_sub(1)
            .ok_or_else(|| invalid("null api_keys"))? as usize
    } else {
        body.i32()?.max(0) as usize
    };
    let mut keys = Vec::new();
    for _ in 0..count {
        let start = body.position;
        let key = body.i16()?;
        body.take(4)?;
        if flexible {
            body.skip_tags()?;
        }
        if key != SASL_HANDSHAKE && key != SASL_AUTHENTICATE {
            keys.push(body.bytes_since(start).to_vec());
        }
    }
    let rest = body.rest();
    for (key, min, max) in [(SASL_HANDSHAKE, 1, 1), (SASL_AUTHENTICATE, 0, 2)] {
        let mut entry = Vec::new();
        put_i16(&mut entry, key);
        put_i16(&mut entry, min);
        put_i16(&mut entry, max);
        if flexible {
            put_uvarint(&mut entry, 0);
        }
        keys.push(entry);
    }
    let mut out = response[..4].to_vec();
    put_i16(&mut out, 0);
    if flexible {
        put_uvarint(&mut out, keys.len() as u64 + 1);
    } else {
        put_i32(&mut out, keys.len() as i32);
    }
    for entry in keys {
        out.extend_from_slice(&entry);
    }
    out.extend_from_slice(rest);
    Ok(out)
}

/// The parts of a request header the gateway needs.
struct RequestHeader {
    api_key: i16,
    api_version: i16,
    correlation_id: i32,
    /// Where the request body starts in the frame.
    body: usize,
}

impl RequestHeader {
    /// Header v1 (key, version, correlation id, client id), or v2 (plus
    /// tagged fields) for the flexible versions of the requests answered
    /// here; other requests are not read past the correlation id.
    fn parse(frame: &[u8]) -> io::Result<RequestHeader> {
        let mut cursor = Cursor::new(frame);
        let api_key = cursor.i16()?;
        let api_version = cursor.i16()?;
        let correlation_id = cursor.i32()?;
        let _client_id = cursor.string()?;
        let flexible = match api_key {
            API_VERSIONS => api_version >= 3,
            SASL_AUTHENTICATE => api_version >= 2,
            _ => false,
        };
        if flexible {
            cursor.skip_tags()?;
        }
        Ok(RequestHeader {
            api_key,
            api_version,
            correlation_id,
            body: cursor.position,
        })
    }

    /// Response header v0, or v1 (with empty tagged fields).
    fn response_header(&self, flexible: bool) -> Vec<u8> {
        let mut out = self.correlation_id.to_be_bytes().to_vec();
        if flexible {
            put_uvarint(&mut out, 0);
        }
        out
    }
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_string())
}

/// A reader over a frame's bytes.
struct Cursor<'a> {
    bytes: &'a [u8],
    position: usize,
}

impl<'a> Cursor<'a> {
    fn new(bytes: &'a [u8]) -> Cursor<'a> {
        Cursor { bytes, position: 0 }
    }

    fn take(&mut self, count: usize) -> io::Result<&'a [u8]> {
        let end = self
            .position
            .checked_add(count)
            .filter(|end| *end <= self.bytes.len())
            .ok_or_else(|| invalid("frame too short"))?;
        let slice = &self.bytes[self.position..end];
        self.position = end;
        Ok(slice)
    }

    fn bytes_since(&self, start: usize) -> &'a [u8] {
        &self.bytes[start..self.position]
    }

    fn rest(&self) -> &'a [u8] {
        &self.bytes[self.position..]
    }

    fn i16(&mut self) -> io::Result<i16> {
        Ok(i16::from_be_bytes(self.take(2)?.try_into().unwrap()))
    }

    fn i32(&mut self) -> io::Result<i32> {
        Ok(i32::from_be_bytes(self.take(4)?.try_into().unwrap()))
    }

    fn uvarint(&mut self) -> io::Result<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.take(1)?[0];
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(invalid("varint too long"))
    }

    /// A nullable string with an INT16 length.
    fn string(&mut self) -> io::Result<Option<String>> {
        let length = self.i16()?;
        if length < 0 {
            return Ok(None);
        }
        let bytes = self.take(length as usize)?;
        Ok(Some(String::from_utf8_lossy(bytes).into_owned()))
    }

    /// Bytes with an INT32 length.
    fn bytes(&mut self) -> io::Result<Vec<u8>> {
        let length = self.i32()?;
        Ok(self.take(length.max(0) as usize)?.to_vec())
    }

    /// Compact bytes: UNSIGNED_VARINT length + 1.
    fn compact_bytes(&mut self) -> io::Result<Vec<u8>> {
        let length = self.uvarint()?.saturating_sub(1) as usize;
        Ok(self.take(length)?.to_vec())
    }

    /// Tagged fields: a count, then (tag, size, bytes) each.
    fn skip_tags(&mut self) -> io::Result<()> {
        for _ in 0..self.uvarint()? {
            let _tag = self.uvarint()?;
            let size = self.uvarint()? as usize;
            self.take(size)?;
        }
        Ok(())
    }
}

fn put_i16(out: &mut Vec<u8>, value: i16) {
    out.extend_from_slice(&value.to_be_bytes());
}

fn put_i32(out: &mut Vec<u8>, value: i32) {
    out.extend_from_slice(&value.to_be_bytes());
}

fn put_uvarint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn put_string(out: &mut Vec<u8>, value: &str) {
    put_i16(out, value.len() as i16);
    out.extend_from_slice(value.as_bytes());
}

fn put_compact_string(out: &mut Vec<u8>, value: &str) {
    put_uvarint(out, value.len() as u64 + 1);
    out.extend_from_slice(value.as_bytes());
}

fn read_frame(stream: &mut TcpStream) -> io::Result<Vec<u8>> {
    let mut size = [0u8; 4];
    stream.read_exact(&mut size)?;
    let size = i32::from_be_bytes(size);
    if size < 0 || size as usize > MAX_FRAME {
        return Err(invalid("frame size"));
    }
    let mut frame = vec![0u8; size as usize];
    stream.read_exact(&mut frame)?;
    Ok(frame)
}

fn write_frame(stream: &mut TcpStream, frame: &[u8]) -> io::Result<()> {
    let mut out = (frame.len() as i32).to_be_bytes().to_vec();
    out.extend_from_slice(frame);
    stream.write_all(&out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A flexible (v3) ApiVersions response, written out byte by byte:
    /// the broker's own SaslHandshake entry is replaced, SaslAuthenticate
    /// added, the rest kept.
    #[test]
    fn api_versions_gain_the_sasl_keys() {
        let broker = [
            0, 0, 0, 7, // correlation id
            0, 0, // no error
            3, // two entries (compact: count + 1)
            0, 0, 0, 0, 0, 9, 0, // Produce 0-9, no tags
            0, 17, 0, 0, 0, 1, 0, // SaslHandshake 0-1, no tags
            0, 0, 0, 0, // throttle time
            0, // no tags
        ];
        let expected = [
            0, 0, 0, 7, 0, 0, 4, // three entries
            0, 0, 0, 0, 0, 9, 0, // Produce as it was
            0, 17, 0, 1, 0, 1, 0, // SaslHandshake 1-1
            0, 36, 0, 0, 0, 2, 0, // SaslAuthenticate 0-2
            0, 0, 0, 0, 0,
        ];
        assert_eq!(with_sasl_versions(&broker, 3).unwrap(), expected);
        // v0-v2: INT32 counts, no tags.
        let broker = [0, 0, 0, 8, 0, 0, 0, 0, 0, 1, 0, 3, 0, 0, 0, 12];
        let expected = [
            0, 0, 0, 8, 0, 0, 0, 0, 0, 3, // three entries
            0, 3, 0, 0, 0, 12, // Metadata 0-12
            0, 17, 0, 1, 0, 1, 0, 36, 0, 0, 0, 2,
        ];
        assert_eq!(with_sasl_versions(&broker, 0).unwrap(), expected);
    }

    #[test]
    fn plain_checks_user_and_password() {
        let users = Users(Arc::new(vec![("ragline".into(), "secret".into())]));
        assert_eq!(plain(&users, b"\0ragline\0secret"), Ok(()));
        assert_eq!(plain(&users, b"ragline\0ragline\0secret"), Ok(()));
        assert!(plain(&users, b"\0ragline\0Secret").is_err());
        assert!(plain(&users, b"\0someone\0secret").is_err());
        assert!(plain(&users, b"admin\0ragline\0secret").is_err());
        assert!(plain(&users, b"ragline:secret").is_err());
    }

    /// RFC 7677's SCRAM-SHA-256 example: user "user", password "pencil",
    /// the client nonce, salt and iteration count of the RFC, whose
    /// client-final proof and server signature are printed there.
    #[test]
    fn scram_sha_256_matches_the_rfc_7677_example() {
        let salt = BASE64.decode("W22ZaJ0SNY7soEsUEjb6gQ==").unwrap();
        let salted = pbkdf2::pbkdf2_hmac_array::<Sha256, 32>(b"pencil", &salt, 4096);
        let client_key = hmac("SCRAM-SHA-256", &salted, b"Client Key");
        let stored_key = hash("SCRAM-SHA-256", &client_key);
        let auth_message = "n=user,r=rOprNGfwEbeRWgbNEkqO,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
        let signature = hmac("SCRAM-SHA-256", &stored_key, auth_message.as_bytes());
        let proof: Vec<u8> = client_key
            .iter()
            .zip(&signature)
            .map(|(a, b)| a ^ b)
            .collect();
        assert_eq!(
            BASE64.encode(proof),
            "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
        );
        let server_key = hmac("SCRAM-SHA-256", &salted, b"Server Key");
        assert_eq!(
            BASE64.encode(hmac("SCRAM-SHA-256", &server_key, auth_message.as_bytes())),
            "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
        );
    }
}
