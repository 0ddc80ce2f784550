//! What `orderdesk-mcp token create|list|revoke` does for the tenant whose master key
//! the operator gives: sign in, act through the vault, audit with source `cli`. The vault
//! writes the row of a token made or revoked in the change's own transaction; a failure
//! gets its row here, as does every listing.
//!
//! Everything here blocks (bcrypt, SQLite): call it from `spawn_blocking`.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use orderdesk_vault::{
    AccessTokenRecord, AuditSource, NewAccessToken, StoreRecord, TenantSession, TokenScope, Vault,
};
use secrecy::SecretString;
use serde::Serialize;
use serde_json::json;

use super::admin::CliOp;

/// How long a token works unless the operator says otherwise.
pub const DEFAULT_TOKEN_LIFETIME: &str = "90d";

/// A token's lifetime as `--expires` takes it: `30d`, `12h`, `90m` or `never`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenLifetime(pub Option<Duration>);

impl FromStr for TokenLifetime {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("never") {
            return Ok(TokenLifetime(None));
        }
        let bad = || {
            format!(
                "'{text}' is not a lifetime: give a whole number of days, hours or minutes \
                 (`30d`, `12h`, `90m`), or `never`"
            )
        };
        let split = text.len().checked_sub(1).ok_or_else(bad)?;
        let (number, unit) = text.split_at_checked(split).ok_or_else(bad)?;
        let unit_secs = match unit {
            "d" => 24 * 3600,
            "h" => 3600,
            "m" => 60,
            _ => return Err(bad()),
        };
        let number: u64 = number
            .parse()
            .ok()
            .filter(|n| *n > 0 && number.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(bad)?;
        let secs = number
            .checked_mul(unit_secs)
            .filter(|s| *s <= 100 * 365 * 24 * 3600)
            .ok_or_else(|| format!("'{text}' is longer than 100 years: give `never` instead"))?;
        Ok(TokenLifetime(Some(Duration::from_secs(secs))))
    }
}

impl fmt::Display for TokenLifetime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            None => f.write_str("never"),
            Some(d) => {
                let secs = d.as_secs();
                if secs % (24 * 3600) == 0 {
                    write!(f, "{}d", secs / (24 * 3600))
                } else if secs % 3600 == 0 {
                    write!(f, "{}h", secs / 3600)
                } else {
                    write!(f, "{}m", secs.div_ceil(60))
                }
            }
        }
    }
}

/// What `token create` asks for.
#[derive(Clone, Debug)]
pub struct TokenRequest {
    pub scope: TokenScope,
    /// The one store (by name or OrderDesk id) the token is for; `None`: every store.
    pub store: Option<String>,
    pub lifetime: TokenLifetime,
    pub label: Option<String>,
}

/// A token as `token list` shows it: its record, the name of its store, and whether it
/// has expired. Never the token itself.
#[derive(Clone, Debug, Serialize)]
pub struct TokenListing {
    #[serde(flatten)]
    pub record: AccessTokenRecord,
    /// The name of `record.store_id`; `None` for a token of every store, or when that
    /// store was removed since.
    pub store_name: Option<String>,
    pub expired: bool,
}

impl TokenListing {
    fn new(record: AccessTokenRecord, stores: &[StoreRecord]) -> TokenListing {
        let store_name = record.store_id.as_ref().and_then(|id| {
            stores
                .iter()
                .find(|s| &s.store_id == id)
                .map(|s| s.name.clone())
        });
        // The vault's timestamps are `YYYY-MM-DD HH:MM:SS` UTC: they order as text.
        let expired = record
            .expires_at
            .as_ref()
            .is_some_and(|at| *at <= orderdesk_vault::utc_now());
        TokenListing {
            record,
            store_name,
            expired,
        }
    }
}

/// A token just made: the token text (to show once) and its listing.
pub struct CreatedToken {
    pub token: SecretString,
    pub listing: TokenListing,
}

/// Make an access token for the tenant of `master_key` (`token create`).
pub fn create_token(
    vault: &Vault,
    master_key: &SecretString,
    request: &TokenRequest,
) -> anyhow::Result<CreatedToken> {
    let op = CliOp::new(
        "token create",
        json!({
            "scope": request.scope,
            "store": request.store,
            "expires": request.lifetime.to_string(),
            "label": request.label,
        }),
    );
    let (op, tenant) = sign_in(vault, master_key, op);
    let tenant = match tenant {
        Ok(tenant) => tenant,
        Err(error) => return op.finish_failure(vault, Err(error)),
    };
    let store = match &request.store {
        Some(identifier) => match vault.resolve_store(tenant.tenant_id(), identifier) {
            Ok((store, _)) => Some(store),
            Err(error) => {
                let error = anyhow::Error::from(error).context(
                    "--store names none of the tenant's stores (`orderdesk-mcp stores list` \
                     shows them)",
                );
                return op.finish_failure(vault, Err(error));
            }
        },
        None => None,
    };
    let op = match &store {
        Some(store) => op.store(store.store_id.clone()),
        None => op,
    };
    let new = NewAccessToken {
        scope: request.scope,
        store_id: store.as_ref().map(|s| s.store_id.clone()),
        expires_in: request.lifetime.0,
        label: request.label.clone(),
    };
    let created = vault
        .create_access_token(&tenant, &new, AuditSource::Cli)
        .map(|(token, record)| CreatedToken {
            token,
            listing: TokenListing::new(record, store.as_slice()),
        })
        .map_err(Into::into);
    op.finish_failure(vault, created)
}

