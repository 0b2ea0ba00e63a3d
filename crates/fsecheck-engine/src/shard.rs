//! `--shard I/N`: split one run's inputs over N machines or jobs. Shard `I` (1-based, `1 ≤ I ≤
//! N`) keeps the inputs whose displayed path (the record's `path`, archive entries included)
//! hashes to `I - 1` modulo `N`, with 64-bit FNV-1a over the path's UTF-8 bytes. The hash depends
//! only on the path string, so every shard of a run must be given the same paths spelt the same
//! way (`docs/` and `./docs/` are different strings); then every input is in exactly one shard.

use crate::input::Input;
use std::str::FromStr;

/// One shard of a run: `index` of `count`, 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Shard, String> {
        let usage = || {
            format!(
                "'{s}' is not a shard: expected I/N with 1 ≤ I ≤ N, e.g. 1/4 … 4/4 (shards are \
                 numbered from 1)"
            )
        };
        let (i, n) = s.split_once('/').ok_or_else(usage)?;
        let index: u64 = i.trim().parse().map_err(|_| usage())?;
        let count: u64 = n.trim().parse().map_err(|_| usage())?;
        if count == 0 || index == 0 || index > count {
            return Err(usage());
        }
        Ok(Shard { index, count })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// 64-bit FNV-1a.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

impl Shard {
    /// The shard (1-based) a displayed path belongs to among `count`.
    pub fn of(path: &str, count: u64) -> u64 {
        fnv1a(path.as_bytes()) % count.max(1) + 1
    }

    pub fn keeps(&self, input: &Input) -> bool {
        Shard::of(&input.display(), self.count) == self.index
    }

    /// Keep this shard's inputs, in order.
    pub fn select(&self, inputs: Vec<Input>) -> Vec<Input> {
        if self.count == 1 {
            return inputs;
        }
        inputs.into_iter().filter(|i| self.keeps(i)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn parses_one_based_and_refuses_the_rest() {
        assert_eq!(
            "2/4".parse::<Shard>().unwrap(),
            Shard { index: 2, count: 4 }
        );
        assert_eq!("1/1".parse::<Shard>().unwrap().to_string(), "1/1");
        for bad in ["0/4", "5/4", "1/0", "4", "a/b", "-1/2", "1/2/3", ""] {
            let e = bad.parse::<Shard>().unwrap_err();
            assert!(e.contains("1 ≤ I ≤ N"), "{bad}: {e}");
        }
    }

    #[test]
    fn shards_partition_the_inputs() {
        let inputs: Vec<Input> = (0..500)
            .map(|i| Input::File(PathBuf::from(format!("dir/doc{i}.xml"))))
            .collect();
        let n = 7;
        let mut seen = vec![0u32; inputs.len()];
        let mut sizes = Vec::new();
        for index in 1..=n {
            let kept = Shard { index, count: n }.select(inputs.clone());
            sizes.push(kept.len());
            for k in kept {
                let pos = inputs.iter().position(|i| i.path() == k.path()).unwrap();
                seen[pos] += 1;
            }
        }
        assert!(
            seen.iter().all(|&c| c == 1),
            "each input in exactly one shard"
        );
        // Spread: no shard empty or holding most of the inputs.
        assert!(sizes.iter().all(|&s| s > 30 && s < 120), "{sizes:?}");
        // Stable: a known value of the hash.
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
