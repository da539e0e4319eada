package databases_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/go-databases/databases"
	"github.com/go-databases/databases/internal/dbtest"
	"github.com/go-databases/databases/sqlscan"
)

// TestREADMEAuditExample: the audit middleware docs/observability.md shows
// is the code of example_audit_test.go, byte for byte, so the copy people
// take is the one the example runs.
func TestREADMEAuditExample(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("docs", "observability.md"))
	if err != nil {
		t.Fatal(err)
	}
	example, err := os.ReadFile("example_audit_test.go")
	if err != nil {
		t.Fatal(err)
	}
	var blocks []string
	for _, m := range regexp.MustCompile("(?s)```go\n(.*?)```").FindAllStringSubmatch(string(readme), -1) {
		if strings.Contains(m[1], "middleware.On(") {
			blocks = append(blocks, m[1])
		}
	}
	if len(blocks) != 1 {
		t.Fatalf("docs/observability.md has %d go blocks with middleware.On, want 1", len(blocks))
	}
	if !strings.Contains(blocks[0], "var audit = middleware.On(") || !strings.Contains(string(example), blocks[0]) {
		t.Fatalf("the README block is not the code of example_audit_test.go:\n%s", blocks[0])
	}
}

// TestAuditDeletes: the example's reading of queries, by dialect.
func TestAuditDeletes(t *testing.T) {
	tests := []struct {
		dialect, query string
		at             int // offset of the refused DELETE; -1: allowed
	}{
		{"sqlite", "DELETE FROM t", 0},
		{"sqlite", "\n\t DELETE FROM t", 3},
		{"sqlite", "SELECT 1; DELETE FROM t", 10},
		{"sqlite", "DELETE FROM t WHERE id = ?", -1},
		{"sqlite", "DELETE FROM t WHERE id IN (SELECT id FROM u)", -1},
		{"sqlite", "DELETE FROM t WHERE id = 1;;DELETE FROM u WHERE id = 2;", -1},
		{"sqlite", "DELETE FROM t /* WHERE x */", 0},
		{"sqlite", "DELETE FROM t ORDER BY (SELECT 1 WHERE 1)", 0},
		{"sqlite", "SELECT 'DELETE FROM t', \"DELETE\" FROM t", -1},
		{"sqlite", "CREATE TRIGGER tr AFTER DELETE ON t BEGIN DELETE FROM u WHERE id = old.id; END", -1},
		{"sqlite", "CREATE TABLE c (p INTEGER REFERENCES t ON DELETE CASCADE)", -1},
		{"postgres", "WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d WHERE true", 11},
		{"postgres", "WITH d AS (DELETE FROM t WHERE x RETURNING *) SELECT * FROM d", -1},
		{"postgres", "EXPLAIN ANALYZE DELETE FROM t", 16},
		{"postgres", "PREPARE p AS DELETE FROM t", 13},
		{"postgres", "GRANT SELECT, DELETE ON t TO app; REVOKE DELETE ON t FROM app", -1},
		{"postgres", "MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE", -1},
		{"postgres", "CREATE POLICY p ON t FOR DELETE USING (owner = current_user)", -1},
		// Where a string ends is the dialect's: the same text is one
		// statement on one backend and two on another.
		{"postgres", `DELETE FROM t WHERE a = 'x\'; DELETE FROM t; -- '`, 30},
		{"mysql", `DELETE FROM t WHERE a = 'x\'; DELETE FROM t; -- '`, -1},
		{"postgres", "DELETE FROM t WHERE a = $$;DELETE FROM t$$", -1},
		{"mysql", "DELETE FROM t WHERE a = $$;DELETE FROM t$$", 27},
		{"mysql", "DELETE FROM t # WHERE x", 0},
		{"mysql", "/*!DELETE FROM t*/", 3},
		{"mysql", "DELETE LOW_PRIORITY t FROM t JOIN u ON t.id = u.id", 0},
	}
	for _, tt := range tests {
		at, err := unboundedDelete(tt.dialect, 0, tt.query)
		if err != nil || at != tt.at {
			t.Errorf("%s %q: %d, %v; want %d", tt.dialect, tt.query, at, err, tt.at)
		}
	}
	// Under NO_BACKSLASH_ESCAPES the backslash escapes nothing, so the
	// literal ends at 'x\' and the second DELETE is read.
	if at, err := unboundedDelete("mysql", sqlscan.NoBackslashEscapes, `DELETE FROM t WHERE a = 'x\'; DELETE FROM t; -- '`); err != nil || at != 30 {
		t.Errorf("NO_BACKSLASH_ESCAPES: %d, %v; want 30", at, err)
	}
	// Text the scanner cannot read is refused: the audit cannot tell.
	_, err := unboundedDelete("postgres", 0, "SELECT 'unterminated; DELETE FROM t")
	var se *sqlscan.Error
	if !errors.As(err, &se) || se.Offset != 7 {
		t.Errorf("unterminated string: %v; want a *sqlscan.Error at offset 7", err)
	}
}

