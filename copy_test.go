package databases_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-databases/databases"
	"github.com/go-databases/databases/internal/dbtest"
	"github.com/go-databases/databases/middleware"
	"github.com/go-databases/databases/middleware/logging"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// copyColumns are the columns of copyTable, in the order of copyRow.
var copyColumns = []string{"id", "n", "f", "s", "big", "at", "b", "ok"}

// copyTable creates a table for loads, dropped at the end of the test.
func copyTable(t *testing.T, db *sql.DB, dialect string) string {
	t.Helper()
	ddl := map[string]string{
		"sqlite":   "CREATE TABLE %s (id INTEGER PRIMARY KEY, n INTEGER, f REAL, s TEXT NOT NULL, big TEXT, at TIMESTAMP, b BLOB, ok BOOLEAN)",
		"postgres": "CREATE TABLE %s (id BIGINT PRIMARY KEY, n INTEGER, f DOUBLE PRECISION, s TEXT NOT NULL, big TEXT, at TIMESTAMPTZ, b BYTEA, ok BOOLEAN)",
		"mysql":    "CREATE TABLE %s (id BIGINT PRIMARY KEY, n INT, f DOUBLE, s VARCHAR(100) NOT NULL, big MEDIUMTEXT, at DATETIME(6), b VARBINARY(16), ok BOOLEAN) DEFAULT CHARSET=utf8mb4",
	}
	table := dbtest.Name("copy")
	if _, err := db.Exec(fmt.Sprintf(ddl[dialect], table)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Exec("DROP TABLE " + table) })
	return table
}

var copyBase = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)

// copyRow is row i of a load: NULLs in n, f, big and ok on some rows,
// unicode beyond the BMP, a 60 kB text every 1000 rows, microseconds, bytes
// that are not UTF-8, an int and a driver.Valuer to convert.
func copyRow(i int) []any {
	var n, f, big any
	if i%7 != 0 {
		n = i*3 - 50000 // an int: converted as Exec converts it
	}
	if i%11 != 0 {
		f = float64(i) / 3
	}
	if i%1000 == 0 {
		big = strings.Repeat("λx.", 20000) + strconv.Itoa(i)
	}
	at := copyBase.Add(time.Duration(i)*time.Second + time.Duration(i%1000)*time.Microsecond)
	var ok sql.NullBool
	if i%13 != 0 {
		ok = sql.NullBool{Bool: i%2 == 0, Valid: true}
	}
	return []any{int64(i), n, f, fmt.Sprintf("héllo ✓ 世界 🙂 %d", i), big, at, []byte{byte(i), 0, 0xff, byte(i >> 8)}, ok}
}

// copyRows yields rows [0, n) of copyRow, with change applied.
func copyRows(n int, change func(i int, row []any)) iter.Seq[[]any] {
	return func(yield func([]any) bool) {
		for i := range n {
			row := copyRow(i)
			if change != nil {
				change(i, row)
			}
			if !yield(row) {
				return
			}
		}
	}
}

