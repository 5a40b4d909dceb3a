package apispec_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/clerk-mcp/clerk-mcp/tools/apispec"
)

// FuzzCheckRequest sends arbitrary bodies and query values through the
// check: it must answer with nil or a *ValidationError (never a validator
// failure), and never quote a value sent (names of fields are quoted:
// they are the pointers).
func FuzzCheckRequest(f *testing.F) {
	for _, seed := range []struct{ body, limit string }{
		{`{"email_address":["ada@example.com"]}`, "10"},
		{`{"seconds_until_expiration":1e10000000}`, "NaN"},
		{`[{"email_address":7}]`, "0x1p3"},
		{`{"banned":null,"public_metadata":{"a":[1,2,{"b":-0}]}}`, "1e5"},
		{`{"name":"\u0000"}`, "-"},
	} {
		f.Add(seed.body, seed.limit)
	}
	s, err := apispec.Backend()
	if err != nil {
		f.Fatal(err)
	}
	const secret = "s3cr3t-value-9f2"
	f.Fuzz(func(t *testing.T, body, limit string) {
		for _, req := range []apispec.Request{
			{Method: "POST", Path: "/users", Body: []byte(body)},
			{Method: "POST", Path: "/invitations/bulk", Body: []byte(body)},
			{Method: "POST", Path: "/api_keys", Body: []byte(`{"name":"` + secret + `","subject":"` + secret + `","seconds_until_expiration":` + limit + `}`)},
			{Method: "POST", Path: "/users", Body: []byte(`{"password":"` + secret + `","email_address":"` + secret + `","banned":` + limit + `}`)},
			{Method: "GET", Path: "/api_keys", Query: url.Values{"subject": {secret}, "limit": {limit}, "offset": {secret + limit}}},
			{Method: "GET", Path: "/users", Query: url.Values{"limit": {limit}, "banned": {limit}, "email_address": {secret, limit}}},
		} {
			err := s.CheckRequest(context.Background(), req)
			if err == nil {
				continue
			}
			var ve *apispec.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("%s %s: %v", req.Method, req.Path, err)
			}
			if strings.Contains(err.Error(), secret) {
				t.Fatalf("the violation quotes the value sent: %v", err)
			}
		}
	})
}
