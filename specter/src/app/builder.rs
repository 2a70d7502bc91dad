//! [`ServiceManagerBuilder`]: what an app is made of (services, handlers, controllers),
//! how it dispatches and delivers, and the bounds of its edge; `build` checks it and
//! makes the [`ServiceManager`].

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;

use crate::adapter::Adapter;
use crate::app::component::Component;
use crate::app::controller::{Controller, ControllerParts};
use crate::app::edge::gate::{AllowRequest, Gate};
use crate::app::edge::origin::{OriginPattern, Origins};
use crate::app::edge::settings::{DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_PAYLOAD, EdgeLimits};
use crate::app::handler::{EventOwner, Handler};
use crate::app::manager::{HttpLayer, Inner, ServiceManager, check_unique};
use crate::app::registry::{self, ComponentKind, Construct};
use crate::app::service::{DynService, Service, Services};
use crate::error::Error;
use crate::ingress::SocketIngress;
use crate::ingress::interceptor::Interceptor;
use crate::ingress::settings::DispatchSettings;

type SocketIoBuilder = socketioxide::SocketIoBuilder<Adapter>;

/// How many packets may wait in one connection's outgoing buffer, by default.
pub const DEFAULT_MAX_BUFFERED_PACKETS: usize = 1024;

/// The websocket read buffer of each connection, by default: 1 KiB instead of
/// socketioxide's 4 KiB. Socket.IO messages are mostly far smaller; a larger one is read
/// in several steps. It is allocated per connection for the connection's whole life, so
/// it is a quarter of what an idle connection costs with 4 KiB (see BENCHMARKS.md).
/// `configure_io(|io| io.ws_read_buffer_size(..))` changes it.
pub const DEFAULT_WS_READ_BUFFER: usize = 1024;

/// Builds a [`ServiceManager`].
///
/// Services start in the order they are added, then handlers and controllers are set
/// up in the order they are added; [`discover`](Self::discover) adds every discovered
/// handler and controller at that point, sorted by name.
#[derive(Default)]
#[must_use]
pub struct ServiceManagerBuilder {
    steps: Vec<Step>,
    configure: Vec<Box<dyn FnOnce(SocketIoBuilder) -> SocketIoBuilder>>,
    dispatch: DispatchSettings,
    /// Interceptors, each with its namespace (`None`: app-wide), in the order added.
    interceptors: Vec<(Option<String>, Arc<dyn Interceptor>)>,
    health_path: Option<String>,
    health_details: bool,
    edge: EdgeLimits,
    origins: Origins,
    /// Allowed origins that are not origins, reported by `build`.
    origin_errors: Vec<String>,
    allow_request: Option<AllowRequest>,
    http_layers: Vec<HttpLayer>,
    /// Whether sockets speak MessagePack (else every packet is JSON text).
    msgpack: bool,
    #[cfg(feature = "redis")]
    redis: Option<crate::adapter::RedisConnection>,
}

/// Puts a service in the typed registry and in socketioxide's state.
type InstallService = Box<dyn FnOnce(&Services, SocketIoBuilder) -> SocketIoBuilder>;

enum Step {
    Discover,
    Handler(Arc<dyn EventOwner>),
    Controller(ControllerParts),
    Service(Arc<dyn DynService>, InstallService),
}

impl ServiceManagerBuilder {
    /// Adds every `#[handler]` and `#[derive(Controller)]` type linked into the program,
    /// sorted by name (see [`registry`]). Types declared with `discover = false` are
    /// not among them: add an instance.
    pub fn discover(mut self) -> Self {
        self.steps.push(Step::Discover);
        self
    }

    /// Adds a handler instance: for handlers that need state, or are not discovered.
    pub fn handler(mut self, handler: impl Handler) -> Self {
        self.steps.push(Step::Handler(Arc::new(handler)));
        self
    }

    /// Adds a controller instance.
    pub fn controller<C: Controller>(mut self, controller: C) -> Self {
        self.steps
            .push(Step::Controller(ControllerParts::new(controller)));
        self
    }

    /// Adds a service. Subscribers reach it with `State<Arc<S>>`, or through
    /// `State<Services>` and [`Services::require`].
    pub fn service<S: Service>(mut self, service: S) -> Self {
        let service = Arc::new(service);
        let dynamic: Arc<dyn DynService> = service.clone();
        self.steps.push(Step::Service(
            dynamic,
            Box::new(move |services, io| {
                services.insert(service.clone());
                io.with_state(service)
            }),
        ));
        self
    }

    /// The largest message a client may send, in bytes, over either transport
    /// (default 1 MB, node's `maxHttpBufferSize`): a long-polling
    /// request's body, a websocket message and each of its frames. A client that sends
    /// more is disconnected.
    pub fn max_payload(self, bytes: u64) -> Self {
        self.configure_io(move |io| max_payload(io, bytes))
    }

