//! Asking clients: an emit the client answers through its callback (node's
//! `socket.timeout(ms).emitWithAck(..)`), with the wait-for-room rule of every
//! [`Deliver`] send, and volatile emits, which a full buffer drops instead.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::stream::{Stream, StreamExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use socketioxide::AckError;
use socketioxide::ack::AckStream;
use socketioxide::operators::BroadcastOperators;
use socketioxide::socket::Sid;

use crate::adapter::{Adapter, SocketRef};
use crate::subscriber::delivery::{Attempt, Deliver, Sending, Undelivered};
use crate::subscriber::server_event::Asks;

/// Why an ask got no answer the app can use.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Unanswered {
    /// The request did not reach the client.
    NotSent(Undelivered),
    /// The client did not answer within the timeout.
    Timeout,
    /// The client left before it answered.
    Gone,
    /// The client's answer is not of the expected type: why it does not decode.
    Invalid(String),
}

impl fmt::Display for Unanswered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unanswered::NotSent(why) => write!(f, "not sent: {why}"),
            Unanswered::Timeout => f.write_str("the client did not answer in time"),
            Unanswered::Gone => f.write_str("the client left before it answered"),
            Unanswered::Invalid(why) => write!(f, "the client's answer is invalid: {why}"),
        }
    }
}

impl std::error::Error for Unanswered {}

impl From<AckError> for Unanswered {
    fn from(e: AckError) -> Self {
        match e {
            AckError::Timeout => Unanswered::Timeout,
            AckError::Decode(e) => Unanswered::Invalid(e.to_string()),
            AckError::Socket(_) => Unanswered::Gone,
        }
    }
}

/// Each asked socket's answer, or why none came, in the order they arrive: from
/// [`Deliver::ask_all`]. A [`Stream`] of `(socket id, answer)`.
pub struct Answers<A> {
    inner: Pin<Box<dyn Stream<Item = Answer<A>> + Send>>,
}

/// One socket's answer, or why none came.
type Answer<A> = (Sid, Result<A, Unanswered>);

impl<A> fmt::Debug for Answers<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Answers").finish_non_exhaustive()
    }
}

impl<A> Stream for Answers<A> {
    type Item = (Sid, Result<A, Unanswered>);

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

impl Deliver {
    /// Asks the socket of this event: emits `event` with `data` (one argument),
    /// waiting for room as [`emit`](Self::emit) does, then waits up to `timeout` for
    /// the client's answer, the first argument of its callback, decoded as `A`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use specter::prelude::*;
    /// use specter::SocketIngress;
    ///
    /// async fn on_join(deliver: Deliver) -> String {
    ///     match deliver.ask::<String, _>("name?", &(), Duration::from_secs(2)).await {
    ///         Ok(name) => format!("welcome, {name}"),
    ///         Err(why) => format!("no name: {why}"),
    ///     }
    /// }
    /// # let (_layer, io) = specter::SocketIo::new_layer();
    /// # SocketIngress::new(io).on("join", on_join).owner("lobby").subscribe().unwrap();
    /// ```
    pub async fn ask<A, T>(&self, event: &str, data: &T, timeout: Duration) -> Result<A, Unanswered>
    where
        A: DeserializeOwned + Send + 'static,
        T: Serialize + Sync + ?Sized,
    {
        let answer = self
            .request(&self.socket, event, data, timeout)
            .await
            .map_err(Unanswered::NotSent)?;
        answer.await.map_err(Unanswered::from)
    }

    /// Sends `socket` the request `event` with `data` (one argument), waiting for room:
    /// the answer to come.
    async fn request<A, T>(
        &self,
        socket: &SocketRef,
        event: &str,
        data: &T,
        timeout: Duration,
    ) -> Result<AckStream<A>, Undelivered>
    where
        A: DeserializeOwned + Send + 'static,
        T: Serialize + Sync + ?Sized,
    {
        self.delivery
            .send_waiting(socket.id, Sending::Emit, || {
                socket
                    .timeout(timeout)
                    .emit_with_ack::<_, A>(event, &(data,))
            })
            .await
    }

    /// Asks a typed [`ServerEvent`](crate::ServerEvent) that declares its answer
    /// (`#[event("name", answer = T)]`), as [`ask`](Self::ask).
    pub async fn ask_event<E: Asks + Sync>(
        &self,
        event: &E,
        timeout: Duration,
    ) -> Result<E::Answer, Unanswered> {
        self.ask(E::NAME, event, timeout).await
    }

    /// Asks every socket `targets` selects (`io.to("room")`, `socket.broadcast()`):
    /// each request waits for room on its own, and each socket's answer (or why none
    /// came: its timeout, its leaving) arrives on the stream as it comes. `Err` when
    /// nothing could be sent (the value does not serialize, the adapter failed).
    ///
    /// On several nodes (feature `redis`), the request goes through the adapter to
    /// every node, and a full buffer fails at once as in socketioxide.
    pub async fn ask_all<A, T>(
        &self,
        targets: BroadcastOperators<Adapter>,
        event: &str,
        data: &T,
        timeout: Duration,
    ) -> Result<Answers<A>, Undelivered>
    where
        A: DeserializeOwned + Send + 'static,
        T: Serialize + Sync + ?Sized,
    {
        // One node: each socket's request waits for room on its own.
        #[cfg(not(feature = "redis"))]
        let inner = {
            let asks = targets.sockets().into_iter().map(|socket| async move {
                let sent = self.request::<A, T>(&socket, event, data, timeout).await;
                (socket.id, sent)
            });
            let answers = futures_util::stream::FuturesUnordered::new();
            let mut not_sent = Vec::new();
            for (sid, sent) in futures_util::future::join_all(asks).await {
                match sent {
                    Ok(answer) => {
                        answers.push(async move { (sid, answer.await.map_err(Unanswered::from)) })
                    }
                    Err(Undelivered::Serialize(e)) => return Err(Undelivered::Serialize(e)),
                    Err(why) => not_sent.push((sid, Err(Unanswered::NotSent(why)))),
                }
            }
            futures_util::stream::iter(not_sent).chain(answers)
        };
        // Several nodes: through the adapter, to every node.
        #[cfg(feature = "redis")]
        let inner = targets
            .timeout(timeout)
            .emit_with_ack::<_, A>(event, &(data,))
            .await
            .map_err(|e| match e {
                socketioxide::EmitWithAckError::Encode(e) => Undelivered::Serialize(e.to_string()),
                socketioxide::EmitWithAckError::Adapter(e) => Undelivered::Adapter(e.to_string()),
            })?
            .map(|(sid, answer)| (sid, answer.map_err(Unanswered::from)));
        Ok(Answers {
            inner: Box::pin(inner),
        })
    }

    /// Emits `event` to the socket of this event unless its buffer is full, in which
    /// case the emit is dropped rather than waited for (node's `volatile`): for
    /// values the next one replaces, such as positions. A dropped emit is counted in
    /// [`DeliveryStats::volatile_dropped`](crate::DeliveryStats::volatile_dropped).
    pub fn emit_volatile<T: Serialize + ?Sized>(
        &self,
        event: &str,
        data: &T,
    ) -> Result<(), Undelivered> {
        let socket = &self.socket;
        match self
            .delivery
            .try_send(socket.id, Sending::Emit, || socket.emit(event, &(data,)))
        {
            Attempt::Done(result) => result,
            Attempt::Full => {
                self.delivery.count_volatile_dropped();
                Err(Undelivered::Full)
            }
        }
    }
}
