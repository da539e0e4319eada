package databases

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/stdlib"

	"github.com/go-databases/databases/internal/dberr"
	"github.com/go-databases/databases/internal/dbtest"
	"github.com/go-databases/databases/rewrite"
)

// failedOutcome is what a failing call does on a *sql.Conn: its error's
// class (code is the server's, "" for none), and whether the next call on
// the same Conn still runs (its INSERT happens).
type failedOutcome struct {
	badConn, canceled, nextInserted bool
	code                            string
}

// failedCall is a call that fails before the statement runs.
type failedCall struct {
	name      string
	exec      bool   // an Exec, else a Query
	cancelled bool   // its context is cancelled before the call
	query     string // %s is the table; one ? argument
}

// TestStmtCacheCancelledCallMatchesRaw: a Query or Exec on a *sql.Conn
// whose context was cancelled before the call fails as the raw driver's
// does, with the statement cache on and off. Raw pgx answers
// driver.ErrBadConn (nothing was sent), so database/sql closes the Conn
// and the next call fails; the cache's own prepare of the statement must
// not turn that into a context error that keeps the Conn. A prepare the
// server refuses keeps the server's error (errors.As finds it).
func TestStmtCacheCancelledCallMatchesRaw(t *testing.T) {
	calls := []failedCall{
		{name: "query/cancelled", cancelled: true, query: "SELECT id FROM %s WHERE id = ?"},
		{name: "exec/cancelled", exec: true, cancelled: true, query: "INSERT INTO %s (id) VALUES (?)"},
		{name: "query/refused", query: "SELECT id FROM %s_missing WHERE id = ?"},
		{name: "exec/refused", exec: true, query: "INSERT INTO %s_missing (id) VALUES (?)"},
	}
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		url := fidelityURL(t, b)
		raw := openRaw(t, url)
		table := dbtest.Name("cancelled")
		if _, err := raw.Exec("CREATE TABLE " + table + " (id INTEGER)"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { raw.Exec("DROP TABLE " + table) })
		sep := "?"
		if strings.Contains(url, "?") {
			sep = "&"
		}
		id := 0
		for _, cache := range []string{"16", "0"} {
			db, err := sql.Open("databases", url+sep+"stmt_cache="+cache)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			for _, call := range calls {
				t.Run("stmt_cache="+cache+"/"+call.name, func(t *testing.T) {
					id += 2
					want := runFailedCall(t, raw, raw, table, call, id)
					got := runFailedCall(t, db, raw, table, call, id+1)
					if got != want {
						t.Errorf("databases: %+v; the raw driver: %+v", got, want)
					}
					if !call.cancelled && got.code == "" {
						t.Errorf("databases: %+v: errors.As finds no server error", got)
					}
				})
			}
		}
	})
}

// runFailedCall runs call on one new Conn of db, then INSERTs id there
// with a live context, and reads through check whether the row is there.
func runFailedCall(t *testing.T, db, check *sql.DB, table string, call failedCall, id int) failedOutcome {
	t.Helper()
	native := func(q string) string {
		if _, ok := db.Driver().(*stdlib.Driver); ok {
			return nativeQuery(t, rewrite.Postgres, q)
		}
		return q
	}
	c, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if call.cancelled {
		cancel()
	}
	query := native(fmt.Sprintf(call.query, table))
	if call.exec {
		_, err = c.ExecContext(ctx, query, -id)
	} else {
		var rows *sql.Rows
		rows, err = c.QueryContext(ctx, query, id)
		if err == nil {
			rows.Close()
		}
	}
	if err == nil {
		t.Fatalf("%s succeeded", call.name)
	}
	out := failedOutcome{badConn: errors.Is(err, driver.ErrBadConn), canceled: errors.Is(err, context.Canceled), code: dberr.Code(err)}
	c.ExecContext(context.Background(), native("INSERT INTO "+table+" (id) VALUES (?)"), id)
	var n int
	q := "SELECT COUNT(*) FROM " + table + " WHERE id = ?"
	if _, ok := check.Driver().(*stdlib.Driver); ok {
		q = nativeQuery(t, rewrite.Postgres, q)
	}
	if err := check.QueryRow(q, id).Scan(&n); err != nil {
		t.Fatal(err)
	}
	out.nextInserted = n == 1
	return out
}
