//! Mutation suite: deterministic mutants of the 9 official examples, each validated by us and by
//! `xmllint --noout --schema`; the verdicts must be equal.

mod common;

use common::*;
use std::collections::HashMap;
use std::path::PathBuf;

const PER_EXAMPLE: usize = 96;
const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// Mutants where libxml2 deviates from XSD 1.0 and we follow the standard. Expected empty;
/// every entry must be explained in docs/XSD.md.
const EXCEPTIONS: &[&str] = &[];

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> Option<&'a T> {
        (!xs.is_empty()).then(|| &xs[self.below(xs.len())])
    }
}

#[derive(Clone)]
struct El {
    start: usize,
    end: usize,
    /// Just after the start tag's `>`.
    tag_end: usize,
    self_closing: bool,
    qname: String,
    local: String,
    narrative: bool,
    is_root: bool,
    next_sibling: Option<usize>,
    /// (name with prefix as written, full range, value range, namespace)
    attrs: Vec<(
        String,
        std::ops::Range<usize>,
        std::ops::Range<usize>,
        String,
    )>,
}

fn start_tag_end(text: &str, start: usize) -> usize {
    let b = text.as_bytes();
    let mut quote = 0u8;
    let mut i = start;
    while i < b.len() {
        match b[i] {
            q @ (b'"' | b'\'') if quote == 0 => quote = q,
            q if q == quote => quote = 0,
            b'>' if quote == 0 => return i + 1,
            _ => {}
        }
        i += 1;
    }
    b.len()
}

fn elements(text: &str) -> Vec<El> {
    let doc = roxmltree::Document::parse(text).unwrap();
    let nodes: Vec<roxmltree::Node> = doc.descendants().filter(|n| n.is_element()).collect();
    let index: HashMap<roxmltree::NodeId, usize> =
        nodes.iter().enumerate().map(|(i, n)| (n.id(), i)).collect();
    nodes
        .iter()
        .map(|n| {
            let r = n.range();
            let tag_end = start_tag_end(text, r.start);
            let qname_end = text[r.start + 1..]
                .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
                .unwrap();
            let qname = text[r.start + 1..r.start + 1 + qname_end].to_string();
            let narrative = n.ancestors().any(|a| {
                a.tag_name().name() == "text" && a.tag_name().namespace() == Some("urn:hl7-org:v3")
            });
            let next_sibling = n
                .next_siblings()
                .skip(1)
                .find(|s| s.is_element())
                .map(|s| index[&s.id()]);
            let attrs = n
                .attributes()
                .map(|a| {
                    let full = a.range();
                    let name = text[full.clone()]
                        .split('=')
                        .next()
                        .unwrap()
                        .trim()
                        .to_string();
                    (
                        name,
                        full,
                        a.range_value(),
                        a.namespace().unwrap_or("").to_string(),
                    )
                })
                .collect();
            El {
                start: r.start,
                end: r.end,
                tag_end,
                self_closing: text.as_bytes()[tag_end - 2] == b'/',
                qname,
                local: n.tag_name().name().to_string(),
                narrative,
                is_root: n.parent().is_some_and(|p| p.is_root()),
                next_sibling,
                attrs,
            }
        })
        .collect()
}

fn splice(text: &str, range: std::ops::Range<usize>, with: &str) -> String {
    format!("{}{}{}", &text[..range.start], with, &text[range.end..])
}

/// Inserts `content` as the first child of `e`.
fn insert_child(text: &str, e: &El, content: &str) -> String {
    if e.self_closing {
        let open = &text[e.start..e.tag_end - 2];
        splice(
            text,
            e.start..e.end,
            &format!("{open}>{content}</{}>", e.qname),
        )
    } else {
        splice(text, e.tag_end..e.tag_end, content)
    }
}

fn add_attr(text: &str, e: &El, attr: &str) -> String {
    let at = e.start + 1 + e.qname.len();
    splice(text, at..at, &format!(" {attr}"))
}

fn set_attr(text: &str, e: &El, name: &str, value: &str) -> Option<String> {
    let a = e.attrs.iter().find(|a| a.0 == name)?;
    Some(splice(text, a.2.clone(), value))
}

const KINDS: &[&str] = &[
    "drop",
    "duplicate",
    "swap",
    "enum",
    "ts",
    "unknown-attr",
    "unknown-elem",
    "xsi-type",
    "add-xsi-type",
    "idref",
    "dup-id",
    "bool",
    "int",
    "text-element-only",
    "ws-element-only",
    "xsi-nil",
    "remove-attr",
    "rename",
    "foreign-elem",
    "cs-uid",
    "text-in-empty",
    "comment",
    "xml-lang",
    "bad-id",
    "narrative-text",
    "reorder-far",
    "uri",
    "real",
    "bin",
    "typed-xsi",
];

