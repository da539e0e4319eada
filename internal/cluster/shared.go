package cluster

import (
	"sync"
	"testing"

	"github.com/go-databases/databases/internal/pgtemp"
)

// shared is the test binary's one Galera cluster: starting one takes
// seconds, so the tests of a package use the same.
var shared struct {
	sync.Mutex
	galera *Galera
	err    error // the first start's error, given to every later caller
}

// SharedGalera returns a 3-node Galera cluster shared by the tests of the
// test binary, started by the first caller. A test that kills a node must
// restart it before it ends, and each test uses tables of its own. The
// package's TestMain must call CloseShared after m.Run. It skips the test
// when the binaries are missing (fails under CI=true).
func SharedGalera(t testing.TB) *Galera {
	t.Helper()
	require(t, galeraMissing())
	shared.Lock()
	defer shared.Unlock()
	if shared.galera == nil && shared.err == nil {
		shared.galera, shared.err = startGalera(3)
		if shared.err == nil {
			t.Logf("3-node Galera cluster synced in %v (shared by the tests of this binary)", shared.galera.StartTime)
		}
	}
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.galera
}

// CloseShared stops the shared clusters, if any were started, and removes
// the template data directory of the private PostgreSQL servers
// (pgtemp.RemoveTemplates).
func CloseShared() {
	shared.Lock()
	defer shared.Unlock()
	if shared.galera != nil {
		shared.galera.Close()
		shared.galera = nil
	}
	pgtemp.RemoveTemplates()
}
