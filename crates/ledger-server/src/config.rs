//! `ledger.toml`: where the server listens, who may call it, its limits, and the key that
//! signs Merkle checkpoints.
//!
//! ```toml
//! [server]
//! listen = "127.0.0.1:8080"
//! introspection = true
//!
//! [[auth.tokens]]
//! token = "…"          # bearer token
//! role = "agent"       # agent | supervisor | analyst | auditor | admin
//! subject = "agent-0042"
//!
//! [proofs]
//! signing_key = "…"    # optional: the Ed25519 seed, 64 hex digits (or 32 bytes in base64)
//! ```
//!
//! When no config exists, `serve` writes one with a random token per role and a random
//! checkpoint signing key, and prints the tokens once. The key's seed is two UUID v4s, like the
//! tokens: 244 bits from the operating system's generator (each UUID fixes 6 of its 128 bits),
//! well above Ed25519's 128-bit security level. A config without `[proofs]` serves everything
//! but `signedCheckpoint` (and `contact-ledger proof checkpoint`), which then say no key is
//! configured; `serve` never adds a key to an existing config. The public key an auditor needs
//! is printed when `serve` starts and is in every signed checkpoint.
//!
//! A config that does not parse, or breaks a rule, stops the server with an error naming the
//! key (never echoing a signing key's text).

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// Tokens shorter than this are refused: a bearer token is a password.
pub const TOKEN_CHARS_MIN: usize = 24;

/// The roles a token can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RoleName {
    Agent,
    Supervisor,
    Analyst,
    Auditor,
    Admin,
}

impl RoleName {
    pub const ALL: [Self; 5] = [
        Self::Agent,
        Self::Supervisor,
        Self::Analyst,
        Self::Auditor,
        Self::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Agent => "agent",
            Self::Supervisor => "supervisor",
            Self::Analyst => "analyst",
            Self::Auditor => "auditor",
            Self::Admin => "admin",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub server: ServerConfig,
    #[serde(default)]
    pub auth: AuthConfig,
    #[serde(default)]
    pub proofs: ProofsConfig,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// Whether the schema may be introspected (GraphiQL's docs and completion need it).
    #[serde(default = "default_true")]
    pub introspection: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: default_listen(),
            introspection: true,
        }
    }
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8080))
}

fn default_true() -> bool {
    true
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    #[serde(default)]
    pub tokens: Vec<TokenConfig>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenConfig {
    pub token: String,
    pub role: RoleName,
    pub subject: String,
}

/// Auditor proofs: the key signed checkpoints are signed with.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProofsConfig {
    /// The Ed25519 seed, 64 hex digits or 32 bytes in standard base64.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_key: Option<SecretText>,
}

/// Text that must not be shown: its `Debug` prints a placeholder.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SecretText(String);

impl SecretText {
    pub fn new(text: impl Into<String>) -> Self {
        Self(text.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SecretText {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("SecretText(..)")
    }
}

/// A config that cannot be used, naming the key and the rule.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {message}")]
    Read { path: String, message: String },
    #[error("{path}: {message}")]
    Parse { path: String, message: String },
    #[error("{path}: {key}: {rule}")]
    Rule {
        path: String,
        key: String,
        rule: String,
    },
    #[error("cannot write {path}: {message}")]
    Write { path: String, message: String },
}

impl Config {
    /// Parses and checks a config; `path` names it in errors.
    pub fn parse(path: &Path, text: &str) -> Result<Self, ConfigError> {
        let shown = path.display().to_string();
        let config: Self = toml::from_str(text).map_err(|error| ConfigError::Parse {
            path: shown.clone(),
            message: error.to_string(),
        })?;
        config.check(&shown)?;
        Ok(config)
    }

    fn check(&self, path: &str) -> Result<(), ConfigError> {
        let rule = |key: String, rule: &str| ConfigError::Rule {
            path: path.to_owned(),
            key,
            rule: rule.to_owned(),
        };
        let mut seen = HashSet::new();
        for (index, token) in self.auth.tokens.iter().enumerate() {
            if token.token.chars().count() < TOKEN_CHARS_MIN
                || token.token.chars().any(char::is_whitespace)
            {
                return Err(rule(
                    format!("auth.tokens[{index}].token"),
                    &format!("a token is at least {TOKEN_CHARS_MIN} characters without spaces"),
                ));
            }
            if !seen.insert(token.token.as_str()) {
                return Err(rule(
                    format!("auth.tokens[{index}].token"),
                    "each token must be different",
                ));
            }
            if ledger_domain::ids::StaffId::parse("subject", &token.subject).is_err() {
                return Err(rule(
                    format!("auth.tokens[{index}].subject"),
                    "a subject is 1 to 64 characters of letters, digits and . _ - : @",
                ));
            }
        }
        if let Err(error) = self.checkpoint_key() {
            return Err(rule("proofs.signing_key".to_owned(), &error.to_string()));
        }
        Ok(())
    }

    /// The checkpoint signing key, when `[proofs] signing_key` is set. The error says what a
    /// key looks like without showing the text.
    pub fn checkpoint_key(
        &self,
    ) -> Result<Option<ledger_proof::SigningKey>, ledger_proof::KeyError> {
        self.proofs
            .signing_key
            .as_ref()
            .map(|text| ledger_proof::parse_signing_key(text.expose()))
            .transpose()
    }

