use specter::prelude::*;

#[derive(Default)]
struct H;

#[handler(name = "h")]
impl H {
    #[on("a")]
    fn no_receiver() {}

    #[on("b")]
    fn by_value(self) {}

    #[on("c")]
    fn mutable(&mut self) {}
}

fn main() {}
