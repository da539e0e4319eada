package databases_test

// Example of DriverConn: the real driver's connection inside sql.Conn.Raw.

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"

	"github.com/go-databases/databases"
)

// DriverConn reaches the real driver's connection inside sql.Conn.Raw. It
// can return an error in place of the connection (in force_rollback mode,
// when another connection of the DB holds the shared one), so the error is
// checked first and the type assertion has two values.
func ExampleDriverConn() {
	db, _ := sql.Open("databases", "sqlite:///:memory:")
	defer db.Close()
	conn, _ := db.Conn(context.Background())
	defer conn.Close()
	err := conn.Raw(func(dc any) error {
		raw := databases.DriverConn(dc)
		if err, ok := raw.(error); ok {
			return err
		}
		c, ok := raw.(driver.Conn)
		if !ok {
			return fmt.Errorf("not a driver.Conn: %T", raw)
		}
		fmt.Printf("%T\n", c)
		return nil
	})
	fmt.Println(err)
	// Output:
	// *sqlite.conn
	// <nil>
}
