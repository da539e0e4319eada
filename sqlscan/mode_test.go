package sqlscan

import (
	"strings"
	"testing"
)

func TestParseMySQLMode(t *testing.T) {
	for _, tc := range []struct {
		value string
		want  Mode
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
	for m, want := range map[Mode]string{
		0: "", NoBackslashEscapes: "NO_BACKSLASH_ESCAPES", ANSIQuotes: "ANSI_QUOTES",
		NoBackslashEscapes | ANSIQuotes: "NO_BACKSLASH_ESCAPES,ANSI_QUOTES",
	} {
		if got := m.String(); got != want {
			t.Errorf("Mode(%d).String() = %q, want %q", m, got, want)
		}
		if back, err := ParseMySQLMode("'" + want + "'"); err != nil || back != m {
			t.Errorf("ParseMySQLMode(%q) = %v, %v; want %v", want, back, err, m)
		}
	}
}
