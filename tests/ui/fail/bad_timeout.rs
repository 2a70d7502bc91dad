use specter::prelude::*;

#[derive(Default)]
struct H;

#[handler(name = "h")]
impl H {
    #[on("a", timeout = "5 parsecs")]
    async fn a(&self) {}

    #[on("b", timeout = 5)]
    async fn b(&self) {}

    #[on("c", timeout)]
    async fn c(&self) {}
}

fn main() {}
