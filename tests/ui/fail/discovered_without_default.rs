use specter::prelude::*;

struct NeedsState {
    greeting: String,
}

#[handler(name = "needs_state")]
impl NeedsState {
    #[on("hello")]
    fn hello(&self) -> String {
        self.greeting.clone()
    }
}

fn main() {}
