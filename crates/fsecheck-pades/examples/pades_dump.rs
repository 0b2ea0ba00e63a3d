//! Prints the JSON report for each PDF given: `pades_dump [--trust FILE|DIR] [--mode attachment|resource|auto] [--summary] PDF...`

use fsecheck_pades::{analyze, CdaMode, Options, TrustStore};

fn main() {
    let mut opts = Options::default();
    let mut summary = false;
    let mut args = std::env::args().skip(1);
    let mut files = vec![];
    while let Some(a) = args.next() {
        match a.as_str() {
            "--trust" => {
                let p = args.next().expect("--trust needs a path");
                opts.trust = TrustStore::from_path(std::path::Path::new(&p)).unwrap_or_else(|e| {
                    eprintln!("{e}");
                    std::process::exit(2)
                });
            }
            "--mode" => {
                opts.cda_mode = match args.next().as_deref() {
                    Some("attachment") => CdaMode::Attachment,
                    Some("resource") => CdaMode::Resource,
                    _ => CdaMode::Auto,
                }
            }
            "--summary" => summary = true,
            _ => files.push(a),
        }
    }
    for f in files {
        let bytes = match std::fs::read(&f) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("{f}: {e}");
                continue;
            }
        };
        let r = analyze(&bytes, &opts);
        if summary {
            let sigs: Vec<String> = r
                .signatures
                .iter()
                .map(|s| {
                    format!(
                        "{}:{}/{}/{}/{}/{}",
                        s.field,
                        s.integrity,
                        s.chain_trust.split(' ').next().unwrap_or(""),
                        s.level,
                        s.coverage,
                        s.etsi_indication
                    )
                })
                .collect();
            println!(
                "{f}\n  ades={} gw_sig={} gw_pub={} gw_cda={:?} cda={} via={:?} mod={}\n  sigs={:?}\n  findings={:?}",
                r.ades.verdict,
                r.gateway.signature_check,
                r.gateway.publication,
                r.gateway.cda_located_via,
                r.cda_extraction.result,
                r.cda_extraction.located_via,
                r.modification,
                sigs,
                r.findings.iter().map(|x| format!("{}:{}", x.severity, x.id)).collect::<Vec<_>>()
            );
        } else {
            println!("{}", serde_json::to_string_pretty(&r).unwrap());
        }
    }
}
