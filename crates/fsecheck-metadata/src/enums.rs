//! The gateway's enums, as data.
//!
//! JSON values in the `requestBody` are the **Java constant names** (`Sistema_TS`, `PN_DGC`,
//! `MdsPN_DGC`), not the codes or descriptions; Jackson matches them case-sensitively. Values that
//! exist only on the dispatcher's `release` branch carry [`Availability::ReleaseOnly`].
//!
//! Source: `shared/reference/gateway.md` §5 and §6.1 (dispatcher `main` de019846, `release` e008bcce).

use crate::GatewayRelease;

/// On which dispatcher snapshot a value exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Availability {
    Both,
    ReleaseOnly,
    MainOnly,
}

impl Availability {
    pub fn in_release(self, release: GatewayRelease) -> bool {
        matches!(
            (self, release),
            (Availability::Both, _)
                | (Availability::ReleaseOnly, GatewayRelease::Release)
                | (Availability::MainOnly, GatewayRelease::Main)
        )
    }
}

/// One enum value: the JSON/Java constant name, and the code/description where they differ.
#[derive(Debug, Clone, Copy)]
pub struct EnumValue {
    pub name: &'static str,
    pub availability: Availability,
}

/// An enum of the gateway (Java class name + values in declaration order).
#[derive(Debug)]
pub struct EnumDef {
    /// Java class name, e.g. `TipoDocAltoLivEnum`.
    pub java: &'static str,
    pub values: &'static [EnumValue],
    /// How the gateway compares: `true` = `equalsIgnoreCase`.
    pub case_insensitive: bool,
}

impl EnumDef {
    /// Values available on a given gateway snapshot, in declaration order.
    pub fn names(&self, release: GatewayRelease) -> Vec<&'static str> {
        self.values
            .iter()
            .filter(|v| v.availability.in_release(release))
            .map(|v| v.name)
            .collect()
    }

    /// Values available on either snapshot (the union), in declaration order.
    pub fn all_names(&self) -> Vec<&'static str> {
        self.values.iter().map(|v| v.name).collect()
    }

    /// Does `s` name a value of this enum on the given snapshot (with this enum's case rule)?
    pub fn find(&self, s: &str, release: GatewayRelease) -> Option<&'static str> {
        self.values
            .iter()
            .filter(|v| v.availability.in_release(release))
            .find(|v| {
                if self.case_insensitive {
                    v.name.eq_ignore_ascii_case(s)
                } else {
                    v.name == s
                }
            })
            .map(|v| v.name)
    }

    /// Index of a value on the given snapshot (Jackson accepts an integer index for an enum).
    pub fn by_index(&self, i: u64, release: GatewayRelease) -> Option<&'static str> {
        let names = self.names(release);
        usize::try_from(i).ok().and_then(|i| names.get(i).copied())
    }
}

const fn b(name: &'static str) -> EnumValue {
    EnumValue {
        name,
        availability: Availability::Both,
    }
}
const fn r(name: &'static str) -> EnumValue {
    EnumValue {
        name,
        availability: Availability::ReleaseOnly,
    }
}

/// `tipoDocumentoLivAlto`.
pub static TIPO_DOC_ALTO_LIV: EnumDef = EnumDef {
    java: "TipoDocAltoLivEnum",
    case_insensitive: false,
    values: &[
        b("WOR"),
        b("REF"),
        b("LDO"),
        b("RIC"),
        b("SUM"),
        b("TAC"),
        b("PRS"),
        b("PRE"),
        b("ESE"),
        b("PDC"),
        b("VAC"),
        b("CER"),
        b("VRB"),
        b("CON"),
        b("CNT"),
        b("CRT"),
        r("LET"),
        r("PRO"),
        r("COL"),
    ],
};

