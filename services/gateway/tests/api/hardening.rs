//! Hostile HTTP at the raw socket: smuggling attempts, oversized requests, slow-header clients.
//! Each is refused within a bounded time, in the error shape where an answer can be given, and
//! the gateway keeps serving everyone else.

use crate::helpers::*;
use serde_json::Value;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Longest any refusal may take here; the deadlines under test are far shorter.
const BOUND: Duration = Duration::from_secs(15);

async fn connect(gateway: &Gateway) -> TcpStream {
    TcpStream::connect(gateway.url.trim_start_matches("http://")).await.expect("the gateway accepts")
}

/// Sends `raw` and reads until the gateway closes the connection: `(status, body)` of the
/// first answer on it.
async fn exchange(gateway: &Gateway, raw: &[u8]) -> (u16, Value, String) {
    let mut stream = connect(gateway).await;
    stream.write_all(raw).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(BOUND, stream.read_to_end(&mut answer)).await.expect("the gateway ends the exchange").ok();
    parse(&answer)
}

fn parse(answer: &[u8]) -> (u16, Value, String) {
    let text = String::from_utf8_lossy(answer).into_owned();
    let status = text.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map(|(_, body)| body).unwrap_or_default();
    let json = body.find('{').and_then(|start| serde_json::from_str(&body[start..]).ok()).unwrap_or(Value::Null);
    (status, json, text)
}

#[tokio::test]
async fn ambiguous_framing_is_refused_before_routing() {
    let services = Services::start().await;
    let gateway = Gateway::start(services.config(|_| {})).await;
    let smuggled = "GET /api/v2/regions HTTP/1.1\r\nHost: x\r\n\r\n";
    let attempts = [
        format!("Content-Length: {}\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n{smuggled}", 5 + smuggled.len()),
        format!("Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n{smuggled}"),
        "Content-Length: 2\r\nContent-Length: 2\r\n\r\n{}".to_owned(),
        "Content-Length: 2, 2\r\n\r\n{}".to_owned(),
        "Content-Length: +2\r\n\r\n{}".to_owned(),
        "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n".to_owned(),
        "Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n".to_owned(),
    ];
    for attempt in &attempts {
        let raw = format!("POST /api/v2/auth/login HTTP/1.1\r\nHost: x\r\n{attempt}");
        let (status, body, text) = exchange(&gateway, raw.as_bytes()).await;
        assert_eq!(status, 400, "{attempt:?} → {text}");
        if !body.is_null() {
            assert_eq!(error_code(&body), "bad_framing", "{text}");
        }
        assert_eq!(text.matches("HTTP/1.1 ").count(), 1, "one answer, the smuggled request is not served: {text}");
    }
    assert!(services.auth.requests().is_empty(), "nothing reached a service: {:?}", services.auth.requests());
    assert!(services.marketplace.requests().is_empty(), "the smuggled request reached no service");
    // Differing lengths are refused by Pingora's parser already; plain framing still works.
    let (status, _, text) = exchange(
        &gateway,
        b"POST /api/v2/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
    )
    .await;
    assert_eq!(status, 200, "{text}");
}

#[tokio::test]
async fn oversized_targets_and_headers_are_refused_in_the_error_shape() {
    let services = Services::start().await;
    let gateway = Gateway::start(services.config(|_| {})).await;
    let long_path = format!("/api/v2/regions?q={}", "a".repeat(9 * 1024));
    let (status, _, body) = gateway.get(&long_path).await;
    assert_eq!((status, error_code(&body)), (414, "uri_too_long"), "{body}");
    let request = gateway.client.get(gateway.url("/api/v2/regions")).header("x-padding", "b".repeat(40 * 1024));
    let (status, _, body) = gateway.send(request).await;
    assert_eq!((status, error_code(&body)), (431, "headers_too_large"), "{body}");
    // Past Pingora's own bound (1 MiB) the connection is refused without reading further.
    let raw = format!("GET /api/v2/regions HTTP/1.1\r\nHost: x\r\nx-padding: {}\r\n\r\n", "c".repeat(2 << 20));
    let (status, _, _) = exchange(&gateway, raw.as_bytes()).await;
    assert!(status == 400 || status == 0, "refused, answered {status}");
    assert!(services.marketplace.requests().is_empty());
    assert_eq!(gateway.get("/api/v2/regions").await.0, 200, "normal requests still pass");
}

#[tokio::test]
async fn slow_header_clients_are_cut_off_and_others_are_served_meanwhile() {
    let services = Services::start().await;
    let gateway = Gateway::start(services.config(|g| g["header_timeout_ms"] = 1_000.into())).await;
    // Fifty clients that send a header one byte at a time, never finishing it.
    let mut slow = Vec::new();
    for _ in 0..50 {
        let mut stream = connect(&gateway).await;
        stream.write_all(b"GET /api/v2/regions HTTP/1.1\r\nHost: x\r\n").await.unwrap();
        slow.push(tokio::spawn(async move {
            let mut answer = Vec::new();
            let trickle = async {
                loop {
                    if stream.write_all(b"X").await.is_err() {
                        break;
                    }
                    let mut byte = [0u8; 512];
                    match tokio::time::timeout(Duration::from_millis(200), stream.read(&mut byte)).await {
                        Ok(Ok(0)) | Ok(Err(_)) => break,
                        Ok(Ok(n)) => answer.extend_from_slice(&byte[..n]),
                        Err(_) => {}
                    }
                }
            };
            tokio::time::timeout(BOUND, trickle).await.is_ok().then_some(answer)
        }));
    }
    for _ in 0..5 {
        let (status, _, body) = gateway.get("/api/v2/regions").await;
        assert_eq!(status, 200, "others are served while slow clients hang on: {body}");
    }
    for client in slow {
        let answer = client.await.unwrap().expect("a slow client is disconnected within the bound");
        if !answer.is_empty() {
            let (status, body, text) = parse(&answer);
            assert_eq!((status, error_code(&body)), (408, "request_timeout"), "{text}");
        }
    }
    assert_eq!(gateway.get("/api/v2/regions").await.0, 200);
}

#[tokio::test]
async fn a_slow_but_steady_upload_and_idle_keep_alive_are_not_cut_off() {
    let services = Services::start().await;
    let gateway = Gateway::start(services.config(|g| g["header_timeout_ms"] = 1_000.into())).await;
    let mut stream = connect(&gateway).await;
    // The header arrives at once; the body slowly, over longer than the header deadline.
    stream
        .write_all(b"POST /api/v2/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 8\r\n\r\n")
        .await
        .unwrap();
    for byte in br#"{"a":12}"# {
        tokio::time::sleep(Duration::from_millis(200)).await;
        stream.write_all(&[*byte]).await.unwrap();
    }
    let mut answer = vec![0u8; 4096];
    let n = tokio::time::timeout(BOUND, stream.read(&mut answer)).await.unwrap().unwrap();
    assert_eq!(parse(&answer[..n]).0, 200, "{}", String::from_utf8_lossy(&answer[..n]));
    // Idle on the kept-alive connection past the header deadline, then a second request.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    stream.write_all(b"GET /api/v2/regions HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(BOUND, stream.read_to_end(&mut answer)).await.unwrap().unwrap();
    assert_eq!(parse(&answer).0, 200, "{}", String::from_utf8_lossy(&answer));
}
