// Package envelope is clerk-mcp's error envelope: the one shape in which a
// failure reaches an agent (the text of an isError tool result) and a
// script (`--json` output of a failed command):
//
//	{"error": {"reason": "session_expired", "message": "...", "remedy": "...", "retryable": false}}
//
// Every package that fails in a way an agent can act on returns an *Error;
// everything else is classified by From. The reason says what happened,
// the remedy what the agent should do next.
package envelope

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"

	"github.com/clerk-mcp/clerk-mcp/internal/safetext"
)

// Reason is a machine-readable cause that an agent can act on.
type Reason string

// The reasons. Agents branch on these strings: never rename one.
const (
	ReasonNotLoggedIn          Reason = "not_logged_in"
	ReasonSessionExpired       Reason = "session_expired"
	ReasonRefreshFailed        Reason = "refresh_failed"
	ReasonStoreUnavailable     Reason = "store_unavailable"
	ReasonInvalidInput         Reason = "invalid_input"
	ReasonReadOnly             Reason = "read_only"
	ReasonMissingSecretKey     Reason = "missing_secret_key"
	ReasonAPIError             Reason = "api_error"
	ReasonNetworkError         Reason = "network_error"
	ReasonDeclined             Reason = "declined"
	ReasonConfirmationRequired Reason = "confirmation_required"
	// ReasonBusy: too many calls in flight; retry shortly.
	ReasonBusy Reason = "busy"
	// ReasonInternal marks a bug in clerk-mcp, such as a panic in a tool.
	ReasonInternal Reason = "internal_error"
)

// Confirmation is what an agent needs to repeat a call after the user
// agreed to it.
type Confirmation struct {
	Summary string `json:"summary"`
	Token   string `json:"token"`
}

// Error is a failure written for the agent and the user. Err holds the
// cause for logs; it is never serialized and never contains a credential.
type Error struct {
	Reason    Reason `json:"reason"`
	Message   string `json:"message"`
	Remedy    string `json:"remedy"`
	Retryable bool   `json:"retryable"`

	// Status, Errors and TraceID describe an error answer from Clerk.
	Status  int             `json:"status,omitempty"`
	Errors  json.RawMessage `json:"errors,omitempty"`
	TraceID string          `json:"clerk_trace_id,omitempty"`

	// Issuer, Profile and Store say where a session was looked for, so
	// that an editor started with another environment than the user's
	// shell is recognized.
	Issuer  string `json:"issuer,omitempty"`
	Profile string `json:"profile,omitempty"`
	Store   string `json:"store,omitempty"`

	// LoginURL and LoginExpiresAt (RFC 3339) offer a login the user can
	// complete in a browser.
	LoginURL       string `json:"login_url,omitempty"`
	LoginExpiresAt string `json:"login_expires_at,omitempty"`

	// Confirmation is set with reason confirmation_required.
	Confirmation *Confirmation `json:"confirmation,omitempty"`

	Err error `json:"-"`
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %v", e.Message, e.Err)
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// UserRemedy is the remedy said to the user at a terminal. Remedy speaks
// to the agent, which cannot run a login itself ("Ask the user to run
// `clerk-mcp login` in a terminal, then retry."); the user reads the same
// advice as an instruction ("Run `clerk-mcp login`, then retry.").
func (e *Error) UserRemedy() string {
	r := e.Remedy
	if rest, ok := strings.CutPrefix(r, "Ask the user to "); ok && rest != "" {
		r = strings.ToUpper(rest[:1]) + rest[1:]
	}
	r = strings.ReplaceAll(r, "ask the user to ", "")
	return strings.ReplaceAll(r, " in a terminal,", ",")
}

// InvalidInput is the error for arguments the agent should fix; message
// says what is wrong and what is expected.
func InvalidInput(message string) *Error {
	return &Error{Reason: ReasonInvalidInput, Message: message,
		Remedy: "Fix the arguments and call the tool again."}
}

// Describer is an error that knows its own envelope: errors that cross
// packages which do not classify them (an HTTP status from an OAuth
// endpoint, a refused redirect) implement it where they are defined.
type Describer interface {
	error
	Envelope() *Error
}

// maxMessage bounds a message built from an error's text.
const maxMessage = 300

// From returns err as an *Error: itself, its Describer's envelope, a
// retryable network_error for cancellations, timeouts and network
// failures, or internal_error for anything else.
func From(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var d Describer
	if errors.As(err, &d) {
		if e := d.Envelope(); e != nil {
			if e.Err == nil {
				e.Err = err
			}
			return e
		}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &Error{Reason: ReasonNetworkError, Message: "The call was cancelled or timed out.",
			Remedy: "Retry the call.", Retryable: true, Err: err}
	}
	var ne net.Error
	var ue *url.Error
	if errors.As(err, &ne) || errors.As(err, &ue) || errors.Is(err, io.ErrUnexpectedEOF) {
		return &Error{Reason: ReasonNetworkError, Message: "Could not reach Clerk: " + oneLine(err),
			Remedy: "Check the network connection and the configured Clerk URLs, then retry.", Retryable: true, Err: err}
	}
	return &Error{Reason: ReasonInternal, Message: "clerk-mcp failed unexpectedly: " + oneLine(err),
		Remedy: "Retry once; if it fails again, ask the user to run `clerk-mcp doctor` and report the problem.", Err: err}
}

// oneLine is err's first line, cleaned for a terminal and cut short.
func oneLine(err error) string {
	msg, _, _ := strings.Cut(err.Error(), "\n")
	return safetext.Line(msg, maxMessage)
}

// Body is the serialized envelope: {"error": {...}}.
type Body struct {
	Error *Error `json:"error"`
}

// Marshal returns the envelope of err as JSON.
func Marshal(err error) []byte {
	e := From(err)
	data, mErr := json.Marshal(Body{Error: e})
	if mErr != nil {
		// Only Errors (raw JSON from Clerk) can fail to encode; drop it.
		c := *e
		c.Errors = nil
		data, _ = json.Marshal(Body{Error: &c})
	}
	return data
}
