// A mistake in the macro's options is reported once: the handler and the controller
// still implement their traits (the macros' best guess), so the code that uses them
// does not fail a second time.
use specter::prelude::*;
use specter::{Controller, Events};

#[derive(Default)]
struct H;

#[handler(name = "h", discover = false, colour = "red")]
impl H {
    #[on("a")]
    fn a(&self) {}
}

#[derive(Default, Controller)]
#[controller(route = "/c", discover = false)]
struct C;

impl Controller for C {
    fn build_events(&self, events: &mut Events<Self>) {
        events.on("b", Self::b);
    }
}

impl C {
    fn b(&self) {}
}

fn main() {
    let _ = ServiceManager::builder().handler(H).controller(C);
}
