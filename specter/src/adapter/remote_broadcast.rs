//! Broadcasts from other nodes in an app that recovers connections: delivered through
//! the same path as this node's own ([`crate::subscriber::broadcast`]), so that each
//! recipient with a recovery session logs them, in the order the link heard them.
//!
//! socketioxide-redis hands another node's broadcast straight to socketioxide, which
//! writes it to each socket: a client that is away would miss it, and one that is
//! connected would get it unnumbered, outside its log. So the link gives each request
//! of another node to [`take`] first, which takes the plain broadcasts of JSON text
//! (not those that wait for acks, nor volatile ones, nor MessagePack) and leaves the
//! rest to the adapter. This node's own broadcasts reach its sockets directly and the
//! other nodes through the adapter, sparing this node's sockets
//! ([`node_room`](crate::adapter::node_room)).
//!
//! A broadcast of another node is logged (or written) at once, in the order the link
//! heard it; what is unsent is sent by a task, so a slow client never holds up the
//! others; a socket without a session whose buffer is full misses it, as through the
//! adapter.

use std::sync::Arc;

use serde_json::value::RawValue;
use socketioxide_core::adapter::remote_packet::{RequestIn, RequestTypeIn};
use socketioxide_core::adapter::{BroadcastFlags, BroadcastOptions};
use socketioxide_core::packet::PacketData;
use socketioxide_core::{Sid, Uid, Value};

use crate::adapter::SocketIo;
use crate::subscriber::broadcast::Spread;
use crate::subscriber::delivery::{Attempt, Delivery, Sending};
use crate::subscriber::recovery::{SessionLog, Via};

/// A broadcast of another node, to deliver on this one.
pub(crate) struct Remote {
    /// The id that every node logs it under: the one its room names when it comes from
    /// a Specter emit (`broadcast_room`), else the request's.
    id: Sid,
    ns: String,
    opts: BroadcastOptions,
    event: String,
    args: Vec<Box<RawValue>>,
}

/// `msg`, a request of the adapter, as a broadcast that this node delivers itself;
/// `None` for this node's own requests and those the adapter handles.
pub(crate) fn decode(own: Uid, msg: &[u8]) -> Option<Remote> {
    let req: RequestIn = rmp_serde::from_slice(msg).ok()?;
    if req.node_id == own {
        return None;
    }
    let RequestTypeIn::Broadcast(packet) = req.r#type else {
        return None;
    };
    let opts = req.opts?;
    if opts.has_flag(BroadcastFlags::Volatile) {
        return None;
    }
    let PacketData::Event(Value::Str(text, None), None) = &packet.inner else {
        return None;
    };
    let mut all: Vec<Box<RawValue>> = serde_json::from_str(text).ok()?;
    if all.is_empty() {
        return None;
    }
    let event: String = serde_json::from_str(all.remove(0).get()).ok()?;
    let named = opts.except.iter().find_map(|room| {
        let id = room.strip_prefix(super::BROADCAST_ROOM)?;
        id.parse::<Sid>().ok()
    });
    Some(Remote {
        id: named.unwrap_or(req.id),
        ns: packet.ns.to_string(),
        opts,
        event,
        args: all,
    })
}

/// Delivers `remote` to this node's sockets that it selects, at once: each with a
/// recovery session logs it under its broadcast's id (and a task sends what is unsent);
/// another whose buffer is full misses it, as through socketioxide's adapter. So one
/// slow client never holds up what the other nodes say to this one.
pub(crate) fn deliver(io: &SocketIo, delivery: &Arc<Delivery>, remote: Remote) {
    let Some(ns) = io.of(remote.ns.as_str()) else {
        return;
    };
    let targets = ns
        .to(remote.opts.rooms.to_vec())
        .except(remote.opts.except.to_vec());
    let (event, id) = (remote.event.as_str(), Some(remote.id));
    let args: Arc<[Box<RawValue>]> = remote.args.into();
    let spread = Spread(&args);
    let mut unsent: Vec<Arc<SessionLog>> = Vec::new();
    for socket in targets.sockets() {
        if let Some(log) = delivery.session_log(&socket) {
            // A session's old socket and its new one may both be in the room a moment.
            let logged = unsent.iter().any(|l| Arc::ptr_eq(l, &log));
            if !logged && log.log_now(event, args.clone(), id, Via::Here) == Ok(true) {
                unsent.push(log);
            }
            continue;
        }
        let sent = delivery.try_send(socket.id, Sending::Emit, || socket.emit(event, &spread));
        if let Attempt::Full = sent {
            delivery.give_up_full(socket.id);
        }
    }
    if unsent.is_empty() {
        return;
    }
    let delivery = delivery.clone();
    tokio::spawn(async move {
        let sends = unsent.iter().map(|log| log.drain(&delivery));
        futures_util::future::join_all(sends).await;
    });
}

#[cfg(test)]
mod tests {
    use socketioxide_core::adapter::remote_packet::{RequestOut, RequestTypeOut};
    use socketioxide_core::packet::Packet;
    use socketioxide_core::parser::Parse;
    use socketioxide_parser_common::CommonParser;

    use super::*;

    fn request(node: Uid, packet: &Packet, opts: &BroadcastOptions) -> Vec<u8> {
        let req = RequestOut {
            node_id: node,
            id: Sid::new(),
            r#type: RequestTypeOut::Broadcast(packet),
            opts: Some(opts),
            ack_timeout: None,
        };
        rmp_serde::to_vec(&req).unwrap()
    }

    #[test]
    fn another_nodes_broadcast_of_text_is_taken_and_the_rest_left_to_the_adapter() {
        let (me, other) = (Uid::new(), Uid::new());
        let data = CommonParser
            .encode_value(&("ann", 3), Some("said"))
            .unwrap();
        let packet = Packet::event("/chat", data);
        let mut opts = BroadcastOptions::new(Sid::new());
        opts.rooms.push("lobby".into());
        let id = Sid::new();
        opts.except.push(crate::adapter::broadcast_room(id).into());
        let remote = decode(me, &request(other, &packet, &opts)).expect("taken");
        assert_eq!(remote.id, id, "the id its room names");
        assert_eq!(
            (remote.ns.as_str(), remote.event.as_str()),
            ("/chat", "said")
        );
        let args: Vec<&str> = remote.args.iter().map(|a| a.get()).collect();
        assert_eq!(args, ["\"ann\"", "3"]);
        assert_eq!(remote.opts.rooms.to_vec(), ["lobby"]);
        assert!(
            decode(me, &request(me, &packet, &opts)).is_none(),
            "its own"
        );
        opts.add_flag(BroadcastFlags::Volatile);
        assert!(
            decode(me, &request(other, &packet, &opts)).is_none(),
            "volatile"
        );
    }
}
