//! [`Events`]: the one binding API. `#[on]` expands to calls of it, controllers call it
//! in `build_events`, and handlers written by hand do the same.

use std::borrow::Cow;
use std::sync::Arc;

use crate::subscriber::{Binding, Guard, IntoGuard, Method, Source};

/// The events a handler or controller binds, handed to its `build_events`:
/// `events.on("heartbeat", Self::heartbeat).priority(10)`.
pub struct Events<C> {
    this: Arc<C>,
    bindings: Vec<Binding>,
    /// Guards of every binding, run before each binding's own.
    all: Vec<Guard>,
}

impl<C: Send + Sync + 'static> Events<C> {
    pub(crate) fn new(this: Arc<C>) -> Self {
        Self {
            this,
            bindings: Vec::new(),
            all: Vec::new(),
        }
    }

    /// Binds `method` (`Self::on_message`: `&self`, then extractors, async or not) to
    /// `event` at the default priority; the returned [`Binding`] sets options
    /// ([`priority`](Binding::priority)). A bad event name is an error at boot naming
    /// the owner and the event; [`event!`](crate::event!) checks a literal at compile
    /// time instead.
    #[track_caller]
    pub fn on<M>(
        &mut self,
        event: impl Into<Cow<'static, str>>,
        method: impl Method<C, M>,
    ) -> &mut Binding {
        let binding = Binding::new(event, method.bind(self.this.clone()), Source::caller());
        self.bindings.push(binding);
        self.bindings.last_mut().expect("just pushed")
    }

    /// Binds `method` to every emitted event (not `connect` or `disconnect`): a
    /// catch-all subscriber, which also takes events that have no subscriber of their
    /// own. The `Event` argument gives the name. `#[on(any)]` expands to this.
    #[track_caller]
    pub fn on_any<M>(&mut self, method: impl Method<C, M>) -> &mut Binding {
        let binding = Binding::any(method.bind(self.this.clone()), Source::caller());
        self.bindings.push(binding);
        self.bindings.last_mut().expect("just pushed")
    }

    /// Guards every event bound here, before and after this call (a controller-wide
    /// guard: `#[controller(.., guard = f)]` expands to it). These guards run before
    /// each binding's own, in the order added.
    pub fn guard_all<M>(&mut self, guard: impl IntoGuard<M>) -> &mut Self {
        self.all.push(guard.into_guard());
        self
    }

    pub(crate) fn into_bindings(self) -> Vec<Binding> {
        let Self {
            mut bindings, all, ..
        } = self;
        if !all.is_empty() {
            for b in &mut bindings {
                b.guards.splice(0..0, all.iter().cloned());
            }
        }
        bindings
    }
}