/// `tipoAttivitaClinica`.
pub static ATTIVITA_CLINICA: EnumDef = EnumDef {
    java: "AttivitaClinicaEnum",
    case_insensitive: false,
    values: &[
        b("PHR"),
        b("CON"),
        b("DIS"),
        b("ERP"),
        b("Sistema_TS"),
        b("INI"),
        b("PN_DGC"),
        b("OBS"),
    ],
};

/// `tipologiaStruttura`.
pub static HEALTHCARE_FACILITY: EnumDef = EnumDef {
    java: "HealthcareFacilityEnum",
    case_insensitive: false,
    values: &[
        b("Ospedale"),
        b("Prevenzione"),
        b("Territorio"),
        b("SistemaTS"),
        b("Cittadino"),
        b("MdsPN_DGC"),
    ],
};

/// `assettoOrganizzativo` (89 values).
pub static PRACTICE_SETTING: EnumDef = EnumDef {
    java: "PracticeSettingCodeEnum",
    case_insensitive: false,
    values: &[
        b("AD_PSC001"),
        b("AD_PSC002"),
        b("AD_PSC003"),
        b("AD_PSC004"),
        b("AD_PSC005"),
        b("AD_PSC006"),
        b("AD_PSC007"),
        b("AD_PSC008"),
        b("AD_PSC009"),
        b("AD_PSC010"),
        b("AD_PSC011"),
        b("AD_PSC012"),
        b("AD_PSC013"),
        b("AD_PSC014"),
        b("AD_PSC015"),
        b("AD_PSC018"),
        b("AD_PSC019"),
        b("AD_PSC020"),
        b("AD_PSC021"),
        b("AD_PSC024"),
        b("AD_PSC025"),
        b("AD_PSC026"),
        b("AD_PSC027"),
        b("AD_PSC028"),
        b("AD_PSC029"),
        b("AD_PSC030"),
        b("AD_PSC031"),
        b("AD_PSC032"),
        b("AD_PSC033"),
        b("AD_PSC034"),
        b("AD_PSC035"),
        b("AD_PSC036"),
        b("AD_PSC037"),
        b("AD_PSC038"),
        b("AD_PSC039"),
        b("AD_PSC040"),
        b("AD_PSC041"),
        b("AD_PSC042"),
        b("AD_PSC043"),
        b("AD_PSC046"),
        b("AD_PSC047"),
        b("AD_PSC048"),
        b("AD_PSC049"),
        b("AD_PSC050"),
        b("AD_PSC051"),
        b("AD_PSC052"),
        b("AD_PSC054"),
        b("AD_PSC055"),
        b("AD_PSC056"),
        b("AD_PSC057"),
        b("AD_PSC058"),
        b("AD_PSC060"),
        b("AD_PSC061"),
        b("AD_PSC062"),
        b("AD_PSC064"),
        b("AD_PSC065"),
        b("AD_PSC066"),
        b("AD_PSC067"),
        b("AD_PSC068"),
        b("AD_PSC069"),
        b("AD_PSC070"),
        b("AD_PSC071"),
        b("AD_PSC072"),
        b("AD_PSC073"),
        b("AD_PSC074"),
        b("AD_PSC075"),
        b("AD_PSC076"),
        b("AD_PSC077"),
        b("AD_PSC078"),
        b("AD_PSC094"),
        b("AD_PSC096"),
        b("AD_PSC097"),
        b("AD_PSC098"),
        b("AD_PSC099"),
        b("AD_PSC100"),
        b("AD_PSC101"),
        b("AD_PSC102"),
        b("AD_PSC103"),
        b("AD_PSC104"),
        b("AD_PSC107"),
        b("AD_PSC109"),
        b("AD_PSC121"),
        b("AD_PSC122"),
        b("AD_PSC126"),
        b("AD_PSC129"),
        b("AD_PSC130"),
        b("AD_PSC131"),
        b("AD_PSC199"),
        b("AD_PSC999"),
    ],
};

