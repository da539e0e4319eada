package logging_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"modernc.org/sqlite"

	"github.com/go-databases/databases"
	"github.com/go-databases/databases/internal/dbtest"
	"github.com/go-databases/databases/internal/sanitize"
	"github.com/go-databases/databases/middleware/logging"
)

// open returns a *sql.DB on b whose calls log to a capture at Debug.
func open(t *testing.T, rawURL string, opts ...logging.Option) (*sql.DB, *capture) {
	t.Helper()
	return openAt(t, rawURL, slog.LevelDebug, opts...)
}

// openAt is open with the capture at level.
func openAt(t *testing.T, rawURL string, level slog.Level, opts ...logging.Option) (*sql.DB, *capture) {
	t.Helper()
	h := newCapture(level)
	c, err := databases.NewConnector(rawURL, databases.WithMiddleware(logging.New(slog.New(h), opts...)))
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(c)
	t.Cleanup(func() { db.Close() })
	return db, h
}

// createTable makes a table (id, name) dropped when the test ends.
func createTable(t *testing.T, db *sql.DB) string {
	t.Helper()
	table := dbtest.Name("logging")
	if _, err := db.Exec("CREATE TABLE " + table + " (id INTEGER PRIMARY KEY, name VARCHAR(100))"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Exec("DROP TABLE " + table) })
	return table
}

// byQuery finds the records of q, logged as it is or, without
// placeholders, with its literals masked.
func byQuery(q string) func(record) bool {
	return func(r record) bool { return r.attrs[logging.KeyQuery].String() == logged(r, q) }
}

// logged returns q as the record r of its call shows it by default.
func logged(r record, q string) string {
	dialect := r.attrs[logging.KeySystem].String()
	if dialect == "postgresql" {
		dialect = "postgres"
	}
	return sanitize.Query(sanitize.Dialect(dialect), 0, q)
}

func atLeast(l slog.Level) func(record) bool {
	return func(r record) bool { return r.level >= l }
}

// TestDriverRecords checks the records of ordinary statements on every
// dialect: debug level, rows affected and returned, one record per query.
func TestDriverRecords(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		db, h := open(t, b.URL)
		table := createTable(t, db)

		insert := "INSERT INTO " + table + " (id, name) VALUES (?, ?), (?, ?)"
		if _, err := db.Exec(insert, 1, "a", 2, "b"); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec("INSERT INTO "+table+" (id, name) VALUES (?, ?)", 3, "c"); err != nil {
			t.Fatal(err)
		}
		sel := "SELECT id, name FROM " + table + " WHERE id > ? ORDER BY id"
		rows, err := db.Query(sel, 0)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for rows.Next() {
			n++
		}
		if err := rows.Close(); err != nil || n != 3 {
			t.Fatalf("read %d rows, Close = %v; want 3 rows", n, err)
		}
		var name string
		err = db.QueryRow("SELECT name FROM "+table+" WHERE id = ?", 99).Scan(&name)
		if !errors.Is(err, sql.ErrNoRows) {
			t.Fatalf("QueryRow of a missing id = %v; want sql.ErrNoRows", err)
		}

		if bad := h.find(atLeast(slog.LevelWarn)); len(bad) != 0 {
			t.Errorf("records at Warn or above in normal use:\n%s", h.dump())
		}
		system := map[string]string{"sqlite": "sqlite", "postgres": "postgresql", "mysql": "mysql"}[b.Dialect]
		for _, r := range h.records() {
			if got := r.attrs[logging.KeySystem].String(); got != system {
				t.Errorf("%s = %q; want %q: %s", logging.KeySystem, got, system, r)
			}
			if !r.has(logging.KeyConnID) {
				t.Errorf("record without %s: %s", logging.KeyConnID, r)
			}
		}

		ins := h.find(func(r record) bool { return byQuery(insert)(r) && r.has(logging.KeyRowsAffected) })
		if len(ins) != 1 {
			t.Fatalf("records of the INSERT with rows affected: %d; want 1\n%s", len(ins), h.dump())
		}
		if r := ins[0]; r.level != slog.LevelInfo || r.attrs[logging.KeyRowsAffected].Int64() != 2 || r.attrs[logging.KeyArgs].Int64() != 4 {
			t.Errorf("INSERT of 2 rows logged as %s; want Info, %s=2, %s=4", r, logging.KeyRowsAffected, logging.KeyArgs)
		}

		q := h.find(byQuery(sel))
		if len(q) != 1 {
			t.Fatalf("records of the SELECT: %d; want exactly 1\n%s", len(q), h.dump())
		}
		if r := q[0]; r.level != slog.LevelInfo || r.msg != "db query" || r.attrs[logging.KeyOperation].String() != "query" ||
			!r.has(logging.KeyRowsReturned) || r.attrs[logging.KeyRowsReturned].Int64() != 3 {
			t.Errorf("3-row SELECT logged as %s; want Info \"db query\" with %s=3", r, logging.KeyRowsReturned)
		}
		if b.Dialect == "postgres" {
			if got := q[0].attrs[logging.KeyNativeQuery].String(); !strings.Contains(got, "$1") {
				t.Errorf("%s = %q; want the rewritten query", logging.KeyNativeQuery, got)
			}
		}
	})
}

