// Package cluster starts real database clusters on loopback for tests: a
// MariaDB Galera cluster, a MariaDB primary with a GTID replica, and a
// PostgreSQL primary with a synchronous standby. Every server runs on free
// loopback ports as the mysql or postgres user, and is stopped by its pid
// and removed when the test (or the shared cluster) ends.
package cluster

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-databases/databases/internal/mytemp"
)

// GaleraProvider is the Galera 4 library of Debian's galera-4 package.
const GaleraProvider = "/usr/lib/galera/libgalera_smm.so"

// Galera is a MariaDB Galera cluster: every node takes writes, and a
// transaction certifies on all of them at COMMIT.
type Galera struct {
	Nodes []*mytemp.Server
	// StartTime is how long the cluster took to have every node synced.
	StartTime time.Duration
}

// galeraMissing says why a Galera cluster cannot run here, or "".
func galeraMissing() string {
	if why := mytemp.Missing(); why != "" {
		return why
	}
	if _, err := os.Stat(GaleraProvider); err != nil {
		return GaleraProvider + " not found; install the galera-4 package to run this test"
	}
	for _, bin := range []string{"rsync", "wsrep_sst_rsync"} {
		if _, err := lookPath(bin); err != nil {
			return bin + " not found; install the rsync and mariadb-server packages to run this test"
		}
	}
	return ""
}

// StartGalera starts an n-node Galera cluster for one test: skipped with a
// message when the binaries are missing (a failure under CI=true), stopped
// and removed when the test ends.
func StartGalera(t testing.TB, n int) *Galera {
	t.Helper()
	require(t, galeraMissing())
	g, err := startGalera(n)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Close)
	return g
}

// startGalera is NewGalera tried twice: on a loaded machine a joining node
// now and then finds the cluster non-Primary while it forms and exits;
// a new cluster, on new ports, then comes up.
func startGalera(n int) (*Galera, error) {
	g, err := NewGalera(n)
	if err != nil {
		g, err = NewGalera(n)
	}
	return g, err
}

