//! Crypto-shredding: personal fields sealed under per-customer data keys, the keys wrapped by a
//! master key, and erasure by destroying a key.
//!
//! # Stored payloads
//!
//! An event type with no personal fields is stored as `PAYLOAD_PLAIN` + the codec body
//! ([`Event::encode_payload`]). An event with personal fields (see `ledger_domain::personal`) is
//! stored as [`PAYLOAD_SEALED`] + codec([`SealedBody`]):
//!
//! - `redacted`: the codec body of the event with every personal field erased — the facts that
//!   remain for statistics once the key is gone (a claim of 3,200 yuan settled on a date);
//! - `ciphertext`: XChaCha20-Poly1305 of the personal fields' codec bytes under the data
//!   subject's key, with the type name, schema version, subject and redacted body as associated
//!   data (so a ciphertext cannot be moved to another event's facts).
//!
//! The subject ([`Event::data_subject`]: `customer-{id}`, or the event's own stream for a web
//! enquiry from someone not yet a customer) is named by the redacted facts, and the 24-byte
//! nonce is derived from the subject and the event id (`blake3::derive_key`), so neither is
//! stored (~70 bytes a record saved). The log holds at most one record per event id, so a (key,
//! nonce) pair never seals two stored plaintexts, and sealing is deterministic — `seed` gives
//! the same head hash every time. The hash chain covers
//! these stored bytes, so `verify`, proofs and exports work with or without keys.
//!
//! # Keys
//!
//! A data key is 32 random bytes (or, for `seed`, derived from the seed: [`KeySource`]), stored
//! only wrapped — XChaCha20-Poly1305 under the master key with a random nonce — in the store's
//! [`DataKeyStore`], durably before the first event it seals is appended. The master key comes
//! from configuration or [`MASTER_KEY_ENV`] and is never stored; a check value in the keyspace
//! turns a wrong one into [`KeyError::WrongMasterKey`] at start-up. Rotation rewraps every data
//! key under a new master key in one atomic batch; no event changes.
//!
//! # Erasure
//!
//! [`KeyRing::begin_erasure`] marks the subject (durably), the `CustomerErased` event is
//! appended, then [`KeyRing::finish_erasure`] replaces the key by a tombstone. If the process
//! dies in between, [`crate::Ledger::open`] finds the marker and finishes the erasure when the
//! event is in the log (or forgets it when it is not). From then on the subject's events open as
//! their redacted bodies ([`Opened::redacted`]), and sealing anything new for it is refused —
//! except an event with nothing to seal: one whose personal fields all hold their erased values
//! already (a supervisor finishing an erased customer's open case or claim, the text left out,
//! as the domain requires of such work). It is stored as [`PAYLOAD_SEALED`] with its redacted
//! body and an empty ciphertext (a real one is never empty: it holds at least the 16-byte tag),
//! so it reads like every other event of the subject: redacted, since the key is gone.
//! Another subject can go with a customer's erasure ([`KeyRing::begin_erasure_decided_by`]: an
//! anonymous online enquiry the customer's contacts answered); its marker names the customer's
//! stream, whose `CustomerErased` decides it. An anonymous enquiry erased on its own is decided
//! by its own `EnquiryErased`.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use ledger_domain::codec;
use ledger_domain::events::{Event, PAYLOAD_SEALED, PayloadError};
use ledger_domain::ids::{EventId, StreamId};
use ledger_store::{DataKeyStore, StoreFailure};
use serde::{Deserialize, Serialize};

/// The environment variable that may hold the master key (64 hexadecimal characters).
pub const MASTER_KEY_ENV: &str = "LEDGER_MASTER_KEY";
/// A master key or data key, in bytes.
pub const KEY_BYTES: usize = 32;
const NONCE_BYTES: usize = 24;
const CHECK_PLAINTEXT: &[u8] = b"contact-ledger master key check v1";
const NONCE_CONTEXT: &str = "contact-ledger 2026 personal-field nonce v1";
const DERIVED_KEY_CONTEXT: &str = "contact-ledger 2026 derived data key v1";

