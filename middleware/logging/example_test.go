package logging_test

import (
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/go-databases/databases"
	"github.com/go-databases/databases/middleware/logging"
)

func Example() {
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		Level: slog.LevelDebug,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey || a.Key == logging.KeyDuration {
				return slog.Attr{} // vary from run to run
			}
			return a
		},
	}))
	c, err := databases.NewConnector("sqlite:///:memory:", databases.WithMiddleware(logging.New(logger)))
	if err != nil {
		panic(err)
	}
	db := sql.OpenDB(c)
	defer db.Close()

	db.Exec("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT)")
	db.Exec("INSERT INTO users (email) VALUES (?), (?)", "ann@example.com", "bob@example.com")
	var n int
	db.QueryRow("SELECT count(*) FROM users WHERE email LIKE ?", "%@example.com").Scan(&n)
	fmt.Println("users:", n)
	db.Exec("DELETE FROM orders")
	// Output:
	// level=INFO msg="db connect" db.system.name=sqlite db.operation=connect db.url=sqlite:///:memory: db.conn_id=1
	// level=INFO msg="db exec" db.system.name=sqlite db.operation=exec db.query.text="CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT)" db.conn_id=1 db.rows_affected=0 db.stmt_cache=miss
	// level=INFO msg="db exec" db.system.name=sqlite db.operation=exec db.query.text="INSERT INTO users (email) VALUES (?), (?)" db.args=2 db.conn_id=1 db.rows_affected=2 db.stmt_cache=miss
	// level=INFO msg="db query" db.system.name=sqlite db.operation=query db.query.text="SELECT count(*) FROM users WHERE email LIKE ?" db.args=1 db.conn_id=1 db.rows_returned=1 db.stmt_cache=miss
	// users: 2
	// level=ERROR msg="db exec" db.system.name=sqlite db.operation=exec db.query.text="DELETE FROM orders" db.conn_id=1 error="SQL logic error: no such table: orders (1)"
	// level=INFO msg="db conn.close" db.system.name=sqlite db.operation=conn.close db.url=sqlite:///:memory: db.conn_id=1
}

// WithArgs logs argument values, keyed by position or by name.
// WithSlowThreshold raises slow calls to Warn: against a threshold of 1ns
// every call is slow, so a logger at its default level, Info, shows them all.
func ExampleWithArgs() {
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey || a.Key == logging.KeyDuration {
				return slog.Attr{}
			}
			return a
		},
	}))
	mw := logging.New(logger, logging.WithArgs(), logging.WithSlowThreshold(time.Nanosecond))
	c, err := databases.NewConnector("sqlite:///:memory:", databases.WithMiddleware(mw))
	if err != nil {
		panic(err)
	}
	db := sql.OpenDB(c)
	defer db.Close()

	var sum int
	db.QueryRow("SELECT :a + :b", sql.Named("a", 1), sql.Named("b", 2)).Scan(&sum)
	fmt.Println("sum:", sum)
	// Output:
	// level=WARN msg="db connect" db.system.name=sqlite db.operation=connect db.url=sqlite:///:memory: db.conn_id=1
	// level=WARN msg="db query" db.system.name=sqlite db.operation=query db.query.text="SELECT :a + :b" db.args=2 db.args.values.a=1 db.args.values.b=2 db.conn_id=1 db.rows_returned=1 db.stmt_cache=miss
	// sum: 3
	// level=WARN msg="db conn.close" db.system.name=sqlite db.operation=conn.close db.url=sqlite:///:memory: db.conn_id=1
}
