package catalog

import (
	"strings"
	"testing"
)

// Two phrases of the lexicon that stem alike ("leak" and "leaked") would
// make the meaning of a query depend on map order.
func TestLexiconStemsAreUnique(t *testing.T) {
	key := func(phrase string) string {
		toks := tokens(phrase)
		for i, tok := range toks {
			toks[i] = stem(tok)
		}
		return strings.Join(toks, " ")
	}
	seen := map[string]string{}
	for phrase := range lexicon() {
		k := key(phrase)
		if other, ok := seen[k]; ok {
			t.Errorf("lexicon: %q and %q both stem to %q", phrase, other, k)
		}
		seen[k] = phrase
	}
	verbWords := verbWords()
	verbs := map[string]string{}
	for phrase := range verbWords {
		k := key(phrase)
		if other, ok := verbs[k]; ok && verbWords[other] != verbWords[phrase] {
			t.Errorf("verbWords: %q and %q both stem to %q", phrase, other, k)
		}
		verbs[k] = phrase
	}
}
