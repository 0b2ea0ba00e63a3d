//! PDF container and PAdES verification for FSE 2.0 documents, offline.
//!
//! [`analyze`] reads a PDF (every revision, bounded by [`Limits`]), verifies every signature
//! (ByteRange, CMS, messageDigest, signature value, signing certificate, chain to the given
//! [`TrustStore`], validity at signing time, key usage, timestamps, level), analyses what changed
//! after each signature, extracts the CDA the way the gateway does (and says when our answer and
//! the gateway's differ), and gives two verdicts: [`GatewayLens`] (what the Ministry's gateway
//! would answer) and [`AdesLens`] (the full AdES view).
//!
//! ```no_run
//! use fsecheck_pades::{analyze, Options, TrustStore, CdaMode};
//! let bytes = std::fs::read("doc.pdf").unwrap();
//! let opts = Options {
//!     trust: TrustStore::from_path(std::path::Path::new("root-ca.pem")).unwrap(),
//!     ..Options::default()
//! };
//! let report = analyze(&bytes, &opts);
//! println!("{}", report.ades.verdict);
//! ```

pub mod cda;
pub mod cms;
pub mod crypto;
pub mod der;
pub mod modif;
pub mod pdf;
pub mod trust;
pub mod x509;

mod report;
mod signature;

pub use modif::{Change, Class};
pub use pdf::Limits;
pub use report::*;
pub use trust::TrustStore;

use fsecheck_core::{Finding, Stage};
use pdf::Doc;

/// Where to look for the CDA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CdaMode {
    /// Embedded file `cda.xml` (gateway mode `ATTACHMENT`).
    Attachment,
    /// XFA `datasets` resource (gateway mode `RESOURCE`).
    Resource,
    /// No mode given: the gateway tries RESOURCE, then ATTACHMENT, and warns.
    #[default]
    Auto,
}

/// Analysis options.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub cda_mode: CdaMode,
    pub trust: TrustStore,
    pub limits: Limits,
    /// Validation time (seconds since the epoch) used when a signature carries no time at all.
    /// `None` = the system clock.
    pub now: Option<i64>,
    /// Which gateway code the gateway lens reproduces.
    pub gateway: GatewayVariant,
}

/// The gateway snapshot the gateway lens follows (`shared/reference/gateway.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GatewayVariant {
    /// Dispatcher `main` (PDFBox 2.0.26): EmbeddedFiles root `/Names` or first-level `/Kids`;
    /// signed = a signature field with a value.
    #[default]
    Main,
    /// Dispatcher `release` branch (OpenPDF 1.3.29): only the flat root `/Names` array (no
    /// `/Kids`); signed = any top-level field with `/FT /Sig`, even without a value.
    Release,
}

fn now_secs(opts: &Options) -> i64 {
    opts.now.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0)
    })
}

