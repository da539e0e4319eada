package databases_test

import (
	"context"
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

// RedactURL masks the password wherever a URL is shown.
func ExampleRedactURL() {
	fmt.Println(databases.RedactURL("postgres://app:s3cret@db.internal/shop?sslmode=require"))
	// Output: postgres://app:***@db.internal/shop?sslmode=require
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
