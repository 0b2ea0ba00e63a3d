//! The registry of built-in rule ids: a short English explanation of each, used by
//! `fsecheck explain`, the SARIF rule metadata and `docs/RULES.md` (generated from here).
//!
//! Schematron findings carry the id of the assert or report that fired (`sch/ERRORE-5`,
//! `sch/W001`); those come from the catalog, not from this list, and are explained from the
//! schematron file itself (`fsecheck explain sch/ID --doc-type KEY`).

use fsecheck_core::{Severity, Stage};

/// Where the rule documentation lives; SARIF `helpUri`s point into it.
pub const DOCS_URL: &str = "https://example.invalid/fsecheck/blob/main/docs/RULES.md";

/// One built-in rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleDoc {
    pub id: &'static str,
    pub stage: Stage,
    /// The severity the rule is usually reported with.
    pub severity: Severity,
    /// What the rule checks and how to fix it, in English.
    pub summary: &'static str,
}

const fn r(id: &'static str, stage: Stage, severity: Severity, summary: &'static str) -> RuleDoc {
    RuleDoc {
        id,
        stage,
        severity,
        summary,
    }
}

use Severity::{Error as E, Info as I, Warning as W};

/// Rules produced by the input, XML, CDA, XSD, schematron, terminology and engine stages.
const CORE_RULES: &[RuleDoc] = &[
    r("input/not-found", Stage::Input, E, "A path given on the command line does not exist. Check the path."),
    r("input/permission-denied", Stage::Input, E, "The file or folder may not be read by the user running fsecheck."),
    r("input/unreadable", Stage::Input, E, "The path could not be inspected or read (I/O error, dangling symbolic link)."),
    r("input/symlink-loop", Stage::Input, E, "A symbolic link points back to one of its own parent folders while walking; it was not followed."),
    r("input/empty", Stage::Input, E, "The file is empty. The gateway refuses it as an empty file (/msg/empty-file)."),
    r("input/too-large", Stage::Input, E, "The file is larger than `--max-size`; it was not read. Raise the limit if the file is genuine."),
    r("input/unsupported-format", Stage::Input, E, "The content is neither a PDF, an XML document nor an HTTP request file (recognised by content, not by extension)."),
    r("input/archive-corrupt", Stage::Input, E, "A zip archive, or one of its entries, cannot be read: damaged or truncated archive, bad compressed data or checksum, or an entry that inflates to more (or fewer) bytes than its header declares, the trick zip bombs use to get past size checks."),
    r("input/archive-unsupported", Stage::Input, E, "A zip archive or entry fsecheck does not read: encrypted entries, compression methods other than stored and deflate, multi-disk archives. Re-create the archive with a standard zip tool."),
    r("input/archive-too-many-entries", Stage::Input, E, "A zip archive has more entries than `--archive-max-entries` (default 100,000): it was not expanded. A safety limit against zip bombs."),
    r("input/archive-too-large", Stage::Input, E, "The entries of a zip archive declare more uncompressed bytes in total than `--archive-max-total` (default 4 GiB): it was not expanded. A safety limit against zip bombs."),
    r("input/archive-entry-too-large", Stage::Input, E, "A zip entry declares more uncompressed bytes than `--max-size` (the limit for files): it was not inflated."),
    r("input/archive-ratio", Stage::Input, E, "A zip entry above 1 MiB declares an uncompressed/compressed ratio above `--archive-max-ratio` (default 100): it was not inflated. A safety limit against zip bombs."),
    r("input/archive-nested", Stage::Input, E, "A zip archive inside a zip archive: only one level of archives is expanded. Unpack the inner archive, or check it on its own."),
    r("input/archive-empty", Stage::Input, I, "A zip archive with nothing to check (no entries, only folders, or only hidden entries without `--hidden`)."),
    r("xml/empty", Stage::Xml, E, "The XML text is empty; an empty file cannot be a CDA document."),
    r("xml/unsupported-encoding", Stage::Xml, E, "The document uses an encoding fsecheck (and the gateway) cannot read, such as UTF-32. Save it as UTF-8."),
    r("xml/utf16-without-bom", Stage::Xml, W, "The document looks like UTF-16 but has no byte order mark; parsers may guess wrong. Save it as UTF-8, or add a BOM."),
    r("xml/encoding-mismatch", Stage::Xml, E, "The byte order mark or the bytes disagree with the encoding named in the XML declaration. Make the declaration match the real encoding."),
    r("xml/invalid-encoding", Stage::Xml, E, "A byte is not valid in the encoding the XML declaration names (e.g. a non-ASCII byte in a US-ASCII document)."),
    r("xml/invalid-utf8", Stage::Xml, E, "The bytes are not valid UTF-8 (often a Latin-1 file without an encoding declaration). Re-save the file as UTF-8."),
    r("xml/doctype", Stage::Xml, E, "The document has a DOCTYPE declaration. DTDs and entity declarations are refused (they enable entity-expansion attacks and the gateway rejects them)."),
    r("xml/too-deep", Stage::Xml, E, "Elements are nested deeper than the safety limit; the document was not parsed further."),
    r("xml/too-many-attributes", Stage::Xml, E, "An element has more attributes than the safety limit."),
    r("xml/too-many-nodes", Stage::Xml, E, "The document has more nodes than the safety limit."),
    r("xml/unknown-namespace-prefix", Stage::Xml, E, "A namespace prefix is used without a declaration in scope; the document is not namespace-well-formed. Declare the prefix (e.g. xmlns:xsi)."),
    r("xml/not-well-formed", Stage::Xml, E, "The file is not well-formed XML. The gateway answers 'Error while executing validation on xsd schema' (/msg/syntax). Fix the reported line and column."),
    r("cda/not-clinical-document", Stage::Cda, E, "The root element is not {urn:hl7-org:v3}ClinicalDocument, so the file is not an HL7 CDA R2 document."),
    r("cda/missing-template-id", Stage::Cda, E, "The document has no templateId/@root: the gateway chooses the schematron by the first templateId and cannot validate without it."),
    r("cda/missing-type-id", Stage::Cda, E, "The document has no typeId/@extension: the gateway chooses the XSD schema set by it and cannot validate without it."),
    r("xsd/schema-not-found", Stage::Xsd, E, "No schema set in the catalog matches typeId/@extension (the gateway's 'Schema with version … not found on database')."),
    r("sch/not-found", Stage::Schematron, E, "No active schematron in the catalog is mapped to the document's first templateId/@root (the gateway's 'Schematron with template id root … not found on database')."),
    r("sch/dynamic-error", Stage::Schematron, E, "Evaluating the schematron failed at run time (an XPath error on this document); the gateway reports a generic error."),
    r("term/system-not-managed", Stage::Terminology, I, "A code system used in the document is not one the gateway manages; its codes are not checked."),
    r("http/not-checked", Stage::Metadata, I, "The input is an HTTP request file; request checks are not enabled in this build."),
    r("input/sidecar", Stage::Input, I, "A `X.json`/`X.jwt` file beside `X.xml`/`X.pdf`: publication metadata checked together with that document, reported once here."),
    r("internal/schematron-invalid", Stage::Internal, E, "The catalog schematron chosen for this document does not compile: the catalog is broken (the run ends with exit code 2)."),
    r("internal/schema-set-invalid", Stage::Internal, E, "The catalog CDA schema set chosen for this document (by typeId/@extension) does not compile: the catalog is broken (the run ends with exit code 2)."),
    r("http/unreadable", Stage::Metadata, E, "The .http request file could not be read."),
    r("http/no-gateway-request", Stage::Metadata, W, "The .http file holds no request to a Gateway FSE 2.0 document endpoint, so nothing was checked."),
    r("http/response-variable", Stage::Metadata, I, "A `{{name.response…}}` variable takes a value from a live response; it cannot be resolved offline."),
    r("http/unresolved-variable", Stage::Metadata, W, "A `{{NAME}}` variable of the request file is defined neither in the file nor in a .env/.env-sample beside or above it."),
    r("http/attachment-unreadable", Stage::Metadata, E, "The file a request attaches (`< ./path`) could not be read, so the PDF/CDA and its hash were not checked."),
    r("meta/unreadable", Stage::Metadata, E, "A metadata sidecar (`X.json`, `X.jwt`) exists but could not be read."),
    r("sch/unnamed", Stage::Schematron, E, "A schematron assert or report whose text has no `ID|` prefix; the message is the schematron's own."),
    r("pdf/empty", Stage::Pdf, E, "The PDF file is empty: the gateway answers /msg/empty-file."),
    r("pdf/not-pdf", Stage::Pdf, E, "The file does not start with `%PDF`: the gateway answers 415 /msg/document-type."),
    r("pdf/unreadable", Stage::Pdf, E, "The PDF structure (cross-reference, trailer, objects) cannot be read, so no CDA or signature can be trusted from it."),
    r("pdf/xref-problem", Stage::Pdf, W, "A cross-reference section is damaged; objects were recovered by scanning. Readers may disagree on the content."),
    r("pdf/trailing-bytes", Stage::Pdf, W, "Bytes follow the last `%%EOF`: content outside every revision (and outside every signature)."),
    r("pdf/attachments-problem", Stage::Pdf, W, "The embedded-files name tree is malformed (bad `/Names`, `/Kids`, missing `/EF`), so some attachments could not be read."),
    r("pdf/cda-missing", Stage::Pdf, E, "No CDA is embedded: the gateway answers 400 /msg/cda-element ('Errore in fase di estrazione del CDA.')."),
    r("pdf/cda-near-miss", Stage::Pdf, E, "An XML attachment exists but not under the exact, case-sensitive name `cda.xml` the gateway looks for (e.g. `CDA.xml`, `cda2.xml`), so the gateway would not find it."),
    r("pdf/cda-ambiguous", Stage::Pdf, W, "Several attachments could be the CDA; the gateway takes one by its own lookup order. Keep exactly one `cda.xml`."),
    r("pdf/cda-extra-xml", Stage::Pdf, I, "Besides `cda.xml` the PDF carries other XML attachments; the gateway ignores them."),
    r("pdf/cda-not-associated", Stage::Pdf, I, "`cda.xml` is not listed in the catalog's `/AF` (associated files) with an `/AFRelationship`, as PDF/A-3 expects; the gateway does not check this."),
    r("pdf/cda-not-clinical-document", Stage::Pdf, E, "The extracted `cda.xml` is not an HL7 CDA ClinicalDocument."),
    r("pdf/cda-unreadable", Stage::Pdf, E, "The `cda.xml` attachment stream cannot be decoded (filter error, size or ratio limit)."),
    r("pdf/cda-resource-mode", Stage::Pdf, I, "The CDA was found as an XFA `datasets` resource (the gateway's RESOURCE mode), not as an attachment."),
    r("pdf/cda-resource-empty", Stage::Pdf, W, "The XFA `datasets` resource exists but holds no ClinicalDocument."),
    r("pdf/cda-resource-unusable", Stage::Pdf, W, "The XFA `datasets` resource is not in the shape the gateway reads (`/XFAResources` → `datasets` stream)."),
    r("pdf/cda-changed-after-signing", Stage::Pdf, E, "A revision added after the last signature replaces the CDA: the document the gateway reads is not the one that was signed."),
    r("pdf/gateway-extraction", Stage::Pdf, E, "The gateway's own PDF reader would not get the CDA out of this file (its exact lookup rules differ from a full reader); it answers /msg/cda-element."),
    r("sig/unsigned", Stage::Signature, E, "The PDF has no signature. Validation accepts it; publication requires a PAdES signature ('Il pdf non risulta firmato')."),
    r("sig/empty-field", Stage::Signature, W, "A signature field without a value: the gateway's check of the last field fails on it."),
    r("sig/byterange-malformed", Stage::Signature, E, "`/ByteRange` is missing, not four non-negative integers, does not start at 0 or overlaps: nothing is provably signed."),
    r("sig/byterange-out-of-bounds", Stage::Signature, E, "`/ByteRange` points past the end of the file: it was truncated or altered."),
    r("sig/byterange-gap", Stage::Signature, E, "The gap `/ByteRange` leaves unsigned is not exactly the `/Contents` hex string: unsigned bytes can be changed freely."),
    r("sig/byterange-collision", Stage::Signature, E, "Two signatures claim overlapping byte ranges in a way no honest writer produces."),
    r("sig/partial-coverage", Stage::Signature, W, "The signature covers an earlier revision only; later revisions are unsigned (see the modification analysis)."),
    r("sig/contents-trailing-data", Stage::Signature, W, "The `/Contents` string holds data after the CMS structure (beyond zero padding)."),
    r("sig/cms-empty", Stage::Signature, E, "`/Contents` is empty or all zeros: the field was prepared but never signed."),
    r("sig/cms-unreadable", Stage::Signature, E, "`/Contents` is not a readable CMS SignedData structure."),
    r("sig/cms-ber", Stage::Signature, I, "The CMS uses BER indefinite lengths (common in real signers); it was normalised to DER for verification."),
    r("sig/cms-not-detached", Stage::Signature, E, "The CMS encapsulates content; PAdES signatures are detached over the byte range."),
    r("sig/several-signer-infos", Stage::Signature, W, "The CMS has several SignerInfos; the gateway verifies only the first."),
    r("sig/signer-certificate-missing", Stage::Signature, E, "The signer's certificate is not in the CMS, so the signature cannot be verified."),
    r("sig/content-type-missing", Stage::Signature, E, "The signed attributes lack the content-type attribute CMS requires."),
    r("sig/message-digest-missing", Stage::Signature, E, "The signed attributes lack the messageDigest attribute, so the byte range is not bound to the signature."),
    r("sig/digest-mismatch", Stage::Signature, E, "The digest of the signed bytes differs from the messageDigest in the signature: the file was changed after signing."),
    r("sig/signature-invalid", Stage::Signature, E, "The signature value does not verify with the signer's public key."),
    r("sig/signing-certificate-mismatch", Stage::Signature, E, "The signing-certificate(-v2) attribute does not identify the certificate used (certificate substitution)."),
    r("sig/weak-sha1", Stage::Signature, W, "SHA-1 is used for the digest or the signature: no longer considered secure."),
    r("sig/deprecated-subfilter", Stage::Signature, W, "The `/SubFilter` (e.g. adbe.pkcs7.sha1) is deprecated for PAdES."),
    r("sig/unknown-subfilter", Stage::Signature, W, "The `/SubFilter` is not one of ETSI.CAdES.detached, adbe.pkcs7.detached, adbe.pkcs7.sha1, ETSI.RFC3161."),
    r("sig/not-pades", Stage::Signature, W, "The signature is a PKCS#7 signature, not an ETSI PAdES (CAdES-detached) one."),
    r("sig/not-baseline", Stage::Signature, W, "The signature lacks what a PAdES baseline (B-B) signature must carry, such as the signing-certificate-v2 attribute."),
    r("sig/chain-untrusted", Stage::Signature, E, "The signer's certificate does not chain to a trust anchor given with --trust (a warning when no anchors were given). The gateway does not check trust."),
    r("sig/certificate-not-valid-at-signing-time", Stage::Signature, E, "The signer's certificate was expired or not yet valid at the signing time (from a timestamp if present, else as claimed by the signer)."),
    r("sig/key-usage", Stage::Signature, E, "The signer's certificate does not allow digitalSignature or nonRepudiation."),
    r("sig/unknown-critical-extension", Stage::Signature, E, "A certificate in the chain has a critical extension we do not understand, so it must be rejected."),
    r("sig/revoked", Stage::Signature, E, "Embedded revocation data (CRL/OCSP) says a certificate of the chain was revoked before signing."),
    r("sig/timestamp-invalid", Stage::Signature, E, "The RFC 3161 signature timestamp does not verify (imprint over the signature value, TSA signature or chain)."),
    r("sig/doc-timestamp-invalid", Stage::Signature, E, "A document timestamp (ETSI.RFC3161) does not verify."),
    r("sig/doc-timestamp-untrusted", Stage::Signature, W, "A document timestamp does not chain to a trust anchor."),
    r("sig/modified-after-signing", Stage::Signature, E, "A revision after the signature changes page content, embedded files or the catalog: a disallowed modification."),
    r("sig/annotation-after-signing", Stage::Signature, W, "A revision after the signature adds or changes annotations, allowed only as the DocMDP permissions say."),
    r("sig/dictionary-changed", Stage::Signature, E, "The signature dictionary itself was changed in a later revision."),
    r("sig/unclassified-change", Stage::Signature, W, "A later revision changes objects whose effect could not be classified as allowed or disallowed."),
    r("term/blocklisted-system", Stage::Terminology, E, "A codeSystem has a `999` or `9999` OID component (a placeholder): the gateway refuses it ('È stato trovato almeno un dizionario presente in Blocklist')."),
    r("term/unknown-version", Stage::Terminology, E, "`codeSystemVersion` is not a version the gateway knows for that code system ('È stata trovata almeno una versione non gestita di un dizionario')."),
    r("term/unknown-code", Stage::Terminology, E, "A code is not in the gateway's dictionary for its system and version ('Almeno uno dei seguenti vocaboli non è censito')."),
    r("term/missing-code", Stage::Terminology, E, "An element names a managed codeSystem but has no @code; the gateway's lookup fails on it."),
    r("term/dictionary-unavailable", Stage::Terminology, W, "The gateway manages this code system but its code list is not in the public catalog (LOINC, AIC): codes could not be checked offline."),
    r("term/no-dictionaries", Stage::Terminology, E, "The catalog has no managed dictionary at all ('Non è stato trovato alcun dizionario gestito su FSE')."),
    r("engine/no-fhir-map", Stage::Engine, E, "No FHIR map exists for the document's templateId root in the latest engine: the gateway answers /msg/validator ('Nessuna mappa con id … è stata trovata nell'engine …')."),
    r("engine/no-engine", Stage::Engine, E, "The catalog has no available FHIR mapping engine."),
    r("xsd/unexpected-element", Stage::Xsd, E, "An element is not allowed where it appears by the CDA schema (the message lists what was expected)."),
    r("xsd/missing-element", Stage::Xsd, E, "A required element is missing before the reported position (the message lists what was expected)."),
    r("xsd/unknown-attribute", Stage::Xsd, E, "An attribute is not declared for this element in the CDA schema."),
    r("xsd/missing-attribute", Stage::Xsd, E, "A required attribute is missing."),
    r("xsd/attribute-value", Stage::Xsd, E, "An attribute value does not match its type (enumeration, pattern such as `ts`, boolean, number, OID…)."),
    r("xsd/element-value", Stage::Xsd, E, "An element's text does not match its simple type."),
    r("xsd/text-not-allowed", Stage::Xsd, E, "Text appears inside an element whose content model allows only elements."),
    r("xsd/xsi-type", Stage::Xsd, E, "`xsi:type` names an unknown type or one not derived from the declared type."),
    r("xsd/abstract-type", Stage::Xsd, E, "An element has an abstract type (e.g. observation/value as ANY) without a concrete `xsi:type`."),
    r("xsd/xsi-nil", Stage::Xsd, E, "`xsi:nil` is used on an element that is not nillable, or with content."),
    r("xsd/duplicate-id", Stage::Xsd, E, "Two attributes of type ID have the same value in the document."),
    r("xsd/idref", Stage::Xsd, E, "An IDREF(S) value points at no ID in the document."),
    r("xsd/unknown-root", Stage::Xsd, E, "The root element is not declared by the schema set."),
    r("xsd/too-deep", Stage::Xsd, E, "Elements nest deeper than the validator's safety limit."),
    r("internal/catalog-unusable", Stage::Internal, E, "The catalog's stage data (schema sets, dictionaries, `--schematron`) could not be loaded when the first document needed it (runs with `--cache` load it late): a configuration error, the run ends with exit code 2."),
    r("internal/panic", Stage::Internal, E, "fsecheck failed internally on this document. Nothing is known about the document; please report it with the input if you can share it."),
];

