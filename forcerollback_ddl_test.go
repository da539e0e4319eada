package databases

// force_rollback and schema changes on PostgreSQL: a query whose plan pgx
// cached on the shared connection answers with the new columns after DDL
// run through the DB, inside a BeginTx savepoint too, and never with
// 0A000 "cached plan must not change result type".

import (
	"context"
	"database/sql"
	"testing"

	"github.com/go-databases/databases/internal/dbtest"
)

// TestForceRollbackDDLDropsPlans runs, in force_rollback mode, a cached
// SELECT *, an ALTER TABLE … ADD COLUMN, and the SELECT again: on the DB,
// in a savepoint (BeginTx) that runs the ALTER, and in one begun after
// it, under each option set.
func TestForceRollbackDDLDropsPlans(t *testing.T) {
	b := dbtest.Backends()[1]
	b.Require(t)
	type runner interface {
		ExecContext(context.Context, string, ...any) (sql.Result, error)
		QueryContext(context.Context, string, ...any) (*sql.Rows, error)
	}
	cols := func(t *testing.T, r runner, q string) int {
		t.Helper()
		rows, err := r.QueryContext(t.Context(), q, 1)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		defer rows.Close()
		c, err := rows.Columns()
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return len(c)
	}
	for _, cfg := range []string{"force_rollback=true", "force_rollback=true&stmt_cache=8", "force_rollback=true&log=debug"} {
		for _, where := range []string{"db", "tx", "alter then tx"} {
			t.Run(cfg+"/"+where, func(t *testing.T) {
				db := openCached(t, b.URL, cfg)
				table := dbtest.Name("frddl")
				if _, err := db.Exec("CREATE TABLE " + table + " (id INT PRIMARY KEY, a INT)"); err != nil {
					t.Fatal(err)
				}
				if _, err := db.Exec("INSERT INTO "+table+" VALUES ($1, $2)", 1, 1); err != nil {
					t.Fatal(err)
				}
				q := "SELECT * FROM " + table + " WHERE id = $1"
				for i := 0; i < 2; i++ { // pgx caches the plan
					if n := cols(t, db, q); n != 2 {
						t.Fatalf("%d columns, want 2", n)
					}
				}
				alter := "ALTER TABLE " + table + " ADD COLUMN w INT"
				begin := func() *sql.Tx {
					tx, err := db.BeginTx(t.Context(), nil)
					if err != nil {
						t.Fatal(err)
					}
					t.Cleanup(func() { tx.Rollback() })
					return tx
				}
				var r runner = db
				var tx *sql.Tx
				switch where {
				case "db":
					if _, err := db.Exec(alter); err != nil {
						t.Fatal(err)
					}
				case "tx":
					tx = begin()
					if n := cols(t, tx, q); n != 2 {
						t.Fatalf("in the savepoint: %d columns, want 2", n)
					}
					if _, err := tx.Exec(alter); err != nil {
						t.Fatal(err)
					}
					r = tx
				case "alter then tx":
					if _, err := db.Exec(alter); err != nil {
						t.Fatal(err)
					}
					tx = begin()
					r = tx
				}
				for i := 0; i < 2; i++ {
					if n := cols(t, r, q); n != 3 {
						t.Fatalf("after %s: %d columns, want 3 (the raw answer on a new connection)", alter, n)
					}
				}
				if tx != nil {
					if err := tx.Commit(); err != nil {
						t.Fatal(err)
					}
				}
				if n := cols(t, db, q); n != 3 {
					t.Fatalf("after the savepoint: %d columns, want 3", n)
				}
			})
		}
	}
}