/// Why keys could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error(
        "no master key: pass --master-key-file FILE or set {MASTER_KEY_ENV} (64 hexadecimal characters)"
    )]
    MissingMasterKey,
    #[error("{field}: a master key is 64 hexadecimal characters (32 bytes)")]
    MalformedMasterKey { field: String },
    #[error(
        "the master key does not open this ledger's data keys (wrong key, or keys rotated since)"
    )]
    WrongMasterKey,
    #[error("the data key of {subject} does not unwrap under the master key: it is damaged")]
    DamagedKey { subject: String },
    #[error("the personal data of {subject} was erased; nothing new can be recorded for it")]
    Erased { subject: String },
    #[error(
        "the personal data of {subject} came from another ledger's export without its data key: \
         it reads as erased here, and nothing new can be recorded for it"
    )]
    Foreign { subject: String },
    #[error(transparent)]
    Store(#[from] StoreFailure),
}

/// The key that wraps every data key. Never stored; its `Debug` shows nothing of it.
#[derive(Clone, PartialEq, Eq)]
pub struct MasterKey([u8; KEY_BYTES]);

impl fmt::Debug for MasterKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("MasterKey(..)")
    }
}

impl MasterKey {
    /// Parses 64 hexadecimal characters (surrounding white space ignored); `field` names the
    /// source in the error.
    pub fn from_hex(field: &str, text: &str) -> Result<Self, KeyError> {
        let mut bytes = [0; KEY_BYTES];
        hex::decode_to_slice(text.trim(), &mut bytes).map_err(|_| {
            KeyError::MalformedMasterKey {
                field: field.to_owned(),
            }
        })?;
        Ok(Self(bytes))
    }

    /// The master key in [`MASTER_KEY_ENV`], if it is set.
    pub fn from_env() -> Result<Option<Self>, KeyError> {
        match std::env::var(MASTER_KEY_ENV) {
            Ok(text) => Self::from_hex(MASTER_KEY_ENV, &text).map(Some),
            Err(std::env::VarError::NotPresent) => Ok(None),
            Err(std::env::VarError::NotUnicode(_)) => Err(KeyError::MalformedMasterKey {
                field: MASTER_KEY_ENV.to_owned(),
            }),
        }
    }

    /// A fresh random master key.
    pub fn generate() -> Self {
        Self(random_bytes())
    }

    /// The key as 64 lower-case hexadecimal characters (for writing a new key file).
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// A fixed, public key for tests and examples only: never protects real data.
    #[doc(hidden)]
    pub fn insecure_for_tests() -> Self {
        Self([7; KEY_BYTES])
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        cipher(&self.0)
    }
}

/// Where new data keys come from.
#[derive(Clone, PartialEq, Eq)]
pub enum KeySource {
    /// The operating system's random generator: every real ledger.
    Random,
    /// Derived from a seed and the subject, so a synthetic ledger (`seed`) has the same bytes,
    /// and head hash, every time. Never for real customers' data.
    Derived([u8; KEY_BYTES]),
}

impl fmt::Debug for KeySource {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Random => formatter.write_str("Random"),
            Self::Derived(_) => formatter.write_str("Derived(..)"),
        }
    }
}

impl KeySource {
    /// Keys derived from a synthetic history's seed.
    pub fn derived_from_seed(seed: u64) -> Self {
        Self::Derived(blake3::derive_key(DERIVED_KEY_CONTEXT, &seed.to_le_bytes()))
    }

    fn new_key(&self, subject: &str) -> [u8; KEY_BYTES] {
        match self {
            Self::Random => random_bytes(),
            Self::Derived(seed) => {
                let mut material = seed.to_vec();
                material.extend_from_slice(subject.as_bytes());
                blake3::derive_key(DERIVED_KEY_CONTEXT, &material)
            }
        }
    }
}

