//! `crate = ".."` is the path every generated item names the runtime by: a wrong one
//! is reported, which proves no path is hard-coded.
use specter::prelude::*;

#[derive(Default)]
struct H;

#[handler(name = "h", crate = "not_the_runtime")]
impl H {
    #[on("a")]
    fn a(&self) {}
}

fn main() {}
