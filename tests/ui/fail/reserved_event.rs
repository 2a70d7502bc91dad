use specter::prelude::*;

#[derive(Default)]
struct H;

#[handler(name = "h")]
impl H {
    #[on("newListener")]
    fn listener(&self) {}

    #[on("connect_error")]
    fn connect_error(&self) {}
}

fn main() {}