// checkCopied reads the table back and compares it with copyRow.
func checkCopied(t *testing.T, db *sql.DB, table string, n int) {
	t.Helper()
	rows, err := db.Query("SELECT id, n, f, s, big, at, b, ok FROM " + table + " ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	i := 0
	for ; rows.Next(); i++ {
		var (
			id  int64
			nn  sql.NullInt64
			f   sql.NullFloat64
			s   string
			big sql.NullString
			at  time.Time
			b   []byte
			ok  sql.NullBool
		)
		if err := rows.Scan(&id, &nn, &f, &s, &big, &at, &b, &ok); err != nil {
			t.Fatal(err)
		}
		w := copyRow(i)
		got := []any{id, nullOf(nn.Int64, nn.Valid), nullOf(f.Float64, f.Valid), s, nullOf(big.String, big.Valid), at.UTC(), b, ok}
		if nn.Valid {
			w[1] = int64(w[1].(int))
		}
		if !reflect.DeepEqual(got, w) {
			t.Fatalf("row %d:\n got %.60q\nwant %.60q", i, got, w)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if i != n {
		t.Fatalf("read %d rows back, want %d", i, n)
	}
}

func nullOf[T any](v T, valid bool) any {
	if !valid {
		return nil
	}
	return v
}

// TestCopyFrom: 100 000 rows load and read back equal on every backend,
// through each kind of q; and the rows a load wrote read back as those
// Exec writes with the same arguments, value for value and type for type.
func TestCopyFrom(t *testing.T) {
	t.Parallel()
	const n = 100_000
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		ctx := context.Background()
		db := openCopyDB(t, b)
		table := copyTable(t, db, b.Dialect)
		got, err := databases.CopyFrom(ctx, db, table, copyColumns, databases.CopySeq(copyRows(n, nil)))
		if err != nil {
			t.Fatal(err)
		}
		if got != n {
			t.Fatalf("CopyFrom returned %d, want %d", got, n)
		}
		checkCopied(t, db, table, n)

		// The oracle: the same rows through Exec.
		const m = 1200
		twin := copyTable(t, db, b.Dialect)
		tx, err := db.Begin()
		if err != nil {
			t.Fatal(err)
		}
		for row := range copyRows(m, nil) {
			if _, err := tx.Exec("INSERT INTO "+twin+" (id, n, f, s, big, at, b, ok) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", row...); err != nil {
				t.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		a, c := readAny(t, db, table, m), readAny(t, db, twin, m)
		for i := range a {
			if !reflect.DeepEqual(a[i], c[i]) {
				t.Fatalf("row %d: loaded %#.100v, Exec wrote %#.100v", i, a[i], c[i])
			}
		}

		// Through a *sql.Conn and a *sql.Tx, with CopyRows.
		conn, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		small := copyTable(t, db, b.Dialect)
		var rows [][]any
		for row := range copyRows(10, nil) {
			rows = append(rows, row)
		}
		if got, err := databases.CopyFrom(ctx, conn, small, copyColumns, databases.CopyRows(rows[:5])); err != nil || got != 5 {
			t.Fatalf("through a Conn: %d, %v", got, err)
		}
		tx, err = db.Begin()
		if err != nil {
			t.Fatal(err)
		}
		if got, err := databases.CopyFrom(ctx, tx, small, copyColumns, databases.CopyRows(rows[5:])); err != nil || got != 5 {
			t.Fatalf("through a Tx: %d, %v", got, err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		checkCopied(t, db, small, 10)
	})
}

// openCopyDB opens b; SQLite on a file, so that every connection sees it.
func openCopyDB(t *testing.T, b dbtest.Backend, opts ...databases.Option) *sql.DB {
	t.Helper()
	url := b.URL
	if b.Dialect == "sqlite" {
		url = "sqlite:///" + t.TempDir() + "/copy.db"
	}
	db, err := databases.Open(url, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// readAny reads the first n rows of table as the driver returns them.
func readAny(t *testing.T, db *sql.DB, table string, n int) [][]any {
	t.Helper()
	rows, err := db.Query("SELECT id, n, f, s, big, at, b, ok FROM "+table+" WHERE id < ? ORDER BY id", n)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out [][]any
	for rows.Next() {
		vals := make([]any, len(copyColumns))
		ptrs := make([]any, len(vals))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		out = append(out, vals)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) != n {
		t.Fatalf("read %d rows of %s, want %d", len(out), table, n)
	}
	return out
}

// TestCopyFromBadRow: a row the server refuses, in the middle of 100 000,
// loads nothing and is named by its index, with its column where the
// server names it; so is a value that cannot be converted, and a row of
// the wrong width. The connection serves the next statement.
func TestCopyFromBadRow(t *testing.T) {
	t.Parallel()
	const n, bad = 100_000, 50_000
	cases := []struct {
		name   string
		change func(row []any)
		column map[string]string // the column each dialect names, "" for none
	}{
		{"null in a NOT NULL column", func(row []any) { row[3] = nil },
			map[string]string{"sqlite": "s", "postgres": "s", "mysql": "s"}},
		{"duplicate key", func(row []any) { row[0] = int64(7) }, nil},
		{"value that does not convert", func(row []any) { row[1] = struct{}{} }, map[string]string{"sqlite": "n", "mysql": "n"}},
		{"too few values", nil, nil},
	}
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		ctx := context.Background()
		db := openCopyDB(t, b)
		table := copyTable(t, db, b.Dialect)
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				src := copyRows(n, func(i int, row []any) {
					if i == bad && tc.change != nil {
						tc.change(row)
					}
				})
				if tc.name == "too few values" {
					src = func(yield func([]any) bool) {
						for row := range copyRows(n, nil) {
							if row[0].(int64) == bad {
								row = row[:7]
							}
							if !yield(row) {
								return
							}
						}
					}
				}
				got, err := databases.CopyFrom(ctx, db, table, copyColumns, databases.CopySeq(src))
				var ce *databases.CopyError
				if !errors.As(err, &ce) {
					t.Fatalf("CopyFrom: %d, %v; want a *CopyError", got, err)
				}
				if got != 0 || ce.Row != bad {
					t.Fatalf("CopyFrom: %d, row %d (%v); want 0, row %d", got, ce.Row, err, bad)
				}
				if want := tc.column[b.Dialect]; want != "" && ce.Column != want {
					t.Errorf("column %q, want %q (%v)", ce.Column, want, err)
				}
				if c := count(t, db, table); c != 0 {
					t.Fatalf("%d rows kept", c)
				}
				t.Log(err)
			})
		}
	})
}

// TestCopyFromCancel: a load whose context is cancelled halfway loads
// nothing, returns the cancellation, and leaves its connection usable:
// the same sql.Conn runs the next load.
func TestCopyFromCancel(t *testing.T) {
	t.Parallel()
	const n = 100_000
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		db := openCopyDB(t, b)
		table := copyTable(t, db, b.Dialect)
		conn, err := db.Conn(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		got, err := databases.CopyFrom(ctx, conn, table, copyColumns, databases.CopySeq(copyRows(n, func(i int, _ []any) {
			if i == n/2 {
				cancel()
			}
		})))
		if !errors.Is(err, context.Canceled) || got != 0 {
			t.Fatalf("CopyFrom: %d, %v; want 0, context.Canceled", got, err)
		}
		if c := count(t, db, table); c != 0 {
			t.Fatalf("%d rows kept", c)
		}
		got, err = databases.CopyFrom(context.Background(), conn, table, copyColumns, databases.CopySeq(copyRows(10, nil)))
		if err != nil || got != 10 {
			t.Fatalf("the next load on the connection: %d, %v", got, err)
		}
	})
}

// TestCopyFromTx: inside a transaction the load is seen by the
// transaction and gone after Rollback; one that fails inside it leaves the
// transaction's own writes on MySQL and SQLite, whose transactions outlive
// a failed statement.
func TestCopyFromTx(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		ctx := context.Background()
		db := openCopyDB(t, b)
		table := copyTable(t, db, b.Dialect)
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := databases.CopyFrom(ctx, tx, table, copyColumns, databases.CopySeq(copyRows(20_000, nil))); err != nil || got != 20_000 {
			t.Fatalf("CopyFrom: %d, %v", got, err)
		}
		if c := count(t, tx, table); c != 20_000 {
			t.Fatalf("the transaction sees %d rows", c)
		}
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
		if c := count(t, db, table); c != 0 {
			t.Fatalf("%d rows kept after Rollback", c)
		}
		if b.Dialect == "postgres" {
			return
		}
		tx, err = db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		if _, err := tx.Exec("INSERT INTO "+table+" (id, s) VALUES (?, ?)", -1, "before"); err != nil {
			t.Fatal(err)
		}
		_, err = databases.CopyFrom(ctx, tx, table, copyColumns, databases.CopySeq(copyRows(3000, func(i int, row []any) {
			if i == 2500 {
				row[0] = int64(-1)
			}
		})))
		var ce *databases.CopyError
		if !errors.As(err, &ce) || ce.Row != 2500 {
			t.Fatalf("CopyFrom: %v; want a CopyError of row 2500", err)
		}
		if c := count(t, tx, table); c != 1 {
			t.Fatalf("the transaction has %d rows, want its own 1", c)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if c := count(t, db, table); c != 1 {
			t.Fatalf("%d rows committed, want 1", c)
		}
	})
}

