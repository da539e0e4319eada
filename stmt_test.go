package databases_test

import (
	"cmp"
	"context"
	"database/sql"
	"strings"
	"testing"

	"github.com/go-databases/databases"
	"github.com/go-databases/databases/internal/dbtest"
	"github.com/go-databases/databases/middleware"
)

// TestStmtPathsAgree: a prepared statement, rewritten once at prepare,
// runs its executions directly or through the middleware chain; both give
// the same results and errors, on every backend, and the same results as
// the statement's text run without preparing (and an error where it fails).
func TestStmtPathsAgree(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		url := b.URL
		if b.Dialect == "sqlite" {
			url = "sqlite:///" + t.TempDir() + "/stmts.db" // one database for both DBs
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
		table := createTable(t, direct, "stmts", "id INTEGER PRIMARY KEY, v VARCHAR(10)")
		if _, err := direct.Exec("INSERT INTO " + table + " (id, v) VALUES (1, 'x')"); err != nil {
			t.Fatal(err)
		}

		tests := []struct {
			name  string
			query string
			exec  bool
			args  func(id int) []any // id: a fresh id per DB
			want  string             // "" for an error
		}{
			{"insert", "INSERT INTO " + table + " (id, v) VALUES (?, ?)", true, func(id int) []any { return []any{id, "y"} }, "1"},
			{"select", "SELECT v FROM " + table + " WHERE id = ?", false, func(int) []any { return []any{1} }, "x"},
			{"select, no rows", "SELECT v FROM " + table + " WHERE id = ?", false, func(int) []any { return []any{-1} }, "error: " + sql.ErrNoRows.Error()},
			{"duplicate key", "INSERT INTO " + table + " (id, v) VALUES (?, 'z')", true, func(int) []any { return []any{1} }, ""},
			{"too few arguments", "UPDATE " + table + " SET v = ? WHERE id = ?", true, func(int) []any { return []any{"z"} }, ""},
		}
		id := 100
		run := func(db *sql.DB, query string, exec, prepared bool, args []any) string {
			type execQueryer interface {
				Exec(...any) (sql.Result, error)
				QueryRow(...any) *sql.Row
			}
			var do execQueryer
			if prepared {
				st, err := db.Prepare(query)
				if err != nil {
					return outcome(nil, err)
				}
				defer st.Close()
				do = st
			}
			if exec {
				var res sql.Result
				var err error
				if do != nil {
					res, err = do.Exec(args...)
				} else {
					res, err = db.Exec(query, args...)
				}
				if err != nil {
					return outcome(nil, err)
				}
				n, err := res.RowsAffected()
				return outcome(n, err)
			}
			var v string
			var row *sql.Row
			if do != nil {
				row = do.QueryRow(args...)
			} else {
				row = db.QueryRow(query, args...)
			}
			err := row.Scan(&v)
			return outcome(v, err)
		}
		for _, tt := range tests {
			var got []string
			for _, db := range []*sql.DB{direct, chained} {
				for _, prepared := range []bool{true, false} {
					id++
					got = append(got, run(db, tt.query, tt.exec, prepared, tt.args(id)))
				}
			}
			if tt.want != "" && got[0] != tt.want || tt.want == "" && !strings.HasPrefix(got[0], "error: ") {
				t.Errorf("%s: prepared, without middleware: %q; want %q", tt.name, got[0], cmp.Or(tt.want, "an error"))
			}
			// Through the chain as without it; prepared as not, but for the
			// text of an error (database/sql checks a prepared statement's
			// argument count itself, before the driver sees the call).
			if got[2] != got[0] || got[3] != got[1] {
				t.Errorf("%s: through the chain %q (prepared) and %q (not); without middleware %q and %q", tt.name, got[2], got[3], got[0], got[1])
			}
			if got[1] != got[0] && (tt.want != "" || !strings.HasPrefix(got[1], "error: ")) {
				t.Errorf("%s: not prepared %q; prepared %q", tt.name, got[1], got[0])
			}
		}
	})
}
