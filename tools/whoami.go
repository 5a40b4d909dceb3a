package tools

import (
	"bytes"
	"context"
	"encoding/json"
	"time"
)

// WhoamiResult is the whoami tool's structured output.
type WhoamiResult struct {
	UserID    string `json:"user_id"`
	Email     string `json:"email"`
	Name      string `json:"name"`
	Auth      string `json:"auth"`
	ExpiresAt string `json:"expires_at,omitempty"`
	Issuer    string `json:"issuer"`
	// Profile is the session this server runs as (--profile or
	// CLERK_PROFILE); empty with a Platform API key.
	Profile string `json:"profile,omitempty"`
}

func whoamiTool(d Deps) Tool {
	return Tool{
		Name:  "whoami",
		Title: "Who am I on Clerk",
		Description: "Shows which Clerk account this server acts as: user id, email, name, the auth method " +
			"(oauth session or platform_api_key), the profile (named session) this server runs as, and when the current access token expires. " +
			"Use it first to check that the server is logged in; on an error, follow the remedy in the result " +
			"(not_logged_in may carry a login_url to show the user).",
		InputSchema: json.RawMessage(`{"type":"object","properties":{},"additionalProperties":false}`),
		OutputSchema: json.RawMessage(`{"type":"object","properties":{` +
			`"user_id":{"type":"string","description":"Clerk user id (empty with a Platform API key)"},` +
			`"email":{"type":"string"},"name":{"type":"string"},` +
			`"auth":{"type":"string","enum":["oauth","platform_api_key"]},` +
			`"expires_at":{"type":"string","description":"RFC 3339 expiry of the current access token"},` +
			`"issuer":{"type":"string","description":"OAuth server the session belongs to"},` +
			`"profile":{"type":"string","description":"the profile (named session) this server runs as"}},` +
			`"required":["user_id","email","name","auth","issuer"],"additionalProperties":false}`),
		ReadOnly: true, Destructive: false, Idempotent: true, OpenWorld: false,
		Handler: func(ctx context.Context, args json.RawMessage) (any, error) {
			if err := decodeArgs(args, &struct{}{}); err != nil {
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
