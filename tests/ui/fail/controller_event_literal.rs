use specter::{Controller, Events};

#[derive(Default, Controller)]
#[controller(name = "chat")]
struct Chat;

impl Chat {
    fn on_message(&self) {}
}

impl Controller for Chat {
    fn build_events(&self, events: &mut Events<Self>) {
        events.on(specter::event!("message "), Self::on_message);
    }
}

fn main() {}
