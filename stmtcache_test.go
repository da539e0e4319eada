package databases

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/go-databases/databases/internal/dbtest"
	"github.com/go-databases/databases/internal/mytemp"
	"github.com/go-databases/databases/middleware"
)

// cachedQueries lists the queries whose statements the connection keeps.
func (c *conn) cachedQueries() []string {
	if c.stmts == nil {
		return nil
	}
	var qs []string
	for q := range c.stmts.entries {
		qs = append(qs, q)
	}
	slices.Sort(qs)
	return qs
}

// cacheOf returns the queries a pooled connection keeps statements for.
func cacheOf(t *testing.T, c *sql.Conn) []string {
	t.Helper()
	var qs []string
	if err := c.Raw(func(dc any) error {
		w, ok := dc.(interface{ cachedQueries() []string })
		if !ok {
			return fmt.Errorf("%T is not a connection of this package", dc)
		}
		qs = w.cachedQueries()
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return qs
}

// cacheUses records how the statement cache took part in each exec and
// query.
type cacheUses struct {
	mu   sync.Mutex
	uses []string
}

func (u *cacheUses) Handle(ctx context.Context, c *middleware.Call, next middleware.Handler) error {
	err := next(ctx, c)
	if c.Op == middleware.OpExec || c.Op == middleware.OpQuery {
		use := c.StmtCache.String()
		if use == "" {
			use = "uncached"
		}
		u.mu.Lock()
		u.uses = append(u.uses, use)
		u.mu.Unlock()
	}
	return err
}

func (u *cacheUses) take() string {
	u.mu.Lock()
	defer u.mu.Unlock()
	s := strings.Join(u.uses, " ")
	u.uses = nil
	return s
}

// openCached opens b's database with extra URL options, one connection,
// and the middleware given (none: the path without middleware).
func openCached(t *testing.T, url, opts string, mw ...middleware.Middleware) *sql.DB {
	t.Helper()
	if opts != "" {
		if strings.Contains(url, "?") {
			url += "&" + opts
		} else {
			url += "?" + opts
		}
	}
	var o []Option
	if len(mw) > 0 {
		o = append(o, WithMiddleware(mw...))
	}
	db, err := Open(url, o...)
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}

// TestStmtCacheUse checks, on every dialect, which calls the cache serves:
// SQLite every query, MySQL queries with arguments, PostgreSQL none (pgx
// caches), unless stmt_cache says otherwise.
func TestStmtCacheUse(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		for _, tc := range []struct {
			opts string
			want map[string]string // by dialect
		}{
			{"", map[string]string{
				"sqlite":   "miss hit hit miss hit",
				"mysql":    "miss hit hit uncached uncached",
				"postgres": "uncached uncached uncached uncached uncached",
			}},
			{"stmt_cache=0", map[string]string{
				"sqlite":   "uncached uncached uncached uncached uncached",
				"mysql":    "uncached uncached uncached uncached uncached",
				"postgres": "uncached uncached uncached uncached uncached",
			}},
			{"stmt_cache=4", map[string]string{
				"sqlite":   "miss hit hit miss hit",
				"mysql":    "miss hit hit uncached uncached",
				"postgres": "miss hit hit miss hit",
			}},
		} {
			t.Run(tc.opts, func(t *testing.T) {
				uses := &cacheUses{}
				db := openCached(t, b.URL, tc.opts, uses)
				table := dbtest.Name("sc")
				ctx := context.Background()
				if _, err := db.ExecContext(ctx, "CREATE TABLE "+table+" (id INTEGER PRIMARY KEY, name VARCHAR(20))"); err != nil {
					t.Fatal(err)
				}
				defer db.Exec("DROP TABLE " + table)
				uses.take() // CREATE TABLE: not the point here
				for i := range 3 {
					if _, err := db.ExecContext(ctx, "INSERT INTO "+table+" (id, name) VALUES (?, ?)", i, fmt.Sprint("n", i)); err != nil {
						t.Fatal(err)
					}
				}
				var n int
				for range 2 {
					if err := db.QueryRowContext(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil || n != 3 {
						t.Fatalf("count = %d, %v", n, err)
					}
				}
				got := uses.take()
				want := tc.want[b.Dialect]
				if got != want {
					t.Fatalf("cache use of INSERT x3, SELECT x2: %q; want %q", got, want)
				}
			})
		}
	})
}

// TestStmtCacheFidelity compares, on every dialect, what a cached statement
// gives with what the same call gives with the cache off: rows, column
// types, rows affected, last insert id and errors; with and without
// middleware, on the miss and on the hit.
func TestStmtCacheFidelity(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		for _, mode := range []string{"plain", "middleware"} {
			t.Run(mode, func(t *testing.T) {
				var mw []middleware.Middleware
				if mode == "middleware" {
					mw = append(mw, &cacheUses{})
				}
				url := b.URL
				if b.Dialect == "sqlite" { // one database for both
					url = "sqlite:///" + filepath.Join(t.TempDir(), "fidelity.db")
				}
				cached := openCached(t, url, "stmt_cache=8", mw...)
				plain := openCached(t, url, "stmt_cache=0", mw...)
				table := dbtest.Name("scf")
				ctx := context.Background()
				if _, err := plain.ExecContext(ctx, "CREATE TABLE "+table+" (id INTEGER PRIMARY KEY, name VARCHAR(20) NOT NULL, price DECIMAL(10,2), seen TIMESTAMP NULL)"); err != nil {
					t.Fatal(err)
				}
				defer plain.Exec("DROP TABLE " + table)
				insert := "INSERT INTO " + table + " (id, name, price) VALUES (?, ?, ?)"
				for i, db := range []*sql.DB{plain, cached, cached} {
					res, err := db.ExecContext(ctx, insert, i+1, "n", "1.50")
					if err != nil {
						t.Fatal(err)
					}
					if n, err := res.RowsAffected(); n != 1 || err != nil {
						t.Fatalf("RowsAffected = %d, %v", n, err)
					}
					// SQLite's rowid; MySQL's 0, the id not being generated.
					wantID := map[string]int64{"sqlite": int64(i + 1), "mysql": 0}
					if want, ok := wantID[b.Dialect]; ok {
						if id, err := res.LastInsertId(); id != want || err != nil {
							t.Fatalf("LastInsertId = %d, %v; want %d", id, err, want)
						}
					}
				}
				query := "SELECT id, name, price, seen FROM " + table + " WHERE id >= ? ORDER BY id"
				want := describe(t, plain, query)
				for range 2 { // miss, then hit
					if got := describe(t, cached, query); got != want {
						t.Fatalf("through the cache:\n%s\nwithout:\n%s", got, want)
					}
				}
				// A failing statement fails alike, and leaves the cache working.
				_, errPlain := plain.ExecContext(ctx, insert, 1, "dup", "0")
				_, errCached := cached.ExecContext(ctx, insert, 1, "dup", "0")
				if errPlain == nil || errCached == nil || errPlain.Error() != errCached.Error() || reflect.TypeOf(errors.Unwrap(errPlain)) != reflect.TypeOf(errors.Unwrap(errCached)) {
					t.Fatalf("duplicate key: %v through the cache, %v without", errCached, errPlain)
				}
				if got := describe(t, cached, query); got != want {
					t.Fatalf("after a failure, through the cache:\n%s\nwithout:\n%s", got, want)
				}
			})
		}
	})
}

