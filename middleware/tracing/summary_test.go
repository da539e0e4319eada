package tracing

import (
	"strings"
	"testing"
)

func TestSummarize(t *testing.T) {
	tests := []struct {
		name       string
		flavor     flavor
		query      string
		operation  string
		collection string
	}{
		{"select", flavorSQLite, "SELECT id, name FROM users WHERE id = ?", "SELECT", "users"},
		{"case kept", flavorSQLite, "select * from Users", "select", "Users"},
		{"insert", flavorPostgres, "INSERT INTO orders (id, total) VALUES ($1, $2)", "INSERT", "orders"},
		{"insert column list", flavorSQLite, "INSERT INTO t(a, b) VALUES (?, ?)", "INSERT", "t"},
		{"update", flavorMySQL, "UPDATE accounts SET balance = balance - ? WHERE id = ?", "UPDATE", "accounts"},
		{"update low priority", flavorMySQL, "UPDATE LOW_PRIORITY IGNORE accounts SET x = 1", "UPDATE", "accounts"},
		{"delete", flavorSQLite, "DELETE FROM sessions WHERE expires < ?", "DELETE", "sessions"},
		{"create table", flavorSQLite, "CREATE TABLE IF NOT EXISTS items (id INTEGER)", "CREATE", "items"},
		{"drop table", flavorPostgres, "DROP TABLE IF EXISTS items", "DROP", "items"},
		{"alter table", flavorMySQL, "alter table items add column x int", "alter", "items"},
		{"truncate", flavorPostgres, "TRUNCATE TABLE logs", "TRUNCATE", "logs"},
		{"no table", flavorSQLite, "SELECT 1", "SELECT", ""},
		{"begin", flavorSQLite, "BEGIN IMMEDIATE", "BEGIN", ""},
		{"empty", flavorSQLite, "", "", ""},
		{"only comments", flavorPostgres, "-- nothing\n/* at all */", "", ""},
		{"leading comments", flavorPostgres, "/* app */ -- x\n SELECT * FROM t", "SELECT", "t"},
		{"nested comment pg", flavorPostgres, "/* a /* FROM x */ b */ SELECT * FROM t", "SELECT", "t"},
		{"hash comment mysql", flavorMySQL, "# FROM x\nSELECT * FROM t", "SELECT", "t"},
		{"hash is an operator on pg", flavorPostgres, "SELECT a # b FROM t", "SELECT", "t"},
		{"keyword in string", flavorSQLite, "SELECT 'FROM x' FROM t", "SELECT", "t"},
		{"doubled quote", flavorSQLite, "SELECT 'it''s FROM x' FROM t", "SELECT", "t"},
		{"backslash mysql", flavorMySQL, `SELECT 'it\'s FROM x' FROM t`, "SELECT", "t"},
		{"E string pg", flavorPostgres, `SELECT E'it\'s FROM x' FROM t`, "SELECT", "t"},
		{"dollar quote", flavorPostgres, "SELECT $tag$ FROM x $tag$ FROM t WHERE id = $1", "SELECT", "t"},
		{"empty dollar tag", flavorPostgres, "SELECT $$ FROM x $$ FROM t", "SELECT", "t"},
		{"dollar param", flavorPostgres, "SELECT $1 FROM t", "SELECT", "t"},
		{"quoted table", flavorPostgres, `SELECT * FROM "Order Items"`, "SELECT", "Order Items"},
		{"quoted with escape kept", flavorPostgres, `SELECT * FROM "a""b"`, "SELECT", `"a""b"`},
		{"backtick table", flavorMySQL, "SELECT * FROM `order`", "SELECT", "order"},
		{"bracket table", flavorSQLite, "SELECT * FROM [order]", "SELECT", "order"},
		{"qualified", flavorPostgres, "SELECT * FROM public.users", "SELECT", "public.users"},
		{"qualified quoted", flavorPostgres, `SELECT * FROM "public"."users"`, "SELECT", `"public"."users"`},
		{"only", flavorPostgres, "SELECT * FROM ONLY parent", "SELECT", "parent"},
		{"subquery", flavorSQLite, "SELECT * FROM (SELECT * FROM inner_t) AS s", "SELECT", "inner_t"},
		{"top level wins", flavorPostgres, "SELECT EXTRACT(YEAR FROM d) FROM t", "SELECT", "t"},
		{"nested only", flavorPostgres, "SELECT EXTRACT(YEAR FROM d)", "SELECT", "d"},
		{"function in from", flavorPostgres, "SELECT * FROM generate_series(1, 3)", "SELECT", ""},
		{"lateral", flavorPostgres, "SELECT * FROM LATERAL (SELECT 1) x", "SELECT", ""},
		{"named parameter", flavorSQLite, "SELECT * FROM t WHERE a = :from", "SELECT", "t"},
		{"parameter before table", flavorSQLite, "SELECT :from, @into FROM t", "SELECT", "t"},
		{"with", flavorPostgres, "WITH r AS (SELECT * FROM a) SELECT * FROM r", "WITH", "r"},
		{"insert select", flavorSQLite, "INSERT INTO dst SELECT * FROM src", "INSERT", "dst"},
		{"upsert", flavorPostgres, "INSERT INTO t (k) VALUES ($1) ON CONFLICT (k) DO UPDATE SET v = 1", "INSERT", "t"},
		{"for update", flavorMySQL, "SELECT * FROM t FOR UPDATE", "SELECT", "t"},
		{"select for update no table", flavorPostgres, "SELECT 1 FOR UPDATE", "SELECT", ""},
		{"parenthesized select", flavorSQLite, "(SELECT a FROM t) UNION (SELECT a FROM u)", "SELECT", "t"},
		{"unicode", flavorSQLite, "SELECT * FROM 日本", "SELECT", "日本"},
		{"unterminated string", flavorSQLite, "SELECT 'FROM t", "SELECT", ""},
		{"unterminated comment", flavorPostgres, "SELECT /* FROM t", "SELECT", ""},
		{"unterminated dollar", flavorPostgres, "SELECT $a$ FROM t", "SELECT", ""},
		{"mysql double quote string", flavorMySQL, `SELECT "x\" FROM y" FROM t`, "SELECT", "t"},
		{"show", flavorMySQL, "SHOW TABLES", "SHOW", ""},
		{"table keyword at end", flavorSQLite, "SELECT * FROM", "SELECT", ""},
		{"pragma", flavorSQLite, "PRAGMA foreign_keys = ON", "PRAGMA", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := summarize(tt.query, tt.flavor)
			if got.operation != tt.operation || got.collection != tt.collection {
				t.Errorf("summarize(%q) = {%q, %q}, want {%q, %q}", tt.query, got.operation, got.collection, tt.operation, tt.collection)
			}
		})
	}
}

