package tools

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"

	"github.com/jmespath-community/go-jmespath/pkg/functions"
	"github.com/jmespath-community/go-jmespath/pkg/interpreter"
	"github.com/jmespath-community/go-jmespath/pkg/parsing"

	"github.com/clerk-mcp/clerk-mcp/envelope"
)

// The api tool's select argument is a JMESPath expression (the
// jmespath-community dialect, with let and arithmetic) applied to the
// answer's JSON body, so that an agent gets the fields it needs rather
// than pages of them. It runs on the masked body, and its output is
// masked again: no expression can show a credential, whole or rebuilt
// from pieces.

const (
	// maxSelectLen bounds an expression; a projection of a few dozen
	// fields is far shorter.
	maxSelectLen = 2_000
	// maxSelectFanout bounds how many copies of the answer an expression
	// can make (nested multi-select lists and hashes, function arguments):
	// an expression such as [@,@][] | [@,@][] | ... doubles the work at
	// each step, and would exhaust memory long before its output is cut
	// to the budget.
	maxSelectFanout = 64
	// maxSelectOutput bounds a projection's encoded output, and each
	// string a function makes (join, pad_left, replace, to_string).
	maxSelectOutput = 4 * MaxResponseBody
)

// selector is a compiled select expression.
type selector struct {
	expr string
	ast  parsing.ASTNode
}

// selectFunctions are JMESPath's functions, each refusing to make a
// string larger than maxSelectOutput. Built on first use: a server that
// never projects does not pay for the tables at start.
var selectFunctions = sync.OnceValue(func() interpreter.FunctionCaller {
	entries := functions.GetDefaultFunctions()
	for i := range entries {
		name, h := entries[i].Name, entries[i].Handler
		entries[i].Handler = func(args []any) (any, error) {
			if n := producedLen(name, args); n > maxSelectOutput {
				return nil, fmt.Errorf("%s would make a string of %d characters; the limit is %d", name, n, maxSelectOutput)
			}
			return h(args)
		}
	}
	return interpreter.NewFunctionCaller(entries...)
})

// knownFunctions names the functions an expression may call.
var knownFunctions = sync.OnceValue(func() map[string]bool {
	m := map[string]bool{}
	for _, f := range functions.GetDefaultFunctions() {
		m[f.Name] = true
	}
	return m
})

// compileSelect compiles expr, or returns nil for an empty one. It fails
// with invalid_input before anything is sent, so that a mistyped
// expression costs no call to Clerk (and no second write).
func compileSelect(expr string) (*selector, error) {
	if strings.TrimSpace(expr) == "" {
		return nil, nil
	}
	if len(expr) > maxSelectLen {
		return nil, envelope.InvalidInput(fmt.Sprintf("select is longer than %d characters; select fewer fields", maxSelectLen))
	}
	ast, err := parsing.NewParser().Parse(expr)
	if err != nil {
		msg := "select is not a valid JMESPath expression: " + err.Error()
		var se parsing.SyntaxError
		if errors.As(err, &se) {
			msg += fmt.Sprintf(" (at character %d)", se.Offset)
		}
		return nil, envelope.InvalidInput(msg + `; for example "data[].{id: id, email: email_addresses[0].email_address}"`)
	}
	if name := unknownFunction(ast); name != "" {
		return nil, envelope.InvalidInput(fmt.Sprintf("select calls %s(), which JMESPath does not have", name))
	}
	if f := fanout(ast); f > maxSelectFanout {
		return nil, envelope.InvalidInput(fmt.Sprintf("select copies the answer up to %.0f times (multi-select lists and hashes, nested); the limit is %d: select fewer fields", f, maxSelectFanout))
	}
	return &selector{expr: expr, ast: ast}, nil
}

// unknownFunction returns the name of a function n calls that does not
// exist, or "": the library would only find out while searching, after
// the call was made.
func unknownFunction(n parsing.ASTNode) string {
	if name, ok := n.Value.(string); ok && n.NodeType == parsing.ASTFunctionExpression && !knownFunctions()[name] {
		return name
	}
	for _, c := range n.Children {
		if name := unknownFunction(c); name != "" {
			return name
		}
	}
	return ""
}

