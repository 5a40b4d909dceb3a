package server

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/clerk-mcp/clerk-mcp/auth"
	"github.com/clerk-mcp/clerk-mcp/envelope"
	"github.com/clerk-mcp/clerk-mcp/tools"
)

// Login from the agent (DESIGN "Login from the agent"): a tool call that
// fails for want of a session starts (or joins) the server's pending
// browser login, then either asks the client to open its URL and finishes
// the call once the user has logged in, or returns the envelope with the
// link for the agent to show.

// DefaultLoginWait bounds how long a call waits for the user to finish a
// login they agreed to open, within the login's own expiry. The call
// holds one of the Stdio.MaxCalls slots meanwhile; past the bound it
// returns the link instead, and the login goes on.
const DefaultLoginWait = 5 * time.Minute

// maxLoginWaiters is how many calls may wait on the user at once (asking
// them to open the link, then for the login). Others get the link at
// once: an agent firing calls in parallel must not fill every slot of
// Stdio.MaxCalls with calls that wait on one person.
const maxLoginWaiters = 2

// loginRemedy tells the agent what to do with a login link.
const loginRemedy = "Show the user login_url and ask them to open it in a browser and log in to Clerk " +
	"(it expires at login_expires_at); after they say they have, retry the call. " +
	"They can also run `%s` in a terminal."

// agentLogin runs call, and if it fails with not_logged_in or
// session_expired, gets a login to the user: through the client (URL
// elicitation) and then call once more, or as a link in the envelope.
func (c *calls) agentLogin(ctx context.Context, ask tools.Asker, call func(context.Context) (any, error)) (any, error) {
	began := time.Now()
	out, err := call(ctx)
	missing := sessionMissing(err)
	if missing == nil || c.logins == nil {
		return out, err
	}
	p, serr := c.logins.Start(began)
	if serr != nil {
		c.log.Warn("agent login: cannot start a login", "error", serr)
		return out, err
	}
	select {
	case <-p.Returned():
		// The user is back from Clerk and the session is being stored
		// (a retry right after the browser said "logged in"): the
		// login ends within moments.
		return finishCall(ctx, p, missing, call)
	case <-p.Done():
		// It ended with a session after this call found none.
		return finishCall(ctx, p, missing, call)
	default:
	}
	select {
	case c.loginWaiters <- struct{}{}:
		defer func() { <-c.loginWaiters }()
	default:
		return nil, withLogin(missing, p)
	}
	answer, aerr := ask.OpenURL(ctx, p.ID, "Log in to Clerk so that clerk-mcp can act for you. "+
		"Open this link, sign in and approve clerk-mcp; the call goes on once you have.", p.URL)
	if aerr != nil {
		if _, ok := isInputRequired(aerr); ok {
			return nil, aerr
		}
		return nil, withLogin(missing, p)
	}
	switch answer {
	case tools.AnswerAccept:
	case tools.AnswerDecline, tools.AnswerCancel:
		p.Abandon()
		return nil, &envelope.Error{Reason: envelope.ReasonDeclined,
			Message: "The user declined to log in to Clerk; nothing was stored.",
			Remedy:  "Do not retry unless the user asks to log in; then retry the call, or ask them to run `" + loginCommand(missing) + "` in a terminal."}
	default:
		return nil, withLogin(missing, p)
	}

	// The user agreed to open the link: wait for them to finish.
	timer := time.NewTimer(min(c.loginWait, time.Until(p.ExpiresAt)))
	defer timer.Stop()
	select {
	case <-p.Done():
	case <-p.Returned():
	case <-timer.C:
		c.log.Info("agent login: the user has not finished logging in; returning the link", "id", p.ID)
		return nil, withLogin(missing, p)
	case <-ctx.Done():
		return nil, withLogin(missing, p)
	}
	return finishCall(ctx, p, missing, call)
}

// finishCall waits for p, which has ended or is about to (its callback
// arrived), and runs call once more if it left a session.
func finishCall(ctx context.Context, p *auth.PendingLogin, missing *envelope.Error,
	call func(context.Context) (any, error)) (any, error) {
	select {
	case <-p.Done():
	case <-ctx.Done():
		return nil, withLogin(missing, p)
	}
	if lerr := p.Err(); lerr != nil {
		if errors.Is(lerr, auth.ErrLoginAbandoned) {
			return nil, &envelope.Error{Reason: envelope.ReasonDeclined,
				Message: "The login to Clerk was declined; nothing was stored.",
				Remedy:  "Do not retry unless the user asks to log in."}
		}
		failed := *missing
		failed.Message = "The login to Clerk did not complete: " + lerr.Error() + "."
		failed.Remedy = "Retry the call to get a new login link, or ask the user to run `" + loginCommand(missing) + "` in a terminal."
		failed.Err = lerr
		return nil, &failed
	}
	// As if the session had always been there.
	return call(ctx)
}

// sessionMissing is err's envelope when the call failed for want of a
// usable session, else nil.
func sessionMissing(err error) *envelope.Error {
	var e *envelope.Error
	if errors.As(err, &e) && (e.Reason == envelope.ReasonNotLoggedIn || e.Reason == envelope.ReasonSessionExpired) {
		return e
	}
	return nil
}

// withLogin is e offering p's link. e is shared (a refresh's error goes
// to every caller that waited on it), so it is copied.
func withLogin(e *envelope.Error, p *auth.PendingLogin) *envelope.Error {
	c := *e
	c.LoginURL = p.URL
	c.LoginExpiresAt = p.ExpiresAt.UTC().Format(time.RFC3339)
	c.Remedy = fmt.Sprintf(loginRemedy, loginCommand(e))
	return &c
}

// loginCommand is the terminal login for the profile e names.
func loginCommand(e *envelope.Error) string {
	return auth.LoginCommand(e.Profile)
}
