//! Bodies stream through without being held, limits apply while streaming, WebSockets pass.

use crate::helpers::*;
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const MIB: u64 = 1024 * 1024;

/// Sends `POST path` with a body of `length` bytes (declared, or chunked when `chunked`) and
/// reads the answer's status line and body; stops sending once an answer arrives.
async fn upload(gateway: &Gateway, path: &str, length: u64, chunked: bool) -> (u16, String) {
    let address = gateway.url.trim_start_matches("http://").to_owned();
    let stream = TcpStream::connect(&address).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let token = testkit::keys::token(11, contracts::Role::Master);
    let framing = if chunked { "Transfer-Encoding: chunked".to_owned() } else { format!("Content-Length: {length}") };
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/octet-stream\r\n{framing}\r\n\r\n"
    );
    writer.write_all(head.as_bytes()).await.unwrap();
    let sender = tokio::spawn(async move {
        let chunk = vec![b'x'; 256 * 1024];
        let mut sent = 0;
        while sent < length {
            let piece = &chunk[..chunk.len().min((length - sent) as usize)];
            let written = if chunked {
                let framed = [format!("{:x}\r\n", piece.len()).as_bytes(), piece, b"\r\n"].concat();
                writer.write_all(&framed).await
            } else {
                writer.write_all(piece).await
            };
            if written.is_err() {
                return writer;
            }
            sent += piece.len() as u64;
        }
        if chunked {
            let _ = writer.write_all(b"0\r\n\r\n").await;
        }
        let _ = writer.flush().await;
        // Handed back, not dropped: dropping would half-close the connection before the answer.
        writer
    });
    let mut answer = Vec::new();
    let mut buffer = vec![0; 64 * 1024];
    loop {
        match reader.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(n) => answer.extend_from_slice(&buffer[..n]),
        }
        let text = String::from_utf8_lossy(&answer);
        if let Some((head, body)) = text.split_once("\r\n\r\n")
            && let Some(length) = head.lines().find_map(|l| {
                l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse::<usize>().unwrap_or(0))
            })
            && body.len() >= length
        {
            break;
        }
    }
    sender.abort();
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, text.split_once("\r\n\r\n").map(|(_, body)| body.to_owned()).unwrap_or_default())
}

#[tokio::test]
async fn a_300_mb_upload_streams_through_in_flat_memory() {
    let services = Services::start().await;
    let gateway = Gateway::start(services.config(|_| {})).await;
    let size = 300 * MIB;
    let (status, body) = upload(&gateway, "/api/v2/uploads/video", size, false).await;
    assert_eq!(status, 200, "{body}");
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["body_bytes"], size, "every byte arrived");
    let peak = gateway.peak_rss_bytes();
    println!("gateway peak RSS after a 300 MB upload: {:.1} MB", peak as f64 / MIB as f64);
    assert!(peak <= 64 * MIB, "peak RSS {} MB", peak / MIB);
}

#[tokio::test]
async fn body_limits_apply_before_and_while_streaming() {
    let services = Services::start().await;
    let gateway = Gateway::start(services.config(|g| g["body_limit_bytes"] = json!(MIB))).await;
    let (status, body) = upload(&gateway, "/api/v2/requests", 2 * MIB, false).await;
    assert_eq!(status, 413, "declared too large: {body}");
    assert!(body.contains("payload_too_large"));
    let (status, body) = upload(&gateway, "/api/v2/requests", 8 * MIB, true).await;
    assert_eq!(status, 413, "found too large while streaming: {body}");
    let (status, _) = upload(&gateway, "/api/v2/requests", MIB / 2, true).await;
    assert_eq!(status, 200, "within the limit");
}

#[tokio::test]
async fn websockets_pass_through() {
    let services = Services::start().await;
    let gateway = Gateway::start(services.config(|_| {})).await;
    let mut request = gateway.url("/ws").replace("http://", "ws://").into_client_request().unwrap();
    let token = testkit::keys::token(12, contracts::Role::Buyer);
    request.headers_mut().insert("Authorization", format!("Bearer {token}").parse().unwrap());
    let (mut socket, response) = tokio_tungstenite::connect_async(request).await.expect("upgraded through the gateway");
    assert_eq!(response.status().as_u16(), 101);
    for text in ["привет", "сәлем"] {
        socket.send(Message::text(text)).await.unwrap();
        let echoed = socket.next().await.unwrap().unwrap();
        assert_eq!(echoed.into_text().unwrap().as_str(), format!("echo: {text}"));
    }
    socket.close(None).await.unwrap();
}
