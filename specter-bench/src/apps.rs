//! The servers under test, doing the same work: the `bench` event has S subscribers;
//! each bumps a counter and reads the payload; the last one answers the ack. Specter's
//! subscribers share one decode of the payload (`SharedData`), as raw socketioxide's
//! one handler decodes it once.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use axum::Router;
use serde::{Deserialize, Serialize};
use socketioxide::SocketIo;
use socketioxide::extract::{AckSender, Data, SocketRef};
use specter::prelude::*;

/// The payload the load generator sends.
#[derive(Debug, Deserialize)]
pub struct Payload {
    /// A sequence number.
    pub seq: u64,
}

/// The ack value.
#[derive(Debug, Serialize)]
pub struct OkAck {
    ok: bool,
}

/// How many subscribers ran, across all servers of this process.
pub static RUNS: AtomicU64 = AtomicU64::new(0);
static SUBSCRIBERS: AtomicUsize = AtomicUsize::new(1);

/// One subscriber's work: bump the counter; the last one of `n` answers.
#[inline(never)]
fn work(index: usize, payload: &Payload) -> Option<OkAck> {
    RUNS.fetch_add(1, Ordering::Relaxed);
    std::hint::black_box(payload.seq);
    (index + 1 == SUBSCRIBERS.load(Ordering::Relaxed)).then_some(OkAck { ok: true })
}

macro_rules! subscribers {
    ($($ty:ident $name:literal $index:literal),* $(,)?) => {
        $(
            struct $ty;

            #[handler(name = $name, discover = false)]
            impl $ty {
                #[on("bench", priority = $index)]
                // One decode of the payload per dispatch, shared by the S subscribers.
                fn bench(&self, SharedData(p): SharedData<Payload>) -> Option<Ack<OkAck>> {
                    work($index, &p).map(Ack)
                }
            }
        )*

        /// Adds the first `n` subscribers to `builder`.
        fn with_subscribers(mut builder: specter::ServiceManagerBuilder, n: usize) -> specter::ServiceManagerBuilder {
            let mut i = 0;
            $(
                if i < n {
                    builder = builder.handler($ty);
                }
                i += 1;
            )*
            let _ = i;
            builder
        }
    };
}

subscribers!(
    S0 "s0" 0, S1 "s1" 1, S2 "s2" 2, S3 "s3" 3, S4 "s4" 4,
    S5 "s5" 5, S6 "s6" 6, S7 "s7" 7, S8 "s8" 8, S9 "s9" 9,
);

/// The largest number of subscribers the apps offer.
pub const MAX_SUBSCRIBERS: usize = 10;

/// Extra events (`idle0`, `idle1`, ...) so that a server has `events` events in all.
fn idle_events(events: usize) -> impl Iterator<Item = String> {
    (1..events).map(|i| format!("idle{i}"))
}

/// Specter: `subscribers` `#[handler]`s on `bench` through the ingress, plus idle events.
pub async fn specter(subscribers: usize, events: usize) -> (ServiceManager, Router) {
    assert!((1..=MAX_SUBSCRIBERS).contains(&subscribers));
    SUBSCRIBERS.store(subscribers, Ordering::Relaxed);
    let app = with_subscribers(ServiceManager::builder(), subscribers)
        .build()
        .unwrap();
    for event in idle_events(events) {
        app.ingress()
            .on(event, || ())
            .owner("idle")
            .subscribe()
            .unwrap();
    }
    app.boot().await.unwrap();
    let router = app.router();
    (app, router)
}

/// One subscriber on `bench` that emits the payload back (`echo`, through `Deliver`)
/// before it answers: the cost of an emit, with connection state recovery on (each
/// emit logged and numbered for the socket's session) or off.
pub async fn specter_emit(recovery: bool) -> (ServiceManager, Router) {
    let mut settings = specter::DispatchSettings::default();
    if recovery {
        settings = settings.recovery(specter::RecoverySettings::default());
    }
    let app = ServiceManager::builder()
        .dispatch(settings)
        .build()
        .unwrap();
    app.ingress()
        .on(
            "bench",
            |deliver: Deliver, Data(p): Data<serde_json::Value>| async move {
                let _ = deliver.emit("echo", &p).await;
                Ack(OkAck { ok: true })
            },
        )
        .owner("bench")
        .subscribe()
        .unwrap();
    // `everyone`: the payload to every socket (what a session away holds).
    app.ingress()
        .on(
            "everyone",
            |deliver: Deliver, io: specter::SocketIo, Data(p): Data<serde_json::Value>| async move {
                let _ = deliver.to_all(io.broadcast(), "echo", &p).await;
                Ack(OkAck { ok: true })
            },
        )
        .owner("bench")
        .subscribe()
        .unwrap();
    app.boot().await.unwrap();
    let router = app.router();
    (app, router)
}

