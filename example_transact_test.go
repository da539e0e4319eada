package databases_test

// Example of Transact: a transaction, and a nested one as a savepoint.

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/go-databases/databases"
)

// Transact runs a function in a transaction; a nested call is a savepoint,
// and its failure keeps the outer work.
func ExampleTransact() {
	db, _ := databases.Open("sqlite:///:memory:")
	defer db.Close()
	ctx := context.Background()
	db.Exec("CREATE TABLE t (id INTEGER PRIMARY KEY)")
	err := databases.Transact(ctx, db, nil, func(ctx context.Context, tx *sql.Tx) error {
		tx.ExecContext(ctx, "INSERT INTO t VALUES (1)")
		inner := databases.Transact(ctx, db, nil, func(ctx context.Context, tx *sql.Tx) error {
			tx.ExecContext(ctx, "INSERT INTO t VALUES (2)")
			return fmt.Errorf("changed my mind")
		})
		fmt.Println("inner:", inner)
		return nil
	})
	var n int
	db.QueryRow("SELECT COUNT(*) FROM t").Scan(&n)
	fmt.Println(n, err)
	// Output:
	// inner: changed my mind
	// 1 <nil>
}