fn mutate(text: &str, els: &[El], kind: &str, rng: &mut Rng) -> Option<String> {
    let any = |rng: &mut Rng| -> Option<&El> {
        let cands: Vec<&El> = els.iter().filter(|e| !e.is_root).collect();
        rng.pick(&cands).copied()
    };
    let with_attr = |rng: &mut Rng, names: &[&str]| -> Option<(El, String)> {
        let cands: Vec<(&El, &str)> = els
            .iter()
            .flat_map(|e| {
                e.attrs
                    .iter()
                    .filter(|a| names.contains(&a.0.as_str()))
                    .map(move |a| (e, a.0.as_str()))
            })
            .collect();
        rng.pick(&cands).map(|(e, a)| ((*e).clone(), a.to_string()))
    };
    let xsi_prefix = els[0]
        .attrs
        .iter()
        .find(|a| a.3 == XSI)
        .map(|a| a.0.split(':').next().unwrap().to_string());
    let xsi_prefix = {
        // Namespace declarations are not attributes in roxmltree: read them from the root tag.
        let root_tag = &text[els[0].start..els[0].tag_end];
        root_tag
            .split("xmlns:")
            .skip(1)
            .find(|s| s.contains(XSI))
            .map(|s| s.split('=').next().unwrap().to_string())
            .or(xsi_prefix)
            .unwrap_or_else(|| "xsi".into())
    };
    Some(match kind {
        "drop" => {
            let e = any(rng)?;
            splice(text, e.start..e.end, "")
        }
        "duplicate" => {
            let e = any(rng)?;
            splice(text, e.end..e.end, &text[e.start..e.end])
        }
        "swap" => {
            let cands: Vec<&El> = els.iter().filter(|e| e.next_sibling.is_some()).collect();
            let a = *rng.pick(&cands)?;
            let b = &els[a.next_sibling.unwrap()];
            format!(
                "{}{}{}{}{}",
                &text[..a.start],
                &text[b.start..b.end],
                &text[a.end..b.start],
                &text[a.start..a.end],
                &text[b.end..]
            )
        }
        "reorder-far" => {
            // Move an element to the end of its parent's siblings chain (after the last sibling).
            let cands: Vec<&El> = els.iter().filter(|e| e.next_sibling.is_some()).collect();
            let a = *rng.pick(&cands)?;
            let mut last = &els[a.next_sibling.unwrap()];
            while let Some(n) = last.next_sibling {
                last = &els[n];
            }
            format!(
                "{}{}{}{}",
                &text[..a.start],
                &text[a.end..last.end],
                &text[a.start..a.end],
                &text[last.end..]
            )
        }
        "enum" => {
            let (e, a) = with_attr(
                rng,
                &[
                    "classCode",
                    "moodCode",
                    "typeCode",
                    "nullFlavor",
                    "use",
                    "determinerCode",
                    "contextControlCode",
                    "mediaType",
                    "representation",
                ],
            )?;
            let v = *rng.pick(&[
                "XYZ", "", "EVN", "OBS", "ACT", "UNK", "COMP", "evn", " EVN ", "DOCCLIN",
            ])?;
            set_attr(text, &e, &a, v)?
        }
        "ts" => {
            let cands: Vec<&El> = els
                .iter()
                .filter(|e| {
                    matches!(
                        e.local.as_str(),
                        "effectiveTime" | "low" | "high" | "time" | "birthTime" | "center"
                    ) && e.attrs.iter().any(|a| a.0 == "value")
                })
                .collect();
            let e = *rng.pick(&cands)?;
            let v = *rng.pick(&[
                "2022-03-30",
                "2022X",
                "20220330",
                "202203301010",
                "20220330101010.123+0100",
                "20220330101010+01000",
                " 20220330 ",
                "2022033",
                "",
                "20220330101010.+0100",
                "X2022",
            ])?;
            set_attr(text, e, "value", v)?
        }
        "unknown-attr" => {
            let e = any(rng)?;
            let a = *rng.pick(&[
                "foo=\"1\"",
                "ID=\"u1\"",
                "code=\"X\"",
                "value=\"1\"",
                "mediaType=\"text/plain\"",
            ])?;
            if e.attrs.iter().any(|x| a.starts_with(&format!("{}=", x.0))) {
                return None;
            }
            add_attr(text, e, a)
        }
        "unknown-elem" => {
            let e = any(rng)?;
            insert_child(
                text,
                e,
                rng.pick(&[
                    "<foo/>",
                    "<id root=\"1.2.3\"/>",
                    "<code code=\"X\"/>",
                    "<br/>",
                    "<text>x</text>",
                ])?,
            )
        }
        "xsi-type" => {
            let cands: Vec<(&El, String)> = els
                .iter()
                .flat_map(|e| {
                    e.attrs
                        .iter()
                        .filter(|a| a.3 == XSI && a.0.ends_with(":type"))
                        .map(move |a| (e, a.0.clone()))
                })
                .collect();
            let (e, a) = rng.pick(&cands)?.clone();
            let v = *rng.pick(&[
                "CD",
                "PQ",
                "CE",
                "REAL",
                "ST",
                "IVL_TS",
                "TS",
                "INT",
                "BL",
                "ANY",
                "Foo",
                "xs:string",
                "nope:CD",
                "II",
                "CV",
                "ED",
                "SXCM_TS",
                "QTY",
                "IVL_PQ",
                "CO",
                "RTO_PQ_PQ",
                "PIVL_TS",
                "EIVL_TS",
                "SC",
                "CS",
            ])?;
            set_attr(text, e, &a, v)?
        }
        "add-xsi-type" => {
            let e = any(rng)?;
            if e.attrs.iter().any(|a| a.3 == XSI) {
                return None;
            }
            let v = *rng.pick(&[
                "CD", "CE", "CV", "II", "ST", "TS", "IVL_TS", "ANY", "ED", "AD", "PN", "ON", "TEL",
                "INT",
            ])?;
            add_attr(text, e, &format!("{xsi_prefix}:type=\"{v}\""))
        }
        "idref" => {
            let cands: Vec<&El> = els
                .iter()
                .filter(|e| {
                    e.narrative
                        && matches!(
                            e.local.as_str(),
                            "paragraph" | "content" | "td" | "th" | "item" | "caption"
                        )
                })
                .collect();
            let e = *rng.pick(&cands)?;
            let ids: Vec<String> = els
                .iter()
                .flat_map(|x| {
                    x.attrs
                        .iter()
                        .filter(|a| a.0 == "ID")
                        .map(|a| text[a.2.clone()].to_string())
                })
                .collect();
            let target = if rng.below(3) == 0 {
                rng.pick(&ids).cloned().unwrap_or_else(|| "nosuch".into())
            } else {
                "nosuch".into()
            };
            insert_child(text, e, &format!("<footnoteRef IDREF=\"{target}\"/>"))
        }
        "dup-id" => {
            let cands: Vec<&El> = els
                .iter()
                .filter(|e| {
                    e.narrative
                        && matches!(
                            e.local.as_str(),
                            "paragraph" | "content" | "td" | "tr" | "table" | "list" | "item"
                        )
                        && !e.attrs.iter().any(|a| a.0 == "ID")
                })
                .collect();
            let a = *rng.pick(&cands)?;
            let b = *rng.pick(&cands)?;
            if a.start == b.start {
                return None;
            }
            let (first, second) = if a.start < b.start { (a, b) } else { (b, a) };
            let ids: Vec<String> = els
                .iter()
                .flat_map(|x| {
                    x.attrs
                        .iter()
                        .filter(|a| a.0 == "ID")
                        .map(|a| text[a.2.clone()].to_string())
                })
                .collect();
            let v = rng.pick(&ids).cloned().unwrap_or_else(|| "dup1".into());
            // Insert in the later element first so earlier offsets stay valid.
            let t = add_attr(text, second, &format!("ID=\"{v}\""));
            if rng.below(4) == 0 {
                t
            } else {
                add_attr(&t, first, &format!("ID=\"{v}x\""))
                    .replace(&format!("ID=\"{v}x\""), &format!("ID=\"{v}\""))
            }
        }
        "bool" => {
            let cands: Vec<&El> = els
                .iter()
                .filter(|e| {
                    matches!(
                        e.local.as_str(),
                        "observation"
                            | "act"
                            | "substanceAdministration"
                            | "procedure"
                            | "entryRelationship"
                            | "supply"
                            | "encounter"
                    )
                })
                .collect();
            let e = *rng.pick(&cands)?;
            let v = *rng.pick(&["yes", "TRUE", "true", "0", " true ", "", "1"])?;
            let name = if e.local == "entryRelationship" {
                "inversionInd"
            } else {
                "negationInd"
            };
            match set_attr(text, e, name, v) {
                Some(t) => t,
                None => add_attr(text, e, &format!("{name}=\"{v}\"")),
            }
        }
        "int" => {
            let cands: Vec<&El> = els
                .iter()
                .filter(|e| matches!(e.local.as_str(), "versionNumber" | "sequenceNumber"))
                .collect();
            let e = *rng.pick(&cands)?;
            let v = *rng.pick(&["1.5", "abc", "-3", "+2", " 7 ", "", "1e3", "007"])?;
            set_attr(text, e, "value", v)?
        }
        "text-element-only" => {
            let cands: Vec<&El> = els
                .iter()
                .filter(|e| {
                    !e.narrative
                        && !e.self_closing
                        && !matches!(
                            e.local.as_str(),
                            "text"
                                | "title"
                                | "given"
                                | "family"
                                | "prefix"
                                | "suffix"
                                | "streetAddressLine"
                                | "city"
                                | "country"
                                | "state"
                                | "county"
                                | "postalCode"
                                | "censusTract"
                                | "name"
                                | "originalText"
                                | "delimiter"
                                | "houseNumber"
                                | "streetName"
                        )
                })
                .collect();
            let e = *rng.pick(&cands)?;
            insert_child(text, e, "abc")
        }
        "ws-element-only" => {
            let e = any(rng)?;
            insert_child(text, e, " \n\t ")
        }
        "xsi-nil" => {
            let e = any(rng)?;
            add_attr(
                text,
                e,
                &format!("{xsi_prefix}:nil=\"{}\"", rng.pick(&["true", "false"])?),
            )
        }
        "remove-attr" => {
            let cands: Vec<(&El, usize)> = els
                .iter()
                .flat_map(|e| (0..e.attrs.len()).map(move |i| (e, i)))
                .collect();
            let (e, i) = *rng.pick(&cands)?;
            let r = e.attrs[i].1.clone();
            splice(text, r.start - 1..r.end, "")
        }
        "rename" => {
            let e = any(rng)?;
            let new = format!("{}{}", e.qname, rng.pick(&["x", "s", "_"])?);
            let mut t = splice(text, e.start + 1..e.start + 1 + e.qname.len(), &new);
            if !e.self_closing {
                let shift = new.len() - e.qname.len();
                let close = e.end + shift - e.qname.len() - 1;
                t = splice(&t, close..close + e.qname.len(), &new);
            }
            t
        }
        "foreign-elem" => {
            let e = any(rng)?;
            let v = *rng.pick(&[
                "<statusCode xmlns=\"urn:hl7-org:sdtc\" code=\"active\"/>",
                "<statusCode xmlns=\"urn:hl7-org:sdtc\" code=\"done\"/>",
                "<precondition xmlns=\"urn:oid:1.3.6.1.4.1.19376.1.3.2\"><criterion/></precondition>",
                "<ingredient xmlns=\"urn:ihe:pharm:medication\" classCode=\"ACTI\"/>",
                "<raceCode xmlns=\"urn:hl7-org:sdtc\" code=\"x\"/>",
            ])?;
            insert_child(text, e, v)
        }
        "cs-uid" => {
            let (e, a) = with_attr(rng, &["code", "root", "codeSystem", "extension", "unit"])?;
            let v = *rng.pick(&[
                " 12 ",
                "a b",
                "",
                "1..2",
                "1.2.3 ",
                "3.1",
                "2.16.840.1",
                "0.01",
                "urn:x",
                "A1-B2-C3",
                "12345678-1234-1234-1234-123456789abc",
            ])?;
            set_attr(text, &e, &a, v)?
        }
        "text-in-empty" => {
            let cands: Vec<&El> = els
                .iter()
                .filter(|e| e.self_closing && !e.narrative)
                .collect();
            let e = *rng.pick(&cands)?;
            insert_child(text, e, rng.pick(&[" ", "\n  ", "x", "<!-- c -->"])?)
        }
        "comment" => {
            let e = any(rng)?;
            insert_child(
                text,
                e,
                rng.pick(&[
                    "<!-- note -->",
                    "<?pi data?>",
                    "<![CDATA[ ]]>",
                    "<![CDATA[x]]>",
                ])?,
            )
        }
        "xml-lang" => {
            let e = any(rng)?;
            add_attr(
                text,
                e,
                rng.pick(&[
                    "xml:lang=\"it\"",
                    "xml:space=\"preserve\"",
                    "xsi:schemaLocation=\"urn:hl7-org:v3 CDA.xsd\"",
                    "xsi:foo=\"1\"",
                ])?,
            )
        }
        "bad-id" => {
            let cands: Vec<&El> = els
                .iter()
                .filter(|e| {
                    e.narrative
                        && matches!(e.local.as_str(), "paragraph" | "content" | "td" | "table")
                })
                .collect();
            let e = *rng.pick(&cands)?;
            let v = *rng.pick(&["1abc", "a b", "ok_id", "a:b", "", "é1"])?;
            match set_attr(text, e, "ID", v) {
                Some(t) => t,
                None => add_attr(text, e, &format!("ID=\"{v}\"")),
            }
        }
        "narrative-text" => {
            let cands: Vec<&El> = els
                .iter()
                .filter(|e| e.narrative && !e.self_closing)
                .collect();
            let e = *rng.pick(&cands)?;
            insert_child(
                text,
                e,
                rng.pick(&[
                    "abc",
                    "<br/>",
                    "<content>x</content>",
                    "<paragraph>p</paragraph>",
                    "<table><tbody/></table>",
                    "<caption>c</caption>",
                ])?,
            )
        }
        "uri" => {
            let cands: Vec<&El> = els
                .iter()
                .filter(|e| {
                    matches!(e.local.as_str(), "telecom" | "reference")
                        && e.attrs.iter().any(|a| a.0 == "value")
                })
                .collect();
            let e = *rng.pick(&cands)?;
            let v = *rng.pick(&[
                "tel: 123 456",
                "http://a b",
                "%zz",
                "[x]",
                "#",
                "",
                "mailto:a@b",
                "http://[::1]/",
                "a\\b",
                "|",
                "^x",
                "tel:+39 06 1234",
                "http://a/%20b",
                "::",
                "#x y",
                "http://exa mple.com/a?b=c#d",
                "#[x]",
                "http://h:/p",
                "a%2",
                "?a[b]",
                "//u@h:8/p",
            ])?;
            set_attr(text, e, "value", v)?
        }
        "real" => {
            let cands: Vec<&El> = els
                .iter()
                .filter(|e| {
                    e.attrs
                        .iter()
                        .any(|a| a.0 == "value" && text[a.2.clone()].parse::<f64>().is_ok())
                        && !matches!(
                            e.local.as_str(),
                            "effectiveTime" | "low" | "high" | "time" | "birthTime" | "center"
                        )
                })
                .collect();
            let e = *rng.pick(&cands)?;
            let v = *rng.pick(&[
                "1,5",
                "1.",
                ".5",
                "1e3",
                "INF",
                "-INF",
                "NaN",
                "+INF",
                " 2 ",
                "0x10",
                "1_000",
                "-0",
                "+.5",
                "1E+2",
                "",
                "12345678901234567890123456789",
            ])?;
            set_attr(text, e, "value", v)?
        }
        "bin" => {
            let cands: Vec<&El> = els.iter().filter(|e| !e.is_root && !e.narrative).collect();
            let e = *rng.pick(&cands)?;
            // Boolean and integer typed attributes met on many CDA elements.
            let (a, v) = *rng.pick(&[
                ("negationInd", "false"),
                ("negationInd", "False"),
                ("inversionInd", "1"),
                ("independentInd", "yes"),
                ("contextConductionInd", " true "),
                ("institutionSpecified", "true"),
                ("operator", "A"),
                ("operator", "X"),
                ("inclusive", "0"),
            ])?;
            if e.attrs.iter().any(|x| x.0 == a) {
                set_attr(text, e, a, v)?
            } else {
                add_attr(text, e, &format!("{a}=\"{v}\""))
            }
        }
        "typed-xsi" => {
            // xsi:type naming the declared type, a type derived from it, its base, or a sibling.
            let table: &[(&str, &[&str])] = &[
                ("code", &["CE", "CV", "CD", "CS", "CO", "PQ"]),
                (
                    "effectiveTime",
                    &[
                        "TS", "IVL_TS", "SXCM_TS", "PIVL_TS", "EIVL_TS", "QSET_TS", "ANY", "PQ",
                    ],
                ),
                ("id", &["II", "CD", "ANY"]),
                ("telecom", &["TEL", "URL", "ANY", "II"]),
                ("addr", &["AD", "ANY", "EN"]),
                ("name", &["PN", "EN", "ON", "TN", "ST"]),
                ("title", &["ST", "ED", "SC", "ANY"]),
                ("low", &["IVXB_TS", "TS", "IVL_TS"]),
                ("high", &["IVXB_TS", "TS", "IVL_TS"]),
                ("templateId", &["II", "TEL"]),
                ("quantity", &["PQ", "QTY", "INT", "MO"]),
            ];
            let cands: Vec<(&El, &[&str])> = els
                .iter()
                .filter(|e| !e.attrs.iter().any(|a| a.3 == XSI))
                .filter_map(|e| table.iter().find(|t| t.0 == e.local).map(|t| (e, t.1)))
                .collect();
            let (e, types) = *rng.pick(&cands)?;
            let v = *rng.pick(types)?;
            add_attr(text, e, &format!("{xsi_prefix}:type=\"{v}\""))
        }
        _ => unreachable!("kind {kind}"),
    })
}

