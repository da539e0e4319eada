package middleware_test

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/go-databases/databases"
	"github.com/go-databases/databases/middleware"
)

// failureCounter counts failed calls. It is Selective and wants failures
// only, so successful calls never run through the chain for it.
type failureCounter struct{ failed, seen int }

func (f *failureCounter) Interest(context.Context, middleware.Op) middleware.Interest {
	return middleware.Failures
}

func (f *failureCounter) Handle(ctx context.Context, c *middleware.Call, next middleware.Handler) error {
	f.seen++
	err := next(ctx, c) // the call ran already: next hands back its error
	if err != nil || c.RowsErr != nil {
		f.failed++
		fmt.Printf("%s failed: %q\n", c.Op, c.Query)
	}
	return err
}

// A Selective middleware that only wants failures sees nothing of the calls
// that succeed.
func ExampleSelective() {
	counter := &failureCounter{}
	c, err := databases.NewConnector("sqlite:///:memory:", databases.WithMiddleware(counter))
	if err != nil {
		panic(err)
	}
	db := sql.OpenDB(c)
	defer db.Close()

	db.Exec("CREATE TABLE t (id INTEGER PRIMARY KEY)")
	db.Exec("INSERT INTO t VALUES (1)")
	var n int
	db.QueryRow("SELECT count(*) FROM t").Scan(&n)
	db.Exec("INSERT INTO t VALUES (1)") // a duplicate key
	fmt.Println("calls seen:", counter.seen, "failed:", counter.failed)
	// Output:
	// exec failed: "INSERT INTO t VALUES (1)"
	// calls seen: 1 failed: 1
}
