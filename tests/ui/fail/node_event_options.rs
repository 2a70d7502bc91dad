use specter::NodeEvent;

// A node event is declared as a server event is, without the options for clients.
#[derive(serde::Serialize, serde::Deserialize, NodeEvent)]
#[event("presence:roster", namespace = "/chat")]
struct Roster;

// It travels between nodes, so it must deserialize too.
#[derive(serde::Serialize, NodeEvent)]
#[event("one-way")]
struct OneWay;

fn main() {}
