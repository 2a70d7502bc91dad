use specter::prelude::*;

#[derive(Default)]
struct H;

#[handler(name = "h", name = "again")]
impl H {
    #[on("a", priority = 1, priority = 2)]
    fn a(&self) {}
}

fn main() {}
