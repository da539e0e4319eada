package databases_test

import (
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/go-databases/databases"
	"github.com/go-databases/databases/internal/dbtest"
)

// placeholderCases run against the real servers: the same portable query
// and arguments on every dialect where the SQL is valid there, and the
// values that come back, byte for byte. dialects limits a case to some.
var placeholderCases = []struct {
	name     string
	dialects string // "" for all, else a comma-separated list
	query    string
	args     []any
	want     []string // the row, each column as text
	err      string   // or a fragment of the expected error
}{
	{name: "literals are not rewritten", query: "SELECT '?', ':x', '10:30', 'http://h/?x', ?", args: []any{"v"}, want: []string{"?", ":x", "10:30", "http://h/?x", "v"}},
	{name: "comments are not rewritten", query: "SELECT ? -- why?\n, ? /* and :this? */", args: []any{"a", "b"}, want: []string{"a", "b"}},
	{name: "named repeated", query: "SELECT :a, :b, :a", args: []any{sql.Named("a", "1"), sql.Named("b", "2")}, want: []string{"1", "2", "1"}},
	{name: "unicode name and literal", query: "SELECT '日本?', :名前", args: []any{sql.Named("名前", "x")}, want: []string{"日本?", "x"}},
	{name: "? before a keyword", query: "SELECT 1 FROM (SELECT 1 AS x) t WHERE 1 = ?AND 2 = ?", args: []any{1, 2}, want: []string{"1"}},
	{name: "cast after a named parameter", dialects: "postgres", query: "SELECT :id::int + 1", args: []any{sql.Named("id", "41")}, want: []string{"42"}},
	{name: "jsonb ? operator", dialects: "postgres", query: `SELECT '{"k":1}'::jsonb ?? 'k', ?::int`, args: []any{5}, want: []string{"true", "5"}},
	{name: "dollar quotes", dialects: "postgres", query: "SELECT $$ ? $$, $tag$ :x $tag$, ?", args: []any{"v"}, want: []string{" ? ", " :x ", "v"}},
	{name: "E string", dialects: "postgres", query: `SELECT E'it\'s ?', ?`, args: []any{"v"}, want: []string{"it's ?", "v"}},
	{name: "native $1 unchanged", dialects: "postgres", query: "SELECT $1::text, $2::text, $1::text", args: []any{"a", "b"}, want: []string{"a", "b", "a"}},
	{name: "array slice", dialects: "postgres", query: "SELECT (ARRAY[1,2,3])[1:2], ?::int", args: []any{7}, want: []string{"{1,2}", "7"}},
	{name: "array slices with a column bound", dialects: "postgres", query: "SELECT (ARRAY[1,2,3])[2:n], (ARRAY[1,2,3])[: n], (ARRAY[1,2,3])[n:], ?::int FROM (SELECT 2 AS n) t", args: []any{7}, want: []string{"{2}", "{1,2}", "{2,3}", "7"}},
	{name: "named parameters in ARRAY[ ]", dialects: "postgres", query: "SELECT ARRAY[:a, :b]::int[], ARRAY[[:a],[:b]]::int[]", args: []any{sql.Named("a", 1), sql.Named("b", 2)}, want: []string{"{1,2}", "{{1},{2}}"}},
	{name: "named subscript", dialects: "postgres", query: "SELECT (ARRAY[10,20,30])[:i], (ARRAY[10,20,30])[ :i ]", args: []any{sql.Named("i", 2)}, want: []string{"20", "20"}},
	{name: "named slice bounds", dialects: "postgres", query: "SELECT (ARRAY[1,2,3,4])[:lo : :hi], (ARRAY[1,2,3,4])[:lo:n] FROM (SELECT 3 AS n) t", args: []any{sql.Named("lo", 2), sql.Named("hi", 3)}, want: []string{"{2,3}", "{2,3}"}},
	{name: "named subscript after a keyword", dialects: "postgres", query: "SELECT (ARRAY[10,20,30])[CASE WHEN :first THEN 1 ELSE :i END]", args: []any{sql.Named("first", false), sql.Named("i", 3)}, want: []string{"30"}},
	{name: "jsonpath @?", dialects: "postgres", query: `SELECT '{"a":[1,2]}'::jsonb @? '$.a[*] ? (@ > 1)', (?::jsonb)@?'$.b'`, args: []any{`{"b":1}`}, want: []string{"true", "true"}},
	{name: "jsonpath @? with a named path", dialects: "postgres", query: `SELECT '{"a":1}'::jsonb @? :p::jsonpath, '{"b":1}'::jsonb @? :p::jsonpath`, args: []any{sql.Named("p", "$.a")}, want: []string{"true", "false"}},
	{name: "jsonpath @??", dialects: "postgres", query: `SELECT '{"a":1}'::jsonb @?? '$.a', ?::int`, args: []any{5}, want: []string{"true", "5"}},
	{name: "prefix @ of a placeholder", dialects: "postgres", query: "SELECT @?::int, 1 + @?::int", args: []any{-3, -4}, want: []string{"3", "5"}},
	{name: "@name", dialects: "postgres,sqlite", query: "SELECT @id", args: []any{sql.Named("id", "9")}, want: []string{"9"}},
	{name: "backslash escape", dialects: "mysql", query: `SELECT 'it\'s ?', ?`, args: []any{"v"}, want: []string{"it's ?", "v"}},
	{name: "hash comment", dialects: "mysql", query: "SELECT ? # what?\n", args: []any{"v"}, want: []string{"v"}},
	{name: "backticks", dialects: "mysql", query: "SELECT ? AS `a?b`", args: []any{"v"}, want: []string{"v"}},
	{name: "user variable stays", dialects: "mysql", query: "SELECT @x := :v, @x", args: []any{sql.Named("v", "3")}, want: []string{"3", "3"}},
	{name: "brackets", dialects: "sqlite", query: "SELECT ? AS [a?b]", args: []any{"v"}, want: []string{"v"}},
	{name: "mixed styles", dialects: "postgres,mysql", query: "SELECT ?, :x", args: []any{1, sql.Named("x", 2)}, err: "offset 10"},
	{name: "missing named argument", dialects: "postgres,mysql", query: "SELECT :a, :b", args: []any{sql.Named("a", 1)}, err: ":b"},
	{name: "too many arguments", dialects: "postgres,mysql", query: "SELECT ?", args: []any{1, 2}, err: "got 2"},
	{name: "unterminated literal", dialects: "postgres,mysql", query: "SELECT ?, 'oops", args: []any{1}, err: "offset 10"},
}

