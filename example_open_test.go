package databases_test

// Examples of opening a DB: sql.Open with a URL, databases.Open with pool
// options, NewConnector for sql.OpenDB, and Register for tools that only
// call sql.Open.

import (
	"database/sql"
	"fmt"
	"log"

	"github.com/go-databases/databases"
)

// Existing database/sql code changes two strings: the driver name and the
// data source, which is now a URL.
func Example() {
	db, err := sql.Open("databases", "sqlite:///:memory:")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	db.Exec("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
	db.Exec("INSERT INTO users (name) VALUES (?), (?)", "Ada", "Grace")

	var name string
	if err := db.QueryRow("SELECT name FROM users WHERE id = ?", 2).Scan(&name); err != nil {
		log.Fatal(err)
	}
	fmt.Println(name)
	// Output: Grace
}

// Open applies the pool options a URL carries.
func ExampleOpen() {
	db, err := databases.Open("sqlite:///:memory:?max_open_conns=4&conn_max_idle_time=1m")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	fmt.Println(db.Stats().MaxOpenConnections)
	// Output: 4
}

// sql.Open cannot size the pool, so a pool option there is an error rather
// than silently ignored.
func ExampleOpen_poolOptionNeedsOpen() {
	db, err := sql.Open("databases", "sqlite:///:memory:?max_open_conns=4")
	if err == nil {
		err = db.Ping()
	}
	fmt.Println(err)
	// Output: databases: bad URL "sqlite:///:memory:?max_open_conns=4": option max_open_conns needs databases.Open: sql.Open gives a driver no access to its pool
}

// NewConnector gives a connector for sql.OpenDB, for programs that configure
// the driver in code.
func ExampleNewConnector() {
	c, err := databases.NewConnector("sqlite:///:memory:")
	if err != nil {
		log.Fatal(err)
	}
	db := sql.OpenDB(c)
	defer db.Close()
	var n int
	db.QueryRow("SELECT 6 * 7").Scan(&n)
	fmt.Println(n)
	// Output: 42
}

// Register gives a driver name with fixed options, for tools that can only
// call sql.Open(name, url), such as migration tools.
func ExampleRegister() {
	databases.Register("databases-example-rollback", databases.WithForceRollback())
	db, err := sql.Open("databases-example-rollback", "sqlite:///:memory:")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	_, err = db.Exec("BEGIN")
	fmt.Println(err)
	// Output: databases: force_rollback: BEGIN (byte offset 0) would end the outer transaction; use BeginTx or Transact, which become savepoints
}