/// `administrativeRequest` (a single value in the dispatcher DTO).
pub static ADMINISTRATIVE_REQ: EnumDef = EnumDef {
    java: "AdministrativeReqEnum",
    case_insensitive: false,
    values: &[
        b("SSN"),
        b("INPATIENT"),
        b("NOSSN"),
        b("SSR"),
        b("DONOR"),
        b("AUTO"),
    ],
};

/// `healthDataFormat`.
pub static HEALTH_DATA_FORMAT: EnumDef = EnumDef {
    java: "HealthDataFormatEnum",
    case_insensitive: false,
    values: &[b("CDA")],
};

/// `mode`.
pub static INJECTION_MODE: EnumDef = EnumDef {
    java: "InjectionModeEnum",
    case_insensitive: false,
    values: &[b("ATTACHMENT"), b("RESOURCE")],
};

/// `activity`.
pub static ACTIVITY: EnumDef = EnumDef {
    java: "ActivityEnum",
    case_insensitive: false,
    values: &[b("VERIFICA"), b("VALIDATION")],
};

/// `attiCliniciRegoleAccesso` items: EventCodeEnum **codes**, compared case-insensitively.
/// 233 values on `release`, 231 on `main` (J07AH11 and J07BB05 are release-only).
pub static EVENT_CODE: EnumDef = EnumDef {
    java: "EventCodeEnum",
    case_insensitive: true,
    values: &[
        // ATC
        b("J07AC"),
        b("J07AC01"),
        b("J07AD"),
        b("J07AD01"),
        b("J07AE"),
        b("J07AE01"),
        b("J07AE02"),
        b("J07AE51"),
        b("J07AF"),
        b("J07AF01"),
        b("J07AG"),
        b("J07AG01"),
        b("J07AG51"),
        b("J07AG52"),
        b("J07AG53"),
        b("J07AG54"),
        b("J07AH"),
        b("J07AH01"),
        b("J07AH02"),
        b("J07AH03"),
        b("J07AH04"),
        b("J07AH05"),
        b("J07AH06"),
        b("J07AH07"),
        b("J07AH08"),
        b("J07AH09"),
        b("J07AH10"),
        r("J07AH11"),
        b("J07AJ"),
        b("J07AJ01"),
        b("J07AJ02"),
        b("J07AJ51"),
        b("J07AJ52"),
        b("J07AK"),
        b("J07AK01"),
        b("J07AL"),
        b("J07AL01"),
        b("J07AL02"),
        b("J07AL52"),
        b("J07AM"),
        b("J07AM01"),
        b("J07AM51"),
        b("J07AM52"),
        b("J07AN"),
        b("J07AN01"),
        b("J07AP"),
        b("J07AP01"),
        b("J07AP02"),
        b("J07AP03"),
        b("J07AP10"),
        b("J07AR"),
        b("J07AR01"),
        b("J07AX"),
        b("J07AX01"),
        b("J07BA"),
        b("J07BA01"),
        b("J07BA02"),
        b("J07BA03"),
        b("J07BB"),
        b("J07BB01"),
        b("J07BB02"),
        b("J07BB03"),
        b("J07BB04"),
        r("J07BB05"),
        b("J07BC"),
        b("J07BC01"),
        b("J07BC02"),
        b("J07BC20"),
        b("J07BD"),
        b("J07BD01"),
        b("J07BD51"),
        b("J07BD52"),
        b("J07BD53"),
        b("J07BD54"),
        b("J07BE"),
        b("J07BE01"),
        b("J07BF"),
        b("J07BF01"),
        b("J07BF02"),
        b("J07BF03"),
        b("J07BF04"),
        b("J07BG"),
        b("J07BG01"),
        b("J07BH"),
        b("J07BH01"),
        b("J07BH02"),
        b("J07BJ"),
        b("J07BJ01"),
        b("J07BJ51"),
        b("J07BK"),
        b("J07BK01"),
        b("J07BK02"),
        b("J07BK03"),
        b("J07BL"),
        b("J07BL01"),
        b("J07BM"),
        b("J07BM01"),
        b("J07BM02"),
        b("J07BM03"),
        b("J07BN"),
        b("J07BN01"),
        b("J07BN02"),
        b("J07BN03"),
        b("J07BN04"),
        b("J07BN05"),
        b("J07BX"),
        b("J07BX01"),
        b("J07BX02"),
        b("J07BX04"),
        b("J07BX05"),
        b("J07BX06"),
        b("J07CA"),
        b("J07CA01"),
        b("J07CA02"),
        b("J07CA03"),
        b("J07CA04"),
        b("J07CA05"),
        b("J07CA06"),
        b("J07CA07"),
        b("J07CA08"),
        b("J07CA09"),
        b("J07CA10"),
        b("J07CA11"),
        b("J07CA12"),
        b("J07CA13"),
        b("J07XA"),
        b("J07XA01"),
        // SNOMED CT
        b("1001000221103"),
        b("1011000221100"),
        b("1031000221108"),
        b("1051000221104"),
        b("1052328007"),
        b("1081000221109"),
        b("1101000221104"),
        b("1119254000"),
        b("1119305005"),
        b("1119349007"),
        b("1121000221106"),
        b("1131000221109"),
        b("1157024006"),
        b("1162643001"),
        b("1181000221105"),
        b("1801000221105"),
        b("1861000221106"),
        b("1981000221108"),
        b("2171000221104"),
        b("2221000221107"),
        b("28531000087107"),
        b("29061000087103"),
        b("37146000"),
        b("409568008"),
        b("428601009"),
        b("601000221108"),
        b("774618008"),
        b("775641005"),
        b("777725002"),
        b("836368004"),
        b("836369007"),
        b("836374004"),
        b("836375003"),
        b("836377006"),
        b("836378001"),
        b("836379009"),
        b("836380007"),
        b("836381006"),
        b("836382004"),
        b("836383009"),
        b("836384003"),
        b("836385002"),
        b("836387005"),
        b("836388000"),
        b("836389008"),
        b("836390004"),
        b("836393002"),
        b("836397001"),
        b("836398006"),
        b("836401009"),
        b("836402002"),
        b("836403007"),
        b("836495005"),
        b("836498007"),
        b("836500008"),
        b("840549009"),
        b("840563003"),
        b("840599008"),
        b("863911006"),
        b("871726005"),
        b("871737006"),
        b("871738001"),
        b("871739009"),
        b("871740006"),
        b("871742003"),
        b("871751006"),
        b("871759008"),
        b("871764007"),
        b("871765008"),
        b("871768005"),
        b("871772009"),
        b("871803007"),
        b("871804001"),
        b("871806004"),
        b("871826000"),
        b("871831003"),
        b("871837004"),
        b("871839001"),
        b("871866001"),
        b("871871008"),
        b("871873006"),
        b("871875004"),
        b("871876003"),
        b("871878002"),
        b("871887006"),
        b("871889009"),
        b("871895005"),
        b("871908002"),
        b("871918007"),
        b("871921009"),
        b("921000221108"),
        b("971000221109"),
        b("981000221107"),
        // Other
        b("P99"),
        b("P00"),
        b("P97"),
        b("P98"),
        b("LP418019-8"),
        b("LP417541-2"),
        b("96118-5"),
        b("94503-0"),
        b("pay"),
        b("PUBLICPOL"),
        b("LP267463-0"),
        b("LP199190-2"),
        b("90768-3"),
    ],
};

