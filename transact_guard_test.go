package databases_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"

	"github.com/go-databases/databases"
	"github.com/go-databases/databases/internal/dbtest"
)

// TestTransactRefusesDB: a statement on the *sql.DB, or a sql.Conn of it,
// given the context of a Transact fails with ErrOutsideTransaction instead
// of running outside the transaction (where a failed Transact would leave
// its row behind). Statements on the *sql.Tx, on another DB, or in a
// transaction begun on purpose with that context are not refused.
func TestTransactRefusesDB(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		db, err := databases.Open(b.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		table := createTable(t, db, "guard", "id INTEGER PRIMARY KEY")
		other, err := databases.Open(b.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		insert := "INSERT INTO " + table + " (id) VALUES (?)"
		fail := errors.New("fn failed")
		for _, tc := range []struct {
			name    string
			run     func(ctx context.Context, tx *sql.Tx, id int) error
			refused bool
		}{
			{"db.ExecContext", func(ctx context.Context, _ *sql.Tx, id int) error {
				_, err := db.ExecContext(ctx, insert, id)
				return err
			}, true},
			{"db.QueryRowContext", func(ctx context.Context, _ *sql.Tx, id int) error {
				var n int
				return db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+table).Scan(&n)
			}, true},
			{"sql.Conn.ExecContext", func(ctx context.Context, _ *sql.Tx, id int) error {
				c, err := db.Conn(ctx)
				if err != nil {
					return err
				}
				defer c.Close()
				_, err = c.ExecContext(ctx, insert, id)
				return err
			}, true},
			{"tx.ExecContext", func(ctx context.Context, tx *sql.Tx, id int) error {
				_, err := tx.ExecContext(ctx, insert, id)
				return err
			}, false},
			{"nested Transact", func(ctx context.Context, _ *sql.Tx, id int) error {
				return databases.Transact(ctx, db, nil, func(ctx context.Context, tx *sql.Tx) error {
					_, err := tx.ExecContext(ctx, insert, id)
					return err
				})
			}, false},
			// Not on SQLite: its in-memory database locks readers out
			// while a transaction writes.
			{"WithoutTransaction", func(ctx context.Context, _ *sql.Tx, id int) error {
				if b.Dialect == "sqlite" {
					return nil
				}
				var n int
				return db.QueryRowContext(databases.WithoutTransaction(ctx), "SELECT COUNT(*) FROM "+table).Scan(&n)
			}, false},
			{"another DB", func(ctx context.Context, _ *sql.Tx, id int) error {
				var n int
				return other.QueryRowContext(ctx, "SELECT 1").Scan(&n)
			}, false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				id := 1
				var runErr error
				err := databases.Transact(context.Background(), db, nil, func(ctx context.Context, tx *sql.Tx) error {
					runErr = tc.run(ctx, tx, id)
					return fail
				})
				if !errors.Is(err, fail) {
					t.Fatalf("Transact: %v", err)
				}
				if got := errors.Is(runErr, databases.ErrOutsideTransaction); got != tc.refused {
					t.Fatalf("refused = %v, want %v: %v", got, tc.refused, runErr)
				}
				if !tc.refused && runErr != nil {
					t.Fatalf("%s: %v", tc.name, runErr)
				}
				if n := count(t, db, table); n != 0 {
					t.Fatalf("%d rows after the Transact failed; want 0", n)
				}
			})
		}
	})
}
