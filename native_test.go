//lint:file-ignore SA1019 the test drivers offer the legacy driver interfaces only

package databases

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"path/filepath"
	"testing"

	"modernc.org/sqlite"

	"github.com/go-databases/databases/internal/dbtest"
)

// legacyDriver opens SQLite through modernc and offers database/sql only
// part of what the connection has, standing in for a driver written against
// fewer interfaces than modernc, pgx and go-sql-driver/mysql implement.
type legacyDriver struct {
	// skip: the connection also has ExecerContext and QueryerContext, which
	// answer a statement with arguments by driver.ErrSkip (as
	// go-sql-driver/mysql does without interpolateParams), and a
	// PrepareContext that does not watch the context. Without it, the
	// connection is a bare driver.Conn: no Execer, no Queryer.
	skip bool
}

func init() {
	sql.Register("databases-test-bare", legacyDriver{})
	sql.Register("databases-test-skip", legacyDriver{skip: true})
}

func (d legacyDriver) Open(dsn string) (driver.Conn, error) {
	raw, err := (&sqlite.Driver{}).Open(dsn)
	if err != nil {
		return nil, err
	}
	c := &legacyConn{raw: raw}
	if d.skip {
		return &skipConn{c}, nil
	}
	return c, nil
}

// legacyConn is a bare driver.Conn.
type legacyConn struct{ raw driver.Conn }

func (c *legacyConn) Prepare(query string) (driver.Stmt, error) {
	s, err := c.raw.Prepare(query)
	if err != nil {
		return nil, err
	}
	return legacyStmt{s}, nil
}

func (c *legacyConn) Close() error              { return c.raw.Close() }
func (c *legacyConn) Begin() (driver.Tx, error) { return c.raw.Begin() }

// legacyStmt is a bare driver.Stmt: no StmtExecContext, no StmtQueryContext.
type legacyStmt struct{ raw driver.Stmt }

func (s legacyStmt) Close() error  { return s.raw.Close() }
func (s legacyStmt) NumInput() int { return s.raw.NumInput() }
func (s legacyStmt) Exec(v []driver.Value) (driver.Result, error) {
	return s.raw.Exec(v)
}
func (s legacyStmt) Query(v []driver.Value) (driver.Rows, error) { return s.raw.Query(v) }

// skipConn is legacyConn with the skip behaviour of legacyDriver.
type skipConn struct{ *legacyConn }

// prepareHook is the context key of a function that skipConn's
// PrepareContext calls once it has prepared: a cancel, in the tests, that
// lands between the prepare and the run of the statement.
type prepareHook struct{}

func (c *skipConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if len(args) > 0 {
		return nil, driver.ErrSkip
	}
	return c.raw.(driver.ExecerContext).ExecContext(ctx, query, args)
}

func (c *skipConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if len(args) > 0 {
		return nil, driver.ErrSkip
	}
	return c.raw.(driver.QueryerContext).QueryContext(ctx, query, args)
}

func (c *skipConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	s, err := c.Prepare(query)
	if f, ok := ctx.Value(prepareHook{}).(func()); ok && err == nil {
		f()
	}
	return s, err
}