/// `DescriptionEnum` OIDs accepted as the third part of a `descriptions` item.
/// The regional one is matched with the gateway's `COD_REGIONE` bug (see [`crate::body`]).
pub const DESCRIPTION_OIDS: &[&str] = &[
    "2.16.840.1.113883.2.9.6.1.5",
    "2.16.840.1.113883.2.9.6.1.51",
    "2.16.840.1.113883.6.73",
    "2.16.840.1.113883.2.9.6.1.57.1",
    "2.16.840.1.113883.2.9.6.1.11",
    "2.16.840.1.113883.2.9.6.1.57.2",
    "2.16.840.1.113883.2.9.4.3.13",
    "2.16.840.1.113883.2.9.2.COD_REGIONE.6.1.11",
];

/// JWT `action_id` (ActionEnum, case-sensitive).
pub static ACTION: EnumDef = EnumDef {
    java: "ActionEnum",
    case_insensitive: false,
    values: &[b("CREATE"), b("READ"), b("UPDATE"), b("DELETE")],
};

/// JWT `purpose_of_use` (PurposeOfUseEnum, case-insensitive; `ACCESS UPDATE` has a space).
pub static PURPOSE_OF_USE: EnumDef = EnumDef {
    java: "PurposeOfUseEnum",
    case_insensitive: true,
    values: &[
        b("TREATMENT"),
        b("EMERGENCY"),
        b("PUBEMERGENCY"),
        b("SYSADMIN"),
        b("PERSONAL"),
        b("UPDATE"),
        b("ACCESS UPDATE"),
        b("CONSENT"),
        b("ADMINISTRATIVE"),
    ],
};

