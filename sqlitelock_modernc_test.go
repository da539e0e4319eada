package databases_test

// Two tests of modernc.org/sqlite v1.62.0 (sharedcache_test.go and
// busy_test.go), ported to run through this package with its defaults:
// what modernc promises about lock waits must hold through databases.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-databases/databases"
)

// TestSharedCacheTxEndWaitsForSchemaLock: ending a transaction on a
// shared-cache database waits for another connection's schema change and
// then succeeds. With BEGIN IMMEDIATE for both transactions, the second
// BEGIN would wait for the first transaction, which waits for the test.
func TestSharedCacheTxEndWaitsForSchemaLock(t *testing.T) {
	for _, commit := range []bool{true, false} {
		t.Run(fmt.Sprintf("commit=%v", commit), func(t *testing.T) {
			ctx := context.Background()
			db, err := databases.Open(fmt.Sprintf("sqlite:///databases-sharedcache-txend-%v?mode=memory&cache=shared", commit))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			db.SetMaxOpenConns(2)
			c1, err := db.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c1.Close() })
			c2, err := db.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c2.Close() })
			tx2, err := c2.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			begun := make(chan error, 1)
			var tx1 *sql.Tx
			go func() {
				var err error
				tx1, err = c1.BeginTx(ctx, nil)
				begun <- err
			}()
			select {
			case err := <-begun:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("the second BeginTx waits for the first transaction, which waits for it")
			}
			t.Cleanup(func() { tx1.Rollback() })
			if _, err := tx1.Exec("CREATE TABLE t(x)"); err != nil {
				t.Fatal(err)
			}

			done := make(chan error, 1)
			go func() {
				if commit {
					done <- tx2.Commit()
				} else {
					done <- tx2.Rollback()
				}
			}()
			// modernc checks that the end waits on the lock; without its
			// internals, a count: it must not have ended before tx1 did.
			select {
			case err := <-done:
				t.Fatalf("the transaction ended without waiting for the schema lock: %v", err)
			case <-time.After(200 * time.Millisecond):
			}
			if err := tx1.Commit(); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("ending the transaction after the schema lock was released: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("the transaction did not end after the schema lock was released")
			}
		})
	}
}

// busyTestConns opens the database name in dir through this package with
// busyTimeout and returns a connection holding the lock that lockSQL takes
// and a second connection; see modernc's busy_test.go. journalMode ""
// stands for SQLite's default, DELETE (this package defaults to WAL).
func busyTestConns(t *testing.T, dir, name, busyTimeout, journalMode, lockSQL string, otherAfterLock bool) (holder, other *sql.Conn) {
	t.Helper()
	if journalMode == "" {
		journalMode = "DELETE"
	}
	db, err := databases.Open("sqlite:///" + filepath.Join(dir, name) + "?_pragma=busy_timeout(" + busyTimeout + ")&_pragma=journal_mode(" + journalMode + ")")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec("CREATE TABLE t (x INTEGER)"); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if holder, err = db.Conn(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { holder.Close() })
	conn := func() {
		if other, err = db.Conn(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { other.Close() })
	}
	if !otherAfterLock {
		conn()
	}
	if _, err := holder.ExecContext(ctx, lockSQL); err != nil {
		t.Fatal(err)
	}
	if otherAfterLock {
		conn()
	}
	return holder, other
}

// TestBusyTimeoutWaitEndsWithContext: a wait for a lock under busy_timeout
// ends once the context of the call is done, with the context's error. The
// Commit case needs COMMIT to run under the context given to BeginTx.
// modernc's PrepareContext case is left out: it needs a connection whose
// first statement is the prepare, and this package sets journal_mode when
// it connects, which reads the schema first.
func TestBusyTimeoutWaitEndsWithContext(t *testing.T) {
	t.Parallel()
	const busyTimeout = 10 * time.Second
	const readerLock = "BEGIN; SELECT count(*) FROM t"
	dir := t.TempDir()
	for _, tc := range []struct {
		name           string
		journalMode    string
		lockSQL        string
		otherAfterLock bool
		call           func(ctx context.Context, c *sql.Conn) error
	}{
		{"ExecContext", "WAL", "BEGIN IMMEDIATE", false, func(ctx context.Context, c *sql.Conn) error {
			_, err := c.ExecContext(ctx, "INSERT INTO t VALUES (1)")
			return err
		}},
		{"QueryContext", "WAL", "BEGIN IMMEDIATE", false, func(ctx context.Context, c *sql.Conn) error {
			rows, err := c.QueryContext(ctx, "INSERT INTO t VALUES (1) RETURNING x")
			if err == nil {
				rows.Close()
			}
			return err
		}},
		{"BeginTx", "WAL", "BEGIN IMMEDIATE", false, func(ctx context.Context, c *sql.Conn) error {
			tx, err := c.BeginTx(ctx, nil)
			if err == nil {
				tx.Rollback()
			}
			return err
		}},
		{"Commit", "", readerLock, false, func(ctx context.Context, c *sql.Conn) error {
			tx, err := c.BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			if _, err := tx.Exec("INSERT INTO t VALUES (1)"); err != nil {
				return err
			}
			return tx.Commit()
		}},
		{"RowsNext", "", readerLock, false, func(ctx context.Context, c *sql.Conn) error {
			rows, err := c.QueryContext(ctx, "INSERT INTO t VALUES (1) RETURNING x")
			if err != nil {
				return err
			}
			defer rows.Close()
			if !rows.Next() {
				return fmt.Errorf("no first row: %v", rows.Err())
			}
			for rows.Next() {
			}
			return rows.Err()
		}},
		{"RowsClose", "", readerLock, false, func(ctx context.Context, c *sql.Conn) error {
			rows, err := c.QueryContext(ctx, "INSERT INTO t VALUES (1) RETURNING x")
			if err != nil {
				return err
			}
			if !rows.Next() {
				return fmt.Errorf("no first row: %v", rows.Err())
			}
			return rows.Close()
		}},
		{"QueryRowScan", "", readerLock, false, func(ctx context.Context, c *sql.Conn) error {
			var x int
			return c.QueryRowContext(ctx, "INSERT INTO t VALUES (1) RETURNING x").Scan(&x)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			holder, other := busyTestConns(t, dir, "busy-ctx-"+tc.name+".db", "10000", tc.journalMode, tc.lockSQL, tc.otherAfterLock)
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			start := time.Now()
			err := tc.call(ctx, other)
			elapsed := time.Since(start)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("%s returned %v after %v, want %v", tc.name, err, elapsed, context.DeadlineExceeded)
			}
			if elapsed >= busyTimeout/2 {
				t.Errorf("%s waited %v after its context was done, the busy_timeout is %v", tc.name, elapsed, busyTimeout)
			}
			if _, err := holder.ExecContext(context.Background(), "ROLLBACK"); err != nil {
				t.Fatal(err)
			}
			if _, err := other.ExecContext(context.Background(), "INSERT INTO t VALUES (2)"); err != nil {
				t.Fatalf("the connection after the ended wait: %v", err)
			}
			var n int
			if err := other.QueryRowContext(context.Background(), "SELECT count(*) FROM t").Scan(&n); err != nil || n != 1 {
				t.Fatalf("got %d rows, %v; want 1", n, err)
			}
		})
	}
}
