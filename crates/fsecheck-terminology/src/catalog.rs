//! Loading the managed dictionaries: `mongo-dump/dictionary.json.gzip` (which code systems the
//! gateway manages, their versions, allow-list flags) and `terminology/<oid>.csv` (their codes).

use crate::error::Error;
use crate::fxhash::{FxHashMap, FxHashSet};
use serde_json::Value;
use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// One record of the `dictionary` collection (one managed system at one version).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DictionaryRecord {
    pub system: String,
    /// `None` for the many systems the gateway manages without a version.
    pub version: Option<String>,
    /// `release_date` as written in the dump (ISO 8601), if any.
    pub release_date: Option<String>,
    /// `creation_date` as written in the dump (ISO 8601), if any.
    pub creation_date: Option<String>,
    pub whitelist: bool,
}

/// The codes of one managed system, from its CSV, grouped by version (`""` = null version).
#[derive(Debug, Default)]
pub(crate) struct CodeTable {
    by_version: FxHashMap<Box<str>, FxHashSet<Box<str>>>,
    all: FxHashSet<Box<str>>,
    /// Codes with dots, keyed by the same code without them (`4280` → `428.0`): suggestions for
    /// codes written without the dot (ICD-9-CM in many test documents).
    undotted: FxHashMap<Box<str>, Box<str>>,
}

impl CodeTable {
    /// The gateway's query: `system = ? and code in (?) and deleted = false [and version = ?]`,
    /// the version filter applying only when the (resolved) version is not null.
    pub(crate) fn contains(&self, code: &str, version: Option<&str>) -> bool {
        match version {
            None => self.all.contains(code),
            Some(v) => self.by_version.get(v).is_some_and(|s| s.contains(code)),
        }
    }

    /// A known code that differs from `code` only by dots, if `code` has none.
    pub(crate) fn dotted_suggestion(&self, code: &str) -> Option<&str> {
        if code.contains('.') {
            return None;
        }
        self.undotted.get(code).map(|c| &**c)
    }

    pub(crate) fn len(&self) -> usize {
        self.by_version.values().map(|s| s.len()).sum()
    }
}

/// What we know of a system's CSV once we tried to read it.
#[derive(Debug)]
pub(crate) enum CodeSource {
    Loaded(CodeTable),
    /// The file is not in the catalog (LOINC and AIC are too large for the public mirror).
    Missing(PathBuf),
    /// The file exists but could not be read or parsed.
    Broken(String),
}

/// A managed system: all its dictionary records, and its codes (loaded on first use).
#[derive(Debug)]
pub(crate) struct ManagedSystem {
    pub(crate) records: Vec<DictionaryRecord>,
    pub(crate) whitelist: bool,
    /// The version used when a document gives no `codeSystemVersion` (the gateway's "max").
    pub(crate) max_version: Option<String>,
    csv_path: PathBuf,
    codes: OnceLock<CodeSource>,
}

impl ManagedSystem {
    pub(crate) fn codes(&self) -> &CodeSource {
        self.codes.get_or_init(|| load_csv(&self.csv_path))
    }

    pub(crate) fn has_version(&self, version: Option<&str>) -> bool {
        self.records.iter().any(|r| r.version.as_deref() == version)
    }

    pub(crate) fn record(&self, version: Option<&str>) -> Option<&DictionaryRecord> {
        self.records
            .iter()
            .find(|r| r.version.as_deref() == version)
    }
}

pub(crate) struct Catalog {
    pub(crate) systems: FxHashMap<String, ManagedSystem>,
    pub(crate) record_count: usize,
}

pub(crate) fn load(catalog_dir: &Path) -> Result<Catalog, Error> {
    let dump = catalog_dir.join("mongo-dump").join("dictionary.json.gzip");
    let records = read_dictionary(&dump)?;
    let csv_dir = catalog_dir.join("terminology");
    let record_count = records.len();
    // Group by system, keeping the dump's order (Collectors.groupingBy keeps encounter order
    // inside each group, and the "max" rule looks at the first record of a group).
    let mut order: Vec<String> = Vec::new();
    let mut grouped: HashMap<String, Vec<DictionaryRecord>> = HashMap::new();
    for r in records {
        if !grouped.contains_key(&r.system) {
            order.push(r.system.clone());
        }
        grouped.entry(r.system.clone()).or_default().push(r);
    }
    let mut systems = FxHashMap::default();
    for system in order {
        let records = grouped.remove(&system).unwrap_or_default();
        let whitelist = records.iter().any(|r| r.whitelist);
        let max_version = max_version(&records);
        let csv_path = csv_dir.join(format!("{system}.csv"));
        systems.insert(
            system,
            ManagedSystem {
                records,
                whitelist,
                max_version,
                csv_path,
                codes: OnceLock::new(),
            },
        );
    }
    Ok(Catalog {
        systems,
        record_count,
    })
}

