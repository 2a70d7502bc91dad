//! Answering an ack: the value, error or emptiness a dispatch owes its client, sent at
//! once when the connection's buffer has room, or after waiting for room.

use std::sync::Arc;

use socketioxide::SendError;
use socketioxide::handler::{FromMessageParts, Value};

use crate::adapter::{AckSender, Socket};
use crate::subscriber::delivery::{Attempt, Delivery, Sending};
use crate::subscriber::{AckError, ErrorKind, Reply};

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
            Answer::Reply(reply) => match reply.send(sender()) {
                Err(SendError::Serialize(e)) => {
                    tracing::error!(error = %e, "ack value is not serializable");
                    let error = AckError::new(
                        ErrorKind::Unserializable,
                        format!("ack value is not serializable: {e}"),
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
