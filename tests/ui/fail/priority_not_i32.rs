use specter::prelude::*;

#[derive(Default)]
struct H;

const HIGH: i32 = 1;

#[handler(name = "h")]
impl H {
    #[on("a", priority = "high")]
    fn a(&self) {}

    #[on("b", priority = 1.5)]
    fn b(&self) {}

    #[on("c", priority = HIGH)]
    fn c(&self) {}
}

fn main() {}
