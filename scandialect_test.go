package databases

import (
	"strings"
	"testing"

	"github.com/go-databases/databases/sqlscan"
)

// TestScanDialect: every scheme names its dialect, and a MySQL URL's
// sql_mode gives the lexing flags, as the driver reads them.
func TestScanDialect(t *testing.T) {
	tests := []struct {
		url  string
		d    sqlscan.Dialect
		mode sqlscan.Mode
		err  string
	}{
		{url: "sqlite:///:memory:", d: sqlscan.SQLite},
		{url: "sqlite3:///a.db", d: sqlscan.SQLite},
		{url: "postgres://h/db", d: sqlscan.Postgres},
		{url: "POSTGRESQL://h/db", d: sqlscan.Postgres},
		{url: "postgres+pq://h/db", d: sqlscan.Postgres},
		{url: "mysql://root@127.0.0.1/db", d: sqlscan.MySQL},
		{url: "mariadb://root@127.0.0.1/d", d: sqlscan.MySQL},
		{url: "mysql://h/db?sql_mode=NO_BACKSLASH_ESCAPES", d: sqlscan.MySQL, mode: sqlscan.NoBackslashEscapes},
		{url: "mysql://h/db?SQL_MODE=%27ANSI,NO_BACKSLASH_ESCAPES%27", d: sqlscan.MySQL, mode: sqlscan.ANSIQuotes | sqlscan.NoBackslashEscapes},
		{url: "postgres://h/db?sql_mode=ANSI", d: sqlscan.Postgres}, // a server setting of PostgreSQL, not ours
		{url: "nonsense", err: "missing scheme"},
		{url: "oracle://h/db", err: `unknown scheme "oracle"`},
		{url: "mysql://u:secret@h/db?sql_mode=DEFAULT", err: `option sql_mode: cannot tell the flags of sql_mode "DEFAULT"`},
	}
	for _, tt := range tests {
		d, mode, err := ScanDialect(tt.url)
		switch {
		case tt.err != "":
			if err == nil || !strings.Contains(err.Error(), tt.err) || strings.Contains(err.Error(), "secret") {
				t.Errorf("ScanDialect(%q) error = %v, want one containing %q without the password", tt.url, err, tt.err)
			}
		case err != nil:
			t.Errorf("ScanDialect(%q): %v", tt.url, err)
		case d != tt.d || mode != tt.mode:
			t.Errorf("ScanDialect(%q) = %s, %q; want %s, %q", tt.url, d, mode, tt.d, tt.mode)
		}
	}
}
