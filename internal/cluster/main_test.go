package cluster

import (
	"os"
	"testing"
)

// TestMain stops the shared Galera cluster after the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	CloseShared()
	os.Exit(code)
}
