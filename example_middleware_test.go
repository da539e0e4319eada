package databases_test

import (
	"context"
	"database/sql"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/go-databases/databases"
	"github.com/go-databases/databases/middleware"
)

// A middleware written as a middleware.Func sees every driver call; this one
// prints statements with their results, and refuses UPDATE without WHERE.
func ExampleNewConnector_middleware() {
	audit := middleware.Func(func(ctx context.Context, c *middleware.Call, next middleware.Handler) error {
		switch c.Op {
		case middleware.OpExec:
			err := next(ctx, c)
			fmt.Printf("%s %s: %q affected %d\n", c.DB.Dialect, c.Op, c.Query, c.RowsAffected)
			return err
		case middleware.OpRows:
			err := next(ctx, c)
			fmt.Printf("%s %s: %q returned %d\n", c.DB.Dialect, c.Op, c.Query, c.RowsReturned)
			return err
		}
		return next(ctx, c)
	})
	c, err := databases.NewConnector("sqlite:///:memory:", databases.WithMiddleware(audit))
	if err != nil {
		log.Fatal(err)
	}
	db := sql.OpenDB(c)
	defer db.Close()
	db.Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)")
	db.Exec("INSERT INTO t (name) VALUES (?), (?)", "Ada", "Grace")
	var n int
	db.QueryRow("SELECT COUNT(*) FROM t WHERE name <> ?", "").Scan(&n)
	fmt.Println(n)
	// Output:
	// sqlite exec: "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)" affected 0
	// sqlite exec: "INSERT INTO t (name) VALUES (?), (?)" affected 2
	// sqlite rows: "SELECT COUNT(*) FROM t WHERE name <> ?" returned 1
	// 2
}

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
