package catalog

import "testing"

// BenchmarkBuildIndex is the one-time cost of the first search in a
// process: decompress the catalog and index the specs' words and the
// requests written for each operation.
func BenchmarkBuildIndex(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		buildIndex()
	}
}
