package databases_test

// SQLite's lock waits end within busy_timeout, or at the caller's deadline,
// with an error that names the cause; modernc.org/sqlite's own tests of
// those waits pass through this package with its defaults.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/go-databases/databases"
)

// lockCause is what every error of a lock wait that gave up says.
const lockCause = "another connection of this DB holds it (one in a transaction, or with rows open)"

// TestReliabilitySQLiteLocks: each way a program can wait for its own lock
// ends within busy_timeout plus a generous slack (CI is a loaded machine),
// with an error naming the cause. ctx bounds each case at a minute, so
// that the multi-minute retries this replaced fail the test rather than
// hang it.
func TestReliabilitySQLiteLocks(t *testing.T) {
	t.Parallel()
	const busy = time.Second
	const slack = 4 * time.Second
	dir := t.TempDir()
	for _, tc := range []struct {
		name  string
		url   string // %s: a fresh file in dir
		setup string // run on the DB first
		run   func(ctx context.Context, db *sql.DB) error
		want  string // a fragment of the error
	}{
		{
			// The README's quick start with a query's rows left open: the
			// reader's lock blocks the COMMIT, which is not retried.
			name: "memory/rows-open-then-Transact",
			url:  "sqlite:///:memory:?_busy_timeout=1000",
			run: func(ctx context.Context, db *sql.DB) error {
				rows, err := db.QueryContext(ctx, "SELECT id FROM t")
				if err != nil {
					return err
				}
				defer rows.Close()
				rows.Next()
				return databases.Transact(ctx, db, nil, func(ctx context.Context, tx *sql.Tx) error {
					_, err := tx.ExecContext(ctx, "INSERT INTO t (id) VALUES (2)")
					return err
				})
			},
			want: lockCause,
		},
		{
			name: "memory/rows-open-then-Exec",
			url:  "sqlite:///:memory:?_busy_timeout=1000",
			run: func(ctx context.Context, db *sql.DB) error {
				rows, err := db.QueryContext(ctx, "SELECT id FROM t")
				if err != nil {
					return err
				}
				defer rows.Close()
				rows.Next()
				tx, err := db.BeginTx(ctx, nil)
				if err != nil {
					return err
				}
				defer tx.Rollback()
				if _, err := tx.ExecContext(ctx, "INSERT INTO t (id) VALUES (2)"); err != nil {
					return err
				}
				return tx.Commit()
			},
			want: lockCause,
		},
		{
			// The *sql.DB in place of the *sql.Tx: refused at once.
			name: "file/db-inside-Transact",
			url:  "sqlite:///%s?_busy_timeout=1000",
			run: func(ctx context.Context, db *sql.DB) error {
				return databases.Transact(ctx, db, nil, func(ctx context.Context, tx *sql.Tx) error {
					_, err := db.ExecContext(ctx, "INSERT INTO t (id) VALUES (2)")
					return err
				})
			},
			want: "not its *sql.Tx",
		},
		{
			// A second Transact, with a context of its own, inside the
			// first: its BEGIN waits busy_timeout once, and neither
			// Transact retries.
			name: "file/independent-Transact-inside-Transact",
			url:  "sqlite:///%s?_busy_timeout=1000",
			run: func(ctx context.Context, db *sql.DB) error {
				return databases.Transact(ctx, db, nil, func(ctx context.Context, tx *sql.Tx) error {
					return databases.Transact(context.Background(), db, nil, func(ctx context.Context, tx *sql.Tx) error {
						_, err := tx.ExecContext(ctx, "INSERT INTO t (id) VALUES (2)")
						return err
					})
				})
			},
			want: "BEGIN IMMEDIATE gave up waiting for a lock after busy_timeout (1s): " + lockCause,
		},
		{
			// A shared cache waits on SQLite's unlock-notify, which
			// busy_timeout does not bound; this package bounds it.
			name: "shared-cache/BeginTx-while-another-holds-a-transaction",
			url:  "sqlite:///%s?mode=memory&cache=shared&txlock=immediate&_busy_timeout=1000",
			run: func(ctx context.Context, db *sql.DB) error {
				tx1, err := db.BeginTx(ctx, nil)
				if err != nil {
					return err
				}
				defer tx1.Rollback()
				if _, err := tx1.ExecContext(ctx, "INSERT INTO t (id) VALUES (2)"); err != nil {
					return err
				}
				tx2, err := db.BeginTx(context.Background(), nil)
				if err == nil {
					tx2.Rollback()
				}
				return err
			},
			want: "BEGIN IMMEDIATE gave up waiting for a lock after busy_timeout (1s): " + lockCause,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			u := tc.url
			if strings.Contains(u, "%s") {
				u = fmt.Sprintf(u, filepath.Join(dir, strings.ReplaceAll(tc.name, "/", "-")+".db"))
			}
			db, err := databases.Open(u)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if _, err := db.Exec("CREATE TABLE t (id INTEGER PRIMARY KEY)"); err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec("INSERT INTO t (id) VALUES (1)"); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			start := time.Now()
			err = tc.run(ctx, db)
			elapsed := time.Since(start)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v after %v; want an error with %q", err, elapsed, tc.want)
			}
			if elapsed > busy+slack {
				t.Errorf("the wait lasted %v; busy_timeout is %v", elapsed, busy)
			}
			if databases.IsRetryable(err) {
				t.Errorf("IsRetryable(%v) = true: a wait that gave up would be waited again", err)
			}
			var lite *sqlite.Error
			if strings.Contains(tc.want, "busy_timeout") && strings.Contains(err.Error(), "SQLITE_BUSY") && (!errors.As(err, &lite) || lite.Code() != sqlite3.SQLITE_BUSY) {
				t.Errorf("errors.As does not reach the driver's SQLITE_BUSY in %v", err)
			}
		})
	}
}

