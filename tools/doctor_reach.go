package tools

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"syscall"

	"github.com/clerk-mcp/clerk-mcp/envelope"
)

// reachCheck is the failed check for a call to Clerk that got no answer,
// in words: what could not be reached, why, and which setting to check.
// A Go error such as "dial tcp 127.0.0.1:1: connect: connection refused"
// is for logs, not for the user. ok is false when err is not such a
// failure: Clerk answered, and the answer is what to report.
func reachCheck(name, service, setting, base string, err error) (c Check, ok bool) {
	why, ok := networkCause(err)
	if !ok {
		return Check{}, false
	}
	host := base
	if u, err := url.Parse(base); err == nil && u.Host != "" {
		host = u.Host
	}
	return Check{Name: name, Status: StatusFail,
		Message: fmt.Sprintf("Could not reach %s at %s: %s.", service, base, why),
		Remedy: fmt.Sprintf("Check that this machine is online and can reach %s (a VPN, proxy or firewall may be in the way), "+
			"and that %s is right (it is %s).", host, setting, base)}, true
}

// networkCause says in words why a call got no answer from Clerk, and
// whether err is that kind of failure at all.
func networkCause(err error) (string, bool) {
	var dns *net.DNSError
	var cert *tls.CertificateVerificationError
	var ne net.Error
	switch {
	case err == nil:
		return "", false
	case errors.As(err, &dns) && dns.IsNotFound:
		return fmt.Sprintf("the host name %s does not resolve (DNS)", dns.Name), true
	case errors.As(err, &dns):
		return fmt.Sprintf("looking up %s in DNS failed", dns.Name), true
	case errors.Is(err, syscall.ECONNREFUSED):
		return "the connection was refused (nothing is listening at that address and port)", true
	case errors.Is(err, syscall.ECONNRESET):
		return "the connection was reset before Clerk answered", true
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH):
		return "there is no network route to it", true
	case errors.As(err, &cert):
		return "its TLS certificate could not be verified (an intercepting proxy, or the wrong host)", true
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "it did not answer in time", true
	case errors.As(err, &ne):
		return "the connection failed", true
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return "the connection failed", true
	}
	if e := envelope.From(err); e.Reason == envelope.ReasonNetworkError && e.Status == 0 {
		// The api tool keeps only the text of its transport error (it
		// masks secrets in it), so read the cause from that.
		return causeFromText(err.Error()), true
	}
	return "", false
}

// causeFromText is networkCause for an error known only by its text.
func causeFromText(msg string) string {
	for _, c := range []struct{ text, why string }{
		{"connection refused", "the connection was refused (nothing is listening at that address and port)"},
		{"no such host", "the host name does not resolve (DNS)"},
		{"connection reset", "the connection was reset before Clerk answered"},
		{"network is unreachable", "there is no network route to it"},
		{"no route to host", "there is no network route to it"},
		{"certificate", "its TLS certificate could not be verified (an intercepting proxy, or the wrong host)"},
		{"timeout", "it did not answer in time"},
		{"deadline exceeded", "it did not answer in time"},
	} {
		if strings.Contains(msg, c.text) {
			return c.why
		}
	}
	return "the connection failed"
}

// failed is a check that failed (or warned) because of err. Its remedy
// speaks to the user, whom doctor addresses, and never sends them back to
// doctor itself.
func failed(name, status string, err error) Check {
	e := envelope.From(err)
	remedy := withoutDoctor(e.UserRemedy())
	if remedy == "" {
		remedy = "Retry later."
	}
	return Check{Name: name, Status: status, Message: e.Message, Remedy: remedy}
}

// withoutDoctor drops the clauses of a remedy that say to run doctor:
// advice written for other commands, which is circular inside doctor.
func withoutDoctor(remedy string) string {
	var kept []string
	for _, sentence := range strings.SplitAfter(remedy, ". ") {
		var clauses []string
		for _, clause := range strings.Split(sentence, "; ") {
			if !strings.Contains(clause, "clerk-mcp doctor") {
				clauses = append(clauses, clause)
			}
		}
		if len(clauses) == 0 {
			continue
		}
		s := strings.Join(clauses, "; ")
		if !strings.HasSuffix(strings.TrimSpace(s), ".") {
			s = strings.TrimSpace(s) + ". "
		}
		kept = append(kept, s)
	}
	return strings.TrimSpace(strings.Join(kept, ""))
}
