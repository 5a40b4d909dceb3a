package clients

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
)

// Every edit is checked before it is written: the result is decoded and
// compared with the document the edit meant to produce (the old one with
// only our entry changed). A scanner bug or a construct it misreads then
// costs the user a refusal, never a setting.

// decodeTop decodes the top level of JSON with comments, leaving each
// value raw (comments blanked). An empty file is an empty object.
func decodeTop(src []byte) (map[string]json.RawMessage, error) {
	top := map[string]json.RawMessage{}
	if len(bytes.TrimSpace(src)) == 0 {
		return top, nil
	}
	blanked, err := blank(src)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(blanked, &top); err != nil {
		return nil, err
	}
	return top, nil
}

// decodeValue decodes raw JSON; numbers stay json.Numbers so that none is
// rounded.
func decodeValue(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}

// jsonValue is v as decodeValue would give it back.
func jsonValue(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	out, _ := decodeValue(b)
	return out
}

// checkedJSON runs edit on src and checks its result. Every top-level
// value but head must come out byte for byte (cheap even for a 20 MB
// ~/.claude.json); head is decoded before and after, and intend applies
// the intended change to the old doc (which holds head alone), seeing the
// new one.
func checkedJSON(src []byte, head string, edit func() ([]byte, error), intend func(want, got map[string]any) error) ([]byte, error) {
	before, err := decodeTop(src)
	if err != nil {
		return nil, err
	}
	out, err := edit()
	if err != nil {
		return nil, err
	}
	after, err := decodeTop(out)
	if err != nil {
		return nil, fmt.Errorf("the result would not parse (%v): %w", err, errByHand)
	}
	differ := fmt.Errorf("the result would differ from the intended edit: %w", errByHand)
	others := func(top map[string]json.RawMessage) int {
		if _, ok := top[head]; ok {
			return len(top) - 1
		}
		return len(top)
	}
	if others(before) != others(after) {
		return nil, differ
	}
	for k, v := range before {
		if w, ok := after[k]; k != head && (!ok || !bytes.Equal(v, w)) {
			return nil, differ
		}
	}
	want, err1 := headDoc(before, head)
	got, err2 := headDoc(after, head)
	if err1 != nil || err2 != nil {
		return nil, differ
	}
	if err := intend(want, got); err != nil {
		return nil, err
	}
	if !sameValue(got, want) {
		return nil, differ
	}
	return out, nil
}

// headDoc is a document holding top's head value alone, decoded.
func headDoc(top map[string]json.RawMessage, head string) (map[string]any, error) {
	doc := map[string]any{}
	if raw, ok := top[head]; ok {
		v, err := decodeValue(raw)
		if err != nil {
			return nil, err
		}
		doc[head] = v
	}
	return doc, nil
}

// objectIn returns the object reached through path in doc, creating the
// missing ones when create is set.
func objectIn(doc map[string]any, path []string, create bool) (map[string]any, bool) {
	o := doc
	for _, key := range path {
		next, ok := o[key].(map[string]any)
		if !ok {
			if _, exists := o[key]; exists || !create {
				return nil, false
			}
			next = map[string]any{}
			o[key] = next
		}
		o = next
	}
	return o, true
}

// sameValue is reflect.DeepEqual, except that NaN equals NaN: TOML can
// spell it, and a file holding one is still the same file.
func sameValue(a, b any) bool {
	switch a := a.(type) {
	case map[string]any:
		b, ok := b.(map[string]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for k, v := range a {
			w, ok := b[k]
			if !ok || !sameValue(v, w) {
				return false
			}
		}
		return true
	case []any:
		b, ok := b.([]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for i := range a {
			if !sameValue(a[i], b[i]) {
				return false
			}
		}
		return true
	case float64:
		b, ok := b.(float64)
		return ok && (a == b || math.IsNaN(a) && math.IsNaN(b))
	}
	return reflect.DeepEqual(a, b)
}
