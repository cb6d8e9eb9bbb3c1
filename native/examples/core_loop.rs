use edgewatch_native::transform::{Message, Profile, transform_into};
use edgewatch_native::window::Window;
fn main() {
    let data = std::fs::read("/tmp/mixed.bin").unwrap();
    let mut msgs = Vec::new();
    let mut i = 0;
    while i < data.len() {
        let kl = u32::from_le_bytes(data[i..i + 4].try_into().unwrap()) as usize;
        let vl = u32::from_le_bytes(data[i + 4..i + 8].try_into().unwrap()) as usize;
        let k = &data[i + 8..i + 8 + kl];
        let v = &data[i + 8 + kl..i + 8 + kl + vl];
        msgs.push((k, v));
        i += 8 + kl + vl;
    }
    let p = Profile {
        ingested: "2026-01-01T00:00:00.000000Z",
        dataset: "edge",
        keep_original: false,
        envelope: "auto",
        line_format: "auto",
        index_prefix: "edgewatch-logs",
        namespace: None,
        op_type: "index",
        window: Window { back_us: 7 * 86_400_000_000, ahead_us: 86_400_000_000 },
    };
    let mut best = 0.0f64;
    let mut out = Vec::with_capacity(1 << 24);
    for _ in 0..15 {
        let t = std::time::Instant::now();
        for (n, (k, v)) in msgs.iter().enumerate() {
            let m = Message {
                value: v,
                key: Some(k),
                topic: "t",
                partition: 0,
                offset: n as i64,
                timestamp_ms: Some(1_764_064_800_123),
            };
            let _ = transform_into(&m, &p, &mut out);
            if out.len() > 1 << 23 {
                out.clear();
            }
        }
        best = best.max(msgs.len() as f64 / t.elapsed().as_secs_f64());
    }
    println!("best {:.0} ev/s", best);
}