// fanout bounds how many times the value n evaluates to can repeat its
// input: nodes that combine their children's results (multi-selects,
// function arguments, operators) add them up; the others chain their
// children (a.b, a | b, projections, let) and multiply them.
func fanout(n parsing.ASTNode) float64 {
	if len(n.Children) == 0 {
		return 1
	}
	switch n.NodeType {
	case parsing.ASTMultiSelectList, parsing.ASTMultiSelectHash, parsing.ASTFunctionExpression,
		parsing.ASTOrExpression, parsing.ASTAndExpression, parsing.ASTComparator, parsing.ASTArithmeticExpression:
		sum := 0.0
		for _, c := range n.Children {
			sum += fanout(c)
		}
		return sum
	}
	product := 1.0
	for _, c := range n.Children {
		// Capped so that a long chain cannot overflow to +Inf and back.
		product = math.Min(product*fanout(c), math.MaxFloat32)
	}
	return product
}

// producedLen is the length of the string the function name would make
// from args, for the functions whose output can be much larger than their
// input; 0 for the others.
func producedLen(name string, args []any) int {
	str := func(i int) string {
		if i < len(args) {
			s, _ := args[i].(string)
			return s
		}
		return ""
	}
	switch name {
	case "pad_left", "pad_right":
		if w, ok := args[min(1, len(args)-1)].(float64); ok && len(args) > 1 {
			return int(math.Min(w, math.MaxInt32))
		}
	case "join":
		items, _ := args[1].([]any)
		n := len(str(0)) * len(items)
		for _, it := range items {
			s, _ := it.(string)
			n += len(s)
		}
		return n
	case "replace":
		subject, old, repl := str(0), str(1), str(2)
		if old == "" {
			return len(subject) + (len(subject)+1)*len(repl)
		}
		return len(subject) + strings.Count(subject, old)*max(0, len(repl)-len(old))
	case "to_string":
		return encodedSize(args[0], maxSelectOutput+1)
	}
	return 0
}

// encodedSize estimates the encoded size of v, a value from JSON or from a
// search, counting no further than limit: a value that repeats another
// thousands of times is cheap to hold and costly to encode.
func encodedSize(v any, limit int) int {
	n := 0
	var walk func(v any)
	walk = func(v any) {
		if n > limit {
			return
		}
		switch x := v.(type) {
		case string:
			n += len(x) + 2
		case []any:
			n += 2 + len(x)
			for _, e := range x {
				walk(e)
			}
		case map[string]any:
			n += 2 + len(x)
			for k, e := range x {
				n += len(k) + 3
				walk(e)
			}
		default:
			n += 8
		}
	}
	walk(v)
	return n
}

// apply runs the expression on body, a masked JSON answer, and returns the
// projection, masked again. On failure it returns body unchanged and a note
// saying why: the call has been made, and an agent is better served by
// the answer and the reason than by an error hiding whether it succeeded.
func (s *selector) apply(m *masker, body []byte) (out []byte, note string) {
	var data any
	if err := json.Unmarshal(body, &data); err != nil {
		return body, "select was not applied: the answer is not JSON"
	}
	result, err := s.search(data)
	if err != nil {
		return body, fmt.Sprintf("select was not applied (%v); the whole answer is shown", err)
	}
	if n := encodedSize(result, maxSelectOutput+1); n > maxSelectOutput {
		return body, fmt.Sprintf("select was not applied: its result would be over %d characters; the whole answer is shown", maxSelectOutput)
	}
	out, err = json.Marshal(result)
	if err != nil {
		return body, fmt.Sprintf("select was not applied (%v); the whole answer is shown", err)
	}
	if result == nil && data != nil {
		note = "select matched nothing (null)"
		if _, list := data.([]any); list {
			note += `: this answer is a JSON array, so start the expression with [] (e.g. "[].id"), not with a field name`
		}
	}
	return m.bytes(out), note
}

// search evaluates the expression, turning a panic of the library into an
// error: an expression is the agent's input, and a bug it triggers must
// not cost the answer.
func (s *selector) search(data any) (result any, err error) {
	defer func() {
		if p := recover(); p != nil {
			result, err = nil, fmt.Errorf("JMESPath failed on this expression: %v", p)
		}
	}()
	return interpreter.NewInterpreter(data, selectFunctions(), nil).Execute(s.ast, data)
}
