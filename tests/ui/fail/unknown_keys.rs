use specter::prelude::*;

#[derive(Default)]
struct H;

#[handler(name = "h", nmae = "x")]
impl H {
    #[on("a", prio = 1)]
    fn a(&self) {}
}

fn main() {}
