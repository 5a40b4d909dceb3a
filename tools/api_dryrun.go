package tools

import (
	"context"
	"encoding/json"

	"github.com/clerk-mcp/clerk-mcp/tools/apispec"
)

// DryRunResult is the answer to `dry_run: true`: the request that would go
// out, whether Clerk's spec accepts it and whether it would need the
// user's confirmation. Nothing is sent, and no confirmation is asked for.
type DryRunResult struct {
	DryRun  bool          `json:"dry_run"`
	Request DryRunRequest `json:"request"`
	Spec    DryRunSpec    `json:"spec_check"`
	// NeedsConfirmation says whether sending it would need the user's yes
	// under this server's --confirm policy, and Confirmation why.
	NeedsConfirmation bool   `json:"needs_confirmation"`
	Confirmation      string `json:"confirmation,omitempty"`
}

// DryRunRequest is a request as it would be sent, credentials redacted.
type DryRunRequest struct {
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers"`
	Body    json.RawMessage   `json:"body,omitempty"`
}

// DryRunSpec is the outcome of the check against Clerk's OpenAPI spec.
type DryRunSpec struct {
	Passed     bool                `json:"passed"`
	Operation  string              `json:"operation,omitempty"`
	Violations []apispec.Violation `json:"violations,omitempty"`
	// MoreViolations counts those found beyond the first twenty listed.
	MoreViolations int    `json:"more_violations,omitempty"`
	Note           string `json:"note,omitempty"`
}

// DryRun shows what Call would send for args without sending anything.
// It makes no network call: a Backend secret key that would be resolved
// through the Platform API is named, not fetched.
func (a *api) DryRun(ctx context.Context, args APIArgs) (*DryRunResult, error) {
	r, err := a.request(args)
	if err != nil {
		return nil, err
	}
	if _, err := compileSelect(args.Select); err != nil {
		return nil, err
	}
	m := a.masker()
	base := a.d.Config.PlatformAPIURL
	if r.target == TargetBackend {
		base = a.d.Config.BackendAPIURL
	}
	u, err := RequestURL(base, r.path, r.query)
	if err != nil {
		return nil, err
	}
	// The headers send sets, with the credential named instead of shown.
	headers := requestHeaders("[redacted: "+a.credentialName(r)+"]", r.body != nil)
	res := &DryRunResult{DryRun: true, Request: DryRunRequest{Method: r.method, URL: m.string(u.String()), Headers: headers}}
	if r.body != nil {
		body := m.bytes(r.body)
		if !json.Valid(body) {
			body, _ = json.Marshal(string(body))
		}
		res.Request.Body = body
	}
	check := checkSpec(ctx, r)
	res.Spec = DryRunSpec{Passed: len(check.Violations) == 0, Operation: check.Operation, Violations: check.Violations, MoreViolations: check.More}
	if check.Operation == "" {
		res.Spec.Note = "Clerk's spec does not describe this operation; it would be sent unchecked"
	}
	need, err := a.needsConfirmation(ctx, m, r, false)
	if err != nil {
		return nil, err
	}
	res.NeedsConfirmation = need.need
	switch {
	case need.unsure != "":
		res.Confirmation = need.why + "; " + need.unsure
	case need.need:
		res.Confirmation = need.why
	case isMutating(r.method):
		res.Confirmation = "not needed under this server's --confirm " + string(a.policy()) + " policy"
	}
	return res, nil
}

// credentialName says which credential a request would carry, never its
// value.
func (a *api) credentialName(r *apiRequest) string {
	switch {
	case r.target == TargetBackend && a.d.Config.SecretKey != "":
		return "CLERK_SECRET_KEY"
	case r.target == TargetBackend:
		return "secret key of application " + r.appID + ", instance " + r.instance + ", resolved at send time"
	case a.d.Config.PlatformAPIKey != "":
		return "CLERK_PLATFORM_API_KEY"
	}
	return "OAuth access token of profile " + a.d.Config.ProfileName()
}