// TestDriverErrors checks that a failing statement logs the driver's error
// at Error, and that the error the caller gets is that one: with the logger
// at Debug, where every call goes through the middleware, and at Error,
// where only failed calls do and nothing else is logged.
func TestDriverErrors(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		missing := dbtest.Name("missing")
		readAll := func(db *sql.DB, q string) error {
			rows, err := db.Query(q)
			if err != nil {
				return err
			}
			for rows.Next() {
			}
			rows.Close()
			return rows.Err()
		}
		// A query that starts and fails on its third row.
		failsLate := map[string]string{
			"sqlite":   "SELECT CASE WHEN column1 = 3 THEN abs(-9223372036854775807 - 1) ELSE column1 END FROM (VALUES (1), (2), (3))",
			"postgres": "SELECT 10 / (3 - g) FROM generate_series(1, 5) g",
		}[b.Dialect]
		tests := []struct {
			name string
			do   func(db *sql.DB, q string) error
			q    string
		}{
			{name: "exec", q: "INSERT INTO " + missing + " (id) VALUES (1)",
				do: func(db *sql.DB, q string) error { _, err := db.Exec(q); return err }},
			{name: "exec with args", q: "INSERT INTO " + missing + " (id) VALUES (?)",
				do: func(db *sql.DB, q string) error { _, err := db.Exec(q, 1); return err }},
			{name: "query", q: "SELECT * FROM " + missing, do: readAll},
			{name: "rows", q: failsLate, do: readAll},
		}
		for _, level := range []slog.Level{slog.LevelDebug, slog.LevelError} {
			for _, tt := range tests {
				t.Run(tt.name+"/"+level.String(), func(t *testing.T) {
					if tt.q == "" {
						t.Skip("no query of this dialect fails after its first rows")
					}
					db, h := openAt(t, b.URL, level)
					err := tt.do(db, tt.q)
					if err == nil {
						t.Fatalf("%s succeeded; want an error", tt.q)
					}
					errs := h.find(atLeast(slog.LevelError))
					if len(errs) != 1 {
						t.Fatalf("%d records at Error; want 1\n%s", len(errs), h.dump())
					}
					if n := len(h.records()); level == slog.LevelError && n != 1 {
						t.Fatalf("%d records with the logger at Error; want only the failure's\n%s", n, h.dump())
					}
					checkErrorRecord(t, errs[0], tt.q, missing, err)
					// At Error the call runs before the middleware sees it,
					// without reading the clock: no duration.
					if got, want := errs[0].has(logging.KeyDuration), level == slog.LevelDebug; got != want {
						t.Errorf("error record has %s: %v, want %v", logging.KeyDuration, got, want)
					}
				})
			}
		}
	})
}

