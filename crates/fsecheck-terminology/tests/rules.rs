//! Each step of the gateway's terminology stage on small CDA snippets written for these tests.

mod common;

use common::{cda, errors, ids, terminology};
use fsecheck_core::{Severity, Stage};
use fsecheck_terminology::{gateway_message, rules, CheckOptions, GATEWAY_MESSAGE};

fn check(body: &str) -> (String, Vec<fsecheck_core::Finding>) {
    let text = cda(body);
    let doc = roxmltree::Document::parse(&text).unwrap();
    let findings = terminology().check(&doc);
    (text, findings)
}

const GENDER: &str = "2.16.840.1.113883.5.1";
const ICD9CM: &str = "2.16.840.1.113883.6.103";
const LOINC: &str = "2.16.840.1.113883.6.1";

#[test]
fn known_code_without_version_uses_the_latest_version() {
    let (_, f) = check(&format!(
        r#"<administrativeGenderCode code="M" codeSystem="{GENDER}"/>"#
    ));
    assert!(f.is_empty(), "{f:#?}");
    assert_eq!(terminology().latest_version(GENDER), Some("2.1.0"));
}

#[test]
fn unknown_code_without_version_is_looked_up_in_the_latest_version() {
    let (text, f) = check(&format!(
        r#"<administrativeGenderCode code="B" codeSystem="{GENDER}" displayName="Boh"><!--x--></administrativeGenderCode>"#
    ));
    assert_eq!(ids(&f), [rules::UNKNOWN_CODE]);
    let e = &f[0];
    assert_eq!(e.severity, Severity::Error);
    assert_eq!(e.stage, Stage::Terminology);
    let expected = format!(
        "Almeno uno dei seguenti vocaboli non è censito: [CodeSystem: {GENDER} v2.1.0, Codes: B]"
    );
    assert_eq!(e.message, expected);
    assert_eq!(e.details[GATEWAY_MESSAGE], expected);
    assert_eq!(gateway_message(&f), Some(expected.as_str()));
    assert_eq!(e.details["code"], "B");
    assert_eq!(e.details["displayName"], "Boh");
    assert_eq!(e.details["codeSystem"], GENDER);
    assert!(!e.details.contains_key("codeSystemVersion"));
    assert_eq!(e.details["codeSystemVersion.resolved"], "2.1.0");
    assert_eq!(e.details["dictionary.release_date"], "2019-03-20T00:00:00Z");
    assert_eq!(
        e.location.xpath.as_deref(),
        Some("/ClinicalDocument[1]/administrativeGenderCode[1]")
    );
    // The span is the start tag only.
    let span = e.location.span.unwrap();
    let tag = &text[span.start..span.end];
    assert!(
        tag.starts_with("<administrativeGenderCode code=\"B\""),
        "{tag}"
    );
    assert!(tag.ends_with("displayName=\"Boh\">"), "{tag}");
    assert!(e.hint.is_some());
}

#[test]
fn explicit_known_version_is_accepted() {
    let (_, f) = check(&format!(
        r#"<administrativeGenderCode code="F" codeSystem="{GENDER}" codeSystemVersion="2.1.0"/>"#
    ));
    assert!(f.is_empty(), "{f:#?}");
}

#[test]
fn explicit_unknown_version_is_refused_and_stops_the_stage() {
    let (_, f) = check(&format!(
        r#"<administrativeGenderCode code="F" codeSystem="{GENDER}" codeSystemVersion="2.0"/>
           <administrativeGenderCode code="NOT-A-CODE" codeSystem="{GENDER}"/>"#
    ));
    // The gateway throws at the version step: the unknown code is never looked up.
    assert_eq!(ids(&f), [rules::UNKNOWN_VERSION]);
    let expected = format!(
        "È stata trovata almeno una versione non gestita di un dizionario: [{GENDER} v2.0]"
    );
    assert_eq!(f[0].message, expected);
    assert_eq!(gateway_message(&f), Some(expected.as_str()));
    assert_eq!(f[0].details["codeSystemVersion"], "2.0");
    assert_eq!(f[0].details["known_versions"], "2.1.0");
}

#[test]
fn null_version_dictionary_refuses_any_explicit_version() {
    let (_, f) = check(&format!(
        r#"<value xsi:type="CD" code="428.0" codeSystem="{ICD9CM}" codeSystemVersion="2007"/>"#
    ));
    assert_eq!(ids(&f), [rules::UNKNOWN_VERSION]);
    assert_eq!(
        f[0].message,
        format!(
            "È stata trovata almeno una versione non gestita di un dizionario: [{ICD9CM} v2007]"
        )
    );
}