// NewGalera starts an n-node Galera cluster on loopback: the first node
// bootstraps a new cluster, the others start from a copy of its data and
// join it. It returns when every node is synced and serves the database
// "test". The caller must Close it.
func NewGalera(n int) (*Galera, error) {
	if why := galeraMissing(); why != "" {
		return nil, errors.New(why)
	}
	start := time.Now()
	type ports struct{ gcomm, ist, sst int }
	ps := make([]ports, n)
	var gcomm []string
	for i := range ps {
		var err error
		for _, p := range []*int{&ps[i].gcomm, &ps[i].ist, &ps[i].sst} {
			if *p, err = mytemp.FreePort(); err != nil {
				return nil, err
			}
		}
		gcomm = append(gcomm, fmt.Sprintf("127.0.0.1:%d", ps[i].gcomm))
	}
	args := func(i int) []string {
		p := ps[i]
		return []string{
			"--wsrep-on=ON",
			"--wsrep-provider=" + GaleraProvider,
			"--wsrep-cluster-name=mytemp",
			"--wsrep-cluster-address=gcomm://" + strings.Join(gcomm, ","),
			fmt.Sprintf("--wsrep-node-name=node%d", i+1),
			fmt.Sprintf("--wsrep-node-address=127.0.0.1:%d", p.gcomm),
			fmt.Sprintf("--wsrep-sst-receive-address=127.0.0.1:%d", p.sst),
			"--wsrep-sst-method=rsync",
			// Failure detection in about 2.5 s, not the default 5 to 15, so
			// a killed node leaves the cluster quickly (shorter timeouts split
			// the cluster while it forms on a loaded 2-core machine).
			fmt.Sprintf("--wsrep-provider-options=gmcast.listen_addr=tcp://127.0.0.1:%d;ist.recv_addr=127.0.0.1:%d;gcache.size=64M;"+
				"evs.keepalive_period=PT0.4S;evs.inactive_check_period=PT0.4S;evs.suspect_timeout=PT1.5S;evs.inactive_timeout=PT3S;evs.install_timeout=PT3S;"+
				"pc.wait_prim_timeout=PT30S", p.gcomm, p.ist),
			"--wsrep-slave-threads=2",
			"--binlog-format=ROW",
			"--default-storage-engine=InnoDB",
			"--innodb-autoinc-lock-mode=2",
		}
	}
	g := &Galera{}
	fail := func(err error) (*Galera, error) {
		g.Close()
		return nil, err
	}
	// The first node bootstraps the cluster's state and stops cleanly; the
	// others start from copies of it, so they join with its history and
	// receive only the few write sets since by incremental transfer, not
	// a full copy (rsync stays the method for a node that rejoins after
	// the others dropped what it missed from their caches).
	first, err := mytemp.New(args(0)...)
	if err != nil {
		return fail(err)
	}
	g.Nodes = append(g.Nodes, first)
	if err := first.Run("--wsrep-new-cluster"); err != nil {
		return fail(fmt.Errorf("galera node 1 (bootstrap): %w", err))
	}
	first.Stop()
	for i := 1; i < n; i++ {
		s, err := mytemp.NewFrom(first, args(i)...)
		if err != nil {
			return fail(err)
		}
		g.Nodes = append(g.Nodes, s)
		for _, f := range []string{"galera.cache", "gvwstate.dat"} {
			if err := os.Remove(filepath.Join(s.Dir, "data", f)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fail(err)
			}
		}
	}
	if err := first.Run("--wsrep-new-cluster"); err != nil {
		return fail(fmt.Errorf("galera node 1 (bootstrap): %w", err))
	}
	// One at a time: joins at once can time out on a loaded machine.
	for i, s := range g.Nodes[1:] {
		if err := s.Run(); err != nil {
			return fail(fmt.Errorf("galera node %d: %w", i+2, err))
		}
	}
	if err := g.WaitSynced(mytemp.StartTimeout); err != nil {
		return fail(err)
	}
	g.StartTime = time.Since(start)
	return g, nil
}

// URLs returns each node's mysql:// URL for the database "test".
func (g *Galera) URLs() []string {
	var out []string
	for _, s := range g.Nodes {
		out = append(out, s.URL())
	}
	return out
}

// HostList is the nodes' addresses as a URL host list,
// "127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3".
func (g *Galera) HostList() string {
	var out []string
	for _, s := range g.Nodes {
		out = append(out, s.Addr())
	}
	return strings.Join(out, ",")
}

// URL is a mysql:// URL for the database "test" with every node in its
// host list.
func (g *Galera) URL() string { return "mysql://root@" + g.HostList() + "/test" }

// Kill ends node i's server (0-based) with SIGKILL, as a crash would.
func (g *Galera) Kill(i int) { g.Nodes[i].Kill() }

// Restart starts node i again after Kill; it rejoins the cluster (by an
// incremental transfer when the others still hold what it missed) and
// Restart returns when it is synced.
func (g *Galera) Restart(i int) error {
	if err := g.Nodes[i].Run(); err != nil {
		return fmt.Errorf("galera node %d: %w", i+1, err)
	}
	return g.WaitSynced(mytemp.StartTimeout)
}

// WaitSynced waits until every running node is Synced, ready, and sees a
// Primary component of all running nodes.
func (g *Galera) WaitSynced(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	running := 0
	for _, s := range g.Nodes {
		if s.Running() {
			running++
		}
	}
	for i, s := range g.Nodes {
		if !s.Running() {
			continue
		}
		for {
			st, err := galeraStatus(s)
			if err == nil && st.ready && st.state == "Synced" && st.status == "Primary" && st.size == running {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("galera node %d not synced within %v: %+v %v\n%s", i+1, timeout, st, err, s.LogTail(30))
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return nil
}

// Close stops every node and removes its directory.
func (g *Galera) Close() {
	var wg sync.WaitGroup
	for _, s := range g.Nodes {
		wg.Go(s.Close)
	}
	wg.Wait()
}