// TestCopyStmt: lib/pq's convention, Exec per row, Exec() to flush, then
// Close, with the statement as written by hand and as pq.CopyIn writes it.
func TestCopyStmt(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		db := openCopyDB(t, b)
		for _, form := range []string{`COPY %s (id, n, f, s, big, at, b, ok) FROM STDIN`, `COPY "%s" ("id", "n", "f", "s", "big", "at", "b", "ok") FROM STDIN`} {
			table := copyTable(t, db, b.Dialect)
			tx, err := db.Begin()
			if err != nil {
				t.Fatal(err)
			}
			st, err := tx.Prepare(fmt.Sprintf(form, table))
			if err != nil {
				t.Fatal(err)
			}
			const n = 5000
			buf := make([]byte, 4)
			for row := range copyRows(n, nil) {
				copy(buf, row[6].([]byte))
				row[6] = buf // reused: the statement keeps its own copy
				if _, err := st.Exec(row...); err != nil {
					t.Fatal(err)
				}
			}
			res, err := st.Exec()
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := res.RowsAffected(); got != n {
				t.Fatalf("flush: %d rows, want %d", got, n)
			}
			if err := st.Close(); err != nil {
				t.Fatal(err)
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			checkCopied(t, db, table, n)
		}

		// A row the server refuses fails the flush, which names it.
		table := copyTable(t, db, b.Dialect)
		conn, err := db.Conn(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		st, err := conn.PrepareContext(context.Background(), "COPY "+table+" (id, s) FROM STDIN")
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		for i := range 300 {
			var s any = "x"
			if i == 123 {
				s = nil
			}
			if _, err := st.Exec(i, s); err != nil {
				t.Fatal(err)
			}
		}
		_, err = st.Exec()
		var ce *databases.CopyError
		if !errors.As(err, &ce) || ce.Row != 123 {
			t.Fatalf("flush: %v; want a CopyError of row 123", err)
		}
		if c := count(t, db, table); c != 0 {
			t.Fatalf("%d rows kept", c)
		}
	})
}

