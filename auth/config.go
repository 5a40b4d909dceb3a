package auth

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/clerk-mcp/clerk-mcp/store"
	"golang.org/x/oauth2"
)

// Defaults for the configuration variables.
const (
	DefaultBaseURL        = "https://clerk.clerk.com"
	DefaultClientID       = "x7Fzlnxuu5I6UUa4" // the public client of Clerk's CLI
	DefaultPlatformAPIURL = "https://api.clerk.com"
	DefaultBackendAPIURL  = "https://api.clerk.com"
)

// Config is clerk-mcp's configuration, read from the environment.
type Config struct {
	BaseURL        string     // CLERK_OAUTH_BASE_URL: the OAuth server
	ClientID       string     // CLERK_OAUTH_CLIENT_ID: a public client, no secret
	Scopes         []string   // CLERK_OAUTH_SCOPES: empty means the server default
	PlatformAPIURL string     // CLERK_PLATFORM_API_URL
	BackendAPIURL  string     // CLERK_BACKEND_API_URL
	PlatformAPIKey string     // CLERK_PLATFORM_API_KEY: ak_ key used instead of the session
	SecretKey      string     // CLERK_SECRET_KEY: sk_ key for the Backend API
	ConfigDir      string     // CLERK_CONFIG_DIR
	StoreMode      store.Mode // CLERK_MCP_STORE
	Profile        string     // CLERK_PROFILE (or --profile): one of several sessions per issuer
	Browser        string     // BROWSER: command that opens the authorize URL
}

// ConfigFromEnv reads the configuration through getenv (os.Getenv in
// production) and applies the defaults.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	get := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	c := Config{
		BaseURL:        strings.TrimRight(get("CLERK_OAUTH_BASE_URL", DefaultBaseURL), "/"),
		ClientID:       get("CLERK_OAUTH_CLIENT_ID", DefaultClientID),
		Scopes:         strings.Fields(getenv("CLERK_OAUTH_SCOPES")),
		PlatformAPIURL: strings.TrimRight(get("CLERK_PLATFORM_API_URL", DefaultPlatformAPIURL), "/"),
		BackendAPIURL:  strings.TrimRight(get("CLERK_BACKEND_API_URL", DefaultBackendAPIURL), "/"),
		PlatformAPIKey: get("CLERK_PLATFORM_API_KEY", ""),
		SecretKey:      get("CLERK_SECRET_KEY", ""),
		ConfigDir:      get("CLERK_CONFIG_DIR", ""),
		Browser:        get("BROWSER", ""),
		Profile:        get("CLERK_PROFILE", store.DefaultProfile),
	}
	var errs []error
	for _, u := range []struct{ name, value string }{
		{"CLERK_OAUTH_BASE_URL", c.BaseURL},
		{"CLERK_PLATFORM_API_URL", c.PlatformAPIURL},
		{"CLERK_BACKEND_API_URL", c.BackendAPIURL},
	} {
		if err := checkBaseURL(u.value); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", u.name, err))
		}
	}
	mode, err := store.ParseMode(get("CLERK_MCP_STORE", ""))
	if err != nil {
		errs = append(errs, fmt.Errorf("CLERK_MCP_STORE: %w", err))
	}
	c.StoreMode = mode
	if err := store.CheckProfile(c.Profile); err != nil {
		errs = append(errs, fmt.Errorf("CLERK_PROFILE (or --profile): %w", err))
	}
	if c.ConfigDir == "" {
		dir, err := os.UserConfigDir()
		if err != nil {
			errs = append(errs, fmt.Errorf("CLERK_CONFIG_DIR is unset and there is no user config directory: %w", err))
		} else {
			c.ConfigDir = filepath.Join(dir, "clerk-mcp")
		}
	}
	if err := errors.Join(errs...); err != nil {
		return c, fmt.Errorf("configuration: %w", err)
	}
	return c, nil
}

// checkBaseURL accepts an absolute https URL, or http on a loopback host (for
// local stand-ins), with no query, fragment or credentials.
func checkBaseURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("invalid URL %q: %w", raw, err)
	}
	if u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("want a base URL like https://host[:port][/path], got %q", raw)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopback(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("refusing plain http to non-loopback host %q; use https", u.Hostname())
	}
	return fmt.Errorf("unsupported scheme %q in %q", u.Scheme, raw)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// OpenStore opens the session store for this configuration's issuer,
// client and profile.
func (c Config) OpenStore() (*store.Store, error) {
	return store.Open(store.Options{
		Dir:      c.ConfigDir,
		Issuer:   c.BaseURL,
		ClientID: c.ClientID,
		Profile:  c.Profile,
		Mode:     c.StoreMode,
	})
}

// ProfileName is the profile in use: Profile, or store.DefaultProfile
// for a Config built without one.
func (c Config) ProfileName() string {
	if c.Profile == "" {
		return store.DefaultProfile
	}
	return c.Profile
}

// LoginCommand is the command that logs in to this configuration's
// profile, for remedies: `clerk-mcp login`, plus --profile for any
// profile but the default.
func (c Config) LoginCommand() string { return LoginCommand(c.ProfileName()) }

// LoginCommand is the command that logs in to profile.
func LoginCommand(profile string) string {
	if profile != "" && profile != store.DefaultProfile {
		return "clerk-mcp login --profile " + profile
	}
	return "clerk-mcp login"
}

// oauth2Config describes Clerk's endpoints to x/oauth2.
func (c Config) oauth2Config(redirectURL string) *oauth2.Config {
	return &oauth2.Config{
		ClientID: c.ClientID,
		Endpoint: oauth2.Endpoint{
			AuthURL:  c.BaseURL + "/oauth/authorize",
			TokenURL: c.BaseURL + "/oauth/token",
			// AutoDetect retries a failed refresh in the other auth style,
			// spending a rotating refresh token twice (refresh rule 8).
			AuthStyle: oauth2.AuthStyleInParams,
		},
		RedirectURL: redirectURL,
		Scopes:      c.Scopes,
	}
}
