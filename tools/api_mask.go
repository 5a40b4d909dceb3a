package tools

import (
	"bytes"
	"errors"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/clerk-mcp/clerk-mcp/envelope"

	"github.com/clerk-mcp/clerk-mcp/auth"
)

// keyShapes are the credentials that may appear in an answer by shape: a
// prefix and at least minBody key characters, not following a letter or
// digit (so "task_test_results" is a word, not a key). Known values (the
// tokens of the session, the keys in use) are also matched exactly,
// wherever they stand and whatever their shape. Keys may contain - and .,
// which Clerk's keys do not today; a mask that stopped at them would leave
// the rest of the key in view.
var keyShapes = []struct {
	prefix     string
	minBody    int
	revealable bool // shown with --reveal-secrets
}{
	{"sk_live_", 4, true},
	{"sk_test_", 4, true},
	{"ak_", 8, false},
	// Webhook signing secrets (Svix, which Clerk's webhooks use) and
	// machine-to-machine tokens: live credentials an answer can carry.
	{"whsec_", 16, false},
	{"mt_", 24, false},
}

func isKeyChar(c byte) bool {
	return isAlnum(c) || c == '_' || c == '-' || c == '.'
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// minSecretLen is the shortest value matched exactly: masking every "a"
// of an answer because a misconfigured key is "a" would hide the answer.
const minSecretLen = 8

// masker keeps credentials out of what the api tool shows: the body and
// headers of an answer and the error messages made from it, which the
// server also logs. The OAuth access and refresh tokens, ak_ keys and sk_
// keys are masked wherever they appear, also when spelled with JSON
// (\u005f) or percent (%5F) escapes. With --reveal-secrets, sk_ keys are
// shown; the rest never is. A masker serves one call.
type masker struct {
	reveal  bool
	src     *auth.Source
	secrets []string // known credentials, matched exactly
}

func (a *api) masker() *masker {
	m := &masker{reveal: a.d.RevealSecrets, src: a.d.Source}
	m.addSecret(a.d.Config.PlatformAPIKey)
	m.addSecret(a.d.Config.SecretKey)
	for _, k := range a.keys.all() {
		m.addSecret(k)
	}
	return m
}

// addSecret adds a credential to match exactly.
func (m *masker) addSecret(s string) {
	if len(s) >= minSecretLen && !slices.Contains(m.secrets, s) {
		m.secrets = append(m.secrets, s)
	}
}

// session adds the session's current tokens. It runs at every mask
// rather than once: a refresh during the call replaces them.
func (m *masker) session() {
	if m.src != nil {
		at, rt := m.src.Credentials()
		m.addSecret(at)
		m.addSecret(rt)
	}
}

func (m *masker) bytes(b []byte) []byte {
	s := m.string(string(b))
	if len(s) == len(b) && s == string(b) {
		return b
	}
	return []byte(s)
}

// string returns s with every credential in it masked.
func (m *masker) string(s string) string {
	m.session()
	view, _ := decodeEscapes(s, false)
	found := m.find(view)
	if len(found) == 0 {
		return s
	}
	// Decoding always shortens: a view as long as s is s, and positions
	// need no mapping.
	var where []origin
	if len(view) != len(s) {
		view, where = decodeEscapes(s, true) // the same view, with positions
	}
	var b strings.Builder
	b.Grow(len(s))
	last := 0
	for _, f := range found {
		from, to := f.start, f.end
		if where != nil {
			from, to = where[f.start].from, where[f.end-1].to
		}
		b.WriteString(s[last:from])
		b.WriteString(maskValue(view[f.start:f.end]))
		last = to
	}
	b.WriteString(s[last:])
	return b.String()
}

// error masks a tool error's message, Clerk's errors[] and the cause, all
// of which reach the agent or the log.
func (m *masker) error(err error) error {
	var te *envelope.Error
	if !errors.As(err, &te) {
		return err
	}
	te.Message = m.string(te.Message)
	te.Remedy = m.string(te.Remedy)
	te.Errors = m.bytes(te.Errors)
	if te.Err != nil {
		if msg := te.Err.Error(); m.string(msg) != msg {
			te.Err = errors.New(m.string(msg))
		}
	}
	return err
}

// partialKeyAtEnd is the start of an sk_ or ak_ key at the very end of a
// text, too short yet for the patterns above.
var partialKeyAtEnd = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?:^|[^A-Za-z0-9])([sa]k_[A-Za-z0-9._-]*)$`) })

// incompleteEscapeAtEnd is an escape cut in the middle.
var incompleteEscapeAtEnd = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?:\\+(?:u[0-9A-Fa-f]{0,3})?|%[0-9A-Fa-f]?)$`) })

// cutPartial drops the end of a body that was cut at MaxResponseBody when
// it may be the start of a credential. A server that puts a token across
// the cut would otherwise get all of it but its last bytes shown, since
// only whole credentials match.
func (m *masker) cutPartial(b []byte) []byte {
	m.session()
	longest := 32 // room for a key the patterns would catch
	for _, s := range m.secrets {
		longest = max(longest, len(s))
	}
	// A byte of a credential takes at most 6 bytes as \u0073, a few more
	// with its backslash escaped again.
	start := max(0, len(b)-12*longest)
	tail := string(b[start:])
	tail = tail[:len(tail)-len(incompleteEscapeAtEnd().FindString(tail))]
	view, where := decodeEscapes(tail, true)
	cut := len(view)
	for _, s := range m.secrets {
		if m.reveal && strings.HasPrefix(s, "sk_") {
			continue
		}
		for i := max(0, len(view)-len(s)+1); i < cut; i++ {
			if strings.HasPrefix(s, view[i:]) {
				cut = i
				break
			}
		}
	}
	if loc := partialKeyAtEnd().FindStringSubmatchIndex(view); loc != nil {
		cut = min(cut, loc[2])
	}
	if cut == len(view) {
		return b[:start+len(tail)]
	}
	return b[:start+where[cut].from]
}

