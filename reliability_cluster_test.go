package databases

// Fault drills against real clusters started on loopback by
// internal/cluster: a 3-node MariaDB Galera cluster (shared by the tests of
// this binary; TestMain stops it) and a PostgreSQL primary with a
// synchronous standby.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/go-databases/databases/internal/cluster"
	"github.com/go-databases/databases/internal/dbtest"
)

// clusterWorkload runs the transfer workload (createTransferTables and
// transferTables.transfer) on a pool that reaches a cluster through a host
// list. Each transfer also records a reference of its own in an acks table,
// in the same transaction, so that the check can tell which transfers
// committed: every acknowledged one must be there, one whose COMMIT's
// outcome is unknown may be, and one that failed otherwise must not.
type clusterWorkload struct {
	t         *testing.T
	db        *sql.DB
	tt        transferTables
	acks      string
	portQuery string             // the port of the server that ran the transfer
	classify  func(error) string // "" for an error the drill does not expect
	st        transferStats

	mu       sync.Mutex
	acked    map[int64]bool
	unknown  map[int64]bool  // failed with ErrCommitUnknown
	failed   map[int64]error // failed otherwise: rolled back
	runs     map[int64]int   // how many times Transact ran the transfer
	byPort   map[int]int     // acknowledged transfers per server port
	ackTimes []ackTime

	nextRef  atomic.Int64
	stop     chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup
}

// ackTime is when an acknowledged transfer began and ended.
type ackTime struct{ began, ended time.Time }

// newClusterWorkload creates the tables through db; start starts the
// workers.
func newClusterWorkload(t *testing.T, db *sql.DB, dialect string, classify func(error) string) *clusterWorkload {
	t.Helper()
	w := &clusterWorkload{
		t: t, db: db, classify: classify,
		tt:      createTransferTables(t, db, dialect),
		acks:    dbtest.Name("rel_acks"),
		acked:   map[int64]bool{},
		unknown: map[int64]bool{},
		failed:  map[int64]error{},
		runs:    map[int64]int{},
		byPort:  map[int]int{},
		stop:    make(chan struct{}),
	}
	w.portQuery = "SELECT @@port"
	if dialect == "postgres" {
		w.portQuery = "SELECT inet_server_port()"
	}
	if _, err := db.Exec("CREATE TABLE " + w.acks + " (ref BIGINT PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Exec("DROP TABLE " + w.acks) })
	return w
}

// start starts workers goroutines of transfers; finish stops them.
func (w *clusterWorkload) start(workers int) {
	for range workers {
		w.wg.Go(w.work)
	}
}

func (w *clusterWorkload) work() {
	for {
		select {
		case <-w.stop:
			return
		default:
		}
		ref := w.nextRef.Add(1)
		src := rand.IntN(transferAccounts) + 1
		dst := rand.IntN(transferAccounts-1) + 1
		if dst >= src {
			dst++
		}
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		began := time.Now()
		var port, runs int
		step := "BEGIN"
		err := Transact(ctx, w.db, nil, func(ctx context.Context, tx *sql.Tx) error {
			runs++
			step = "SELECT port"
			if err := tx.QueryRowContext(ctx, w.portQuery).Scan(&port); err != nil {
				return err
			}
			// A nested Transact: a savepoint in this transaction.
			step = "nested transfer"
			if err := w.tt.transfer(ctx, w.db, src, dst, rand.IntN(50)+1); err != nil {
				return err
			}
			step = "INSERT ref"
			_, err := tx.ExecContext(ctx, "INSERT INTO "+w.acks+" (ref) VALUES (?)", ref)
			step = "COMMIT"
			return err
		})
		cancel()
		w.mu.Lock()
		w.runs[ref] = runs
		switch {
		case err == nil:
			w.st.ok.Add(1)
			w.acked[ref] = true
			w.byPort[port]++
			w.ackTimes = append(w.ackTimes, ackTime{began, time.Now()})
		case errors.Is(err, ErrCommitUnknown):
			w.unknown[ref] = true
		default:
			w.failed[ref] = err
		}
		w.mu.Unlock()
		if err != nil {
			kind := "COMMIT outcome unknown (ErrCommitUnknown)"
			if !errors.Is(err, ErrCommitUnknown) {
				kind = w.classify(err)
			}
			if kind == "" {
				w.t.Errorf("unexpected error from a transfer (last step %s): %v (%T)", step, err, err)
				kind = "unexpected"
			}
			w.st.fail(kind, err)
			time.Sleep(10 * time.Millisecond) // no busy loop while no server serves
		}
	}
}

// ackedSince waits up to timeout for a transfer that began at or after t0
// to be acknowledged, and returns how long after t0 it was.
func (w *clusterWorkload) ackedSince(t0 time.Time, timeout time.Duration) (time.Duration, bool) {
	var first time.Time
	ok := eventually(timeout, func() bool {
		w.mu.Lock()
		defer w.mu.Unlock()
		for _, a := range w.ackTimes {
			if a.began.Before(t0) {
				continue
			}
			if first.IsZero() || a.ended.Before(first) {
				first = a.ended
			}
		}
		return !first.IsZero()
	})
	return first.Sub(t0), ok
}

// waitAcks waits until n transfers were acknowledged at or after from, or
// timeout passes, and returns how many were: a count, so that a loaded
// machine slows the drill rather than failing it.
func (w *clusterWorkload) waitAcks(from time.Time, n int, timeout time.Duration) int {
	var got int
	eventually(timeout, func() bool {
		got = w.acksBetween(from, time.Now().Add(time.Hour))
		return got >= n
	})
	return got
}

// acksBetween counts the transfers acknowledged between from and to.
func (w *clusterWorkload) acksBetween(from, to time.Time) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, a := range w.ackTimes {
		if !a.ended.Before(from) && a.ended.Before(to) {
			n++
		}
	}
	return n
}

