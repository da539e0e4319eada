package rewrite

import (
	"strings"
	"testing"
)

func TestParseMySQLMode(t *testing.T) {
	for _, tc := range []struct {
		value string
		want  MySQLMode
		err   string
	}{
		{value: "", want: 0},
		{value: "''", want: 0},
		{value: "STRICT_TRANS_TABLES", want: 0},
		{value: "NO_BACKSLASH_ESCAPES", want: NoBackslashEscapes},
		{value: "'no_backslash_escapes'", want: NoBackslashEscapes},
		{value: `"ANSI_QUOTES"`, want: ANSIQuotes},
		{value: " 'STRICT_TRANS_TABLES, ANSI_QUOTES ,NO_BACKSLASH_ESCAPES' ", want: ANSIQuotes | NoBackslashEscapes},
		{value: "ANSI", want: ANSIQuotes},
		{value: "'TRADITIONAL,POSTGRESQL'", want: ANSIQuotes},
		{value: "'DB2'", want: ANSIQuotes},
		{value: "'MAXDB'", want: ANSIQuotes},
		{value: "'MSSQL'", want: ANSIQuotes},
		{value: "'ORACLE'", want: ANSIQuotes},
		{value: "'A,,B'", want: 0},
		{value: "DEFAULT", err: `cannot tell the flags of sql_mode "DEFAULT"`},
		{value: "default", err: `cannot tell the flags of sql_mode "default"`},
		{value: "4", err: "cannot tell the flags"},
		{value: "@@GLOBAL.sql_mode", err: "cannot tell the flags"},
		{value: "ANSI,NO_BACKSLASH_ESCAPES", err: "give the mode names, quoted"},
		{value: "CONCAT(@@sql_mode)", err: `"CONCAT(@@sql_mode)" is not a mode name`},
		{value: "'ANSI' 'X'", err: "is not a mode name"},
		{value: "'ANSI", err: "cannot tell the flags"},
		{value: "'" + strings.Repeat("X", 100) + " Y'", err: "…"},
	} {
		got, err := ParseMySQLMode(tc.value)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseMySQLMode(%q) = %v, %v; want an error containing %q", tc.value, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseMySQLMode(%q) = %v, %v; want %v", tc.value, got, err, tc.want)
		}
	}
}

func TestMySQLModeString(t *testing.T) {
	for m, want := range map[MySQLMode]string{
		0: "", NoBackslashEscapes: "NO_BACKSLASH_ESCAPES", ANSIQuotes: "ANSI_QUOTES",
		NoBackslashEscapes | ANSIQuotes: "NO_BACKSLASH_ESCAPES,ANSI_QUOTES",
	} {
		if got := m.String(); got != want {
			t.Errorf("MySQLMode(%d).String() = %q, want %q", m, got, want)
		}
		if back, err := ParseMySQLMode("'" + want + "'"); err != nil || back != m {
			t.Errorf("ParseMySQLMode(%q) = %v, %v; want %v", want, back, err, m)
		}
	}
}

// TestMySQLModeKept: a Plan and a Cache keep the sql_mode flags, so that the
// errors that lex the query again find the placeholder at fault.
func TestMySQLModeKept(t *testing.T) {
	const q = `SELECT 'C:\', ?, "D:\", ?`
	if _, err := Parse(MySQL, q); err == nil {
		t.Fatal("Parse under the default sql_mode accepted a string that ends in a backslash")
	}
	c := NewMySQLCache(NoBackslashEscapes, 0)
	for _, get := range []func() (*Plan, error){
		func() (*Plan, error) { return ParseMySQL(NoBackslashEscapes, q) },
		func() (*Plan, error) { return c.Plan(q) },
		func() (*Plan, error) { return c.Plan(q) }, // a hit
	} {
		p, err := get()
		if err != nil {
			t.Fatal(err)
		}
		if p.Query() != q || p.NumInput() != 2 {
			t.Fatalf("Query, NumInput = %q, %d; want the query as written, 2", p.Query(), p.NumInput())
		}
		_, err = p.Bind(pos(1))
		checkError(t, err, "query has 2 positional parameters, got 1 argument", 24)
		_, err = p.Bind(pos(1, 2, 3))
		checkError(t, err, "query has 2 positional parameters, got 3 arguments", 24)
		_, err = p.Bind(named("a", 1))
		checkError(t, err, `query uses positional ? parameters, got named argument "a"`, 14)
	}
	p, err := ParseMySQL(ANSIQuotes, `SELECT "a\" FROM t WHERE x = :x`)
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Bind(pos(1))
	checkError(t, err, "query uses named parameters, got positional argument 1", 29)
}