pub fn sha256_hex(d: &[u8]) -> String {
    crypto::Hash::Sha256
        .digest(d)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Analyses one PDF. Never panics on malformed input: every problem becomes a [`Finding`].
pub fn analyze(bytes: &[u8], opts: &Options) -> PdfReport {
    let mut rep = PdfReport::empty(opts.cda_mode);
    rep.size = bytes.len();
    rep.sha256 = sha256_hex(bytes);

    // Gateway input gate.
    if bytes.is_empty() {
        rep.findings.push(
            Finding::error("pdf/empty", Stage::Input, "The file is empty.")
                .with_detail("gateway_type", "/msg/empty-file"),
        );
        rep.gateway.input_error = Some(GatewayError::empty_file());
        rep.finish();
        return rep;
    }
    if bytes.len() <= 4 || !bytes.starts_with(b"%PDF") {
        rep.findings.push(
            Finding::error(
                "pdf/not-pdf",
                Stage::Input,
                "The file is not a PDF: it does not start with %PDF.",
            )
            .with_detail("gateway_type", "/msg/document-type"),
        );
        rep.gateway.input_error = Some(GatewayError::not_pdf());
        rep.finish();
        return rep;
    }

    let scan = pdf::scan_revisions(bytes, &opts.limits);
    for p in &scan.problems {
        rep.findings.push(
            Finding::warning("pdf/xref-problem", Stage::Pdf, format!("Part of the PDF structure is damaged: {p}."))
                .with_hint("A damaged cross-reference section means some readers see different content than others."),
        );
    }
    rep.revisions = scan
        .revisions
        .iter()
        .map(|r| RevisionInfo {
            index: r.index,
            xref_offset: r.xref_offset,
            end: r.end,
        })
        .collect();
    rep.trailing_bytes = scan.trailing_bytes;

    let latest = match scan.revisions.last() {
        Some(r) => Doc::open_chain(bytes, &scan.revisions, r.index, &opts.limits),
        None => Err(pdf::PdfError(
            "no readable cross-reference section (startxref/%%EOF)".into(),
        )),
    };
    let latest = match latest.and_then(|d| {
        if d.catalog().is_some() {
            Ok(d)
        } else {
            Err(pdf::PdfError(
                "the document catalog (/Root) cannot be read".into(),
            ))
        }
    }) {
        Ok(d) => d,
        Err(e) => {
            unreadable(&mut rep, bytes, &e.0, opts);
            rep.finish();
            return rep;
        }
    };
    rep.parse = "ok".into();
    rep.pdfa = pdfa_claim(&latest);

    // Signatures.
    let fields = signature::signature_fields(&latest);
    let ctx = signature::Ctx {
        bytes,
        revs: &scan.revisions,
        opts,
        latest: &latest,
    };
    // Signed fields are signatures; empty signature fields are only noted.
    let mut sigs: Vec<signature::Evaluated> = vec![];
    let mut gw_facts = vec![];
    for f in &fields {
        if f.sig.is_some() {
            let ev = signature::evaluate(&ctx, f);
            gw_facts.push(ev.gw);
            sigs.push(ev);
        } else {
            gw_facts.push(None);
            rep.findings.push(
                Finding::info(
                    "sig/empty-field",
                    Stage::Signature,
                    format!("The signature field '{}' is empty (never signed).", f.name),
                )
                .with_hint("The gateway's check fails on an empty top-level signature field."),
            );
        }
    }
    signature::check_collisions(&mut sigs);
    signature::assign_levels(&ctx, &mut sigs);

    // Gateway signature check (publication).
    rep.gateway.signed = match opts.gateway {
        GatewayVariant::Main => fields.iter().any(|f| f.sig.is_some()),
        GatewayVariant::Release => fields.iter().any(|f| f.top_level),
    };
    rep.gateway.signature_check = match signature::gateway_check(bytes, &fields, &gw_facts) {
        // [release]: an empty top-level signature field counts as signed, then fails.
        "unsigned" if rep.gateway.signed => "invalid".to_string(),
        other => other.to_string(),
    };
    if !rep.gateway.signed {
        rep.gateway.sign_error = Some(GatewayError::sign("Il pdf non risulta firmato"));
    } else {
        if rep.gateway.signature_check != "valid" {
            rep.gateway.sign_error =
                Some(GatewayError::sign("La firma del pdf non risulta valida"));
        }
    }

    // Modification analysis.
    for s in sigs.iter_mut() {
        signature::modification(&ctx, s);
    }
    rep.modification = file_modification(&sigs, scan.trailing_bytes);

    // CDA: from the latest revision and from the signed one.
    let latest_cda = extract_cda(&latest, opts.cda_mode);
    // The revision a signer (not a timestamp) vouched for last.
    let signed_rev = sigs
        .iter()
        .filter(|s| !s.is_doc_ts)
        .filter_map(|s| s.signed_revision)
        .max();
    let mut extraction = latest_cda.clone();
    // The CDA handed on for checking: the one covered by the signature.
    let mut checked_cda = latest_cda.cda.clone();
    if let Some(k) = signed_rev {
        if k + 1 < scan.revisions.len() {
            if let Ok(sdoc) = Doc::open_chain(bytes, &scan.revisions, k, &opts.limits) {
                let signed_cda = extract_cda(&sdoc, opts.cda_mode);
                let a = latest_cda.cda.as_ref().map(|c| &c.bytes);
                let b = signed_cda.cda.as_ref().map(|c| &c.bytes);
                if a != b {
                    checked_cda = signed_cda.cda.clone();
                    extraction = latest_cda.clone();
                    extraction.result = "ok_but_unsigned".into();
                    extraction.signed_revision_sha256 =
                        signed_cda.cda.as_ref().map(|c| c.sha256.clone());
                    extraction.note =
                        Some("the latest revision's CDA is not the signed one".into());
                    extraction.findings.push(
                        Finding::error(
                            "pdf/cda-changed-after-signing",
                            Stage::Pdf,
                            "The CDA in the final version of the PDF is not the one that was signed: it was added or replaced after signing.",
                        )
                        .with_hint("The gateway reads the latest revision and would publish the unsigned CDA; re-sign the document.")
                        .with_detail("signed_revision", k.to_string()),
                    );
                    if a.is_none() {
                        // The CDA was removed after signing: the gateway finds nothing.
                        extraction.result = "none".into();
                    }
                }
            }
        }
    }
    rep.cda = checked_cda;
    rep.findings.extend(extraction.findings.iter().cloned());
    rep.cda_extraction = extraction.report;
    rep.cda_extraction.result = extraction.result;
    rep.cda_extraction.signed_revision_sha256 = extraction.signed_revision_sha256;
    rep.cda_extraction.note = extraction.note.or(rep.cda_extraction.note.take());

    // Gateway CDA extraction (latest revision, gateway rules only).
    gateway_cda(&latest, opts.cda_mode, opts.gateway, &mut rep.gateway);
    if rep.gateway.signed {
        // Validation endpoint: a signed PDF only gets a warning (after the extraction warning).
        rep.gateway
            .validation_warnings
            .push("[SIGN_WARN - Attenzione il documento risulta firmato in validazione]".into());
    }

    for s in sigs {
        rep.findings.extend(s.findings.iter().cloned());
        rep.signatures.push(s.report);
    }
    if rep.signatures.is_empty() {
        rep.findings.push(
            Finding::error(
                "sig/unsigned",
                Stage::Signature,
                "The PDF is not signed; FSE publication requires a PAdES signature.",
            )
            .with_detail("gateway_detail", "Il pdf non risulta firmato"),
        );
    }
    if scan.trailing_bytes > 0 {
        rep.findings.push(
            Finding::warning(
                "pdf/trailing-bytes",
                Stage::Pdf,
                format!("There are {} bytes after the end of the last revision of the PDF.", scan.trailing_bytes),
            )
            .with_hint("Data after the final %%EOF is not covered by any signature and is ignored by most readers."),
        );
    }
    rep.finish();
    rep
}

/// The PDF/A identification in the catalog's XMP metadata (`pdfaid:part`, `pdfaid:conformance`),
/// as element or attribute.
fn pdfa_claim(doc: &Doc<'_>) -> String {
    let xmp = doc
        .catalog()
        .and_then(|c| c.get("Metadata").map(|o| doc.resolve(o)))
        .and_then(|o| match o {
            pdf::Obj::Stream(s) => doc.stream_data(&s).ok(),
            _ => None,
        });
    let Some(x) = xmp else { return "no".into() };
    let text = String::from_utf8_lossy(&x);
    let field = |name: &str| -> Option<String> {
        let el = format!("<pdfaid:{name}>");
        if let Some(i) = text.find(&el) {
            let rest = &text[i + el.len()..];
            return rest.find('<').map(|e| rest[..e].trim().to_string());
        }
        let at = format!("pdfaid:{name}=");
        let i = text.find(&at)?;
        let rest = &text[i + at.len()..];
        let q = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
        let rest = &rest[1..];
        rest.find(q).map(|e| rest[..e].trim().to_string())
    };
    match field("part") {
        Some(p) if !p.is_empty() && p.len() < 4 => {
            let c = field("conformance").unwrap_or_default();
            format!(
                "claimed (PDF/A-{p}{}, not validated)",
                c.to_ascii_uppercase()
            )
        }
        _ => "no".into(),
    }
}

fn unreadable(rep: &mut PdfReport, bytes: &[u8], why: &str, opts: &Options) {
    rep.parse = "fail".into();
    let recovered = pdf::count_recoverable_objects(bytes, &opts.limits);
    rep.cda_extraction.result = if recovered > 0 {
        "fail_parse_or_partial".into()
    } else {
        "fail_parse".into()
    };
    rep.cda_extraction.note = Some(if recovered > 0 {
        format!("{recovered} objects could be recovered by scanning, but not a usable document structure")
    } else {
        "nothing could be read".into()
    });
    rep.findings.push(
        Finding::error(
            "pdf/unreadable",
            Stage::Pdf,
            format!("The PDF cannot be read: {why}."),
        )
        .with_hint("The file is damaged or truncated; no CDA or signature can be taken from it.")
        .with_detail("recoverable_objects", recovered.to_string()),
    );
    rep.gateway.signed = false;
    rep.gateway.signature_check = "unsigned".into();
    rep.gateway.sign_error = Some(GatewayError::sign("Il pdf non risulta firmato"));
    rep.gateway.cda_error = Some(GatewayError::cda());
    rep.gateway.notes.push(
        "PDFBox parses damaged files leniently; the gateway may recover objects we refuse to trust"
            .into(),
    );
}

fn file_modification(sigs: &[signature::Evaluated], trailing: usize) -> String {
    if sigs.is_empty() {
        return "n/a".into();
    }
    if sigs.iter().any(|s| s.tampered) {
        return "n/a (signed bytes altered or signature unreadable)".into();
    }
    let first = sigs
        .iter()
        .filter(|s| s.signed_revision.is_some() || s.report.coverage == "unclear")
        .min_by_key(|s| s.signed_revision.unwrap_or(0));
    let Some(first) = first else {
        return "unknown (no signed revision could be determined)".into();
    };
    if first.report.coverage == "unclear" {
        return "unknown (uncovered bytes inside the revision)".into();
    }
    let mut text = first.report.modification.clone();
    if trailing > 0 && (text == "none" || text.is_empty()) {
        text = "trailing-data (bytes after the last %%EOF)".into();
    }
    text
}

/// What one revision yields for the CDA.
#[derive(Debug, Clone)]
struct Extraction {
    cda: Option<ExtractedCda>,
    result: String,
    report: CdaExtraction,
    signed_revision_sha256: Option<String>,
    note: Option<String>,
    findings: Vec<Finding>,
}

fn extract_cda(doc: &Doc<'_>, mode: CdaMode) -> Extraction {
    let mut ex = Extraction {
        cda: None,
        result: "none".into(),
        report: CdaExtraction::new(mode),
        signed_revision_sha256: None,
        note: None,
        findings: vec![],
    };
    // RESOURCE first (mode R or auto).
    if mode != CdaMode::Attachment {
        match cda::xfa_datasets(doc) {
            Some(Ok(d)) => {
                if let Some(c) = cda::clinical_document_in(&d) {
                    ex.report.located_via = Some("Names/XFAResources/datasets".into());
                    let h = sha256_hex(&c);
                    ex.report.sha256 = Some(h.clone());
                    ex.report.note = Some("CDA wrapped in the XFA datasets stream".into());
                    ex.cda = Some(ExtractedCda {
                        name: None,
                        located_via: "Names/XFAResources/datasets".into(),
                        sha256: h,
                        size: c.len(),
                        bytes: c,
                    });
                    ex.result = "ok_resource_mode".into();
                    if mode == CdaMode::Auto {
                        ex.findings.push(
                            Finding::info(
                                "pdf/cda-resource-mode",
                                Stage::Pdf,
                                "The CDA was found in the XFA datasets resource (gateway mode RESOURCE), not as an attached cda.xml.",
                            )
                            .with_hint("The gateway re-serialises a CDA found this way, so its bytes are not kept exactly."),
                        );
                    }
                    list_for_report(doc, &mut ex);
                    return ex;
                }
                ex.findings.push(Finding::warning(
                    "pdf/cda-resource-empty",
                    Stage::Pdf,
                    "The XFA datasets resource does not contain a ClinicalDocument element.",
                ));
            }
            Some(Err(e)) => ex.findings.push(Finding::warning(
                "pdf/cda-resource-unusable",
                Stage::Pdf,
                format!("The XFA resource cannot be used as the gateway reads it: {e}."),
            )),
            None => {}
        }
        if mode == CdaMode::Resource {
            ex.findings.push(
                Finding::error(
                    "pdf/cda-missing",
                    Stage::Pdf,
                    "No CDA was found in the XFA datasets resource (mode RESOURCE).",
                )
                .with_detail("gateway_type", "/msg/cda-element"),
            );
            return ex;
        }
    }
    let (atts, problems) = cda::list_attachments(doc);
    for p in problems {
        ex.findings.push(Finding::warning(
            "pdf/attachments-problem",
            Stage::Pdf,
            format!("The list of embedded files is damaged: {p}."),
        ));
    }
    ex.report.candidates = atts
        .iter()
        .map(|a| Candidate {
            name: a.display_name(),
            located_via: a.located_via(),
            gateway_match: a.gateway_match(),
            is_cda: a.is_cda(),
            af_relationship: a.af_relationship.clone(),
        })
        .collect();
    let exact: Vec<&cda::Attachment> = atts.iter().filter(|a| a.gateway_match()).collect();
    let xml_others: Vec<&cda::Attachment> = atts
        .iter()
        .filter(|a| !a.gateway_match() && a.looks_xml())
        .collect();
    let chosen = if !exact.is_empty() {
        let distinct: std::collections::HashSet<Vec<u8>> = exact
            .iter()
            .filter_map(|a| a.data.as_ref().ok().cloned())
            .collect();
        if distinct.len() > 1 {
            ex.result = "ambiguous".into();
            ex.findings.push(Finding::error(
                "pdf/cda-ambiguous",
                Stage::Pdf,
                format!("The PDF holds {} different attachments named cda.xml; which one the gateway takes is not defined.", exact.len()),
            ));
            return ex;
        }
        if xml_others.is_empty() {
            ex.result = "ok".into();
        } else {
            ex.result = "ok_with_warning".into();
            ex.note = Some("second XML attachment ignored".into());
            let names: Vec<String> = xml_others.iter().map(|a| a.display_name()).collect();
            ex.findings.push(
                Finding::warning(
                    "pdf/cda-extra-xml",
                    Stage::Pdf,
                    format!("Besides cda.xml the PDF carries other XML attachments ({}); they are ignored.", names.join(", ")),
                )
                .with_detail("others", names.join(", ")),
            );
        }
        Some(exact[0])
    } else {
        // Near misses: what a person would take for the CDA but the gateway would not find.
        let cands: Vec<&cda::Attachment> = atts
            .iter()
            .filter(|a| {
                a.names()
                    .iter()
                    .any(|n| n.eq_ignore_ascii_case(cda::GATEWAY_NAME))
                    || a.is_cda()
            })
            .collect();
        match cands.len() {
            0 => {
                ex.result = "none".into();
                let msg = if atts.is_empty() {
                    "The PDF has no embedded cda.xml (no embedded files at all).".to_string()
                } else {
                    format!(
                        "The PDF has no embedded cda.xml; its attachments ({}) do not contain a CDA.",
                        atts.iter().map(|a| a.display_name()).collect::<Vec<_>>().join(", ")
                    )
                };
                ex.note = Some(if atts.is_empty() {
                    "no EmbeddedFiles, no /AF".into()
                } else {
                    "no CDA among the attachments".into()
                });
                ex.findings.push(
                    Finding::error("pdf/cda-missing", Stage::Pdf, msg)
                        .with_detail("gateway_type", "/msg/cda-element"),
                );
                None
            }
            1 => {
                let a = cands[0];
                ex.result = "near_miss".into();
                let why = if a.names().contains(&cda::GATEWAY_NAME) {
                    "it is named cda.xml only in /UF, or sits deeper in the name tree than the gateway reads".to_string()
                } else {
                    format!("it is named '{}' and the gateway looks only for exactly 'cda.xml' (case-sensitive)", a.display_name())
                };
                ex.findings.push(
                    Finding::error(
                        "pdf/cda-near-miss",
                        Stage::Pdf,
                        format!("The CDA is attached but the gateway would not find it: {why}."),
                    )
                    .with_hint(
                        "Attach the CDA under the exact name cda.xml (name-tree key and /F).",
                    )
                    .with_detail("name", a.display_name()),
                );
                Some(a)
            }
            n => {
                ex.result = "ambiguous".into();
                ex.findings.push(Finding::error(
                    "pdf/cda-ambiguous",
                    Stage::Pdf,
                    format!(
                        "The PDF holds {n} candidate CDAs ({}) and none is named cda.xml; it is not clear which one is the document.",
                        cands.iter().map(|a| a.display_name()).collect::<Vec<_>>().join(", ")
                    ),
                ));
                None
            }
        }
    };
    if let Some(a) = chosen {
        match &a.data {
            Ok(d) => {
                ex.report.name = Some(a.display_name());
                ex.report.located_via = Some(a.located_via());
                let h = sha256_hex(d);
                ex.report.sha256 = Some(h.clone());
                if !a.is_cda() {
                    ex.findings.push(Finding::warning(
                        "pdf/cda-not-clinical-document",
                        Stage::Pdf,
                        "The attached cda.xml does not start with a ClinicalDocument element.",
                    ));
                }
                if !a.in_af {
                    ex.findings.push(
                        Finding::info(
                            "pdf/cda-not-associated",
                            Stage::Pdf,
                            "cda.xml is not listed in the catalog's /AF (associated files), as PDF/A-3 expects.",
                        )
                        .with_hint("The gateway does not check /AF; PDF/A-3 validators do."),
                    );
                }
                ex.cda = Some(ExtractedCda {
                    name: Some(a.display_name()),
                    located_via: a.located_via(),
                    sha256: h,
                    size: d.len(),
                    bytes: d.clone(),
                });
            }
            Err(e) => {
                ex.result = "fail".into();
                ex.findings.push(Finding::error(
                    "pdf/cda-unreadable",
                    Stage::Pdf,
                    format!("The embedded cda.xml cannot be read: {e}."),
                ));
            }
        }
    }
    ex
}

fn list_for_report(doc: &Doc<'_>, ex: &mut Extraction) {
    let (atts, _) = cda::list_attachments(doc);
    ex.report.candidates = atts
        .iter()
        .map(|a| Candidate {
            name: a.display_name(),
            located_via: a.located_via(),
            gateway_match: a.gateway_match(),
            is_cda: a.is_cda(),
            af_relationship: a.af_relationship.clone(),
        })
        .collect();
}

/// The gateway's own CDA lookup on the latest revision.
fn gateway_cda(doc: &Doc<'_>, mode: CdaMode, variant: GatewayVariant, gw: &mut GatewayLens) {
    let max_depth = match variant {
        GatewayVariant::Main => 1,
        GatewayVariant::Release => 0,
    };
    let resource = || -> Option<String> {
        match cda::xfa_datasets(doc) {
            Some(Ok(d)) => {
                cda::clinical_document_in(&d).map(|_| "Names/XFAResources/datasets".to_string())
            }
            _ => None,
        }
    };
    let attachment = || -> Option<String> {
        let (atts, _) = cda::list_attachments(doc);
        let hits: Vec<&cda::Attachment> = atts
            .iter()
            .filter(|a| a.gateway_match() && a.depth <= max_depth && a.data.is_ok())
            .collect();
        // A gateway-visible entry without /EF /F makes PDFBox throw: no attachments at all.
        if atts
            .iter()
            .any(|a| a.depth <= max_depth && a.key.is_some() && a.data.is_err())
        {
            return None;
        }
        hits.first().map(|a| a.located_via())
    };
    let found = match mode {
        CdaMode::Resource => resource(),
        CdaMode::Attachment => attachment(),
        CdaMode::Auto => {
            gw.validation_warnings.push(
                "[WARNING_EXTRACT]Attenzione, non è stata selezionata la modalità di estrazione del CDA".into(),
            );
            gw.publication_warnings.push(
                "Attenzione, non è stata selezionata la modalità di estrazione del CDA".into(),
            );
            resource().or_else(attachment)
        }
    };
    gw.cda_found = found.is_some();
    gw.cda_located_via = found;
    if !gw.cda_found {
        gw.cda_error = Some(GatewayError::cda());
    }
}
