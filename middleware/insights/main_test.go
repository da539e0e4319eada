package insights_test

import (
	"testing"

	"github.com/go-databases/databases/internal/dbtest"
)

// TestMain ends the run with one line naming what it skipped.
func TestMain(m *testing.M) { dbtest.Main(m, "middleware/insights") }
