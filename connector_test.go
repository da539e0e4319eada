package databases

import (
	"context"
	"database/sql"
	"strings"
	"testing"
)

// TestMemoryDatabaseShared checks that sqlite:///:memory: is one database for
// every pooled connection, that it survives the pool closing all of them, and
// that it is freed when the DB closes.
func TestMemoryDatabaseShared(t *testing.T) {
	ctx := context.Background()
	c, err := newConnector("sqlite:///:memory:", &Driver{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(c.public())
	if _, err := db.Exec("CREATE TABLE shared (x INTEGER)"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("INSERT INTO shared VALUES (42)"); err != nil {
		t.Fatal(err)
	}
	// Five connections at once: each must see the table.
	var conns []*sql.Conn
	for range 5 {
		conn, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, conn)
		var x int
		if err := conn.QueryRowContext(ctx, "SELECT x FROM shared").Scan(&x); err != nil || x != 42 {
			t.Fatalf("connection %d: x = %d, %v; want 42", len(conns), x, err)
		}
	}
	if n := db.Stats().OpenConnections; n != 5 {
		t.Fatalf("%d open connections; want 5", n)
	}
	// Let the pool close every connection; the database must live on.
	db.SetMaxIdleConns(0)
	for _, conn := range conns {
		conn.Close()
	}
	if n := db.Stats().OpenConnections; n != 0 {
		t.Fatalf("%d open connections after closing all; want 0", n)
	}
	var x int
	if err := db.QueryRow("SELECT x FROM shared").Scan(&x); err != nil || x != 42 {
		t.Fatalf("after the pool emptied: x = %d, %v; want 42", x, err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	// The same memdb name, opened directly, is now an empty database.
	raw, err := sql.Open(c.cfg.DriverName, c.cfg.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	_, err = raw.Exec("SELECT x FROM shared")
	if err == nil || !strings.Contains(err.Error(), "no such table") {
		t.Fatalf("after Close: %v; want no such table", err)
	}
}

// TestMemoryDatabasesAreDistinct checks that two DBs opened on
// sqlite:///:memory: do not see each other's tables.
func TestMemoryDatabasesAreDistinct(t *testing.T) {
	a, err := sql.Open("databases", "sqlite:///:memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := sql.Open("databases", "sqlite:///:memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := a.Exec("CREATE TABLE only_in_a (x INTEGER)"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Exec("SELECT * FROM only_in_a"); err == nil {
		t.Fatal("second memory DB sees the first one's table")
	}
}
