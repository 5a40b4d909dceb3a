// Package safetext makes strings that come from the network safe to show.
package safetext

import (
	"strings"
	"unicode/utf8"
)

// Clean returns s with every character that could change how a terminal,
// a log line or an error message is read removed or neutralised. Names,
// emails, device codes, URLs and OAuth error codes come from servers that
// clerk-mcp does not control; printed raw, an ESC sequence recolours or
// rewrites the user's terminal (or retitles it, or writes a file through a
// hostile emulator), a newline forges a log line or a second message, and a
// bidirectional override makes "evil.com/clerk.com" read as something else.
//
// A run of line breaks and tabs (including NEL, U+2028 and U+2029) becomes
// one space, so a message stays on one line with its words apart. Other C0
// controls, DEL, C1 controls (which some terminals obey like ESC
// sequences), the bidirectional embeddings, overrides, isolates and marks
// are dropped. Invalid UTF-8 becomes U+FFFD, because a stray byte such as
// 0x9B is CSI to an 8-bit terminal. Everything else, including non-Latin
// scripts, is kept: a user's real name must survive.
func Clean(s string) string {
	if isClean(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	inBreak := false // in a run of line breaks and tabs
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteRune(utf8.RuneError)
		case isSpaceControl(r):
			if !inBreak {
				b.WriteByte(' ')
			}
			inBreak = true
			continue
		case isUnsafe(r):
			continue // dropped, and does not end a run of breaks
		default:
			b.WriteRune(r)
		}
		inBreak = false
	}
	return b.String()
}

// isClean reports whether Clean would return s unchanged, so the common
// case allocates nothing.
func isClean(s string) bool {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || isSpaceControl(r) || isUnsafe(r) {
			return false
		}
		i += size
	}
	return true
}

func isSpaceControl(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', 0x85, 0x2028, 0x2029:
		return true
	}
	return false
}

func isUnsafe(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f:
		return true // C0, DEL, C1
	case r == 0x061c, r == 0x200e, r == 0x200f:
		return true // Arabic letter mark, LRM, RLM
	case r >= 0x202a && r <= 0x202e:
		return true // LRE, RLE, PDF, LRO, RLO
	case r >= 0x2066 && r <= 0x2069:
		return true // LRI, RLI, FSI, PDI
	}
	return false
}

// Truncate cuts s to at most max bytes, on a character boundary, and
// marks a cut with "...": a server chooses how long its text is, a
// message or a log line should not be a page.
func Truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	return strings.ToValidUTF8(s[:max], "") + "..."
}

// Line is Clean(s) cut to at most max bytes (see Truncate): text from the
// network fit for one line of a message.
func Line(s string, max int) string { return Truncate(Clean(s), max) }
