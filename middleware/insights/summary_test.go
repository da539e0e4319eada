package insights_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/go-databases/databases/middleware/insights"
	"github.com/go-databases/databases/sqlscan"
)

func TestSummarize(t *testing.T) {
	tests := []struct {
		d    sqlscan.Dialect
		q    string
		want string
	}{
		{sqlscan.Postgres, "SELECT *  FROM users /* by id */ WHERE id = $1", "SELECT * FROM users WHERE id = ?"},
		{sqlscan.SQLite, "SELECT * FROM users WHERE id = 42", "SELECT * FROM users WHERE id = ?"},
		{sqlscan.SQLite, "SELECT * FROM users\n\tWHERE name = 'ann' -- who\n", "SELECT * FROM users WHERE name = ?"},
		{sqlscan.SQLite, "INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y'), (?, ?)", "INSERT INTO t (a, b) VALUES (...)"},
		{sqlscan.SQLite, "INSERT INTO t (a, b) VALUES (1, 'x')", "INSERT INTO t (a, b) VALUES (...)"},
		{sqlscan.MySQL, "DELETE FROM t WHERE id IN (?, ?, ?)", "DELETE FROM t WHERE id IN (...)"},
		{sqlscan.MySQL, "DELETE FROM t WHERE id in (7)", "DELETE FROM t WHERE id in (...)"},
		{sqlscan.Postgres, "SELECT coalesce(a, 0), substr(b, 1, 2) FROM t", "SELECT coalesce(a, ?), substr(b, ?, ?) FROM t"},
		// DDL's numbers are sizes of types, not values; its strings are masked.
		{sqlscan.Postgres, "CREATE TABLE t (name VARCHAR(40))", "CREATE TABLE t (name VARCHAR(40))"},
		{sqlscan.MySQL, "create table t (p DECIMAL(10, 2) DEFAULT 0, s VARCHAR(8) DEFAULT 'secret')", "create table t (p DECIMAL(10, 2) DEFAULT 0, s VARCHAR(8) DEFAULT ?)"},
		{sqlscan.SQLite, "/* c */ ALTER TABLE t ADD COLUMN c VARCHAR(3)", "ALTER TABLE t ADD COLUMN c VARCHAR(3)"},
		{sqlscan.SQLite, "CREATE TABLE t (x CHAR(2)); SELECT * FROM t LIMIT 5", "CREATE TABLE t (x CHAR(2)); SELECT * FROM t LIMIT ?"},
		{sqlscan.SQLite, "SELECT 1; DROP TABLE t2", "SELECT ?; DROP TABLE t2"},
		{sqlscan.Postgres, "SELECT $$ a 'quoted' body $$, E'it\\'s', x::int FROM t", "SELECT ?, ?, x::int FROM t"},
		{sqlscan.MySQL, `SELECT "double quoted is a string", 0x1F FROM t`, "SELECT ?, ? FROM t"},
		{sqlscan.Postgres, `SELECT "double quoted is a name" FROM t`, `SELECT "double quoted is a name" FROM t`},
		{sqlscan.SQLite, "SELECT :name, @other, ?3 FROM t", "SELECT ?, ?, ? FROM t"},
		{sqlscan.Postgres, "SELECT 'unterminated", "SELECT ?"},
		{sqlscan.Postgres, "UPDATE users SET password = 'hunter2' WHERE id = 1", "UPDATE users SET password = ? WHERE id = ?"},
		{sqlscan.SQLite, "", ""},
		{sqlscan.SQLite, "/* only a comment */", ""},
		{sqlscan.SQLite, "SELECT 1; SELECT 2", "SELECT ?; SELECT ?"},
	}
	for _, tt := range tests {
		if got := insights.Summarize(tt.d, 0, tt.q); got != tt.want {
			t.Errorf("Summarize(%v, %q) = %q; want %q", tt.d, tt.q, got, tt.want)
		}
	}
}

func TestSummarizeCuts(t *testing.T) {
	long := "SELECT " + strings.Repeat("日本語, ", 1000) + "x FROM t"
	got := insights.Summarize(sqlscan.SQLite, 0, long)
	if len(got) > insights.MaxSummaryLen+len("…") || !strings.HasSuffix(got, "…") || !utf8.ValidString(got) {
		t.Fatalf("summary of %d bytes, ends %q, valid %v", len(got), got[len(got)-10:], utf8.ValidString(got))
	}
}

// FuzzSummarize: any text gives a valid UTF-8 summary within the bound,
// without a string or numeric literal of the text in it.
func FuzzSummarize(f *testing.F) {
	for _, s := range []string{"SELECT 1", "INSERT INTO t VALUES (1, 'a'), (2, 'b')", "SELECT $$x$$", "SELECT 'a\xff'", "x IN (?, ?", "(((", "VALUES (1),", "SELECT /* ' */ 'secret'"} {
		f.Add(s, uint8(1))
	}
	f.Fuzz(func(t *testing.T, q string, d uint8) {
		dialect := sqlscan.Dialect(d%3 + 1)
		got := insights.Summarize(dialect, 0, q)
		if !utf8.ValidString(got) || len(got) > insights.MaxSummaryLen+len("…") {
			t.Fatalf("Summarize(%q) = %q: invalid or too long", q, got)
		}
		if insights.Summarize(dialect, 0, got) != got && !strings.HasSuffix(got, "…") && utf8.ValidString(q) {
			// A summary is its own summary, unless it was cut or repaired.
			if again := insights.Summarize(dialect, 0, got); again != got && !strings.Contains(q, "(...)") {
				t.Logf("not idempotent: %q → %q → %q", q, got, again)
			}
		}
		s := sqlscan.New(dialect, 0, q)
		for tok := s.Next(); tok.Kind != sqlscan.EOF; tok = s.Next() {
			if tok.Kind == sqlscan.String && tok.End-tok.Start > 8 && strings.Contains(got, q[tok.Start:tok.End]) {
				t.Fatalf("Summarize(%q) = %q keeps the literal %q", q, got, q[tok.Start:tok.End])
			}
		}
	})
}
