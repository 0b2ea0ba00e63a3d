//! Stress: `pades_many_revisions N_OBJECTS N_REVISIONS` builds a PDF with many objects and
//! incremental updates in memory and times `analyze` on it.
fn main() {
    let a: Vec<usize> = std::env::args()
        .skip(1)
        .map(|x| x.parse().unwrap())
        .collect();
    let (objs, revs) = (a[0], a[1]);
    let mut b = b"%PDF-1.7\n".to_vec();
    let mut offs = vec![];
    offs.push(b.len());
    b.extend_from_slice(b"1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n");
    offs.push(b.len());
    b.extend_from_slice(b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n");
    for i in 3..=objs {
        offs.push(b.len());
        b.extend_from_slice(format!("{i} 0 obj\n<< /N {i} >>\nendobj\n").as_bytes());
    }
    let mut xref = b.len();
    b.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objs + 1).as_bytes());
    for o in &offs {
        b.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    b.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objs + 1
        )
        .as_bytes(),
    );
    for r in 0..revs {
        let n = 3 + r % (objs - 2);
        let off = b.len();
        b.extend_from_slice(format!("{n} 0 obj\n<< /N {n} /R {r} >>\nendobj\n").as_bytes());
        let x = b.len();
        b.extend_from_slice(format!("xref\n0 1\n0000000000 65535 f \n{n} 1\n{off:010} 00000 n \ntrailer\n<< /Size {} /Root 1 0 R /Prev {xref} >>\nstartxref\n{x}\n%%EOF\n", objs + 1).as_bytes());
        xref = x;
    }
    let t = std::time::Instant::now();
    let r = fsecheck_pades::analyze(&b, &Default::default());
    println!(
        "{} bytes, {} revisions read, {:?}",
        b.len(),
        r.revisions.len(),
        t.elapsed()
    );
}