/// JWT `subject_role` (RoleEnum, case-sensitive).
pub static ROLE: EnumDef = EnumDef {
    java: "RoleEnum",
    case_insensitive: false,
    values: &[
        b("AAS"),
        b("APR"),
        b("PSS"),
        b("INF"),
        b("FAR"),
        b("DSA"),
        b("DAM"),
        b("OAM"),
        b("ASS"),
        b("TUT"),
        b("ING"),
        b("GEN"),
        b("NOR"),
        b("DRS"),
        b("RSA"),
        b("MRP"),
        b("INI"),
        b("OGC"),
        b("OPI"),
        b("MDS"),
        b("GTW"),
        b("DAP"),
    ],
};

/// SubjectOrganizationEnum: (code, display). `subject_organization_id` must be a code,
/// `subject_organization` a display, and both must name the same entry.
pub const SUBJECT_ORGANIZATIONS: &[(&str, &str)] = &[
    ("010", "Regione Piemonte"),
    ("020", "Regione Valle d'Aosta"),
    ("030", "Regione Lombardia"),
    ("041", "P.A. Bolzano"),
    ("042", "P.A. Trento"),
    ("050", "Regione Veneto"),
    ("060", "Regione Friuli Venezia Giulia"),
    ("070", "Regione Liguria"),
    ("080", "Regione Emilia-Romagna"),
    ("090", "Regione Toscana"),
    ("100", "Regione Umbria"),
    ("110", "Regione Marche"),
    ("120", "Regione Lazio"),
    ("130", "Regione Abruzzo"),
    ("140", "Regione Molise"),
    ("150", "Regione Campania"),
    ("160", "Regione Puglia"),
    ("170", "Regione Basilicata"),
    ("180", "Regione Calabria"),
    ("190", "Regione Sicilia"),
    ("200", "Regione Sardegna"),
    ("000", "INI"),
    ("970", "Sistema TS"),
    ("001", "SASN"),
    ("999", "MDS"),
    ("950", "GTW"),
];

/// Index of a SubjectOrganizationEnum entry by code.
pub fn organization_by_code(code: &str) -> Option<usize> {
    SUBJECT_ORGANIZATIONS.iter().position(|(c, _)| *c == code)
}

/// Index of a SubjectOrganizationEnum entry by display.
pub fn organization_by_display(display: &str) -> Option<usize> {
    SUBJECT_ORGANIZATIONS
        .iter()
        .position(|(_, d)| *d == display)
}