// TestTransactAttemptsBound: Transact runs a transaction that keeps failing
// with a retryable error at most transact_attempts times (URL or Option),
// says how many in its error, and that error is not retried by an outer
// Transact.
func TestTransactAttemptsBound(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		url  string
		opts []databases.Option
		want int
	}{
		{"default", "sqlite:///:memory:", nil, databases.DefaultTransactAttempts},
		{"url", "sqlite:///:memory:?transact_attempts=3", nil, 3},
		{"option", "sqlite:///:memory:", []databases.Option{databases.WithTransactAttempts(4)}, 4},
		{"url-wins", "sqlite:///:memory:?transact_attempts=2", []databases.Option{databases.WithTransactAttempts(4)}, 2},
		{"no-retry", "sqlite:///:memory:?transact_attempts=1", nil, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			db, err := databases.Open(tc.url, tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			retryable := &sqliteSnapshotError{busySnapshot(t)}
			outer, inner := 0, 0
			err = databases.Transact(context.Background(), db, nil, func(ctx context.Context, _ *sql.Tx) error {
				outer++
				// An independent Transact (its own context), read-only so
				// that on SQLite it takes no lock.
				return databases.Transact(context.Background(), db, &sql.TxOptions{ReadOnly: true}, func(context.Context, *sql.Tx) error {
					inner++
					return retryable
				})
			})
			if inner != tc.want || outer != 1 {
				t.Errorf("the inner function ran %d times and the outer %d; want %d and 1", inner, outer, tc.want)
			}
			if !errors.Is(err, retryable) {
				t.Fatalf("got %v; want the function's error in the chain", err)
			}
			if tc.want > 1 && !strings.Contains(err.Error(), fmt.Sprintf("failed %d times", tc.want)) {
				t.Errorf("the error does not say how many attempts ran: %v", err)
			}
		})
	}
}

// sqliteSnapshotError stands for SQLITE_BUSY_SNAPSHOT, which IsRetryable
// accepts, in a test that needs it every time.
type sqliteSnapshotError struct{ lite *sqlite.Error }

func (*sqliteSnapshotError) Error() string { return "snapshot" }

func (e *sqliteSnapshotError) As(target any) bool {
	if p, ok := target.(**sqlite.Error); ok {
		*p = e.lite
		return true
	}
	return false
}

// busySnapshot returns a real SQLITE_BUSY_SNAPSHOT from modernc: a deferred
// transaction reads, another connection writes, then the first writes on
// its stale snapshot.
func busySnapshot(t *testing.T) *sqlite.Error {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "snap.db")+"?_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	db.Exec("CREATE TABLE t (x)")
	c1, _ := db.Conn(ctx)
	c2, _ := db.Conn(ctx)
	defer c1.Close()
	defer c2.Close()
	c1.ExecContext(ctx, "BEGIN DEFERRED")
	var n int
	c1.QueryRowContext(ctx, "SELECT count(*) FROM t").Scan(&n)
	c2.ExecContext(ctx, "INSERT INTO t VALUES (1)")
	_, err = c1.ExecContext(ctx, "INSERT INTO t VALUES (2)")
	c1.ExecContext(ctx, "ROLLBACK")
	var lite *sqlite.Error
	if !errors.As(err, &lite) || lite.Code() != sqlite3.SQLITE_BUSY_SNAPSHOT {
		t.Fatalf("no SQLITE_BUSY_SNAPSHOT: %v", err)
	}
	if !databases.IsRetryable(err) {
		t.Fatalf("IsRetryable(%v) = false", err)
	}
	return lite
}