/// The UV02 mutation suite: `PER_EXAMPLE` deterministic mutants of each official example,
/// written to `scratch`. (name, path, text)
fn uv02_mutants(scratch: &std::path::Path) -> Vec<(String, PathBuf, String)> {
    let dir = shared().join("corpus/examples");
    let mut examples: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    examples.sort();
    assert_eq!(examples.len(), 9, "expected the 9 official examples");
    let mut mutants: Vec<(String, PathBuf, String)> = Vec::new();
    for (i, ex) in examples.iter().enumerate() {
        let text = std::fs::read_to_string(ex).unwrap();
        let els = elements(&text);
        let stem = ex.file_stem().unwrap().to_string_lossy().to_string();
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ ((i as u64 + 1) * 0x1234_5678_9ABC_DEF1));
        let mut n = 0;
        let mut attempts = 0;
        while n < PER_EXAMPLE && attempts < PER_EXAMPLE * 20 {
            let kind = KINDS[(n + attempts) % KINDS.len()];
            attempts += 1;
            let Some(m) = mutate(&text, &els, kind, &mut rng) else {
                continue;
            };
            if m == text {
                continue;
            }
            let name = format!("{stem}-{n:03}-{kind}");
            let path = scratch.join(format!("{name}.xml"));
            std::fs::write(&path, &m).unwrap();
            mutants.push((name, path, m));
            n += 1;
        }
    }
    mutants
}