// TestPlaceholders runs every case through QueryRow and through a prepared
// statement.
func TestPlaceholders(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		db, err := databases.Open(b.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		for _, tc := range placeholderCases {
			if tc.dialects != "" && !strings.Contains(","+tc.dialects+",", ","+b.Dialect+",") {
				continue
			}
			t.Run(tc.name, func(t *testing.T) {
				for _, prepared := range []bool{false, true} {
					got, err := queryRow(db, prepared, tc.query, tc.args...)
					if tc.err != "" {
						if err == nil || !strings.Contains(err.Error(), tc.err) {
							t.Fatalf("prepared=%v: err = %v; want one containing %q", prepared, err, tc.err)
						}
						continue
					}
					if err != nil {
						t.Fatalf("prepared=%v: %v", prepared, err)
					}
					if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", tc.want) {
						t.Fatalf("prepared=%v: row = %q; want %q", prepared, got, tc.want)
					}
				}
			})
		}
	})
}

func queryRow(db *sql.DB, prepared bool, query string, args ...any) ([]string, error) {
	var rows *sql.Rows
	var err error
	if prepared {
		var st *sql.Stmt
		if st, err = db.Prepare(query); err != nil {
			return nil, err
		}
		defer st.Close()
		rows, err = st.Query(args...)
	} else {
		rows, err = db.Query(query, args...)
	}
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	if !rows.Next() {
		return nil, fmt.Errorf("no row (%v)", rows.Err())
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

// TestNativePlaceholdersOption: placeholders=native sends the query as
// written, so PostgreSQL sees a literal ? and rejects it.
func TestNativePlaceholdersOption(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		if b.Dialect != "postgres" {
			t.Skip("only PostgreSQL has a native style other than ?")
		}
		db, err := databases.Open(b.URL + sep(b.URL) + "placeholders=native")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var n int
		if err := db.QueryRow("SELECT $1::int", 5).Scan(&n); err != nil || n != 5 {
			t.Fatalf("native $1: %d, %v", n, err)
		}
		if err := db.QueryRow("SELECT ?::int", 5).Scan(&n); err == nil {
			t.Fatal("? was rewritten although placeholders=native")
		}
	})
}

