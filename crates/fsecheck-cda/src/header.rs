//! The CDA header, read once from the parsed tree: what the pipeline, the reports and the
//! metadata cross-checks need to know about a document without re-walking it.

use fsecheck_core::{Finding, Stage};
use roxmltree::{Document, Node};
use serde::Serialize;

pub const HL7_NS: &str = "urn:hl7-org:v3";

/// An instance identifier (`II`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Ii {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub root: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extension: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assigning_authority_name: Option<String>,
}

/// A coded value (`CD`/`CE`/`CS`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Code {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code_system: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code_system_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
}

/// An author, legal authenticator, custodian or encounter: ids, time and organization ids.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Participant {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ids: Vec<Ii>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub organization_ids: Vec<Ii>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RelatedDocument {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub type_code: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ids: Vec<Ii>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub set_id: Option<Ii>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_number: Option<String>,
}

/// The header fields of a `ClinicalDocument`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Header {
    pub realm_codes: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub type_id: Option<Ii>,
    /// Every `ClinicalDocument/templateId`, in document order: the first root picks the schematron.
    pub template_ids: Vec<Ii>,
    /// The first `templateId/@root` anywhere in the document (what the gateway's jsoup lookup reads).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_template_root: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<Ii>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<Code>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effective_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confidentiality_code: Option<Code>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub set_id: Option<Ii>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_number: Option<String>,
    /// `recordTarget/patientRole/id`, every one.
    pub patient_ids: Vec<Ii>,
    pub authors: Vec<Participant>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custodian: Option<Participant>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub legal_authenticator: Option<Participant>,
    pub related_documents: Vec<RelatedDocument>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encompassing_encounter: Option<Participant>,
    /// `componentOf/encompassingEncounter/location/healthCareFacility/id`: the facility (structure).
    pub facility_ids: Vec<Ii>,
    /// `inFulfillmentOf/order/id`, in document order: the orders (e.g. the electronic prescription
    /// number, NRE) the document fulfils.
    pub order_ids: Vec<Ii>,
}

impl Ii {
    /// The `root^extension` form (the root alone without extension, the extension alone without
    /// root); `None` when both are missing.
    pub fn joined(&self) -> Option<String> {
        match (self.root.as_deref(), self.extension.as_deref()) {
            (Some(r), Some(e)) => Some(format!("{r}^{e}")),
            (Some(r), None) => Some(r.to_string()),
            (None, Some(e)) => Some(e.to_string()),
            (None, None) => None,
        }
    }
}

fn is_hl7<'a>(n: &Node<'a, '_>, name: &str) -> bool {
    n.is_element() && n.tag_name().name() == name && n.tag_name().namespace() == Some(HL7_NS)
}

