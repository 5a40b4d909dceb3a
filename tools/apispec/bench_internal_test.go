package apispec

import (
	"context"
	"testing"
)

// BenchmarkParseBackend is the one-time cost of the first checked Backend
// call in a process: decompress and decode the embedded request checks,
// and compile the schema of the operation called (CreateUser).
func BenchmarkParseBackend(b *testing.B) {
	req := Request{Method: "POST", Path: "/users", Body: []byte(`{"email_address":["ada@example.com"],"first_name":"Ada"}`)}
	b.ReportAllocs()
	for b.Loop() {
		s, err := parseGzip("backend", backendGz)
		if err != nil {
			b.Fatal(err)
		}
		if err := s.CheckRequest(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCheckRequest is the cost of checking one CreateUser body.
func BenchmarkCheckRequest(b *testing.B) {
	s, err := Backend()
	if err != nil {
		b.Fatal(err)
	}
	req := Request{Method: "POST", Path: "/users", Body: []byte(`{"email_address":["ada@example.com"],"first_name":"Ada"}`)}
	b.ReportAllocs()
	for b.Loop() {
		if err := s.CheckRequest(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
}