fn read_gzip_json(path: &Path) -> Result<Value, Error> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut text = String::new();
    flate2::read::GzDecoder::new(file)
        .read_to_string(&mut text)
        .map_err(|e| Error::io(path, e))?;
    serde_json::from_str(&text).map_err(|e| Error::format(path, e.to_string()))
}

pub(crate) fn read_json_array(path: &Path) -> Result<Vec<Value>, Error> {
    match read_gzip_json(path)? {
        Value::Array(a) => Ok(a),
        _ => Err(Error::format(path, "expected a JSON array of documents")),
    }
}

fn read_dictionary(path: &Path) -> Result<Vec<DictionaryRecord>, Error> {
    let mut out = Vec::new();
    for (i, doc) in read_json_array(path)?.iter().enumerate() {
        let system = doc
            .get("system")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::format(path, format!("record {i}: no `system` string")))?;
        // Deleted records are not managed systems (the repository reads deleted = false).
        if doc.get("deleted").and_then(Value::as_bool) == Some(true) {
            continue;
        }
        let version = match doc.get("version") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => Some(other.to_string()),
        };
        out.push(DictionaryRecord {
            system: system.to_string(),
            version,
            release_date: mongo_date(doc.get("release_date")),
            creation_date: mongo_date(doc.get("creation_date")),
            whitelist: doc.get("whitelist").and_then(Value::as_bool) == Some(true),
        });
    }
    Ok(out)
}

/// `{"$date": "2019-03-20T00:00:00Z"}`, `{"$date": {"$numberLong": "…"}}` or a bare string.
pub(crate) fn mongo_date(v: Option<&Value>) -> Option<String> {
    let v = v?;
    let inner = v.get("$date").unwrap_or(v);
    match inner {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => n.as_i64().map(format_millis),
        Value::Object(o) => o
            .get("$numberLong")
            .and_then(Value::as_str)
            .and_then(|s| s.parse::<i64>().ok())
            .map(format_millis),
        _ => None,
    }
}

/// Milliseconds since the epoch of an ISO 8601 UTC timestamp (`YYYY-MM-DD[THH:MM:SS[.fff]][Z]`).
pub(crate) fn parse_millis(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let part = s.get(from..from + len)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let (y, mo, d) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let (mut h, mut mi, mut sec, mut ms) = (0, 0, 0, 0);
    if b.len() > 10 {
        h = num(11, 2)?;
        mi = num(14, 2)?;
        sec = num(17, 2)?;
        if b.get(19) == Some(&b'.') {
            let frac: String = s[20..].chars().take_while(char::is_ascii_digit).collect();
            let digits: String = frac.chars().chain("000".chars()).take(3).collect();
            ms = digits.parse().ok()?;
        }
    }
    Some((days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + sec) * 1000 + ms)
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn format_millis(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let rem = ms.rem_euclid(86_400_000);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000
    )
}

/// The gateway's `CodeSystemSnapshotDTO.getMax`: if the group's *first* record has a
/// `release_date`, the record with the latest release date wins (nulls last); else if the first
/// has a `creation_date`, the latest creation date; else the last record. Ties keep the earlier
/// record (Java's sort is stable).
pub(crate) fn max_version(records: &[DictionaryRecord]) -> Option<String> {
    let first = records.first()?;
    let key: fn(&DictionaryRecord) -> Option<&String> = if first.release_date.is_some() {
        |r| r.release_date.as_ref()
    } else if first.creation_date.is_some() {
        |r| r.creation_date.as_ref()
    } else {
        return records.last().and_then(|r| r.version.clone());
    };
    let mut best: Option<(&DictionaryRecord, Option<i64>)> = None;
    for r in records {
        let t = key(r).and_then(|s| parse_millis(s));
        let better = match &best {
            None => true,
            Some((_, bt)) => match (t, bt) {
                (Some(a), Some(b)) => a > *b,
                (Some(_), None) => true,
                _ => false,
            },
        };
        if better {
            best = Some((r, t));
        }
    }
    best.and_then(|(r, _)| r.version.clone())
}

