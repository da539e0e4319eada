package databases

import (
	"database/sql"
	"testing"

	"github.com/jackc/pgx/v5"
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

// TestPostgresDSNUserInfo checks that pgx is given the user info this
// package parsed: pgx, like libpq, ends it at the first '@', this package
// at the last; a URL without a path gets one, since pgx also reads an '@'
// in the query as the end of the user info.
func TestPostgresDSNUserInfo(t *testing.T) {
	tests := []struct{ url, dsn, user, password string }{
		{"postgres://root:p@ss@h/db", "postgres://root:p%40ss@h/db", "root", "p@ss"},
		{"postgres://a%40b:c%3Ad@h/db", "postgres://a%40b:c%3Ad@h/db", "a@b", "c:d"},
		{"postgres://u:@h/db", "postgres://u:@h/db", "u", ""},
		{"postgres://u:p%20w@h?sslmode=disable", "postgres://u:p%20w@h/?sslmode=disable", "u", "p w"},
	}
	for _, tt := range tests {
		cfg, err := parseURL(tt.url)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.dsn != tt.dsn {
			t.Errorf("%s: dsn %s; want %s", tt.url, cfg.dsn, tt.dsn)
		}
		pc, err := pgx.ParseConfig(cfg.dsn)
		if err != nil {
			t.Fatal(err)
		}
		if pc.User != tt.user || pc.Password != tt.password {
			t.Errorf("%s: pgx reads user %q password %q; want %q %q", tt.url, pc.User, pc.Password, tt.user, tt.password)
		}
	}
}
