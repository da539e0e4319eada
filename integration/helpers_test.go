package integration

import (
	"context"
	"database/sql"
	"testing"

	"github.com/go-databases/databases"
	"github.com/go-databases/databases/internal/dbtest"
)

// open opens b's database with databases.Open and closes it when the test
// ends.
func open(t *testing.T, b dbtest.Backend) *sql.DB {
	t.Helper()
	db, err := databases.Open(b.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.PingContext(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}

// dropAfter drops the tables when the test ends, so runs can share a server.
func dropAfter(t *testing.T, db *sql.DB, tables ...string) {
	t.Helper()
	t.Cleanup(func() {
		for _, table := range tables {
			if _, err := db.Exec("DROP TABLE IF EXISTS " + table); err != nil {
				t.Errorf("drop %s: %v", table, err)
			}
		}
	})
}

// createPeople creates a table of people with three rows.
func createPeople(t *testing.T, db *sql.DB, table string) {
	t.Helper()
	dropAfter(t, db, table)
	mustExec(t, db, "CREATE TABLE "+table+" (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL, age INTEGER NOT NULL)")
	mustExec(t, db, "INSERT INTO "+table+" (id, name, age) VALUES (?, ?, ?), (?, ?, ?), (?, ?, ?)",
		1, "Ada", 36, 2, "Grace", 85, 3, "Linus", 28)
}

func mustExec(t *testing.T, db *sql.DB, query string, args ...any) {
	t.Helper()
	if _, err := db.Exec(query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}
