package tools

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/clerk-mcp/clerk-mcp/envelope"
)

// Targets of the api tool.
const (
	TargetPlatform = "platform"
	TargetBackend  = "backend"
)

const maxPathLen = 2048

// NormalizePath turns an agent's path into the API path sent to target's
// base URL, like Clerk's CLI: "/users" -> "/v1/users" and, for the Platform
// API, "/applications" -> "/v1/platform/applications". It refuses anything
// that could reach another host or escape the API prefix: "//", "\", "@",
// schemes, control characters, "." and ".." segments, percent-encoding
// (encoded slashes and dots), and query or fragment markers.
func NormalizePath(target, p string) (string, error) {
	if p == "" {
		return "", envelope.InvalidInput("path is required, e.g. \"/users\"")
	}
	if len(p) > maxPathLen {
		return "", envelope.InvalidInput(fmt.Sprintf("path is longer than %d bytes", maxPathLen))
	}
	for _, r := range p {
		if r < 0x20 || r == 0x7f {
			return "", envelope.InvalidInput("path contains control characters")
		}
	}
	switch {
	case strings.Contains(p, "://") || strings.Contains(p, ":"):
		return "", envelope.InvalidInput("path must be an API path such as /users, not a URL; requests always go to the configured Clerk API")
	case strings.Contains(p, `\`):
		return "", envelope.InvalidInput("path must not contain backslashes")
	case strings.Contains(p, "@"):
		return "", envelope.InvalidInput("path must not contain '@'")
	case strings.Contains(p, "%"):
		return "", envelope.InvalidInput("path must not be percent-encoded (encoded slashes and dots are refused); pass IDs as they are")
	case strings.ContainsAny(p, "?#"):
		return "", envelope.InvalidInput("put query parameters in the `query` argument, not in the path")
	}
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	if strings.Contains(p, "//") {
		return "", envelope.InvalidInput("path must not contain '//'")
	}
	p = strings.TrimSuffix(p, "/")
	for _, seg := range strings.Split(strings.TrimPrefix(p, "/"), "/") {
		if seg == "." || seg == ".." {
			return "", envelope.InvalidInput("path must not contain '.' or '..' segments")
		}
		for _, r := range seg {
			if !isPathRune(r) {
				return "", envelope.InvalidInput(fmt.Sprintf("path contains %q; allowed are letters, digits and - _ . ~ + = ,", r))
			}
		}
	}
	if p == "/v1" {
		p = ""
	} else {
		p = strings.TrimPrefix(p, "/v1/")
		if !strings.HasPrefix(p, "/") && p != "" {
			p = "/" + p
		}
	}
	isPlatform := p == "/platform" || strings.HasPrefix(p, "/platform/")
	switch target {
	case TargetPlatform:
		if !isPlatform {
			p = "/platform" + p
		}
	case TargetBackend:
		if isPlatform {
			return "", envelope.InvalidInput("Platform API paths need target \"platform\"")
		}
	default:
		return "", envelope.InvalidInput(fmt.Sprintf("target must be %q or %q", TargetPlatform, TargetBackend))
	}
	return "/v1" + p, nil
}

func isPathRune(r rune) bool {
	switch {
	case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9':
		return true
	}
	return strings.ContainsRune("-_.~+=,", r)
}

// RequestURL joins an API path from NormalizePath to base. Scheme, host and
// port come from base alone.
func RequestURL(base, apiPath string, query url.Values) (*url.URL, error) {
	b, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("parse API base URL: %w", err)
	}
	return &url.URL{
		Scheme:   b.Scheme,
		Host:     b.Host,
		Path:     strings.TrimSuffix(b.Path, "/") + apiPath,
		RawQuery: query.Encode(),
	}, nil
}
