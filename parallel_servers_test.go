package databases

import "testing"

// serverTests is how many parallel tests that start servers of their own
// (private PostgreSQL and MariaDB servers, primary/replica pairs) run at
// once. Such a test mostly waits: for its servers to start, for a replica
// to catch up, for a drill's count within drillBound. Run together, their
// waits overlap; run many at once, their starts (initdb,
// mariadb-install-db, pg_basebackup) compete for the CI machine's two
// cores and stretch the drills' stale-replica windows (700 ms, 1 s) that
// some assertions need. Four pairs of servers at once is what the
// cluster tier was measured with (docs/testing.md).
const serverTests = 4

// serverSlots holds a token for each parallel test that starts servers.
var serverSlots = make(chan struct{}, serverTests)

// parallelServers marks t parallel and, once it runs, waits for one of
// serverTests slots, held until t and its cleanups (which stop its
// servers) are done. Only a test that starts servers of its own, and
// no test whose subtests do, calls it: a parent holding a slot while its
// subtests wait for one could wait forever. A test that only groups such
// subtests calls t.Parallel itself.
func parallelServers(t *testing.T) {
	t.Helper()
	t.Parallel()
	serverSlots <- struct{}{}
	t.Cleanup(func() { <-serverSlots })
}