    /// Reads the config at `path`.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Read {
            path: path.display().to_string(),
            message: error.to_string(),
        })?;
        Self::parse(path, &text)
    }

    /// A new config with one random token per role (subjects `demo-agent`, `demo-admin` ...) and
    /// a random checkpoint signing key.
    pub fn generate() -> Self {
        let tokens = RoleName::ALL
            .iter()
            .map(|&role| TokenConfig {
                token: random_token(),
                role,
                subject: format!("demo-{}", role.as_str()),
            })
            .collect();
        Self {
            server: ServerConfig::default(),
            auth: AuthConfig { tokens },
            proofs: ProofsConfig {
                // The token generator's 64 hex digits are also an Ed25519 seed (see the module docs).
                signing_key: Some(SecretText::new(random_token())),
            },
        }
    }

    /// Writes the config to `path` (readable by its owner only), failing if it exists.
    pub fn write_new(&self, path: &Path) -> Result<(), ConfigError> {
        let shown = path.display().to_string();
        let failed = |error: std::io::Error| ConfigError::Write {
            path: shown.clone(),
            message: error.to_string(),
        };
        let body = toml::to_string_pretty(self).map_err(|error| ConfigError::Write {
            path: shown.clone(),
            message: error.to_string(),
        })?;
        let text = format!(
            "# contact-ledger server configuration. Written on first start with a random token per\n# role and a random checkpoint signing key ([proofs] signing_key, an Ed25519 seed); keep it\n# private. Roles: agent | supervisor | analyst | auditor | admin.\n\n{body}"
        );
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(failed)?;
        }
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(path).map_err(failed)?;
        std::io::Write::write_all(&mut file, text.as_bytes()).map_err(failed)?;
        file.sync_all().map_err(failed)
    }
}

/// 32 random bytes as 64 hex characters, from the operating system's generator (via UUID v4,
/// which draws from it).
fn random_token() -> String {
    let first = uuid::Uuid::new_v4();
    let second = uuid::Uuid::new_v4();
    format!("{}{}", first.simple(), second.simple())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_config_round_trips_and_has_every_role() {
        let config = Config::generate();
        let text = toml::to_string_pretty(&config).unwrap();
        let parsed = Config::parse(Path::new("ledger.toml"), &text).unwrap();
        assert_eq!(parsed, config);
        let roles: HashSet<RoleName> = parsed.auth.tokens.iter().map(|token| token.role).collect();
        assert_eq!(roles.len(), RoleName::ALL.len());
        let key = parsed
            .checkpoint_key()
            .unwrap()
            .expect("a generated config has a key");
        assert_ne!(
            Some(key.to_bytes()),
            Config::generate()
                .checkpoint_key()
                .unwrap()
                .map(|other| other.to_bytes()),
            "each generated key is different"
        );
        assert!(text.contains("[proofs]\nsigning_key = \""), "{text}");
        assert!(
            !format!("{parsed:?}").contains(parsed.proofs.signing_key.as_ref().unwrap().expose())
        );
    }

    #[test]
    fn the_signing_key_is_optional_and_checked_without_being_echoed() {
        let none = Config::parse(Path::new("x.toml"), "[server]\n").unwrap();
        assert!(none.checkpoint_key().unwrap().is_none());
        let seed = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
        let hex = Config::parse(
            Path::new("x.toml"),
            &format!("[proofs]\nsigning_key = \"{seed}\"\n"),
        )
        .unwrap();
        assert!(hex.checkpoint_key().unwrap().is_some());
        let short = &seed[..40];
        let error = Config::parse(
            Path::new("x.toml"),
            &format!("[proofs]\nsigning_key = \"{short}\"\n"),
        )
        .unwrap_err()
        .to_string();
        assert!(
            error.contains("proofs.signing_key: an Ed25519 key is 32 bytes"),
            "{error}"
        );
        assert!(!error.contains(short), "{error}");
        let typo = Config::parse(Path::new("x.toml"), "[proofs]\nsigning_kye = \"x\"\n")
            .unwrap_err()
            .to_string();
        assert!(typo.contains("signing_kye"), "{typo}");
    }

    #[test]
    fn bad_configs_name_the_key_and_rule() {
        let short = "[[auth.tokens]]\ntoken = \"short\"\nrole = \"agent\"\nsubject = \"a\"\n";
        let error = Config::parse(Path::new("x.toml"), short)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("auth.tokens[0].token: a token is at least 24"),
            "{error}"
        );
        let unknown_role = "[[auth.tokens]]\ntoken = \"0123456789abcdef0123456789\"\nrole = \"janitor\"\nsubject = \"a\"\n";
        let error = Config::parse(Path::new("x.toml"), unknown_role)
            .unwrap_err()
            .to_string();
        assert!(error.contains("janitor"), "{error}");
        let typo = "[server]\nlisten = \"127.0.0.1:1\"\nlistne = 1\n";
        let error = Config::parse(Path::new("x.toml"), typo)
            .unwrap_err()
            .to_string();
        assert!(error.contains("listne"), "{error}");
    }
}
