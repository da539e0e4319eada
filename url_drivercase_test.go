package databases

import (
	"database/sql"
	"path/filepath"
	"testing"

	"modernc.org/sqlite"
)

// The +driver part of a scheme names a database/sql driver, and those names
// are case-sensitive: sqlite+MyLite must reach a driver registered as
// "MyLite".
func init() { sql.Register("DatabasesTestMyLite", &sqlite.Driver{}) }

func TestSchemeDriverNameKeepsCase(t *testing.T) {
	db, err := sql.Open("databases", "sqlite+DatabasesTestMyLite:///"+filepath.Join(t.TempDir(), "x.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow("SELECT 1").Scan(&n); err != nil || n != 1 {
		t.Fatalf("SELECT 1 through a driver registered as DatabasesTestMyLite: n=%d, err=%v", n, err)
	}
}
