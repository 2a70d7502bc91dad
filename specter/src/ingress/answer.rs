//! Answering an ack: the value, error or emptiness a dispatch owes its client, sent at
//! once when the connection's buffer has room, or after waiting for room.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use socketioxide::SendError;
use socketioxide::handler::{FromMessageParts, Value};
use socketioxide_core::parser::ParserError;

use crate::adapter::{AckSender, Socket};
use crate::subscriber::delivery::{Attempt, Delivery, Sending};
use crate::subscriber::{AckError, ErrorKind, Reply};

/// A panic while serializing, as the serializer's error (its text stays in the log).
fn panicked(panic: Box<dyn std::any::Any + Send>) -> ParserError {
    let failure = crate::subscriber::Failure::from_panic(panic);
    ParserError::new(std::io::Error::other(format!(
        "panicked: {}",
        failure.message
    )))
}

/// How an ack is answered.
pub(crate) enum Answer {
    /// A subscriber's value.
    Reply(Reply),
    /// An error.
    Error(AckError),
    /// No value at all: an empty argument list.
    Empty,
}

/// An ack the server owes a client.
pub(crate) struct Owed {
    pub socket: Arc<Socket>,
    pub id: i64,
    pub answer: Answer,
}

impl Owed {
    /// One attempt to send it. A value that fails to serialize is answered with an
    /// error of kind `unserializable` instead, so the client is never left waiting.
    fn attempt(&self) -> Result<(), SendError> {
        let sender = || {
            let mut none = Value::Bytes(bytes::Bytes::new());
            match AckSender::from_message_parts(&self.socket, &mut none, &Some(self.id)) {
                Ok(ack) => ack,
                Err(never) => match never {},
            }
        };
        match &self.answer {
            // A `Serialize` of the app's may panic: that is the subscriber's failure,
            // answered like any panic, and it must not unwind through the dispatch (the
            // socket's queue would stay busy and its `disconnect` never run).
            Answer::Reply(reply) => match catch_unwind(AssertUnwindSafe(|| reply.send(sender())))
                .unwrap_or_else(|panic| Err(SendError::Serialize(panicked(panic))))
            {
                Err(SendError::Serialize(e)) => {
                    // The serializer's text names the app's types: the log has it.
                    tracing::error!(socket = %self.socket.id, error = %e, "ack value is not serializable");
                    let error = AckError::new(
                        ErrorKind::Unserializable,
                        "the answer could not be serialized",
                    );
                    sender().send(&error.to_wire())
                }
                other => other,
            },
            Answer::Error(error) => sender().send(&error.to_wire()),
            Answer::Empty => sender().send(&[(); 0]),
        }
    }

    /// Sends it now; gives it back when the buffer is full.
    pub fn try_send(self, delivery: &Delivery) -> Option<Owed> {
        match delivery.try_send(self.socket.id, Sending::Ack, || self.attempt()) {
            Attempt::Full => Some(self),
            Attempt::Done(_) => None,
        }
    }

    /// Sends it, waiting for room as the delivery policy allows.
    pub async fn send(self, delivery: &Delivery) {
        let mut waiter = delivery.waiter(self.socket.id, Sending::Ack);
        // Nothing borrowed from `self` lives across an await: `Owed` need not be `Sync`.
        while let Attempt::Full = delivery.try_send(self.socket.id, Sending::Ack, || self.attempt())
        {
            if waiter.wait().await.is_err() {
                return;
            }
        }
    }
}
