package auth

import (
	"errors"
	"fmt"
	"net/http"
)

// Reason is a machine-readable cause that an agent can act on.
type Reason string

// The reasons of the error envelope (DESIGN.md, "Errors the agent can act on").
const (
	ReasonNotLoggedIn      Reason = "not_logged_in"
	ReasonSessionExpired   Reason = "session_expired"
	ReasonRefreshFailed    Reason = "refresh_failed"
	ReasonStoreUnavailable Reason = "store_unavailable"
	ReasonInvalidInput     Reason = "invalid_input"
	ReasonReadOnly         Reason = "read_only"
	ReasonMissingSecretKey Reason = "missing_secret_key"
	ReasonAPIError         Reason = "api_error"
	ReasonNetworkError     Reason = "network_error"
)

const remedyLogin = "Ask the user to run `clerk-mcp login` in a terminal, then retry."

// AuthError is a failure to obtain a usable access token. Its fields are
// written for the agent and the user; Err holds the cause for logs and
// never contains a token.
type AuthError struct {
	Reason    Reason `json:"reason"`
	Message   string `json:"message"`
	Remedy    string `json:"remedy"`
	Retryable bool   `json:"retryable"`
	Err       error  `json:"-"`
}

func (e *AuthError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %v", e.Message, e.Err)
	}
	return e.Message
}

func (e *AuthError) Unwrap() error { return e.Err }

func errNotLoggedIn() *AuthError {
	return &AuthError{
		Reason:  ReasonNotLoggedIn,
		Message: "Not logged in to Clerk.",
		Remedy:  remedyLogin,
	}
}

func errSessionExpired(why string, cause error) *AuthError {
	return &AuthError{
		Reason:  ReasonSessionExpired,
		Message: "Your Clerk session has expired" + why + ".",
		Remedy:  remedyLogin,
		Err:     cause,
	}
}

func errRefreshFailed(msg string, cause error) *AuthError {
	return &AuthError{
		Reason:    ReasonRefreshFailed,
		Message:   msg,
		Remedy:    "Retry in a few seconds; the session is kept. If it keeps failing, run `clerk-mcp doctor`.",
		Retryable: true,
		Err:       cause,
	}
}

func errStore(cause error) *AuthError {
	return &AuthError{
		Reason:  ReasonStoreUnavailable,
		Message: "The Clerk session store cannot be used: " + cause.Error(),
		Remedy: "Ask the user to run `clerk-mcp doctor`. If the session file is corrupted, " +
			"`clerk-mcp logout` removes it and `clerk-mcp login` creates a new one.",
		Err: cause,
	}
}

// AsAuthError returns err as an *AuthError, classifying errors that are not
// one: HTTP status errors become api_error, network failures network_error.
func AsAuthError(err error) *AuthError {
	var ae *AuthError
	if errors.As(err, &ae) {
		return ae
	}
	var se *StatusError
	if errors.As(err, &se) {
		return &AuthError{
			Reason:    ReasonAPIError,
			Message:   fmt.Sprintf("Clerk's %s endpoint answered %d %s.", se.Endpoint, se.Status, http.StatusText(se.Status)),
			Remedy:    "Retry later; if it persists, run `clerk-mcp doctor`.",
			Retryable: se.Status == http.StatusTooManyRequests || se.Status >= 500,
			Err:       err,
		}
	}
	if re, ok := asRedirect(err); ok {
		// Retryable: a captive portal redirects everything until the user
		// signs in to it.
		return &AuthError{
			Reason:    ReasonNetworkError,
			Message:   fmt.Sprintf("Clerk's answer redirected (%d) to %s; clerk-mcp does not follow redirects with credentials, so nothing was sent there.", re.Status, re.Location),
			Remedy:    "Check for a captive portal or proxy on this network and the configured Clerk URLs, then retry.",
			Retryable: true,
			Err:       err,
		}
	}
	if isNetworkError(err) {
		return &AuthError{
			Reason:    ReasonNetworkError,
			Message:   "Could not reach Clerk: " + cleanError(err).Error(),
			Remedy:    "Check the network connection and CLERK_OAUTH_BASE_URL, then retry.",
			Retryable: true,
			Err:       err,
		}
	}
	return &AuthError{
		Reason:  ReasonAPIError,
		Message: cleanError(err).Error(),
		Remedy:  "Run `clerk-mcp doctor` to diagnose.",
		Err:     err,
	}
}