#[test]
fn null_version_dictionary_checks_codes_without_version() {
    let (_, ok) = check(&format!(r#"<value code="428.0" codeSystem="{ICD9CM}"/>"#));
    assert!(ok.is_empty(), "{ok:#?}");
    let (_, f) = check(&format!(r#"<value code="4280" codeSystem="{ICD9CM}"/>"#));
    assert_eq!(ids(&f), [rules::UNKNOWN_CODE]);
    // A null version prints no " v…".
    assert_eq!(
        f[0].message,
        format!(
            "Almeno uno dei seguenti vocaboli non è censito: [CodeSystem: {ICD9CM}, Codes: 4280]"
        )
    );
    assert_eq!(f[0].details["codeSystemVersion.resolved"], "(null)");
    // The dictionary writes ICD-9-CM codes with their dot: we say so.
    assert_eq!(f[0].details["suggestion"], "428.0");
    assert!(f[0].hint.as_deref().unwrap().contains("428.0"));
    let (_, f) = check(&format!(r#"<value code="XXX" codeSystem="{ICD9CM}"/>"#));
    assert!(!f[0].details.contains_key("suggestion"));
}

#[test]
fn empty_version_attribute_counts_as_absent() {
    let (_, f) = check(&format!(
        r#"<administrativeGenderCode code="M" codeSystem="{GENDER}" codeSystemVersion=""/>"#
    ));
    assert!(f.is_empty(), "{f:#?}");
}

#[test]
fn allow_listed_systems_are_skipped() {
    let (_, f) = check(
        r#"<code code="ANYTHING-AT-ALL" codeSystem="2.16.840.1.113883.2.9.1.11.1.2.10" codeSystemVersion="whatever"/>"#,
    );
    assert!(f.is_empty(), "{f:#?}");
    assert!(terminology().is_allow_listed("2.16.840.1.113883.2.9.1.11.1.2.10"));
    assert!(!terminology().is_allow_listed(GENDER));
}

#[test]
fn block_listed_system_is_refused_and_stops_the_stage() {
    let body = format!(
        r#"<code code="XX" codeSystem="2.16.840.1.113883.9.999"/>
           <value code="4280" codeSystem="{ICD9CM}"/>
           <code code="YY" codeSystem="9999.1"/>
           <code code="ZZ" codeSystem="2.16.840.1.113883.9.999"/>"#
    );
    let (_, f) = check(&body);
    assert_eq!(
        ids(&f),
        [
            rules::BLOCKLISTED_SYSTEM,
            rules::BLOCKLISTED_SYSTEM,
            rules::BLOCKLISTED_SYSTEM
        ]
    );
    let expected = "È stato trovato almeno un dizionario presente in Blocklist: [2.16.840.1.113883.9.999, 9999.1]";
    assert_eq!(gateway_message(&f), Some(expected));
    assert_eq!(
        f[0].message,
        "È stato trovato almeno un dizionario presente in Blocklist: [2.16.840.1.113883.9.999]"
    );
    // Only the first error carries the gateway message.
    assert!(!f[1].details.contains_key(GATEWAY_MESSAGE));

    // Going on after the blocking step shows the code the gateway never reached, and the
    // gateway message is still the block-list one.
    let text = cda(&body);
    let doc = roxmltree::Document::parse(&text).unwrap();
    let all = terminology().check_with(
        &doc,
        &CheckOptions {
            continue_after_blocking: true,
        },
    );
    assert_eq!(
        ids(&all),
        [
            rules::BLOCKLISTED_SYSTEM,
            rules::BLOCKLISTED_SYSTEM,
            rules::BLOCKLISTED_SYSTEM,
            rules::UNKNOWN_CODE
        ]
    );
    assert_eq!(gateway_message(&all), Some(expected));
    assert!(!all[3].details.contains_key(GATEWAY_MESSAGE));
}

#[test]
fn unknown_system_gets_one_info_per_system() {
    let (_, f) = check(
        r#"<code code="123" codeSystem="2.16.840.1.113883.6.96"/>
           <value code="456" codeSystem="2.16.840.1.113883.6.96"/>
           <value code="1" codeSystem="2.16.840.1.113883.2.9.2.120.6.11"/>"#,
    );
    assert_eq!(
        ids(&f),
        [rules::SYSTEM_NOT_MANAGED, rules::SYSTEM_NOT_MANAGED]
    );
    assert!(f.iter().all(|x| x.severity == Severity::Info));
    assert_eq!(f[0].details["codeSystem"], "2.16.840.1.113883.6.96");
    assert_eq!(f[0].details["occurrences"], "2");
    assert_eq!(f[0].details["codes"], "123, 456");
    assert_eq!(
        f[0].location.xpath.as_deref(),
        Some("/ClinicalDocument[1]/code[1]")
    );
    assert_eq!(gateway_message(&f), None);
}

#[test]
fn empty_code_system_is_ignored() {
    let (_, f) = check(r#"<code code="X" codeSystem=""/>"#);
    assert!(f.is_empty(), "{f:#?}");
}

#[test]
fn missing_dictionary_gives_one_warning_per_system_and_no_error() {
    let (_, f) = check(&format!(
        r#"<code code="34105-7" codeSystem="{LOINC}"/>
           <code code="NOT-LOINC" codeSystem="{LOINC}" codeSystemVersion="2.82"/>
           <code code="012345678" codeSystem="2.16.840.1.113883.2.9.6.1.5"/>"#
    ));
    assert_eq!(
        ids(&f),
        [rules::DICTIONARY_UNAVAILABLE, rules::DICTIONARY_UNAVAILABLE]
    );
    assert!(f.iter().all(|x| x.severity == Severity::Warning));
    assert_eq!(f[0].details["codeSystem"], LOINC);
    assert_eq!(f[0].details["occurrences"], "2");
    assert_eq!(f[0].details["codes"], "34105-7, NOT-LOINC");
    assert_eq!(f[0].details["codeSystemVersion.resolved"], "2.82");
    assert_eq!(f[1].details["codeSystem"], "2.16.840.1.113883.2.9.6.1.5");
    assert_eq!(gateway_message(&f), None);
    assert_eq!(terminology().code_count(LOINC), None);
}

#[test]
fn missing_dictionary_does_not_excuse_an_unknown_version() {
    // LOINC's dictionary version is 2.82: the gateway refuses "2.19" without needing the codes.
    let (_, f) = check(&format!(
        r#"<code code="34105-7" codeSystem="{LOINC}" codeSystemVersion="2.19"/>"#
    ));
    assert_eq!(ids(&f), [rules::UNKNOWN_VERSION]);
    assert_eq!(
        gateway_message(&f),
        Some("È stata trovata almeno una versione non gestita di un dizionario: [2.16.840.1.113883.6.1 v2.19]")
    );
}

#[test]
fn managed_system_without_code_fails_as_null() {
    let (_, f) = check(&format!(
        r#"<value xsi:type="CD" nullFlavor="UNK" codeSystem="{ICD9CM}"/>
           <value xsi:type="CD" code="" codeSystem="{GENDER}"/>"#
    ));
    assert_eq!(ids(&f), [rules::MISSING_CODE, rules::MISSING_CODE]);
    assert_eq!(
        f[0].message,
        format!(
            "Almeno uno dei seguenti vocaboli non è censito: [CodeSystem: {ICD9CM}, Codes: null]"
        )
    );
    assert!(!f[0].details.contains_key("code"));
}

#[test]
fn gateway_message_groups_like_the_gateway() {
    // Document order: ICD-9-CM, gender, ATC, ICD-9-CM again (same group), gender again.
    let (_, f) = check(&format!(
        r#"<value code="4280" codeSystem="{ICD9CM}"/>
           <administrativeGenderCode code="B" codeSystem="{GENDER}"/>
           <translation code="C08CAXXX" codeSystem="2.16.840.1.113883.6.73"/>
           <value code="XXX" codeSystem="{ICD9CM}"/>
           <value code="4280" codeSystem="{ICD9CM}"/>
           <administrativeGenderCode code="Q" codeSystem="{GENDER}" codeSystemVersion="2.1.0"/>"#
    ));
    assert_eq!(errors(&f).len(), 6);
    // Group order from java.util.HashMap (see javaorder tests); codes distinct, in list order:
    // explicit versions first, then the codes whose version was filled in.
    assert_eq!(
        gateway_message(&f),
        Some(
            "Almeno uno dei seguenti vocaboli non è censito: \
             [CodeSystem: 2.16.840.1.113883.5.1 v2.1.0, Codes: Q, B], \
             [CodeSystem: 2.16.840.1.113883.6.73, Codes: C08CAXXX], \
             [CodeSystem: 2.16.840.1.113883.6.103, Codes: 4280, XXX]"
        )
    );
    // Findings themselves stay in document order.
    assert_eq!(f[0].details["code"], "4280");
    assert_eq!(f[5].details["code"], "Q");
}

const OBS_CODE_CRONICITA: &str = "89261-2";
const CRONICITA: &str = "2.16.840.1.113883.2.9.10.1.4.3.4.5";

#[test]
fn remapped_value_is_checked_against_the_mapped_dictionary() {
    // LA28752-6 is in the mapped dictionary, not checkable as LOINC (absent): accepted.
    let (_, ok) = check(&format!(
        r#"<observation classCode="OBS" moodCode="EVN">
             <code code="{OBS_CODE_CRONICITA}" codeSystem="{LOINC}"/>
             <value xsi:type="CD" code="LA28752-6" codeSystem="{LOINC}"/>
           </observation>"#
    ));
    assert_eq!(ids(&ok), [rules::DICTIONARY_UNAVAILABLE], "{ok:#?}");
    assert_eq!(
        ok[0].details["occurrences"], "1",
        "only the observation code stays LOINC"
    );

    let (_, f) = check(&format!(
        r#"<observation classCode="OBS" moodCode="EVN">
             <code code=" {OBS_CODE_CRONICITA} " codeSystem="{LOINC}"/>
             <value xsi:type="CD" code="LA00000-0" codeSystem="{LOINC}"/>
           </observation>"#
    ));
    let e = errors(&f);
    assert_eq!(e.len(), 1, "{f:#?}");
    assert_eq!(e[0].id, rules::UNKNOWN_CODE);
    assert_eq!(e[0].details["codeSystem"], CRONICITA);
    assert_eq!(e[0].details["codeSystem.original"], LOINC);
    assert_eq!(
        e[0].message,
        format!("Almeno uno dei seguenti vocaboli non è censito: [CodeSystem: {CRONICITA}, Codes: LA00000-0]")
    );
}

#[test]
fn remapping_reaches_every_value_descendant_even_without_code_system() {
    // The gateway sets @codeSystem on every `value` under the observation, nested ones and
    // those that had none (a PQ): the PQ then fails as a code-less element.
    let (_, f) = check(&format!(
        r#"<observation classCode="OBS" moodCode="EVN">
             <code code="{OBS_CODE_CRONICITA}" codeSystem="{LOINC}"/>
             <value xsi:type="CD" code="LA18821-1" codeSystem="{LOINC}"/>
             <entryRelationship typeCode="REFR">
               <observation classCode="OBS" moodCode="EVN">
                 <code code="8480-6" codeSystem="{LOINC}"/>
                 <value xsi:type="PQ" value="120" unit="mm[Hg]"/>
               </observation>
             </entryRelationship>
           </observation>"#
    ));
    let e = errors(&f);
    assert_eq!(e.len(), 1, "{f:#?}");
    assert_eq!(e[0].id, rules::MISSING_CODE);
    assert_eq!(e[0].details["codeSystem"], CRONICITA);
    assert_eq!(e[0].details["codeSystem.original"], "(none)");
    assert!(e[0]
        .location
        .xpath
        .as_deref()
        .unwrap()
        .ends_with("/value[1]"));
}

#[test]
fn remapping_needs_code_as_a_direct_child_of_observation() {
    // Here the 89261-2 code belongs to an act, not to an observation: no re-mapping, so the value
    // stays LOINC (unchecked: dictionary absent) and nothing fails.
    let (_, f) = check(&format!(
        r#"<act classCode="ACT" moodCode="EVN">
             <code code="{OBS_CODE_CRONICITA}" codeSystem="{LOINC}"/>
             <value xsi:type="CD" code="LA00000-0" codeSystem="{LOINC}"/>
           </act>"#
    ));
    assert!(errors(&f).is_empty(), "{f:#?}");
}

#[test]
fn later_remap_wins_for_nested_observations() {
    // 33999-4 (stato clinico) comes after 89261-2 in the gateway's list: a value inside both
    // ends up in the 33999-4 dictionary.
    let (_, f) = check(&format!(
        r#"<observation classCode="OBS" moodCode="EVN">
             <code code="33999-4" codeSystem="{LOINC}"/>
             <entryRelationship typeCode="REFR">
               <observation classCode="OBS" moodCode="EVN">
                 <code code="{OBS_CODE_CRONICITA}" codeSystem="{LOINC}"/>
                 <value xsi:type="CD" code="LA28752-6" codeSystem="{LOINC}"/>
               </observation>
             </entryRelationship>
           </observation>"#
    ));
    let e = errors(&f);
    assert_eq!(e.len(), 1, "{f:#?}");
    assert_eq!(
        e[0].details["codeSystem"],
        "2.16.840.1.113883.2.9.77.22.11.7"
    );
    assert_eq!(e[0].details["code"], "LA28752-6");
}

#[test]
fn versioned_remap_target_resolves_its_version() {
    // Smoking (72166-2) maps to an answer list whose dictionary has version 2.73.
    let (_, ok) = check(&format!(
        r#"<observation classCode="OBS" moodCode="EVN">
             <code code="72166-2" codeSystem="{LOINC}"/>
             <value xsi:type="CD" code="LA15920-4" codeSystem="{LOINC}" codeSystemVersion="2.73"/>
           </observation>"#
    ));
    assert!(errors(&ok).is_empty(), "{ok:#?}");
    let (_, f) = check(&format!(
        r#"<observation classCode="OBS" moodCode="EVN">
             <code code="72166-2" codeSystem="{LOINC}"/>
             <value xsi:type="CD" code="LA00000-0" codeSystem="{LOINC}"/>
           </observation>"#
    ));
    assert_eq!(
        gateway_message(&f),
        Some("Almeno uno dei seguenti vocaboli non è censito: [CodeSystem: 1.3.6.1.4.1.12009.10.1.1356 v2.73, Codes: LA00000-0]")
    );
}

#[test]
fn attribute_names_are_read_exactly() {
    // jsoup would also read `codesystem`; such a name is invalid against the CDA schema and the
    // gateway never runs this stage on schema-invalid documents, so we read names exactly.
    let (_, f) = check(&format!(r#"<value code="4280" codesystem="{ICD9CM}"/>"#));
    assert!(f.is_empty(), "{f:#?}");
    let (_, f) = check(&format!(r#"<value code="4280" codeSystem="{ICD9CM}"/>"#));
    assert_eq!(ids(&f), [rules::UNKNOWN_CODE]);
}

#[test]
fn code_system_in_text_or_comments_is_not_an_attribute() {
    let (_, f) = check(&format!(
        r#"<!-- <value code="4280" codeSystem="{ICD9CM}"/> -->
           <text>codeSystem="{ICD9CM}" code 4280</text>
           <observation><code code="89261-2" codeSystem="{LOINC}"/><text>89261-2</text></observation>"#
    ));
    assert!(errors(&f).is_empty(), "{f:#?}");
}

#[test]
fn coded_elements_lists_what_the_stage_reads() {
    let text = cda(&format!(
        r#"<observation classCode="OBS" moodCode="EVN">
             <code code="{OBS_CODE_CRONICITA}" codeSystem="{LOINC}" displayName="Cronicità"/>
             <value xsi:type="CD" code="LA28752-6" codeSystem="{LOINC}" codeSystemVersion="x"/>
           </observation>
           <code code="1" codeSystem=""/>"#
    ));
    let doc = roxmltree::Document::parse(&text).unwrap();
    let els = fsecheck_terminology::coded_elements(&doc);
    assert_eq!(els.len(), 2);
    assert_eq!(els[0].code, Some(OBS_CODE_CRONICITA));
    assert_eq!(els[0].code_system, LOINC);
    assert_eq!(els[0].display_name, Some("Cronicità"));
    assert_eq!(els[0].original_code_system, None);
    assert_eq!(els[1].code_system, CRONICITA);
    assert_eq!(els[1].original_code_system, Some(Some(LOINC)));
    assert_eq!(els[1].code_system_version, Some("x"));
    assert_eq!(els[1].node.tag_name().name(), "value");
}

#[test]
fn findings_name_their_source_and_explain_re_mapping() {
    let (_, f) = check(&format!(
        r#"<observation classCode="OBS" moodCode="EVN">
             <code code="{OBS_CODE_CRONICITA}" codeSystem="{LOINC}"/>
             <value xsi:type="CD" code="LA00000-0" codeSystem="{LOINC}"/>
           </observation>
           <value code="4280" codeSystem="{ICD9CM}" codeSystemVersion="1"/>"#
    ));
    // The version error stops the stage: only it is reported.
    assert_eq!(ids(&f), [rules::UNKNOWN_VERSION]);
    assert_eq!(
        f[0].source.as_deref(),
        Some("mongo-dump/dictionary.json.gzip")
    );
    let (_, f) = check(&format!(
        r#"<observation classCode="OBS" moodCode="EVN">
             <code code="{OBS_CODE_CRONICITA}" codeSystem="{LOINC}"/>
             <value xsi:type="CD" code="LA00000-0" codeSystem="{LOINC}"/>
           </observation>"#
    ));
    let e = errors(&f);
    assert_eq!(
        e[0].source.as_deref(),
        Some(format!("terminology/{CRONICITA}.csv").as_str())
    );
    assert!(
        e[0].hint.as_deref().unwrap().contains("re-maps"),
        "{:?}",
        e[0].hint
    );
}
