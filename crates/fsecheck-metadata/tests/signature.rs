//! JWT signature verification (feature `verify`) with a throw-away key generated here.
#![cfg(feature = "verify")]

use base64::Engine;
use fsecheck_metadata::signature::{check_signature, verify_rs, JwtAlg, SignatureError};
use fsecheck_metadata::{check_request, gateway_verdict, Operation, Options, RequestInput};
use rand_chacha::rand_core::SeedableRng;
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::{EncodePublicKey, LineEnding};
use rsa::signature::{SignatureEncoding, Signer};
use rsa::RsaPrivateKey;
use serde_json::json;

fn b64url(b: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

fn key(seed: u64) -> RsaPrivateKey {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    RsaPrivateKey::new(&mut rng, 1024).unwrap()
}

fn sign(k: &RsaPrivateKey, alg: &str, payload_b64: &str) -> String {
    let header = b64url(json!({"alg": alg, "typ": "JWT"}).to_string().as_bytes());
    let input = format!("{header}.{payload_b64}");
    let sig = match alg {
        "RS384" => SigningKey::<rsa::sha2::Sha384>::new(k.clone())
            .sign(input.as_bytes())
            .to_vec(),
        "RS512" => SigningKey::<rsa::sha2::Sha512>::new(k.clone())
            .sign(input.as_bytes())
            .to_vec(),
        _ => SigningKey::<rsa::sha2::Sha256>::new(k.clone())
            .sign(input.as_bytes())
            .to_vec(),
    };
    format!("{input}.{}", b64url(&sig))
}

fn pem(k: &RsaPrivateKey) -> String {
    k.to_public_key().to_public_key_pem(LineEnding::LF).unwrap()
}

/// A payload the dispatcher can read: standard base64 (no '-'/'_' in this one).
fn payload() -> String {
    base64::engine::general_purpose::STANDARD.encode(json!({"sub": "x"}).to_string())
}

#[test]
fn verifies_rs256_rs384_rs512_and_detects_tampering() {
    let k = key(1);
    for (alg, want) in [
        ("RS256", JwtAlg::RS256),
        ("RS384", JwtAlg::RS384),
        ("RS512", JwtAlg::RS512),
    ] {
        let t = sign(&k, alg, &payload());
        assert_eq!(verify_rs(&t, &pem(&k)), Ok(want));
        assert_eq!(verify_rs(&format!("Bearer {t}"), &pem(&k)), Ok(want));
        // tampered payload
        let (h, rest) = t.split_once('.').unwrap();
        let sig = rest.rsplit_once('.').unwrap().1;
        let other =
            base64::engine::general_purpose::STANDARD.encode(json!({"sub": "y"}).to_string());
        assert_eq!(
            verify_rs(&format!("{h}.{other}.{sig}"), &pem(&k)),
            Err(SignatureError::Mismatch)
        );
        // another key
        assert_eq!(verify_rs(&t, &pem(&key(2))), Err(SignatureError::Mismatch));
    }
    let t = sign(&k, "HS256", &payload());
    assert!(
        matches!(verify_rs(&t, &pem(&k)), Err(SignatureError::UnsupportedAlg(a)) if a == "HS256")
    );
    assert!(matches!(
        verify_rs(&sign(&k, "RS256", &payload()), "garbage"),
        Err(SignatureError::BadKey(_))
    ));
    assert_eq!(
        verify_rs("abc", &pem(&k)),
        Err(SignatureError::MalformedToken)
    );
}

#[test]
fn signature_findings_are_non_blocking() {
    let k = key(3);
    let t = sign(&k, "RS256", &payload());
    assert!(check_signature(&t, &pem(&k)).is_empty());
    let f = check_signature(&t, &pem(&key(4)));
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].id, "jwt/signature");
    assert_eq!(f[0].details["gateway_blocking"], "false");
    // through check_request: the not-checked note disappears when a key is given
    let input = RequestInput {
        operation: Operation::Validation,
        body: Some(r#"{"activity":"VERIFICA"}"#),
        jwt: Some(&t),
        jwt_public_key_pem: Some(&pem(&k)),
        ..Default::default()
    };
    let all = check_request(&input, &Options::default());
    assert!(all
        .iter()
        .all(|f| f.id != "jwt/signature" && f.id != "jwt/signature-not-checked"));
    // (claims are missing, so the verdict is a claim error, not a signature one)
    assert_eq!(gateway_verdict(&all).unwrap().rule_id, "jwt/mandatory");
}
