package tracing_test

import (
	"context"
	"database/sql"
	"fmt"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/go-databases/databases"
	"github.com/go-databases/databases/middleware/tracing"
)

func Example() {
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	defer tp.Shutdown(context.Background())

	c, err := databases.NewConnector("sqlite:///:memory:", databases.WithMiddleware(tracing.New(tracing.WithTracerProvider(tp))))
	if err != nil {
		panic(err)
	}
	db := sql.OpenDB(c)
	defer db.Close()

	ctx := context.Background()
	db.ExecContext(ctx, "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
	tx, _ := db.BeginTx(ctx, nil)
	tx.ExecContext(ctx, "INSERT INTO users (name) VALUES (?), (?)", "ann", "bob")
	tx.Commit()
	var n int
	db.QueryRowContext(ctx, "SELECT count(*) FROM users").Scan(&n)

	for _, s := range spans.Ended() {
		fmt.Println(s.Name())
	}
	// Output:
	// CONNECT
	// PREPARE CREATE users
	// CREATE users
	// BEGIN
	// PREPARE INSERT users
	// INSERT users
	// COMMIT
	// PREPARE SELECT users
	// SELECT users
}
