//! [`Guard`]: a check that takes extractors like a subscriber and allows or refuses the
//! subscribers it guards.

use std::fmt;

use crate::subscriber::extract::{EventCtx, FromEvent};
use crate::subscriber::outcome::Outcome;
use crate::subscriber::subscriber::{Call, Subscriber, all_arities, extracting};

/// A guard's answer: `true` / `Ok(())` allow; `false` / `Err(reason)` refuse.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a guard's answer",
    label = "a guard returns `bool` or `Result<(), E: Display>`"
)]
pub trait IntoVerdict {
    /// `Ok` to allow, `Err(reason)` to refuse.
    fn into_verdict(self) -> Result<(), String>;
}

impl IntoVerdict for bool {
    fn into_verdict(self) -> Result<(), String> {
        if self {
            Ok(())
        } else {
            Err("not allowed".into())
        }
    }
}

impl<E: fmt::Display> IntoVerdict for Result<(), E> {
    fn into_verdict(self) -> Result<(), String> {
        self.map_err(|e| e.to_string())
    }
}

/// A check run before each subscriber it guards, with the same arguments a subscriber
/// takes: a plain function (not async) returning `bool` or `Result<(), E: Display>`.
/// A refusal skips the guarded subscriber (the others still run); when no subscriber
/// answered, the ack is an error of kind `forbidden` with the guard's reason. A guard
/// whose arguments cannot be extracted, or that panics, refuses.
///
/// ```
/// use specter::prelude::*;
///
/// #[derive(Clone)]
/// struct User { admin: bool }
///
/// fn admins_only(user: Option<Session<User>>) -> Result<(), &'static str> {
///     match user {
///         Some(Session(u)) if u.admin => Ok(()),
///         _ => Err("admins only"),
///     }
/// }
///
/// #[derive(Default)]
/// struct Moderation;
///
/// #[handler(name = "moderation")]
/// impl Moderation {
///     #[on("kick", guard = admins_only)]
///     fn kick(&self, Data(who): Data<String>) -> String {
///         format!("{who} was kicked")
///     }
/// }
/// ```
#[derive(Clone)]
pub struct Guard {
    check: Subscriber,
}

impl fmt::Debug for Guard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Guard")
    }
}

impl Guard {
    /// Runs the check: `Err(reason)` when it refuses.
    pub(crate) fn check(&self, ctx: EventCtx<'_>) -> Result<(), String> {
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.check.call(ctx)));
        match run {
            Ok(Call::Ready(Outcome::Nothing)) => Ok(()),
            Ok(Call::Ready(Outcome::Rejected(reason))) => Err(reason),
            Ok(Call::Ready(Outcome::Failed(f))) => Err(f.to_string()),
            Ok(_) => Err("the guard could not decide".into()),
            Err(_) => Err("the guard panicked".into()),
        }
    }
}

/// Functions that can be a [`Guard`]: any number of [`FromEvent`] arguments (up to 12),
/// returning an [`IntoVerdict`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a guard",
    label = "not a guard",
    note = "a guard is a plain (not async) function whose arguments are extractors and which returns `bool` or `Result<(), E: Display>`"
)]
pub trait IntoGuard<M>: Send + Sync + 'static {
    /// Erases the check's type.
    fn into_guard(self) -> Guard;
}

impl IntoGuard<()> for Guard {
    fn into_guard(self) -> Guard {
        self
    }
}

macro_rules! impl_into_guard {
    ($($ty:ident),*) => {
        #[allow(non_snake_case)]
        impl<F, R, $($ty,)*> IntoGuard<($($ty,)*)> for F
        where
            F: Fn($($ty,)*) -> R + Send + Sync + 'static,
            R: IntoVerdict,
            $($ty: FromEvent + Send + 'static,)*
        {
            fn into_guard(self) -> Guard {
                let check = extracting!([$($ty),*] Call::Ready(match self($($ty,)*).into_verdict() {
                    Ok(()) => Outcome::Nothing,
                    Err(reason) => Outcome::Rejected(reason),
                }));
                Guard { check }
            }
        }
    };
}

all_arities!(impl_into_guard);
