package databases

import (
	"testing"

	"github.com/go-databases/databases/internal/cluster"
	"github.com/go-databases/databases/internal/dbtest"
)

// TestMain stops the Galera cluster the tests share, if one was started,
// and ends with one line naming what the run skipped (servers not
// configured, tests that start their own servers).
func TestMain(m *testing.M) {
	dbtest.Main(m, "databases", cluster.CloseShared)
}
