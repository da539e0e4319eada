package databases_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/go-databases/databases/internal/dbtest"
)

// benchRows is the size of the table point queries pick from.
const benchRows = 1000

// BenchmarkPointSelect compares a point SELECT (QueryRowContext + Scan)
// through the raw driver and through databases, on SQLite and PostgreSQL, in
// one run. "databases" sends the same native query as the raw driver;
// "databases-portable" writes it with ? and lets the rewrite turn it into $1.
func BenchmarkPointSelect(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) {
		path := filepath.Join(b.TempDir(), "bench.db")
		pragmas := "?_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)"
		benchPointSelect(b, "sqlite", "file:"+path+pragmas, "sqlite:///"+path, "?", "?")
	})
	b.Run("postgres", func(b *testing.B) {
		url := os.Getenv("DATABASES_TEST_POSTGRES_URL")
		if url == "" {
			b.Skip("DATABASES_TEST_POSTGRES_URL is not set")
		}
		benchPointSelect(b, "pgx", url, url, "$1", "?")
	})
}

func benchPointSelect(b *testing.B, rawDriver, rawDSN, url, nativeParam, portableParam string) {
	ctx := context.Background()
	raw, err := sql.Open(rawDriver, rawDSN)
	if err != nil {
		b.Fatal(err)
	}
	defer raw.Close()
	db, err := sql.Open("databases", url)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()

	table := dbtest.Name("bench")
	if _, err := raw.Exec("CREATE TABLE " + table + " (id INTEGER PRIMARY KEY, name TEXT NOT NULL)"); err != nil {
		b.Fatal(err)
	}
	defer raw.Exec("DROP TABLE " + table)
	tx, err := raw.Begin()
	if err != nil {
		b.Fatal(err)
	}
	for i := range benchRows {
		if _, err := tx.Exec(fmt.Sprintf("INSERT INTO %s (id, name) VALUES (%d, 'user %d')", table, i, i)); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}

	run := func(b *testing.B, db *sql.DB, param string) {
		query := "SELECT name FROM " + table + " WHERE id = " + param
		var name string
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if err := db.QueryRowContext(ctx, query, i%benchRows).Scan(&name); err != nil {
				b.Fatal(err)
			}
			i++
		}
	}
	b.Run("raw", func(b *testing.B) { run(b, raw, nativeParam) })
	b.Run("databases", func(b *testing.B) { run(b, db, nativeParam) })
	if portableParam != nativeParam {
		b.Run("databases-portable", func(b *testing.B) { run(b, db, portableParam) })
	}
}