    /// How long an engine.io session may stay without joining a namespace before it is
    /// closed (default 10 s; node's `connectTimeout` is 45 s).
    pub fn connect_timeout(self, timeout: Duration) -> Self {
        self.configure_io(move |io| io.connect_timeout(timeout))
    }

    /// How often engine.io pings each client (default 25 s, node's `pingInterval`).
    pub fn ping_interval(self, interval: Duration) -> Self {
        self.configure_io(move |io| io.ping_interval(interval))
    }

    /// How long a client may take to answer a ping before it is disconnected
    /// (`DisconnectReason::HeartbeatTimeout`; default 20 s, node's `pingTimeout`).
    pub fn ping_timeout(self, timeout: Duration) -> Self {
        self.configure_io(move |io| io.ping_timeout(timeout))
    }

    /// The transports clients may use (default both, node's `transports`): only
    /// `[TransportType::Websocket]` needs no sticky sessions behind a load balancer.
    pub fn transports<const N: usize>(self, transports: [crate::TransportType; N]) -> Self {
        self.configure_io(move |io| io.transports(transports))
    }

    /// The HTTP path of the Socket.IO endpoint (default `/socket.io`, node's `path`);
    /// the origin gate guards this path.
    pub fn socketio_path(self, path: &str) -> Self {
        let path = path.to_owned();
        self.configure_io(move |io| io.req_path(path))
    }

    /// Packets in MessagePack (feature `msgpack`; node's `socket.io-msgpack-parser`)
    /// instead of JSON text, for every namespace: clients must use the same parser
    /// (the Admin UI's page speaks JSON, so it cannot connect to such an app).
    /// `TestClientBuilder::msgpack` speaks it in tests.
    #[cfg(feature = "msgpack")]
    #[cfg_attr(docsrs, doc(cfg(feature = "msgpack")))]
    pub fn msgpack(mut self) -> Self {
        self.msgpack = true;
        self.configure_io(|io| io.with_parser(socketioxide::ParserConfig::msgpack()))
    }

    /// The pages of other origins that may connect, besides the server's own: exact
    /// origins (`"https://app.example.com"`) or every subdomain of a domain
    /// (`"https://*.example.com"`). Requests without `Origin` (non-browser clients) are
    /// always served. By default a page of another origin is refused with 403 on both
    /// transports; allowed ones get the CORS headers browsers need. A pattern that is not
    /// an origin fails [`build`](Self::build).
    pub fn allowed_origins<I, S>(mut self, origins: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut list = match std::mem::take(&mut self.origins) {
            Origins::Listed(list) => list,
            _ => Vec::new(),
        };
        for origin in origins {
            match OriginPattern::parse(origin.as_ref()) {
                Ok(pattern) => list.push(pattern),
                Err(e) => self.origin_errors.push(e),
            }
        }
        self.origins = Origins::Listed(list);
        self
    }

    /// Serves pages of every origin (with CORS headers for each): for a public API that
    /// authenticates each connection itself, never by cookie.
    pub fn allow_any_origin(mut self) -> Self {
        self.origins = Origins::Any;
        self
    }

    /// An async check of every Socket.IO handshake and websocket upgrade, after the
    /// origin check, for what an origin list cannot express: `Err(status)` refuses the
    /// request with that status, before engine.io sees it.
    ///
    /// ```
    /// use specter::ServiceManager;
    /// use axum::http::StatusCode;
    ///
    /// let app = ServiceManager::builder()
    ///     .allow_request(|head: axum::http::request::Parts| async move {
    ///         match head.headers.get("x-api-key") {
    ///             Some(key) if key == "let-me-in" => Ok(()),
    ///             _ => Err(StatusCode::UNAUTHORIZED),
    ///         }
    ///     })
    ///     .build()?;
    /// # Ok::<(), specter::Error>(())
    /// ```
    pub fn allow_request<F, Fut>(mut self, check: F) -> Self
    where
        F: Fn(axum::http::request::Parts) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<(), axum::http::StatusCode>> + Send + 'static,
    {
        self.allow_request = Some(Arc::new(move |head| Box::pin(check(head))));
        self
    }

    /// Wraps the app's whole HTTP service (every route, Socket.IO included) in a tower
    /// layer: compression, request ids, anything from tower-http. `serve` keeps its
    /// bounds and its graceful shutdown; [`router`](ServiceManager::router) has the
    /// layers too. Layers nest in the order added: the last is the outermost.
    pub fn http_layer<L>(mut self, layer: L) -> Self
    where
        L: tower::Layer<axum::routing::Route> + Clone + Send + Sync + 'static,
        L::Service: tower::Service<axum::extract::Request> + Clone + Send + Sync + 'static,
        <L::Service as tower::Service<axum::extract::Request>>::Response:
            axum::response::IntoResponse + 'static,
        <L::Service as tower::Service<axum::extract::Request>>::Error:
            Into<std::convert::Infallible> + 'static,
        <L::Service as tower::Service<axum::extract::Request>>::Future: Send + 'static,
    {
        self.http_layers
            .push(Arc::new(move |router: Router| router.layer(layer.clone())));
        self
    }

