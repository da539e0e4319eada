package databases_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"

	"github.com/go-databases/databases"
	"github.com/go-databases/databases/internal/dbtest"
)

// TestTxAborted: once the server has rolled a transaction back on its own
// (a SQLite trigger's RAISE(ROLLBACK), a MySQL deadlock victim), every
// later statement of the *sql.Tx and its Commit fail with ErrTxAborted, the
// server's error stays reachable with errors.As, and nothing after the
// rollback ran outside a transaction. PostgreSQL keeps the rule itself: its
// own error (25P02, in failed transaction) comes back, not ErrTxAborted.
func TestTxAborted(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		db, err := databases.Open(b.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		table := createTable(t, db, "aborted", "id INTEGER PRIMARY KEY, v INTEGER")
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
		defer cancel()
		if b.Dialect == "sqlite" {
			// Before the transaction: SQLite has one writer at a time.
			if _, err := db.ExecContext(ctx, "CREATE TRIGGER "+table+"_neg BEFORE INSERT ON "+table+
				" WHEN NEW.v < 0 BEGIN SELECT RAISE(ROLLBACK, 'negative v'); END"); err != nil {
				t.Fatal(err)
			}
		}
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()

		// The statement the server answers by rolling the transaction back.
		var abortErr error
		switch b.Dialect {
		case "sqlite":
			abortErr = sqliteRollbackTrigger(ctx, t, tx, table)
		default:
			abortErr = deadlockVictim(ctx, t, db, tx, b.Dialect, table)
		}
		if abortErr == nil {
			t.Fatal("the statement the server should have rolled back succeeded")
		}
		if errors.Is(abortErr, databases.ErrTxAborted) {
			t.Errorf("the failing statement itself: %v; want the server's error alone", abortErr)
		}

		later := []struct {
			name string
			run  func() error
		}{
			{"exec", func() error {
				_, err := tx.ExecContext(ctx, "INSERT INTO "+table+" (id, v) VALUES (3, 3)")
				return err
			}},
			{"query", func() error {
				var n int
				return tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+table).Scan(&n)
			}},
			{"prepared", func() error {
				st, err := tx.PrepareContext(ctx, "INSERT INTO "+table+" (id, v) VALUES (?, ?)")
				if err != nil {
					return err
				}
				defer st.Close()
				_, err = st.ExecContext(ctx, 4, 4)
				return err
			}},
			{"commit", tx.Commit},
		}
		for _, l := range later {
			err := l.run()
			if err == nil {
				t.Errorf("%s after the rollback succeeded; want an error", l.name)
				continue
			}
			if b.Dialect == "postgres" {
				var pgErr *pgconn.PgError
				if errors.Is(err, databases.ErrTxAborted) {
					t.Errorf("%s: %v; PostgreSQL refuses by itself, want its error and not ErrTxAborted", l.name, err)
				} else if l.name != "commit" && (!errors.As(err, &pgErr) || pgErr.Code != "25P02") {
					t.Errorf("%s: %v; want PostgreSQL's 25P02", l.name, err)
				}
				continue
			}
			if !errors.Is(err, databases.ErrTxAborted) {
				t.Errorf("%s: %v; want ErrTxAborted", l.name, err)
			}
			if !sameServerError(err, abortErr) {
				t.Errorf("%s: %v; want the server's error (%v) reachable with errors.As", l.name, err, abortErr)
			}
		}
		// Nothing of the transaction is there: neither what was refused
		// after the rollback nor what came before it (SQLite's row 1, the
		// update of row 1 elsewhere).
		if n := count(t, db, table+" WHERE id IN (3, 4)"); n != 0 {
			t.Errorf("%d rows inserted after the rollback; want 0", n)
		}
		before := table + " WHERE id = 1 AND v = 1"
		if n := count(t, db, before); n != 0 {
			t.Errorf("the transaction's write before the rollback is there (%d rows of %s)", n, before)
		}
	})
}

// sameServerError reports whether err carries the raw driver's error that
// want is, with the same code.
func sameServerError(err, want error) bool {
	var liteWant, liteGot *sqlite.Error
	if errors.As(want, &liteWant) {
		return errors.As(err, &liteGot) && liteGot.Code() == liteWant.Code()
	}
	var myWant, myGot *mysql.MySQLError
	if errors.As(want, &myWant) {
		return errors.As(err, &myGot) && myGot.Number == myWant.Number
	}
	return false
}

