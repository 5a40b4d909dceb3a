package tools

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/clerk-mcp/clerk-mcp/envelope"
)

// WhoamiResult is the whoami tool's structured output.
type WhoamiResult struct {
	UserID    string `json:"user_id" jsonschema:"Clerk user id (empty with a Platform API key)"`
	Email     string `json:"email"`
	Name      string `json:"name"`
	Auth      string `json:"auth"`
	ExpiresAt string `json:"expires_at,omitempty" jsonschema:"RFC 3339 expiry of the current access token"`
	Issuer    string `json:"issuer" jsonschema:"OAuth server the session belongs to"`
	// Profile is the session this server runs as (--profile or
	// CLERK_PROFILE); empty with a Platform API key.
	Profile string `json:"profile,omitempty" jsonschema:"the profile (named session) this server runs as"`
}

// noArgs are the arguments of a tool that takes none.
type noArgs struct{}

func whoamiTool(d Deps) Tool {
	return Tool{
		Name:  "whoami",
		Title: "Who am I on Clerk",
		Description: "Shows which Clerk account this server acts as: user id, email, name, the auth method " +
			"(oauth session or platform_api_key), the profile (named session) this server runs as, and when the current access token expires. " +
			"Use it first to check that the server is logged in; on an error, follow the remedy in the result " +
			"(not_logged_in may carry a login_url to show the user).",
		InputSchema:  schema("whoami.input"),
		OutputSchema: schema("whoami.output"),
		ReadOnly:     true, Destructive: false, Idempotent: true, OpenWorld: false,
		Handler: func(ctx context.Context, args json.RawMessage) (any, error) {
			if err := decodeArgs(args, &noArgs{}); err != nil {
				return nil, err
			}
			return Whoami(ctx, d)
		},
	}
}

// Whoami answers the whoami tool. With CLERK_PLATFORM_API_KEY set it checks
// the key against the Platform API instead of the OAuth session.
func Whoami(ctx context.Context, d Deps) (*WhoamiResult, error) {
	if d.Config.PlatformAPIKey != "" {
		if _, err := platformCall(ctx, d, "GET", "/v1/platform/applications", nil); err != nil {
			if e := envelope.From(err); e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden {
				// The api tool's remedy (check target, application...)
				// does not fit: the key itself was refused.
				e.Message = fmt.Sprintf("Clerk refused the Platform API key in CLERK_PLATFORM_API_KEY (status %d).", e.Status)
				e.Remedy = "Ask the user to check CLERK_PLATFORM_API_KEY in the server's environment (a Platform API key, ak_...), or to unset it to use the OAuth session."
				return nil, e
			}
			return nil, err
		}
		return &WhoamiResult{Auth: "platform_api_key", Issuer: d.Config.PlatformAPIURL}, nil
	}
	info, err := d.Source.UserInfo(ctx)
	if err != nil {
		return nil, err
	}
	res := &WhoamiResult{UserID: info.UserID, Email: info.Email, Name: info.Name, Auth: "oauth", Issuer: d.Config.BaseURL,
		Profile: d.Config.ProfileName()}
	if tok, err := d.Source.Token(ctx); err == nil && !tok.Expiry.IsZero() {
		res.ExpiresAt = tok.Expiry.UTC().Format(time.RFC3339)
	}
	return res, nil
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
