package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/clerk-mcp/clerk-mcp/envelope"
)

// keyCache holds the Backend secret keys resolved through the Platform API,
// in memory only. A key belongs to the login that resolved it: an entry
// tagged with another login is never handed out.
type keyCache struct {
	mu      sync.Mutex
	entries map[string]cachedKey // application id + "/" + instance -> key
}

type cachedKey struct {
	key   string
	login string // the login identity the key was resolved with
}

// get returns the key cached for id under login. Entries of any other
// login are dropped on the way: that login is over (a logout, a new login,
// another account).
func (c *keyCache) get(id, login string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.entries {
		if e.login != login {
			delete(c.entries, k)
		}
	}
	e, ok := c.entries[id]
	return e.key, ok
}

func (c *keyCache) put(id, login, key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[string]cachedKey{}
	}
	c.entries[id] = cachedKey{key: key, login: login}
}

// drop forgets id's key if it is still key: a concurrent call may already
// have put a fresh one.
func (c *keyCache) drop(id, key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries[id].key == key {
		delete(c.entries, id)
	}
}

func (c *keyCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.entries)
}

// all returns every cached key, for masking.
func (c *keyCache) all() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	keys := make([]string, 0, len(c.entries))
	for _, e := range c.entries {
		keys = append(keys, e.key)
	}
	return keys
}

// platformKeyLogin is the login identity of keys resolved with
// CLERK_PLATFORM_API_KEY, which no OAuth login or logout changes.
const platformKeyLogin = "platform-api-key"

// backend sends r to the Backend API with CLERK_SECRET_KEY, or with the
// key of r's instance resolved through the Platform API. A 401 with a
// cached key means the key was rolled or the account changed: it is
// resolved again once and the call retried once.
func (a *api) backend(ctx context.Context, m *masker, r *apiRequest) (*response, error) {
	base := a.d.Config.BackendAPIURL
	if key := a.d.Config.SecretKey; key != "" {
		return a.send(ctx, m, base, r.method, r.path, r.query, r.body, key)
	}
	login, err := a.login(ctx)
	if err != nil {
		return nil, err
	}
	id := r.appID + "/" + r.instance
	key, cached := a.keys.get(id, login)
	if !cached {
		if key, err = a.resolveKey(ctx, m, r.appID, r.instance); err != nil {
			return nil, err
		}
		a.keys.put(id, login, key)
	}
	resp, err := a.send(ctx, m, base, r.method, r.path, r.query, r.body, key)
	if err != nil || resp.status != http.StatusUnauthorized || !cached {
		// A key resolved a moment ago is as fresh as a second resolve
		// would give: its 401 stands.
		return resp, err
	}
	a.keys.drop(id, key)
	fresh, err := a.resolveKey(ctx, m, r.appID, r.instance)
	if err != nil {
		return nil, err
	}
	a.keys.put(id, login, fresh)
	if fresh == key {
		// Clerk still hands out the key it refused; sending it again
		// would only repeat the 401.
		return resp, nil
	}
	return a.send(ctx, m, base, r.method, r.path, r.query, r.body, fresh)
}

// login returns the identity of the login that resolved keys belong to. It
// asks the Source for the current token (in memory on its fast path): a
// logout shows as an error, which forgets every key, and a new login as a
// new identity, which makes the cache drop the old one's keys.
func (a *api) login(ctx context.Context) (string, error) {
	if a.d.Config.PlatformAPIKey != "" {
		return platformKeyLogin, nil
	}
	tok, err := a.d.Source.Token(ctx)
	if err != nil {
		a.keys.clear()
		return "", err
	}
	return tok.LoginID, nil
}

// resolveKey fetches the secret key of appID's instance (an environment
// type or an instance id) from the Platform API:
// GET /v1/platform/applications/{id}?include_secret_keys=true answers
// instances[] with instance_id, environment_type and secret_key
// (PlatformApplicationInstance in Clerk's Platform API spec).
func (a *api) resolveKey(ctx context.Context, m *masker, appID, instance string) (string, error) {
	apiPath := "/v1/platform/applications/" + appID
	resp, err := a.platform(ctx, m, http.MethodGet, apiPath, url.Values{"include_secret_keys": {"true"}}, nil)
	if err != nil {
		return "", err
	}
	if resp.status != http.StatusOK {
		// The answer is not shown, but its errors[] are: mask them.
		return "", apiError(m, resp.status, http.MethodGet, apiPath, m.bytes(resp.body), resp.header)
	}
	var app struct {
		Instances []struct {
			InstanceID      string `json:"instance_id"`
			EnvironmentType string `json:"environment_type"`
			SecretKey       string `json:"secret_key"`
		} `json:"instances"`
	}
	if err := json.Unmarshal(resp.body, &app); err != nil {
		return "", &envelope.Error{Reason: envelope.ReasonAPIError, Status: resp.status,
			Message: "Could not read the application's instances from the Platform API.",
			Remedy:  "Retry; if it persists, set CLERK_SECRET_KEY.", Err: fmt.Errorf("decode application %s: %w", appID, err)}
	}
	for _, in := range app.Instances {
		if in.EnvironmentType != instance && in.InstanceID != instance {
			continue
		}
		m.addSecret(in.SecretKey)
		if !plausibleSecretKey(in.SecretKey) {
			return "", &envelope.Error{Reason: envelope.ReasonMissingSecretKey,
				Message: fmt.Sprintf("The Platform API gave no usable secret key for the %s instance of application %s.", instance, appID),
				Remedy:  "Check that the account may read this application's secret keys, or ask the user to set CLERK_SECRET_KEY."}
		}
		return in.SecretKey, nil
	}
	return "", &envelope.Error{Reason: envelope.ReasonMissingSecretKey,
		Message: fmt.Sprintf("Application %s has no %s instance.", appID, instance),
		Remedy:  "Check application_id and instance (development, production, or an instance id)."}
}

// plausibleSecretKey reports whether k can be sent as a bearer credential:
// an sk_ key of visible ASCII. Anything else is not a key Clerk issued, and
// a control character would be refused by the transport with an error
// that is harder to read.
func plausibleSecretKey(k string) bool {
	if !strings.HasPrefix(k, "sk_") || len(k) > 512 {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] <= ' ' || k[i] >= 0x7f {
			return false
		}
	}
	return true
}
