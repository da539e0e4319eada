package databases

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/go-databases/databases/internal/mytemp"
	"github.com/go-databases/databases/middleware"
)

// budgetLimit is the private server's max_prepared_stmt_count in the
// budget tests: with max_open_conns=4 each connection may keep 64/2/4 = 8
// statements (stmtShare).
const budgetLimit = 64

// startBudgetServer starts a private MariaDB, whose global
// max_prepared_stmt_count the tests may set without disturbing others.
func startBudgetServer(t *testing.T) *mytemp.Server {
	srv := mytemp.Start(t, fmt.Sprintf("--max-prepared-stmt-count=%d", budgetLimit))
	return srv
}

// preparedCount is the server's Prepared_stmt_count: the prepared
// statements of all its sessions.
func preparedCount(t *testing.T, srv *mytemp.Server) int {
	t.Helper()
	raw, err := sql.Open("mysql", srv.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var name string
	var n int
	if err := raw.QueryRow("SHOW GLOBAL STATUS LIKE 'Prepared_stmt_count'").Scan(&name, &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// settle waits until the server holds no prepared statement: it frees
// those of a closed session, and COM_STMT_CLOSE, in the session's own
// thread, after the client has moved on.
func settle(t *testing.T, srv *mytemp.Server) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for n := preparedCount(t, srv); n != 0; n = preparedCount(t, srv) {
		if time.Now().After(deadline) {
			t.Fatalf("the server still holds %d prepared statements", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// fillStatements prepares n statements on a client of its own (as another
// process would), and keeps them until the test ends.
func fillStatements(t *testing.T, srv *mytemp.Server, n int) {
	t.Helper()
	raw, err := sql.Open("mysql", srv.DSN())
	if err != nil {
		t.Fatal(err)
	}
	raw.SetMaxOpenConns(1)
	t.Cleanup(func() { raw.Close() })
	for i := range n {
		st, err := raw.Prepare(fmt.Sprintf("SELECT ? + %d", 1000+i))
		if err != nil {
			t.Fatalf("filling the server's statements: %v", err)
		}
		t.Cleanup(func() { st.Close() })
	}
}

// TestStmtCacheBudgetSize: each MySQL connection keeps at most
// max_prepared_stmt_count / 2 / N statements, N being max_open_conns, or
// the smaller of 100 and max_connections, read as it connects.
func TestStmtCacheBudgetSize(t *testing.T) {
	parallelServers(t)
	srv := startBudgetServer(t)
	for _, tc := range []struct {
		name  string
		limit int
		opts  string
		want  int
	}{
		{"default server and cache", 16382, "", 20}, // 64 per connection, 20 queries run
		{"max_open_conns", 64, "stmt_cache=64&max_open_conns=4", 8},
		{"smaller stmt_cache", 1000, "stmt_cache=3&max_open_conns=2", 3},
		{"100 connections assumed", 1000, "stmt_cache=64", 5},
		{"no room", 64, "stmt_cache=64", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			settle(t, srv)
			setGlobal(t, srv, "max_prepared_stmt_count", tc.limit)
			db := openBudget(t, srv, tc.opts)
			ctx := context.Background()
			c, err := db.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			for i := range 20 {
				var n int
				if err := c.QueryRowContext(ctx, fmt.Sprintf("SELECT ? + %d", i), 1).Scan(&n); err != nil || n != i+1 {
					t.Fatalf("query %d: %d, %v", i, n, err)
				}
			}
			if got := len(cacheOf(t, c)); got != tc.want {
				t.Errorf("the connection keeps %d statements; want %d", got, tc.want)
			}
		})
	}
}

// setGlobal sets a global variable of the private server for the test.
func setGlobal(t *testing.T, srv *mytemp.Server, name string, v int) {
	t.Helper()
	raw, err := sql.Open("mysql", srv.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var old int
	if err := raw.QueryRow("SELECT @@GLOBAL." + name).Scan(&old); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(fmt.Sprintf("SET GLOBAL %s = %d", name, v)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		raw, err := sql.Open("mysql", srv.DSN())
		if err != nil {
			t.Error(err)
			return
		}
		defer raw.Close()
		if _, err := raw.Exec(fmt.Sprintf("SET GLOBAL %s = %d", name, old)); err != nil {
			t.Error(err)
		}
	})
}

func openBudget(t *testing.T, srv *mytemp.Server, opts string, mw ...middleware.Middleware) *sql.DB {
	t.Helper()
	url := srv.URL()
	if opts != "" {
		url += "?" + opts
	}
	var o []Option
	if len(mw) > 0 {
		o = append(o, WithMiddleware(mw...))
	}
	db, err := Open(url, o...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestStmtCacheBudgetStarved: connection A of a DB keeps 8 statements and
// returns to the pool; other clients hold the rest of the server's
// max_prepared_stmt_count. The first call of connection B, which has no
// statement of its own to give up, must succeed, as it does with the raw
// driver, which keeps none between calls: B frees A's. With middleware and
// without; a query, an exec, in a transaction, a statement the user
// prepares on B or on the DB, and two connections at once.
func TestStmtCacheBudgetStarved(t *testing.T) {
	parallelServers(t)
	srv := startBudgetServer(t)
	ctx := context.Background()
	query := func(ctx context.Context, q interface {
		QueryRowContext(context.Context, string, ...any) *sql.Row
	}, i int) error {
		var n int
		if err := q.QueryRowContext(ctx, fmt.Sprintf("SELECT ? + %d", 100+i), 1).Scan(&n); err != nil {
			return err
		}
		if n != 101+i {
			return fmt.Errorf("got %d; want %d", n, 101+i)
		}
		return nil
	}
	cases := []struct {
		name string
		run  func(db *sql.DB, b, c *sql.Conn) error
	}{
		{"query", func(_ *sql.DB, b, _ *sql.Conn) error { return query(ctx, b, 0) }},
		{"exec", func(_ *sql.DB, b, _ *sql.Conn) error {
			_, err := b.ExecContext(ctx, "DO ? + 1", 1)
			return err
		}},
		{"transaction", func(_ *sql.DB, b, _ *sql.Conn) error {
			tx, err := b.BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			defer tx.Rollback()
			if err := query(ctx, tx, 0); err != nil {
				return err
			}
			if err := query(ctx, tx, 1); err != nil {
				return err
			}
			return tx.Commit()
		}},
		{"prepared on B", func(_ *sql.DB, b, _ *sql.Conn) error { return budgetPrepared(ctx, b) }},
		{"prepared on the DB", func(db *sql.DB, _, _ *sql.Conn) error { return budgetPrepared(ctx, db) }},
		{"two connections at once", func(_ *sql.DB, b, c *sql.Conn) error {
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for i, x := range []*sql.Conn{b, c} {
				wg.Go(func() { errs[i] = query(ctx, x, i) })
			}
			wg.Wait()
			return errors.Join(errs...)
		}},
		{"two connections prepare at once", func(_ *sql.DB, b, c *sql.Conn) error {
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for i, x := range []*sql.Conn{b, c} {
				wg.Go(func() {
					st, err := x.PrepareContext(ctx, fmt.Sprintf("SELECT ? + %d", i))
					if err != nil {
						errs[i] = err
						return
					}
					defer st.Close()
					var n int
					if err := st.QueryRowContext(ctx, 1).Scan(&n); err != nil || n != i+1 {
						errs[i] = fmt.Errorf("%d, %w", n, err)
					}
				})
			}
			wg.Wait()
			return errors.Join(errs...)
		}},
	}
	for _, mw := range []bool{false, true} {
		for _, tc := range cases {
			t.Run(fmt.Sprintf("%s/middleware=%v", tc.name, mw), func(t *testing.T) {
				settle(t, srv)
				var m []middleware.Middleware
				if mw {
					m = append(m, &cacheUses{})
				}
				db := openBudget(t, srv, "stmt_cache=8&max_open_conns=4", m...)
				a, b, c := takeConns(t, db)
				for i := range 8 {
					if err := query(ctx, a, 10+i); err != nil {
						t.Fatal(err)
					}
				}
				if got := len(cacheOf(t, a)); got != 8 {
					t.Fatalf("A keeps %d statements; want 8", got)
				}
				a.Close() // back to the pool, idle
				fillStatements(t, srv, budgetLimit-8)
				if err := tc.run(db, b, c); err != nil {
					t.Fatalf("B's first call: %v; the raw driver succeeds", err)
				}
				if n := preparedCount(t, srv); n > budgetLimit {
					t.Fatalf("Prepared_stmt_count = %d", n)
				}
			})
		}
	}

	// The premise, with the raw driver: A keeps nothing, B succeeds; and
	// where the raw driver has no room either, so has databases, with the
	// server's 1461 reachable.
	t.Run("raw driver", func(t *testing.T) {
		settle(t, srv)
		raw, err := sql.Open("mysql", srv.DSN())
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		a, b, _ := takeConns(t, raw)
		for i := range 8 {
			if err := query(ctx, a, 10+i); err != nil {
				t.Fatal(err)
			}
		}
		a.Close()
		fillStatements(t, srv, budgetLimit-8)
		if err := query(ctx, b, 0); err != nil {
			t.Fatalf("raw driver: %v", err)
		}
	})
	t.Run("no room", func(t *testing.T) {
		settle(t, srv)
		db := openBudget(t, srv, "stmt_cache=8&max_open_conns=4")
		_, b, _ := takeConns(t, db)
		fillStatements(t, srv, budgetLimit)
		err := query(ctx, b, 0)
		var my *mysql.MySQLError
		if !errors.As(err, &my) || my.Number != 1461 {
			t.Fatalf("no room on the server: %v; want the server's 1461, as the raw driver gets", err)
		}
	})
}

// takeConns takes three distinct connections of db.
func takeConns(t *testing.T, db *sql.DB) (a, b, c *sql.Conn) {
	t.Helper()
	var cs [3]*sql.Conn
	for i := range cs {
		x, err := db.Conn(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { x.Close() })
		cs[i] = x
	}
	return cs[0], cs[1], cs[2]
}

// budgetPrepared prepares a statement on p (a DB or a connection), runs it
// once and checks its answer.
func budgetPrepared(ctx context.Context, p interface {
	PrepareContext(context.Context, string) (*sql.Stmt, error)
}) error {
	st, err := p.PrepareContext(ctx, "SELECT ? + 7")
	if err != nil {
		return err
	}
	defer st.Close()
	var n int
	if err := st.QueryRowContext(ctx, 1).Scan(&n); err != nil || n != 8 {
		return fmt.Errorf("%d, %w", n, err)
	}
	return nil
}
