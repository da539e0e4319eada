package tracing

import (
	"strings"
	"testing"

	"github.com/go-databases/databases/sqlscan"
)

func TestSummarize(t *testing.T) {
	tests := []struct {
		name       string
		dialect    sqlscan.Dialect
		query      string
		operation  string
		collection string
	}{
		{"select", sqlscan.SQLite, "SELECT id, name FROM users WHERE id = ?", "SELECT", "users"},
		{"case kept", sqlscan.SQLite, "select * from Users", "select", "Users"},
		{"insert", sqlscan.Postgres, "INSERT INTO orders (id, total) VALUES ($1, $2)", "INSERT", "orders"},
		{"insert column list", sqlscan.SQLite, "INSERT INTO t(a, b) VALUES (?, ?)", "INSERT", "t"},
		{"update", sqlscan.MySQL, "UPDATE accounts SET balance = balance - ? WHERE id = ?", "UPDATE", "accounts"},
		{"update low priority", sqlscan.MySQL, "UPDATE LOW_PRIORITY IGNORE accounts SET x = 1", "UPDATE", "accounts"},
		{"delete", sqlscan.SQLite, "DELETE FROM sessions WHERE expires < ?", "DELETE", "sessions"},
		{"create table", sqlscan.SQLite, "CREATE TABLE IF NOT EXISTS items (id INTEGER)", "CREATE", "items"},
		{"drop table", sqlscan.Postgres, "DROP TABLE IF EXISTS items", "DROP", "items"},
		{"alter table", sqlscan.MySQL, "alter table items add column x int", "alter", "items"},
		{"truncate", sqlscan.Postgres, "TRUNCATE TABLE logs", "TRUNCATE", "logs"},
		{"no table", sqlscan.SQLite, "SELECT 1", "SELECT", ""},
		{"begin", sqlscan.SQLite, "BEGIN IMMEDIATE", "BEGIN", ""},
		{"empty", sqlscan.SQLite, "", "", ""},
		{"only comments", sqlscan.Postgres, "-- nothing\n/* at all */", "", ""},
		{"leading comments", sqlscan.Postgres, "/* app */ -- x\n SELECT * FROM t", "SELECT", "t"},
		{"nested comment pg", sqlscan.Postgres, "/* a /* FROM x */ b */ SELECT * FROM t", "SELECT", "t"},
		{"hash comment mysql", sqlscan.MySQL, "# FROM x\nSELECT * FROM t", "SELECT", "t"},
		{"hash is an operator on pg", sqlscan.Postgres, "SELECT a # b FROM t", "SELECT", "t"},
		{"keyword in string", sqlscan.SQLite, "SELECT 'FROM x' FROM t", "SELECT", "t"},
		{"doubled quote", sqlscan.SQLite, "SELECT 'it''s FROM x' FROM t", "SELECT", "t"},
		{"backslash mysql", sqlscan.MySQL, `SELECT 'it\'s FROM x' FROM t`, "SELECT", "t"},
		{"E string pg", sqlscan.Postgres, `SELECT E'it\'s FROM x' FROM t`, "SELECT", "t"},
		{"dollar quote", sqlscan.Postgres, "SELECT $tag$ FROM x $tag$ FROM t WHERE id = $1", "SELECT", "t"},
		{"empty dollar tag", sqlscan.Postgres, "SELECT $$ FROM x $$ FROM t", "SELECT", "t"},
		{"dollar param", sqlscan.Postgres, "SELECT $1 FROM t", "SELECT", "t"},
		{"quoted table", sqlscan.Postgres, `SELECT * FROM "Order Items"`, "SELECT", "Order Items"},
		{"quoted with escape kept", sqlscan.Postgres, `SELECT * FROM "a""b"`, "SELECT", `"a""b"`},
		{"backtick table", sqlscan.MySQL, "SELECT * FROM `order`", "SELECT", "order"},
		{"bracket table", sqlscan.SQLite, "SELECT * FROM [order]", "SELECT", "order"},
		{"qualified", sqlscan.Postgres, "SELECT * FROM public.users", "SELECT", "public.users"},
		{"qualified quoted", sqlscan.Postgres, `SELECT * FROM "public"."users"`, "SELECT", `"public"."users"`},
		{"only", sqlscan.Postgres, "SELECT * FROM ONLY parent", "SELECT", "parent"},
		{"subquery", sqlscan.SQLite, "SELECT * FROM (SELECT * FROM inner_t) AS s", "SELECT", "inner_t"},
		{"top level wins", sqlscan.Postgres, "SELECT EXTRACT(YEAR FROM d) FROM t", "SELECT", "t"},
		{"nested only", sqlscan.Postgres, "SELECT EXTRACT(YEAR FROM d)", "SELECT", "d"},
		{"function in from", sqlscan.Postgres, "SELECT * FROM generate_series(1, 3)", "SELECT", ""},
		{"lateral", sqlscan.Postgres, "SELECT * FROM LATERAL (SELECT 1) x", "SELECT", ""},
		{"named parameter", sqlscan.SQLite, "SELECT * FROM t WHERE a = :from", "SELECT", "t"},
		{"parameter before table", sqlscan.SQLite, "SELECT :from, @into FROM t", "SELECT", "t"},
		{"with", sqlscan.Postgres, "WITH r AS (SELECT * FROM a) SELECT * FROM r", "WITH", "r"},
		{"insert select", sqlscan.SQLite, "INSERT INTO dst SELECT * FROM src", "INSERT", "dst"},
		{"upsert", sqlscan.Postgres, "INSERT INTO t (k) VALUES ($1) ON CONFLICT (k) DO UPDATE SET v = 1", "INSERT", "t"},
		{"for update", sqlscan.MySQL, "SELECT * FROM t FOR UPDATE", "SELECT", "t"},
		{"select for update no table", sqlscan.Postgres, "SELECT 1 FOR UPDATE", "SELECT", ""},
		{"parenthesized select", sqlscan.SQLite, "(SELECT a FROM t) UNION (SELECT a FROM u)", "SELECT", "t"},
		{"unicode", sqlscan.SQLite, "SELECT * FROM 日本", "SELECT", "日本"},
		{"unterminated string", sqlscan.SQLite, "SELECT 'FROM t", "SELECT", ""},
		{"unterminated comment", sqlscan.Postgres, "SELECT /* FROM t", "SELECT", ""},
		{"unterminated dollar", sqlscan.Postgres, "SELECT $a$ FROM t", "SELECT", ""},
		{"mysql double quote string", sqlscan.MySQL, `SELECT "x\" FROM y" FROM t`, "SELECT", "t"},
		{"show", sqlscan.MySQL, "SHOW TABLES", "SHOW", ""},
		{"table keyword at end", sqlscan.SQLite, "SELECT * FROM", "SELECT", ""},
		{"pragma", sqlscan.SQLite, "PRAGMA foreign_keys = ON", "PRAGMA", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := summarize(tt.query, tt.dialect, 0)
			if got.operation != tt.operation || got.collection != tt.collection {
				t.Errorf("summarize(%q) = {%q, %q}, want {%q, %q}", tt.query, got.operation, got.collection, tt.operation, tt.collection)
			}
		})
	}
}

