package databases

import (
	"context"
	"strconv"
	"testing"

	"github.com/go-databases/databases/internal/dbtest"
)

// TestFaultStmtCacheKilledConnection kills, from another connection, the
// server session of a connection that keeps prepared statements (MySQL
// KILL CONNECTION; PostgreSQL pg_terminate_backend with stmt_cache on), ten
// times in a row.
func TestFaultStmtCacheKilledConnection(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		if b.Dialect == "sqlite" {
			t.Skip("SQLite has no server to kill a connection")
		}
		if b.Dialect == "mysql" {
			quietMySQL(t)
		}
		uses := &cacheUses{}
		db := openCached(t, b.URL, "stmt_cache=4", uses)
		admin := openCached(t, b.URL, "")
		ctx := context.Background()
		q := "SELECT ? + 1"
		idQuery, kill := "SELECT CONNECTION_ID()", "KILL CONNECTION "
		classify := classifyMySQL
		if b.Dialect == "postgres" {
			q = "SELECT $1::int + 1"
			idQuery, kill = "SELECT pg_backend_pid()", "SELECT pg_terminate_backend("
			classify = classifyPostgres
		}
		var n int
		want := "miss hit hit" // a new connection's miss, then hits
		for round := range 10 {
			for i := range 3 {
				if err := db.QueryRowContext(ctx, q, i).Scan(&n); err != nil || n != i+1 {
					t.Fatalf("round %d: %d, %v", round, n, err)
				}
			}
			if got := uses.take(); got != want {
				t.Fatalf("round %d: cache use %q; want %q", round, got, want)
			}
			var id int64
			if err := db.QueryRowContext(ctx, idQuery).Scan(&id); err != nil {
				t.Fatal(err)
			}
			uses.take()
			stmt := kill + strconv.FormatInt(id, 10)
			if b.Dialect == "postgres" {
				stmt += ")"
			}
			if _, err := admin.ExecContext(ctx, stmt); err != nil {
				t.Fatal(err)
			}
			// Both servers end a session asynchronously: wait until it is gone.
			gone := "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = ?"
			if b.Dialect == "postgres" {
				gone = "SELECT COUNT(*) FROM pg_stat_activity WHERE pid = $1"
			}
			if !eventually(drillBound, func() bool {
				var left int
				return admin.QueryRowContext(ctx, gone, id).Scan(&left) == nil && left == 0
			}) {
				t.Fatalf("round %d: session %d still there %v after it was killed", round, id, drillBound)
			}
			// The kept statement died with its session: the call fails as
			// the raw driver's does, or database/sql retried it on a new
			// connection (driver.ErrBadConn before anything was sent).
			err := db.QueryRowContext(ctx, q, 7).Scan(&n)
			if err != nil && classify(err) == "" {
				t.Fatalf("round %d: the call after the kill: %v", round, err)
			}
			got := uses.take()
			switch {
			case err != nil:
				want = "miss hit hit"
			case n != 8:
				t.Fatalf("round %d: %d; want 8", round, n)
			case got != "miss":
				// Retried on a new connection, whose cache starts empty.
				t.Fatalf("round %d: the call after the kill succeeded with cache use %q; want a new connection's miss", round, got)
			default:
				want = "hit hit hit"
			}
		}
		checkPool(t, db)
		if s := db.Stats(); s.OpenConnections > 1 {
			t.Fatalf("%d connections open; want at most 1", s.OpenConnections)
		}
	})
}
