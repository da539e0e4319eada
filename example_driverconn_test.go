package databases_test

// Example of DriverConn: the real driver's connection inside sql.Conn.Raw.

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/go-databases/databases"
)

// DriverConn reaches the real driver's connection inside sql.Conn.Raw.
func ExampleDriverConn() {
	db, _ := sql.Open("databases", "sqlite:///:memory:")
	defer db.Close()
	conn, _ := db.Conn(context.Background())
	defer conn.Close()
	conn.Raw(func(dc any) error {
		fmt.Printf("%T\n", databases.DriverConn(dc))
		return nil
	})
	// Output: *sqlite.conn
}
