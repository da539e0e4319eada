package databases

import (
	"context"
	"testing"
	"time"

	"github.com/go-databases/databases/internal/dbtest"
	"github.com/go-databases/databases/middleware"
)

// TestStmtCacheExecOfRows: Exec of a statement that returns rows, after
// the same text ran as a query (so the cache keeps its statement), must
// answer as the raw driver's Exec does, every time. go-sql-driver leaves
// the rows of a prepared statement's Exec unread, and its next use of that
// statement waits for the server forever: a kept statement must not be
// the one Exec runs.
func TestStmtCacheExecOfRows(t *testing.T) {
	pass := middleware.Func(func(ctx context.Context, c *middleware.Call, next middleware.Handler) error { return next(ctx, c) })
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		for _, opts := range []struct {
			name string
			mw   []middleware.Middleware
		}{{"no middleware", nil}, {"middleware", []middleware.Middleware{pass}}} {
			t.Run(opts.name, func(t *testing.T) {
				db := openCached(t, b.URL, "stmt_cache=8", opts.mw...)
				const q = "SELECT ?, ?"
				for i := range 3 {
					ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
					rows, err := db.QueryContext(ctx, q, "a", "b")
					if err != nil {
						cancel()
						t.Fatal(err)
					}
					for rows.Next() {
					}
					rows.Close()
					for j := range 2 {
						if _, err := db.ExecContext(ctx, q, "a", "b"); err != nil {
							cancel()
							t.Fatalf("round %d, Exec %d of a query the cache keeps: %v", i, j, err)
						}
					}
					var x, y string
					if err := db.QueryRowContext(ctx, q, "a", "b").Scan(&x, &y); err != nil || x != "a" || y != "b" {
						cancel()
						t.Fatalf("round %d, the query after: %q %q %v", i, x, y, err)
					}
					cancel()
				}
			})
		}
	})
}