// describe runs query with the argument 1 and writes down its columns,
// their types and its rows.
func describe(t *testing.T, db *sql.DB, query string) string {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), query, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out strings.Builder
	cts, err := rows.ColumnTypes()
	if err != nil {
		t.Fatal(err)
	}
	for _, ct := range cts {
		l, lok := ct.Length()
		p, s, dok := ct.DecimalSize()
		n, nok := ct.Nullable()
		fmt.Fprintf(&out, "%s %s %v len=%d,%v dec=%d,%d,%v null=%v,%v\n", ct.Name(), ct.DatabaseTypeName(), ct.ScanType(), l, lok, p, s, dok, n, nok)
	}
	vals := make([]any, len(cts))
	ptrs := make([]any, len(cts))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for _, v := range vals {
			fmt.Fprintf(&out, "%T:%v ", v, v)
		}
		out.WriteString("\n")
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

// TestStmtCacheOpenRows: while rows of a cached statement are open, the
// same query runs uncached beside them rather than resetting them, and a
// statement evicted meanwhile keeps serving its rows until they close. On
// SQLite, which lets one connection read two result sets at once.
func TestStmtCacheOpenRows(t *testing.T) {
	for _, mode := range []string{"plain", "middleware"} {
		t.Run(mode, func(t *testing.T) {
			var mw []middleware.Middleware
			if mode == "middleware" {
				mw = append(mw, &cacheUses{})
			}
			db := openCached(t, "sqlite:///:memory:", "stmt_cache=1", mw...)
			ctx := context.Background()
			c, err := db.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if _, err := c.ExecContext(ctx, "CREATE TABLE t (id INTEGER PRIMARY KEY)"); err != nil {
				t.Fatal(err)
			}
			if _, err := c.ExecContext(ctx, "INSERT INTO t VALUES (1), (2), (3), (4)"); err != nil {
				t.Fatal(err)
			}
			q := "SELECT id FROM t WHERE id >= ? ORDER BY id"
			a, err := c.QueryContext(ctx, q, 1) // prepared and kept
			if err != nil {
				t.Fatal(err)
			}
			bRows, err := c.QueryContext(ctx, q, 3) // same query, a busy statement: uncached
			if err != nil {
				t.Fatal(err)
			}
			var got []int
			for a.Next() && bRows.Next() {
				var x, y int
				if err := a.Scan(&x); err != nil {
					t.Fatal(err)
				}
				if err := bRows.Scan(&y); err != nil {
					t.Fatal(err)
				}
				got = append(got, x, y)
			}
			if err := bRows.Close(); err != nil {
				t.Fatal(err)
			}
			// Another query evicts a's statement (the cache holds one) while
			// a is open.
			if _, err := c.ExecContext(ctx, "UPDATE t SET id = id WHERE id = ?", 9); err != nil {
				t.Fatal(err)
			}
			for a.Next() {
				var x int
				if err := a.Scan(&x); err != nil {
					t.Fatal(err)
				}
				got = append(got, x)
			}
			if err := a.Err(); err != nil {
				t.Fatal(err)
			}
			if err := a.Close(); err != nil {
				t.Fatal(err)
			}
			// The loop's last a.Next moved a past 3 before b ended.
			if fmt.Sprint(got) != "[1 3 2 4 4]" {
				t.Fatalf("rows read %v; want [1 3 2 4 4]", got)
			}
			if qs := cacheOf(t, c); fmt.Sprint(qs) != "[UPDATE t SET id = id WHERE id = ?]" {
				t.Fatalf("cache holds %q", qs)
			}
			var n int
			if err := c.QueryRowContext(ctx, q, 2).Scan(&n); err != nil || n != 2 {
				t.Fatalf("query again: %d, %v", n, err)
			}
		})
	}
}

