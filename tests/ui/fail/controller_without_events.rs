use specter::Controller;

#[derive(Default, Controller)]
#[controller(name = "chat", route = "/chat")]
struct Chat;

fn main() {}