static REGISTERED: std::sync::OnceLock<Vec<RuleDoc>> = std::sync::OnceLock::new();

/// Add the rules a stage keeps in its own table (the metadata/JWT rules of `fsecheck-metadata`):
/// the binary registers them at start-up, so this crate needs no stage dependency. Only the
/// first call counts.
pub fn register(rules: Vec<RuleDoc>) {
    let _ = REGISTERED.set(rules);
}

/// Every built-in rule, sorted by id: the core ones and the registered ones.
pub fn all() -> Vec<RuleDoc> {
    let mut v: Vec<RuleDoc> = CORE_RULES.to_vec();
    v.extend(REGISTERED.get().into_iter().flatten().copied());
    v.sort_by(|a, b| a.id.cmp(b.id));
    v.dedup_by(|a, b| a.id == b.id);
    v
}

/// A built-in rule by id.
pub fn lookup(id: &str) -> Option<RuleDoc> {
    all().into_iter().find(|r| r.id == id)
}

/// The anchor of a rule in `docs/RULES.md`; schematron ids share one section.
pub fn anchor(id: &str) -> String {
    if id.starts_with("sch/") && lookup(id).is_none() {
        return "schematron-rules".into();
    }
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

/// The documentation link of a rule.
pub fn help_uri(id: &str) -> String {
    format!("{DOCS_URL}#{}", anchor(id))
}

/// The help text for any id: the registry's, else the family's (schematron asserts, unknown ids).
pub fn help_text(id: &str) -> String {
    if let Some(r) = lookup(id) {
        return r.summary.to_string();
    }
    if id.starts_with("sch/") {
        return "A schematron assert or report of the catalog schematron for this document type \
                failed. The message is the schematron's own (Italian) text; run `fsecheck explain \
                ID --doc-type KEY` for its context and test."
            .to_string();
    }
    "A rule of fsecheck; see the documentation.".to_string()
}

/// `docs/RULES.md`, generated from the registry.
pub fn markdown() -> String {
    let mut s = String::from(
        "# Rules\n\n\
         <!-- Generated from crates/fsecheck-report/src/rules.rs: do not edit by hand. \
         Regenerate with `FSECHECK_BLESS=1 cargo test -p fsecheck-report rules_md`. -->\n\n\
         Every built-in rule id fsecheck reports, with its stage and usual severity. \
         `fsecheck explain ID` prints the same text. Severities can be overridden per rule in \
         `fsecheck.toml` (`[severity]`).\n\n",
    );
    let rules = all();
    let mut families: Vec<&str> = rules
        .iter()
        .map(|r| r.id.split('/').next().unwrap_or(""))
        .collect();
    families.dedup();
    s.push_str("| Rule | Stage | Severity |\n|---|---|---|\n");
    for r in &rules {
        s.push_str(&format!(
            "| [`{}`](#{}) | {} | {} |\n",
            r.id,
            anchor(r.id),
            r.stage,
            r.severity
        ));
    }
    s.push('\n');
    for fam in families {
        s.push_str(&format!("## {fam}/\n\n"));
        for r in rules.iter().filter(|r| r.id.split('/').next() == Some(fam)) {
            s.push_str(&format!(
                "<a id=\"{}\"></a>\n### `{}`\n\n*{} stage, {}.*\n\n{}\n\n",
                anchor(r.id),
                r.id,
                r.stage,
                r.severity,
                r.summary
            ));
        }
    }
    s.push_str(
        "<a id=\"schematron-rules\"></a>\n## Schematron rules (`sch/ID`)\n\n\
         Schematron findings are named after the assert or report that fired: the text before the \
         first `|` of its message (`sch/ERRORE-5`, `sch/W001`). `ERRORE-*` asserts are errors, \
         `W*` are warnings, as at the gateway. The message is the schematron's own Italian text, \
         verbatim. `fsecheck explain sch/ERRORE-5 --doc-type LDO` prints the rule's context, test, \
         message, schematron file and version from the catalog.\n",
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_namespaced_and_explained() {
        let rules = all();
        let mut ids: Vec<&str> = rules.iter().map(|r| r.id).collect();
        let n = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), n, "duplicate rule id");
        for r in &rules {
            assert!(r.id.contains('/'), "{}", r.id);
            assert!(r.summary.len() > 20, "{}", r.id);
        }
        assert!(lookup("xml/not-well-formed").is_some());
        assert_eq!(anchor("xml/not-well-formed"), "xml-not-well-formed");
        assert_eq!(anchor("sch/ERRORE-5"), "schematron-rules");
        assert!(help_uri("sch/not-found").ends_with("#sch-not-found"));
    }
}
