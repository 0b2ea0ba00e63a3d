//! Times `analyze` on one file: `pades_time TRUST PDF [N]`.
fn main() {
    let a: Vec<String> = std::env::args().collect();
    let trust = fsecheck_pades::TrustStore::from_path(std::path::Path::new(&a[1])).unwrap();
    let opts = fsecheck_pades::Options {
        trust,
        ..Default::default()
    };
    let b = std::fs::read(&a[2]).unwrap();
    let n: usize = a.get(3).and_then(|x| x.parse().ok()).unwrap_or(200);
    let t = std::time::Instant::now();
    for _ in 0..n {
        std::hint::black_box(fsecheck_pades::analyze(&b, &opts));
    }
    println!("{:.1} µs/doc", t.elapsed().as_secs_f64() * 1e6 / n as f64);
}
