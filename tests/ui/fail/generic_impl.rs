use specter::prelude::*;

#[derive(Default)]
struct H<T>(T);

#[handler(name = "h")]
impl<T: Send + Sync + 'static> H<T> {
    #[on("a")]
    fn a(&self) {}
}

fn main() {}
