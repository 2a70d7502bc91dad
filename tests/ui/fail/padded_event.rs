use specter::prelude::*;

#[derive(Default)]
struct H;

#[handler(name = "h")]
impl H {
    #[on(" chat")]
    fn chat(&self) {}
}

fn main() {}
