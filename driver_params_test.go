package databases_test

import (
	"database/sql"
	"strings"
	"testing"

	"github.com/go-databases/databases"
	"github.com/go-databases/databases/internal/dbtest"
)

// TestDriverParamTypo: a parameter of the real driver written one edit off
// (sslmod, parseTim) fails at Open, NewConnector and sql.Open, with an error naming the parameter, where pgx
// and go-sql-driver would send it to the server; the parameters as written
// and the server's own settings (run-time parameters, system variables)
// still reach the server and take effect.
func TestDriverParamTypo(t *testing.T) {
	type setting struct{ name, value string }
	cases := map[string]struct {
		typo, want string    // the misspelt pair, and what the error says
		settings   []setting // driver parameters and server settings that must pass
		query      string    // shows the settings in effect
		shown      string
	}{
		"sqlite": {
			typo: "_pargma=busy_timeout(1234)", want: `unknown option "_pargma"; did you mean _pragma?`,
			settings: []setting{{"_pragma", "busy_timeout(1234)"}},
			query:    "SELECT CAST(timeout AS TEXT) FROM pragma_busy_timeout", shown: "1234",
		},
		"postgres": {
			typo: "sslmod=disable", want: `unknown option "sslmod"; did you mean sslmode?`,
			settings: []setting{{"sslmode", "disable"}, {"application_name", "rooms_typo"}, {"search_path", "public"},
				{"timezone", "Asia/Tokyo"}, {"statement_cache_capacity", "16"}},
			query: "SELECT current_setting('application_name') || ' ' || current_setting('TimeZone') || ' ' || current_setting('search_path')",
			shown: "rooms_typo Asia/Tokyo public",
		},
		"mysql": {
			typo: "parseTim=true", want: `unknown option "parseTim"; did you mean parseTime?`,
			settings: []setting{{"parseTime", "true"}, {"time_zone", "'+02:00'"}, {"wait_timeout", "1234"},
				{"sql_mode", "'TRADITIONAL'"}, {"readTimeout", "30s"}},
			query: "SELECT CONCAT(@@session.time_zone, ' ', @@session.wait_timeout, ' ', @@session.sql_mode LIKE '%STRICT_ALL_TABLES%')",
			shown: "+02:00 1234 1",
		},
	}
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		tc := cases[b.Dialect]
		sep := "?"
		if strings.Contains(b.URL, "?") {
			sep = "&"
		}
		typo := b.URL + sep + tc.typo
		check := func(door string, err error) {
			t.Helper()
			if err == nil {
				t.Errorf("%s: no error for %s", door, tc.typo)
			} else if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: %v\nwant %q", door, err, tc.want)
			}
		}
		_, err := databases.Open(typo)
		check("Open", err)
		_, err = databases.NewConnector(typo)
		check("NewConnector", err)
		_, err = sql.Open("databases", typo) // the driver is a DriverContext
		check("sql.Open", err)

		u := b.URL
		for _, s := range tc.settings {
			if u, err = databases.URLWithOption(u, s.name, s.value); err != nil {
				t.Fatalf("URLWithOption %s: %v", s.name, err)
			}
		}
		db, err := databases.Open(u)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var got string
		if err := db.QueryRow(tc.query).Scan(&got); err != nil {
			t.Fatalf("%s: %v", databases.RedactURL(u), err)
		}
		if got != tc.shown {
			t.Errorf("%s: settings in effect %q, want %q", databases.RedactURL(u), got, tc.shown)
		}
	})
}

// TestDriverParamTypoServerSettings walks the settings of the server the
// test runs against (pg_settings, SHOW VARIABLES): none is taken for a
// misspelt parameter of the real driver, as the server spells it or in
// lower case (MySQL's names are lower case; PostgreSQL has TimeZone).
func TestDriverParamTypoServerSettings(t *testing.T) {
	queries := map[string]string{
		"postgres": "SELECT name FROM pg_settings",
		"mysql":    "SELECT LOWER(VARIABLE_NAME) FROM information_schema.SESSION_VARIABLES",
	}
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		if queries[b.Dialect] == "" {
			t.Skip("SQLite has no server settings: modernc's own options are all it reads")
		}
		db, err := databases.Open(b.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		rows, err := db.Query(queries[b.Dialect])
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for rows.Next() {
			var name string
			if err := rows.Scan(&name); err != nil {
				t.Fatal(err)
			}
			names = append(names, name, strings.ToLower(name))
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if len(names) < 200 {
			t.Fatalf("the server lists %d settings; want its whole list", len(names)/2)
		}
		sep := "?"
		if strings.Contains(b.URL, "?") {
			sep = "&"
		}
		for _, name := range names {
			if _, err := databases.NewConnector(b.URL + sep + name + "=1"); err != nil && strings.Contains(err.Error(), "did you mean") {
				t.Errorf("server setting %s: %v", name, err)
			}
		}
	})
}
