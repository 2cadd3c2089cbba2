//! Defences below the proxy logic, where Pingora gives no hook: a deadline for reading each
//! request header (slow-header clients, "slowloris"), and the checks on a request's framing and
//! size that the filters apply before anything is routed.
//!
//! Pingora times out each *read* of a header (60 s), not the header as a whole, so a client
//! sending one byte every few seconds would hold its connection for ever. [`Guarded`] wraps
//! every accepted connection in a [`HeaderDeadline`] stream that fails the read, after writing a
//! 408 in the error shape, once a header has taken longer than the deadline since its first byte.

use async_trait::async_trait;
use pingora::apps::ServerApp;
use pingora::protocols::raw_connect::ProxyDigest;
use pingora::protocols::{
    GetProxyDigest, GetSocketDigest, GetTimingDigest, Peek, Shutdown, SocketDigest, Ssl, Stream, TimingDigest,
    UniqueID, UniqueIDType,
};
use pingora::server::ShutdownWatch;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// An application whose connections get a header deadline.
pub struct Guarded<A> {
    pub app: Arc<A>,
    pub header_timeout: Duration,
}

#[async_trait]
impl<A: ServerApp + Send + Sync + 'static> ServerApp for Guarded<A> {
    async fn process_new(self: &Arc<Self>, stream: Stream, shutdown: &ShutdownWatch) -> Option<Stream> {
        let guarded: Stream = Box::new(HeaderDeadline::new(stream, self.header_timeout));
        self.app.process_new(guarded, shutdown).await
    }

    async fn cleanup(&self) {
        self.app.cleanup().await;
    }
}

/// Where a connection is in its request/response cycle, as far as its bytes tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Between requests: Pingora's keep-alive timeout applies.
    Idle,
    /// A request header is arriving; it must end before the deadline.
    Header,
    /// The header ended: a body, or the wait for the answer.
    Body,
    /// Switched protocols (WebSocket): bytes are no longer HTTP.
    Tunnel,
}

const HEADER_END: &[u8] = b"\r\n\r\n";

/// The 408 a slow client gets before its connection closes.
const TIMEOUT_ANSWER: &[u8] = b"HTTP/1.1 408 Request Timeout\r\nContent-Type: application/json\r\nContent-Length: 98\r\nConnection: close\r\n\r\n{\"error\":{\"code\":\"request_timeout\",\"message\":\"the request header took too long\",\"details\":{}}}";

#[derive(Debug)]
pub struct HeaderDeadline {
    inner: Stream,
    timeout: Duration,
    phase: Phase,
    deadline: Pin<Box<Sleep>>,
    /// The last bytes of the header so far, to find its end across reads.
    tail: [u8; 3],
    tail_len: usize,
}

impl HeaderDeadline {
    pub fn new(inner: Stream, timeout: Duration) -> Self {
        Self {
            inner,
            timeout,
            phase: Phase::Idle,
            deadline: Box::pin(tokio::time::sleep(timeout)),
            tail: [0; 3],
            tail_len: 0,
        }
    }

    /// Follows the header through newly read bytes.
    fn observe_read(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        if self.phase == Phase::Idle {
            self.phase = Phase::Header;
            self.deadline.as_mut().reset(Instant::now() + self.timeout);
            self.tail_len = 0;
        }
        if self.phase != Phase::Header {
            return;
        }
        let mut window = Vec::with_capacity(self.tail_len + bytes.len());
        window.extend_from_slice(&self.tail[..self.tail_len]);
        window.extend_from_slice(bytes);
        if window.windows(HEADER_END.len()).any(|w| w == HEADER_END) {
            self.phase = Phase::Body;
            return;
        }
        let keep = window.len().min(self.tail.len());
        self.tail[..keep].copy_from_slice(&window[window.len() - keep..]);
        self.tail_len = keep;
    }

    /// An answer ends the request (a 100 Continue does not; a 101 leaves HTTP).
    fn observe_write(&mut self, bytes: &[u8]) {
        if self.phase == Phase::Tunnel {
            return;
        }
        if bytes.starts_with(b"HTTP/1.1 101") || bytes.starts_with(b"HTTP/1.0 101") {
            self.phase = Phase::Tunnel;
        } else if self.phase == Phase::Body && !bytes.starts_with(b"HTTP/1.1 100") {
            self.phase = Phase::Idle;
        }
    }
}

