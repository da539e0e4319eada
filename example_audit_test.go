package databases_test

import (
	"context"
	"database/sql"
	"fmt"
	"log"
	"strings"

	"github.com/go-databases/databases"
	"github.com/go-databases/databases/middleware"
	"github.com/go-databases/databases/sqlscan"
)

// audit refuses a DELETE without WHERE through every door that runs SQL:
// Exec and Query on a DB, Conn or Tx, and on a prepared statement.
var audit = middleware.On(middleware.OpExec, func(ctx context.Context, c *middleware.Call, next middleware.Handler) error {
	at, err := unboundedDelete(c.DB.Dialect, c.DB.SQLMode, c.NativeQuery)
	if err != nil {
		return fmt.Errorf("audit: cannot read the query: %w", err)
	}
	if at >= 0 {
		return fmt.Errorf("audit: DELETE without WHERE at byte %d refused", at)
	}
	return next(ctx, c)
}, middleware.OpStmtExec, middleware.OpQuery, middleware.OpStmtQuery)

// unboundedDelete returns the byte offset of the first DELETE in query without
// a WHERE of its own, or -1. sqlscan reads every statement of the query as the
// database does, so comments, literals and quoted names neither hide a DELETE
// nor fake a WHERE. A DELETE's WHERE is at its own parenthesis depth, before
// the ")" or ";" that ends it, so a DELETE in a WITH query or a subquery is
// checked too. mode carries MySQL's sql_mode flags (NO_BACKSLASH_ESCAPES,
// ANSI_QUOTES) when the URL sets them.
func unboundedDelete(dialect string, mode sqlscan.Mode, query string) (int, error) {
	s := sqlscan.New(sqlscan.ParseDialect(dialect), mode, query)
	deletes := []int{-1} // per open parenthesis: a DELETE still without WHERE
	prev := ""           // the previous token, comments aside
	for t := s.Next(); ; t = s.Next() {
		text, depth := query[t.Start:t.End], len(deletes)-1
		switch {
		case t.Kind == sqlscan.Comment:
			continue
		case t.Kind == sqlscan.EOF || t.Kind == sqlscan.Semicolon:
			for _, at := range deletes {
				if at >= 0 {
					return at, nil
				}
			}
			if t.Kind == sqlscan.EOF {
				return -1, s.Err()
			}
			deletes = deletes[:1]
		case t.Kind == sqlscan.Punct && text == "(":
			deletes = append(deletes, -1)
		case t.Kind == sqlscan.Punct && text == ")" && depth > 0:
			if deletes[depth] >= 0 {
				return deletes[depth], nil
			}
			deletes = deletes[:depth]
		case t.Kind == sqlscan.Word && strings.EqualFold(text, "WHERE"):
			deletes[depth] = -1
		case t.Kind == sqlscan.Word && strings.EqualFold(text, "DELETE") && !notStatement[strings.ToUpper(prev)]:
			deletes[depth] = t.Start
		}
		prev = text
	}
}

// notStatement are the tokens after which DELETE names an event or a
// privilege, not a statement: ON DELETE CASCADE, AFTER DELETE, GRANT DELETE.
var notStatement = map[string]bool{"ON": true, "AFTER": true, "BEFORE": true, "OF": true,
	"OR": true, "FOR": true, "THEN": true, "GRANT": true, "REVOKE": true, ",": true}

// An audit middleware sees every statement of every door: a DELETE without
// WHERE is refused however it is written, sent, prepared or returned.
func ExampleWithMiddleware_audit() {
	c, err := databases.NewConnector("sqlite:///:memory:", databases.WithMiddleware(audit))
	if err != nil {
		log.Fatal(err)
	}
	db := sql.OpenDB(c)
	defer db.Close()
	for _, q := range []string{
		"CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, parent INTEGER REFERENCES t ON DELETE CASCADE)",
		"INSERT INTO t (name) VALUES ('a'), ('b'), ('c')",
	} {
		if _, err := db.Exec(q); err != nil {
			log.Fatal(err)
		}
	}

	for _, q := range []string{
		"DELETE FROM t",
		"  delete FROM t",
		"/* x */ DELETE FROM t -- WHERE id = 1",
		"DELETE FROM t WHERE id = 1; DELETE FROM t",
		"WITH old AS (SELECT id FROM t WHERE id < 3) DELETE FROM t",
		"DELETE FROM t WHERE name = 'it''s; DELETE FROM t'",
		"DELETE FROM t WHERE id = 3",
	} {
		_, err := db.Exec(q)
		fmt.Printf("exec %q: %v\n", q, err)
	}
	_, err = db.Query("DELETE FROM t RETURNING id")
	fmt.Println("query:", err)
	for _, q := range []string{"DELETE FROM t", "DELETE FROM t RETURNING id"} {
		stmt, err := db.Prepare(q) // preparing runs nothing
		if err != nil {
			log.Fatal(err)
		}
		_, err = stmt.Exec()
		fmt.Printf("prepared %q, exec: %v\n", q, err)
		_, err = stmt.Query()
		fmt.Printf("prepared %q, query: %v\n", q, err)
		stmt.Close()
	}

	var n int
	db.QueryRow("SELECT count(*) FROM t").Scan(&n)
	fmt.Println("rows left:", n)
	// Output:
	// exec "DELETE FROM t": audit: DELETE without WHERE at byte 0 refused
	// exec "  delete FROM t": audit: DELETE without WHERE at byte 2 refused
	// exec "/* x */ DELETE FROM t -- WHERE id = 1": audit: DELETE without WHERE at byte 8 refused
	// exec "DELETE FROM t WHERE id = 1; DELETE FROM t": audit: DELETE without WHERE at byte 28 refused
	// exec "WITH old AS (SELECT id FROM t WHERE id < 3) DELETE FROM t": audit: DELETE without WHERE at byte 44 refused
	// exec "DELETE FROM t WHERE name = 'it''s; DELETE FROM t'": <nil>
	// exec "DELETE FROM t WHERE id = 3": <nil>
	// query: audit: DELETE without WHERE at byte 0 refused
	// prepared "DELETE FROM t", exec: audit: DELETE without WHERE at byte 0 refused
	// prepared "DELETE FROM t", query: audit: DELETE without WHERE at byte 0 refused
	// prepared "DELETE FROM t RETURNING id", exec: audit: DELETE without WHERE at byte 0 refused
	// prepared "DELETE FROM t RETURNING id", query: audit: DELETE without WHERE at byte 0 refused
	// rows left: 2
}
