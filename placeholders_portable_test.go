package databases_test

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/go-databases/databases"
	"github.com/go-databases/databases/internal/dbtest"
	"github.com/go-databases/databases/rewrite"
)

// portableCases: a query and its arguments get one verdict on every
// dialect, SQLite included, and the same message: SQLite sends the query as
// written, but checks it as the other dialects do.
var portableCases = []struct {
	name     string
	dialects string // "" for all, else a comma-separated list
	query    string
	args     []any
	want     []string // the row, each column as text
	err      string   // or the message the error holds, the same on each dialect
}{
	{name: "positional", query: "SELECT ?, ?", args: []any{"a", "b"}, want: []string{"a", "b"}},
	{name: "named", query: "SELECT :a, :b, :a", args: []any{sql.Named("b", "2"), sql.Named("a", "1")}, want: []string{"1", "2", "1"}},
	{name: "native $n", dialects: "sqlite,postgres", query: "SELECT $2, $1", args: []any{"a", "b"}, want: []string{"b", "a"}},
	{name: "? and $1", dialects: "sqlite,postgres", query: "SELECT ? + $1", args: []any{1},
		err: "follows positional ? parameters (one style per query)"},
	{name: "too few arguments", query: "SELECT ?, ?", args: []any{1},
		err: "rewrite: query has 2 positional parameters, got 1 argument at offset 10"},
	{name: "too many arguments", query: "SELECT ?", args: []any{1, 2},
		err: "rewrite: query has 1 positional parameter, got 2 arguments at offset 7"},
	{name: "missing named argument", query: "SELECT :a, :b", args: []any{sql.Named("a", 1)},
		err: "rewrite: named parameter :b has no argument at offset 11"},
	{name: "unused named argument", query: "SELECT :a", args: []any{sql.Named("a", 1), sql.Named("b", 2)},
		err: `rewrite: argument "b" is not used by the query`},
	{name: "positional argument for a name", query: "SELECT :a", args: []any{1},
		err: "rewrite: query uses named parameters, got positional argument 1 at offset 7"},
	{name: "named argument for ?", query: "SELECT ?", args: []any{sql.Named("a", 1)},
		err: `rewrite: query uses positional ? parameters, got named argument "a" at offset 7`},
	{name: "? and a name", query: "SELECT ?, :x", args: []any{1, sql.Named("x", 2)},
		err: "rewrite: named parameter :x follows positional ? parameters (one style per query) at offset 10"},
	{name: "no parameters", query: "SELECT 1", args: []any{1},
		err: "rewrite: query has no parameters, got 1 argument"},
	{name: "unterminated literal", query: "SELECT ?, 'oops", args: []any{1},
		err: "rewrite: unterminated quoted string at offset 10"},
	{name: "??", dialects: "sqlite,mysql", query: "SELECT ??", args: []any{1},
		err: "?? has no meaning on "},

	// SQLite's own forms keep their meaning.
	{name: "?NNN", dialects: "sqlite", query: "SELECT ?2, ?1, ?2", args: []any{"a", "b"}, want: []string{"b", "a", "b"}},
	{name: "Tcl names", dialects: "sqlite", query: "SELECT $a::b, :c(x), @d::e(f::g)", args: []any{sql.Named("a::b", "5"), sql.Named("c(x)", "6"), sql.Named("d::e(f::g)", "7")}, want: []string{"5", "6", "7"}},
	{name: "$name and @name", dialects: "sqlite", query: "SELECT $a, @b, :a", args: []any{sql.Named("a", "1"), sql.Named("b", "2")}, want: []string{"1", "2", "1"}},
	{name: "?NNN without its argument", dialects: "sqlite", query: "SELECT ?1, ?3", args: []any{1, 2},
		err: "rewrite: query has parameters up to ?3, got 2 arguments at offset 11"},
	{name: "? in two statements", dialects: "sqlite", query: "SELECT ?; SELECT ?", args: []any{1, 2},
		err: "rewrite: positional ? parameters in more than one statement: SQLite binds each statement from the first argument (number them ?1, ?2, … or name them) at offset 17"},
}

