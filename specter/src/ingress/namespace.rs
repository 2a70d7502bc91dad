//! One namespace of the ingress: its event table, and what every dispatch in it shares
//! (the error subscribers, the count of dispatches under way).

use std::sync::{Arc, Mutex};

use crate::adapter::{Socket, SocketRef};
use crate::client_text::Shown;
use crate::ingress::dynamic::Dynamic;
use crate::ingress::error_subscribers::{ErrorEvent, ErrorTable};
use crate::ingress::inflight::Inflight;
use crate::ingress::interceptor::Interceptor;
use crate::ingress::settings::DispatchSettings;
use crate::ingress::table::{Entry, EventTable};
use crate::subscriber::{Delivery, Failure};

pub(crate) struct Namespace {
    pub path: Arc<str>,
    pub table: EventTable,
    pub errors: Arc<ErrorTable>,
    pub inflight: Arc<Inflight>,
    pub delivery: Arc<Delivery>,
    /// The app's dispatch settings.
    pub settings: DispatchSettings,
    /// The subscribers of an event nobody subscribes to, to clone (no allocation).
    pub no_entries: Arc<[Entry]>,
    /// The namespace's own interceptors (the table holds them after the app's).
    pub own_interceptors: Mutex<Vec<Arc<dyn Interceptor>>>,
    /// For a pattern (`/tenant/{id}`): the namespaces open under it.
    pub dynamic: Option<Dynamic>,
    /// The sessions of its clients, when the app recovers connections.
    pub recovery: Option<Arc<crate::ingress::recovering::Sessions>>,
}

impl std::fmt::Debug for Namespace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.path)
    }
}

impl Namespace {
    /// The one log line of a failure. A failure whose text the client is not told gets
    /// an id here, in the line and in the client's answer alike.
    pub fn log_failure(&self, event: &str, entry: &Entry, failure: &mut Failure) {
        let id = failure.identify().map(tracing::field::display);
        tracing::error!(
            namespace = %self.path,
            event = ?Shown(event),
            handler = %entry.owner,
            source = %entry.source,
            error = %failure,
            error_id = id,
            "subscriber failed"
        );
    }

    /// Whether a failure has anyone to be handed to.
    pub fn has_error_subscribers(&self) -> bool {
        !self.errors.is_empty()
    }

    /// Hands a failure of `entry` to the error subscribers.
    pub async fn report(&self, s: &Arc<Socket>, event: &str, entry: &Entry, failure: &Failure) {
        self.errors
            .report(ErrorEvent {
                namespace: self.path.clone(),
                event: event.to_owned(),
                owner: entry.owner.clone(),
                source: entry.source,
                failure: failure.clone(),
                socket: SocketRef::from(s.clone()),
            })
            .await;
    }
}
