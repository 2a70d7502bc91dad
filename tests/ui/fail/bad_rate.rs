use specter::prelude::*;

#[derive(Default)]
struct H;

#[handler(name = "h")]
impl H {
    #[on("a", rate = "5 per parsec")]
    async fn a(&self) {}

    #[on("b", rate = "0/s")]
    async fn b(&self) {}

    #[on("c", rate)]
    async fn c(&self) {}

    #[on("d", rate = "10/s", rate = "5/s")]
    async fn d(&self) {}
}

fn main() {}
