//! `ledger.toml`: where the server listens, who may call it, and its limits.
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
//! ```
//!
//! When no config exists, `serve` writes one with a random token per role and prints the
//! tokens once. A config that does not parse, or breaks a rule, stops the server with an error
//! naming the key.

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
        Ok(())
    }

    /// Reads the config at `path`.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Read {
            path: path.display().to_string(),
            message: error.to_string(),
        })?;
        Self::parse(path, &text)
    }

    /// A new config with one random token per role (subjects `demo-agent`, `demo-admin` ...).
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
            "# contact-ledger server configuration. Written on first start with a random token per\n# role; keep it private. Roles: agent | supervisor | analyst | auditor | admin.\n\n{body}"
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
