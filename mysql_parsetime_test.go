package databases_test

import (
	"strings"
	"testing"
	"time"

	"github.com/go-databases/databases"
	"github.com/go-databases/databases/internal/dbtest"
)

// TestTimestampScansIntoTime: a TIMESTAMP scans into time.Time on every
// backend with the URL as written, parseTime=true being MySQL's default
// here; parseTime=false keeps go-sql-driver's bytes.
func TestTimestampScansIntoTime(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		u := strings.NewReplacer("?parseTime=true&", "?", "&parseTime=true", "", "?parseTime=true", "").Replace(b.URL)
		db, err := databases.Open(u)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		table := createTable(t, db, "parsetime", "id INTEGER PRIMARY KEY, at TIMESTAMP NULL")
		want := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
		if _, err := db.Exec("INSERT INTO "+table+" (id, at) VALUES (1, ?)", want); err != nil {
			t.Fatal(err)
		}
		var ts time.Time
		if err := db.QueryRow("SELECT at FROM " + table).Scan(&ts); err != nil {
			t.Fatalf("%s: %v", databases.RedactURL(u), err)
		}
		if ts.Year() != 2024 || ts.Minute() != 8 || ts.Second() != 9 {
			t.Errorf("got %v", ts)
		}
		if b.Dialect != "mysql" {
			return
		}
		off, err := databases.Open(u + map[bool]string{true: "&", false: "?"}[strings.Contains(u, "?")] + "parseTime=false")
		if err != nil {
			t.Fatal(err)
		}
		defer off.Close()
		var raw []byte
		if err := off.QueryRow("SELECT at FROM " + table).Scan(&raw); err != nil || !strings.HasPrefix(string(raw), "2024-05-06 ") {
			t.Errorf("parseTime=false: %q, %v", raw, err)
		}
	})
}
