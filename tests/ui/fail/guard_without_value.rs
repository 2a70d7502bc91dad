use specter::prelude::*;

#[derive(Default)]
struct H;

#[handler(name = "h")]
impl H {
    #[on("b", guard)]
    fn b(&self) {}
}

fn main() {}
