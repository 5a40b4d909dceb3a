package auth

import (
	"fmt"
	"net/http"

	"github.com/clerk-mcp/clerk-mcp/envelope"
)

const remedyLogin = "Ask the user to run `clerk-mcp login` in a terminal, then retry."

// The session errors. Their fields are written for the agent and the
// user; Err holds the cause for logs and never contains a token.

func errNotLoggedIn() *envelope.Error {
	return &envelope.Error{
		Reason:  envelope.ReasonNotLoggedIn,
		Message: "Not logged in to Clerk.",
		Remedy:  remedyLogin,
	}
}

func errSessionExpired(why string, cause error) *envelope.Error {
	return &envelope.Error{
		Reason:  envelope.ReasonSessionExpired,
		Message: "Your Clerk session has expired" + why + ".",
		Remedy:  remedyLogin,
		Err:     cause,
	}
}

func errRefreshFailed(msg string, cause error) *envelope.Error {
	return &envelope.Error{
		Reason:    envelope.ReasonRefreshFailed,
		Message:   msg,
		Remedy:    "Retry in a few seconds; the session is kept. If it keeps failing, run `clerk-mcp doctor`.",
		Retryable: true,
		Err:       cause,
	}
}

func errStore(cause error) *envelope.Error {
	return &envelope.Error{
		Reason:  envelope.ReasonStoreUnavailable,
		Message: "The Clerk session store cannot be used: " + cause.Error(),
		Remedy: "Ask the user to run `clerk-mcp doctor`. If the session file is corrupted, " +
			"`clerk-mcp logout` removes it and `clerk-mcp login` creates a new one.",
		Err: cause,
	}
}

// Envelope describes an error answer from an OAuth endpoint.
func (e *StatusError) Envelope() *envelope.Error {
	return &envelope.Error{
		Reason:    envelope.ReasonAPIError,
		Message:   fmt.Sprintf("Clerk's %s endpoint answered %d %s.", e.Endpoint, e.Status, http.StatusText(e.Status)),
		Remedy:    "Retry later; if it persists, run `clerk-mcp doctor`.",
		Retryable: e.Status == http.StatusTooManyRequests || e.Status >= 500,
		Status:    e.Status,
	}
}

// Envelope describes a refused redirect. Retryable: a captive portal
// redirects everything until the user signs in to it.
func (e *RedirectError) Envelope() *envelope.Error {
	return &envelope.Error{
		Reason: envelope.ReasonNetworkError,
		Message: fmt.Sprintf("Clerk's answer redirected (%d) to %s; clerk-mcp does not follow redirects with credentials, "+
			"so nothing was sent there.", e.Status, e.Location),
		Remedy:    "Check for a captive portal or proxy on this network and the configured Clerk URLs, then retry.",
		Retryable: true,
		Status:    e.Status,
	}
}
