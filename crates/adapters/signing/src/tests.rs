use std::os::unix::fs::PermissionsExt;

use super::*;

fn at(hours: i64) -> Timestamp {
    Utc::now() + Duration::hours(hours)
}

#[test]
fn a_new_keyring_is_private_and_its_seals_check() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys").join("signing-keys.json");
    let (keyring, created) = FileKeyring::open_or_create(&path).unwrap();
    assert!(created);
    let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "only the owner reads the private key");
    let seal = keyring.seal("statement");
    assert_eq!(seal.signature.len(), 64);
    keyring.check(&seal, "statement", Utc::now()).unwrap();
    assert_eq!(
        keyring.check(&seal, "another statement", Utc::now()),
        Err(SealError::BadSignature(seal.key_id.clone()))
    );
    let mut forged = seal.clone();
    forged.signature[0] ^= 1;
    assert!(keyring.check(&forged, "statement", Utc::now()).is_err());
    // Checked again (from the set of verified seals now), the same answers.
    keyring.check(&seal, "statement", Utc::now()).unwrap();
    assert!(keyring.check(&forged, "statement", Utc::now()).is_err());
    assert!(keyring
        .check(&seal, "another statement", Utc::now())
        .is_err());
    let unknown = Seal {
        key_id: "sig_0000000000000000".into(),
        ..seal.clone()
    };
    assert_eq!(
        keyring.check(&unknown, "statement", Utc::now()),
        Err(SealError::UnknownKey(unknown.key_id.clone()))
    );

    // Opened again, the same key: it was kept, not made anew.
    let (again, created) = FileKeyring::open_or_create(&path).unwrap();
    assert!(!created);
    again.check(&seal, "statement", Utc::now()).unwrap();
    assert_eq!(again.public_keys(), keyring.public_keys());
}

#[test]
fn rotation_keeps_old_seals_valid_in_their_window_and_a_running_keyring_follows_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("signing-keys.json");
    let (running, _) = FileKeyring::open_or_create(&path).unwrap();
    let old = running.seal("before");

    let new = FileKeyring::rotate(&path, Utc::now(), Duration::hours(1)).unwrap();
    assert_ne!(new.key_id, old.key_id);
    let keys = FileKeyring::list(&path).unwrap();
    assert_eq!(keys.len(), 2);
    let retired = keys.iter().find(|k| k.key_id == old.key_id).unwrap();
    assert!(retired.not_after.is_some_and(|end| end > Utc::now()));

    // A second instance opened after the rotation signs with the new key and checks the old
    // key's seals; the first one, still running, learns the new key when it first sees it.
    let (restarted, _) = FileKeyring::open_or_create(&path).unwrap();
    let fresh = restarted.seal("after");
    assert_eq!(fresh.key_id, new.key_id);
    restarted.check(&old, "before", Utc::now()).unwrap();
    running.check(&fresh, "after", Utc::now()).unwrap();
    // A seal the old key made after its window is not valid.
    assert!(matches!(
        restarted.check(&old, "before", at(2)),
        Err(SealError::NotValidThen { .. })
    ));
}

#[test]
fn a_revoked_key_keeps_what_it_signed_before_and_nothing_after() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("signing-keys.json");
    let (keyring, _) = FileKeyring::open_or_create(&path).unwrap();
    let old = keyring.seal("statement");
    let signed_at = Utc::now();
    assert!(matches!(
        FileKeyring::revoke(&path, &old.key_id, Utc::now()),
        Err(KeyringError::RevokingTheSigningKey(_))
    ));
    FileKeyring::rotate(&path, Utc::now(), DEFAULT_OVERLAP).unwrap();
    let revoked_at = Utc::now() + Duration::milliseconds(1);
    FileKeyring::revoke(&path, &old.key_id, revoked_at).unwrap();
    let (reopened, _) = FileKeyring::open_or_create(&path).unwrap();
    reopened.check(&old, "statement", signed_at).unwrap();
    assert!(matches!(
        reopened.check(&old, "statement", revoked_at),
        Err(SealError::NotValidThen { .. })
    ));
    assert!(matches!(
        FileKeyring::revoke(&path, "sig_nope", Utc::now()),
        Err(KeyringError::UnknownKey(_))
    ));
}

#[test]
fn a_damaged_file_is_refused_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("signing-keys.json");
    fs::write(&path, "{}").unwrap();
    let err = FileKeyring::open(&path).unwrap_err();
    assert!(err.to_string().contains("signing-keys.json"), "{err}");
    let (keyring, _) = {
        fs::remove_file(&path).unwrap();
        FileKeyring::open_or_create(&path).unwrap()
    };
    drop(keyring);
    let text = fs::read_to_string(&path).unwrap();
    let swapped = text.replacen("\"publicKey\": \"", "\"publicKey\": \"A", 1);
    fs::write(&path, swapped).unwrap();
    assert!(matches!(
        FileKeyring::open(&path),
        Err(KeyringError::Malformed { .. })
    ));
}
