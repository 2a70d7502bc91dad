use specter::prelude::*;

#[derive(Default)]
struct H;

#[handler(name = "h")]
impl H {
    #[on("a")]
    async fn a(&self, socket: SocketRef, count: u32) {
        let _ = (socket, count);
    }
}

fn main() {}
