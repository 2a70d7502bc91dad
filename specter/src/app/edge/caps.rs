//! Connection caps: how many TCP connections the server holds in total and per client
//! address. A connection past a cap is answered `503` at once, without reading its
//! request, and closed; the first refusal of an episode is logged, every one counted.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// The live connections, and the refusals.
#[derive(Default)]
pub(crate) struct Caps {
    total: AtomicUsize,
    per_address: Mutex<HashMap<IpAddr, usize>>,
    pub refused: AtomicU64,
    /// A refusal was logged and no connection was admitted since.
    saturated: AtomicBool,
}

/// Which cap a connection met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Full {
    Total,
    Address,
}

/// A connection's place under the caps, given back when it is dropped.
pub(crate) struct Permit {
    caps: Arc<Caps>,
    address: IpAddr,
}

impl Caps {
    /// Admits a connection from `address` when both caps leave room.
    pub fn admit(
        self: &Arc<Self>,
        address: IpAddr,
        max_total: usize,
        max_per_address: usize,
    ) -> Result<Permit, Full> {
        let mut per = self.per_address.lock().unwrap();
        let full = if self.total.load(Ordering::Relaxed) >= max_total {
            Some(Full::Total)
        } else if per.get(&address).copied().unwrap_or(0) >= max_per_address {
            Some(Full::Address)
        } else {
            None
        };
        if let Some(full) = full {
            self.refused.fetch_add(1, Ordering::Relaxed);
            if !self.saturated.swap(true, Ordering::Relaxed) {
                tracing::warn!(
                    %address,
                    cap = match full {
                        Full::Total => "connections in total",
                        Full::Address => "connections per address",
                    },
                    "refusing connections over a cap with 503 (logged once until one is admitted again)"
                );
            }
            return Err(full);
        }
        *per.entry(address).or_default() += 1;
        self.total.fetch_add(1, Ordering::Relaxed);
        self.saturated.store(false, Ordering::Relaxed);
        Ok(Permit {
            caps: self.clone(),
            address,
        })
    }

    /// Connections held now.
    pub fn open(&self) -> usize {
        self.total.load(Ordering::Relaxed)
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut per = self.caps.per_address.lock().unwrap();
        if let Some(n) = per.get_mut(&self.address) {
            *n -= 1;
            if *n == 0 {
                per.remove(&self.address);
            }
        }
        self.caps.total.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_cap_refuses_past_its_bound_and_frees_a_place_when_a_connection_goes() {
        let caps = Arc::new(Caps::default());
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let first = caps.admit(a, 3, 2).unwrap();
        let _second = caps.admit(a, 3, 2).unwrap();
        assert_eq!(caps.admit(a, 3, 2).err(), Some(Full::Address));
        let _third = caps.admit(b, 3, 2).unwrap();
        assert_eq!(caps.admit(b, 3, 2).err(), Some(Full::Total));
        drop(first);
        assert!(caps.admit(a, 3, 2).is_ok());
        assert_eq!(caps.refused.load(Ordering::Relaxed), 2);
    }
}
