package apispec

//go:generate go run ./gen

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"fmt"
	"io"
	"sync"
)

// The request-check copies of the specs (see gen). Parsed on first use:
// a server that never checks a request never pays for them.
var (
	//go:embed backend.json.gz
	backendGz []byte
	//go:embed platform.json.gz
	platformGz []byte

	backend  = sync.OnceValues(func() (*Spec, error) { return parseGzip(backendGz) })
	platform = sync.OnceValues(func() (*Spec, error) { return parseGzip(platformGz) })
)

// Backend returns the embedded Backend API spec, parsed once.
func Backend() (*Spec, error) { return backend() }

// Platform returns the embedded Platform API spec, parsed once.
func Platform() (*Spec, error) { return platform() }

func parseGzip(data []byte) (*Spec, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("open embedded spec: %w", err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("read embedded spec: %w", err)
	}
	return Parse(raw)
}
