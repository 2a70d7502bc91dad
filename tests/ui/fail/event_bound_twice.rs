use specter::prelude::*;

#[derive(Default)]
struct H;

#[handler(name = "h")]
impl H {
    #[on("message")]
    fn first(&self) {}

    #[on("message", priority = 5)]
    fn second(&self) {}
}

fn main() {}