// TestPortablePlaceholders runs portableCases through every door a query
// takes: a plain call and a prepared statement, in a transaction, without
// the statement cache, with middleware, and under force_rollback (and Exec
// for the errors). A rewrite error is a *rewrite.Error on each.
func TestPortablePlaceholders(t *testing.T) {
	logger := databases.WithLogger(slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelDebug})))
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		doors := []struct {
			name string
			opt  string
			opts []databases.Option
		}{
			{name: "default"},
			{name: "stmt_cache=0", opt: "stmt_cache=0"},
			{name: "middleware", opts: []databases.Option{logger}},
			{name: "force_rollback", opt: "force_rollback=true"},
			{name: "force_rollback+middleware", opt: "force_rollback=true", opts: []databases.Option{logger}},
		}
		for _, door := range doors {
			u := b.URL
			if door.opt != "" {
				u += sep(u) + door.opt
			}
			db, err := databases.Open(u, door.opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			for _, tc := range portableCases {
				if tc.dialects != "" && !strings.Contains(","+tc.dialects+",", ","+b.Dialect+",") {
					continue
				}
				t.Run(door.name+"/"+tc.name, func(t *testing.T) {
					vias := []string{"query", "prepared", "tx", "tx-prepared"}
					if tc.err != "" {
						vias = append(vias, "exec")
					}
					for _, via := range vias {
						got, err := portableVia(db, via, tc.query, tc.args...)
						if tc.err != "" {
							if err == nil || !strings.Contains(err.Error(), tc.err) {
								t.Fatalf("%s: got %v, %v; want an error with %q", via, got, err, tc.err)
							}
							var re *rewrite.Error
							if strings.HasPrefix(tc.err, "rewrite: ") && !errors.As(err, &re) {
								t.Fatalf("%s: %v is not a *rewrite.Error", via, err)
							}
							continue
						}
						if err != nil {
							t.Fatalf("%s: %v", via, err)
						}
						if strings.Join(got, "|") != strings.Join(tc.want, "|") {
							t.Fatalf("%s: got %q, want %q", via, got, tc.want)
						}
					}
				})
			}
		}
	})
}

// portableVia runs query by one door: "query", "prepared" (db.Prepare, then
// Query), "exec", "tx" (Query in a transaction) or "tx-prepared".
func portableVia(db *sql.DB, via, query string, args ...any) ([]string, error) {
	ctx := context.Background()
	switch via {
	case "query":
		return queryRow(db, false, query, args...)
	case "prepared":
		return queryRow(db, true, query, args...)
	case "exec":
		_, err := db.ExecContext(ctx, query, args...)
		return nil, err
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var rows *sql.Rows
	if via == "tx-prepared" {
		st, err := tx.PrepareContext(ctx, query)
		if err != nil {
			return nil, err
		}
		defer st.Close()
		rows, err = st.QueryContext(ctx, args...)
		if err != nil {
			return nil, err
		}
	} else if rows, err = tx.QueryContext(ctx, query, args...); err != nil {
		return nil, err
	}
	defer rows.Close()
	return scanText(rows)
}

// TestNativePlaceholdersSQLite: with placeholders=native a SQLite query
// gets what raw modernc gives it, the forms the portable check refuses
// included.
func TestNativePlaceholdersSQLite(t *testing.T) {
	raw, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	db, err := databases.Open("sqlite:///:memory:?placeholders=native")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, tc := range []struct {
		query string
		args  []any
	}{
		{"SELECT ? + $1", []any{1}},
		{"SELECT ?, ?", []any{1}},
		{"SELECT ?", []any{1, 2}},
		{"SELECT :a", []any{1}},
		{"SELECT ?", []any{sql.Named("a", 1)}},
		{"SELECT ?1, ?3", []any{1, 2, 3}},
		{"SELECT $a, @b, :a", []any{sql.Named("a", 1), sql.Named("b", 2)}},
		{"SELECT ?; SELECT ?", []any{1, 2}},
		{"SELECT 1", []any{1}},
	} {
		want, wantErr := queryRow(raw, false, tc.query, tc.args...)
		got, err := queryRow(db, false, tc.query, tc.args...)
		if strings.Join(got, "|") != strings.Join(want, "|") || errText(err) != errText(wantErr) {
			t.Errorf("%q: got %q, %v; raw modernc gives %q, %v", tc.query, got, err, want, wantErr)
		}
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// scanText reads the first row of rows, each column as text.
func scanText(rows *sql.Rows) ([]string, error) {
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	if !rows.Next() {
		return nil, errors.Join(errors.New("no row"), rows.Err())
	}
	raw := make([]sql.RawBytes, len(cols))
	dest := make([]any, len(cols))
	for i := range raw {
		dest[i] = &raw[i]
	}
	if err := rows.Scan(dest...); err != nil {
		return nil, err
	}
	out := make([]string, len(raw))
	for i, r := range raw {
		out[i] = string(r)
	}
	return out, rows.Err()
}
