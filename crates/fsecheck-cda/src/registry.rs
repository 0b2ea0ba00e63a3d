//! The 22 document types of it-fse-catalogs: key, name, LOINC code of `ClinicalDocument/code`, and
//! the templateId root that selects the schematron (the gateway's rule: the first `templateId`).

use serde::Serialize;

const ROOT_PREFIX: &str = "2.16.840.1.113883.2.9.10.1.";

/// One FSE 2.0 document type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DocType {
    /// Short stable key used in reports: `LDO`, `VPS`, `LAB`, …
    pub key: &'static str,
    /// Italian name, as the guides call it.
    pub name: &'static str,
    /// LOINC code the schematron requires on `ClinicalDocument/code`.
    pub loinc: &'static str,
    /// templateId root suffix after `2.16.840.1.113883.2.9.10.1.`.
    root_suffix: &'static str,
}

impl DocType {
    /// The full templateId root.
    pub fn root(&self) -> String {
        format!("{ROOT_PREFIX}{}", self.root_suffix)
    }

    pub fn matches_root(&self, root: &str) -> bool {
        root.strip_prefix(ROOT_PREFIX) == Some(self.root_suffix)
    }

    /// The type whose templateId root is `root`.
    pub fn by_root(root: &str) -> Option<&'static DocType> {
        DOC_TYPES.iter().find(|d| d.matches_root(root))
    }

    /// Types whose LOINC code is `code` (several types share a code, e.g. 57833-6).
    pub fn by_loinc(code: &str) -> impl Iterator<Item = &'static DocType> + '_ {
        DOC_TYPES.iter().filter(move |d| d.loinc == code)
    }

    pub fn by_key(key: &str) -> Option<&'static DocType> {
        DOC_TYPES.iter().find(|d| d.key.eq_ignore_ascii_case(key))
    }
}

macro_rules! doc_types {
    ($($key:literal, $name:literal, $loinc:literal, $root:literal;)*) => {
        /// Every type in the catalog snapshot (reference/gateway.md §8).
        pub const DOC_TYPES: &[DocType] = &[
            $(DocType { key: $key, name: $name, loinc: $loinc, root_suffix: $root },)*
        ];
    };
}

doc_types! {
    "LAB", "Referto di Laboratorio", "11502-2", "1";
    "PRF", "Prescrizione farmaceutica", "57833-6", "2.1";
    "PRS", "Prescrizione specialistica", "57832-8", "2.2";
    "PRF-NOSSN", "Prescrizione farmaceutica non SSN", "57833-6", "3.1";
    "PSS", "Profilo Sanitario Sintetico", "60591-5", "4.1.1";
    "LDO", "Lettera di Dimissione Ospedaliera", "34105-7", "5";
    "VPS", "Verbale di Pronto Soccorso", "59258-4", "6.1";
    "RAD", "Referto di Radiologia", "68604-8", "7.1";
    "RAP", "Referto di Anatomia Patologica", "11526-1", "8.1";
    "RSA", "Referto di Specialistica Ambulatoriale", "11488-4", "9.1";
    "VAC", "Scheda della singola vaccinazione", "87273-9", "11.1.1";
    "CERT-VAC", "Certificato vaccinale", "82593-5", "11.1.2";
    "ERF", "Erogazione farmaceutica", "60593-1", "13.1.1";
    "ERS", "Erogazione specialistica", "81223-0", "13.1.2";
    "ERF-NOSSN", "Erogazione farmaceutica non SSN", "60593-1", "13.2.1";
    "SCREENING", "Lettera di invito screening", "108276-7", "14.1";
    "INVITO-VAC", "Lettera di invito vaccinazione", "111490-9", "15.1";
    "TELEVISITA", "Referto di Televisita", "75496-0", "16.1.1";
    "TELECONSULTO", "Relazione collaborativa di Teleconsulto", "85208-7", "16.2.1";
    "TELEASSISTENZA", "Relazione finale di Teleassistenza", "75496-0", "16.4.1";
    "TPI", "Tessera Portatore di Impianto", "101881-1", "17.1";
    "CC", "Cartella Clinica", "100971-1", "18.1";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twenty_two_types_with_unique_keys_and_roots() {
        assert_eq!(DOC_TYPES.len(), 22);
        for (i, a) in DOC_TYPES.iter().enumerate() {
            for b in &DOC_TYPES[i + 1..] {
                assert_ne!(a.key, b.key);
                assert_ne!(a.root(), b.root());
            }
        }
    }

    #[test]
    fn lookups() {
        assert_eq!(
            DocType::by_root("2.16.840.1.113883.2.9.10.1.5")
                .unwrap()
                .key,
            "LDO"
        );
        assert!(DocType::by_root("2.16.840.1.113883.2.9.10.1.55").is_none());
        assert_eq!(DocType::by_loinc("57833-6").count(), 2);
        assert_eq!(DocType::by_key("vps").unwrap().loinc, "59258-4");
    }
}
