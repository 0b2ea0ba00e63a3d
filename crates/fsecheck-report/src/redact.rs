//! Redaction of personal data in messages and snippets, for reports that leave the trust boundary
//! (code-scanning alerts, CI logs): every codice-fiscale-shaped token, and the patient's names,
//! address, birth date, identifiers and contacts read from the CDA's `recordTarget/patientRole`.
//!
//! On by default for sarif, gitlab, junit and html; off for json/jsonl/csv/human unless asked.

use crate::record::DocumentReport;
use crate::sink::{Sink, Summary};
use regex::Regex;
use std::borrow::Cow;
use std::sync::OnceLock;

/// What a masked value is replaced with.
pub const MASK: &str = "[redacted]";

/// Values shorter than this are not masked by value (country codes, `M`/`F`): too many false hits.
const MIN_VALUE_LEN: usize = 4;

/// The codice fiscale shape (with omocodia letters in the digit positions).
pub fn fiscal_code_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"[A-Za-z]{6}[0-9LMNPQRSTUVlmnpqrstuv]{2}[A-Za-z][0-9LMNPQRSTUVlmnpqrstuv]{2}[A-Za-z][0-9LMNPQRSTUVlmnpqrstuv]{3}[A-Za-z]",
        )
        .unwrap()
    })
}

/// Mask every fiscal-code-shaped token (no document needed).
pub fn mask_fiscal_codes(s: &str) -> Cow<'_, str> {
    fiscal_code_regex().replace_all(s, MASK)
}

/// The redaction rules for one document.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    enabled: bool,
    /// Exact values to mask, longest first.
    values: Vec<String>,
}

impl Redactor {
    /// A redactor that changes nothing.
    pub fn off() -> Self {
        Redactor::default()
    }

    /// Fiscal-code masking only (no document at hand).
    pub fn fiscal_codes_only() -> Self {
        Redactor {
            enabled: true,
            values: Vec::new(),
        }
    }

    /// The redactor for `report`: fiscal codes, plus the patient's data when the checked text is
    /// at hand (`report.source`). `enabled == false` gives a redactor that changes nothing.
    pub fn for_report(report: &DocumentReport, enabled: bool) -> Self {
        if !enabled {
            return Redactor::off();
        }
        let values = report
            .source
            .as_ref()
            .map(cached_patient_values)
            .unwrap_or_default();
        Redactor { enabled, values }
    }

    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// The text with personal data masked.
    pub fn text<'a>(&self, s: &'a str) -> Cow<'a, str> {
        if !self.enabled {
            return Cow::Borrowed(s);
        }
        let mut out = mask_fiscal_codes(s);
        for v in &self.values {
            if out.contains(v.as_str()) {
                out = Cow::Owned(out.replace(v.as_str(), MASK));
            }
        }
        out
    }
}

impl Redactor {
    /// The text with personal data masked by `*` of the same byte length, so that offsets, lines
    /// and (for ASCII data) columns stay right: for the checked text kept for snippets.
    pub fn text_same_len(&self, s: &str) -> String {
        if !self.enabled {
            return s.to_string();
        }
        let mut ranges: Vec<(usize, usize)> = fiscal_code_regex()
            .find_iter(s)
            .map(|m| (m.start(), m.end()))
            .collect();
        for v in &self.values {
            ranges.extend(s.match_indices(v.as_str()).map(|(i, m)| (i, i + m.len())));
        }
        if ranges.is_empty() {
            return s.to_string();
        }
        let mut bytes = s.as_bytes().to_vec();
        for (a, b) in ranges {
            bytes[a..b].fill(b'*');
        }
        // Every masked range starts and ends on a char boundary, so this stays UTF-8.
        String::from_utf8(bytes)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }

    /// Redact a whole record: messages, hints, details, and the kept text.
    pub fn report(&self, r: &DocumentReport) -> DocumentReport {
        let mut c = r.clone();
        if !self.enabled {
            return c;
        }
        for f in c.findings.iter_mut() {
            f.message = self.text(&f.message).into_owned();
            if let Some(h) = &f.hint {
                f.hint = Some(self.text(h).into_owned());
            }
            for v in f.details.values_mut() {
                *v = self.text(v).into_owned();
            }
        }
        if let Some(src) = &r.source {
            c.source = Some(self.text_same_len(src).into());
        }
        if let Some(cda) = c.cda.as_mut() {
            self.cda_ids(cda);
        }
        c
    }

    /// Document, encounter and order ids often embed the patient's fiscal code.
    fn cda_ids(&self, cda: &mut crate::CdaSummary) {
        let ids = [
            &mut cda.document_id,
            &mut cda.encounter_id,
            &mut cda.facility_id,
            &mut cda.custodian_id,
        ];
        for id in ids.into_iter().flatten() {
            *id = self.text(id).into_owned();
        }
        for id in cda.order_ids.iter_mut() {
            *id = self.text(id).into_owned();
        }
    }
}

/// Wraps a sink that does not redact by itself (human, json, jsonl) for `--redact`.
pub struct RedactingSink {
    inner: Box<dyn Sink>,
}

impl RedactingSink {
    pub fn new(inner: Box<dyn Sink>) -> Self {
        RedactingSink { inner }
    }
}

impl Sink for RedactingSink {
    fn record(&mut self, r: &DocumentReport) -> std::io::Result<()> {
        let red = Redactor::for_report(r, true);
        self.inner.record(&red.report(r))
    }

    fn finish(&mut self, summary: &Summary) -> std::io::Result<()> {
        self.inner.finish(summary)
    }
}

/// [`patient_values`] of the last text seen on this thread: every redacting sink asks for the
/// same record in turn, and the text is parsed once.
fn cached_patient_values(text: &std::sync::Arc<str>) -> Vec<String> {
    use std::cell::RefCell;
    use std::sync::{Arc, Weak};
    thread_local! {
        static LAST: RefCell<Option<(Weak<str>, Vec<String>)>> = const { RefCell::new(None) };
    }
    LAST.with(|cell| {
        let mut last = cell.borrow_mut();
        if let Some((prev, values)) = last.as_ref() {
            if prev.upgrade().is_some_and(|p| Arc::ptr_eq(&p, text)) {
                return values.clone();
            }
        }
        let values = patient_values(text);
        *last = Some((Arc::downgrade(text), values.clone()));
        values
    })
}

fn xml_escaped(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('\'', "&apos;")
        .replace('"', "&quot;")
}

