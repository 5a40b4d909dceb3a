//go:build !linux

package main

import "testing"

// rssLimit: see limits_linux_test.go.
const rssLimit = 64 << 20

// peakRSS is unknown outside Linux: 0.
func peakRSS(*testing.T, int) int64 { return 0 }
