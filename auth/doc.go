// Package auth implements clerk-mcp's side of OAuth with Clerk: configuration,
// the browser PKCE login, the token endpoint client, and Source, which hands
// out access tokens and refreshes them safely across goroutines and
// processes.
//
// # Refresh rules
//
// Clerk rotates refresh tokens and refuses one used twice, so refreshing is
// where sessions get lost. Source keeps the rules below; a comment that
// cites "refresh rule N" means this list, which is the one in the
// "Sessions and refresh" section of docs/design.md, numbered alike.
//
//  1. One refresh per session per process at a time; concurrent callers
//     wait for it and share its result.
//  2. Across processes, a lock file in the config directory is held over
//     re-read, refresh and persist. The wait is bounded; running out of
//     time is a retryable error, never a refresh without the lock.
//  3. Under the lock, the store is read again first. If it holds a
//     different, unexpired access token than the one that prompted the
//     refresh, another process already refreshed: use that token, call
//     nobody.
//  4. The new session is persisted before anyone uses it, atomically. If
//     the write fails, the session is kept in memory, doctor says so
//     (Source.PendingWrite), and the write is retried.
//  5. A 401 on a token believed valid forces one refresh (subject to
//     rule 3) and one retry.
//  6. invalid_grant deletes the stored session only if it still holds the
//     refused refresh token. Other 4xx answers keep it (session_expired);
//     5xx, 429, timeouts and network errors keep it and are retryable
//     (refresh_failed).
//  7. Every HTTP call has a timeout and the caller's context, but the
//     shared refresh runs detached from any one caller: a cancelled call
//     never abandons a rotation half-way.
//  8. x/oauth2 must not retry a failed refresh in another auth style (that
//     spends the refresh token twice): the endpoint's auth style is fixed.
//  9. A running process notices a login or logout done in another one
//     without a restart: every save or delete changes the store's Version.
//
// Each profile has its own session, lock and version marker, so the rules
// hold per profile and two profiles never wait for each other.
package auth
