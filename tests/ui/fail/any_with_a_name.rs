use specter::prelude::*;

#[derive(Default)]
struct H;

#[handler(name = "h")]
impl H {
    #[on("a", any)]
    fn a(&self) {}
}

fn main() {}
