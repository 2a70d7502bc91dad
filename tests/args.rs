//! Arguments as clients send them: all of an event's arguments with binary ones in
//! place (`Args`), positional typed ones (`Data<(A, B)>`), several answer arguments by
//! explicit choice only (`Spread`), everything else one argument.

mod common;

use bytes::Bytes;
use serde::Serialize;
use serde_json::json;
use specter::prelude::*;
use specter::testing::{Arg as ClientArg, TestClient};
use specter::{Args, Spread};

#[derive(Serialize)]
struct Point(i32, i32);

struct Shapes;

#[handler(name = "shapes", discover = false)]
impl Shapes {
    /// Every argument back, in order, binary ones as binary.
    #[on("echo")]
    fn echo(&self, Args(args): Args) -> Args {
        Args(args)
    }

    /// What the arguments are, one by one.
    #[on("kinds")]
    fn kinds(&self, Args(args): Args) -> Vec<String> {
        args.iter()
            .map(|a| match a {
                specter::Arg::Binary(b) => format!("binary {}", b.len()),
                specter::Arg::Text(s) => format!("string {s}"),
                specter::Arg::Number(n) => format!("number {n}"),
                specter::Arg::Object(o) => format!("object of {}", o.len()),
                other => format!("{other:?}"),
            })
            .collect()
    }

    #[on("stat")]
    fn stat(&self, Data((path, size)): Data<(String, u64)>) -> Spread<(String, u64, bool)> {
        Spread((path, size, size > 0))
    }

    #[on("upload")]
    fn upload(&self, Data((name, file)): Data<(String, Bytes)>) -> String {
        format!("{name}: {} bytes", file.len())
    }

    #[on("array")]
    fn array(&self) -> Ack<[i32; 2]> {
        Ack([1, 2])
    }

    #[on("tuple")]
    fn tuple(&self) -> Ack<(i32, i32)> {
        Ack((1, 2))
    }

    #[on("tuple struct")]
    fn tuple_struct(&self) -> Ack<Point> {
        Ack(Point(1, 2))
    }

    #[on("emit")]
    async fn emit(&self, deliver: Deliver) {
        deliver.emit("one", &(1, 2)).await.unwrap();
        deliver.emit_args("two", &(1, 2)).await.unwrap();
    }
}

fn app() -> ServiceManager {
    ServiceManager::builder().handler(Shapes).build().unwrap()
}

#[tokio::test]
async fn all_arguments_arrive_with_binary_ones_in_place() {
    let app = app();
    let client = TestClient::connect(&app).await.unwrap();
    let args = vec![
        ClientArg::from(json!("a")),
        ClientArg::Binary(vec![1, 2, 3]),
        ClientArg::from(json!({"n": 1, "list": [true, null]})),
        ClientArg::Binary(vec![255]),
        ClientArg::from(json!(4.5)),
    ];
    let kinds = client
        .emit_args_with_ack("kinds", args.clone())
        .await
        .unwrap();
    assert_eq!(
        kinds,
        [json!([
            "string a",
            "binary 3",
            "object of 2",
            "binary 1",
            "number 4.5"
        ])]
    );
    let echoed = client.emit_args_with_ack("echo", args).await.unwrap();
    assert_eq!(
        echoed,
        [
            json!("a"),
            json!([1, 2, 3]),
            json!({"n": 1, "list": [true, null]}),
            json!([255]),
            json!(4.5)
        ]
    );
}

#[tokio::test]
async fn positional_arguments_are_typed_and_several_answers_are_chosen() {
    let app = app();
    let client = TestClient::connect(&app).await.unwrap();
    let ack = client
        .emit_args_with_ack("stat", vec![json!("/a").into(), json!(7).into()])
        .await
        .unwrap();
    assert_eq!(ack, [json!("/a"), json!(7), json!(true)]);
    let ack = client
        .emit_args_with_ack("upload", vec![json!("a.png").into(), vec![1u8, 2].into()])
        .await
        .unwrap();
    assert_eq!(ack, [json!("a.png: 2 bytes")]);
}

#[tokio::test]
async fn arrays_tuples_and_tuple_structs_are_one_argument() {
    let app = app();
    let mut client = TestClient::connect(&app).await.unwrap();
    for event in ["array", "tuple", "tuple struct"] {
        assert_eq!(
            client.emit_with_ack(event, ()).await.unwrap(),
            [json!([1, 2])],
            "{event}"
        );
    }
    client.emit("emit", ()).unwrap();
    let one = client.recv().await.unwrap();
    assert_eq!((one.event.as_str(), one.args), ("one", vec![json!([1, 2])]));
    let two = client.recv().await.unwrap();
    assert_eq!(
        (two.event.as_str(), two.args),
        ("two", vec![json!(1), json!(2)])
    );
}

#[tokio::test]
async fn node_sends_five_mixed_arguments_and_gets_them_back_intact() {
    let server = common::TestServer::start(app()).await;
    let mut c = common::Client::node().await;
    let s = c.connect(&server.url).await.unwrap();
    let args = json!([
        "a",
        {"$bin": [1, 2, 3]},
        {"n": 1, "file": {"$bin": [7, 8]}},
        {"$bin": [255, 0]},
        true
    ]);
    assert_eq!(c.emit_ack(&s, "echo", args.clone()).await, args);
    assert_eq!(
        c.emit_ack(&s, "stat", json!(["/b", 0])).await,
        json!(["/b", 0, false])
    );
    assert_eq!(c.emit_ack(&s, "array", json!([])).await, json!([[1, 2]]));
    server.stop().await;
}
