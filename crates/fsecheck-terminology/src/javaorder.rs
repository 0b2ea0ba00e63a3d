//! The order in which the gateway's `Collectors.groupingBy` (a `java.util.HashMap` filled with
//! `computeIfAbsent`) iterates its keys, so that our copy of the gateway's aggregated vocabulary
//! message lists its groups in the same order as the gateway.
//!
//! A `HashMap` iterates bucket by bucket; a key's bucket is `spread(hashCode) & (capacity - 1)`
//! with `spread(h) = h ^ (h >>> 16)`. `computeIfAbsent` puts a new key at the **head** of its
//! bucket (unlike `put`, which appends), and it resizes (doubling, keeping the relative order in
//! each bucket) at the *start* of a call when the size already exceeds 3/4 of the capacity, so the
//! final capacity depends on every call, not only on the number of keys. Not modelled: tree bins
//! (8+ colliding keys in one bucket), which never occur with a handful of code-system keys.

/// `String.hashCode()`: `s[0]*31^(n-1) + … + s[n-1]` over UTF-16 code units, wrapping.
pub fn string_hash(s: &str) -> i32 {
    s.encode_utf16()
        .fold(0i32, |h, u| h.wrapping_mul(31).wrapping_add(i32::from(u)))
}

/// `CodeSystemVersionDTO.hashCode()`: hash(codeSystem) + hash(version), null = 0.
pub fn system_version_hash(system: &str, version: Option<&str>) -> i32 {
    string_hash(system).wrapping_add(version.map_or(0, string_hash))
}

fn bucket(hash: i32, capacity: usize) -> usize {
    let h = hash as u32;
    ((h ^ (h >> 16)) as usize) & (capacity - 1)
}

/// Simulates `groupingBy` over a stream whose elements have the given keys: `keys[i]` is the key
/// index of element `i` (keys numbered by first appearance, `0..n`), `hashes[k]` the hash of key
/// `k`. Returns the key indexes in iteration order.
pub fn grouping_order(keys: &[usize], hashes: &[i32]) -> Vec<usize> {
    let mut capacity = 16usize;
    let mut size = 0usize;
    let mut bins: Vec<Vec<usize>> = vec![Vec::new(); capacity];
    let mut seen = vec![false; hashes.len()];
    for &k in keys {
        if size > capacity / 4 * 3 {
            let new_capacity = capacity * 2;
            let mut new_bins: Vec<Vec<usize>> = vec![Vec::new(); new_capacity];
            for bin in &bins {
                for &key in bin {
                    new_bins[bucket(hashes[key], new_capacity)].push(key);
                }
            }
            bins = new_bins;
            capacity = new_capacity;
        }
        if !seen[k] {
            seen[k] = true;
            size += 1;
            bins[bucket(hashes[k], capacity)].insert(0, k);
        }
    }
    bins.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_hash_matches_java() {
        // Values printed by java.lang.String#hashCode (OpenJDK).
        assert_eq!(string_hash(""), 0);
        assert_eq!(string_hash("hello"), 99162322);
        assert_eq!(string_hash("2.16.840.1.113883.6.103"), 1962743762);
        assert_eq!(string_hash("2.16.840.1.113883.6.73"), -213780162);
        assert_eq!(string_hash("2.16.840.1.113883.5.1"), 962934222);
        assert_eq!(string_hash("2.1.0"), 47594999);
    }

    /// Runs `grouping_order` on a stream of "system|version" keys and renders the key order the
    /// way the gateway prints CodeSystemVersionDTO.
    fn order(stream: &[&str]) -> String {
        let mut distinct: Vec<&str> = Vec::new();
        let keys: Vec<usize> = stream
            .iter()
            .map(|k| match distinct.iter().position(|d| d == k) {
                Some(i) => i,
                None => {
                    distinct.push(k);
                    distinct.len() - 1
                }
            })
            .collect();
        let split = |k: &str| {
            let (s, v) = k.split_once('|').unwrap();
            (s.to_string(), (!v.is_empty()).then(|| v.to_string()))
        };
        let hashes: Vec<i32> = distinct
            .iter()
            .map(|k| {
                let (s, v) = split(k);
                system_version_hash(&s, v.as_deref())
            })
            .collect();
        grouping_order(&keys, &hashes)
            .into_iter()
            .map(|i| match split(distinct[i]) {
                (s, Some(v)) => format!("{s} v{v}"),
                (s, None) => s,
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    const P: &str = "2.16.840.1.113883.";

    fn stream(short: &[&str]) -> Vec<String> {
        short.iter().map(|s| format!("{P}{s}")).collect()
    }

    fn expect(short: &[&str]) -> String {
        short
            .iter()
            .map(|s| format!("{P}{s}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    // Expected orders below were printed by OpenJDK running
    // `keys.stream().collect(Collectors.groupingBy(k -> k)).keySet()` with a key class hashing
    // like CodeSystemVersionDTO.
    const THIRTEEN: [&str; 13] = [
        "6.103|",
        "5.1|2.1.0",
        "6.73|",
        "5.112|2.1.0",
        "2.9.6.1.56.2|",
        "5.1052|2.1.0",
        "2.9.6.1.54.1|",
        "2.9.6.1.54.4|",
        "2.9.6.1.54.5|",
        "2.9.6.1.54.6|",
        "2.9.77.22.11.2|",
        "2.9.77.22.11.4|",
        "5.25|2.2.0",
    ];

    #[test]
    fn same_bucket_newest_first() {
        let s = stream(&["6.103|", "6.73|", "5.1|2.1.0"]);
        let s: Vec<&str> = s.iter().map(String::as_str).collect();
        assert_eq!(order(&s), expect(&["5.1 v2.1.0", "6.73", "6.103"]));
    }

    #[test]
    fn thirteen_keys_stay_in_sixteen_buckets() {
        let s = stream(&THIRTEEN);
        let s: Vec<&str> = s.iter().map(String::as_str).collect();
        assert_eq!(
            order(&s),
            expect(&[
                "2.9.77.22.11.4",
                "5.1052 v2.1.0",
                "5.112 v2.1.0",
                "2.9.6.1.54.5",
                "5.25 v2.2.0",
                "2.9.6.1.54.6",
                "2.9.6.1.54.4",
                "2.9.6.1.56.2",
                "2.9.6.1.54.1",
                "5.1 v2.1.0",
                "2.9.77.22.11.2",
                "6.73",
                "6.103",
            ])
        );
    }

    #[test]
    fn one_more_call_after_the_thirteenth_key_resizes() {
        let mut s = stream(&THIRTEEN);
        s.push(format!("{P}6.103|"));
        let s: Vec<&str> = s.iter().map(String::as_str).collect();
        assert_eq!(
            order(&s),
            expect(&[
                "5.112 v2.1.0",
                "2.9.6.1.54.5",
                "5.25 v2.2.0",
                "2.9.6.1.54.6",
                "2.9.6.1.54.4",
                "2.9.6.1.56.2",
                "2.9.6.1.54.1",
                "2.9.77.22.11.2",
                "6.103",
                "2.9.77.22.11.4",
                "5.1052 v2.1.0",
                "5.1 v2.1.0",
                "6.73",
            ])
        );
    }
}