/// The patient's personal values in a CDA text: names, address parts, birth time, ids, telecoms
/// under `recordTarget/patientRole` (including guardians and birthplace). Empty when the text is
/// not parseable XML.
pub fn patient_values(text: &str) -> Vec<String> {
    let opts = roxmltree::ParsingOptions {
        allow_dtd: false,
        ..Default::default()
    };
    let Ok(doc) = roxmltree::Document::parse_with_options(text, opts) else {
        return Vec::new();
    };
    let mut values: Vec<String> = Vec::new();
    let mut push = |v: &str| {
        let v = v.trim();
        if v.chars().count() >= MIN_VALUE_LEN {
            values.push(v.to_string());
            let e = xml_escaped(v);
            if e != v {
                values.push(e);
            }
        }
    };
    for role in doc
        .descendants()
        .filter(|n| n.has_tag_name("recordTarget"))
        .flat_map(|rt| rt.children().filter(|n| n.has_tag_name("patientRole")))
    {
        for n in role.descendants().filter(|n| n.is_element()) {
            match n.tag_name().name() {
                "id" => {
                    if let Some(v) = n.attribute("extension") {
                        push(v);
                    }
                }
                "telecom" => {
                    if let Some(v) = n.attribute("value") {
                        push(v);
                        if let Some((_, rest)) = v.split_once(':') {
                            push(rest);
                        }
                    }
                }
                "birthTime" => {
                    if let Some(v) = n.attribute("value") {
                        push(v);
                    }
                }
                "name" | "addr" => {
                    for t in n.descendants().filter(|t| t.is_text()) {
                        if let Some(s) = t.text() {
                            push(s);
                        }
                    }
                }
                _ => {}
            }
        }
    }
    values.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
    values.dedup();
    values
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Kind;

    const CDA: &str = r#"<ClinicalDocument xmlns="urn:hl7-org:v3">
<recordTarget><patientRole>
  <id root="2.16.840.1.113883.2.9.4.3.2" extension="RSSMRA80A01H501U"/>
  <addr use="HP"><streetAddressLine>Via dell&apos;Orso 3</streetAddressLine><city>Roma</city><country>100</country></addr>
  <telecom value="tel:+39061234567"/>
  <patient><name><given>Mario</given><family>Rossi</family></name>
  <administrativeGenderCode code="M"/><birthTime value="19800101"/></patient>
</patientRole></recordTarget>
<title>Referto per Mario Rossi</title></ClinicalDocument>"#;

    #[test]
    fn masks_fiscal_codes_anywhere() {
        let r = Redactor::fiscal_codes_only();
        assert_eq!(
            r.text("paziente RSSMRA80A01H501U, altro MRTNTN85T10A5L2K."),
            "paziente [redacted], altro [redacted]."
        );
        assert_eq!(r.text("no personal data"), "no personal data");
        assert_eq!(Redactor::off().text("RSSMRA80A01H501U"), "RSSMRA80A01H501U");
    }

    #[test]
    fn masks_fiscal_codes_in_cda_ids() {
        let mut rep = DocumentReport::new("a.xml", Kind::Xml);
        rep.cda = Some(crate::CdaSummary {
            document_id: Some("2.16.840^030702.RSSMRA80A01H501U.20220420".into()),
            order_ids: vec!["2.16.840.1.113883.2.9.4.3.9^RSSMRA80A01H501U".into()],
            encounter_id: Some("e^E1".into()),
            ..Default::default()
        });
        let c = Redactor::fiscal_codes_only().report(&rep).cda.unwrap();
        assert_eq!(
            c.document_id.as_deref(),
            Some("2.16.840^030702.[redacted].20220420")
        );
        assert_eq!(c.order_ids, ["2.16.840.1.113883.2.9.4.3.9^[redacted]"]);
        assert_eq!(c.encounter_id.as_deref(), Some("e^E1"));
        let raw = Redactor::off().report(&rep).cda.unwrap();
        assert_eq!(
            raw.order_ids,
            ["2.16.840.1.113883.2.9.4.3.9^RSSMRA80A01H501U"]
        );
    }

    #[test]
    fn masks_the_patient_of_the_document() {
        let mut rep = DocumentReport::new("a.xml", Kind::Xml);
        rep.source = Some(CDA.into());
        let r = Redactor::for_report(&rep, true);
        let out = r.text(CDA);
        for v in [
            "RSSMRA80A01H501U",
            "Mario",
            "Rossi",
            "19800101",
            "Roma",
            "Via dell&apos;Orso 3",
            "+39061234567",
        ] {
            assert!(!out.contains(v), "{v} left in {out}");
        }
        // Short codes stay: they are not personal and would mangle everything.
        assert!(out.contains("code=\"M\""));
        assert!(out.contains("<country>100</country>"));
        assert_eq!(
            r.text("Via dell'Orso 3 is the address"),
            "[redacted] is the address"
        );
        assert_eq!(Redactor::for_report(&rep, false).text("Rossi"), "Rossi");
        let same = r.text_same_len(CDA);
        assert_eq!(same.len(), CDA.len());
        assert_eq!(same.lines().count(), CDA.lines().count());
        assert!(!same.contains("Rossi") && !same.contains("RSSMRA80A01H501U"));
        assert!(same.contains("<given>*****</given>"));
    }
}