fn children<'a, 'i>(n: Node<'a, 'i>, name: &'a str) -> impl Iterator<Item = Node<'a, 'i>> + 'a {
    n.children().filter(move |c| is_hl7(c, name))
}

fn child<'a, 'i>(n: Node<'a, 'i>, name: &'a str) -> Option<Node<'a, 'i>> {
    children(n, name).next()
}

fn path<'a, 'i>(n: Node<'a, 'i>, names: &[&'a str]) -> Option<Node<'a, 'i>> {
    names.iter().try_fold(n, |cur, name| child(cur, name))
}

fn attr(n: Node<'_, '_>, name: &str) -> Option<String> {
    n.attribute(name).map(str::to_owned)
}

fn ii(n: Node<'_, '_>) -> Ii {
    Ii {
        root: attr(n, "root"),
        extension: attr(n, "extension"),
        assigning_authority_name: attr(n, "assigningAuthorityName"),
    }
}

fn code(n: Node<'_, '_>) -> Code {
    Code {
        code: attr(n, "code"),
        code_system: attr(n, "codeSystem"),
        code_system_name: attr(n, "codeSystemName"),
        display_name: attr(n, "displayName"),
    }
}

fn ids(n: Node<'_, '_>) -> Vec<Ii> {
    children(n, "id").map(ii).collect()
}

/// Text content of an element, whitespace-normalised.
fn text(n: Node<'_, '_>) -> String {
    let raw: String = n
        .descendants()
        .filter(|d| d.is_text())
        .filter_map(|d| d.text())
        .collect();
    raw.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn time(n: Node<'_, '_>) -> Option<String> {
    child(n, "time").and_then(|t| attr(t, "value"))
}

/// What the gateway validator's `CDAHelper.extractInfo` reads before any other check, whatever
/// the root element (`reference/gateway.md` §4.1): the `@root` of the first `templateId` and the
/// `@extension` of the first `typeId` anywhere in the document. Its jsoup HTML parse ignores
/// namespaces and lower-cases tag names, so names are compared ASCII case-insensitively. If
/// either is missing the validator throws (HTTP 500), before the XSD step.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExtractInfo {
    pub template_root: Option<String>,
    pub type_id_extension: Option<String>,
}

pub fn extract_info(doc: &Document<'_>) -> ExtractInfo {
    let first = |name: &str, attribute: &str| {
        doc.descendants()
            .find(|n| n.is_element() && n.tag_name().name().eq_ignore_ascii_case(name))
            .and_then(|n| attr(n, attribute))
    };
    ExtractInfo {
        template_root: first("templateId", "root"),
        type_id_extension: first("typeId", "extension"),
    }
}

/// Read the header. A root that is not `{urn:hl7-org:v3}ClinicalDocument` is an error finding.
pub fn header(doc: &Document<'_>) -> Result<Header, Box<Finding>> {
    let root = doc.root_element();
    if !is_hl7(&root, "ClinicalDocument") {
        let found = match root.tag_name().namespace() {
            Some(ns) => format!("{{{ns}}}{}", root.tag_name().name()),
            None => root.tag_name().name().to_string(),
        };
        let hint = if root.tag_name().name() == "ClinicalDocument" {
            "The root is named ClinicalDocument but is not in the HL7 v3 namespace: \
             declare xmlns=\"urn:hl7-org:v3\"."
        } else {
            "This is not an HL7 CDA R2 document."
        };
        let r = root.range();
        return Err(Box::new(
            Finding::error(
                "cda/not-clinical-document",
                Stage::Cda,
                format!("root element is {found}, expected {{urn:hl7-org:v3}}ClinicalDocument"),
            )
            .with_hint(hint)
            .with_span(r.start, r.start + 1)
            .with_xpath(fsecheck_xml::node_xpath(root)),
        ));
    }
    let first_template_root = doc
        .descendants()
        .find(|n| n.is_element() && n.tag_name().name() == "templateId")
        .and_then(|n| attr(n, "root"));
    let author = |a: Node<'_, '_>| {
        let assigned = child(a, "assignedAuthor");
        Participant {
            ids: assigned.map(ids).unwrap_or_default(),
            time: time(a),
            organization_ids: assigned
                .and_then(|x| child(x, "representedOrganization"))
                .map(ids)
                .unwrap_or_default(),
            name: assigned
                .and_then(|x| path(x, &["assignedPerson", "name"]))
                .map(text),
        }
    };
    Ok(Header {
        realm_codes: children(root, "realmCode")
            .filter_map(|n| attr(n, "code"))
            .collect(),
        type_id: child(root, "typeId").map(ii),
        template_ids: children(root, "templateId").map(ii).collect(),
        first_template_root,
        id: child(root, "id").map(ii),
        code: child(root, "code").map(code),
        title: child(root, "title").map(text),
        effective_time: child(root, "effectiveTime").and_then(|n| attr(n, "value")),
        confidentiality_code: child(root, "confidentialityCode").map(code),
        language_code: child(root, "languageCode").and_then(|n| attr(n, "code")),
        set_id: child(root, "setId").map(ii),
        version_number: child(root, "versionNumber").and_then(|n| attr(n, "value")),
        patient_ids: children(root, "recordTarget")
            .filter_map(|r| child(r, "patientRole"))
            .flat_map(ids)
            .collect(),
        authors: children(root, "author").map(author).collect(),
        custodian: path(
            root,
            &[
                "custodian",
                "assignedCustodian",
                "representedCustodianOrganization",
            ],
        )
        .map(|o| Participant {
            ids: ids(o),
            name: child(o, "name").map(text),
            ..Participant::default()
        }),
        legal_authenticator: child(root, "legalAuthenticator").map(|l| Participant {
            ids: child(l, "assignedEntity").map(ids).unwrap_or_default(),
            time: time(l),
            ..Participant::default()
        }),
        related_documents: children(root, "relatedDocument")
            .map(|r| {
                let parent = child(r, "parentDocument");
                RelatedDocument {
                    type_code: attr(r, "typeCode"),
                    ids: parent.map(ids).unwrap_or_default(),
                    set_id: parent.and_then(|p| child(p, "setId")).map(ii),
                    version_number: parent
                        .and_then(|p| child(p, "versionNumber"))
                        .and_then(|v| attr(v, "value")),
                }
            })
            .collect(),
        encompassing_encounter: path(root, &["componentOf", "encompassingEncounter"]).map(|e| {
            Participant {
                ids: ids(e),
                time: child(e, "effectiveTime").and_then(|t| {
                    attr(t, "value").or_else(|| child(t, "low").and_then(|l| attr(l, "value")))
                }),
                organization_ids: path(
                    e,
                    &[
                        "location",
                        "healthCareFacility",
                        "serviceProviderOrganization",
                    ],
                )
                .map(ids)
                .unwrap_or_default(),
                name: None,
            }
        }),
        facility_ids: path(
            root,
            &[
                "componentOf",
                "encompassingEncounter",
                "location",
                "healthCareFacility",
            ],
        )
        .map(ids)
        .unwrap_or_default(),
        order_ids: children(root, "inFulfillmentOf")
            .filter_map(|f| child(f, "order"))
            .flat_map(ids)
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = r#"<ClinicalDocument xmlns="urn:hl7-org:v3">
  <realmCode code="IT"/>
  <typeId root="2.16.840.1.113883.1.3" extension="POCD_MT000040UV02"/>
  <templateId root="2.16.840.1.113883.2.9.10.1.5" extension="1.2"/>
  <templateId root="other"/>
  <id root="2.16.840.1.113883.2.9.2.120.4.4" extension="DOC1"/>
  <code code="34105-7" codeSystem="2.16.840.1.113883.6.1" displayName="Lettera di dimissione"/>
  <title>Lettera   di
     dimissione</title>
  <effectiveTime value="20240101120000+0100"/>
  <confidentialityCode code="N" codeSystem="2.16.840.1.113883.5.25"/>
  <languageCode code="it-IT"/>
  <setId root="2.16.840.1.113883.2.9.2.120.4.4" extension="SET1"/>
  <versionNumber value="1"/>
  <recordTarget><patientRole><id root="2.16.840.1.113883.2.9.4.3.2" extension="RSSMRA80A01H501U"/></patientRole></recordTarget>
  <author><time value="20240101"/><assignedAuthor><id root="x" extension="A1"/>
    <assignedPerson><name><given>Anna</given> <family>Bianchi</family></name></assignedPerson></assignedAuthor></author>
  <custodian><assignedCustodian><representedCustodianOrganization><id root="c" extension="C1"/><name>ASL Test</name></representedCustodianOrganization></assignedCustodian></custodian>
  <legalAuthenticator><time value="20240102"/><assignedEntity><id root="l" extension="L1"/></assignedEntity></legalAuthenticator>
  <relatedDocument typeCode="RPLC"><parentDocument><id root="p" extension="P1"/><setId root="s" extension="S1"/><versionNumber value="1"/></parentDocument></relatedDocument>
  <inFulfillmentOf><order><id root="2.16.840.1.113883.2.9.4.3.9" extension="NRE1"/></order></inFulfillmentOf>
  <inFulfillmentOf><order><id root="2.16.840.1.113883.2.9.4.3.9" extension="NRE2"/></order></inFulfillmentOf>
  <componentOf><encompassingEncounter><id root="e" extension="E1"/><effectiveTime><low value="20231230"/></effectiveTime>
    <location><healthCareFacility><id root="2.16.840.1.113883.2.9.4.1.6" extension="080101"/></healthCareFacility></location></encompassingEncounter></componentOf>
</ClinicalDocument>"#;

    #[test]
    fn extract_info_reads_any_root_element_like_the_gateway() {
        let list = Document::parse("<list><el code='F'>FEMALE</el></list>").unwrap();
        assert_eq!(extract_info(&list), ExtractInfo::default());
        let other = Document::parse(
            "<doc xmlns:x='urn:x'><x:TypeId extension='E'/><a><templateid root='R1'/></a>\
             <templateId root='R2'/></doc>",
        )
        .unwrap();
        assert_eq!(
            extract_info(&other),
            ExtractInfo {
                template_root: Some("R1".into()),
                type_id_extension: Some("E".into()),
            }
        );
        let cda = Document::parse(DOC).unwrap();
        let info = extract_info(&cda);
        assert_eq!(
            info.template_root.as_deref(),
            Some("2.16.840.1.113883.2.9.10.1.5")
        );
        assert_eq!(info.type_id_extension.as_deref(), Some("POCD_MT000040UV02"));
    }

    #[test]
    fn reads_every_header_field() {
        let doc = Document::parse(DOC).unwrap();
        let h = header(&doc).unwrap();
        assert_eq!(h.realm_codes, ["IT"]);
        assert_eq!(
            h.type_id.unwrap().extension.as_deref(),
            Some("POCD_MT000040UV02")
        );
        assert_eq!(h.template_ids.len(), 2);
        assert_eq!(
            h.first_template_root.as_deref(),
            Some("2.16.840.1.113883.2.9.10.1.5")
        );
        assert_eq!(h.code.unwrap().code.as_deref(), Some("34105-7"));
        assert_eq!(h.title.as_deref(), Some("Lettera di dimissione"));
        assert_eq!(h.effective_time.as_deref(), Some("20240101120000+0100"));
        assert_eq!(h.language_code.as_deref(), Some("it-IT"));
        assert_eq!(h.version_number.as_deref(), Some("1"));
        assert_eq!(
            h.patient_ids[0].extension.as_deref(),
            Some("RSSMRA80A01H501U")
        );
        assert_eq!(h.authors[0].name.as_deref(), Some("Anna Bianchi"));
        assert_eq!(h.custodian.unwrap().name.as_deref(), Some("ASL Test"));
        assert_eq!(
            h.legal_authenticator.unwrap().time.as_deref(),
            Some("20240102")
        );
        assert_eq!(h.related_documents[0].type_code.as_deref(), Some("RPLC"));
        assert_eq!(
            h.encompassing_encounter.unwrap().time.as_deref(),
            Some("20231230")
        );
        let orders: Vec<_> = h.order_ids.iter().filter_map(Ii::joined).collect();
        assert_eq!(
            orders,
            [
                "2.16.840.1.113883.2.9.4.3.9^NRE1",
                "2.16.840.1.113883.2.9.4.3.9^NRE2"
            ]
        );
        assert_eq!(
            h.facility_ids[0].joined().as_deref(),
            Some("2.16.840.1.113883.2.9.4.1.6^080101")
        );
        assert_eq!(
            h.id.unwrap().joined().as_deref(),
            Some("2.16.840.1.113883.2.9.2.120.4.4^DOC1")
        );
    }

    #[test]
    fn joined_ids() {
        let ii = |r: Option<&str>, e: Option<&str>| Ii {
            root: r.map(str::to_owned),
            extension: e.map(str::to_owned),
            assigning_authority_name: None,
        };
        assert_eq!(ii(Some("r"), Some("e")).joined().as_deref(), Some("r^e"));
        assert_eq!(ii(Some("r"), None).joined().as_deref(), Some("r"));
        assert_eq!(ii(None, Some("e")).joined().as_deref(), Some("e"));
        assert_eq!(ii(None, None).joined(), None);
    }

    #[test]
    fn wrong_root_is_a_finding() {
        let doc = Document::parse("<ClinicalDocument/>").unwrap();
        let f = header(&doc).unwrap_err();
        assert_eq!(f.id, "cda/not-clinical-document");
        assert!(f.hint.unwrap().contains("namespace"));
        let doc = Document::parse("<html xmlns='urn:hl7-org:v3'/>").unwrap();
        assert!(header(&doc).is_err());
    }
}
