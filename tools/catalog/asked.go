package catalog

import (
	"math"
	"strings"
)

// The lexicon maps a user's words to the catalog's, one word or idiom at a
// time; it cannot know every way of saying what an operation is for. The
// catalog therefore also carries requests people wrote for each operation
// (requests/*.json, see requests/README.md), and a query is compared with
// them as a whole: "a customer never got her invite, send it again" is
// close to the requests written for resending an invitation even where no
// single word of it is in the operation's summary.
//
// The requests are one more document per operation, scored by BM25 on
// what their words mean in the lexicon and on adjacent pairs of words,
// and normalised by the best score of the query, so that how many words a
// query has does not change how much this evidence weighs against the
// rest of the rank.

// Weights of the requests' evidence, chosen on the development intents
// (testdata/dev_intents*.json) and the ranking cases of catalog_test.go,
// never on the held-out intents.
const (
	// askedWeight is how much the best-matching operation's requests add
	// to its rank: more than the rank's other bonuses (a resource named:
	// 3), because whole requests tell operations apart better than any
	// one word does.
	askedWeight = 20.0

	// askedRamp is the number of words from which a query's requests count
	// in full. A terse query ("get organization") says what it wants in the
	// catalog's own words, and two words are too few to tell apart
	// requests written for an organization and for its settings; a long
	// one in a user's words ("a customer says she never got her invite")
	// is where the lexicon falls short.
	askedRamp = 3.0

	// askedK1 and askedB are BM25's saturation and length normalisation
	// for the requests documents.
	askedK1 = 1.2
	askedB  = 0.5
)

// askedIndex is the inverted index of the requests written for each
// operation.
type askedIndex struct {
	ids      map[term]int32 // a term's number, for the slices below
	postings [][]posting
	idf      []float64
}

// term is a hash of a term's text (see hashed): the index keeps no
// strings, and a term built of two words is hashed without joining them.
type term uint64

// hashed continues FNV-1a over s.
func hashed(h term, s string) term {
	for i := 0; i < len(s); i++ {
		h ^= term(s[i])
		h *= 1099511628211
	}
	return h
}

// termOf is the term of one word or phrase.
func termOf(s string) term { return hashed(14695981039346656037, s) }

// pairOf is the term of two adjacent words: FNV-1a continued over the
// bytes of the second word's term.
func pairOf(a, b term) term {
	h := hashed(a, "_")
	for i := range 8 {
		h ^= b >> (8 * i) & 0xff
		h *= 1099511628211
	}
	return h
}

// buildAsked indexes asked[i], the requests written for endpoint i.
func buildAsked(asked [][]string) askedIndex {
	// Terms are numbered as they come and counted in one reused slice:
	// a map per operation would be rebuilt and rehashed 300 times.
	ids := map[term]int32{}
	var postings [][]posting
	counts := []float64{}
	lengths := make([]float64, len(asked))
	perOp := make([][]int32, len(asked)) // the terms each operation has
	var avg float64
	for i, reqs := range asked {
		for _, r := range reqs {
			for _, t := range askedTerms(r) {
				id, ok := ids[t]
				if !ok {
					id = int32(len(postings))
					ids[t] = id
					counts = append(counts, 0)
					postings = append(postings, nil)
				}
				if counts[id] == 0 {
					perOp[i] = append(perOp[i], id)
				}
				counts[id]++
				lengths[i]++
			}
		}
		avg += lengths[i] / float64(len(asked))
		// The raw count for now: BM25 needs every length first. Postings
		// come in endpoint order, as scoring expects.
		for _, id := range perOp[i] {
			postings[id] = append(postings[id], posting{int32(i), float32(counts[id])})
			counts[id] = 0
		}
	}
	ai := askedIndex{ids: ids, postings: postings, idf: make([]float64, len(postings))}
	n := float64(len(asked))
	for id, ps := range postings {
		for k := range ps {
			f := float64(ps[k].weight)
			norm := 1 - askedB + askedB*lengths[ps[k].ep]/max(avg, 1)
			ps[k].weight = float32(f * (askedK1 + 1) / (f + askedK1*norm))
		}
		df := float64(len(ps))
		ai.idf[id] = math.Log(1 + (n-df+0.5)/(df+0.5))
	}
	return ai
}

