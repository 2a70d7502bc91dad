use specter::prelude::*;

#[derive(Default)]
struct H;

trait Greet {
    fn hello(&self);
}

#[handler(name = "h")]
impl Greet for H {
    fn hello(&self) {}
}

fn main() {}