/// The layout after [`PAYLOAD_SEALED`] (see the module docs). The subject and the nonce are not
/// stored: the redacted facts name the subject, and the nonce follows from it and the event id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedBody {
    pub redacted: Vec<u8>,
    pub ciphertext: Vec<u8>,
}

/// A stored payload, opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    pub event: Event,
    /// The personal fields are erased in `event`: its data key was destroyed.
    pub redacted: bool,
}

/// Why a stored payload could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenPayloadError {
    #[error(transparent)]
    Payload(#[from] PayloadError),
    #[error("the sealed fields do not open under {subject}'s data key: {detail}")]
    Sealed { subject: String, detail: String },
    #[error(transparent)]
    Key(#[from] KeyError),
}

/// A data key as the ring caches it.
#[derive(Clone, Copy)]
enum CachedKey {
    Live([u8; KEY_BYTES]),
    Destroyed,
    /// The subject's records were sealed by another ledger, whose key this one does not hold.
    Foreign,
}

/// The data keys of one ledger, unwrapped on demand and cached. Cheap to share behind an `Arc`.
pub struct KeyRing {
    store: DataKeyStore,
    master: Mutex<MasterKey>,
    source: KeySource,
    cache: Mutex<HashMap<String, CachedKey>>,
    /// How many keys this ring has destroyed (see [`KeyRing::destroyed`]).
    destroyed: AtomicU64,
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("KeyRing")
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

/// A stored wrapped key that is a tombstone: the key was destroyed.
const TOMBSTONE: &[u8] = &[];

/// A stored entry that holds no key: the subject's sealed records came from another ledger's
/// export, and its key did not travel with them. Its records open as erased; a key made here
/// would not open them (and replay would stop on them), so none is made, and nothing new is
/// sealed for the subject. A wrapped key is 72 bytes, so this is never one.
const FOREIGN: &[u8] = b"foreign";

/// Whether `subject`'s key in `store` was destroyed by an erasure; read without the master key
/// (an import checks its lines before it opens the keys).
pub fn destroyed_in(store: &DataKeyStore, subject: &StreamId) -> Result<bool, StoreFailure> {
    Ok(store.get(subject.as_str())?.as_deref() == Some(TOMBSTONE))
}

/// Whether `subject`'s records in `store` were sealed by another ledger, whose export brought
/// them without their key (they open as erased, and nothing new is sealed for the subject);
/// read without the master key.
pub fn foreign_in(store: &DataKeyStore, subject: &StreamId) -> Result<bool, StoreFailure> {
    Ok(store.get(subject.as_str())?.as_deref() == Some(FOREIGN))
}

/// Records, durably, that `subjects`' sealed records come from another ledger, for each that has
/// no key (nor tombstone) here: an import of an export does this before it appends them, needing
/// no master key. A subject with a key keeps it.
pub fn mark_foreign<'a>(
    store: &DataKeyStore,
    subjects: impl IntoIterator<Item = &'a StreamId>,
) -> Result<(), StoreFailure> {
    let mut marks: Vec<(String, Vec<u8>)> = Vec::new();
    for subject in subjects {
        if store.get(subject.as_str())?.is_none()
            && !marks.iter().any(|(name, _)| name == subject.as_str())
        {
            marks.push((subject.as_str().to_owned(), FOREIGN.to_vec()));
        }
    }
    if !marks.is_empty() {
        store.insert_new(&marks)?;
    }
    Ok(())
}

impl KeyRing {
    /// Opens the ring over `store`, checking `master` against the stored check value (writing
    /// one for a ledger that has no keys yet).
    pub fn open(
        store: DataKeyStore,
        master: MasterKey,
        source: KeySource,
    ) -> Result<Self, KeyError> {
        match store.check()? {
            Some(check) => {
                let opened = unwrap_with(&master, &check).ok_or(KeyError::WrongMasterKey)?;
                if opened != CHECK_PLAINTEXT {
                    return Err(KeyError::WrongMasterKey);
                }
            }
            None => {
                // Entries that hold no key (tombstones, foreign markers an import wrote without
                // a master key) need no check value.
                let keys = store.all()?;
                if keys
                    .iter()
                    .any(|(_, wrapped)| wrapped != TOMBSTONE && wrapped != FOREIGN)
                {
                    return Err(KeyError::WrongMasterKey);
                }
                store.rewrap_all(&wrap_with(&master, CHECK_PLAINTEXT), &[])?;
            }
        }
        Ok(Self {
            store,
            master: Mutex::new(master),
            source,
            cache: Mutex::new(HashMap::new()),
            destroyed: AtomicU64::new(0),
        })
    }

    /// The stored payload of `event`: plain when it has no personal fields, otherwise sealed
    /// under its subject's data key (created, durably, when the subject has none yet).
    pub fn seal(&self, event_id: EventId, event: &Event) -> Result<Vec<u8>, KeyError> {
        let Some(subject) = event.data_subject() else {
            return Ok(event.encode_payload());
        };
        let key = match self.key_for_sealing(subject.as_str()) {
            Err(KeyError::Erased { .. }) if holds_nothing_personal(event) => {
                return Ok(redacted_only(event));
            }
            key => key?,
        };
        Ok(seal_with(&key, subject.as_str(), event_id, event))
    }

    /// Creates, in one durable batch, the data keys `subjects` do not have yet (an import seals
    /// thousands of customers' events; one sync for all of their new keys).
    pub fn ensure_keys<'a>(
        &self,
        subjects: impl IntoIterator<Item = &'a StreamId>,
    ) -> Result<(), KeyError> {
        let mut fresh: HashMap<String, [u8; KEY_BYTES]> = HashMap::new();
        for subject in subjects {
            let subject = subject.as_str();
            if self.cached(subject).is_some() || fresh.contains_key(subject) {
                continue;
            }
            if self.load(subject)?.is_some() {
                continue;
            }
            fresh.insert(subject.to_owned(), self.source.new_key(subject));
        }
        if fresh.is_empty() {
            return Ok(());
        }
        let master = self.master();
        let wrapped: Vec<(String, Vec<u8>)> = fresh
            .iter()
            .map(|(subject, key)| (subject.clone(), wrap_with(&master, key)))
            .collect();
        let written = self.store.insert_new(&wrapped)?;
        for subject in written {
            if let Some(key) = fresh.remove(&subject) {
                self.cache_put(&subject, CachedKey::Live(key));
            }
        }
        // A subject not written already had a key (another writer won a race) or a tombstone:
        // read back what is stored.
        for subject in fresh.keys() {
            self.forget(subject);
            self.load(subject)?;
        }
        Ok(())
    }

    /// Opens the stored payload of event `event_id`: the whole event when its key is live, the
    /// redacted event when the key was destroyed.
    pub fn open_payload(
        &self,
        event_id: EventId,
        event_type: &str,
        schema_version: u16,
        bytes: &[u8],
    ) -> Result<Opened, OpenPayloadError> {
        if bytes.first() != Some(&PAYLOAD_SEALED) {
            let event = Event::decode_payload(event_type, schema_version, bytes)?;
            return Ok(Opened {
                event,
                redacted: false,
            });
        }
        let body = decode_sealed(bytes)?;
        let mut event = Event::decode_body(event_type, schema_version, &body.redacted)?;
        // The subject is named by the facts themselves (ids are never personal).
        let subject = event
            .data_subject()
            .ok_or_else(|| OpenPayloadError::Sealed {
                subject: event.stream().to_string(),
                detail: format!("a {event_type} has no personal fields to seal"),
            })?;
        let subject = subject.as_str();
        let Some(key) = self.load(subject)? else {
            return Ok(Opened {
                event,
                redacted: true,
            });
        };
        let failed = |detail: String| OpenPayloadError::Sealed {
            subject: subject.to_owned(),
            detail,
        };
        let aad = associated_data(event_type, schema_version, subject, &body.redacted);
        let fields = cipher(&key)
            .decrypt(
                &XNonce::from(derived_nonce(subject, event_id)),
                Payload {
                    msg: &body.ciphertext,
                    aad: &aad,
                },
            )
            .map_err(|_| failed("authentication failed".into()))?;
        event
            .restore_personal(&fields)
            .map_err(|error| failed(error.to_string()))?;
        Ok(Opened {
            event,
            redacted: false,
        })
    }

    /// Marks the erasure of `subject` as started (durably), before its `CustomerErased` is
    /// appended.
    pub fn begin_erasure(&self, subject: &StreamId) -> Result<(), KeyError> {
        self.begin_erasure_decided_by(subject, subject)
    }

    /// Marks the erasure of `subject` as started (durably), to be decided by the
    /// `CustomerErased` about to be appended to `decided_by`: an enquiry linked to the customer
    /// being erased goes with the customer.
    pub fn begin_erasure_decided_by(
        &self,
        subject: &StreamId,
        decided_by: &StreamId,
    ) -> Result<(), KeyError> {
        Ok(self
            .store
            .mark_erasing(subject.as_str(), decided_by.as_str())?)
    }

    /// Marks the erasures of `subjects` as started, each decided by its own stream, durably and
    /// with one sync (the erasure events of one chunk of a bulk append).
    pub fn begin_erasures(&self, subjects: &[StreamId]) -> Result<(), KeyError> {
        let markers: Vec<(&str, &str)> = subjects
            .iter()
            .map(|subject| (subject.as_str(), subject.as_str()))
            .collect();
        Ok(self.store.mark_erasing_all(&markers)?)
    }

    /// Ends an erasure: with `recorded`, destroys the subject's key (a tombstone stays, so
    /// nothing new is sealed for it); without, forgets the marker.
    pub fn finish_erasure(&self, subject: &StreamId, recorded: bool) -> Result<(), KeyError> {
        let subject = subject.as_str();
        self.store.finish_erasing(subject, recorded)?;
        if recorded {
            self.cache_put(subject, CachedKey::Destroyed);
            self.destroyed.fetch_add(1, Ordering::SeqCst);
        }
        Ok(())
    }

    /// How many keys this ring has destroyed since it was opened. Anything that kept personal
    /// fields it opened earlier (the command handler's aggregates) drops them when this
    /// changes, so that an erased customer's fields are never used again.
    pub fn destroyed(&self) -> u64 {
        self.destroyed.load(Ordering::SeqCst)
    }

    /// The subjects whose erasure was started and not finished (after a crash).
    pub fn pending_erasures(&self) -> Result<Vec<PendingErasure>, KeyError> {
        Ok(self
            .store
            .erasing()?
            .into_iter()
            .map(|(subject, decided_by)| PendingErasure {
                subject,
                decided_by,
            })
            .collect())
    }

    /// Whether `subject`'s key was destroyed.
    pub fn is_erased(&self, subject: &StreamId) -> Result<bool, KeyError> {
        Ok(self.load(subject.as_str())?.is_none() && self.has_tombstone(subject.as_str())?)
    }

    /// Whether `subject`'s records came sealed from another ledger's export without their key
    /// ([`foreign_in`]): nothing here ever opened them.
    pub fn is_foreign(&self, subject: &StreamId) -> Result<bool, KeyError> {
        Ok(foreign_in(&self.store, subject)?)
    }

    /// Rewraps every data key under `new_master` in one atomic batch; returns how many keys.
    /// Events are not touched: they are sealed under the data keys, which do not change.
    pub fn rotate(&self, new_master: MasterKey) -> Result<usize, KeyError> {
        let old = self.master();
        let mut rewrapped = Vec::new();
        for (subject, wrapped) in self.store.all()? {
            if wrapped == TOMBSTONE || wrapped == FOREIGN {
                continue;
            }
            let key = unwrap_key(&old, &subject, &wrapped)?;
            rewrapped.push((subject, wrap_with(&new_master, &key)));
        }
        self.store
            .rewrap_all(&wrap_with(&new_master, CHECK_PLAINTEXT), &rewrapped)?;
        *self
            .master
            .lock()
            .unwrap_or_else(|poison| poison.into_inner()) = new_master;
        Ok(rewrapped.len())
    }

    fn master(&self) -> MasterKey {
        self.master
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .clone()
    }

    fn key_for_sealing(&self, subject: &str) -> Result<[u8; KEY_BYTES], KeyError> {
        if let Some(key) = self.load(subject)? {
            return Ok(key);
        }
        if let Some(CachedKey::Foreign) = self.cached(subject) {
            return Err(KeyError::Foreign {
                subject: subject.to_owned(),
            });
        }
        if self.has_tombstone(subject)? {
            return Err(KeyError::Erased {
                subject: subject.to_owned(),
            });
        }
        let subject_id = StreamId::parse("subject", subject).map_err(|_| KeyError::DamagedKey {
            subject: subject.to_owned(),
        })?;
        self.ensure_keys([&subject_id])?;
        self.load(subject)?.ok_or_else(|| KeyError::Erased {
            subject: subject.to_owned(),
        })
    }

    fn has_tombstone(&self, subject: &str) -> Result<bool, KeyError> {
        if let Some(CachedKey::Destroyed) = self.cached(subject) {
            return Ok(true);
        }
        Ok(self.store.get(subject)?.as_deref() == Some(TOMBSTONE))
    }

    /// The live key of `subject`, from the cache or the store; `None` when it has none or it
    /// was destroyed.
    fn load(&self, subject: &str) -> Result<Option<[u8; KEY_BYTES]>, KeyError> {
        match self.cached(subject) {
            Some(CachedKey::Live(key)) => return Ok(Some(key)),
            Some(CachedKey::Destroyed | CachedKey::Foreign) => return Ok(None),
            None => {}
        }
        let Some(wrapped) = self.store.get(subject)? else {
            return Ok(None);
        };
        if wrapped == TOMBSTONE {
            self.cache_put(subject, CachedKey::Destroyed);
            return Ok(None);
        }
        if wrapped == FOREIGN {
            self.cache_put(subject, CachedKey::Foreign);
            return Ok(None);
        }
        let key = unwrap_key(&self.master(), subject, &wrapped)?;
        self.cache_put(subject, CachedKey::Live(key));
        Ok(Some(key))
    }

    fn cached(&self, subject: &str) -> Option<CachedKey> {
        self.cache
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .get(subject)
            .copied()
    }

    fn cache_put(&self, subject: &str, key: CachedKey) {
        self.cache
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .insert(subject.to_owned(), key);
    }

    fn forget(&self, subject: &str) {
        self.cache
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .remove(subject);
    }
}