// score returns each endpoint's match with the query's terms, scaled so
// that the best endpoint scores 1 when the query has askedRamp words or
// more, less for shorter ones; nil when nothing matches.
func (ai *askedIndex) score(query string, n int) []float64 {
	var out []float64
	best := 0.0
	seen := map[term]bool{}
	terms, words := askedTermsN(query)
	for _, t := range terms {
		if seen[t] {
			continue
		}
		seen[t] = true
		id, ok := ai.ids[t]
		if !ok {
			continue
		}
		idf := ai.idf[id]
		for _, p := range ai.postings[id] {
			if out == nil {
				out = make([]float64, n)
			}
			out[p.ep] += float64(p.weight) * idf
			best = max(best, out[p.ep])
		}
	}
	if best == 0 {
		return nil
	}
	scale := min(1, float64(words-1)/askedRamp) / best
	for i := range out {
		out[i] *= scale
	}
	return out
}

// askedTerms are what s says in the catalog's terms: each content word's
// stem, or the lexicon phrase it starts ("sign in as"), with what the
// lexicon says it means ("team" means organization, "kick" asks to
// delete), and each adjacent pair of words ("sign_in" is not "sign_up").
// Requests and queries go through the same mapping, so "org", "team" and
// "organization" meet wherever they are written.
func askedTerms(s string) []term {
	terms, _ := askedTermsN(s)
	return terms
}

// askedTermsN is askedTerms with the number of words and phrases found.
func askedTermsN(s string) ([]term, int) {
	v := vocab()
	raw := tokens(s)
	stems := make([]string, len(raw))
	for i, t := range raw {
		stems[i] = stem(t)
	}
	var words, out []term
	var key []byte
	for i := 0; i < len(stems); {
		n := 0
		var sn sense
		for l := min(v.longest, len(stems)-i); l >= 1; l-- {
			key = key[:0]
			for k, st := range stems[i : i+l] {
				if k > 0 {
					key = append(key, ' ')
				}
				key = append(key, st...)
			}
			if s, ok := v.senses[string(key)]; ok { // no allocation: the compiler converts in place
				n, sn = l, s
				break
			}
		}
		if n == 0 {
			if (!v.stopwords[raw[i]] || v.particles[raw[i]]) && len(raw[i]) > 1 && !isLiteral(raw[i]) && !v.sampleNames[raw[i]] {
				words = append(words, termOf(stems[i]))
			}
			i++
			continue
		}
		phrase := termOf(stems[i])
		for _, st := range stems[i+1 : i+n] {
			phrase = hashed(hashed(phrase, "_"), st)
		}
		words = append(words, phrase)
		for _, t := range sn.terms {
			t, _, _ = strings.Cut(t, "/")
			for _, w := range tokens(t) {
				out = append(out, termOf(stem(w)))
			}
		}
		if sn.verb != "" {
			out = append(out, hashed(termOf("do:"), classOf(sn.verb)))
		}
		i += n
	}
	out = append(out, words...)
	for i := 1; i < len(words); i++ {
		out = append(out, pairOf(words[i-1], words[i]))
	}
	return out, len(words)
}

// particles are stopwords that change a verb's meaning: "sign in", "sign
// out", "log in as", "turn off".
const particles = "in out on off as up"

// isLiteral reports whether a token is a value rather than a word: an id's
// random part or a number ("2abc", "123") says nothing of the operation.
func isLiteral(t string) bool {
	for _, r := range t {
		if '0' <= r && r <= '9' {
			return true
		}
	}
	return false
}

// askedAlone is how close to the best match an endpoint's requests must
// come for it to be ranked when none of the query's words is in its own
// text: further down, it has no chance of the first places.
const askedAlone = 0.5