fn load_csv(path: &Path) -> CodeSource {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return CodeSource::Missing(path.to_path_buf())
        }
        Err(e) => return CodeSource::Broken(format!("{}: {e}", catalog_relative(path))),
    };
    match parse_csv(file) {
        Ok(t) => CodeSource::Loaded(t),
        Err(e) => CodeSource::Broken(format!("{}: {e}", catalog_relative(path))),
    }
}

fn parse_csv(reader: impl Read) -> Result<CodeTable, String> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(reader);
    let headers = rdr.headers().map_err(|e| e.to_string())?.clone();
    let col = |name: &str| headers.iter().position(|h| h.trim() == name);
    let (vcol, ccol) = match (col("version"), col("code")) {
        (Some(v), Some(c)) => (v, c),
        _ => {
            return Err(format!(
                "header must name `version` and `code`, got {headers:?}"
            ))
        }
    };
    let mut table = CodeTable::default();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| e.to_string())?;
        let (Some(version), Some(code)) = (rec.get(vcol), rec.get(ccol)) else {
            continue;
        };
        let code: Box<str> = code.into();
        if code.contains('.') {
            table
                .undotted
                .entry(code.replace('.', "").into())
                .or_insert_with(|| code.clone());
        }
        table
            .by_version
            .entry(version.into())
            .or_default()
            .insert(code.clone());
        table.all.insert(code);
    }
    Ok(table)
}

/// A dictionary file named as the catalog does (`terminology/<oid>.csv`), so that messages do not
/// depend on where the catalog is mounted (reports are compared and baselined across machines).
pub(crate) fn catalog_relative(path: &Path) -> String {
    match path.file_name() {
        Some(name) => format!("terminology/{}", name.to_string_lossy()),
        None => path.display().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(v: Option<&str>, rel: Option<&str>, cre: Option<&str>) -> DictionaryRecord {
        DictionaryRecord {
            system: "1.2.3".into(),
            version: v.map(str::to_string),
            release_date: rel.map(str::to_string),
            creation_date: cre.map(str::to_string),
            whitelist: false,
        }
    }

    #[test]
    fn dates_parse_with_variable_fractions() {
        let a = parse_millis("2023-10-09T14:05:26.37Z").unwrap();
        let b = parse_millis("2023-10-09T14:05:26.371Z").unwrap();
        assert!(a < b);
        assert_eq!(parse_millis("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_millis("1970-01-02"), Some(86_400_000));
        assert_eq!(format_millis(86_400_001), "1970-01-02T00:00:00.001Z");
        assert_eq!(parse_millis("garbage"), None);
    }

    #[test]
    fn max_version_follows_release_then_creation_then_last() {
        let by_release = [
            rec(Some("1"), Some("2020-01-01"), Some("2024-01-01")),
            rec(Some("2"), Some("2021-01-01"), Some("2023-01-01")),
            rec(Some("3"), None, Some("2025-01-01")),
        ];
        assert_eq!(max_version(&by_release).as_deref(), Some("2"));
        let by_creation = [
            rec(Some("1"), None, Some("2024-01-01")),
            rec(Some("2"), Some("2030-01-01"), Some("2023-01-01")),
        ];
        assert_eq!(max_version(&by_creation).as_deref(), Some("1"));
        let last = [rec(Some("1"), None, None), rec(Some("2"), None, None)];
        assert_eq!(max_version(&last).as_deref(), Some("2"));
        assert_eq!(max_version(&[rec(None, None, None)]), None);
    }

    #[test]
    fn csv_groups_codes_by_version() {
        let text = "version,code,description,release_date\n\"\",A,\"x, y\",2020-01-01\n2.1,B,b,\n";
        let t = parse_csv(text.as_bytes()).unwrap();
        assert!(t.contains("A", None));
        assert!(t.contains("B", None));
        assert!(t.contains("B", Some("2.1")));
        assert!(!t.contains("A", Some("2.1")));
        assert_eq!(t.len(), 2);
        let t = parse_csv("version,code\n\"\",428.0\n".as_bytes()).unwrap();
        assert_eq!(t.dotted_suggestion("4280"), Some("428.0"));
        assert_eq!(t.dotted_suggestion("428.0"), None);
        assert_eq!(t.dotted_suggestion("4281"), None);
    }
}
