package databases

import (
	"testing"

	"github.com/go-databases/databases/internal/dsn"
)

// TestEveryDialectHasABackend: every scheme the URL parser accepts selects
// a dialect that has a backend, so that a dialect added to internal/dsn
// without its backend_x.go fails here rather than at the first Open.
func TestEveryDialectHasABackend(t *testing.T) {
	for scheme, d := range dsn.Schemes {
		if backendOf(d) == nil {
			t.Errorf("scheme %s: dialect %s has no backend in backends (backend.go)", scheme, d)
		}
	}
	if len(backends) != 3 {
		t.Errorf("%d backends; the schemes name 3 dialects", len(backends))
	}
}