// checkErrorRecord checks the record of a failed call of q.
func checkErrorRecord(t *testing.T, r record, q, missing string, err error) {
	t.Helper()
	{
		{
			if r.attrs[logging.KeyQuery].String() != logged(r, q) {
				t.Errorf("error record %s; want it for %q", r, q)
			}
			logged, _ := r.attrs[logging.KeyError].Any().(error)
			if !errors.Is(err, logged) {
				t.Errorf("logged error %v; want the error the caller got: %v", logged, err)
			}
			if strings.Contains(q, missing) && !strings.Contains(strings.ToLower(r.String()), strings.ToLower(missing)) {
				t.Errorf("error record does not name the table: %s", r)
			}
		}
	}
}

// registerSQLiteSleep gives SQLite connections test_sleep(seconds), a
// counterpart of pg_sleep and SLEEP.
var registerSQLiteSleep sync.Once

// TestDriverSlow checks the Warn level for slow calls against a real
// slow statement, and that a fast one stays at Debug.
func TestDriverSlow(t *testing.T) {
	registerSQLiteSleep.Do(func() {
		sqlite.MustRegisterScalarFunction("test_sleep", 1, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
			time.Sleep(time.Duration(args[0].(float64) * float64(time.Second)))
			return int64(0), nil
		})
	})
	const threshold = 50 * time.Millisecond
	slow := map[string]string{
		"sqlite":   "SELECT test_sleep(0.1)",
		"postgres": "SELECT count(*) FROM (SELECT pg_sleep(0.1)) s",
		"mysql":    "SELECT SLEEP(0.1)",
	}
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		q := slow[b.Dialect]
		db, h := open(t, b.URL, logging.WithSlowThreshold(threshold))
		var n int64
		if err := db.QueryRow("SELECT 1").Scan(&n); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if err := db.QueryRow(q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if took := time.Since(start); took < threshold {
			t.Fatalf("%q took %v; the test needs it to take %v or more", q, took, threshold)
		}
		// The fast query is Info unless the machine made it slow: its
		// level must agree with the duration it was logged with.
		if r := h.find(byQuery("SELECT 1")); len(r) != 1 {
			t.Errorf("fast query: %v; want one record\n%s", r, h.dump())
		} else if d := r[0].attrs[logging.KeyDuration].Duration(); (d < threshold) != (r[0].level == slog.LevelInfo) ||
			d >= threshold && r[0].level != slog.LevelWarn {
			t.Errorf("fast query took %v and was logged at %v; want Info under %v, Warn from it\n%s", d, r[0].level, threshold, h.dump())
		}
		r := h.find(byQuery(q))
		if len(r) != 1 || r[0].level != slog.LevelWarn {
			t.Fatalf("slow query: %v; want one Warn record\n%s", r, h.dump())
		}
		if d := r[0].attrs[logging.KeyDuration].Duration(); d < threshold {
			t.Errorf("slow query logged with %s=%v; want %v or more", logging.KeyDuration, d, threshold)
		}
	})
}

