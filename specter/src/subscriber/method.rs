//! Methods as subscribers: `Self::on_message` with `&self`, async or not, bound by
//! `Events::on` (what `#[on]` expands to, and what controllers call).

use std::future::Future;
use std::sync::Arc;

use crate::subscriber::extract::FromEvent;
use crate::subscriber::outcome::IntoOutcome;
use crate::subscriber::subscriber::{Async, Call, Plain, Subscriber, all_arities, extracting};

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
        #[allow(non_snake_case)]
        impl<C, F, R, $($ty,)*> Method<C, (Plain, $($ty,)*)> for F
        where
            C: Send + Sync + 'static,
            F: Fn(&C, $($ty,)*) -> R + Send + Sync + 'static,
            R: IntoOutcome,
            $($ty: FromEvent + Send + 'static,)*
        {
            fn bind(self, this: Arc<C>) -> Subscriber {
                extracting!([$($ty),*] Call::Ready(self(&this, $($ty,)*).into_outcome()))
                    .calling::<F>()
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

        #[allow(non_snake_case)]
        impl<C, F, O, $($ty,)*> Method<C, (Async, $($ty,)*)> for F
        where
            C: Send + Sync + 'static,
            F: for<'a> AsyncMethodFn<'a, C, ($($ty,)*), Output = O>,
            O: IntoOutcome,
            $($ty: FromEvent + Send + 'static,)*
        {
            fn bind(self, this: Arc<C>) -> Subscriber {
                let f = Arc::new(self);
                extracting!([$($ty),*] {
                    let (f, this) = (f.clone(), this.clone());
                    Call::Pending(Box::pin(async move {
                        f.call(&this, ($($ty,)*)).await.into_outcome()
                    }))
                })
                .calling::<F>()
            }
        }
    };
}

all_arities!(impl_method);
