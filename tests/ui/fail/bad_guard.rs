use specter::prelude::*;

#[derive(Default)]
struct H;

fn not_a_guard(count: u32) -> String {
    count.to_string()
}

#[handler(name = "h")]
impl H {
    #[on("a", guard = not_a_guard)]
    fn a(&self) {}
}

fn main() {}
