package databases_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-databases/databases"
	"github.com/go-databases/databases/internal/dbtest"
)

// sleepQuery is a statement that takes 5 s on each server.
var sleepQuery = map[string]string{
	"postgres": "SELECT pg_sleep(5)",
	"mysql":    "SELECT SLEEP(5)",
}

// TestForceRollback: everything a force_rollback DB does is undone at
// Close, after a failed statement, a cancelled statement, a panic inside
// Transact and a query issued while rows are open.
func TestForceRollback(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		url := b.URL
		if b.Dialect == "sqlite" { // a file, so a second DB can look at it
			url = "sqlite:///" + filepath.Join(t.TempDir(), "fr.db")
		}
		plain, err := databases.Open(url)
		if err != nil {
			t.Fatal(err)
		}
		defer plain.Close()
		table := createTable(t, plain, "fr", "id INTEGER PRIMARY KEY")

		db, err := databases.Open(url + sep(url) + "force_rollback=true")
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		insert := func(ctx context.Context, id int) error {
			_, err := db.ExecContext(ctx, "INSERT INTO "+table+" (id) VALUES (?)", id)
			return err
		}
		mustInsert := func(id int) {
			t.Helper()
			if err := insert(ctx, id); err != nil {
				t.Fatalf("insert %d: %v", id, err)
			}
		}

		mustInsert(1)
		if err := insert(ctx, 1); err == nil {
			t.Fatal("duplicate key accepted")
		}
		mustInsert(2) // the failed statement did not end the outer transaction

		cctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		start := time.Now()
		if q, ok := sleepQuery[b.Dialect]; ok {
			_, err = db.ExecContext(cctx, q)
		} else {
			<-cctx.Done()
			err = insert(cctx, 99)
		}
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("cancelled statement: err = %v; want context.DeadlineExceeded", err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Fatalf("cancelled statement returned after %v", d)
		}
		mustInsert(3)

		func() {
			defer func() { recover() }()
			databases.Transact(ctx, db, nil, func(ctx context.Context, tx *sql.Tx) error {
				tx.ExecContext(ctx, "INSERT INTO "+table+" (id) VALUES (?)", 100)
				panic("boom")
			})
		}()
		if err := databases.Transact(ctx, db, nil, func(ctx context.Context, tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, "INSERT INTO "+table+" (id) VALUES (?)", 4)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelSerializable}); err == nil || !strings.Contains(err.Error(), "Serializable") {
			t.Fatalf("BeginTx with its own isolation: %v", err)
		}
		if _, err := db.Exec("COMMIT"); err == nil {
			t.Fatal("a raw COMMIT was accepted")
		}

		// A write inside a loop over rows uses a second connection of the
		// pool: it must not deadlock on the one real connection.
		rows, err := db.QueryContext(ctx, "SELECT id FROM "+table+" ORDER BY id")
		if err != nil {
			t.Fatal(err)
		}
		var seen []int
		for rows.Next() {
			var id int
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			seen = append(seen, id)
			mustInsert(1000 + id)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		if fmt.Sprint(seen) != "[1 2 3 4]" {
			t.Fatalf("rows read = %v; want [1 2 3 4]", seen)
		}
		if n := count(t, db, table); n != 8 {
			t.Fatalf("%d rows inside the outer transaction; want 8", n)
		}

		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		if n := count(t, plain, table); n != 0 {
			t.Fatalf("%d rows after Close; want 0", n)
		}
	})
}

func TestForceRollbackOption(t *testing.T) {
	path := filepath.Join(t.TempDir(), "o.db")
	db, err := databases.Open("sqlite:///"+path, databases.WithForceRollback())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("CREATE TABLE t (x INTEGER)"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, _ = databases.Open("sqlite:///" + path)
	defer db.Close()
	if _, err := db.Exec("SELECT * FROM t"); err == nil {
		t.Fatal("table created under WithForceRollback survived Close")
	}
}
