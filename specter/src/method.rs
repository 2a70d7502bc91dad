//! Methods as subscribers: `Self::on_message` with `&self`, async or not, bound at run
//! time by a controller's `build_events`.

use std::future::Future;
use std::sync::Arc;

use crate::extract::{EventKinds, FromEvent};
use crate::outcome::IntoOutcome;
use crate::subscriber::{Async, Call, Plain, Subscriber};

/// A method of `C` that can subscribe to an event: it takes `&self` then [`FromEvent`]
/// arguments (up to 12), may be async, and returns an [`IntoOutcome`] value.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot subscribe to a socket event as a method of `{C}`",
    label = "not a subscriber method",
    note = "a subscriber method takes `&self`, then extractors (SocketRef, Data<T>, Event, ...), may be async, and returns `()`, `Option<T>`, `Result<T, E>` or a serializable value"
)]
pub trait Method<C, M>: Send + Sync + 'static {
    /// Binds the method to an instance.
    fn bind(self, this: Arc<C>) -> Subscriber;
}

/// An async method called with a borrowed receiver: the future may borrow it. Naming the
/// future per lifetime is what lets `Self::method` of an `async fn(&self, ..)` be passed.
#[doc(hidden)]
pub trait AsyncMethodFn<'a, C: 'a, Args>: Send + Sync + 'static {
    type Output;
    type Future: Future<Output = Self::Output> + Send + 'a;
    fn call(&self, this: &'a C, args: Args) -> Self::Future;
}

macro_rules! impl_method {
    ($($ty:ident),*) => {
        #[allow(non_snake_case, unused_mut, unused_variables)]
        impl<C, F, R, $($ty,)*> Method<C, (Plain, $($ty,)*)> for F
        where
            C: Send + Sync + 'static,
            F: Fn(&C, $($ty,)*) -> R + Send + Sync + 'static,
            R: IntoOutcome,
            $($ty: FromEvent + Send + 'static,)*
        {
            fn bind(self, this: Arc<C>) -> Subscriber {
                let kinds = EventKinds::ALL $(.and($ty::KINDS))*;
                Subscriber::new(kinds, move |mut ctx| {
                    $(let $ty = match $ty::from_event(&mut ctx) {
                        Ok(v) => v,
                        Err(e) => return Call::invalid(e),
                    };)*
                    Call::Ready(self(&this, $($ty,)*).into_outcome())
                })
            }
        }

        #[allow(non_snake_case)]
        impl<'a, C, F, Fut, $($ty,)*> AsyncMethodFn<'a, C, ($($ty,)*)> for F
        where
            C: 'a,
            F: Fn(&'a C, $($ty,)*) -> Fut + Send + Sync + 'static,
            Fut: Future + Send + 'a,
        {
            type Output = Fut::Output;
            type Future = Fut;
            fn call(&self, this: &'a C, ($($ty,)*): ($($ty,)*)) -> Fut {
                self(this, $($ty,)*)
            }
        }

        #[allow(non_snake_case, unused_mut, unused_variables)]
        impl<C, F, O, $($ty,)*> Method<C, (Async, $($ty,)*)> for F
        where
            C: Send + Sync + 'static,
            F: for<'a> AsyncMethodFn<'a, C, ($($ty,)*), Output = O>,
            O: IntoOutcome,
            $($ty: FromEvent + Send + 'static,)*
        {
            fn bind(self, this: Arc<C>) -> Subscriber {
                let kinds = EventKinds::ALL $(.and($ty::KINDS))*;
                let f = Arc::new(self);
                Subscriber::new(kinds, move |mut ctx| {
                    $(let $ty = match $ty::from_event(&mut ctx) {
                        Ok(v) => v,
                        Err(e) => return Call::invalid(e),
                    };)*
                    let (f, this) = (f.clone(), this.clone());
                    Call::Pending(Box::pin(async move {
                        f.call(&this, ($($ty,)*)).await.into_outcome()
                    }))
                })
            }
        }
    };
}

impl_method!();
impl_method!(T1);
impl_method!(T1, T2);
impl_method!(T1, T2, T3);
impl_method!(T1, T2, T3, T4);
impl_method!(T1, T2, T3, T4, T5);
impl_method!(T1, T2, T3, T4, T5, T6);
impl_method!(T1, T2, T3, T4, T5, T6, T7);
impl_method!(T1, T2, T3, T4, T5, T6, T7, T8);
impl_method!(T1, T2, T3, T4, T5, T6, T7, T8, T9);
impl_method!(T1, T2, T3, T4, T5, T6, T7, T8, T9, T10);
impl_method!(T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11);
impl_method!(T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12);