/// The access tokens of the tenant of `master_key` (`token list`), oldest first.
pub fn list_tokens(vault: &Vault, master_key: &SecretString) -> anyhow::Result<Vec<TokenListing>> {
    let op = CliOp::new("token list", json!({}));
    let (op, tenant) = sign_in(vault, master_key, op);
    let tenant = match tenant {
        Ok(tenant) => tenant,
        Err(error) => return op.finish(vault, Err(error)),
    };
    let id = tenant.tenant_id();
    let listed = vault.list_stores(id).and_then(|stores| {
        Ok(vault
            .list_access_tokens(id)?
            .into_iter()
            .map(|record| TokenListing::new(record, &stores))
            .collect())
    });
    op.finish(vault, listed.map_err(Into::into))
}

/// What `token revoke` did.
#[derive(Clone, Debug)]
pub struct TokenRevocation {
    /// The token now (`revoked_at` set).
    pub record: AccessTokenRecord,
    /// It had been revoked before: nothing changed.
    pub already_revoked: bool,
}

/// Revoke one of the access tokens of the tenant of `master_key` by id (`token
/// revoke`). Revoking a revoked token changes nothing.
pub fn revoke_token(
    vault: &Vault,
    master_key: &SecretString,
    token_id: &str,
) -> anyhow::Result<TokenRevocation> {
    // `id`, not `token_id`: a field named like a secret would be redacted whole, and a
    // token pasted by mistake is masked in the text anyway.
    let op = CliOp::new("token revoke", json!({"id": token_id}));
    let (op, tenant) = sign_in(vault, master_key, op);
    let tenant = match tenant {
        Ok(tenant) => tenant,
        Err(error) => return op.finish_failure(vault, Err(error)),
    };
    let id = tenant.tenant_id();
    let revoked = vault.list_access_tokens(id).and_then(|tokens| {
        let before = tokens.iter().find(|t| t.token_id == token_id.trim());
        let already_revoked = before.is_some_and(|t| t.revoked_at.is_some());
        let record = vault.revoke_access_token(id, token_id, AuditSource::Cli)?;
        Ok(TokenRevocation {
            record,
            already_revoked,
        })
    });
    op.finish_failure(vault, revoked.map_err(Into::into))
}

/// Sign in with the operator's master key; the audit row then names the tenant.
fn sign_in(
    vault: &Vault,
    master_key: &SecretString,
    op: CliOp,
) -> (CliOp, anyhow::Result<TenantSession>) {
    match vault.authenticate(master_key) {
        Ok(tenant) => (op.tenant(tenant.tenant_id().as_str()), Ok(tenant)),
        Err(error) => (
            op,
            Err(anyhow::Error::from(error).context("ORDERDESK_MCP_MASTER_KEY was not accepted")),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetimes_are_days_hours_minutes_or_never() {
        let secs = |text: &str| {
            text.parse::<TokenLifetime>()
                .map(|l| l.0.map(|d| d.as_secs()))
        };
        assert_eq!(secs("30d"), Ok(Some(30 * 24 * 3600)));
        assert_eq!(secs(" 12h "), Ok(Some(12 * 3600)));
        assert_eq!(secs("90m"), Ok(Some(90 * 60)));
        assert_eq!(secs("never"), Ok(None));
        assert_eq!(secs("NEVER"), Ok(None));
        for bad in [
            "", "d", "30", "30s", "0d", "-1d", "+1d", "1.5d", "30 d", "1w", "ten", "30D",
        ] {
            let error = secs(bad).unwrap_err();
            assert!(
                error.contains("30d") || error.contains("100 years"),
                "{bad}: {error}"
            );
        }
        assert!(secs("99999999999d").unwrap_err().contains("never"));
        for text in ["90d", "12h", "90m", "never"] {
            assert_eq!(text.parse::<TokenLifetime>().unwrap().to_string(), text);
        }
        assert_eq!(
            DEFAULT_TOKEN_LIFETIME.parse::<TokenLifetime>().unwrap(),
            TokenLifetime(Some(Duration::from_secs(90 * 24 * 3600)))
        );
    }
}