// sqliteRollbackTrigger inserts a row in tx and then one whose trigger
// (made by TestTxAborted) raises ROLLBACK, which ends the whole transaction.
func sqliteRollbackTrigger(ctx context.Context, t *testing.T, tx *sql.Tx, table string) error {
	t.Helper()
	if _, err := tx.ExecContext(ctx, "INSERT INTO "+table+" (id, v) VALUES (1, 1)"); err != nil {
		t.Fatal(err)
	}
	_, err := tx.ExecContext(ctx, "INSERT INTO "+table+" (id, v) VALUES (2, -1)")
	var lite *sqlite.Error
	if !errors.As(err, &lite) || !strings.Contains(err.Error(), "negative v") {
		t.Fatalf("insert firing RAISE(ROLLBACK): %v; want the trigger's *sqlite.Error", err)
	}
	return err
}

// deadlockVictim makes tx the victim of a deadlock with another
// transaction, on a second connection: tx locks row 1, the other row 2
// (and 50 rows more, so that MySQL, which rolls back the transaction that
// wrote less, picks tx), tx asks for row 2 and waits, and only once the
// server shows it waiting does the other ask for row 1. PostgreSQL ends
// the transaction whose wait began first (tx). It returns tx's error.
func deadlockVictim(ctx context.Context, t *testing.T, db *sql.DB, tx *sql.Tx, dialect, table string) error {
	t.Helper()
	if _, err := db.ExecContext(ctx, "INSERT INTO "+table+" (id, v) VALUES (1, 0), (2, 0)"); err != nil {
		t.Fatal(err)
	}
	heavy := createTable(t, db, "heavy", "id INTEGER PRIMARY KEY")
	lockWait := lockWaiter(ctx, t, db, tx, dialect)
	if _, err := tx.ExecContext(ctx, "UPDATE "+table+" SET v = v + 1 WHERE id = 1"); err != nil {
		t.Fatal(err)
	}
	other, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Rollback()
	for i := range 50 {
		if _, err := other.ExecContext(ctx, "INSERT INTO "+heavy+" (id) VALUES (?)", i); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := other.ExecContext(ctx, "UPDATE "+table+" SET v = v + 1 WHERE id = 2"); err != nil {
		t.Fatal(err)
	}
	victim := make(chan error, 1)
	go func() {
		_, err := tx.ExecContext(ctx, "UPDATE "+table+" SET v = v + 1 WHERE id = 2")
		victim <- err
	}()
	if err := lockWait(victim); err != nil {
		t.Fatal(err)
	}
	if _, err := other.ExecContext(ctx, "UPDATE "+table+" SET v = v + 1 WHERE id = 1"); err != nil {
		t.Fatalf("the other transaction: %v; want tx to be the victim", err)
	}
	err = <-victim
	if !databases.IsRetryable(err) {
		t.Fatalf("tx's update of row 2: %v; want a deadlock", err)
	}
	return err
}

// lockWaiter returns a function that waits until the server shows tx's
// connection waiting for a lock: a condition, not a sleep, however loaded
// the machine. The function returns an error if done delivers first (the
// statement that should wait returned) or ctx ends; it may run on any
// goroutine.
func lockWaiter(ctx context.Context, t *testing.T, db *sql.DB, tx *sql.Tx, dialect string) func(done <-chan error) error {
	t.Helper()
	whoAmI, waiting := "SELECT CONNECTION_ID()", "SELECT COUNT(*) FROM information_schema.innodb_trx WHERE trx_mysql_thread_id = ? AND trx_state = 'LOCK WAIT'"
	if dialect == "postgres" {
		whoAmI, waiting = "SELECT pg_backend_pid()", "SELECT COUNT(*) FROM pg_stat_activity WHERE pid = ? AND wait_event_type = 'Lock'"
	}
	var id int64
	if err := tx.QueryRowContext(ctx, whoAmI).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return func(done <-chan error) error {
		for {
			var n int
			if err := db.QueryRowContext(ctx, waiting, id).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			select {
			case err := <-done:
				return fmt.Errorf("the statement that should wait for a lock returned first: %v", err)
			case <-ctx.Done():
				return fmt.Errorf("connection %d never waited for a lock: %w", id, ctx.Err())
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
}