/// An erasure begun and not finished (after a crash): the subject whose key it destroys, and
/// the stream whose `CustomerErased` decides whether it does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingErasure {
    pub subject: String,
    pub decided_by: String,
}

/// The event a stored payload shows without any key: the whole event when it is plain, the
/// redacted event (personal fields erased) when it is sealed. For readers that need only the
/// non-personal facts (`stats`, exports).
pub fn open_redacted(
    event_type: &str,
    schema_version: u16,
    bytes: &[u8],
) -> Result<Event, PayloadError> {
    if bytes.first() != Some(&PAYLOAD_SEALED) {
        return Event::decode_payload(event_type, schema_version, bytes);
    }
    let body = decode_sealed(bytes)?;
    Event::decode_body(event_type, schema_version, &body.redacted)
}

/// The sealed body of a stored payload, or why it does not decode.
pub fn decode_sealed(bytes: &[u8]) -> Result<SealedBody, PayloadError> {
    codec::decode_versioned(PAYLOAD_SEALED, bytes).map_err(PayloadError::Codec)
}

/// Whether every personal field of `event` holds its erased value already, so sealing it would
/// seal nothing (an erased subject still takes such an event: see [`KeyRing::seal`]).
pub fn holds_nothing_personal(event: &Event) -> bool {
    let mut redacted = event.clone();
    redacted.take_personal();
    redacted == *event
}

