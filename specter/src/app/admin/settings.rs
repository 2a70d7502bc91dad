//! What an app sets of its Admin UI: the login, read-only mode, the namespaces shown.

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
            readonly: false,
            namespaces: vec!["/".to_owned()],
            reveal: Reveal::default(),
            mode: AdminMode::default(),
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
        }
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
