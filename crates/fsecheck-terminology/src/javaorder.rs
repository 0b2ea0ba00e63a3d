//! The order in which `java.util.HashMap` iterates its keys, so that the gateway's aggregated
//! vocabulary message (built by `Collectors.groupingBy`, i.e. a `HashMap`) lists its groups in the
//! same order as the gateway does.
//!
//! A `HashMap` iterates bucket by bucket; a key's bucket is `spread(hashCode) & (capacity - 1)`
//! with `spread(h) = h ^ (h >>> 16)`; inside a bucket keys keep insertion order (a resize splits a
//! bucket in two and keeps the relative order). The capacity starts at 16 and doubles whenever the
//! size exceeds 3/4 of it. Not modelled: tree bins (8+ colliding keys in one bucket), which never
//! occur with a handful of code-system keys.

/// `String.hashCode()`: `s[0]*31^(n-1) + … + s[n-1]` over UTF-16 code units, wrapping.
pub fn string_hash(s: &str) -> i32 {
    s.encode_utf16()
        .fold(0i32, |h, u| h.wrapping_mul(31).wrapping_add(i32::from(u)))
}

/// `CodeSystemVersionDTO.hashCode()`: hash(codeSystem) + hash(version), null = 0.
pub fn system_version_hash(system: &str, version: Option<&str>) -> i32 {
    string_hash(system).wrapping_add(version.map_or(0, string_hash))
}

fn capacity_for(len: usize) -> usize {
    let mut cap = 16usize;
    while len > cap / 4 * 3 {
        cap *= 2;
    }
    cap
}

/// Indexes of `hashes` (keys in insertion order, all distinct keys) in HashMap iteration order.
pub fn iteration_order(hashes: &[i32]) -> Vec<usize> {
    let cap = capacity_for(hashes.len());
    let mut idx: Vec<usize> = (0..hashes.len()).collect();
    // Stable sort by bucket keeps insertion order inside a bucket.
    idx.sort_by_key(|&i| {
        let h = hashes[i] as u32;
        ((h ^ (h >> 16)) as usize) & (cap - 1)
    });
    idx
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_hash_matches_java() {
        // Values computed by java.lang.String#hashCode.
        assert_eq!(string_hash(""), 0);
        assert_eq!(string_hash("a"), 97);
        assert_eq!(string_hash("hello"), 99162322);
        assert_eq!(string_hash("2.16.840.1.113883.5.1"), {
            // recompute with i64 arithmetic modulo 2^32 as an independent check
            let mut h: i64 = 0;
            for u in "2.16.840.1.113883.5.1".encode_utf16() {
                h = (h * 31 + i64::from(u)) & 0xffff_ffff;
            }
            h as u32 as i32
        });
    }

    #[test]
    fn order_is_by_bucket_then_insertion() {
        // 17 and 1 share bucket 1 in a 16-slot table; 2 is in bucket 2; 0 in bucket 0.
        assert_eq!(iteration_order(&[2, 17, 0, 1]), vec![2, 1, 3, 0]);
        // 13 keys force a 32-slot table: 17 now sits in bucket 17, after 2.
        let mut keys = vec![2, 17, 0, 1];
        keys.extend(100..109);
        let order = iteration_order(&keys);
        let pos = |k: i32| order.iter().position(|&i| keys[i] == k).unwrap();
        assert!(pos(2) < pos(17));
        assert!(pos(0) < pos(1));
    }
}
