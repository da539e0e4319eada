package databases_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/go-databases/databases"
	"github.com/go-databases/databases/internal/dbtest"
	"github.com/go-databases/databases/middleware"
)

// TestRawBeginDoesNotLeak: a transaction opened by a raw BEGIN and left open
// is rolled back by discarding the connection, and the event is reported,
// to a middleware that sees every call and to one that sees failures only.
func TestRawBeginDoesNotLeak(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		t.Run("all", func(t *testing.T) { testRawBeginDoesNotLeak(t, b, false) })
		t.Run("failures", func(t *testing.T) { testRawBeginDoesNotLeak(t, b, true) })
	})
}

func testRawBeginDoesNotLeak(t *testing.T, b dbtest.Backend, failuresOnly bool) {
	{
		var mu sync.Mutex
		var reported []error
		report := middleware.On(middleware.OpResetSession, func(ctx context.Context, c *middleware.Call, next middleware.Handler) error {
			err := next(ctx, c)
			if err != nil {
				mu.Lock()
				reported = append(reported, err)
				mu.Unlock()
			}
			return err
		})
		if failuresOnly {
			report = failuresOf{report}
		}
		c, err := databases.NewConnector(b.URL, databases.WithMiddleware(report))
		if err != nil {
			t.Fatal(err)
		}
		db := sql.OpenDB(c)
		defer db.Close()
		db.SetMaxOpenConns(1)
		table := createTable(t, db, "leak", "id INTEGER PRIMARY KEY")
		ctx := context.Background()

		conn, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.ExecContext(ctx, "BEGIN"); err != nil {
			t.Fatal(err)
		}
		if _, err := conn.ExecContext(ctx, "INSERT INTO "+table+" (id) VALUES (?)", 1); err != nil {
			t.Fatal(err)
		}
		conn.Close() // back to the pool with the transaction open

		// The next user gets a connection in autocommit: its INSERT is
		// committed, and the leaked INSERT is gone.
		if _, err := db.ExecContext(ctx, "INSERT INTO "+table+" (id) VALUES (?)", 2); err != nil {
			t.Fatal(err)
		}
		var ids []int
		rows, err := db.QueryContext(ctx, "SELECT id FROM "+table)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id int
			rows.Scan(&id)
			ids = append(ids, id)
		}
		rows.Close()
		if fmt.Sprint(ids) != "[2]" {
			t.Fatalf("ids = %v; want [2]", ids)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(reported) != 1 || !errors.Is(reported[0], databases.ErrTxLeaked) {
			t.Fatalf("reported %v; want one ErrTxLeaked", reported)
		}
	}
}
