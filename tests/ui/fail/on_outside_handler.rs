use specter::prelude::*;

struct H;

impl H {
    #[on("a")]
    fn a(&self) {}
}

fn main() {}
