package databases_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-databases/databases"
	"github.com/go-databases/databases/internal/dbtest"
	"github.com/go-databases/databases/middleware"
)

func createTable(t *testing.T, db *sql.DB, prefix, columns string) string {
	t.Helper()
	table := dbtest.Name(prefix)
	if _, err := db.Exec("CREATE TABLE " + table + " (" + columns + ")"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Exec("DROP TABLE " + table) })
	return table
}

func count(t *testing.T, db interface {
	QueryRow(string, ...any) *sql.Row
}, table string) int {
	t.Helper()
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestTransactSerializableCounter: concurrent read-then-write increments at
// serializable lose no update, because conflicts are retried.
func TestTransactSerializableCounter(t *testing.T) {
	const workers, each = 16, 50
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		// 16 workers on one row: a worker may lose many times in a row on a
		// loaded machine, so the bound on attempts is a count far above the
		// default; the 30 s bound on the whole retry still ends a livelock.
		u, err := databases.URLWithOption(b.URL, "transact_attempts", "1000")
		if err != nil {
			t.Fatal(err)
		}
		db, err := databases.Open(u)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		table := createTable(t, db, "counter", "id INTEGER PRIMARY KEY, n INTEGER NOT NULL")
		if _, err := db.Exec("INSERT INTO "+table+" (id, n) VALUES (?, ?)", 1, 0); err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		opts := &sql.TxOptions{Isolation: sql.LevelSerializable}
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for range workers {
			wg.Go(func() {
				for range each {
					err := databases.Transact(ctx, db, opts, func(ctx context.Context, tx *sql.Tx) error {
						var n int
						if err := tx.QueryRowContext(ctx, "SELECT n FROM "+table+" WHERE id = ?", 1).Scan(&n); err != nil {
							return err
						}
						_, err := tx.ExecContext(ctx, "UPDATE "+table+" SET n = ? WHERE id = ?", n+1, 1)
						return err
					})
					if err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		var n int
		if err := db.QueryRow("SELECT n FROM "+table+" WHERE id = ?", 1).Scan(&n); err != nil || n != workers*each {
			t.Fatalf("counter = %d, %v; want %d", n, err, workers*each)
		}
	})
}

// TestSerializableSnapshot: after its first read, a serializable transaction
// does not see a row another connection commits.
func TestSerializableSnapshot(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		db, err := databases.Open(b.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		table := createTable(t, db, "snap", "id INTEGER PRIMARY KEY")
		if _, err := db.Exec("INSERT INTO "+table+" (id) VALUES (?)", 1); err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		tx, err := db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelSerializable})
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		before := count(t, tx, table)
		// The other writer commits on its own connection; on MySQL and SQLite
		// it waits for the transaction's locks, so it is not awaited here.
		done := make(chan error, 1)
		go func() {
			_, err := db.ExecContext(ctx, "INSERT INTO "+table+" (id) VALUES (?)", 2)
			done <- err
		}()
		finished := false
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			finished = true
		case <-time.After(300 * time.Millisecond):
		}
		if after := count(t, tx, table); after != before {
			t.Fatalf("transaction saw %d rows, then %d", before, after)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if !finished {
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		}
		if n := count(t, db, table); n != 2 {
			t.Fatalf("%d rows after both committed; want 2", n)
		}
	})
}

// TestReadOnlyRefusesWrites: a read-only transaction refuses an INSERT on
// every backend, and the connection writes again afterwards.
func TestReadOnlyRefusesWrites(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		db, err := databases.Open(b.URL + sep(b.URL) + "max_open_conns=1")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		table := createTable(t, db, "ro", "id INTEGER PRIMARY KEY")
		ctx := context.Background()
		tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		if n := count(t, tx, table); n != 0 {
			t.Fatalf("read in read-only transaction: %d rows", n)
		}
		if _, err := tx.Exec("INSERT INTO "+table+" (id) VALUES (?)", 1); err == nil {
			t.Fatal("INSERT succeeded in a read-only transaction")
		}
		tx.Rollback()
		if _, err := db.Exec("INSERT INTO "+table+" (id) VALUES (?)", 2); err != nil {
			t.Fatalf("INSERT after the read-only transaction: %v", err)
		}
		if n := count(t, db, table); n != 1 {
			t.Fatalf("%d rows; want 1", n)
		}
	})
}

func sep(url string) string {
	if strings.Contains(url, "?") {
		return "&"
	}
	return "?"
}

