package databases

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"testing"

	"github.com/go-databases/databases/internal/dbtest"
)

// TestKilledConnectionErrorOnce kills the MySQL connection under a call
// from another connection and checks that the error says "invalid
// connection" once: the statement and the rollback (or the rows and their
// prepared statement) that fail after it fail with the same error, which
// must not be joined with itself.
func TestKilledConnectionErrorOnce(t *testing.T) {
	b := dbtest.Backends()[2]
	b.Require(t)
	admin, err := Open(b.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	ctx := context.Background()
	type queryer interface {
		QueryRowContext(context.Context, string, ...any) *sql.Row
	}
	id := func(t *testing.T, q queryer) int64 {
		t.Helper()
		var id int64
		if err := q.QueryRowContext(ctx, "SELECT CONNECTION_ID()").Scan(&id); err != nil {
			t.Fatal(err)
		}
		return id
	}
	killID := func(t *testing.T, id int64) {
		t.Helper()
		if _, err := admin.ExecContext(ctx, "KILL CONNECTION "+strconv.FormatInt(id, 10)); err != nil {
			t.Fatal(err)
		}
	}
	kill := func(t *testing.T, q queryer) { t.Helper(); killID(t, id(t, q)) }
	tests := []struct {
		name string
		run  func(t *testing.T, db *sql.DB) error
	}{
		{"Transact", func(t *testing.T, db *sql.DB) error {
			return Transact(ctx, db, nil, func(ctx context.Context, tx *sql.Tx) error {
				kill(t, tx)
				_, err := tx.ExecContext(ctx, "DO 1")
				return err
			})
		}},
		{"nested Transact", func(t *testing.T, db *sql.DB) error {
			return Transact(ctx, db, nil, func(ctx context.Context, tx *sql.Tx) error {
				return Transact(ctx, db, nil, func(ctx context.Context, tx *sql.Tx) error {
					kill(t, tx)
					_, err := tx.ExecContext(ctx, "DO 1")
					return err
				})
			})
		}},
		{"rows of a prepared query", func(t *testing.T, db *sql.DB) error {
			conn, err := db.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			connID := id(t, conn)
			rows, err := conn.QueryContext(ctx, "SELECT ? FROM information_schema.columns a, information_schema.columns b", 1)
			if err != nil {
				t.Fatal(err)
			}
			rows.Next()
			killID(t, connID)
			for rows.Next() {
			}
			if err := rows.Close(); err != nil {
				return err
			}
			return rows.Err()
		}},
	}
	for _, tt := range tests {
		for _, opts := range []string{"", "&log=error"} {
			t.Run(tt.name+opts, func(t *testing.T) {
				db, err := Open(b.URL + opts)
				if err != nil {
					t.Fatal(err)
				}
				defer db.Close()
				err = tt.run(t, db)
				if err == nil {
					t.Fatal("no error after the connection was killed")
				}
				if n := strings.Count(err.Error(), "invalid connection"); n != 1 {
					t.Errorf("error %q says %q %d times; want once", err, "invalid connection", n)
				}
			})
		}
	}
}