// TestForceRollbackLegacyDriver: force_rollback runs its own statements
// (the outer BEGIN, the savepoints of transactions, the final ROLLBACK) on
// a driver that has no Execer by preparing them, as database/sql runs a
// caller's, and undoes everything at Close: a transaction committed (id 2)
// and one rolled back (id 3) inside, all of it after.
func TestForceRollbackLegacyDriver(t *testing.T) {
	url := "sqlite+databases-test-bare:///" + filepath.Join(t.TempDir(), "legacy.db")
	plain, err := sql.Open(driverName, url)
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	if _, err := plain.Exec("CREATE TABLE t (id INTEGER PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open(driverName, url+"?force_rollback=true")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("INSERT INTO t (id) VALUES (?)", 1); err != nil {
		t.Fatal(err)
	}
	for i, commit := range []bool{true, false} {
		tx, err := db.Begin()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec("INSERT INTO t (id) VALUES (?)", 2+i); err != nil {
			t.Fatal(err)
		}
		end := tx.Rollback
		if commit {
			end = tx.Commit
		}
		if err := end(); err != nil {
			t.Fatalf("commit %v: %v", commit, err)
		}
	}
	var n int
	if err := db.QueryRow("SELECT count(*) FROM t").Scan(&n); err != nil || n != 2 {
		t.Fatalf("inside the force_rollback DB: count = %d, %v; want 2", n, err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := plain.QueryRow("SELECT count(*) FROM t").Scan(&n); err != nil || n != 0 {
		t.Fatalf("after Close: count = %d, %v; want 0 (rolled back)", n, err)
	}
}

// TestPreparedFallbackCancelled: when the driver answers driver.ErrSkip
// and the statement is prepared instead, a context cancelled between the
// prepare and the run stops the run, as database/sql's own fallback does
// (ctxDriverStmtExec), with middleware watching or not.
func TestPreparedFallbackCancelled(t *testing.T) {
	url := "sqlite+databases-test-skip:///" + filepath.Join(t.TempDir(), "skip.db")
	raw := openRaw(t, url)
	if _, err := raw.Exec("CREATE TABLE t (id INTEGER PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	open := func(opts ...Option) *sql.DB {
		c, err := NewConnector(url, opts...)
		if err != nil {
			t.Fatal(err)
		}
		db := sql.OpenDB(c)
		t.Cleanup(func() { db.Close() })
		return db
	}
	dbs := []struct {
		name string
		db   *sql.DB
	}{
		{"database/sql", raw},
		{"databases", open()},
		{"databases with middleware", open(withObservedRows())},
	}
	for i, d := range dbs {
		t.Run(d.name, func(t *testing.T) {
			id := i + 1
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			ctx = context.WithValue(ctx, prepareHook{}, func() { cancel() })
			if _, err := d.db.ExecContext(ctx, "INSERT INTO t (id) VALUES (?)", id); !errors.Is(err, context.Canceled) {
				t.Errorf("ExecContext: err = %v; want context.Canceled", err)
			}
			var n int
			if err := raw.QueryRow("SELECT count(*) FROM t WHERE id = ?", id).Scan(&n); err != nil || n != 0 {
				t.Errorf("rows inserted = %d, %v; want 0", n, err)
			}

			ctx, cancel = context.WithCancel(context.Background())
			defer cancel()
			ctx = context.WithValue(ctx, prepareHook{}, func() { cancel() })
			rows, err := d.db.QueryContext(ctx, "SELECT id FROM t WHERE id = ?", id)
			if err == nil {
				rows.Close()
			}
			if !errors.Is(err, context.Canceled) {
				t.Errorf("QueryContext: err = %v; want context.Canceled", err)
			}
		})
	}
}

// TestSkippedStatementMySQL: without the statement cache and without
// interpolateParams, go-sql-driver answers a statement with arguments with
// driver.ErrSkip and the wrapper prepares it: each statement it prepared is
// closed (exec at once, query with its rows), an argument count the
// statement does not take fails with database/sql's message, as with the
// raw driver, and the same holds in a transaction and with middleware.
func TestSkippedStatementMySQL(t *testing.T) {
	b := dbtest.Backends()[2]
	b.Require(t)
	ctx := context.Background()
	raw := openRaw(t, b.URL)
	table := dbtest.Name("skipped")
	if _, err := raw.Exec("CREATE TABLE " + table + " (id INT PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Exec("DROP TABLE " + table) })
	_, wantErr := raw.Exec("DO ?", 1, 2)
	if wantErr == nil {
		t.Fatal("raw driver: DO ? with 2 arguments succeeded")
	}
	for _, tc := range []struct {
		name string
		opts []Option
		tx   bool
	}{
		{name: "plain"},
		{name: "transaction", tx: true},
		{name: "middleware", opts: []Option{withObservedRows()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := NewConnector(b.URL+"&stmt_cache=0&placeholders=native", tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			db := sql.OpenDB(c)
			defer db.Close()
			conn, err := db.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			status := func() (prepared, closed int) {
				t.Helper()
				rows, err := conn.QueryContext(ctx, "SHOW SESSION STATUS LIKE 'Com_stmt_%'")
				if err != nil {
					t.Fatal(err)
				}
				defer rows.Close()
				for rows.Next() {
					var name string
					var n int
					if err := rows.Scan(&name, &n); err != nil {
						t.Fatal(err)
					}
					switch name {
					case "Com_stmt_prepare":
						prepared = n
					case "Com_stmt_close":
						closed = n
					}
				}
				if err := rows.Err(); err != nil {
					t.Fatal(err)
				}
				return prepared, closed
			}
			p0, c0 := status()
			type execQuerier interface {
				ExecContext(context.Context, string, ...any) (sql.Result, error)
				QueryRowContext(context.Context, string, ...any) *sql.Row
			}
			var q execQuerier = conn
			var tx *sql.Tx
			if tc.tx {
				if tx, err = conn.BeginTx(ctx, nil); err != nil {
					t.Fatal(err)
				}
				q = tx
			}
			for i := range 3 {
				if _, err := q.ExecContext(ctx, "INSERT INTO "+table+" (id) VALUES (?)", i+10*len(tc.name)); err != nil {
					t.Fatalf("exec %d: %v", i, err)
				}
				var n int
				if err := q.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+table+" WHERE id >= ?", 10*len(tc.name)).Scan(&n); err != nil || n != i+1 {
					t.Fatalf("query %d: count %d, %v; want %d", i, n, err, i+1)
				}
			}
			if _, err := q.ExecContext(ctx, "DO ?", 1, 2); err == nil || err.Error() != wantErr.Error() {
				t.Errorf("DO ? with 2 arguments: %v; want the raw driver's %q", err, wantErr)
			}
			if tx != nil {
				if err := tx.Rollback(); err != nil {
					t.Fatal(err)
				}
			}
			p1, c1 := status()
			if p1-p0 != 7 || c1-c0 != 7 {
				t.Errorf("statements prepared %d, closed %d; want 7 and 7", p1-p0, c1-c0)
			}
		})
	}
}