/// **[release]** `CorrelationDocumentTypeValidator`: DocumentTypeEnum LOINC code → the
/// `tipoDocumentoLivAlto` it must come with. `main` has no such check (and has 28653-4 where
/// release has 104531-9). The `LOINC_CODE_1..4` placeholders of the enum are not real codes and
/// are left out: no JWT can carry them.
pub const CORRELATION_RELEASE: &[(&str, &str)] = &[
    ("57833-6", "PRS"),
    ("60591-5", "SUM"),
    ("11502-2", "REF"),
    ("57829-4", "PRS"),
    ("34105-7", "LDO"),
    ("18842-5", "LDO"),
    ("59258-4", "VRB"),
    ("68604-8", "REF"),
    ("11526-1", "REF"),
    ("59284-0", "CON"),
    ("104531-9", "CRT"),
    ("57832-8", "PRS"),
    ("29304-3", "PRE"),
    ("11488-4", "REF"),
    ("57827-8", "ESE"),
    ("81223-0", "PRE"),
    ("18776-5", "PDC"),
    ("97500-3", "CER"),
    ("87273-9", "VAC"),
    ("82593-5", "VAC"),
    ("97499-8", "CER"),
    ("55750-4", "SUM"),
    ("68814-3", "CNT"),
    ("103140-0", "TAC"),
    ("103144-2", "PRE"),
    ("103145-9", "PRE"),
    ("103146-7", "PRE"),
    ("103147-5", "PRE"),
    ("101136-0", "LET"),
    ("101134-5", "PRO"),
    ("101133-7", "CON"),
    ("53576-5", "TAC"),
    ("100971-1", "COL"),
    ("101881-1", "SUM"),
    ("108276-7", "LET"),
    ("75496-0", "REF"),
    ("85208-7", "REF"),
];

/// Every enum used by the `requestBody` rules, for the schema and the docs.
pub fn body_enums() -> [&'static EnumDef; 9] {
    [
        &TIPO_DOC_ALTO_LIV,
        &ATTIVITA_CLINICA,
        &HEALTHCARE_FACILITY,
        &PRACTICE_SETTING,
        &ADMINISTRATIVE_REQ,
        &HEALTH_DATA_FORMAT,
        &INJECTION_MODE,
        &ACTIVITY,
        &EVENT_CODE,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enum_sizes_match_the_reference() {
        assert_eq!(PRACTICE_SETTING.values.len(), 89);
        assert_eq!(EVENT_CODE.names(GatewayRelease::Release).len(), 233);
        assert_eq!(EVENT_CODE.names(GatewayRelease::Main).len(), 231);
        assert_eq!(TIPO_DOC_ALTO_LIV.names(GatewayRelease::Main).len(), 16);
        assert_eq!(TIPO_DOC_ALTO_LIV.names(GatewayRelease::Release).len(), 19);
        assert_eq!(SUBJECT_ORGANIZATIONS.len(), 26);
        assert_eq!(ROLE.values.len(), 22);
    }

    #[test]
    fn no_duplicate_values() {
        for e in body_enums()
            .iter()
            .chain([&ACTION, &PURPOSE_OF_USE, &ROLE].iter())
        {
            let mut seen = std::collections::HashSet::new();
            for v in e.values {
                assert!(
                    seen.insert(v.name.to_ascii_uppercase()),
                    "{} {}",
                    e.java,
                    v.name
                );
            }
        }
    }

    #[test]
    fn event_codes_are_case_insensitive_and_release_aware() {
        assert_eq!(
            EVENT_CODE.find("publicpol", GatewayRelease::Main),
            Some("PUBLICPOL")
        );
        assert_eq!(EVENT_CODE.find("PAY", GatewayRelease::Main), Some("pay"));
        assert!(EVENT_CODE.find("J07AH11", GatewayRelease::Main).is_none());
        assert!(EVENT_CODE
            .find("J07AH11", GatewayRelease::Release)
            .is_some());
        assert!(TIPO_DOC_ALTO_LIV
            .find("ref", GatewayRelease::Release)
            .is_none());
    }
}