/// The stored payload for `event`, whose personal fields are erased already, of an erased
/// subject: its redacted body and nothing sealed (see the module docs).
fn redacted_only(event: &Event) -> Vec<u8> {
    debug_assert!(holds_nothing_personal(event));
    let body = SealedBody {
        redacted: event.encode_body(),
        ciphertext: Vec::new(),
    };
    codec::encode_versioned(PAYLOAD_SEALED, &body).expect("a sealed body always encodes")
}

/// The stored payload for `event` with its personal fields sealed under `key`.
fn seal_with(key: &[u8; KEY_BYTES], subject: &str, event_id: EventId, event: &Event) -> Vec<u8> {
    let mut redacted = event.clone();
    let fields = redacted.take_personal().unwrap_or_default();
    let redacted = redacted.encode_body();
    let aad = associated_data(
        event.event_type(),
        event.schema_version(),
        subject,
        &redacted,
    );
    let nonce = derived_nonce(subject, event_id);
    let ciphertext = cipher(key)
        .encrypt(
            &XNonce::from(nonce),
            Payload {
                msg: &fields,
                aad: &aad,
            },
        )
        .expect("XChaCha20-Poly1305 encrypts any message shorter than 256 GiB");
    let body = SealedBody {
        redacted,
        ciphertext,
    };
    codec::encode_versioned(PAYLOAD_SEALED, &body).expect("a sealed body always encodes")
}

