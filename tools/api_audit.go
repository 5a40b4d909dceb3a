package tools

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/clerk-mcp/clerk-mcp/audit"
	"github.com/clerk-mcp/clerk-mcp/envelope"
)

// ClientInfo names the MCP client behind a call, for the audit log: from
// initialize, or per request on protocol 2026-07-28.
type ClientInfo struct {
	Name, Version string
}

type clientInfoKey struct{}

// WithClientInfo returns ctx carrying the client behind the call; the
// server sets it for every tool call.
func WithClientInfo(ctx context.Context, ci ClientInfo) context.Context {
	return context.WithValue(ctx, clientInfoKey{}, ci)
}

func clientInfoFrom(ctx context.Context) ClientInfo {
	ci, _ := ctx.Value(clientInfoKey{}).(ClientInfo)
	return ci
}

// auditRecord is the audit line of one mutating api call, filled in as the
// call goes. A nil record (a GET, or no audit log) records nothing.
type auditRecord struct {
	log   *audit.Log
	start time.Time
	e     audit.Entry
}

// startAudit begins the record of a mutating call from its raw arguments,
// so that a call refused before its request is built (read_only, a bad
// path) is recorded too. Only what the log may hold is taken: no body, no
// query, no credential.
func (a *api) startAudit(ctx context.Context, args APIArgs) *auditRecord {
	method := strings.ToUpper(args.Method)
	if a.d.Audit == nil || !isMutating(method) {
		return nil
	}
	target := args.Target
	if target == "" {
		target = TargetPlatform
	}
	ci := clientInfoFrom(ctx)
	rec := &auditRecord{log: a.d.Audit, start: time.Now(), e: audit.Entry{
		Profile: a.d.Config.ProfileName(), Client: ci.Name, ClientVersion: ci.Version,
		Target: target, Method: method,
	}}
	// A path that does not normalize is not recorded: it may hold
	// anything, a query string included.
	if p, err := NormalizePath(target, args.Path); err == nil {
		rec.e.Path = p
	}
	if target == TargetBackend && idPattern().MatchString(args.ApplicationID) {
		rec.e.ApplicationID = args.ApplicationID
	}
	return rec
}

// request records what the normalized request acts on.
func (r *auditRecord) request(req *apiRequest) {
	if r == nil {
		return
	}
	r.e.Target, r.e.Path = req.target, req.path
	r.e.ApplicationID, r.e.Instance = req.where()
}

// allow records how the call was allowed.
func (r *auditRecord) allow(how string) {
	if r != nil {
		r.e.Allowed = how
	}
}

// suspend drops the record: the call waits for the user's answer in a
// later round trip, and the retried call is the one recorded.
func (r *auditRecord) suspend() {
	if r != nil {
		r.log = nil
	}
}

// answer records Clerk's status and trace id.
func (r *auditRecord) answer(resp *response) {
	if r == nil || resp == nil {
		return
	}
	r.e.Status = resp.status
	r.e.TraceID = cleanTraceID(resp.header.Get("X-Clerk-Trace-Id"))
}

// cleanTraceID is id if it looks like an id, else empty: the value comes
// from the network and goes to a file people read in a terminal.
func cleanTraceID(id string) string {
	if len(id) > 128 || strings.ContainsFunc(id, func(c rune) bool { return c <= ' ' || c >= 0x7f }) {
		return "" // not an id Clerk issued; keep the log clean
	}
	return id
}

// finish writes the line. err is the call's outcome: before the call was
// allowed it is why it was refused, after it the reason it failed. The
// line is written even when the call's context has ended: a call
// cancelled after it was sent still happened.
func (r *auditRecord) finish(ctx context.Context, err error) {
	if r == nil || r.log == nil {
		return
	}
	r.e.Time = time.Now().UTC()
	r.e.DurationMS = time.Since(r.start).Milliseconds()
	if err != nil {
		reason := string(envelope.From(err).Reason)
		if r.e.Allowed == "" {
			r.e.Refused = reason
		} else {
			r.e.Error = reason
		}
		var te *envelope.Error
		if errors.As(err, &te) && te.Status != 0 {
			r.e.Status = te.Status
			if te.TraceID != "" && r.e.TraceID == "" {
				r.e.TraceID = cleanTraceID(te.TraceID)
			}
		}
	}
	if aerr := r.log.Append(context.WithoutCancel(ctx), r.e); aerr != nil && r.log.Logger != nil {
		r.log.Logger.Error("could not write the audit log; the call is not recorded",
			"method", r.e.Method, "path", r.e.Path, "error", aerr)
	}
}
