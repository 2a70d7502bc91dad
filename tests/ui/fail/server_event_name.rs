use specter::ServerEvent;

#[derive(serde::Serialize, ServerEvent)]
#[event(" padded")]
struct Padded;

#[derive(serde::Serialize, ServerEvent)]
struct Nameless;

#[derive(serde::Serialize, ServerEvent)]
#[event("ok", namespace = "chat")]
struct NoSlash;

fn main() {}
