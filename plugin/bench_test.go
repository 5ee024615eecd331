package plugin

import (
	"context"
	"testing"

	proto "github.com/notaryproject/notation-plugin-framework-go/plugin"
)

// BenchmarkGetMetadata measures get-plugin-metadata in-process (as
// notation-go calls a linked plugin): a static answer, no AWS config.
func BenchmarkGetMetadata(b *testing.B) {
	p := New()
	req := &proto.GetMetadataRequest{}
	for b.Loop() {
		if _, err := p.GetMetadata(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
}
