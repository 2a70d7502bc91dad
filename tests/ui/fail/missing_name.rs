use specter::prelude::*;

#[derive(Default)]
struct H;

#[handler]
impl H {
    #[on("a")]
    fn a(&self) {}
}

fn main() {}
