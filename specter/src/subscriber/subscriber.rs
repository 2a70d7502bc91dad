//! A type-erased subscriber: extracts its arguments from an event, runs, and reports an
//! [`Outcome`].

use std::any::TypeId;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::subscriber::extract::{EventCtx, EventKinds, ExtractError, FromEvent};
use crate::subscriber::outcome::{Failure, IntoOutcome, Outcome};

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
    pub fn invalid(e: ExtractError) -> Self {
        let mut failure = Failure::new(e.kind(), &e);
        if !e.kind().is_internal() {
            failure.public = Some(e.told().to_owned());
        }
        failure.fields = e.fields;
        Call::Ready(Outcome::Failed(failure))
    }
}

type CallFn = dyn Fn(EventCtx<'_>) -> Call + Send + Sync;

/// A callable the ingress can dispatch to, whatever its arguments and return type.
///
/// Built from a closure or function by [`IntoSubscriber`], or from a method by
/// [`Method`](crate::Method) (what `#[on]` and `Events::on` use).
#[derive(Clone)]
pub struct Subscriber {
    call: Arc<CallFn>,
    kinds: EventKinds,
    /// The type of the function, method or closure it calls (what the contract looks
    /// its signature up by); `None` when built by hand.
    callable: Option<TypeId>,
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
            callable: None,
        }
    }

    /// The same subscriber, calling the function, method or closure of type `F`.
    pub(crate) fn calling<F: 'static>(mut self) -> Self {
        self.callable = Some(TypeId::of::<F>());
        self
    }

    /// The type of what it calls; `None` when built by hand.
    pub(crate) fn callable(&self) -> Option<TypeId> {
        self.callable
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

/// A [`Subscriber`] that extracts the arguments `T1, T2, ...` (bound to variables of the
/// same names) and then evaluates `$call`.
macro_rules! extracting {
    ([$($ty:ident),*] $call:expr) => {{
        let kinds = $crate::subscriber::extract::EventKinds::ALL
            $(.and(<$ty as $crate::subscriber::extract::FromEvent>::KINDS))*;
        $crate::subscriber::Subscriber::new(kinds, move |mut ctx| {
            let _ = &mut ctx;
            $(let $ty = match <$ty as $crate::subscriber::extract::FromEvent>::from_event(&mut ctx) {
                Ok(v) => v,
                Err(e) => return $crate::subscriber::Call::invalid(e),
            };)*
            $call
        })
    }};
}
pub(crate) use extracting;

/// Invokes `$m!` for every arity from 0 to 12 arguments.
macro_rules! all_arities {
    ($m:ident) => {
        $m!();
        $m!(T1);
        $m!(T1, T2);
        $m!(T1, T2, T3);
        $m!(T1, T2, T3, T4);
        $m!(T1, T2, T3, T4, T5);
        $m!(T1, T2, T3, T4, T5, T6);
        $m!(T1, T2, T3, T4, T5, T6, T7);
        $m!(T1, T2, T3, T4, T5, T6, T7, T8);
        $m!(T1, T2, T3, T4, T5, T6, T7, T8, T9);
        $m!(T1, T2, T3, T4, T5, T6, T7, T8, T9, T10);
        $m!(T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11);
        $m!(T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12);
    };
}
pub(crate) use all_arities;

macro_rules! impl_into_subscriber {
    ($($ty:ident),*) => {
        #[allow(non_snake_case)]
        impl<F, R, $($ty,)*> IntoSubscriber<(Plain, $($ty,)*)> for F
        where
            F: Fn($($ty,)*) -> R + Send + Sync + 'static,
            R: IntoOutcome,
            $($ty: FromEvent + Send + 'static,)*
        {
            fn into_subscriber(self) -> Subscriber {
                extracting!([$($ty),*] Call::Ready(self($($ty,)*).into_outcome()))
                    .calling::<F>()
            }
        }

        #[allow(non_snake_case)]
        impl<F, Fut, $($ty,)*> IntoSubscriber<(Async, $($ty,)*)> for F
        where
            F: Fn($($ty,)*) -> Fut + Send + Sync + 'static,
            Fut: Future + Send + 'static,
            Fut::Output: IntoOutcome,
            $($ty: FromEvent + Send + 'static,)*
        {
            fn into_subscriber(self) -> Subscriber {
                extracting!([$($ty),*] {
                    let fut = self($($ty,)*);
                    Call::Pending(Box::pin(async move { fut.await.into_outcome() }))
                })
                .calling::<F>()
            }
        }
    };
}

all_arities!(impl_into_subscriber);
