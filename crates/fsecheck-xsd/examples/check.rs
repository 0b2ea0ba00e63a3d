//! Validates XML files against a schema set and prints the findings (one per line).
//! `cargo run -p fsecheck-xsd --example check -- <set dir> <file.xml>...`
fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args.next().expect("usage: check <set dir> <file.xml>...");
    let set = match fsecheck_xsd::SchemaSet::load(std::path::Path::new(&dir)) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("schema error: {e}");
            std::process::exit(2);
        }
    };
    let mut bad = false;
    for f in args {
        let text = std::fs::read_to_string(&f).expect("readable file");
        let doc = match roxmltree::Document::parse(&text) {
            Ok(d) => d,
            Err(e) => {
                println!("{f}: not well-formed: {e}");
                bad = true;
                continue;
            }
        };
        let lines = fsecheck_xml::LineIndex::new(&text);
        let findings = set.validate(&doc);
        bad |= !findings.is_empty();
        for x in &findings {
            let (l, c) = x
                .location
                .span
                .map_or((0, 0), |s| lines.line_col(&text, s.start));
            println!(
                "{f}:{l}:{c}: {} {} [{}]",
                x.id,
                x.message,
                x.location.xpath.as_deref().unwrap_or("")
            );
        }
        if findings.is_empty() {
            println!("{f}: valid");
        }
    }
    std::process::exit(i32::from(bad));
}
