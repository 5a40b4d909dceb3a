package safetext

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestClean(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"Ada Lovelace <ada@example.com>", "Ada Lovelace <ada@example.com>"},
		{"Zoë 李 Ωμέγα 🙂", "Zoë 李 Ωμέγα 🙂"},
		{"\x1b[31mred\x1b[0m", "[31mred[0m"},
		{"title\x1b]0;owned\x07", "title]0;owned"},
		{"invalid_cli\nt", "invalid_cli t"},
		{"line1\r\nline2\n\n\tline3", "line1 line2 line3"},
		{"a\r\x1b[2Kb", "a [2Kb"},
		{"nul\x00del\x7f", "nuldel"},
		{"c1\u0085next\u009bcsi", "c1 nextcsi"},
		{"raw\x9bbyte", "raw\ufffdbyte"},
		{"evil\u202emoc.krelc", "evilmoc.krelc"},
		{"\u2066iso\u2069\u200e\u200f\u061c", "iso"},
		{"para\u2028graph\u2029", "para graph "},
	} {
		if got := Clean(tc.in); got != tc.want {
			t.Errorf("Clean(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestCleanAllocatesNothingForCleanText(t *testing.T) {
	s := strings.Repeat("user_2abc@example.com ", 10)
	if n := testing.AllocsPerRun(100, func() { Clean(s) }); n != 0 {
		t.Fatalf("Clean allocated %v times for clean text", n)
	}
}

func FuzzClean(f *testing.F) {
	f.Add("\x1b[31m\r\n\u202e\x9b")
	f.Fuzz(func(t *testing.T, s string) {
		got := Clean(s)
		if !utf8.ValidString(got) {
			t.Fatalf("Clean(%q) = %q, not valid UTF-8", s, got)
		}
		for _, r := range got {
			if isUnsafe(r) || (isSpaceControl(r)) {
				t.Fatalf("Clean(%q) = %q keeps %U", s, got, r)
			}
		}
		if again := Clean(got); again != got {
			t.Fatalf("Clean is not idempotent: %q then %q", got, again)
		}
	})
}

func TestTruncateAndLine(t *testing.T) {
	for _, c := range []struct {
		in   string
		max  int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"abcdefghijk", 5, "abcde..."},
		{"héllo", 2, "h..."}, // the cut would split é: it is dropped, not mangled
		{"日本語", 4, "日..."},
	} {
		if got := Truncate(c.in, c.max); got != c.want {
			t.Errorf("Truncate(%q, %d) = %q, want %q", c.in, c.max, got, c.want)
		}
	}
	if got := Line("a\x1b[31mb\nc", 100); got != "a[31mb c" {
		t.Errorf("Line cleans: got %q", got)
	}
	if got := Line("line one\nline two", 6); got != "line o..." {
		t.Errorf("Line cuts after cleaning: got %q", got)
	}
}
