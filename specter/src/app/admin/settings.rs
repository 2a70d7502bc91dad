//! What an app sets of its Admin UI: the login, read-only mode, the namespaces shown.

use super::limits::AdminLimits;

/// The Admin UI's settings: `ServiceManager::builder().admin_ui(AdminUi::basic_auth(..)?)`.
///
/// ```
/// use specter::admin::AdminUi;
///
/// let hash = bcrypt::hash("changeit", 4).unwrap();
/// let admin = AdminUi::basic_auth("admin", &hash).unwrap().readonly(true);
/// assert!(AdminUi::basic_auth("admin", "not a bcrypt hash").is_err());
/// # let _ = admin;
/// ```
#[derive(Debug, Clone)]
pub struct AdminUi {
    /// The username, and the bcrypt hash of the password.
    pub(super) auth: Option<(String, String)>,
    pub(super) readonly: bool,
    pub(super) namespaces: Vec<String>,
    pub(super) reveal: Reveal,
    pub(super) mode: AdminMode,
    pub(super) bind_sessions: bool,
    pub(super) sessions: AdminSessions,
    pub(super) limits: AdminLimits,
}

/// The sessions of the Admin UIs logged in on this node: [`revoke_all`](Self::revoke_all)
/// ends them, and disconnects every UI connected now, which must then log in again.
///
/// ```
/// use specter::admin::AdminUi;
///
/// let hash = bcrypt::hash("changeit", 4).unwrap();
/// let admin = AdminUi::basic_auth("admin", &hash).unwrap();
/// let sessions = admin.sessions(); // keep it: an operator's "log everyone out"
/// sessions.revoke_all();
/// ```
#[derive(Clone, Default)]
pub struct AdminSessions {
    pub(super) inner: std::sync::Arc<super::login::Sessions>,
    pub(super) io: std::sync::Arc<std::sync::OnceLock<crate::adapter::SocketIo>>,
}

impl std::fmt::Debug for AdminSessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AdminSessions")
    }
}

impl AdminSessions {
    /// Ends every session of this node and disconnects the UIs connected to it.
    pub fn revoke_all(&self) {
        self.inner.clear();
        if let Some(admin) = self
            .io
            .get()
            .and_then(|io| io.of(super::protocol::ADMIN_NAMESPACE))
        {
            for socket in admin.sockets() {
                let _ = socket.disconnect();
            }
        }
        tracing::info!("every admin UI session was revoked");
    }
}

/// What the UI is shown, as the npm package's `mode`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AdminMode {
    /// The dashboard's aggregated figures and the servers only: no socket lists, no
    /// live socket events (the default).
    #[default]
    Production,
    /// Also every socket, room and client, live as they connect and leave, and the
    /// log of the events clients send (at most 50 a second per node, payloads over
    /// 2 KB shown by size): the UI's menu leads to every page.
    Development,
}

/// What of a socket's handshake the UI is shown beyond what is safe by default.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Reveal {
    /// `Cookie`, `Authorization` and secret-looking query parameters, unredacted.
    pub credentials: bool,
    /// The client's address from `X-Forwarded-For` (a trusted proxy sets it).
    pub forwarded_for: bool,
}

impl AdminUi {
    /// The UI logs in as `username` with the password whose bcrypt hash is
    /// `password_hash`; fails when the hash is not a bcrypt hash.
    pub fn basic_auth(username: &str, password_hash: &str) -> Result<Self, String> {
        bcrypt::verify("", password_hash)
            .map_err(|e| format!("the password must be a bcrypt hash: {e}"))?;
        Ok(Self {
            auth: Some((username.to_owned(), password_hash.to_owned())),
            ..Self::without_auth()
        })
    }

    /// No authentication at all: anyone who reaches `/admin` may operate the app.
    pub fn without_auth() -> Self {
        Self {
            auth: None,
            readonly: false,
            namespaces: vec!["/".to_owned()],
            reveal: Reveal::default(),
            mode: AdminMode::default(),
            bind_sessions: false,
            sessions: AdminSessions::default(),
            limits: AdminLimits::DEFAULT,
        }
    }

    /// The UI's login budget, sessions and event log bounds (default
    /// [`AdminLimits::DEFAULT`]).
    pub fn limits(mut self, limits: AdminLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Binds each session to the address that logged in: another address cannot resume
    /// it (default `false`: a UI whose address changes, on a phone, logs in again then).
    pub fn bind_sessions_to_address(mut self, bind: bool) -> Self {
        self.bind_sessions = bind;
        self
    }

    /// The handle that revokes the sessions of this UI.
    pub fn sessions(&self) -> AdminSessions {
        self.sessions.clone()
    }

    /// What the UI is shown (default [`AdminMode::Production`]).
    pub fn mode(mut self, mode: AdminMode) -> Self {
        self.mode = mode;
        self
    }

    /// Shows the UI each socket's credentials: its `Cookie`, `Authorization`,
    /// `Proxy-Authorization` headers and secret-looking query parameters (`token`,
    /// `key`, `secret`, `password`, `auth`, `sig`, ...), which it otherwise sees as
    /// `[redacted]` (default `false`).
    pub fn show_credentials(mut self, show: bool) -> Self {
        self.reveal.credentials = show;
        self
    }

    /// Shows as each socket's address the first address of its `X-Forwarded-For`
    /// header, for an app behind a proxy that sets it (default `false`: the address of
    /// the TCP connection, which a client cannot forge).
    pub fn trust_forwarded_for(mut self, trust: bool) -> Self {
        self.reveal.forwarded_for = trust;
        self
    }

    /// Read-only: the UI shows, and may not join, leave, disconnect or emit.
    pub fn readonly(mut self, readonly: bool) -> Self {
        self.readonly = readonly;
        self
    }

    /// The namespaces the UI shows and operates on (default `/`); its own, `/admin`,
    /// is never a target of its operations.
    pub fn namespaces(mut self, namespaces: &[&str]) -> Self {
        self.namespaces = namespaces.iter().map(|n| (*n).to_owned()).collect();
        self
    }
}
