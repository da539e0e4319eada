package databases

import (
	"database/sql"
	"testing"
)

// TestSQLiteDefaults checks the PRAGMAs a SQLite file gets and that the URL
// overrides them.
func TestSQLiteDefaults(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		query    string
		busy, fk int
		journal  string
	}{
		{"", 5000, 1, "wal"},
		{"?_pragma=busy_timeout(250)&_pragma=foreign_keys(0)&_pragma=journal_mode(DELETE)", 250, 0, "delete"},
	}
	for i, tt := range tests {
		db, err := sql.Open("databases", "sqlite:///"+dir+"/"+string(rune('a'+i))+".db"+tt.query)
		if err != nil {
			t.Fatal(err)
		}
		var busy, fk int
		var journal string
		if err := db.QueryRow("PRAGMA busy_timeout").Scan(&busy); err != nil {
			t.Fatal(err)
		}
		db.QueryRow("PRAGMA foreign_keys").Scan(&fk)
		db.QueryRow("PRAGMA journal_mode").Scan(&journal)
		db.Close()
		if busy != tt.busy || fk != tt.fk || journal != tt.journal {
			t.Errorf("%q: busy_timeout %d, foreign_keys %d, journal_mode %s; want %d, %d, %s", tt.query, busy, fk, journal, tt.busy, tt.fk, tt.journal)
		}
	}
}