// TestAuditBackends: every door that runs SQL, on every backend, refuses a
// DELETE without WHERE and deletes nothing; a DELETE with one runs, with its
// placeholder rewritten; concurrent calls and a cancelled context change
// nothing.
func TestAuditBackends(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		c, err := databases.NewConnector(b.URL, databases.WithMiddleware(audit))
		if err != nil {
			t.Fatal(err)
		}
		db := sql.OpenDB(c)
		defer db.Close()
		ctx := context.Background()
		table := dbtest.Name("audit")
		mustExec(t, db, "CREATE TABLE "+table+" (id INTEGER PRIMARY KEY, name VARCHAR(10))")
		defer db.Exec("DROP TABLE " + table)
		mustExec(t, db, "INSERT INTO "+table+" (id, name) VALUES (1, 'a'), (2, 'b'), (3, 'c')")

		del := "/* all */ DELETE FROM " + table
		doors := map[string]func() error{
			"exec":  func() error { _, err := db.ExecContext(ctx, del); return err },
			"query": func() error { _, err := db.QueryContext(ctx, del+" RETURNING id"); return err },
			"after ;": func() error {
				_, err := db.ExecContext(ctx, "DELETE FROM "+table+" WHERE id = 1; "+del)
				return err
			},
			"conn": func() error {
				conn, err := db.Conn(ctx)
				if err != nil {
					return err
				}
				defer conn.Close()
				_, err = conn.ExecContext(ctx, del)
				return err
			},
			"tx": func() error {
				tx, err := db.BeginTx(ctx, nil)
				if err != nil {
					return err
				}
				defer tx.Rollback()
				_, err = tx.ExecContext(ctx, del)
				return err
			},
			"prepared exec": func() error {
				stmt, err := db.PrepareContext(ctx, del)
				if err != nil {
					return err
				}
				defer stmt.Close()
				_, err = stmt.ExecContext(ctx)
				return err
			},
			"prepared query": func() error {
				stmt, err := db.PrepareContext(ctx, del+" RETURNING id")
				if err != nil {
					return err
				}
				defer stmt.Close()
				_, err = stmt.QueryContext(ctx)
				return err
			},
			"prepared in tx": func() error {
				tx, err := db.BeginTx(ctx, nil)
				if err != nil {
					return err
				}
				defer tx.Rollback()
				stmt, err := tx.PrepareContext(ctx, del)
				if err != nil {
					return err
				}
				_, err = stmt.ExecContext(ctx)
				return err
			},
			"cancelled": func() error {
				ctx, cancel := context.WithCancel(ctx)
				cancel()
				_, err := db.ExecContext(ctx, del)
				return err
			},
		}
		var wg sync.WaitGroup
		for name, door := range doors {
			for range 3 { // concurrently, three times each
				wg.Go(func() {
					if err := door(); err == nil || !strings.Contains(err.Error(), "audit: DELETE without WHERE") &&
						!(name == "cancelled" && errors.Is(err, context.Canceled)) {
						t.Errorf("%s: %v; want the audit's refusal", name, err)
					}
				})
			}
		}
		wg.Wait()
		if n := count(t, db, table); n != 3 {
			t.Fatalf("%d rows after the refused deletes, want 3", n)
		}
		if _, err := db.ExecContext(ctx, "DELETE FROM "+table+" WHERE id = ?", 2); err != nil {
			t.Fatal(err)
		}
		if n := count(t, db, table); n != 2 {
			t.Fatalf("%d rows after DELETE … WHERE, want 2", n)
		}
	})
}

func mustExec(t *testing.T, db *sql.DB, q string) {
	t.Helper()
	if _, err := db.Exec(q); err != nil {
		t.Fatal(err)
	}
}