// rerun counts the transfers Transact ran more than once.
func (w *clusterWorkload) rerun() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, runs := range w.runs {
		if runs > 1 {
			n++
		}
	}
	return n
}

// finish stops the workers and waits for them.
func (w *clusterWorkload) finish() {
	w.stopOnce.Do(func() { close(w.stop) })
	w.wg.Wait()
}

// check checks the data as one server (node) has it: checkTransfers (money
// conserved, balances match the ledger, the ledger's size between the
// acknowledged and the attempted transfers), then every acknowledged
// transfer's reference is there, none of a transfer that failed before
// its COMMIT, and as many references as ledger rows. It returns how many
// transfers of unknown outcome committed.
func (w *clusterWorkload) check(t *testing.T, node string, db *sql.DB) int {
	t.Helper()
	n := checkTransfers(t, db, w.tt, &w.st)
	rows, err := db.Query("SELECT ref FROM " + w.acks)
	if err != nil {
		t.Fatalf("%s: %v", node, err)
	}
	defer rows.Close()
	present := map[int64]bool{}
	for rows.Next() {
		var ref int64
		if err := rows.Scan(&ref); err != nil {
			t.Fatal(err)
		}
		present[ref] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	missing, rolledBack, unknown := 0, 0, 0
	for ref := range w.acked {
		if !present[ref] {
			missing++
		}
	}
	for ref := range present {
		switch {
		case w.failed[ref] != nil:
			rolledBack++
			t.Errorf("%s: transfer %d is there, but Transact ran it %d times and returned: %v", node, ref, w.runs[ref], w.failed[ref])
		case w.unknown[ref]:
			unknown++
		}
	}
	if missing > 0 {
		t.Errorf("%s: %d of %d acknowledged transfers are not there", node, missing, len(w.acked))
	}
	if rolledBack > 0 {
		t.Errorf("%s: %d transfers whose Transact failed before COMMIT are there", node, rolledBack)
	}
	if int64(len(present)) != n {
		t.Errorf("%s: %d references and %d ledger rows", node, len(present), n)
	}
	return unknown
}

// logSummary logs what the workload saw.
func (w *clusterWorkload) logSummary(t *testing.T) {
	t.Helper()
	reruns := w.rerun()
	w.mu.Lock()
	defer w.mu.Unlock()
	t.Logf("%d transfers acknowledged (per server port: %v), %d of unknown outcome, %d failed otherwise, %d run more than once by Transact; errors %v",
		len(w.acked), w.byPort, len(w.unknown), len(w.failed), reruns, w.st.errs)
	for kind, msg := range w.st.samples {
		t.Logf("  %s: %s", kind, msg)
	}
}

// classifyGalera names the errors a transfer may end with while a Galera
// node is killed and restarted. Transact runs again a transaction whose
// connection was lost before COMMIT and the host list skips a dead or
// unready node, so besides ErrCommitUnknown (which the workload counts
// itself) one outcome is expected: a COMMIT that the cluster held past the
// transfer's 15 s deadline and then failed certification (1213). database/sql
// sends COMMIT without a context, as the raw driver does, so the deadline
// cannot cut it short, and Transact retries a 1213 only while the context
// lasts. Seen on a loaded machine, after a wait of about 50 s (the
// cluster's lock wait timeout); check asserts that no such transfer is on
// any node.
func classifyGalera(err error) string {
	var me *mysql.MySQLError
	if errors.Is(err, context.DeadlineExceeded) && errors.As(err, &me) && me.Number == 1213 {
		return "certification failed at a COMMIT held past the transfer's deadline"
	}
	return ""
}

// TestFaultGaleraKillNode runs 16 transfer workers on a 3-node Galera
// cluster through one host list with load_balance_hosts=random, SIGKILLs a
// node's server mid-run and restarts it.
func TestFaultGaleraKillNode(t *testing.T) {
	g := cluster.SharedGalera(t)
	quietMySQL(t)
	db, err := Open(withQuery(g.URL(), "load_balance_hosts=random", "connect_timeout=2", "max_open_conns=16"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	w := newClusterWorkload(t, db, "mysql", classifyGalera)
	defer w.finish()
	// A table created through one node exists on another once that node
	// has applied the CREATE: wait for every node before writing.
	for _, s := range g.Nodes {
		node, err := Open(withQuery(s.URL(), "wsrep_sync_wait=1"))
		if err != nil {
			t.Fatal(err)
		}
		var n int
		err = node.QueryRow("SELECT COUNT(*) FROM " + w.acks).Scan(&n)
		node.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	w.start(16)
	ctx := context.Background()

	if n := w.waitAcks(time.Time{}, 16, drillBound); n < 16 {
		t.Fatalf("%d transfers acknowledged within %v before the kill; want 16", n, drillBound)
	}
	const victim = 1
	g.Kill(victim)
	killed := time.Now()
	// A new connection skips the dead node at once: well within
	// connect_timeout, which it would wait out if it waited for the node.
	probe, err := Open(withQuery(g.URL(), "load_balance_hosts=random", "connect_timeout=30", "max_idle_conns=0"))
	if err != nil {
		t.Fatal(err)
	}
	defer probe.Close()
	var reachedIn time.Duration
	for i := range 6 { // every order of 3 hosts puts the dead one first about twice
		start := time.Now()
		var port int
		if err := probe.QueryRowContext(ctx, "SELECT @@port").Scan(&port); err != nil {
			t.Errorf("new connection %d after the kill: %v", i, err)
			continue
		}
		reachedIn = max(reachedIn, time.Since(start))
		if port == g.Nodes[victim].Port {
			t.Errorf("a new connection reached the killed node's port %d", port)
		}
	}
	if reachedIn > 10*time.Second {
		t.Errorf("a new connection took %v to reach a live node; want well under connect_timeout=30", reachedIn)
	}
	resumed, ok := w.ackedSince(killed, drillBound)
	if !ok {
		t.Fatalf("no transfer begun after the kill was acknowledged within %v; %v", drillBound, w.st.errs)
	}
	during := w.waitAcks(killed.Add(resumed), 16, drillBound)

	restartAt := time.Now()
	if err := g.Restart(victim); err != nil {
		t.Fatal(err)
	}
	restartTook := time.Since(restartAt)
	after := w.waitAcks(restartAt.Add(restartTook), 16, drillBound)
	w.finish()
	w.logSummary(t)
	t.Logf("node %d killed: new connections reached a live node within %v; transfers begun after the kill were acknowledged %v after it (the cluster's failure detection); restart and rejoin took %v",
		victim+1, reachedIn.Round(time.Millisecond), resumed.Round(time.Millisecond), restartTook.Round(time.Millisecond))
	if during < 16 || after < 16 {
		t.Errorf("transfers did not keep succeeding: %d acknowledged after they resumed, %d after the restart, within %v each; want 16", during, after, drillBound)
	}

	// Every node, the restarted one included, has every acknowledged
	// transfer; reads wait for the node to apply what the cluster
	// committed (wsrep_sync_wait).
	var unknownThere []int
	for i, s := range g.Nodes {
		node, err := Open(withQuery(s.URL(), "wsrep_sync_wait=1"))
		if err != nil {
			t.Fatal(err)
		}
		unknownThere = append(unknownThere, w.check(t, fmt.Sprintf("node %d", i+1), node))
		node.Close()
	}
	t.Logf("transfers of unknown outcome found committed, per node: %v", unknownThere)
	checkPool(t, db)
}

// TestFaultGaleraCertificationConflict increments one row from two
// goroutines, each through its own node, in Transact (SELECT … FOR UPDATE,
// then UPDATE to the value read plus one). The row lock of one node does
// not hold back the other: each COMMIT certifies against the other node's,
// and the loser gets a deadlock error (1213) at COMMIT, or earlier when the
// other node's write aborts it; Transact absorbs both by running the
// transaction again.
func TestFaultGaleraCertificationConflict(t *testing.T) {
	g := cluster.SharedGalera(t)
	table := dbtest.Name("rel_cert")
	var dbs []*sql.DB
	for _, s := range g.Nodes[:2] {
		db, err := Open(s.URL())
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		dbs = append(dbs, db)
	}
	if _, err := dbs[0].Exec("CREATE TABLE " + table + " (id INT PRIMARY KEY, n INT NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	defer dbs[0].Exec("DROP TABLE " + table)
	if err := Transact(context.Background(), dbs[0], nil, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO "+table+" VALUES (1, 0)")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	conflicts := func() (n int64) {
		for _, db := range dbs {
			for _, name := range []string{"wsrep_local_cert_failures", "wsrep_local_bf_aborts"} {
				var k string
				var v int64
				if err := db.QueryRow("SHOW GLOBAL STATUS LIKE '"+name+"'").Scan(&k, &v); err != nil {
					t.Fatal(err)
				}
				n += v
			}
		}
		return n
	}
	// Node 2 has the table and row once it applied node 1's writes.
	causal, err := Open(withQuery(g.Nodes[1].URL(), "wsrep_sync_wait=1"))
	if err != nil {
		t.Fatal(err)
	}
	err = causal.QueryRow("SELECT n FROM " + table + " WHERE id = 1").Scan(new(int))
	causal.Close()
	if err != nil {
		t.Fatal(err)
	}
	before := conflicts()
	var wg sync.WaitGroup
	var acked, failed atomic.Int64
	start := time.Now()
	// Until a conflict was absorbed and 200 increments acknowledged, a
	// count, or drillBound.
	var done atomic.Bool
	for _, db := range dbs {
		wg.Go(func() {
			for !done.Load() {
				err := Transact(context.Background(), db, nil, func(ctx context.Context, tx *sql.Tx) error {
					var n int
					if err := tx.QueryRowContext(ctx, "SELECT n FROM "+table+" WHERE id = 1 FOR UPDATE").Scan(&n); err != nil {
						return err
					}
					_, err := tx.ExecContext(ctx, "UPDATE "+table+" SET n = ? WHERE id = 1", n+1)
					return err
				})
				if err == nil {
					acked.Add(1)
					continue
				}
				failed.Add(1)
				var myErr *mysql.MySQLError
				errors.As(err, &myErr)
				t.Errorf("a Transact failed: %v (MySQL error %v)", err, myErr)
			}
		})
	}
	for !done.Load() {
		time.Sleep(100 * time.Millisecond)
		done.Store(time.Since(start) > drillBound || conflicts() > before && acked.Load() >= 200)
	}
	wg.Wait()
	took := time.Since(start)
	seen := conflicts() - before
	var n int64
	if err := dbs[1].QueryRow("SELECT n FROM " + table + " WHERE id = 1").Scan(&n); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d increments through 2 nodes in %v; %d certification failures and brute-force aborts absorbed; %d failed", acked.Load(), took.Round(time.Millisecond), seen, failed.Load())
	if n != acked.Load() {
		t.Errorf("counter = %d after %d acknowledged read-modify-write increments", n, acked.Load())
	}
	if seen == 0 {
		t.Errorf("no certification conflict happened in %v; the drill did not exercise Transact's retry", took.Round(time.Millisecond))
	}
}

// classifyPostgresFailover names the errors a transfer may end with while
// the primary is stopped and the standby promoted: while no server takes
// writes, the host list finds no host that fits target_session_attrs.
func classifyPostgresFailover(err error) string {
	var he *hostsError
	if errors.As(err, &he) {
		return "no host fits target_session_attrs=read-write"
	}
	return ""
}

// TestFaultPostgresFailover runs 16 transfer workers on
// postgres://…@primary,standby/test?target_session_attrs=read-write, stops
// the primary immediately (as a crash would) and promotes the synchronous
// standby.
func TestFaultPostgresFailover(t *testing.T) {
	parallelServers(t)
	c := cluster.StartPostgres(t, cluster.PostgresOptions{})
	db, err := Open(c.URL("target_session_attrs=read-write&connect_timeout=2&max_open_conns=16"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	w := newClusterWorkload(t, db, "postgres", classifyPostgresFailover)
	defer w.finish()
	w.start(16)

	if n := w.waitAcks(time.Time{}, 16, drillBound); n < 16 {
		t.Fatalf("%d transfers acknowledged within %v before the stop; want 16", n, drillBound)
	}
	c.StopPrimary()
	stopped := time.Now()
	// The time a failover manager would take to notice.
	time.Sleep(200 * time.Millisecond)
	if err := c.Promote(); err != nil {
		t.Fatal(err)
	}
	promoted := time.Now()
	resumed, ok := w.ackedSince(promoted, drillBound)
	if !ok {
		t.Fatalf("no transfer begun after the promotion was acknowledged within %v; %v", drillBound, w.st.errs)
	}
	during := w.waitAcks(promoted.Add(resumed), 16, drillBound)
	w.finish()
	w.logSummary(t)
	t.Logf("primary stopped, standby promoted %v later; transfers acknowledged again %v after the promotion",
		promoted.Sub(stopped).Round(time.Millisecond), resumed.Round(time.Millisecond))
	if during < 16 {
		t.Errorf("transfers did not keep succeeding on the new primary: %d acknowledged within %v; want 16", during, drillBound)
	}
	if w.rerun() == 0 && w.st.failed.Load() == 0 {
		t.Error("no transfer was run again or failed; the failover was not exercised")
	}
	newPrimary, err := Open(c.Standby.URLFor("test"))
	if err != nil {
		t.Fatal(err)
	}
	defer newPrimary.Close()
	unknown := w.check(t, "new primary", newPrimary)
	t.Logf("%d transfers of unknown outcome found committed", unknown)
	checkPool(t, db)
}
