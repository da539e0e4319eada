package databases_test

import (
	"context"
	"database/sql"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-databases/databases/internal/dbtest"
)

// TestReliabilityLeakUnderLoad: on each backend, a pool of 4 with
// leak_threshold=1s serves 8 goroutines that query and run read-only
// transactions, closing everything in time, for 3 s, while one rows and one
// transaction are left open; then they are closed. The two leaks, and only
// they, are reported, once each, at the lines that opened them; the pool
// running dry (8 callers for the 2 connections left) is reported at most
// once per threshold, each time naming both leaks; their end is reported;
// no connection is left in use.
func TestReliabilityLeakUnderLoad(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		db, log := openLeaky(t, b.URL, "max_open_conns=4")
		ctx := context.Background()
		rows, err := db.QueryContext(ctx, "SELECT 1 AS leaked_rows")
		rowsAt := lineAbove()
		if err != nil {
			t.Fatal(err)
		}
		tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
		txAt := lineAbove()
		if err != nil {
			t.Fatal(err)
		}

		const run = 3 * time.Second
		var done atomic.Int64
		var wg sync.WaitGroup
		end := time.Now().Add(run)
		errs := make(chan error, 8)
		for g := range 8 {
			wg.Go(func() {
				for time.Now().Before(end) {
					var n int
					var err error
					if g%2 == 0 {
						err = db.QueryRowContext(ctx, "SELECT 2 AS in_time").Scan(&n)
					} else {
						var wtx *sql.Tx
						if wtx, err = db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true}); err == nil {
							if err = wtx.QueryRowContext(ctx, "SELECT 3 AS in_time_tx").Scan(&n); err == nil {
								err = wtx.Commit()
							} else {
								wtx.Rollback()
							}
						}
					}
					if err != nil {
						errs <- err
						return
					}
					done.Add(1)
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("a caller closing in time failed: %v", err)
		}
		rows.Close()
		tx.Rollback()

		leaks := log.matching(slog.LevelWarn, "leak")
		if len(leaks) != 2 {
			t.Fatalf("%d leak records after %d holds closed in time and 2 left open; want 2: %+v", len(leaks), done.Load(), leaks)
		}
		for _, r := range leaks {
			if at := r.attrs["opened_at"]; at != rowsAt && at != txAt || leaks[0].attrs["opened_at"] == leaks[1].attrs["opened_at"] {
				t.Errorf("leak at %q; want one at %s and one at %s", at, rowsAt, txAt)
			}
		}
		dry := log.matching(slog.LevelWarn, "pool ran dry")
		if len(dry) == 0 || len(dry) > int(run/testLeakThreshold)+1 {
			t.Errorf("%d records of the pool running dry in %v; want 1 to %d", len(dry), run, int(run/testLeakThreshold)+1)
		}
		for _, r := range dry {
			var sites []string
			for k, v := range r.attrs {
				if strings.HasSuffix(k, ".opened_at") {
					sites = append(sites, v)
				}
			}
			joined := strings.Join(sites, " ")
			if !strings.Contains(joined, rowsAt) || !strings.Contains(joined, txAt) {
				t.Errorf("pool record names %v; want both leaks, %s and %s", sites, rowsAt, txAt)
			}
		}
		if ended := log.matching(slog.LevelInfo, "leak ended"); len(ended) != 2 {
			t.Errorf("%d records of leaks ended; want 2", len(ended))
		}
		if !waitFor(5*time.Second, func() bool { return db.Stats().InUse == 0 }) {
			t.Errorf("%d connections in use after the load; want 0", db.Stats().InUse)
		}
		t.Logf("%d holds closed in time; %d pool records; %d waits", done.Load(), len(dry), db.Stats().WaitCount)
	})
}