fn associated_data(
    event_type: &str,
    schema_version: u16,
    subject: &str,
    redacted: &[u8],
) -> Vec<u8> {
    codec::encode(&(event_type, schema_version, subject, redacted))
        .expect("associated data always encodes")
}

fn derived_nonce(subject: &str, event_id: EventId) -> [u8; NONCE_BYTES] {
    let mut material = subject.as_bytes().to_vec();
    material.push(0);
    material.extend_from_slice(event_id.as_uuid().as_bytes());
    let derived = blake3::derive_key(NONCE_CONTEXT, &material);
    let mut nonce = [0; NONCE_BYTES];
    nonce.copy_from_slice(&derived[..NONCE_BYTES]);
    nonce
}

fn cipher(key: &[u8; KEY_BYTES]) -> XChaCha20Poly1305 {
    XChaCha20Poly1305::new_from_slice(key).expect("a 32-byte key is an XChaCha20-Poly1305 key")
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0; N];
    getrandom::fill(&mut bytes).expect("the operating system's random generator is available");
    bytes
}

/// `nonce ‖ ciphertext` of `plaintext` under the master key, with a random nonce.
fn wrap_with(master: &MasterKey, plaintext: &[u8]) -> Vec<u8> {
    let nonce: [u8; NONCE_BYTES] = random_bytes();
    let mut wrapped = nonce.to_vec();
    wrapped.extend(
        master
            .cipher()
            .encrypt(&XNonce::from(nonce), plaintext)
            .expect("XChaCha20-Poly1305 encrypts a key"),
    );
    wrapped
}

fn unwrap_with(master: &MasterKey, wrapped: &[u8]) -> Option<Vec<u8>> {
    let (nonce, ciphertext) = wrapped.split_first_chunk::<NONCE_BYTES>()?;
    master
        .cipher()
        .decrypt(&XNonce::from(*nonce), ciphertext)
        .ok()
}

fn unwrap_key(
    master: &MasterKey,
    subject: &str,
    wrapped: &[u8],
) -> Result<[u8; KEY_BYTES], KeyError> {
    let damaged = || KeyError::DamagedKey {
        subject: subject.to_owned(),
    };
    let key = unwrap_with(master, wrapped).ok_or_else(damaged)?;
    key.try_into().map_err(|_| damaged())
}

#[cfg(test)]
mod tests;