func TestCommentable(t *testing.T) {
	tests := []struct {
		dialect sqlscan.Dialect
		query   string
		want    bool
	}{
		{sqlscan.SQLite, "SELECT 1", true},
		{sqlscan.SQLite, "SELECT '--' AS x, '/*' AS y", true},
		{sqlscan.Postgres, "SELECT 1 # 2", true},
		{sqlscan.SQLite, "SELECT 1 -- why", false},
		{sqlscan.SQLite, "SELECT 1 -- why\n", false},
		{sqlscan.SQLite, "/* app */ SELECT 1", false},
		{sqlscan.MySQL, "SELECT 1 # note", false},
		{sqlscan.MySQL, "SELECT 1 /* unterminated", false},
		{sqlscan.MySQL, "/*!40000 SELECT 1 */", false},
		{sqlscan.Postgres, "SELECT 1 /* -- */", false},
		{sqlscan.SQLite, "SELECT 1 /* open", false},
		{sqlscan.Postgres, "SELECT 'open", false},
		{sqlscan.MySQL, `SELECT "open`, false},
		{sqlscan.Postgres, "SELECT $a$ open", false},
		{sqlscan.SQLite, "SELECT [open", false},
	}
	for _, tt := range tests {
		if got := commentable(tt.query, tt.dialect, 0); got != tt.want {
			t.Errorf("%s commentable(%q) = %v, want %v", tt.dialect, tt.query, got, tt.want)
		}
	}
}

func TestSummarizeAllocatesNothing(t *testing.T) {
	q := "/* app */ SELECT id, 'x''y' FROM \"public\".\"users\" WHERE id = $1"
	if n := testing.AllocsPerRun(100, func() { summarize(q, sqlscan.Postgres, 0) }); n != 0 {
		t.Errorf("summarize allocates %v times", n)
	}
}

func FuzzSummarize(f *testing.F) {
	for _, q := range []string{
		"SELECT * FROM users WHERE id = ?",
		"INSERT INTO t (a) VALUES ($1) ON CONFLICT DO NOTHING",
		"UPDATE `t` SET a = 'x\\'y' # c",
		"SELECT $a$ x $a$, E'\\'' FROM \"q\".\"r\" -- end",
		"/* /* nested */ */ DELETE FROM [x y]",
		"CREATE TABLE IF NOT EXISTS t (id int)",
	} {
		f.Add(q, uint8(0))
	}
	f.Fuzz(func(t *testing.T, q string, fl uint8) {
		fv := sqlscan.Dialect(fl%3 + 1)
		s := summarize(q, fv, 0)
		if s.operation != "" && !strings.Contains(q, s.operation) {
			t.Fatalf("operation %q is not part of %q", s.operation, q)
		}
		if s.collection != "" && !strings.Contains(q, s.collection) {
			t.Fatalf("collection %q is not part of %q", s.collection, q)
		}
		if strings.ContainsAny(s.operation, " \t\n'\"`()") {
			t.Fatalf("operation %q of %q is not a word", s.operation, q)
		}
		if s.operation == "" && s.collection != "" {
			t.Fatalf("%q: a table without an operation: %q", q, s.collection)
		}
		if again := summarize(q, fv, 0); again != s {
			t.Fatalf("summarize(%q) is not deterministic", q)
		}
		commentable(q, fv, 0)
	})
}
