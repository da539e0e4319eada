package databases

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// replicaClients counts the client connections of the database "test" on
// the replica server, but the one asking.
func replicaClients(t *testing.T, b *replicaBackend, raw *sql.DB) int {
	t.Helper()
	q := "SELECT count(*) FROM pg_stat_activity WHERE datname = 'test' AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
	if b.name != "postgres" {
		q = "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = 'test' AND USER <> 'system user' AND ID <> CONNECTION_ID()"
	}
	var n int
	if err := raw.QueryRow(q).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestReliabilityReplicaStop stops the replica while 8 goroutines read
// through ReadReplica: reads carry on on the primary without an error;
// with replica_fallback=error they fail with ErrNoReplica naming the
// replica; after the replica is started again reads go back to it. Each
// phase waits for a count of reads (within a generous bound), not for a
// time, and a read counts as one of the phase it began in, so that a
// loaded machine slows the drill without failing it.
func TestReliabilityReplicaStop(t *testing.T) {
	t.Parallel()
	forEachReplicaBackend(t, false, func(t *testing.T, b *replicaBackend) {
		db := openReplicaDB(t, b.url("max_open_conns=8"))
		strict := openReplicaDB(t, b.url("replica_fallback=error"))
		ctx := ReadReplica(t.Context())
		const (
			up, down, restarted = 0, 1, 2 // phases
			enough              = 8       // reads that show where reads go
		)
		var phase atomic.Int32
		var onReplica, onPrimary [3]atomic.Int64 // reads by the phase they began in
		var errs sync.Map
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					p := phase.Load()
					var s ranOn
					if err := db.QueryRowContext(ctx, b.where()).Scan(&s.replica, &s.port); err != nil {
						errs.Store(err.Error(), true)
						continue
					}
					if s.replica {
						onReplica[p].Add(1)
					} else {
						onPrimary[p].Add(1)
					}
				}
			})
		}
		waitFor := func(what string, n *atomic.Int64) time.Duration {
			t.Helper()
			start := time.Now()
			for n.Load() < enough {
				if time.Since(start) > drillBound {
					t.Errorf("%d reads %s within %v; want %d", n.Load(), what, drillBound, enough)
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			return time.Since(start)
		}
		waitFor("on the replica before the stop", &onReplica[up])
		b.stop()
		phase.Store(down)
		waitFor("on the primary while the replica was down", &onPrimary[down])

		_, err := strict.QueryContext(ctx, "SELECT 1")
		if !errors.Is(err, ErrNoReplica) || !strings.Contains(fmtErr(err), b.replica) {
			t.Errorf("replica_fallback=error with the replica down: %v; want ErrNoReplica naming %s", err, b.replica)
		} else {
			t.Logf("replica_fallback=error: %v", err)
		}

		b.start()
		phase.Store(restarted)
		back := waitFor("on the replica after its restart", &onReplica[restarted])
		close(stop)
		wg.Wait()
		t.Logf("before the stop %d reads on the replica; while it was down %d on the primary, %d on the replica; back on the replica (%d reads) %v after its restart",
			onReplica[up].Load(), onPrimary[down].Load(), onReplica[down].Load(), enough, back.Round(time.Millisecond))
		errs.Range(func(k, _ any) bool {
			t.Errorf("a read failed: %v", k)
			return true
		})
		if n := onReplica[down].Load(); n != 0 {
			t.Errorf("%d reads that began while the replica was down ran on it", n)
		}
		if st := db.Stats(); st.InUse != 0 {
			t.Errorf("%d connections in use after the readers stopped", st.InUse)
		}
	})
}

func fmtErr(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestReliabilityReplicaSoak runs writers and replica readers for 3 s
// against stale replicas under read_your_writes: a writer reads back each
// row it wrote through ReadReplica, a reader counts the rows on the
// replica and must see at least every write acknowledged before it began,
// and read-only transactions do the same. The pool of 8 holds at most 8
// connections to the replica, and none after Close.
func TestReliabilityReplicaSoak(t *testing.T) {
	t.Parallel()
	forEachReplicaBackend(t, true, func(t *testing.T, b *replicaBackend) {
		db := openReplicaDB(t, b.url("max_open_conns=8&max_replica_wait=30s"))
		createReplicated(t, b, db, "replicas_soak")
		raw := b.rawReplica(t)
		raw.SetMaxOpenConns(1) // the count leaves out its own connection only
		baseline := replicaClients(t, b, raw)
		ctx := t.Context()
		var nextID, acked, reads, stale, maxClients atomic.Int64
		var errs sync.Map
		deadline := time.Now().Add(3 * time.Second)
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Go(func() {
				for time.Now().Before(deadline) {
					id := nextID.Add(1)
					if _, err := db.ExecContext(ctx, "INSERT INTO replicas_soak VALUES (?, ?)", id, w); err != nil {
						errs.Store(err.Error(), true)
						return
					}
					acked.Add(1)
					var n int
					if err := db.QueryRowContext(ReadReplica(ctx), "SELECT COUNT(*) FROM replicas_soak WHERE id = ?", id).Scan(&n); err != nil {
						errs.Store(err.Error(), true)
						return
					}
					reads.Add(1)
					if n != 1 {
						stale.Add(1)
					}
				}
			})
		}
		for r := range 4 {
			wg.Go(func() {
				for time.Now().Before(deadline) {
					want := acked.Load()
					var n int64
					var err error
					if r%2 == 0 {
						err = db.QueryRowContext(ReadReplica(ctx), "SELECT COUNT(*) FROM replicas_soak").Scan(&n)
					} else {
						err = Transact(ctx, db, &sql.TxOptions{ReadOnly: true}, func(ctx context.Context, tx *sql.Tx) error {
							return tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM replicas_soak").Scan(&n)
						})
					}
					if err != nil {
						errs.Store(err.Error(), true)
						return
					}
					reads.Add(1)
					if n < want {
						stale.Add(1)
					}
					if c := int64(replicaClients(t, b, raw) - baseline); c > maxClients.Load() {
						maxClients.Store(c)
					}
				}
			})
		}
		wg.Wait()
		errs.Range(func(k, _ any) bool {
			t.Errorf("a call failed: %v", k)
			return true
		})
		t.Logf("%d writes, %d replica reads, %d stale, at most %d connections to the replica", acked.Load(), reads.Load(), stale.Load(), maxClients.Load())
		if stale.Load() != 0 {
			t.Errorf("%d reads missed writes acknowledged before them", stale.Load())
		}
		if maxClients.Load() > 8 {
			t.Errorf("%d connections to the replica with max_open_conns=8", maxClients.Load())
		}
		if st := db.Stats(); st.InUse != 0 || st.OpenConnections > 8 {
			t.Errorf("pool: %d in use, %d open", st.InUse, st.OpenConnections)
		}
		db.Close()
		var left int
		for end := time.Now().Add(drillBound); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
			if left = replicaClients(t, b, raw) - baseline; left <= 0 {
				break
			}
		}
		if left > 0 {
			t.Errorf("%d connections to the replica left after Close", left)
		}
	})
}
