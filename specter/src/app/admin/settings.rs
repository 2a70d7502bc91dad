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
        })
    }

    /// No authentication at all: anyone who reaches `/admin` may operate the app.
    pub fn without_auth() -> Self {
        Self {
            auth: None,
            readonly: false,
            namespaces: vec!["/".to_owned()],
        }
    }

    /// Read-only: the UI shows, and may not join, leave, disconnect or emit.
    pub fn readonly(mut self, readonly: bool) -> Self {
        self.readonly = readonly;
        self
    }

    /// The namespaces the UI shows (default `/`).
    pub fn namespaces(mut self, namespaces: &[&str]) -> Self {
        self.namespaces = namespaces.iter().map(|n| (*n).to_owned()).collect();
        self
    }
}
