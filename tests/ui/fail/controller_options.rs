use specter::Controller;

#[derive(Default, Controller)]
#[controller(name = "chat", rout = "/chat", route = "chat")]
struct Chat;

#[derive(Default, Controller)]
struct Nameless;

fn main() {}
