package tools

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/clerk-mcp/clerk-mcp/envelope"
)

// apiRequest is an api call's arguments, normalized and validated: what
// goes out, before any credential is attached.
type apiRequest struct {
	target string
	method string
	path   string // from NormalizePath: always under /v1 of the target's base URL
	query  url.Values
	body   []byte
	// appID and instance pick the secret key of a backend call without
	// CLERK_SECRET_KEY.
	appID, instance string
}

// idPattern is what application ids and instance names may look like: they
// end up in a Platform API path.
var idPattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`) })

// request normalizes and validates args. Nothing has been sent when it
// fails.
func (a *api) request(args APIArgs) (*apiRequest, error) {
	r := &apiRequest{target: args.Target, method: strings.ToUpper(args.Method)}
	if r.target == "" {
		r.target = TargetPlatform
	}
	if r.method == "" {
		r.method = http.MethodGet
	}
	switch r.method {
	case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
	default:
		return nil, envelope.InvalidInput("method must be GET, POST, PUT, PATCH or DELETE")
	}
	if a.d.ReadOnly && r.method != http.MethodGet {
		return nil, &envelope.Error{Reason: envelope.ReasonReadOnly,
			Message: fmt.Sprintf("This clerk-mcp server runs with --read-only; %s is refused.", r.method),
			Remedy:  "Only GET calls are allowed. Ask the user to restart the server without --read-only to make changes."}
	}
	var err error
	if r.path, err = NormalizePath(r.target, args.Path); err != nil {
		return nil, err
	}
	if r.query, err = queryValues(args.Query); err != nil {
		return nil, err
	}
	if r.body, err = requestBody(r.method, args.Body); err != nil {
		return nil, err
	}
	if r.target == TargetBackend && a.d.Config.SecretKey == "" {
		if args.ApplicationID == "" {
			return nil, &envelope.Error{Reason: envelope.ReasonMissingSecretKey,
				Message: "Backend API calls need a secret key, and none is configured.",
				Remedy:  "Pass application_id (and instance, default development) to use that instance's key via the Platform API, or ask the user to set CLERK_SECRET_KEY."}
		}
		r.appID, r.instance = args.ApplicationID, args.Instance
		if r.instance == "" {
			r.instance = "development"
		}
		if !idPattern().MatchString(r.appID) || !idPattern().MatchString(r.instance) {
			return nil, envelope.InvalidInput("application_id and instance must be plain ids (letters, digits, _ and -)")
		}
	}
	return r, nil
}

func queryValues(q map[string]any) (url.Values, error) {
	v := url.Values{}
	for k, val := range q {
		switch x := val.(type) {
		case []any:
			for _, item := range x {
				s, ok := scalar(item)
				if !ok {
					return nil, envelope.InvalidInput(fmt.Sprintf("query %q: array items must be strings, numbers or booleans", k))
				}
				v.Add(k, s)
			}
		default:
			s, ok := scalar(val)
			if !ok {
				return nil, envelope.InvalidInput(fmt.Sprintf("query %q: values must be strings, numbers, booleans or arrays of them", k))
			}
			v.Set(k, s)
		}
	}
	return v, nil
}

func scalar(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case bool:
		return strconv.FormatBool(x), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case json.Number:
		return x.String(), true
	}
	return "", false
}

// requestBody validates the body argument: a JSON object or array, or a
// string holding JSON.
func requestBody(method string, raw json.RawMessage) ([]byte, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	if method == http.MethodGet {
		return nil, envelope.InvalidInput("GET requests take no body; use query")
	}
	switch raw[0] {
	case '{', '[':
		return raw, nil
	case '"':
		var s string
		json.Unmarshal(raw, &s)
		if !json.Valid([]byte(s)) {
			return nil, envelope.InvalidInput("body string must hold JSON")
		}
		return []byte(s), nil
	}
	return nil, envelope.InvalidInput("body must be a JSON object, array, or a string holding JSON")
}