    /// How long a write to a client's connection may make no progress (default 10 s)
    /// before it fails and the client, who stopped reading, is disconnected by its
    /// heartbeat. Applies to connections that [`ServiceManager::serve`] accepts.
    pub fn write_timeout(mut self, timeout: Duration) -> Self {
        self.edge.write_timeout = timeout;
        self
    }

    /// How long a connection may take to send a request's head, counted from when it is
    /// ready for one (default 10 s): a connection that sends nothing, stops in the middle
    /// of its headers, or idles between requests without upgrading is closed.
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.edge.header_read_timeout = timeout;
        self
    }

    /// The largest request head a client may send (default 16 KiB; at least 8 KiB).
    pub fn max_header_bytes(mut self, bytes: usize) -> Self {
        self.edge.max_header_bytes = bytes;
        self
    }

    /// How many TCP connections `serve` holds at once (default 50,000); past it, a new
    /// connection is answered 503 and closed.
    pub fn max_connections(mut self, n: usize) -> Self {
        self.edge.max_connections = n;
        self
    }

    /// How many TCP connections one client address may hold at once (default 1,000);
    /// past it, 503. Behind a reverse proxy every client has the proxy's address.
    pub fn max_connections_per_address(mut self, n: usize) -> Self {
        self.edge.max_connections_per_address = n;
        self
    }

    /// How long `serve`'s graceful shutdown may take, every phase together (default
    /// 10 s): what is still running at the deadline is closed.
    pub fn shutdown_deadline(mut self, deadline: Duration) -> Self {
        self.edge.shutdown_deadline = deadline;
        self
    }

    /// The Redis connection the app's adapter uses (from
    /// [`connect_redis`](crate::adapter::connect_redis)); required with the `redis`
    /// feature.
    #[cfg(feature = "redis")]
    pub fn redis(mut self, connection: crate::adapter::RedisConnection) -> Self {
        self.redis = Some(connection);
        self
    }

    /// How events are dispatched: per-socket order, what may wait per socket, budgets,
    /// rate limits and timeouts, all in one [`DispatchSettings`] (the defaults without
    /// this call).
    pub fn dispatch(mut self, settings: DispatchSettings) -> Self {
        self.dispatch = settings;
        self
    }

    /// Serves [`ServiceManager::health`] as JSON at `path` (`"/health"`) on the app's
    /// router: status 200 when every component is up, 503 when one is not (or a
    /// background task of one panicked) or the app is shutting down, so that a load
    /// balancer drains the node.
    ///
    /// It tells anyone who asks each component's state, never the texts of boot errors
    /// or panics (they are in the log): [`health_details`](Self::health_details) adds
    /// them, for a route that only operators reach.
    pub fn health_route(mut self, path: &str) -> Self {
        self.health_path = Some(path.to_owned());
        self
    }

    /// Whether the health route includes the texts of boot errors and of background
    /// tasks' panics (default `false`; [`ServiceManager::health`] always has them).
    pub fn health_details(mut self, details: bool) -> Self {
        self.health_details = details;
        self
    }

    /// Serves the official Socket.IO Admin UI's protocol on `/admin` (feature `admin`):
    /// see [`admin`](crate::admin).
    #[cfg(feature = "admin")]
    pub fn admin_ui(mut self, admin: crate::admin::AdminUi) -> Self {
        let (handlers, interceptors) = admin.handlers();
        self.steps.extend(handlers.into_iter().map(Step::Handler));
        self.interceptors
            .extend(interceptors.into_iter().map(|(ns, i)| (Some(ns), i)));
        self
    }

    /// Adds an [`Interceptor`] around the dispatch of every emitted event of the app.
    /// Interceptors nest in the order added: the first is the outermost; app-wide ones wrap every
    /// namespace's own.
    pub fn interceptor(mut self, interceptor: impl Interceptor) -> Self {
        self.interceptors.push((None, Arc::new(interceptor)));
        self
    }

    /// Adds an [`Interceptor`] around the dispatch of every emitted event of `namespace`.
    pub fn interceptor_in(mut self, namespace: &str, interceptor: impl Interceptor) -> Self {
        self.interceptors
            .push((Some(namespace.to_owned()), Arc::new(interceptor)));
        self
    }

    /// Any other socketioxide setting: `.configure_io(|io| io.ping_interval(..))`.
    pub fn configure_io(
        mut self,
        configure: impl FnOnce(SocketIoBuilder) -> SocketIoBuilder + 'static,
    ) -> Self {
        self.configure.push(Box::new(configure));
        self
    }

    /// Checks the components (names must be unique) and builds the app; nothing starts
    /// until [`ServiceManager::boot`].
    pub fn build(self) -> Result<ServiceManager, Error> {
        if let Some(e) = self.origin_errors.into_iter().next() {
            return Err(Error::InvalidOrigin(e));
        }
        let services = Services::default();
        #[cfg(not(feature = "redis"))]
        let io = socketioxide::SocketIo::builder();
        #[cfg(feature = "redis")]
        let redis = self.redis.ok_or_else(|| {
            Error::Redis(
                "the `redis` feature runs the app on Redis: give the builder a connection, \
                 `.redis(specter::adapter::connect_redis(url).await?)`"
                    .into(),
            )
        })?;
        #[cfg(feature = "redis")]
        let link = redis.link;
        #[cfg(feature = "redis")]
        let io = socketioxide::SocketIo::builder().with_adapter::<Adapter>(redis.adapter);
        // Room for bursts in each connection's outgoing buffer (socketioxide's default is
        // 128 packets); its blocks are allocated as they fill, so idle sockets pay
        // nothing. `configure_io` can change it.
        let io = io
            .with_state(services.clone())
            .max_buffer_size(DEFAULT_MAX_BUFFERED_PACKETS)
            .ws_read_buffer_size(DEFAULT_WS_READ_BUFFER)
            .connect_timeout(DEFAULT_CONNECT_TIMEOUT);
        let mut io = max_payload(io, DEFAULT_MAX_PAYLOAD);
        for configure in self.configure {
            io = configure(io);
        }
        let mut components = Vec::new();
        let mut routes = Vec::new();
        let mut add_controller = |parts: ControllerParts, components: &mut Vec<Arc<Component>>| {
            routes.push(parts.routes);
            components.push(Arc::new(Component::socket(
                parts.handler,
                ComponentKind::Controller,
            )));
        };
        for step in self.steps {
            match step {
                Step::Discover => {
                    for r in registry::discovered() {
                        match r.construct {
                            Construct::Handler(make) => components
                                .push(Arc::new(Component::socket(make(), ComponentKind::Handler))),
                            Construct::Controller(make) => add_controller(make(), &mut components),
                        }
                    }
                }
                Step::Handler(h) => {
                    components.push(Arc::new(Component::socket(h, ComponentKind::Handler)))
                }
                Step::Controller(parts) => add_controller(parts, &mut components),
                Step::Service(service, install) => {
                    io = install(&services, io);
                    components.push(Arc::new(Component::service(service)));
                }
            }
        }
        for (i, c) in components.iter().enumerate() {
            check_unique(&components[..i], c)?;
        }
        let (layer, io) = io.build_layer();
        let path = io.config().engine_config.req_path.to_string();
        let gate = Arc::new(Gate::new(&path, self.origins, self.allow_request));
        #[cfg(feature = "redis")]
        let recovering = self.dispatch.recovery.is_some();
        let ingress = SocketIngress::with_settings(io, self.dispatch);
        ingress.set_text_wire(!self.msgpack);
        #[cfg(feature = "redis")]
        {
            redis.nodes.announce(ingress.io().config().server_id);
            if let (true, Some(driver)) = (recovering, redis.nodes.driver()) {
                ingress.recover_across(&link, driver.clone());
            }
            ingress.set_nodes(redis.nodes);
        }
        for (namespace, i) in self.interceptors {
            match namespace {
                None => ingress.add_interceptor(i),
                Some(ns) => ingress.add_interceptor_in(&ns, i)?,
            }
        }
        Ok(ServiceManager {
            inner: Arc::new(Inner {
                layer,
                ingress,
                services,
                components: Mutex::new(components),
                routes: Mutex::new(routes),
                gate: tokio::sync::Mutex::new(false),
                closing: std::sync::atomic::AtomicBool::new(false),
                health_path: self.health_path,
                health_details: self.health_details,
                origin_gate: gate,
                caps: Arc::default(),
                edge: self.edge,
                http_layers: self.http_layers,
                #[cfg(feature = "redis")]
                link,
            }),
        })
    }
}

/// Bounds every message a client sends: engine.io's long-polling body, and tungstenite's
/// websocket message and frame (the frame bound is the smaller of the two).
fn max_payload(io: SocketIoBuilder, bytes: u64) -> SocketIoBuilder {
    let ws = usize::try_from(bytes).unwrap_or(usize::MAX);
    io.max_payload(bytes)
        .ws_max_message_size(ws)
        .ws_max_frame_size(ws)
}

impl ServiceManager {
    /// Starts building an app.
    pub fn builder() -> ServiceManagerBuilder {
        ServiceManagerBuilder::default()
    }
}
