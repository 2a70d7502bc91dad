use specter::prelude::*;

#[derive(Default)]
struct H;

struct Opaque;

#[handler(name = "h")]
impl H {
    #[on("a")]
    fn a(&self) -> Opaque {
        Opaque
    }
}

fn main() {}
