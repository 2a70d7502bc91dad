//! In-process round trip (emit with ack) through Specter and raw socketioxide, against
//! the number of subscribers: `cargo bench -p specter-bench --bench dispatch`.
//! The slope over S is Specter's cost per subscriber; the gap to raw socketioxide at
//! S = 1 is its fixed cost per dispatch.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use serde_json::json;
use specter::testing::TestClient;
use specter_bench::apps;

fn dispatch(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut group = c.benchmark_group("round trip");
    for s in [1, 3, 10] {
        let (app, router) = rt.block_on(apps::specter(s, 1));
        let client = rt
            .block_on(TestClient::builder().connect_router(router))
            .unwrap();
        let payload = json!({ "seq": 1 });
        group.bench_with_input(BenchmarkId::new("specter", s), &s, |b, _| {
            b.to_async(&rt)
                .iter(|| client.emit_with_ack("bench", &payload));
        });
        rt.block_on(client.disconnect());
        rt.block_on(app.shutdown());

        let (_io, router) = apps::raw(s, 1);
        let client = rt
            .block_on(TestClient::builder().connect_router(router))
            .unwrap();
        group.bench_with_input(BenchmarkId::new("raw socketioxide", s), &s, |b, _| {
            b.to_async(&rt)
                .iter(|| client.emit_with_ack("bench", &payload));
        });
        rt.block_on(client.disconnect());
    }
    group.finish();
}

criterion_group!(benches, dispatch);
criterion_main!(benches);
