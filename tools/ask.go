package tools

import "context"

// Answer is what the human said to a question asked through the MCP
// client (elicitation).
type Answer int

// The answers. AnswerUnsupported means the client cannot ask this kind of
// question: the tool falls back (a link in the envelope, a confirmation
// token), never treats it as a yes.
const (
	AnswerUnsupported Answer = iota
	AnswerAccept
	AnswerDecline
	AnswerCancel
)

// Asker reaches the human behind the MCP client, where the client declared
// that it can. The server provides one per tool call through WithAsker; the
// tools know nothing of the protocol generation behind it.
//
// On clients that answer in a later round trip (protocol 2026-07-28
// input requests), a question may end the call with an error the server
// turns into an input-required result; the retried call asks the same
// question (same id) and gets the answer at once. id must therefore be
// stable for the same question across the retry, and unguessable when the
// answer authorizes something (a confirmation): the server echoes it to
// the client, which sends back the answer for it.
type Asker interface {
	// Confirm asks a yes/no question in a form.
	Confirm(ctx context.Context, id, message string) (Answer, error)
	// OpenURL asks the client to open url for the user (URL-mode
	// elicitation) and waits for the user's accept, decline or cancel.
	OpenURL(ctx context.Context, id, message, url string) (Answer, error)
}

type askerKey struct{}

// WithAsker returns ctx carrying a.
func WithAsker(ctx context.Context, a Asker) context.Context {
	return context.WithValue(ctx, askerKey{}, a)
}

// askerFrom returns the call's Asker, or one that supports nothing.
func askerFrom(ctx context.Context) Asker {
	if a, ok := ctx.Value(askerKey{}).(Asker); ok && a != nil {
		return a
	}
	return noAsker{}
}

type noAsker struct{}

func (noAsker) Confirm(context.Context, string, string) (Answer, error) {
	return AnswerUnsupported, nil
}
func (noAsker) OpenURL(context.Context, string, string, string) (Answer, error) {
	return AnswerUnsupported, nil
}
