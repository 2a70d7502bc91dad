//! The test client's reader: every message the server sends, answered (pings, asks)
//! or handed on (events, acks, the connect answer).

use futures_util::StreamExt;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;

#[cfg(feature = "msgpack")]
use super::msgpack;
use super::packet::{self, Packet};
use super::wire::{Answerers, Wire};
use super::{Pending, ServerEvent, TestError};

/// What the reader of a connection hands packets to.
pub(crate) struct Reader {
    pub out: mpsc::UnboundedSender<Message>,
    pub pending: Pending,
    pub events: mpsc::UnboundedSender<ServerEvent>,
    pub connected: Option<oneshot::Sender<Result<String, TestError>>>,
    pub namespace: String,
    pub answerers: Answerers,
    pub wire: Wire,
}

impl Reader {
    /// Takes one packet in; `false` when the connection is over.
    fn take(&mut self, packet: Result<Packet, String>) -> bool {
        match packet {
            Ok(Packet::Connect(sid)) => {
                if let Some(c) = self.connected.take() {
                    let _ = c.send(Ok(sid));
                }
            }
            Ok(Packet::ConnectError(message)) => {
                if let Some(c) = self.connected.take() {
                    let _ = c.send(Err(TestError::Refused(message)));
                }
                return false;
            }
            Ok(Packet::Event(event, args, ack)) => {
                if let Some(id) = ack {
                    let answer = match self.answerers.0.get(&event) {
                        Some(answer) => answer(&args),
                        None => Some(Vec::new()),
                    };
                    if let Some(answer) = answer {
                        let _ = self.out.send(self.wire.ack(&self.namespace, id, &answer));
                    }
                }
                let _ = self.events.send(ServerEvent { event, args });
            }
            Ok(Packet::Ack(id, args)) => {
                if let Some(tx) = self.pending.lock().unwrap().remove(&id) {
                    let _ = tx.send(args);
                }
            }
            Ok(Packet::Disconnect) => return false,
            Err(e) => tracing::warn!(error = %e, "test client: unreadable packet"),
        }
        true
    }
}

pub(crate) async fn read_loop<S>(
    mut stream: futures_util::stream::SplitStream<tokio_tungstenite::WebSocketStream<S>>,
    mut reader: Reader,
) where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut partial: Option<packet::Partial> = None;
    while let Some(Ok(msg)) = stream.next().await {
        let decoded = match msg {
            Message::Text(text) => match text.as_bytes().first() {
                Some(b'2') => {
                    let _ = reader.out.send(Message::text(format!("3{}", &text[1..])));
                    continue;
                }
                Some(b'4') => packet::decode(&text[1..]),
                Some(b'1') => break,
                _ => continue,
            },
            // A MessagePack packet is whole in one binary message.
            #[cfg(feature = "msgpack")]
            Message::Binary(bytes) if reader.wire == Wire::MsgPack => {
                if reader.take(msgpack::decode(&bytes)) {
                    continue;
                }
                break;
            }
            Message::Binary(bytes) => match partial.as_mut() {
                Some(p) => {
                    p.received.push(bytes.to_vec());
                    if p.received.len() < p.attachments {
                        continue;
                    }
                    Ok(partial.take().expect("checked"))
                }
                None => continue,
            },
            Message::Close(_) => break,
            _ => continue,
        };
        let p = match decoded {
            Ok(p) if p.attachments > p.received.len() => {
                partial = Some(p);
                continue;
            }
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(error = %e, "test client: unreadable packet");
                continue;
            }
        };
        if !reader.take(p.finish()) {
            break;
        }
    }
    reader.pending.lock().unwrap().clear();
}