// TestCopyFromMiddleware: a load is one OpCopy call, with the statement
// and the rows loaded, and no call of its own for the prepare, the
// transaction or the batches.
func TestCopyFromMiddleware(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		var calls []middleware.Call
		rec := middleware.Func(func(ctx context.Context, c *middleware.Call, next middleware.Handler) error {
			err := next(ctx, c)
			calls = append(calls, *c)
			return err
		})
		db := openCopyDB(t, b, databases.WithMiddleware(rec))
		table := copyTable(t, db, b.Dialect)
		conn, err := db.Conn(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		calls = nil
		if _, err := databases.CopyFrom(context.Background(), conn, table, copyColumns, databases.CopySeq(copyRows(2500, nil))); err != nil {
			t.Fatal(err)
		}
		if len(calls) != 1 || calls[0].Op != middleware.OpCopy || calls[0].RowsAffected != 2500 ||
			!strings.HasPrefix(calls[0].Query, "COPY ") {
			t.Fatalf("calls: %+v", calls)
		}
	})
}

// TestCopyFromReadReplica: a load is a write, refused under ReadReplica.
func TestCopyFromReadReplica(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		db := openCopyDB(t, b)
		table := copyTable(t, db, b.Dialect)
		_, err := databases.CopyFrom(databases.ReadReplica(context.Background()), db, table, copyColumns, databases.CopySeq(copyRows(3, nil)))
		if err == nil || !strings.Contains(err.Error(), "ReadReplica") {
			t.Fatalf("CopyFrom under ReadReplica: %v", err)
		}
		if c := count(t, db, table); c != 0 {
			t.Fatalf("%d rows loaded", c)
		}
	})
}