// TestDriverRedaction checks that argument values appear only with
// WithArgs.
func TestDriverRedaction(t *testing.T) {
	const secret = "alice-4111111111111111"
	tests := []struct {
		name string
		opts []logging.Option
		want bool
	}{
		{name: "default", want: false},
		{name: "WithArgs", opts: []logging.Option{logging.WithArgs()}, want: true},
	}
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				db, h := open(t, b.URL, tt.opts...)
				table := createTable(t, db)
				if _, err := db.Exec("INSERT INTO "+table+" (id, name) VALUES (?, ?)", 1, secret); err != nil {
					t.Fatal(err)
				}
				var got string
				if err := db.QueryRow("SELECT name FROM "+table+" WHERE name = ?", secret).Scan(&got); err != nil {
					t.Fatal(err)
				}
				var with []record
				for _, r := range h.records() {
					if strings.Contains(r.String(), secret) {
						with = append(with, r)
					}
				}
				switch {
				case !tt.want && len(with) > 0:
					t.Errorf("argument value logged without WithArgs:\n%s", h.dump())
				case tt.want && len(with) < 2:
					t.Errorf("argument value in %d records with WithArgs; want the INSERT and the SELECT\n%s", len(with), h.dump())
				}
				for _, r := range h.find(func(r record) bool { return r.has(logging.KeyArgs) }) {
					if r.attrs[logging.KeyArgs].Kind() != slog.KindInt64 {
						t.Errorf("%s is not a count: %s", logging.KeyArgs, r)
					}
				}
			})
		}
	})
}

// TestDriverNoPassword opens each server with a password in its URL and
// checks that it reaches no record: not the connect record's URL, not a
// connection error.
func TestDriverNoPassword(t *testing.T) {
	const password = "secretpw"
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		if b.Dialect == "sqlite" {
			t.Skip("a SQLite URL carries no credentials")
		}
		if strings.Contains(b.URL, password) {
			t.Fatalf("test URL already holds %q", password)
		}
		u, err := url.Parse(b.URL)
		if err != nil {
			t.Fatal(err)
		}
		u.User = url.UserPassword(u.User.Username(), password)
		db, h := open(t, u.String())
		// The server may accept the password (trust authentication) or
		// refuse it; the records are checked either way.
		pingErr := db.Ping()
		db.Close()

		connects := h.find(func(r record) bool { return r.attrs[logging.KeyOperation].String() == "connect" })
		if len(connects) == 0 {
			t.Fatalf("no connect record (Ping = %v)\n%s", pingErr, h.dump())
		}
		for _, r := range connects {
			if r.level != slog.LevelInfo && r.level != slog.LevelError {
				t.Errorf("connect logged at %v; want Info, or Error when it failed: %s", r.level, r)
			}
			if got := r.attrs[logging.KeyURL].String(); got == "" || !strings.Contains(got, u.Host) {
				t.Errorf("%s = %q; want the masked URL of %s", logging.KeyURL, got, u.Host)
			}
		}
		if pingErr == nil {
			if closes := h.find(func(r record) bool { return r.msg == "db conn.close" && r.level == slog.LevelInfo }); len(closes) == 0 {
				t.Errorf("no conn.close record at Info\n%s", h.dump())
			}
		}
		for _, r := range h.records() {
			if strings.Contains(r.String(), password) {
				t.Errorf("password in a record: %s", r)
			}
		}
	})
}

// TestDriverContext checks that the handler gets the caller's context for
// every call, including a query's end and Commit.
func TestDriverContext(t *testing.T) {
	type key struct{}
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		db, h := open(t, b.URL)
		table := createTable(t, db)
		h.reset()

		ctx := context.WithValue(t.Context(), key{}, "request-7")
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO "+table+" (id, name) VALUES (1, 'a')"); err != nil {
			t.Fatal(err)
		}
		var n int64
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}

		seen := map[string]bool{}
		for _, r := range h.records() {
			op := r.attrs[logging.KeyOperation].String()
			if op == "reset_session" || op == "connect" {
				continue // database/sql's own calls, not the caller's
			}
			seen[op] = true
			if r.ctx.Value(key{}) != "request-7" {
				t.Errorf("record without the caller's context value: %s", r)
			}
			if !r.has(logging.KeyTxID) {
				t.Errorf("record in a transaction without %s: %s", logging.KeyTxID, r)
			}
		}
		for _, op := range []string{"begin", "commit", "query"} {
			if !seen[op] {
				t.Errorf("no %s record\n%s", op, h.dump())
			}
		}
		if !seen["exec"] && !seen["stmt.exec"] {
			t.Errorf("no exec record\n%s", h.dump())
		}
	})
}
