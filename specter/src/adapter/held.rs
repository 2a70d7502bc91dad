//! What a node could not publish while its Redis link was down, held in order until the
//! link is back ([`LinkSettings::held_messages`](super::redis_link::LinkSettings),
//! `held_bytes`): the other nodes then receive it late rather than never, as node's
//! redis client does with its offline queue, but bounded.

use std::collections::VecDeque;

/// The messages held, oldest first.
#[derive(Debug, Default)]
pub(crate) struct Held {
    queue: VecDeque<(String, Vec<u8>)>,
    bytes: usize,
    max_messages: usize,
    max_bytes: usize,
}

impl Held {
    pub fn new(max_messages: usize, max_bytes: usize) -> Self {
        Self {
            max_messages,
            max_bytes,
            ..Self::default()
        }
    }

    /// Holds `val` for `chan` after what is held; `false` (nothing held) past either
    /// bound: the newer message is the one given up, so what is held stays in order.
    pub fn push(&mut self, chan: &str, val: Vec<u8>) -> bool {
        if self.queue.len() >= self.max_messages || self.bytes + val.len() > self.max_bytes {
            return false;
        }
        self.bytes += val.len();
        self.queue.push_back((chan.to_owned(), val));
        true
    }

    /// Everything held, oldest first; nothing is held afterwards.
    pub fn take(&mut self) -> Vec<(String, Vec<u8>)> {
        self.bytes = 0;
        self.queue.drain(..).collect()
    }

    /// Puts `rest` (the part of a [`take`](Self::take) that could not be published) back
    /// before what was held since.
    pub fn put_back(&mut self, rest: Vec<(String, Vec<u8>)>) {
        for (chan, val) in rest.into_iter().rev() {
            self.bytes += val.len();
            self.queue.push_front((chan, val));
        }
    }

    /// The channels of what is held, each once, in the order first held.
    pub fn channels(&self) -> Vec<String> {
        let mut channels: Vec<String> = Vec::new();
        for (chan, _) in &self.queue {
            if !channels.contains(chan) {
                channels.push(chan.clone());
            }
        }
        channels
    }

    pub fn len(&self) -> usize {
        self.queue.len()
    }

    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::Held;

    #[test]
    fn what_is_held_stays_in_order_and_within_its_bounds() {
        let mut held = Held::new(3, 10);
        assert!(held.push("a", b"1".to_vec()));
        assert!(held.push("a", b"2".to_vec()));
        assert!(!held.push("a", b"0123456789".to_vec()), "past the bytes");
        assert!(held.push("b", b"3".to_vec()));
        assert!(!held.push("a", b"4".to_vec()), "past the messages");
        assert_eq!(held.channels(), ["a", "b"]);
        let mut all = held.take();
        assert!(held.is_empty());
        assert!(held.push("a", b"5".to_vec()));
        let rest = all.split_off(1);
        held.put_back(rest);
        let order: Vec<Vec<u8>> = held.take().into_iter().map(|(_, v)| v).collect();
        assert_eq!(order, [b"2".to_vec(), b"3".to_vec(), b"5".to_vec()]);
    }
}