/// The per-socket order variants: `subscribers` closures on `bench` subscribed through
/// the ingress, plain or async, with per-socket order on or off.
pub async fn specter_order(
    subscribers: usize,
    asynchronous: bool,
    ordered: bool,
) -> (ServiceManager, Router) {
    assert!((1..=MAX_SUBSCRIBERS).contains(&subscribers));
    SUBSCRIBERS.store(subscribers, Ordering::Relaxed);
    let app = ServiceManager::builder()
        .dispatch(specter::DispatchSettings::default().ordered(ordered))
        .build()
        .unwrap();
    let ingress = app.ingress();
    for i in 0..subscribers {
        let on = if asynchronous {
            ingress.on(
                "bench",
                move |SharedData(p): SharedData<Payload>| async move { work(i, &p).map(Ack) },
            )
        } else {
            ingress.on("bench", move |SharedData(p): SharedData<Payload>| {
                work(i, &p).map(Ack)
            })
        };
        on.owner("bench").priority(i as i32).subscribe().unwrap();
    }
    app.boot().await.unwrap();
    let router = app.router();
    (app, router)
}

/// Raw socketioxide: one hand-written handler calling the same work `subscribers`
/// times, plus one handler per idle event: the floor under Specter.
pub fn raw(subscribers: usize, events: usize) -> (SocketIo, Router) {
    assert!((1..=MAX_SUBSCRIBERS).contains(&subscribers));
    SUBSCRIBERS.store(subscribers, Ordering::Relaxed);
    let (layer, io) = SocketIo::new_layer();
    let idle: Vec<String> = idle_events(events).collect();
    io.ns("/", move |s: SocketRef| {
        s.on("bench", move |Data(p): Data<Payload>, ack: AckSender| {
            let mut answer = None;
            for i in 0..subscribers {
                if let Some(a) = work(i, &p) {
                    answer = Some(a);
                }
            }
            if let Some(a) = answer {
                ack.send(&a).ok();
            }
            std::future::ready(())
        });
        for event in &idle {
            s.on(event.clone(), async || {});
        }
        std::future::ready(())
    });
    (io, Router::new().layer(layer))
}

/// Counts the events it sees: the cheapest interceptor there is, to show what one costs.
struct Counting(AtomicU64);

impl specter::Interceptor for Counting {
    fn before(&self, _: &specter::interceptor::EventInfo<'_>) -> Result<(), String> {
        self.0.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

/// [`specter_order`]'s plain, ordered variant with the pipeline in use: one interceptor, a
/// guard that allows on the first subscriber, and a rate limit on `bench` per socket
/// (`rate`; the figures use one that never trips, the flood one that does).
pub async fn specter_pipeline(subscribers: usize, rate: specter::Rate) -> (ServiceManager, Router) {
    assert!((1..=MAX_SUBSCRIBERS).contains(&subscribers));
    SUBSCRIBERS.store(subscribers, Ordering::Relaxed);
    let app = ServiceManager::builder()
        .interceptor(Counting(AtomicU64::new(0)))
        .build()
        .unwrap();
    let ingress = app.ingress();
    for i in 0..subscribers {
        let work = move |SharedData(p): SharedData<Payload>| work(i, &p).map(Ack);
        let mut on = ingress.on("bench", work).owner("bench").priority(i as i32);
        if i == 0 {
            on = on.guard(|| true).rate_limit(rate);
        }
        on.subscribe().unwrap();
    }
    app.boot().await.unwrap();
    let router = app.router();
    (app, router)
}