// isolationWant is the isolation table of docs/transactions.md: per dialect, the level the
// server reports inside a transaction begun with each sql.IsolationLevel
// ("default" for the server's default); a level missing is refused.
var isolationWant = map[string]map[sql.IsolationLevel]string{
	"postgres": {
		sql.LevelDefault:         "default",
		sql.LevelReadUncommitted: "read uncommitted", // PostgreSQL runs it as read committed
		sql.LevelReadCommitted:   "read committed",
		sql.LevelRepeatableRead:  "repeatable read",
		sql.LevelSnapshot:        "repeatable read", // snapshot isolation on PostgreSQL; pgx maps it so
		sql.LevelSerializable:    "serializable",
	},
	"mysql": {
		sql.LevelDefault:         "default",
		sql.LevelReadUncommitted: "READ UNCOMMITTED",
		sql.LevelReadCommitted:   "READ COMMITTED",
		sql.LevelRepeatableRead:  "REPEATABLE READ",
		sql.LevelSerializable:    "SERIALIZABLE",
	},
	"sqlite": {
		sql.LevelDefault:         "serializable",
		sql.LevelReadUncommitted: "serializable",
		sql.LevelReadCommitted:   "serializable",
		sql.LevelWriteCommitted:  "serializable",
		sql.LevelRepeatableRead:  "serializable",
		sql.LevelSnapshot:        "serializable",
		sql.LevelSerializable:    "serializable",
		sql.LevelLinearizable:    "serializable",
	},
}

// TestIsolationLevels: every sql.IsolationLevel on every backend, read-write
// and read-only, either runs at the level of isolationWant, as the server
// reports it inside the transaction, or fails with the error naming the
// level and the dialect.
func TestIsolationLevels(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		url := b.URL
		if b.Dialect == "sqlite" {
			// Another connection's write must fail at once, not wait.
			url += "?_pragma=busy_timeout(0)"
		}
		db, err := databases.Open(url)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		table := createTable(t, db, "iso", "id INTEGER PRIMARY KEY")
		def := serverDefaultIsolation(t, db, b.Dialect)
		ctx := context.Background()
		for level := sql.LevelDefault; level <= sql.LevelLinearizable+1; level++ {
			for _, readOnly := range []bool{false, true} {
				name := fmt.Sprintf("%s read-only=%v", level, readOnly)
				tx, err := db.BeginTx(ctx, &sql.TxOptions{Isolation: level, ReadOnly: readOnly})
				want, ok := isolationWant[b.Dialect][level]
				if !ok {
					msg := fmt.Sprintf("databases: isolation level %s is not supported by %s", level, b.Dialect)
					if err == nil || err.Error() != msg {
						t.Errorf("%s: err = %v; want %q", name, err, msg)
					}
					if err == nil {
						tx.Rollback()
					}
					continue
				}
				if err != nil {
					t.Errorf("%s: %v", name, err)
					continue
				}
				if want == "default" {
					want = def
				}
				got, gotRO := serverIsolation(t, db, tx, b.Dialect, table)
				if got != want || gotRO != readOnly {
					t.Errorf("%s: server runs %q, read-only %v; want %q, read-only %v", name, got, gotRO, want, readOnly)
				}
				if err := tx.Rollback(); err != nil {
					t.Errorf("%s: rollback: %v", name, err)
				}
			}
		}
	})
}

// serverDefaultIsolation is the level the server gives a transaction begun
// without one, as serverIsolation spells it.
func serverDefaultIsolation(t *testing.T, db *sql.DB, dialect string) string {
	t.Helper()
	var level string
	var err error
	switch dialect {
	case "postgres":
		err = db.QueryRow("SHOW default_transaction_isolation").Scan(&level)
	case "mysql":
		// MySQL 8 and MariaDB 11.1 call it transaction_isolation; older
		// MariaDB only tx_isolation.
		if err = db.QueryRow("SELECT @@SESSION.transaction_isolation").Scan(&level); err != nil {
			err = db.QueryRow("SELECT @@SESSION.tx_isolation").Scan(&level)
		}
		level = strings.ReplaceAll(level, "-", " ")
	case "sqlite":
		level = "serializable"
	}
	if err != nil {
		t.Fatal(err)
	}
	return level
}

