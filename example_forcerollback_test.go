package databases_test

// Examples of the test mode, force_rollback: everything rolled back when
// the DB closes, and Savepoint to roll back without closing it.

import (
	"context"
	"database/sql"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/go-databases/databases"
)

// With force_rollback, everything written through the DB is rolled back
// when it closes: the test mode. The file database below keeps its table,
// created without force_rollback, and loses the rows written with it.
func ExampleOpen_forceRollback() {
	dir, err := os.MkdirTemp("", "databases-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	url := "sqlite:///" + filepath.Join(dir, "app.db") // sqlite:////tmp/…/app.db

	count := func(db *sql.DB) (n int) {
		db.QueryRow("SELECT COUNT(*) FROM users").Scan(&n)
		return n
	}

	db, err := databases.Open(url)
	if err != nil {
		log.Fatal(err)
	}
	db.Exec("CREATE TABLE users (name TEXT)")
	db.Exec("INSERT INTO users VALUES ('kept')")
	db.Close()

	test, err := databases.Open(url + "?force_rollback=true")
	if err != nil {
		log.Fatal(err)
	}
	test.Exec("INSERT INTO users VALUES (?), (?)", "Ada", "Grace")
	fmt.Println("during the test:", count(test))
	test.Close()

	db, err = databases.Open(url)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	fmt.Println("after Close:", count(db))
	// Output:
	// during the test: 3
	// after Close: 1
}

// Savepoint returns a force_rollback DB to an earlier state without closing
// it; in tests, databases.RollbackAfter(t, db) does it when each subtest
// ends.
func ExampleSavepoint() {
	db, err := databases.Open("sqlite:///:memory:?force_rollback=true")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close() // rolls back everything
	ctx := context.Background()
	db.Exec("CREATE TABLE users (name TEXT)")
	db.Exec("INSERT INTO users VALUES ('Ada')")

	rollback, err := databases.Savepoint(ctx, db)
	if err != nil {
		log.Fatal(err)
	}
	db.Exec("INSERT INTO users VALUES ('Grace')")
	var n int
	db.QueryRow("SELECT COUNT(*) FROM users").Scan(&n)
	fmt.Println("before rollback:", n)

	if err := rollback(); err != nil {
		log.Fatal(err)
	}
	db.QueryRow("SELECT COUNT(*) FROM users").Scan(&n)
	fmt.Println("after rollback:", n)
	// Output:
	// before rollback: 2
	// after rollback: 1
}