#[test]
fn mutant_verdicts_equal_xmllint() {
    if !xmllint_available("mutant_verdicts_equal_xmllint") {
        return;
    }
    let scratch = scratch("mutants");
    let mutants = uv02_mutants(&scratch);
    assert!(mutants.len() >= 500, "only {} mutants", mutants.len());
    let schema = laid_out(UV02, &scratch);
    let schema_hd = laid_out(HD, &scratch);
    let mut checked: Vec<Checked> = Vec::new();
    for (name, path, m) in &mutants {
        let doc = roxmltree::Document::parse(m)
            .unwrap_or_else(|e| panic!("mutant {name} is not well-formed: {e}"));
        let s = set_for(&doc);
        let findings = set(s).validate(&doc);
        checked.push(Checked {
            path: path.clone(),
            label: name.clone(),
            text: m.clone(),
            set: s,
            findings,
        });
    }
    let of_set = |s: &str| -> Vec<PathBuf> {
        checked
            .iter()
            .filter(|c| c.set == s)
            .map(|c| c.path.clone())
            .collect()
    };
    let mut theirs = xmllint_verdicts(&schema, &of_set(UV02));
    theirs.extend(xmllint_verdicts(&schema_hd, &of_set(HD)));
    let (mut mismatches, mut excused) = compare(&checked, &theirs);
    mismatches.retain(|m| !EXCEPTIONS.iter().any(|e| m.starts_with(&format!("{e}:"))));
    let valid = checked.iter().filter(|c| c.findings.is_empty()).count();
    let mut by_kind: std::collections::BTreeMap<&str, (usize, usize)> = Default::default();
    for c in &checked {
        let e = by_kind
            .entry(c.label.splitn(3, '-').nth(2).unwrap())
            .or_default();
        e.0 += 1;
        e.1 += usize::from(c.findings.is_empty());
    }
    // Named deviation `libxml2-cdata-whitespace`: libxml2 rejects a whitespace-only CDATA
    // section in element-only content, which XSD (and Xerces) treat as ignorable whitespace.
    // Excused only when xmllint accepts the same mutant with those sections written as text.
    let mut retry = Vec::new();
    for c in &checked {
        let (name, path, m) = (&c.label, &c.path, &c.text);
        if c.findings.is_empty() && theirs.get(path) == Some(&false) && m.contains("<![CDATA[") {
            let plain = m
                .replace("<![CDATA[ ]]>", " ")
                .replace("<![CDATA[\n]]>", "\n");
            if plain != *m {
                let p = scratch.join(format!("{name}-plain.xml"));
                std::fs::write(&p, plain).unwrap();
                retry.push((name.clone(), p));
            }
        }
    }
    let retried = xmllint_verdicts(
        &schema,
        &retry.iter().map(|r| r.1.clone()).collect::<Vec<_>>(),
    );
    for (name, p) in &retry {
        if retried.get(p) == Some(&true) {
            if let Some(i) = mismatches
                .iter()
                .position(|m| m.starts_with(&format!("{name}:")))
            {
                mismatches.remove(i);
                *excused.entry("libxml2-cdata-whitespace").or_default() += 1;
            }
        }
    }
    eprintln!(
        "mutants: {} total, {} valid by us, {} mismatches, excused by named libxml2 deviation: {:?}; per kind (count, valid): {:?}",
        mutants.len(),
        valid,
        mismatches.len(),
        excused,
        by_kind
    );
    if mismatches.is_empty() {
        let _ = std::fs::remove_dir_all(&scratch);
    } else {
        eprintln!("mutants kept in {}", scratch.display());
    }
    // The suite must exercise both verdicts.
    assert!(
        valid >= 50 && valid + 100 <= mutants.len(),
        "unbalanced suite: {valid} valid of {}",
        mutants.len()
    );
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

/// Mutants checked against `POCD_HD000040` whatever their typeId says, written to `scratch`
/// (whitespace-only CDATA left out: libxml2-cdata-whitespace is covered by the UV02 suite).
fn hd_mutants(scratch: &std::path::Path) -> Vec<Checked> {
    let dir = shared().join("corpus/examples");
    let mut examples: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    examples.sort();
    let mut checked: Vec<Checked> = Vec::new();
    for (i, ex) in examples.iter().enumerate() {
        let text = std::fs::read_to_string(ex).unwrap();
        let els = elements(&text);
        let mut rng = Rng(0xD1B5_4A32_D192_ED03 ^ ((i as u64 + 7) * 0x9E37_79B9));
        let mut n = 0;
        for attempt in 0..PER_EXAMPLE * 20 {
            if n == PER_EXAMPLE / 2 {
                break;
            }
            let kind = KINDS[attempt % KINDS.len()];
            let Some(m) = mutate(&text, &els, kind, &mut rng) else {
                continue;
            };
            let Ok(doc) = roxmltree::Document::parse(&m) else {
                continue;
            };
            let f = set(HD).validate(&doc);
            if m.contains("<![CDATA[") {
                continue; // libxml2-cdata-whitespace, see the UV02 suite
            }
            let p = scratch.join(format!(
                "{}-{n:03}-{kind}.xml",
                ex.file_stem().unwrap().to_string_lossy()
            ));
            std::fs::write(&p, &m).unwrap();
            checked.push(Checked {
                label: p.display().to_string(),
                path: p,
                text: m,
                set: HD,
                findings: f,
            });
            n += 1;
        }
    }
    checked
}

/// The same mutants checked against the other set (`POCD_HD000040`), whatever their typeId says:
/// a second, independent differential over the HD schema documents.
#[test]
fn mutants_against_hd_set_equal_xmllint() {
    if !xmllint_available("mutants_against_hd_set_equal_xmllint") {
        return;
    }
    let scratch = scratch("mutants-hd");
    let checked = hd_mutants(&scratch);
    let files: Vec<PathBuf> = checked.iter().map(|c| c.path.clone()).collect();
    let theirs = xmllint_verdicts(&laid_out(HD, &scratch), &files);
    let (mismatches, excused) = compare(&checked, &theirs);
    let valid = checked.iter().filter(|c| c.findings.is_empty()).count();
    eprintln!(
        "HD mutants: {} total, {} valid by us, {} mismatches, excused by named libxml2 deviation: {excused:?}",
        files.len(),
        valid,
        mismatches.len()
    );
    if mismatches.is_empty() {
        let _ = std::fs::remove_dir_all(&scratch);
    }
    assert!(
        files.len() >= 250 && valid >= 20,
        "suite too small or unbalanced"
    );
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

/// One attribute of an example set to each value of per-type tables, written to `scratch`.
fn value_table(scratch: &std::path::Path) -> Vec<Checked> {
    let uri = &[
        "",
        "#",
        "#x y",
        "mailto:a@b",
        "tel:+39 06 1234",
        "http://[::1]/",
        "http://a/%20b",
        "^x",
        "%zz",
        "::",
        "[x]",
        "#[x]",
        "?a[b]",
        "http://h:/p",
        "http://h:8/p",
        "a%2",
        "//u@h:8/p",
        "http://a b",
        "tel:3340000000",
        "é",
        "urn:oid:1.2.3",
        "a:b:c",
        "1a:b",
        "-x:y",
        "x]",
        "http://[::1",
        "http://u:p@h/",
        "a#b#c",
        "a?b?c",
        "\\\\x",
    ];
    let ts = &[
        "2022",
        "20220330",
        "2022033",
        "202203301",
        "20220330112426",
        "20220330112426.5",
        "20220330112426.",
        "20220330112426+0100",
        "20220330+0100",
        "2022+01",
        "2022-03-30",
        " 20220330 ",
        "",
        "123456789012345",
        "20220330112426.123-1",
        "20220330112426+01000",
        "X2022",
        "2022X",
    ];
    let int = &[
        "1",
        "-3",
        "+2",
        " 7 ",
        "",
        "1.5",
        "1e3",
        "007",
        "abc",
        "99999999999999999999999999",
        "- 1",
        "+",
    ];
    let real = &[
        "16.00",
        "1,5",
        "1.",
        ".5",
        "1e3",
        "INF",
        "-INF",
        "NaN",
        "+INF",
        "1.5e",
        " 2 ",
        "0x10",
        "-0",
        "+.5",
        "1E+2",
        "",
        ".",
        "-",
        "1e",
        "e3",
        "12345678901234567890123456789",
        "1.2.3",
        "inf",
    ];
    let boolean = &["true", "false", "1", "0", "TRUE", "yes", " true ", "", "t"];
    let cs = &["IT", " IT ", "I T", "", "IT\t", "ÍT", "a\u{A0}b"];
    let uid = &[
        "2.16.840.1",
        "2.16.840.1 ",
        "0",
        "3.1",
        "2.16..1",
        "2.016.1",
        "12345678-1234-1234-1234-123456789abc",
        "12345678-1234-1234-1234-123456789ABC",
        "1234",
        "A1-b2",
        "a-",
        "-a",
        "",
        "2.16.840.1.113883.2.9.2.120.4.4",
    ];
    let id = &[
        "DIAG", "d1", "1d", "a b", "a:b", "_x", "é1", "", " DIAG ", "x.y-z",
    ];
    let enums = &["PAT", " PAT ", "pat", "", "XYZ", "PAT PAT"];
    let xsi_types = &[
        "CD",
        " CD ",
        "CE",
        "",
        "ANY",
        "xs:string",
        "CV",
        "PQ",
        "cd",
        "CD CE",
        ":CD",
        "CD:",
        "h:CD",
        "e:CD",
        "h:ANY",
        "h:PQ",
        "sdtc:CD",
        "lab:CD",
        "lab:ANY",
        "h:",
        "xsi:CD",
        "ST",
        "SC",
        "ED",
        "BL",
        "TS",
        "IVL_TS",
        "II",
    ];
    let idrefs = &[
        "Esame1",
        "Esame1 EsameDesc1",
        "",
        " Esame1 ",
        "nosuch",
        "Esame1 nosuch",
        "1bad",
        "DIAG\tEsame1",
    ];
    let nmtokens = &[
        "",
        " ",
        "Bold",
        "Bold Italic",
        " Bold ",
        "a,b",
        "x y z",
        "é",
    ];
    let st = &["", " ", "a", "  a ", "ééé", "\t", "x\ny"];
    let cases: &[(&str, &str, &str, &[&str])] = &[
        (
            "RAD",
            "extension=\"030702.LCNLVC95L47H501Q.20220325112426.OQlvTq1J\"",
            "extension=\"{V}\"",
            st,
        ),
        (
            "RAD",
            "<td ID=\"EsameDesc1\">",
            "<td ID=\"EsameDesc1\" styleCode=\"{V}\">",
            nmtokens,
        ),
        (
            "RAD",
            "<td ID=\"EsameDesc1\">",
            "<td ID=\"EsameDesc1\" headers=\"{V}\">",
            idrefs,
        ),
        (
            "RAD",
            "<content ID=\"DIAG\">",
            "<content ID=\"DIAG\"><renderMultiMedia referencedObject=\"{V}\"/>",
            idrefs,
        ),
        (
            "RAD",
            "<telecom use=\"MC\" value=\"tel:3340000000\"/>",
            "<telecom use=\"MC\" value=\"{V}\"/>",
            uri,
        ),
        (
            "RAD",
            "<effectiveTime value=\"20220330112426+0100\"/>",
            "<effectiveTime value=\"{V}\"/>",
            ts,
        ),
        (
            "RAD",
            "<versionNumber value=\"1\"/>",
            "<versionNumber value=\"{V}\"/>",
            int,
        ),
        (
            "LAB",
            "<value xsi:type=\"PQ\" value=\"16.00\"",
            "<value xsi:type=\"PQ\" value=\"{V}\"",
            real,
        ),
        (
            "LDO",
            "<value xsi:type=\"REAL\" value=\"2.5\"/>",
            "<value xsi:type=\"REAL\" value=\"{V}\"/>",
            real,
        ),
        (
            "RAD",
            "<observation classCode=\"OBS\" moodCode=\"EVN\"",
            "<observation classCode=\"OBS\" moodCode=\"EVN\" negationInd=\"{V}\"",
            boolean,
        ),
        (
            "RAD",
            "<realmCode code=\"IT\"/>",
            "<realmCode code=\"{V}\"/>",
            cs,
        ),
        (
            "RAD",
            "<id root=\"2.16.840.1.113883.2.9.2.120.4.4\"",
            "<id root=\"{V}\"",
            uid,
        ),
        ("RAD", "<content ID=\"DIAG\">", "<content ID=\"{V}\">", id),
        (
            "RAD",
            "<patientRole classCode=\"PAT\">",
            "<patientRole classCode=\"{V}\">",
            enums,
        ),
        (
            "RAD",
            "<value xsi:type=\"CD\" code=\"770.0\"",
            "<value xmlns:h=\"urn:hl7-org:v3\" xmlns:e=\"urn:x\" xsi:type=\"{V}\" code=\"770.0\"",
            xsi_types,
        ),
    ];
    let mut checked: Vec<Checked> = Vec::new();
    for (ci, (ex, from, to, values)) in cases.iter().enumerate() {
        let text =
            std::fs::read_to_string(shared().join(format!("corpus/examples/{ex}.xml"))).unwrap();
        assert!(text.contains(from), "{ex}: {from}");
        for (vi, v) in values.iter().enumerate() {
            let esc = v
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('"', "&quot;");
            let m = text.replacen(from, &to.replace("{V}", &esc), 1);
            let doc = roxmltree::Document::parse(&m).unwrap();
            let f = set(UV02).validate(&doc);
            let p = scratch.join(format!("{ci:02}-{vi:02}.xml"));
            std::fs::write(&p, &m).unwrap();
            let label = format!("{} value {v:?}", p.display());
            checked.push(Checked {
                path: p,
                label,
                text: m,
                set: UV02,
                findings: f,
            });
        }
    }
    checked
}

/// Lexical spaces, value by value: one attribute of an example set to each listed value.
#[test]
fn value_table_equal_xmllint() {
    if !xmllint_available("value_table_equal_xmllint") {
        return;
    }
    let scratch = scratch("values");
    let checked = value_table(&scratch);
    let files: Vec<PathBuf> = checked.iter().map(|c| c.path.clone()).collect();
    let theirs = xmllint_verdicts(&laid_out(UV02, &scratch), &files);
    let (mismatches, excused) = compare(&checked, &theirs);
    let valid = checked.iter().filter(|c| c.findings.is_empty()).count();
    eprintln!(
        "values: {} documents, {} valid by us, {} mismatches, excused by named libxml2 deviation: {excused:?}",
        files.len(),
        valid,
        mismatches.len()
    );
    if mismatches.is_empty() {
        let _ = std::fs::remove_dir_all(&scratch);
    }
    assert!(valid >= 30 && valid + 30 <= files.len(), "unbalanced table");
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

/// The same suites against the gateway's own validator (JDK JAXP / Xerces), with **no** excused
/// differences: where libxml2 deviates from XSD 1.0 (docs/XSD.md), Xerces and we agree.
#[test]
fn mutants_and_values_equal_jaxp() {
    if !java_available("mutants_and_values_equal_jaxp") {
        return;
    }
    let scratch = scratch("jaxp");
    let mut checked: Vec<Checked> = uv02_mutants(&scratch)
        .into_iter()
        .map(|(name, path, text)| {
            let doc = roxmltree::Document::parse(&text).unwrap();
            let s = set_for(&doc);
            let findings = set(s).validate(&doc);
            Checked {
                path,
                label: name,
                text,
                set: s,
                findings,
            }
        })
        .collect();
    let values_dir = scratch.join("values");
    std::fs::create_dir_all(&values_dir).unwrap();
    checked.extend(value_table(&values_dir));
    let hd_dir = scratch.join("hd");
    std::fs::create_dir_all(&hd_dir).unwrap();
    checked.extend(hd_mutants(&hd_dir));
    let mut theirs = HashMap::new();
    for s in [UV02, HD] {
        let files: Vec<PathBuf> = checked
            .iter()
            .filter(|c| c.set == s)
            .map(|c| c.path.clone())
            .collect();
        if !files.is_empty() {
            theirs.extend(jaxp_verdicts(&laid_out(s, &scratch), &files));
        }
    }
    let mut mismatches = Vec::new();
    for c in &checked {
        let ok = c.findings.is_empty();
        if theirs.get(&c.path) != Some(&ok) {
            let first = c
                .findings
                .first()
                .map(|f| format!("{} {}", f.id, f.message))
                .unwrap_or_default();
            mismatches.push(format!(
                "{}: ours valid={ok}, jaxp {:?}; {first}",
                c.label,
                theirs.get(&c.path)
            ));
        }
    }
    let valid = checked.iter().filter(|c| c.findings.is_empty()).count();
    eprintln!(
        "jaxp: {} documents, {} valid by us, {} mismatches",
        checked.len(),
        valid,
        mismatches.len()
    );
    if mismatches.is_empty() {
        let _ = std::fs::remove_dir_all(&scratch);
    }
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}
