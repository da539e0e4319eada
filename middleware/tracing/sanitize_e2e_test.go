package tracing_test

import (
	"context"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/go-databases/databases/internal/dbtest"
	"github.com/go-databases/databases/middleware/tracing"
)

// TestDriverQueryTextSanitized runs queries with literals on every
// backend: db.query.text shows them as '?' when the query has no
// placeholder, as written when it has one, and as written everywhere with
// WithQueryLiterals.
func TestDriverQueryTextSanitized(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		for _, literals := range []bool{false, true} {
			var opts []tracing.Option
			if literals {
				opts = append(opts, tracing.WithQueryLiterals())
			}
			be := open(t, b, sdktrace.AlwaysSample(), opts...)
			table := be.table(t)
			ctx := context.Background()
			tests := []struct {
				run  func(q string) error
				span string
				q    string // as run, with ? for the placeholder
				want string // db.query.text, with ? for the placeholder
			}{
				{
					run: func(q string) error {
						var name string
						return be.db.QueryRowContext(ctx, q).Scan(&name)
					},
					span: "SELECT " + table,
					q:    "SELECT name FROM " + table + " WHERE 'hunter2' = 'hunter2' AND id > 1.5e0 AND id < 3",
					want: "SELECT name FROM " + table + " WHERE ? = ? AND id > ? AND id < ?",
				},
				{
					run:  func(q string) error { _, err := be.db.ExecContext(ctx, q); return err },
					span: "UPDATE " + table,
					q:    "UPDATE " + table + " SET name = 'hunter2' WHERE id = 3",
					want: "UPDATE " + table + " SET name = ? WHERE id = ?",
				},
				{
					run: func(q string) error {
						stmt, err := be.db.PrepareContext(ctx, q)
						if err != nil {
							return err
						}
						defer stmt.Close()
						_, err = stmt.ExecContext(ctx)
						return err
					},
					span: "PREPARE DELETE " + table,
					q:    "DELETE FROM " + table + " WHERE name = 'hunter2'",
					want: "DELETE FROM " + table + " WHERE name = ?",
				},
				{
					run: func(q string) error {
						var name string
						return be.db.QueryRowContext(ctx, q, 1).Scan(&name)
					},
					span: "SELECT " + table,
					q:    "SELECT name FROM " + table + " WHERE name <> 'hunter2' AND id = ?",
					want: "SELECT name FROM " + table + " WHERE name <> 'hunter2' AND id = ?",
				},
			}
			for _, tt := range tests {
				if err := tt.run(tt.q); err != nil {
					t.Fatalf("%s: %v", tt.q, err)
				}
				want := tt.want
				if literals {
					want = tt.q
				}
				if b.Dialect == "postgres" {
					want = strings.Replace(want, "?", "$1", strings.Count(tt.q, "?"))
				}
				check(t, be.span(t, tt.span), map[attribute.Key]any{"db.query.text": want})
			}
		}
	})
}

// TestDriverCommenterKeepsMeaning runs queries with a comment of their
// own, or left open, with and without the sqlcommenter on every backend:
// the driver receives them as written, and they succeed or fail the same.
// MySQL ran SELECT 1 /* unterminated when the comment appended to it
// closed it.
func TestDriverCommenterKeepsMeaning(t *testing.T) {
	queries := []string{
		"SELECT 1 /* unterminated",
		"SELECT 1 /* closed */",
		"/* leading */ SELECT 1",
		"SELECT 1 -- line",
		"SELECT 1 # hash",
		"SELECT 'unterminated",
		`SELECT "unterminated`,
	}
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		plain := open(t, b, sdktrace.AlwaysSample())
		commented := open(t, b, sdktrace.AlwaysSample(), tracing.WithSQLCommenter())
		ctx := context.Background()
		for _, q := range queries {
			var got [2]string
			for i, be := range []*backend{plain, commented} {
				var x any
				err := be.db.QueryRowContext(ctx, q).Scan(&x)
				got[i] = "ok"
				if err != nil {
					got[i] = err.Error()
				}
				// # starts a comment on MySQL only.
				asWritten := q != "SELECT 1 # hash" || b.Dialect == "mysql"
				if sent := be.sent[len(be.sent)-1]; asWritten && sent != q {
					t.Errorf("%q: the driver received %q", q, sent)
				}
			}
			if got[0] != got[1] {
				t.Errorf("%q: %s without the commenter, %s with it", q, got[0], got[1])
			}
		}
		if q := "SELECT 1"; commented.db.QueryRowContext(ctx, q).Scan(new(int)) != nil || !strings.HasPrefix(commented.sent[len(commented.sent)-1], q+" /*traceparent=") {
			t.Errorf("a query without a comment got no traceparent: %q", commented.sent[len(commented.sent)-1])
		}
	})
}