// serverIsolation asks the server which level and access mode tx runs at.
// PostgreSQL says it. MySQL's @@transaction_isolation is the session's, not
// the transaction's: InnoDB's list of transactions has it, once the
// transaction has read a table, and is refreshed at most every 0.1 s.
// SQLite runs every transaction serializable: what can fail is that dirty
// reads are on (read_uncommitted), that a read-write transaction did not
// take the write lock at BEGIN (another connection could write), or that a
// read-only one is writable (query_only).
func serverIsolation(t *testing.T, db *sql.DB, tx *sql.Tx, dialect, table string) (level string, readOnly bool) {
	t.Helper()
	var err error
	switch dialect {
	case "postgres":
		var ro string
		if err = tx.QueryRow("SHOW transaction_isolation").Scan(&level); err == nil {
			err = tx.QueryRow("SHOW transaction_read_only").Scan(&ro)
		}
		readOnly = ro == "on"
	case "mysql":
		count(t, tx, table)
		if _, err = tx.Exec("DO SLEEP(0.11)"); err == nil {
			err = tx.QueryRow("SELECT trx_isolation_level, trx_is_read_only FROM information_schema.innodb_trx WHERE trx_mysql_thread_id = CONNECTION_ID()").Scan(&level, &readOnly)
		}
	case "sqlite":
		var dirty int
		if err = tx.QueryRow("PRAGMA read_uncommitted").Scan(&dirty); err == nil {
			err = tx.QueryRow("PRAGMA query_only").Scan(&readOnly)
		}
		level = "serializable"
		if dirty != 0 {
			level = "read uncommitted"
		}
		if !readOnly {
			if _, werr := db.Exec("INSERT INTO " + table + " (id) VALUES (1)"); werr == nil || !strings.Contains(werr.Error(), "SQLITE_BUSY") {
				level = fmt.Sprintf("no write lock at BEGIN (another connection's INSERT: %v)", werr)
			}
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	return level, readOnly
}

// TestTransactNested: a nested Transact that fails rolls back to its
// savepoint and keeps the outer work; a panic rolls everything back.
func TestTransactNested(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		db, err := databases.Open(b.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		table := createTable(t, db, "nested", "id INTEGER PRIMARY KEY")
		ctx := context.Background()
		insert := func(ctx context.Context, tx *sql.Tx, id int) error {
			_, err := tx.ExecContext(ctx, "INSERT INTO "+table+" (id) VALUES (?)", id)
			return err
		}
		errInner := errors.New("inner fails")
		err = databases.Transact(ctx, db, nil, func(ctx context.Context, tx *sql.Tx) error {
			if err := insert(ctx, tx, 1); err != nil {
				return err
			}
			err := databases.Transact(ctx, db, nil, func(ctx context.Context, tx *sql.Tx) error {
				if err := insert(ctx, tx, 2); err != nil {
					return err
				}
				return databases.Transact(ctx, db, nil, func(ctx context.Context, tx *sql.Tx) error {
					return insert(ctx, tx, 3)
				})
			})
			if err != nil {
				return err
			}
			err = databases.Transact(ctx, db, nil, func(ctx context.Context, tx *sql.Tx) error {
				if err := insert(ctx, tx, 4); err != nil {
					return err
				}
				return errInner
			})
			if !errors.Is(err, errInner) {
				return fmt.Errorf("nested error = %v; want errInner", err)
			}
			// A failed statement inside a savepoint does not poison the
			// outer transaction either (PostgreSQL aborts it otherwise).
			err = databases.Transact(ctx, db, nil, func(ctx context.Context, tx *sql.Tx) error {
				return insert(ctx, tx, 1) // duplicate key
			})
			if err == nil {
				return errors.New("duplicate insert succeeded")
			}
			return insert(ctx, tx, 5)
		})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		rows, err := db.Query("SELECT id FROM " + table + " ORDER BY id")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id string
			rows.Scan(&id)
			ids = append(ids, id)
		}
		rows.Close()
		if got := strings.Join(ids, ","); got != "1,2,3,5" {
			t.Fatalf("ids = %s; want 1,2,3,5", got)
		}

		func() {
			defer func() {
				if p := recover(); p != "boom" {
					t.Fatalf("recovered %v; want the panic re-raised", p)
				}
			}()
			databases.Transact(ctx, db, nil, func(ctx context.Context, tx *sql.Tx) error {
				insert(ctx, tx, 10)
				databases.Transact(ctx, db, nil, func(ctx context.Context, tx *sql.Tx) error {
					insert(ctx, tx, 11)
					panic("boom")
				})
				return nil
			})
		}()
		if n := count(t, db, table); n != 4 {
			t.Fatalf("%d rows after a panic; want 4", n)
		}
		if err := databases.Transact(ctx, db, nil, func(ctx context.Context, tx *sql.Tx) error {
			return databases.Transact(ctx, db, &sql.TxOptions{ReadOnly: true}, func(context.Context, *sql.Tx) error { return nil })
		}); err == nil || !strings.Contains(err.Error(), "cannot change its options") {
			t.Fatalf("nested Transact with other options: %v", err)
		}
	})
}

// failuresOf makes a middleware Selective, asking for failed calls only.
type failuresOf struct{ middleware.Middleware }

func (failuresOf) Interest(context.Context, middleware.Op) middleware.Interest {
	return middleware.Failures
}

// TestIsRetryable checks the classification against real errors where a
// backend produces them cheaply.
func TestIsRetryable(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		db, err := databases.Open(b.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		_, err = db.Exec("SELECT * FROM no_such_table_here")
		if err == nil || databases.IsRetryable(err) {
			t.Fatalf("missing table: IsRetryable(%v) = true", err)
		}
		if databases.IsRetryable(errors.New("plain")) || databases.IsRetryable(nil) {
			t.Fatal("a plain error is retryable")
		}
	})
}
