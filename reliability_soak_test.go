package databases

import (
	"context"
	"database/sql"
	"errors"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-databases/databases/internal/dbtest"
)

// errSoakRollback makes a nested Transact roll back its savepoint.
var errSoakRollback = errors.New("roll back this savepoint")

// TestReliabilitySoak runs 64 goroutines of mixed Exec, Query, Prepare,
// Transact (with a nested savepoint that is rolled back) and rows left open
// while another call runs, for a bounded time per dialect. At the end every
// acknowledged write is there exactly once, no rolled-back write is, and no
// connection is left in use.
func TestReliabilitySoak(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		duration := 3 * time.Second
		if testing.Short() {
			duration = 500 * time.Millisecond
		}
		u := withQuery(b.URL, "max_open_conns=16")
		if b.Dialect == "sqlite" {
			u = "sqlite:///" + filepath.Join(t.TempDir(), "soak.db") + "?max_open_conns=16"
		}
		db, err := Open(u)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		ctx := context.Background()
		ctr, logT := dbtest.Name("rel_soak_ctr"), dbtest.Name("rel_soak_log")
		serial := "INTEGER PRIMARY KEY"
		switch b.Dialect {
		case "postgres":
			serial = "SERIAL PRIMARY KEY"
		case "mysql":
			serial = "INT AUTO_INCREMENT PRIMARY KEY"
		}
		for _, q := range []string{
			"CREATE TABLE " + ctr + " (id INT PRIMARY KEY, n INT NOT NULL)",
			"CREATE TABLE " + logT + " (id " + serial + ", g INT NOT NULL, kind VARCHAR(16) NOT NULL)",
		} {
			if _, err := db.ExecContext(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		defer db.ExecContext(ctx, "DROP TABLE "+ctr)
		defer db.ExecContext(ctx, "DROP TABLE "+logT)
		const counters = 8
		for i := range counters {
			if _, err := db.ExecContext(ctx, "INSERT INTO "+ctr+" (id, n) VALUES (?, 0)", i); err != nil {
				t.Fatal(err)
			}
		}

		openSem := make(chan struct{}, 8)
		var execs, prepared, txs, queries, openRows atomic.Int64
		ops := []func(g int) error{
			func(g int) error { // Exec
				_, err := db.ExecContext(ctx, "INSERT INTO "+logT+" (g, kind) VALUES (?, 'exec')", g)
				if err == nil {
					execs.Add(1)
				}
				return err
			},
			func(g int) error { // Query read to the end
				rows, err := db.QueryContext(ctx, "SELECT id, n FROM "+ctr+" WHERE id >= :low ORDER BY id", sql.Named("low", 0))
				if err != nil {
					return err
				}
				defer rows.Close()
				n := 0
				for rows.Next() {
					var id, v int
					if err := rows.Scan(&id, &v); err != nil {
						return err
					}
					n++
				}
				if err := rows.Err(); err != nil {
					return err
				}
				if n != counters {
					return errors.New("query read a wrong number of rows")
				}
				queries.Add(1)
				return nil
			},
			func(g int) error { // Prepare, Exec, Close
				stmt, err := db.PrepareContext(ctx, "INSERT INTO "+logT+" (g, kind) VALUES (?, 'prep')")
				if err != nil {
					return err
				}
				defer stmt.Close()
				if _, err := stmt.ExecContext(ctx, g); err != nil {
					return err
				}
				prepared.Add(1)
				return nil
			},
			func(g int) error { // Transact with a savepoint rolled back
				err := Transact(ctx, db, nil, func(ctx context.Context, tx *sql.Tx) error {
					if _, err := tx.ExecContext(ctx, "UPDATE "+ctr+" SET n = n + 1 WHERE id = ?", rand.IntN(counters)); err != nil {
						return err
					}
					if _, err := tx.ExecContext(ctx, "INSERT INTO "+logT+" (g, kind) VALUES (?, 'tx')", g); err != nil {
						return err
					}
					err := Transact(ctx, db, nil, func(ctx context.Context, tx *sql.Tx) error {
						if _, err := tx.ExecContext(ctx, "INSERT INTO "+logT+" (g, kind) VALUES (?, 'rolledback')", g); err != nil {
							return err
						}
						return errSoakRollback
					})
					if !errors.Is(err, errSoakRollback) {
						return err
					}
					return nil
				})
				if err == nil {
					txs.Add(1)
				}
				return err
			},
			func(g int) error { // rows left open while another call runs
				// At most half the pool holds rows open, or every
				// connection could be holding rows and waiting for another.
				openSem <- struct{}{}
				defer func() { <-openSem }()
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
				if cerr := rows.Close(); err == nil {
					err = cerr
				}
				if err == nil {
					openRows.Add(1)
				}
				return err
			},
		}

		var wg sync.WaitGroup
		var failures atomic.Int64
		deadline := time.Now().Add(duration)
		for g := range 64 {
			wg.Go(func() {
				for time.Now().Before(deadline) {
					if err := ops[rand.IntN(len(ops))](g); err != nil {
						if failures.Add(1) <= 5 {
							t.Errorf("goroutine %d: %v", g, err)
						}
					}
				}
			})
		}
		wg.Wait()

		count := func(kind string) int64 {
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
		if got := count("exec"); got != execs.Load() {
			t.Errorf("%d exec rows, %d acknowledged", got, execs.Load())
		}
		if got := count("prep"); got != prepared.Load() {
			t.Errorf("%d prepared rows, %d acknowledged", got, prepared.Load())
		}
		if got := count("tx"); got != txs.Load() || sum != txs.Load() {
			t.Errorf("%d transaction rows and counters summing to %d, %d transactions acknowledged", got, sum, txs.Load())
		}
		if got := count("rolledback"); got != 0 {
			t.Errorf("%d rows of rolled-back savepoints", got)
		}
		s := db.Stats()
		if s.InUse != 0 || s.OpenConnections > 16 {
			t.Errorf("after the soak: %d connections in use, %d open (max 16)", s.InUse, s.OpenConnections)
		}
		t.Logf("%v: %d exec, %d query, %d prepare, %d transact, %d open-rows calls; %d failed; pool waited %d times (%v)",
			duration, execs.Load(), queries.Load(), prepared.Load(), txs.Load(), openRows.Load(), failures.Load(), s.WaitCount, s.WaitDuration.Round(time.Millisecond))
	})
}