impl AsyncRead for HeaderDeadline {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.phase == Phase::Header && this.deadline.as_mut().poll(cx).is_ready() {
            // Best effort: the client may not be reading either.
            let _ = Pin::new(&mut this.inner).poll_write(cx, TIMEOUT_ANSWER);
            let _ = Pin::new(&mut this.inner).poll_flush(cx);
            return Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, "request header deadline")));
        }
        let before = buf.filled().len();
        ready!(Pin::new(&mut this.inner).poll_read(cx, buf))?;
        this.observe_read(&buf.filled()[before..]);
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for HeaderDeadline {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let written = ready!(Pin::new(&mut this.inner).poll_write(cx, buf))?;
        this.observe_write(&buf[..written]);
        Poll::Ready(Ok(written))
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let written = ready!(Pin::new(&mut this.inner).poll_write_vectored(cx, bufs))?;
        if let Some(first) = bufs.iter().find(|b| !b.is_empty()).filter(|_| written > 0) {
            this.observe_write(&first[..first.len().min(written)]);
        }
        Poll::Ready(Ok(written))
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[async_trait]
impl Shutdown for HeaderDeadline {
    async fn shutdown(&mut self) {
        self.inner.shutdown().await;
    }
}

impl UniqueID for HeaderDeadline {
    fn id(&self) -> UniqueIDType {
        self.inner.id()
    }
}

impl Ssl for HeaderDeadline {}

impl GetTimingDigest for HeaderDeadline {
    fn get_timing_digest(&self) -> Vec<Option<TimingDigest>> {
        self.inner.get_timing_digest()
    }
}

impl GetProxyDigest for HeaderDeadline {
    fn get_proxy_digest(&self) -> Option<Arc<ProxyDigest>> {
        self.inner.get_proxy_digest()
    }
}

impl GetSocketDigest for HeaderDeadline {
    fn get_socket_digest(&self) -> Option<Arc<SocketDigest>> {
        self.inner.get_socket_digest()
    }

    fn set_socket_digest(&mut self, digest: SocketDigest) {
        self.inner.set_socket_digest(digest);
    }
}

#[async_trait]
impl Peek for HeaderDeadline {
    async fn try_peek(&mut self, buf: &mut [u8]) -> io::Result<bool> {
        self.inner.try_peek(buf).await
    }
}

/// Why a request's framing is refused: both `Content-Length` and `Transfer-Encoding` (the
/// classic smuggling pair), more than one `Content-Length`, a length that is not plain digits,
/// or a transfer coding other than `chunked`. Pingora reconciles some of these itself (it drops
/// `Content-Length` beside `Transfer-Encoding`); the gateway refuses them, since no client of
/// this API sends them and a proxy that guesses is how requests get smuggled.
pub fn framing_problem(raw_header: &[u8]) -> Option<&'static str> {
    let mut lengths = 0;
    let mut codings = 0;
    for line in raw_header.split(|&b| b == b'\n').skip(1) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let Some(colon) = line.iter().position(|&b| b == b':') else { continue };
        let (name, value) = (&line[..colon], line[colon + 1..].trim_ascii());
        if name.eq_ignore_ascii_case(b"content-length") {
            lengths += 1;
            if value.is_empty() || !value.iter().all(u8::is_ascii_digit) || value.len() > 19 {
                return Some("Content-Length must be one decimal number");
            }
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            codings += 1;
            if !value.eq_ignore_ascii_case(b"chunked") {
                return Some("Transfer-Encoding may only be chunked");
            }
        } else if name.last().is_some_and(u8::is_ascii_whitespace) {
            return Some("a header name may not end in whitespace");
        }
    }
    match (lengths, codings) {
        (1.., 1..) => Some("Content-Length and Transfer-Encoding may not come together"),
        (2.., _) => Some("Content-Length may come once"),
        (_, 2..) => Some("Transfer-Encoding may come once"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(lines: &str) -> Vec<u8> {
        format!("POST /api/v2/requests HTTP/1.1\r\nHost: x\r\n{lines}\r\n").into_bytes()
    }

    #[test]
    fn plain_framing_passes() {
        assert_eq!(framing_problem(&header("Content-Length: 12\r\n")), None);
        assert_eq!(framing_problem(&header("Transfer-Encoding: chunked\r\n")), None);
        assert_eq!(framing_problem(&header("transfer-encoding: Chunked\r\n")), None);
        assert_eq!(framing_problem(&header("")), None);
    }

    #[test]
    fn ambiguous_framing_is_refused() {
        for lines in [
            "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
            "Transfer-Encoding: chunked\r\ncontent-length: 0\r\n",
            "Content-Length: 5\r\nContent-Length: 5\r\n",
            "Content-Length: 5\r\nContent-Length: 6\r\n",
            "Content-Length: 5, 5\r\n",
            "Content-Length: +5\r\n",
            "Content-Length: 0x5\r\n",
            "Content-Length:\r\n",
            "Transfer-Encoding: gzip, chunked\r\n",
            "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
            "Transfer-Encoding : chunked\r\n",
        ] {
            assert!(framing_problem(&header(lines)).is_some(), "{lines:?}");
        }
    }
}
