//! [`Session`]: values that live as long as the socket, kept in socketioxide's socket
//! extensions.

use std::any::type_name;

use crate::adapter::SocketRef;
use crate::subscriber::error_kind::ErrorKind;
use crate::subscriber::extract::{EventCtx, ExtractError, FromEvent, short_type_name};

/// A value of the socket's session: set in a `connect` subscriber (the user that
/// authenticated, say) with [`Session::insert`], read by any later subscriber of the
/// socket as `Session(user): Session<User>`, changed by inserting again, gone with the
/// socket after its last `disconnect` subscriber ran. The values live in
/// socketioxide's socket extensions, one per type. A socket that recovers its connection
/// gets them back; on another node, those of the types declared with
/// [`carry_session!`](crate::carry_session).
///
/// A subscriber that takes `Session<T>` when no `T` was set fails with kind
/// `missing_session`; take `Option<Session<T>>` when the value may be absent.
///
/// ```
/// use specter::prelude::*;
/// use specter::SocketIngress;
///
/// #[derive(Clone)]
/// struct User(String);
///
/// #[derive(serde::Deserialize)]
/// struct Auth { name: String }
///
/// fn on_connect(socket: SocketRef, Data(auth): Data<Auth>) {
///     Session::insert(&socket, User(auth.name));
/// }
///
/// fn on_message(Session(user): Session<User>, Data(text): Data<String>) -> String {
///     format!("{}: {text}", user.0)
/// }
/// # let (_layer, io) = specter::SocketIo::new_layer();
/// # let ingress = SocketIngress::new(io);
/// # ingress.on("connect", on_connect).owner("chat").subscribe().unwrap();
/// # ingress.on("message", on_message).owner("chat").subscribe().unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct Session<T>(pub T);

impl<T: Clone + Send + Sync + 'static> Session<T> {
    /// Sets the socket's `T`, returning the one it replaces.
    pub fn insert(socket: &SocketRef, value: T) -> Option<T> {
        // A recovered socket gets its session's values back (`Recovery`).
        crate::subscriber::recovery::SessionTypes::note::<T>(socket);
        socket.extensions.insert(value)
    }

    /// The socket's `T`, if one was set.
    pub fn get(socket: &SocketRef) -> Option<T> {
        socket.extensions.get::<T>()
    }

    /// Removes the socket's `T`.
    pub fn remove(socket: &SocketRef) -> Option<T> {
        socket.extensions.remove::<T>()
    }
}

fn missing<T>() -> ExtractError {
    ExtractError::of_kind::<Session<T>>(
        ErrorKind::MissingSession,
        format_args!(
            "no `{}` in this socket's session: set it first, in a `connect` subscriber, with `Session::insert(&socket, ..)`",
            short_type_name(type_name::<T>())
        ),
    )
}

impl<T: Clone + Send + Sync + 'static> FromEvent for Session<T> {
    fn from_event(ctx: &mut EventCtx<'_>) -> Result<Self, ExtractError> {
        ctx.socket
            .extensions
            .get::<T>()
            .map(Session)
            .ok_or_else(missing::<T>)
    }
}

/// `Option<Session<T>>`: the socket's `T` when one was set.
impl<T: Clone + Send + Sync + 'static> FromEvent for Option<Session<T>> {
    fn from_event(ctx: &mut EventCtx<'_>) -> Result<Self, ExtractError> {
        Ok(ctx.socket.extensions.get::<T>().map(Session))
    }
}
