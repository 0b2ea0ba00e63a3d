//! Optional JWT signature verification (RS256/RS384/RS512, feature `verify`), for users who hold
//! the signer's public key. The dispatcher never verifies the signature (GovWay does, at the
//! frontier), so a failure here is reported as **non-blocking** for the gateway verdict.
//!
//! Keys: PEM `PUBLIC KEY` (SPKI) or `RSA PUBLIC KEY` (PKCS#1). Certificates (`x5c`) are not
//! parsed: extract the public key first (`openssl x509 -pubkey -noout`).

use crate::gateway::rules as R;
use fsecheck_core::{Finding, Severity};

/// The RSA algorithms the guide allows (§15.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwtAlg {
    RS256,
    RS384,
    RS512,
}

/// Why a signature does not verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureError {
    /// Not `header.payload.signature`.
    MalformedToken,
    /// The header's `alg` is missing or not RS256/RS384/RS512.
    UnsupportedAlg(String),
    /// The key cannot be read.
    BadKey(String),
    /// The signature part is not base64url.
    BadSignatureEncoding,
    /// The signature does not match.
    Mismatch,
    /// The crate was built without the `verify` feature.
    NotCompiled,
}

impl std::fmt::Display for SignatureError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SignatureError::MalformedToken => {
                write!(f, "the token is not header.payload.signature")
            }
            SignatureError::UnsupportedAlg(a) => {
                write!(f, "unsupported alg `{a}` (RS256, RS384, RS512)")
            }
            SignatureError::BadKey(e) => write!(f, "the public key cannot be read: {e}"),
            SignatureError::BadSignatureEncoding => {
                write!(f, "the signature part is not base64url")
            }
            SignatureError::Mismatch => {
                write!(f, "the signature does not match header.payload and the key")
            }
            SignatureError::NotCompiled => write!(
                f,
                "fsecheck-metadata was built without the `verify` feature"
            ),
        }
    }
}

/// Verify `token` (optional `Bearer ` prefix) with an RSA public key in PEM.
#[cfg(feature = "verify")]
pub fn verify_rs(token: &str, public_key_pem: &str) -> Result<JwtAlg, SignatureError> {
    use base64::Engine;
    use rsa::pkcs1::DecodeRsaPublicKey;
    use rsa::pkcs1v15::{Signature, VerifyingKey};
    use rsa::pkcs8::DecodePublicKey;
    use rsa::signature::Verifier;
    use rsa::RsaPublicKey;

    let token = token.strip_prefix("Bearer ").unwrap_or(token);
    let (signing_input, sig_b64) = token
        .rsplit_once('.')
        .ok_or(SignatureError::MalformedToken)?;
    let header_b64 = signing_input
        .split_once('.')
        .ok_or(SignatureError::MalformedToken)?
        .0;
    let header_bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header_b64.trim_end_matches('='))
        .or_else(|_| crate::jwt::java_base64_decode(header_b64).map_err(|_| ()))
        .map_err(|_| SignatureError::UnsupportedAlg("(header not decodable)".into()))?;
    let header: serde_json::Value = serde_json::from_slice(&header_bytes)
        .map_err(|_| SignatureError::UnsupportedAlg("(header not JSON)".into()))?;
    let alg = header.get("alg").and_then(|a| a.as_str()).unwrap_or("");
    let alg = match alg {
        "RS256" => JwtAlg::RS256,
        "RS384" => JwtAlg::RS384,
        "RS512" => JwtAlg::RS512,
        other => return Err(SignatureError::UnsupportedAlg(other.to_string())),
    };
    let key = RsaPublicKey::from_public_key_pem(public_key_pem)
        .or_else(|_| RsaPublicKey::from_pkcs1_pem(public_key_pem))
        .map_err(|e| SignatureError::BadKey(e.to_string()))?;
    let sig_bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(sig_b64.trim_end_matches('='))
        .map_err(|_| SignatureError::BadSignatureEncoding)?;
    let sig = Signature::try_from(sig_bytes.as_slice()).map_err(|_| SignatureError::Mismatch)?;
    let msg = signing_input.as_bytes();
    let ok = match alg {
        JwtAlg::RS256 => VerifyingKey::<rsa::sha2::Sha256>::new(key)
            .verify(msg, &sig)
            .is_ok(),
        JwtAlg::RS384 => VerifyingKey::<rsa::sha2::Sha384>::new(key)
            .verify(msg, &sig)
            .is_ok(),
        JwtAlg::RS512 => VerifyingKey::<rsa::sha2::Sha512>::new(key)
            .verify(msg, &sig)
            .is_ok(),
    };
    if ok {
        Ok(alg)
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// Without the `verify` feature: always [`SignatureError::NotCompiled`].
#[cfg(not(feature = "verify"))]
pub fn verify_rs(_token: &str, _public_key_pem: &str) -> Result<JwtAlg, SignatureError> {
    Err(SignatureError::NotCompiled)
}

/// Verify and report: nothing when the signature verifies; a non-blocking `jwt/signature`
/// finding otherwise (error, or warning when verification is not compiled in).
pub fn check_signature(token: &str, public_key_pem: &str) -> Vec<Finding> {
    match verify_rs(token, public_key_pem) {
        Ok(_) => Vec::new(),
        Err(e) => {
            let sev = if e == SignatureError::NotCompiled {
                Severity::Warning
            } else {
                Severity::Error
            };
            let mut f = R::JWT_SIGNATURE
                .non_blocking(sev, "Firma del JWT non valida", "")
                .with_hint(format!("JWT signature check with the given public key failed: {e}. The dispatcher does not verify signatures, but GovWay rejects such a token at the frontier."))
                .with_detail("reason", e.to_string())
                .with_detail("frontier", "govway");
            f.location.part = Some("jwt".into());
            vec![f]
        }
    }
}