// TestStmtCacheSchemaChange: a table that gains a column, or is dropped and
// made again with other columns, is read right through a statement kept
// from before, on every dialect, outside a transaction; inside one too on
// SQLite and MySQL. On PostgreSQL the error pgx's own cache gives inside a
// transaction stands (docs/statement-cache.md says so), as without this package.
func TestStmtCacheSchemaChange(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		for _, opts := range []string{"", "stmt_cache=4"} {
			t.Run("opts="+opts, func(t *testing.T) {
				db := openCached(t, b.URL, opts)
				table := dbtest.Name("schema")
				ctx := context.Background()
				exec := func(q string) {
					t.Helper()
					if _, err := db.ExecContext(ctx, q); err != nil {
						t.Fatal(err)
					}
				}
				exec("CREATE TABLE " + table + " (id INTEGER PRIMARY KEY, a INTEGER)")
				defer db.Exec("DROP TABLE " + table)
				exec("INSERT INTO " + table + " (id, a) VALUES (1, 10)")
				q := "SELECT * FROM " + table + " WHERE id = ?"
				columns := func(run interface {
					QueryContext(context.Context, string, ...any) (*sql.Rows, error)
				}) (string, error) {
					rows, err := run.QueryContext(ctx, q, 1)
					if err != nil {
						return "", err
					}
					defer rows.Close()
					cols, _ := rows.Columns()
					for rows.Next() {
					}
					return strings.Join(cols, ","), rows.Err()
				}
				for _, step := range []struct{ ddl, want string }{
					{"", "id,a"},
					{"ALTER TABLE " + table + " ADD COLUMN b INTEGER", "id,a,b"},
					{"DROP TABLE " + table, ""},
					{"CREATE TABLE " + table + " (id INTEGER PRIMARY KEY, c VARCHAR(5))", "id,c"},
				} {
					if step.ddl != "" {
						exec(step.ddl)
					}
					if step.want == "" {
						continue
					}
					for range 2 {
						got, err := columns(db)
						if err != nil || got != step.want {
							t.Fatalf("after %q: columns %q, %v; want %q", step.ddl, got, err, step.want)
						}
					}
				}
				tx, err := db.BeginTx(ctx, nil)
				if err != nil {
					t.Fatal(err)
				}
				defer tx.Rollback()
				// Another connection changes the table between two reads of
				// the transaction? One connection here: change it first.
				tx.Rollback()
				exec("ALTER TABLE " + table + " ADD COLUMN d INTEGER")
				tx, err = db.BeginTx(ctx, nil)
				if err != nil {
					t.Fatal(err)
				}
				defer tx.Rollback()
				got, err := columns(tx)
				var pg *pgconn.PgError
				switch {
				case b.Dialect == "postgres" && errors.As(err, &pg) && pg.Code == "0A000":
					// pgx's cached plan, inside a transaction: the error stands.
				case err != nil || got != "id,c,d":
					t.Fatalf("inside a transaction after ADD COLUMN: columns %q, %v; want id,c,d", got, err)
				}
			})
		}
	})
}

