package sanitize

import (
	"strings"
	"testing"

	"github.com/go-databases/databases/sqlscan"
)

func TestQuery(t *testing.T) {
	const all = 0
	tests := []struct {
		d        sqlscan.Dialect // 0: every dialect
		in, want string
	}{
		{all, "SELECT 1", "SELECT ?"},
		{all, "SELECT * FROM t WHERE 'hunter2' = 'hunter2'", "SELECT * FROM t WHERE ? = ?"},
		{all, "UPDATE users SET password = 'it''s secret' WHERE id = 42", "UPDATE users SET password = ? WHERE id = ?"},
		{all, "SELECT 1.5, .5, 1.5e3, 1E-3, 0x1F, -7", "SELECT ?, ?, ?, ?, ?, -?"},
		{all, "SELECT t1.c2 FROM t1", "SELECT t1.c2 FROM t1"},
		{all, "SELECT a FROM t WHERE b = 'x' AND c = ?", "SELECT a FROM t WHERE b = 'x' AND c = ?"},
		{all, "SELECT x'DEADBEEF'", "SELECT ?"},
		{all, "SELECT a /* 'kept' 1 */ FROM t -- 2\n", "SELECT a /* 'kept' 1 */ FROM t -- 2\n"},
		{all, "SELECT 'open", "SELECT ?"},
		{all, "", ""},
		{all, "SELECT 'café' AS 日本", "SELECT ? AS 日本"},
		{sqlscan.Postgres, `SELECT E'it\'s', U&'d\0061t', B'101', X'1F', N'n', $$dollar$$, $t$tag$t$`, "SELECT ?, ?, ?, ?, ?, ?, ?"},
		{sqlscan.Postgres, `SELECT "quoted ident", U&"x" FROM a$1`, `SELECT "quoted ident", U&"x" FROM a$1`},
		{sqlscan.Postgres, "SELECT $1, 'x'", "SELECT $1, 'x'"},
		{sqlscan.Postgres, "SELECT '1'::int, interval '1 day'", "SELECT ?::int, interval ?"},
		{sqlscan.MySQL, `SELECT 'it\'s', "dq\"", X'1F', b'101', 0xFF, 1abc`, "SELECT ?, ?, ?, ?, ?, 1abc"},
		{sqlscan.MySQL, "SELECT `tick` FROM t WHERE @v = 3", "SELECT `tick` FROM t WHERE @v = ?"},
		{sqlscan.MySQL, "/*!40000 SELECT 'code' */", "/*!40000 SELECT ? */"},
		{sqlscan.SQLite, `SELECT "ident", [br], x'00' FROM t`, `SELECT "ident", [br], ? FROM t`},
		{sqlscan.SQLite, "SELECT 'a' WHERE x = :name", "SELECT 'a' WHERE x = :name"},
		{sqlscan.SQLite, "SELECT 'a' WHERE x = ?1", "SELECT 'a' WHERE x = ?1"},
	}
	for _, tt := range tests {
		for _, d := range []sqlscan.Dialect{sqlscan.SQLite, sqlscan.Postgres, sqlscan.MySQL} {
			if tt.d != all && tt.d != d {
				continue
			}
			if got := Query(d, 0, tt.in); got != tt.want {
				t.Errorf("%s Query(%q) =\n %q\nwant\n %q", d, tt.in, got, tt.want)
			}
		}
	}
}

func TestQueryAllocatesOnlyWhenItReplaces(t *testing.T) {
	q := "SELECT id, name FROM users WHERE id = $1"
	if n := testing.AllocsPerRun(100, func() { Query(sqlscan.Postgres, 0, q) }); n != 0 {
		t.Errorf("Query of a parameterised query allocates %v times", n)
	}
	q = "SELECT id FROM users WHERE name = 'x'"
	if n := testing.AllocsPerRun(100, func() { Query(sqlscan.Postgres, 0, q) }); n > 2 {
		t.Errorf("Query allocates %v times, want at most 2", n)
	}
}

// FuzzQuery checks that Query replaces exactly the literal tokens sqlscan
// reads, each by one '?', keeps every other byte, and leaves a query with a
// placeholder or without a literal as it is.
func FuzzQuery(f *testing.F) {
	for _, q := range []string{
		"SELECT * FROM t WHERE 'hunter2' = 'hunter2'",
		"SELECT $tag$ x $tag$, E'\\'', 1.5e3 FROM t1",
		"SELECT 'a' -- 'b'\n, \"c\", `d`, [e], ? FROM x",
	} {
		f.Add(q, uint8(0))
	}
	f.Fuzz(func(t *testing.T, q string, dv uint8) {
		d := sqlscan.Dialect(dv%3 + 1)
		got := Query(d, 0, q)
		var kept strings.Builder
		var literals []string
		params := false
		s := sqlscan.New(d, 0, q)
		last := 0
		for tok := s.Next(); tok.Kind != sqlscan.EOF; tok = s.Next() {
			switch tok.Kind {
			case sqlscan.Param:
				params = true
			case sqlscan.String, sqlscan.Number:
				kept.WriteString(q[last:tok.Start])
				kept.WriteByte('?')
				last = tok.End
				literals = append(literals, q[tok.Start:tok.End])
			}
		}
		kept.WriteString(q[last:])
		if params || len(literals) == 0 {
			if got != q {
				t.Fatalf("Query(%q) = %q; want it unchanged", q, got)
			}
			return
		}
		if got != kept.String() {
			t.Fatalf("Query(%q) = %q; want %q", q, got, kept.String())
		}
	})
}

func BenchmarkQuery(b *testing.B) {
	queries := map[string]string{
		"parameterised": "SELECT id, name, email FROM users WHERE id = $1 AND deleted_at IS NULL",
		"literals":      "SELECT id, name, email FROM users WHERE name = 'ann' AND age > 30 AND deleted_at IS NULL",
		"no literals":   "SELECT id, name, email FROM users WHERE deleted_at IS NULL ORDER BY id",
		"200 bytes":     "INSERT INTO orders (id, customer, total, note, created_at) VALUES (1042, 'Ada Lovelace', 199.95, 'gift wrap, leave at the door', '2024-05-01 10:00:00') ON CONFLICT (id) DO NOTHING",
	}
	for name, q := range queries {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(q)))
			b.ReportAllocs()
			for b.Loop() {
				Query(sqlscan.Postgres, 0, q)
			}
		})
	}
}