// TestCopyFromForceRollback: under force_rollback a load is seen by the
// DB, a failed one leaves the outer transaction usable, and Close rolls
// everything back.
func TestCopyFromForceRollback(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		e := newFREnv(t, b)
		table := copyTable(t, e.plain, b.Dialect)
		db := e.open(t)
		ctx := context.Background()
		if got, err := databases.CopyFrom(ctx, db, table, copyColumns, databases.CopySeq(copyRows(3000, nil))); err != nil || got != 3000 {
			t.Fatalf("CopyFrom: %d, %v", got, err)
		}
		_, err := databases.CopyFrom(ctx, db, table, copyColumns, databases.CopySeq(copyRows(10, nil)))
		var ce *databases.CopyError
		if !errors.As(err, &ce) || ce.Row != 0 {
			t.Fatalf("a duplicate load: %v; want a CopyError of row 0", err)
		}
		tx, err := db.Begin()
		if err != nil {
			t.Fatal(err)
		}
		if got, err := databases.CopyFrom(ctx, tx, table, copyColumns, databases.CopySeq(copyRows(3100, func(i int, row []any) { row[0] = int64(i + 3000) }))); err != nil || got != 3100 {
			t.Fatalf("CopyFrom in a transaction: %d, %v", got, err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if c := count(t, db, table); c != 6100 {
			t.Fatalf("the DB sees %d rows, want 6100", c)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		if c := count(t, e.plain, table); c != 0 {
			t.Fatalf("%d rows left after Close", c)
		}
	})
}

// TestCopyFromObservability: the load's log record is "db copy" with the
// rows loaded, and its span is COPY with the same count.
func TestCopyFromObservability(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		rec := tracetest.NewSpanRecorder()
		tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
		var mu sync.Mutex
		var logged []string
		h := slogFunc(func(r slog.Record) {
			r.Attrs(func(a slog.Attr) bool {
				if a.Key == logging.KeyRowsAffected {
					mu.Lock()
					logged = append(logged, r.Message+" "+a.Value.String())
					mu.Unlock()
				}
				return true
			})
		})
		db := openCopyDB(t, b, databases.WithLogger(slog.New(h)), databases.WithTracerProvider(tp))
		table := copyTable(t, db, b.Dialect)
		if _, err := databases.CopyFrom(context.Background(), db, table, copyColumns, databases.CopySeq(copyRows(1234, nil))); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		if !slices.Contains(logged, "db copy 1234") {
			t.Errorf("log records with rows affected: %q", logged)
		}
		mu.Unlock()
		var found bool
		for _, s := range rec.Ended() {
			if s.Name() != "COPY" {
				continue
			}
			for _, a := range s.Attributes() {
				if a.Key == "db.rows_affected" && a.Value.AsInt64() == 1234 {
					found = true
				}
			}
		}
		if !found {
			t.Errorf("no COPY span with db.rows_affected 1234")
		}
	})
}

// slogFunc is a slog.Handler that calls a function per record.
type slogFunc func(slog.Record)

func (f slogFunc) Enabled(context.Context, slog.Level) bool      { return true }
func (f slogFunc) WithAttrs([]slog.Attr) slog.Handler            { return f }
func (f slogFunc) WithGroup(string) slog.Handler                 { return f }
func (f slogFunc) Handle(_ context.Context, r slog.Record) error { f(r); return nil }

// TestCopyFromHostList: on a host list whose first host refuses
// connections, the load runs on the host that answered.
func TestCopyFromHostList(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		if b.Dialect == "sqlite" {
			t.Skip("SQLite has no hosts")
		}
		u, err := url.Parse(b.URL)
		if err != nil {
			t.Fatal(err)
		}
		u.Host = "127.0.0.1:1," + u.Host
		db := openCopyDB(t, dbtest.Backend{Dialect: b.Dialect, URL: u.String()})
		table := copyTable(t, db, b.Dialect)
		if got, err := databases.CopyFrom(context.Background(), db, table, copyColumns, databases.CopySeq(copyRows(3000, nil))); err != nil || got != 3000 {
			t.Fatalf("CopyFrom: %d, %v", got, err)
		}
		checkCopied(t, db, table, 3000)
	})
}