type span struct{ start, end int }

// find returns the credentials in view, sorted and merged where they
// overlap.
func (m *masker) find(view string) []span {
	var found []span
	for _, sec := range m.secrets {
		if m.reveal && strings.HasPrefix(sec, "sk_") {
			continue
		}
		for i := 0; ; {
			j := strings.Index(view[i:], sec)
			if j < 0 {
				break
			}
			found = append(found, span{i + j, i + j + len(sec)})
			i += j + len(sec)
		}
	}
	// Scanned by hand: a regular expression with the "not after a letter"
	// rule runs its slow engine, tens of milliseconds per megabyte.
	for _, k := range keyShapes {
		if m.reveal && k.revealable {
			continue
		}
		for i := 0; ; {
			j := strings.Index(view[i:], k.prefix)
			if j < 0 {
				break
			}
			start := i + j
			i = start + 1
			if start > 0 && isAlnum(view[start-1]) {
				// Checked before scanning the key, so that "xsk_live_"
				// repeated costs no more than its length.
				continue
			}
			end := start + len(k.prefix)
			for end < len(view) && isKeyChar(view[end]) {
				end++
			}
			if end-start-len(k.prefix) >= k.minBody {
				found = append(found, span{start, end})
				i = end
			}
		}
	}
	if len(found) < 2 {
		return found
	}
	slices.SortFunc(found, func(a, b span) int { return a.start - b.start })
	merged := found[:1]
	for _, f := range found[1:] {
		if last := &merged[len(merged)-1]; f.start <= last.end {
			last.end = max(last.end, f.end)
		} else {
			merged = append(merged, f)
		}
	}
	return merged
}

// maskValue is what replaces a credential: sk_ and ak_ keys keep their
// prefix, and the last four characters of a long one, so a user can tell
// keys apart; anything else (an OAuth token) is replaced whole.
func maskValue(v string) string {
	var prefix string
	switch {
	case strings.HasPrefix(v, "sk_live_"), strings.HasPrefix(v, "sk_test_"):
		prefix = v[:8]
	case strings.HasPrefix(v, "sk_"), strings.HasPrefix(v, "ak_"):
		prefix = v[:3]
	default:
		return "[redacted]"
	}
	out := prefix + "****"
	if len(v)-len(prefix) >= 16 {
		out += v[len(v)-4:]
	}
	return out
}

// origin is where one byte of a decoded view came from in the original.
type origin struct{ from, to int }

// maxDecodePasses bounds how many layers of escaping are undone
// ("%255F" is "%5F" is "_").
const maxDecodePasses = 3

// decodeEscapes returns s with the escapes that could spell a credential
// undone: JSON's \uXXXX and \/ (after any run of backslashes, so an escape
// escaped again is undone too) and URL percent-encoding, where they stand
// for ASCII. Everything else is kept byte for byte. With track, it also
// returns, for each byte of the view, the span of s it came from, so a
// match in the view masks the whole escaped spelling.
func decodeEscapes(s string, track bool) (string, []origin) {
	var where []origin
	if track {
		where = make([]origin, len(s))
		for i := range where {
			where[i] = origin{i, i + 1}
		}
	}
	for range maxDecodePasses {
		if !strings.ContainsAny(s, `\%`) {
			break
		}
		var out bytes.Buffer
		out.Grow(len(s))
		var next []origin
		emit := func(c byte, from, to int) {
			out.WriteByte(c)
			if track {
				next = append(next, origin{where[from].from, where[to-1].to})
			}
		}
		for i := 0; i < len(s); {
			switch c := s[i]; {
			case c == '\\':
				j := i
				for j < len(s) && s[j] == '\\' {
					j++
				}
				if j+5 <= len(s) && s[j] == 'u' {
					if r, ok := unhex(s[j+1 : j+5]); ok && r < 0x80 {
						emit(byte(r), i, j+5)
						i = j + 5
						continue
					}
				}
				if j < len(s) && s[j] == '/' {
					emit('/', i, j+1)
					i = j + 1
					continue
				}
				// Not an escape: keep the whole run, rather than look at
				// it again from its second backslash (quadratic on a
				// body of backslashes).
				for ; i < j; i++ {
					emit(c, i, i+1)
				}
			case c == '%' && i+3 <= len(s):
				if r, ok := unhex(s[i+1 : i+3]); ok && r < 0x80 {
					emit(byte(r), i, i+3)
					i += 3
					continue
				}
				emit(c, i, i+1)
				i++
			default:
				emit(c, i, i+1)
				i++
			}
		}
		if out.Len() == len(s) {
			break // nothing was decoded
		}
		s, where = out.String(), next
	}
	return s, where
}

// unhex decodes 2 or 4 hex digits.
func unhex(h string) (rune, bool) {
	var r rune
	for i := 0; i < len(h); i++ {
		c := h[i]
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}
