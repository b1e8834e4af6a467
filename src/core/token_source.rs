//! A shared source of valid access tokens: mints on first use, caches, and
//! refreshes ahead of expiry, with one request however many threads ask.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::client::Client;
use super::error::Error;
use super::token::Token;

/// How long before expiry a token is replaced by default.
pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(60);

#[derive(Debug)]
pub struct TokenSource {
    client: Arc<Client>,
    scope: String,
    refresh_margin: Duration,
    revoke_on_drop: bool,
    /// The token in use. The lock is held while a new one is minted, so
    /// threads that ask meanwhile wait for it instead of minting their own.
    current: Mutex<Option<Token>>,
}

impl TokenSource {
    /// A source of tokens with these scopes (a list, or space-separated
    /// strings). Mints nothing until a token is asked for.
    pub fn new<S: AsRef<str>>(client: Arc<Client>, scopes: &[S]) -> Result<TokenSource, Error> {
        let scope = client.checked_scope(scopes)?;
        Ok(TokenSource {
            client,
            scope,
            refresh_margin: DEFAULT_REFRESH_MARGIN,
            revoke_on_drop: true,
            current: Mutex::new(None),
        })
    }

    /// Replace tokens this long before they expire (default 60 s). The
    /// margin used never exceeds half a token's lifetime, so short-lived
    /// tokens are not replaced on every call.
    pub fn set_refresh_margin(&mut self, margin: Duration) {
        self.refresh_margin = margin;
    }

    /// Revoke the token this source minted when it is dropped (default on),
    /// so that restarts do not pile up live tokens toward the project's cap.
    pub fn set_revoke_on_drop(&mut self, revoke: bool) {
        self.revoke_on_drop = revoke;
    }

    /// A token that is valid for at least the refresh margin, minting one
    /// if needed. If minting fails while the current token has not expired
    /// yet, that token is handed out and the next call tries again.
    pub fn token(&self) -> Result<Token, Error> {
        let mut current = self.lock();
        let now = Instant::now();
        match current.as_ref() {
            Some(token) if now + self.margin_for(token) < token.expires() => Ok(token.clone()),
            Some(token) if now < token.expires() => {
                let still_valid = token.clone();
                Ok(self.mint_into(&mut current).unwrap_or(still_valid))
            }
            _ => self.mint_into(&mut current),
        }
    }

    /// Mints a new token now, whatever the state of the current one: for a
    /// caller whose request was answered 401 with the current token.
    pub fn refresh(&self) -> Result<Token, Error> {
        self.mint_into(&mut self.lock())
    }

    fn mint_into(&self, current: &mut Option<Token>) -> Result<Token, Error> {
        let token = self.client.generate_token(&[&self.scope])?;
        *current = Some(token.clone());
        Ok(token)
    }

    fn margin_for(&self, token: &Token) -> Duration {
        self.refresh_margin.min(token.lifetime() / 2)
    }

    fn lock(&self) -> MutexGuard<'_, Option<Token>> {
        // A panic while minting leaves at worst no token or the old one.
        self.current.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Drop for TokenSource {
    fn drop(&mut self) {
        if !self.revoke_on_drop {
            return;
        }
        let current = self.current.get_mut().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(token) = current.filter(|t| Instant::now() < t.expires()) {
            // Best effort: the token expires by itself if this fails.
            let _ = self.client.revoke_token(&token.access_token);
        }
    }
}
