package cluster

import (
	"testing"

	"github.com/go-databases/databases/internal/dbtest"
)

// TestMain stops the shared Galera cluster after the tests, and ends with
// one line naming what the run skipped.
func TestMain(m *testing.M) {
	dbtest.Main(m, "internal/cluster", CloseShared)
}
