package databases_test

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

	"github.com/go-databases/databases"
	"github.com/go-databases/databases/internal/dbtest"
)

// Drills of the test mode (force_rollback) under concurrency and
// cancellation: every pooled connection of the DB shares one real
// connection, so every use of it must be serialised, and Close must leave
// nothing behind.

// drillTime is how long a timed drill runs.
func drillTime(long time.Duration) time.Duration {
	if testing.Short() {
		return long / 6
	}
	return long
}

// TestReliabilityForceRollbackStmtClose: one goroutine prepares, queries
// and closes statements in a loop while others query and insert through
// other connections of the pool; closing a statement must wait for the
// shared connection like every other call.
func TestReliabilityForceRollbackStmtClose(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		e := newFREnv(t, b)
		db := e.open(t)
		ctx := context.Background()
		var calls, failures atomic.Int64
		fail := func(what string, err error) {
			if failures.Add(1) <= 5 {
				t.Errorf("%s: %v", what, err)
			}
		}
		var nextID atomic.Int64
		workers := []func() error{
			func() error {
				st, err := db.PrepareContext(ctx, "SELECT COUNT(*) FROM "+e.table+" WHERE id > ?")
				if err != nil {
					return err
				}
				var n int
				err = st.QueryRowContext(ctx, 0).Scan(&n)
				return errors.Join(err, st.Close())
			},
			func() error {
				var n int
				return db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+e.table).Scan(&n)
			},
			func() error {
				_, err := db.ExecContext(ctx, "INSERT INTO "+e.table+" (id) VALUES (?)", nextID.Add(1))
				return err
			},
		}
		deadline := time.Now().Add(drillTime(1500 * time.Millisecond))
		var wg sync.WaitGroup
		for i, w := range workers {
			wg.Go(func() {
				for time.Now().Before(deadline) {
					calls.Add(1)
					if err := w(); err != nil {
						fail(fmt.Sprintf("worker %d", i), err)
					}
				}
			})
		}
		wg.Wait()
		if n := count(t, db, e.table); failures.Load() == 0 && int64(n) != nextID.Load() {
			t.Errorf("%d rows inside the outer transaction; %d inserted", n, nextID.Load())
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		if n := e.left(t); n != 0 {
			t.Fatalf("%d rows left after Close", n)
		}
		t.Logf("%d calls, %d failed", calls.Load(), failures.Load())
	})
}

// TestReliabilityForceRollbackCloseCancelled: BeginTx with a context, a
// write, cancel, Close at once: database/sql rolls the transaction back in
// a goroutine of its own while Close runs, so Close must wait for the
// shared connection; other connections wait for the transaction meanwhile.
func TestReliabilityForceRollbackCloseCancelled(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		e := newFREnv(t, b)
		rounds := 20
		if testing.Short() {
			rounds = 5
		}
		for round := range rounds {
			db := e.open(t)
			ctx, cancel := context.WithCancel(context.Background())
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tx.ExecContext(ctx, "INSERT INTO "+e.table+" (id) VALUES (?)", 2*round); err != nil {
				t.Fatal(err)
			}
			// Calls of other connections wait for the transaction, and
			// end with the cancel or the Close.
			var wg sync.WaitGroup
			wg.Go(func() {
				if rows, err := db.QueryContext(ctx, "SELECT 1"); err == nil {
					rows.Next()
					rows.Close()
				}
			})
			if round%2 == 1 {
				wg.Go(func() { db.ExecContext(ctx, "INSERT INTO "+e.table+" (id) VALUES (?)", 2*round+1) })
			}
			time.Sleep(time.Millisecond)
			cancel()
			if err := db.Close(); err != nil {
				t.Fatalf("round %d: Close: %v", round, err)
			}
			wg.Wait()
		}
		if n := e.left(t); n != 0 {
			t.Fatalf("%d rows left after Close", n)
		}
	})
}

// errSoakInner makes a nested Transact roll back.
var errSoakInner = errors.New("inner function fails")

