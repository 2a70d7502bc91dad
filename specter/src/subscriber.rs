//! A type-erased subscriber: extracts its arguments from an event, runs, and reports an
//! [`Outcome`].

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::extract::{EventCtx, EventKinds, FromEvent};
use crate::outcome::{Failure, FailureKind, IntoOutcome, Outcome};

/// A subscriber's pending work.
pub type BoxOutcomeFuture = Pin<Box<dyn Future<Output = Outcome> + Send + 'static>>;

/// What calling a subscriber gives: a result at once (plain functions), or a future.
pub enum Call {
    /// The subscriber already ran.
    Ready(Outcome),
    /// The subscriber runs when this future is awaited.
    Pending(BoxOutcomeFuture),
}

impl Call {
    /// A call whose arguments could not be extracted.
    pub fn invalid(e: crate::extract::ExtractError) -> Self {
        Call::Ready(Outcome::Failed(Failure::new(
            FailureKind::InvalidPayload,
            e,
        )))
    }
}

type CallFn = dyn Fn(EventCtx<'_>) -> Call + Send + Sync;

/// A callable the ingress can dispatch to, whatever its arguments and return type.
///
/// Built from a closure or function by [`IntoSubscriber`], or by the `#[handler]` macro
/// for each `#[on]` method.
#[derive(Clone)]
pub struct Subscriber {
    call: Arc<CallFn>,
    kinds: EventKinds,
}

impl Subscriber {
    /// A subscriber from its raw form: `kinds` says for which events its arguments can be
    /// extracted; `call` extracts them and runs it.
    pub fn new(
        kinds: EventKinds,
        call: impl Fn(EventCtx<'_>) -> Call + Send + Sync + 'static,
    ) -> Self {
        Self {
            call: Arc::new(call),
            kinds,
        }
    }

    /// The kinds of event this subscriber's arguments can be extracted from.
    pub fn kinds(&self) -> EventKinds {
        self.kinds
    }

    #[inline]
    pub(crate) fn call(&self, ctx: EventCtx<'_>) -> Call {
        (self.call)(ctx)
    }
}

impl std::fmt::Debug for Subscriber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscriber")
            .field("kinds", &self.kinds)
            .finish()
    }
}

/// Functions and closures that can subscribe to an event: any number of [`FromEvent`]
/// arguments (up to 12), async or not, returning an [`IntoOutcome`] value.
///
/// `M` is a marker that tells the implementations apart; it is inferred.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot subscribe to a socket event",
    label = "not a subscriber",
    note = "a subscriber is a function or closure, async or not, whose arguments are extractors (SocketRef, Data<T>, Event, ...) and whose return value is `()`, `Option<T>`, `Result<T, E>` or a serializable value"
)]
pub trait IntoSubscriber<M>: Send + Sync + 'static {
    /// Erases the callable's type.
    fn into_subscriber(self) -> Subscriber;
}

impl IntoSubscriber<()> for Subscriber {
    fn into_subscriber(self) -> Subscriber {
        self
    }
}

#[doc(hidden)]
pub enum Plain {}
#[doc(hidden)]
pub enum Async {}

macro_rules! impl_into_subscriber {
    ($($ty:ident),*) => {
        #[allow(non_snake_case, unused_mut, unused_variables)]
        impl<F, R, $($ty,)*> IntoSubscriber<(Plain, $($ty,)*)> for F
        where
            F: Fn($($ty,)*) -> R + Send + Sync + 'static,
            R: IntoOutcome,
            $($ty: FromEvent + Send + 'static,)*
        {
            fn into_subscriber(self) -> Subscriber {
                let kinds = EventKinds::ALL $(.and($ty::KINDS))*;
                Subscriber::new(kinds, move |mut ctx| {
                    $(let $ty = match $ty::from_event(&mut ctx) {
                        Ok(v) => v,
                        Err(e) => return Call::invalid(e),
                    };)*
                    Call::Ready(self($($ty,)*).into_outcome())
                })
            }
        }

        #[allow(non_snake_case, unused_mut, unused_variables)]
        impl<F, Fut, $($ty,)*> IntoSubscriber<(Async, $($ty,)*)> for F
        where
            F: Fn($($ty,)*) -> Fut + Send + Sync + 'static,
            Fut: Future + Send + 'static,
            Fut::Output: IntoOutcome,
            $($ty: FromEvent + Send + 'static,)*
        {
            fn into_subscriber(self) -> Subscriber {
                let kinds = EventKinds::ALL $(.and($ty::KINDS))*;
                Subscriber::new(kinds, move |mut ctx| {
                    $(let $ty = match $ty::from_event(&mut ctx) {
                        Ok(v) => v,
                        Err(e) => return Call::invalid(e),
                    };)*
                    let fut = self($($ty,)*);
                    Call::Pending(Box::pin(async move { fut.await.into_outcome() }))
                })
            }
        }
    };
}

impl_into_subscriber!();
impl_into_subscriber!(T1);
impl_into_subscriber!(T1, T2);
impl_into_subscriber!(T1, T2, T3);
impl_into_subscriber!(T1, T2, T3, T4);
impl_into_subscriber!(T1, T2, T3, T4, T5);
impl_into_subscriber!(T1, T2, T3, T4, T5, T6);
impl_into_subscriber!(T1, T2, T3, T4, T5, T6, T7);
impl_into_subscriber!(T1, T2, T3, T4, T5, T6, T7, T8);
impl_into_subscriber!(T1, T2, T3, T4, T5, T6, T7, T8, T9);
impl_into_subscriber!(T1, T2, T3, T4, T5, T6, T7, T8, T9, T10);
impl_into_subscriber!(T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11);
impl_into_subscriber!(T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12);
