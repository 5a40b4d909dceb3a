package catalog

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// The ASCII fast path of tokens splits exactly as the general one: on the
// requests, the intents and random ASCII.
func TestASCIITokensMatchRunes(t *testing.T) {
	var texts []string
	files, _ := filepath.Glob("requests/*.json")
	more, _ := filepath.Glob("testdata/*.json")
	for _, name := range append(files, more...) {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		var cases []struct{ Intent string }
		if err := json.Unmarshal(data, &cases); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, c := range cases {
			texts = append(texts, c.Intent)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	const alphabet = "aAzZ09 _-./@:{}XyZabcDEF"
	for range 5000 {
		b := make([]byte, r.IntN(24))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		texts = append(texts, string(b))
	}
	for _, s := range texts {
		if !isASCII(s) {
			continue
		}
		if a, b := asciiTokens(s), runeTokens(s); !slices.Equal(a, b) {
			t.Fatalf("%q: ascii %q, runes %q", s, a, b)
		}
	}
}
