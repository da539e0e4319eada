package dsn

import (
	"testing"

	"github.com/jackc/pgx/v5"
)

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
		cfg, err := Parse(tt.url)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.DSN != tt.dsn {
			t.Errorf("%s: dsn %s; want %s", tt.url, cfg.DSN, tt.dsn)
		}
		pc, err := pgx.ParseConfig(cfg.DSN)
		if err != nil {
			t.Fatal(err)
		}
		if pc.User != tt.user || pc.Password != tt.password {
			t.Errorf("%s: pgx reads user %q password %q; want %q %q", tt.url, pc.User, pc.Password, tt.user, tt.password)
		}
	}
}