// TestPlaceholdersSQLMode: the sql_mode in a MySQL URL is the session's, and
// the rewriter lexes by it, directly, prepared and in a transaction.
func TestPlaceholdersSQLMode(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		if b.Dialect != "mysql" {
			t.Skip("sql_mode is MySQL's")
		}
		for _, tc := range []struct {
			name, mode string // mode: the sql_mode URL value
			query      string
			args       []any
			want       []string
			err        string // or a fragment of the expected error
		}{
			{name: "default mode: a backslash escapes the quote", query: `SELECT 'C:\' AS a, ? AS b`, args: []any{"v"},
				err: "the \\ at offset 10 escapes the quote after it; if the server's sql_mode has NO_BACKSLASH_ESCAPES"},
			{name: "default mode: double quotes are a string", query: `SELECT "x?" FROM (SELECT ? AS "x?") t`, args: []any{"v"}, want: []string{"x?"}},
			{name: "NO_BACKSLASH_ESCAPES", mode: "%27NO_BACKSLASH_ESCAPES%27", query: `SELECT 'C:\' AS a, ? AS b, "D:\", 'it''s'`, args: []any{"v"},
				want: []string{`C:\`, "v", `D:\`, "it's"}},
			{name: "NO_BACKSLASH_ESCAPES named", mode: "NO_BACKSLASH_ESCAPES", query: `SELECT '\', :x, '\'':y'`, args: []any{sql.Named("x", "v")},
				want: []string{`\`, "v", `\':y`}},
			{name: "ANSI_QUOTES", mode: "%27STRICT_TRANS_TABLES,ANSI_QUOTES%27", query: `SELECT "a\" FROM (SELECT :x AS "a\") t WHERE 'it\'s' <> :y`,
				args: []any{sql.Named("x", "v"), sql.Named("y", "w")}, want: []string{"v"}},
			{name: "ANSI_QUOTES identifiers", mode: "ANSI", query: `SELECT "a\", "x?" FROM (SELECT ? AS "a\", 'it\'s ?' AS "x?") t`, args: []any{"v"},
				want: []string{"v", "it's ?"}},
			{name: "both", mode: "'ANSI_QUOTES,NO_BACKSLASH_ESCAPES'", query: `SELECT "a\", 'C:\' FROM (SELECT :v AS "a\") t`, args: []any{sql.Named("v", "w")},
				want: []string{"w", `C:\`}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				url := b.URL
				if tc.mode != "" {
					url += sep(url) + "sql_mode=" + tc.mode
				}
				db, err := databases.Open(url)
				if err != nil {
					t.Fatal(err)
				}
				defer db.Close()
				for _, via := range []string{"direct", "prepared", "transaction"} {
					got, err := queryVia(db, via, tc.query, tc.args...)
					if tc.err != "" {
						if err == nil || !strings.Contains(err.Error(), tc.err) {
							t.Fatalf("%s: err = %v; want one containing %q", via, err, tc.err)
						}
						continue
					}
					if err != nil {
						t.Fatalf("%s: %v", via, err)
					}
					if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", tc.want) {
						t.Fatalf("%s: row = %q; want %q", via, got, tc.want)
					}
				}
			})
		}
	})
}

// queryVia runs queryRow directly, prepared, or inside a transaction.
func queryVia(db *sql.DB, via, query string, args ...any) ([]string, error) {
	if via != "transaction" {
		return queryRow(db, via == "prepared", query, args...)
	}
	tx, err := db.Begin()
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	rows, err := tx.Query(query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	if !rows.Next() {
		return nil, fmt.Errorf("no row (%v)", rows.Err())
	}
	cols, _ := rows.Columns()
	out := make([]string, len(cols))
	dest := make([]any, len(cols))
	for i := range out {
		dest[i] = &out[i]
	}
	return out, rows.Scan(dest...)
}

// TestSQLModeURL: a sql_mode whose flags cannot be read from the URL is an
// error when the DB is opened, naming the option.
func TestSQLModeURL(t *testing.T) {
	for _, tc := range []struct{ query, err string }{
		{"sql_mode=DEFAULT", `option sql_mode: cannot tell the flags of sql_mode "DEFAULT"`},
		{"sql_mode=CONCAT(@@sql_mode,%27,ANSI_QUOTES%27)", "option sql_mode: cannot tell the flags"},
		{"SQL_MODE=%27ANSI%27&sql_mode=ANSI", "option sql_mode given twice (also as SQL_MODE)"},
		{"sql_mode=%27ANSI+QUOTES%27", `"ANSI QUOTES" is not a mode name`},
	} {
		_, err := databases.Open("mysql://root@127.0.0.1/test?" + tc.query)
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s: err = %v; want one containing %q", tc.query, err, tc.err)
		}
	}
}
