package databases_test

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/go-databases/databases"
	"github.com/go-databases/databases/internal/dbtest"
	"github.com/go-databases/databases/middleware"
)

// outcome is what a call returned, as text: its rows or rows affected, or
// its error.
func outcome(v any, err error) string {
	if err != nil {
		return "error: " + err.Error()
	}
	return fmt.Sprint(v)
}

// TestConnPathsAgree: a connection runs a call directly when no middleware
// wants it and through the chain when one does; the two paths must give
// the same rows, counts and errors, for exec and query, with portable
// placeholders, on every backend.
func TestConnPathsAgree(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		url := b.URL
		if b.Dialect == "sqlite" {
			url = "sqlite:///" + t.TempDir() + "/paths.db" // one database for both DBs
		}
		direct, err := databases.Open(url)
		if err != nil {
			t.Fatal(err)
		}
		defer direct.Close()
		pass := middleware.Func(func(ctx context.Context, c *middleware.Call, next middleware.Handler) error { return next(ctx, c) })
		chained, err := databases.Open(url, databases.WithMiddleware(pass))
		if err != nil {
			t.Fatal(err)
		}
		defer chained.Close()
		table := createTable(t, direct, "paths", "id INTEGER PRIMARY KEY, v VARCHAR(10)")
		if _, err := direct.Exec("INSERT INTO " + table + " (id, v) VALUES (1, 'x')"); err != nil {
			t.Fatal(err)
		}

		calls := []struct {
			name string
			run  func(db *sql.DB, id int) string
			want string // when the outcome is known whatever the backend
		}{
			{"exec with ? arguments", func(db *sql.DB, id int) string {
				res, err := db.Exec("INSERT INTO "+table+" (id, v) VALUES (?, ?)", id, "x")
				if err != nil {
					return outcome(nil, err)
				}
				n, err := res.RowsAffected()
				return outcome(n, err)
			}, "1"},
			{"query with ? arguments", func(db *sql.DB, _ int) string {
				var v string
				err := db.QueryRow("SELECT v FROM "+table+" WHERE id = ?", 1).Scan(&v)
				return outcome(v, err)
			}, "x"},
			{"query with no rows", func(db *sql.DB, _ int) string {
				var v string
				err := db.QueryRow("SELECT v FROM "+table+" WHERE id = ?", -1).Scan(&v)
				return outcome(v, err)
			}, "error: " + sql.ErrNoRows.Error()},
			{"exec of a duplicate key", func(db *sql.DB, _ int) string {
				_, err := db.Exec("INSERT INTO "+table+" (id, v) VALUES (?, 'y')", 1)
				return outcome(nil, err)
			}, ""},
			{"exec with too few arguments", func(db *sql.DB, _ int) string {
				_, err := db.Exec("UPDATE "+table+" SET v = ? WHERE id = ?", "z")
				return outcome(nil, err)
			}, ""},
			{"query of a missing table", func(db *sql.DB, _ int) string {
				_, err := db.Query("SELECT * FROM " + table + "_missing")
				return outcome(nil, err)
			}, ""},
		}
		for _, c := range calls {
			// The insert takes a fresh id on each DB; the others read row 1.
			d, m := c.run(direct, 10), c.run(chained, 11)
			if d != m {
				t.Errorf("%s: without middleware %q, through the chain %q", c.name, d, m)
			}
			if c.want != "" && d != c.want || c.want == "" && !strings.HasPrefix(d, "error: ") {
				t.Errorf("%s: %q; want %q", c.name, d, cmp.Or(c.want, "an error"))
			}
		}
	})
}
