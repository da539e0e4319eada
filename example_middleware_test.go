package databases_test

// Example of a middleware written as a middleware.Func, added with
// WithMiddleware; example_audit_test.go is a fuller one.

import (
	"context"
	"database/sql"
	"fmt"
	"log"

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
