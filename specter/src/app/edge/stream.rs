//! The TCP stream of each connection that `ServiceManager::serve` accepts: writes that
//! make no progress for the write timeout fail, it holds the connection's place in the
//! connection caps until it is dropped (after a websocket upgrade too), and it reads
//! end-of-file once shutdown closes what is still open.
//!
//! Why the write timeout: engine.io's websocket writer (in engineioxide) awaits each
//! write to the socket; when a client stops reading, the TCP window closes and that write
//! never completes, so the session can be neither drained nor closed, not even by the
//! heartbeat. With the timeout, the write fails, the writer moves on, and the heartbeat
//! (which the stalled client does not answer) disconnects the client with
//! `HeartbeatTimeout`.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::Sleep;
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

use super::caps::Permit;

/// A TCP stream whose writes fail after making no progress for `timeout`.
pub(crate) struct EdgeStream {
    inner: TcpStream,
    timeout: Duration,
    /// Armed when a write first waits; cleared by any progress.
    stalled: Option<Pin<Box<Sleep>>>,
    /// Resolves when shutdown closes every connection still open: reads end.
    closing: Pin<Box<WaitForCancellationFutureOwned>>,
    _permit: Permit,
}

impl EdgeStream {
    pub fn new(
        inner: TcpStream,
        timeout: Duration,
        permit: Permit,
        closing: CancellationToken,
    ) -> Self {
        Self {
            inner,
            timeout,
            stalled: None,
            closing: Box::pin(closing.cancelled_owned()),
            _permit: permit,
        }
    }

    /// `poll` is a write or flush of the inner stream: a pending one arms the timer, and
    /// an expired timer turns it into a `TimedOut` error.
    fn timed<T>(&mut self, cx: &mut Context<'_>, poll: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        match poll {
            Poll::Ready(result) => {
                self.stalled = None;
                Poll::Ready(result)
            }
            Poll::Pending => {
                let timeout = self.timeout;
                let timer = self
                    .stalled
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
                match timer.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "the client stopped reading: no write progress within the write timeout",
                    ))),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }
}

impl AsyncRead for EdgeStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.closing.as_mut().poll(cx).is_ready() {
            // End of file: whoever reads (hyper, engine.io's websocket) closes the session.
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for EdgeStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.timed(cx, poll)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let poll = Pin::new(&mut self.inner).poll_flush(cx);
        self.timed(cx, poll)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.timed(cx, poll)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}