func TestEndsInLineComment(t *testing.T) {
	tests := []struct {
		flavor flavor
		query  string
		want   bool
	}{
		{flavorSQLite, "SELECT 1", false},
		{flavorSQLite, "SELECT 1 -- why", true},
		{flavorSQLite, "SELECT 1 -- why\n", false},
		{flavorSQLite, "SELECT '--' AS x", false},
		{flavorMySQL, "SELECT 1 # note", true},
		{flavorPostgres, "SELECT 1 # 2", false},
		{flavorPostgres, "SELECT 1 /* -- */", false},
	}
	for _, tt := range tests {
		if got := endsInLineComment(tt.query, tt.flavor); got != tt.want {
			t.Errorf("endsInLineComment(%q) = %v, want %v", tt.query, got, tt.want)
		}
	}
}

func TestSummarizeAllocatesNothing(t *testing.T) {
	q := "/* app */ SELECT id, 'x''y' FROM \"public\".\"users\" WHERE id = $1"
	if n := testing.AllocsPerRun(100, func() { summarize(q, flavorPostgres) }); n != 0 {
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
		fv := flavor(fl % 3)
		s := summarize(q, fv)
		if s.operation != "" && !strings.Contains(q, s.operation) {
			t.Fatalf("operation %q is not part of %q", s.operation, q)
		}
		if s.collection != "" && !strings.Contains(q, s.collection) {
			t.Fatalf("collection %q is not part of %q", s.collection, q)
		}
		for i := 0; i < len(s.operation); i++ {
			if !isWordByte(s.operation[i]) {
				t.Fatalf("operation %q of %q is not a word", s.operation, q)
			}
		}
		if s.operation == "" && s.collection != "" {
			t.Fatalf("%q: a table without an operation: %q", q, s.collection)
		}
		if again := summarize(q, fv); again != s {
			t.Fatalf("summarize(%q) is not deterministic", q)
		}
		endsInLineComment(q, fv)
	})
}