// TestReliabilityForceRollbackSoak: 16 goroutines for 3 s per dialect on
// one force_rollback DB mix Prepare/Close, nested Transact whose inner
// function fails, calls whose context is cancelled part way, rows left open
// while another query runs, and DDL the mode allows. Inside the outer
// transaction the data is consistent; after Close nothing is left.
func TestReliabilityForceRollbackSoak(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		e := newFREnv(t, b)
		ctr := createTable(t, e.plain, "frsoak_ctr", "id INT PRIMARY KEY, n INT NOT NULL")
		logT := createTable(t, e.plain, "frsoak_log", "g INT NOT NULL, kind VARCHAR(16) NOT NULL")
		const counters = 4
		for i := range counters {
			if _, err := e.plain.Exec("INSERT INTO "+ctr+" (id, n) VALUES (?, 0)", i); err != nil {
				t.Fatal(err)
			}
		}
		db := e.open(t)
		ctx := context.Background()
		var ddlNames sync.Map // tables created in the outer transaction
		var prepared, txs, cancelled, ctxErrs, openRows, ddl, calls atomic.Int64
		isCancel := func(err error) bool {
			return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
		}
		ops := []func(g int) error{
			func(g int) error { // Prepare, Exec, Close
				st, err := db.PrepareContext(ctx, "INSERT INTO "+logT+" (g, kind) VALUES (?, 'prep')")
				if err != nil {
					return err
				}
				_, err = st.ExecContext(ctx, g)
				if err := errors.Join(err, st.Close()); err != nil {
					return err
				}
				prepared.Add(1)
				return nil
			},
			func(g int) error { // nested Transact, the inner one failing
				err := databases.Transact(ctx, db, nil, func(ctx context.Context, tx *sql.Tx) error {
					if _, err := tx.ExecContext(ctx, "UPDATE "+ctr+" SET n = n + 1 WHERE id = ?", rand.IntN(counters)); err != nil {
						return err
					}
					if _, err := tx.ExecContext(ctx, "INSERT INTO "+logT+" (g, kind) VALUES (?, 'tx')", g); err != nil {
						return err
					}
					err := databases.Transact(ctx, db, nil, func(ctx context.Context, tx *sql.Tx) error {
						if _, err := tx.ExecContext(ctx, "INSERT INTO "+logT+" (g, kind) VALUES (?, 'rolledback')", g); err != nil {
							return err
						}
						return errSoakInner
					})
					if err != errSoakInner {
						return fmt.Errorf("nested Transact: %w", err)
					}
					return nil
				})
				if err == nil {
					txs.Add(1)
				}
				return err
			},
			func(g int) error { // a context cancelled part way: a statement, or a transaction
				cctx, cancel := context.WithTimeout(ctx, time.Duration(rand.IntN(3000))*time.Microsecond)
				defer cancel()
				var err error
				// A 30 s sleep, so that 10 s tells a cancelled one from one
				// that ran out, however loaded the machine.
				slow := map[string]string{"postgres": "SELECT pg_sleep(30)", "mysql": "SELECT SLEEP(30)"}[b.Dialect]
				switch rand.IntN(3) {
				case 0:
					_, err = db.ExecContext(cctx, "INSERT INTO "+logT+" (g, kind) VALUES (?, 'cancel')", g)
				case 1: // cancelled on the server, mid-statement
					if slow != "" {
						start := time.Now()
						_, err = db.ExecContext(cctx, slow)
						if d := time.Since(start); d > 10*time.Second {
							return fmt.Errorf("a statement whose context ended within 3 ms returned after %v", d)
						}
					}
				default:
					var tx *sql.Tx
					if tx, err = db.BeginTx(cctx, nil); err == nil {
						_, err = tx.ExecContext(cctx, "INSERT INTO "+logT+" (g, kind) VALUES (?, 'canceltx')", g)
						<-cctx.Done()
						if cerr := tx.Commit(); err == nil {
							err = cerr
						}
					}
				}
				if err != nil && !isCancel(err) && !errors.Is(err, sql.ErrTxDone) {
					return err
				}
				if err != nil {
					ctxErrs.Add(1)
				}
				cancelled.Add(1)
				return nil
			},
			func(g int) error { // rows left open while another query runs
				rows, err := db.QueryContext(ctx, "SELECT id FROM "+ctr+" ORDER BY id")
				if err != nil {
					return err
				}
				if !rows.Next() {
					rows.Close()
					return errors.New("no first row")
				}
				var n int
				err = db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+ctr).Scan(&n)
				for rows.Next() {
				}
				if err := errors.Join(err, rows.Err(), rows.Close()); err != nil {
					return err
				}
				openRows.Add(1)
				return nil
			},
			func(g int) error { // DDL the mode allows
				name := fmt.Sprintf("%s_ddl%d_%d", logT, g, ddl.Add(1))
				create := "CREATE TABLE " + name + " (x INT)"
				drop := "DROP TABLE " + name
				if b.Dialect == "mysql" {
					create, drop = "CREATE TEMPORARY TABLE "+name+" (x INT)", "DROP TEMPORARY TABLE "+name
				}
				if _, err := db.ExecContext(ctx, create); err != nil {
					return err
				}
				ddlNames.Store(name, true)
				if _, err := db.ExecContext(ctx, "INSERT INTO "+name+" (x) VALUES (?)", g); err != nil {
					return err
				}
				if rand.IntN(2) == 0 {
					return nil // left for Close to roll back
				}
				_, err := db.ExecContext(ctx, drop)
				return err
			},
		}
		var wg sync.WaitGroup
		var failures atomic.Int64
		deadline := time.Now().Add(drillTime(3 * time.Second))
		for g := range 16 {
			wg.Go(func() {
				for time.Now().Before(deadline) {
					calls.Add(1)
					if err := ops[rand.IntN(len(ops))](g); err != nil {
						if failures.Add(1) <= 5 {
							t.Errorf("goroutine %d: %v", g, err)
						}
					}
				}
			})
		}
		wg.Wait()

		kinds := func(db *sql.DB, kind string) int64 {
			var n int64
			if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+logT+" WHERE kind = ?", kind).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		var sum int64
		if err := db.QueryRowContext(ctx, "SELECT COALESCE(SUM(n), 0) FROM "+ctr).Scan(&sum); err != nil {
			t.Fatal(err)
		}
		if got := kinds(db, "prep"); got != prepared.Load() {
			t.Errorf("%d prepared rows, %d acknowledged", got, prepared.Load())
		}
		if got := kinds(db, "tx"); got != txs.Load() || sum != txs.Load() {
			t.Errorf("%d transaction rows and counters summing to %d, %d transactions acknowledged", got, sum, txs.Load())
		}
		if got := kinds(db, "rolledback"); got != 0 {
			t.Errorf("%d rows of rolled-back savepoints", got)
		}
		if err := db.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		var left, sumAfter int64
		if err := e.plain.QueryRow("SELECT COUNT(*) FROM " + logT).Scan(&left); err != nil {
			t.Fatal(err)
		}
		if err := e.plain.QueryRow("SELECT COALESCE(SUM(n), 0) FROM " + ctr).Scan(&sumAfter); err != nil {
			t.Fatal(err)
		}
		if left != 0 || sumAfter != 0 {
			t.Errorf("after Close: %d log rows and counters summing to %d; want 0 and 0", left, sumAfter)
		}
		tables := 0
		ddlNames.Range(func(k, _ any) bool {
			tables++
			if _, err := e.plain.Exec("SELECT * FROM " + k.(string)); err == nil {
				t.Errorf("table %s created in force_rollback mode survived Close", k)
				e.plain.Exec("DROP TABLE " + k.(string))
			}
			return true
		})
		t.Logf("%d calls (%d prepare, %d transact, %d with a deadline, %d of them ended by it, %d open rows, %d tables created); %d failed",
			calls.Load(), prepared.Load(), txs.Load(), cancelled.Load(), ctxErrs.Load(), openRows.Load(), tables, failures.Load())
	})
}