// TestStmtCacheSQLiteIdle: statements kept by idle connections hold no lock
// and no read transaction: a WAL checkpoint truncates, VACUUM, DROP TABLE
// and DETACH run while two connections keep statements on the tables.
func TestStmtCacheSQLiteIdle(t *testing.T) {
	dir := t.TempDir()
	db, err := Open("sqlite:///" + filepath.Join(dir, "idle.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	c1, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c1.Close()
	c2, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	other := filepath.Join(dir, "other.db")
	for _, q := range []string{
		"CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)",
		"CREATE TABLE u (id INTEGER PRIMARY KEY)",
		"ATTACH DATABASE '" + other + "' AS o",
		"CREATE TABLE o.w (id INTEGER PRIMARY KEY)",
	} {
		if _, err := c1.ExecContext(ctx, q); err != nil {
			t.Fatal(q, ": ", err)
		}
	}
	for i := range 50 {
		if _, err := c1.ExecContext(ctx, "INSERT INTO t (id, v) VALUES (?, ?)", i, strings.Repeat("x", 500)); err != nil {
			t.Fatal(err)
		}
	}
	var n int
	for _, c := range []*sql.Conn{c1, c2} {
		for _, q := range []string{"SELECT count(*) FROM t WHERE id >= ?", "SELECT count(*) FROM u WHERE id >= ?"} {
			if err := c.QueryRowContext(ctx, q, 0).Scan(&n); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := c1.QueryRowContext(ctx, "SELECT count(*) FROM o.w WHERE id >= ?", 0).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if qs := cacheOf(t, c2); len(qs) != 2 {
		t.Fatalf("c2 keeps %q; want the two SELECTs", qs)
	}
	var busy, logFrames, done int
	if err := c1.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &logFrames, &done); err != nil || busy != 0 || logFrames != 0 {
		t.Fatalf("wal_checkpoint(TRUNCATE) = busy %d, log %d, %v; want 0, 0: a kept statement holds a read transaction", busy, logFrames, err)
	}
	for _, q := range []string{"VACUUM", "DROP TABLE u", "DETACH DATABASE o"} {
		if _, err := c1.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s with statements kept: %v", q, err)
		}
	}
	if err := c2.QueryRowContext(ctx, "SELECT count(*) FROM t WHERE id >= ?", 0).Scan(&n); err != nil || n != 50 {
		t.Fatalf("a kept statement after VACUUM: %d, %v", n, err)
	}
	if err := c2.QueryRowContext(ctx, "SELECT count(*) FROM u WHERE id >= ?", 0).Scan(&n); err == nil || !strings.Contains(err.Error(), "no such table: u") {
		t.Fatalf("a kept statement on a dropped table: %v; want SQLite's no such table", err)
	}
}

// TestStmtCacheBounded: ten thousand distinct queries leave a connection
// with at most stmt_cache statements, and the heap where it was.
func TestStmtCacheBounded(t *testing.T) {
	db := openCached(t, "sqlite:///:memory:", "stmt_cache=16")
	ctx := context.Background()
	c, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	run := func(from, to int) {
		var n int
		for i := from; i < to; i++ {
			if err := c.QueryRowContext(ctx, fmt.Sprintf("SELECT ? + %d", i), 1).Scan(&n); err != nil || n != i+1 {
				t.Fatalf("query %d: %d, %v", i, n, err)
			}
		}
	}
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	run(0, 1000)
	before := heap()
	run(1000, 11000)
	after := heap()
	if qs := cacheOf(t, c); len(qs) != 16 || qs[0] != "SELECT ? + 10984" {
		t.Fatalf("cache holds %d statements, first %q; want the last 16", len(qs), qs[0])
	}
	if after > before+512<<10 {
		t.Fatalf("heap grew from %d to %d bytes over 10 000 distinct queries", before, after)
	}
	long := "SELECT ? /*" + strings.Repeat("x", stmtCacheMaxQuery) + "*/"
	var n int
	if err := c.QueryRowContext(ctx, long, 7).Scan(&n); err != nil || n != 7 {
		t.Fatalf("a long query: %d, %v", n, err)
	}
	if qs := cacheOf(t, c); slices.Contains(qs, long) {
		t.Fatal("a query longer than the limit was kept")
	}
}

// TestStmtCacheOptions: the option's values, and what it cannot be.
func TestStmtCacheOptions(t *testing.T) {
	for _, tc := range []struct {
		url     string
		wantErr string // "" : opens, with want statements kept per connection
		want    int
	}{
		{"sqlite:///:memory:", "", 64},
		{"sqlite:///:memory:?stmt_cache=0", "", 0},
		{"sqlite:///:memory:?stmt_cache=200", "", 200},
		{"postgres://u@h/db", "", 0},
		{"postgres://u@h/db?stmt_cache=32", "", 32},
		{"mysql://u@h/db", "", 64},
		{"mysql://u@h/db?interpolateParams=true", "", 0},
		{"mysql://u@h/db?interpolateParams=true&stmt_cache=0", "", 0},
		{"mysql://u:secret@h/db?interpolateParams=true&stmt_cache=8", "stmt_cache=8 and interpolateParams=true", 0},
		{"sqlite:///:memory:?stmt_cache=-1", `stmt_cache: "-1" is not a number of statements`, 0},
		{"sqlite:///:memory:?stmt_cache=lots", `stmt_cache: "lots" is not a number of statements`, 0},
	} {
		c, err := newConnector(tc.url, &Driver{}, nil)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || strings.Contains(err.Error(), "secret") {
				t.Errorf("%s: %v; want an error with %q and no password", tc.url, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.url, err)
			continue
		}
		if c.stmts != tc.want {
			t.Errorf("%s: %d statements per connection; want %d", tc.url, c.stmts, tc.want)
		}
	}
}

// TestStmtCacheCancel: a cached statement whose query is cancelled halfway
// serves the next call (SQLite interrupts and resets it).
func TestStmtCacheCancel(t *testing.T) {
	db := openCached(t, "sqlite:///:memory:", "")
	q := "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < ?) SELECT count(*) FROM r"
	var n int
	if err := db.QueryRow(q, 10).Scan(&n); err != nil || n != 10 {
		t.Fatalf("%d, %v", n, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := db.QueryRowContext(ctx, q, 1<<40).Scan(&n); !errors.Is(err, context.DeadlineExceeded) && !strings.Contains(fmt.Sprint(err), "interrupted") {
		t.Fatalf("cancelled: %v", err)
	}
	if err := db.QueryRow(q, 20).Scan(&n); err != nil || n != 20 {
		t.Fatalf("after the cancel: %d, %v; want 20", n, err)
	}
}

// TestStmtCacheMySQLStatementLimit: on a private MariaDB whose
// max_prepared_stmt_count is 4, of which another client holds 2, a
// connection asked to keep 8 statements keeps at most 2 (4/2 for its one
// connection: stmtShare) and runs 12 distinct queries twice without an
// error: the server's 1461, when the other client leaves too little room,
// empties the connection's cache and the statement is prepared again, as
// the raw driver's would be.
func TestStmtCacheMySQLStatementLimit(t *testing.T) {
	parallelServers(t)
	srv := mytemp.Start(t, "--max-prepared-stmt-count=4")
	fillStatements(t, srv, 2)
	uses := &cacheUses{}
	db := openCached(t, srv.URL(), "stmt_cache=8&max_open_conns=1", uses)
	ctx := context.Background()
	c, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for round := range 2 {
		for i := range 12 {
			var n int
			if err := c.QueryRowContext(ctx, fmt.Sprintf("SELECT ? + %d", i), 1).Scan(&n); err != nil || n != i+1 {
				t.Fatalf("round %d, query %d: %d, %v", round, i, n, err)
			}
		}
	}
	got := uses.take()
	if !strings.Contains(got, "miss") {
		t.Fatalf("cache use %q; want misses", got)
	}
	if qs := cacheOf(t, c); len(qs) == 0 || len(qs) > 2 {
		t.Fatalf("the connection keeps %d statements; want 1 to 2, its share of the server's limit", len(qs))
	}
	var name string
	var count int
	if err := c.QueryRowContext(ctx, "SHOW GLOBAL STATUS LIKE 'Prepared_stmt_count'").Scan(&name, &count); err != nil || count > 4 {
		t.Fatalf("Prepared_stmt_count = %d, %v", count, err)
	}
}
