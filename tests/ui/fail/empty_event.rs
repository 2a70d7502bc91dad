use specter::prelude::*;

#[derive(Default)]
struct H;

#[handler(name = "h")]
impl H {
    #[on("")]
    fn empty(&self) {}
}

fn main() {}
