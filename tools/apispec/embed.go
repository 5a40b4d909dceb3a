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

// The request checks of each API (see gen). Decoded on first use: a
// server that never checks a request never pays for them.
var (
	//go:embed backend.json.gz
	backendGz []byte
	//go:embed platform.json.gz
	platformGz []byte

	backend  = sync.OnceValues(func() (*Spec, error) { return parseGzip("backend", backendGz) })
	platform = sync.OnceValues(func() (*Spec, error) { return parseGzip("platform", platformGz) })
)

// Backend returns the request checks of the Backend API, decoded once.
func Backend() (*Spec, error) { return backend() }

// Platform returns the request checks of the Platform API, decoded once.
func Platform() (*Spec, error) { return platform() }

func parseGzip(name string, data []byte) (*Spec, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("open embedded spec: %w", err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("read embedded spec: %w", err)
	}
	return parse(name, raw)
}
