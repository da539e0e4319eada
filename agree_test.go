package databases

// The cases of "every feature agrees on what a statement does": each ran
// against the real servers, where the statement cache, the stale-plan
// retry, Transact's retry, replica routing or a prepared statement read a
// statement otherwise than the server does. Each compares with the raw
// driver, or with what the server holds afterwards.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5/stdlib"

	"github.com/go-databases/databases/internal/dbtest"
	"github.com/go-databases/databases/rewrite"
)

// oneConn returns one connection of db, closed when the test ends.
func oneConn(t *testing.T, db *sql.DB) *sql.Conn {
	t.Helper()
	c, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// step is one call of a sequence: an exec when query starts with "!",
// else a query whose rows are written down.
type step struct {
	query string
	args  []any
}

// runStep runs s on c and writes down its rows, or rows affected, or its
// error's code.
func runStep(c *sql.Conn, s step) string {
	ctx := context.Background()
	if q, ok := strings.CutPrefix(s.query, "!"); ok {
		res, err := c.ExecContext(ctx, q, s.args...)
		if err != nil {
			return "error " + errorClass(err)
		}
		n, _ := res.RowsAffected()
		return fmt.Sprintf("%d affected", n)
	}
	rows, err := c.QueryContext(ctx, s.query, s.args...)
	if err != nil {
		return "error " + errorClass(err)
	}
	defer rows.Close()
	var out []string
	cols, _ := rows.Columns()
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return "error " + errorClass(err)
		}
		for i, v := range vals {
			if b, ok := v.([]byte); ok {
				vals[i] = string(b)
			}
		}
		out = append(out, fmt.Sprint(vals...))
	}
	if err := rows.Err(); err != nil {
		return "error " + errorClass(err)
	}
	return "[" + strings.Join(out, " | ") + "]"
}

// nativeQuery is q with the dialect's own placeholders.
func nativeQuery(t *testing.T, d rewrite.Dialect, q string) string {
	t.Helper()
	plan, err := rewrite.NewCache(d, 4).Plan(strings.TrimPrefix(q, "!"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasPrefix(q, "!") {
		return "!" + plan.Query()
	}
	return plan.Query()
}

// errorClass names an error by the server's code, or by its text.
func errorClass(err error) string {
	var e interface{ SQLState() string }
	if errors.As(err, &e) {
		return e.SQLState()
	}
	s := err.Error()
	if i := strings.Index(s, "Error "); i >= 0 {
		if j := strings.Index(s[i:], ":"); j > 0 {
			return s[i : i+j]
		}
	}
	return s
}

// sameAsRaw runs steps on one connection of db and one of raw, and fails
// at the first step whose answer differs. The raw driver gets PostgreSQL's
// $n for ?.
func sameAsRaw(t *testing.T, db, raw *sql.DB, steps []step) {
	t.Helper()
	c, r := oneConn(t, db), oneConn(t, raw)
	for i, s := range steps {
		rs := s
		if _, ok := raw.Driver().(*stdlib.Driver); ok {
			rs.query = nativeQuery(t, rewrite.Postgres, s.query)
		}
		got, want := runStep(c, s), runStep(r, rs)
		if got != want {
			t.Fatalf("step %d, %s %v: %s; the raw driver: %s", i+1, s.query, s.args, got, want)
		}
	}
}

// TestAgreeCacheSessionState: a statement kept by the cache answers after
// USE, SET sql_mode (MySQL) and SET search_path (PostgreSQL, cache on) as
// the raw driver does, which prepares it again under the new state. (Had
// the two tables of the search path other columns, raw pgx would fail
// with 0A000, where databases answers.)
func TestAgreeCacheSessionState(t *testing.T) {
	t.Run("mysql", func(t *testing.T) {
		b := dbtest.Backends()[2]
		b.Require(t)
		db := openCached(t, b.URL, "")
		raw := openRaw(t, b.URL)
		ctx := context.Background()
		for _, q := range []string{
			"CREATE DATABASE IF NOT EXISTS test_agree_other",
			"CREATE TABLE IF NOT EXISTS agree_session (id INT PRIMARY KEY, v VARCHAR(10))",
			"CREATE TABLE IF NOT EXISTS test_agree_other.agree_session (id INT PRIMARY KEY, v VARCHAR(10))",
			"REPLACE INTO agree_session VALUES (1, 'first')",
			"REPLACE INTO test_agree_other.agree_session VALUES (1, 'other')",
		} {
			if _, err := raw.ExecContext(ctx, q); err != nil {
				t.Fatal(q, ": ", err)
			}
		}
		var home string
		if err := raw.QueryRow("SELECT DATABASE()").Scan(&home); err != nil {
			t.Fatal(err)
		}
		sameAsRaw(t, db, raw, []step{
			{"SELECT v FROM agree_session WHERE id = ?", []any{1}},
			{"!USE test_agree_other", nil},
			{"SELECT v FROM agree_session WHERE id = ?", []any{1}},
			{"!USE " + home, nil},
			{"SELECT v FROM agree_session WHERE id = ?", []any{1}},
			{"SELECT CAST(? || ? AS CHAR)", []any{"a", "b"}},
			{"!SET SESSION sql_mode = CONCAT(@@sql_mode, ',PIPES_AS_CONCAT')", nil},
			{"SELECT CAST(? || ? AS CHAR)", []any{"a", "b"}},
		})
	})
	t.Run("postgres", func(t *testing.T) {
		b := dbtest.Backends()[1]
		b.Require(t)
		db := openCached(t, b.URL, "stmt_cache=8")
		raw := openRaw(t, b.URL)
		for _, q := range []string{
			"DROP SCHEMA IF EXISTS agree_a CASCADE", "DROP SCHEMA IF EXISTS agree_b CASCADE",
			"CREATE SCHEMA agree_a", "CREATE SCHEMA agree_b",
			"CREATE TABLE agree_a.t (id INT PRIMARY KEY, v TEXT)",
			"CREATE TABLE agree_b.t (id INT PRIMARY KEY, v TEXT)",
			"INSERT INTO agree_a.t VALUES (1, 'a')",
			"INSERT INTO agree_b.t VALUES (1, 'b')",
		} {
			if _, err := raw.Exec(q); err != nil {
				t.Fatal(q, ": ", err)
			}
		}
		sameAsRaw(t, db, raw, []step{
			{"!SET search_path = agree_a", nil},
			{"SELECT * FROM t WHERE id = ?", []any{1}},
			{"!SET search_path = agree_b", nil},
			{"SELECT * FROM t WHERE id = ?", []any{1}},
			{"!RESET search_path", nil},
		})
	})
}

// TestAgreeStaleRetryCommitted: on PostgreSQL a text of several
// statements that fails with a stale plan after its own COMMIT is not run
// again: the ledger holds one row, as with raw pgx.
func TestAgreeStaleRetryCommitted(t *testing.T) {
	b := dbtest.Backends()[1]
	b.Require(t)
	ledger := func(db *sql.DB) int {
		ctx := context.Background()
		c, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		src, led := dbtest.Name("src"), dbtest.Name("ledger")
		for _, q := range []string{
			"CREATE TABLE " + src + " (id INT)", "CREATE TABLE " + led + " (id INT)",
			"PREPARE agree_p AS SELECT * FROM " + src,
			"ALTER TABLE " + src + " ADD COLUMN x INT",
		} {
			if _, err := c.ExecContext(ctx, q); err != nil {
				t.Fatal(q, ": ", err)
			}
		}
		defer c.ExecContext(ctx, "DROP TABLE "+src+", "+led)
		_, err = c.ExecContext(ctx, "INSERT INTO "+led+" VALUES (1); COMMIT; EXECUTE agree_p")
		if err == nil {
			t.Fatal("EXECUTE of the stale plan succeeded")
		}
		c.ExecContext(ctx, "DEALLOCATE agree_p")
		var n int
		if err := c.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+led).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	want := ledger(openRaw(t, b.URL))
	for _, opts := range []string{"", "stmt_cache=8"} {
		if got := ledger(openCached(t, b.URL, opts)); got != want {
			t.Errorf("%s: the ledger holds %d rows; the raw driver leaves %d", opts, got, want)
		}
	}
}

// TestAgreeCacheMultiStatement: with the cache on, a text of several
// statements without arguments runs as it does with the cache off and
// with the raw driver, on every dialect that runs such texts.
func TestAgreeCacheMultiStatement(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		url := fidelityURL(t, b)
		if b.Dialect == "mysql" {
			url = withQuery(url, "multiStatements=true")
		}
		table := dbtest.Name("multi")
		raw := openRaw(t, url)
		if _, err := raw.Exec("CREATE TABLE " + table + " (id INT)"); err != nil {
			t.Fatal(err)
		}
		defer raw.Exec("DROP TABLE " + table)
		for _, opts := range []string{"stmt_cache=0", "stmt_cache=8"} {
			db := openCached(t, url, opts)
			sameAsRaw(t, db, raw, []step{
				{"!INSERT INTO " + table + " VALUES (1); INSERT INTO " + table + " VALUES (2)", nil},
				{"SELECT COUNT(*) FROM " + table, nil},
			})
		}
	})
}

// TestAgreeLostAfterImplicitCommit: on MySQL, a Transact whose function
// ran a statement that commits implicitly (CREATE TABLE IF NOT EXISTS)
// and then lost its connection is not run again: its error is
// ErrCommitUnknown and says what committed, and the payment before the
// commit point is stored once.
func TestAgreeLostAfterImplicitCommit(t *testing.T) {
	b := dbtest.Backends()[2]
	b.Require(t)
	db := openReplicaDB(t, b.URL)
	raw := openRaw(t, b.URL)
	table := dbtest.Name("payments")
	if _, err := db.Exec("CREATE TABLE " + table + " (id INT AUTO_INCREMENT PRIMARY KEY, what VARCHAR(20))"); err != nil {
		t.Fatal(err)
	}
	defer db.Exec("DROP TABLE " + table)
	var attempts atomic.Int32
	err := Transact(context.Background(), db, nil, func(ctx context.Context, tx *sql.Tx) error {
		attempts.Add(1)
		if _, err := tx.ExecContext(ctx, "INSERT INTO "+table+" (what) VALUES ('payment')"); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS "+table+"_side (id INT)"); err != nil {
			return err
		}
		if attempts.Load() == 1 {
			var id int64
			if err := tx.QueryRowContext(ctx, "SELECT CONNECTION_ID()").Scan(&id); err != nil {
				return err
			}
			if _, err := raw.Exec(fmt.Sprintf("KILL CONNECTION %d", id)); err != nil {
				t.Fatal(err)
			}
		}
		_, err := tx.ExecContext(ctx, "INSERT INTO "+table+" (what) VALUES ('receipt')")
		return err
	})
	defer db.Exec("DROP TABLE IF EXISTS " + table + "_side")
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM " + table + " WHERE what = 'payment'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 || attempts.Load() != 1 {
		t.Errorf("payment stored %d times in %d attempts; want once, in one attempt", n, attempts.Load())
	}
	if !errors.Is(err, ErrCommitUnknown) || !strings.Contains(fmt.Sprint(err), "CREATE TABLE") {
		t.Errorf("Transact: %v; want ErrCommitUnknown naming CREATE TABLE", err)
	}
}

// TestAgreeDDLInvalidatesPlans: on PostgreSQL, DDL run through the DB on
// one connection leaves no other connection with a plan that fails with
// 0A000, inside a transaction or not (raw pgx fails there).
func TestAgreeDDLInvalidatesPlans(t *testing.T) {
	b := dbtest.Backends()[1]
	b.Require(t)
	db, err := Open(b.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	table := dbtest.Name("ddl")
	if _, err := db.Exec("CREATE TABLE " + table + " (id INT PRIMARY KEY, a INT)"); err != nil {
		t.Fatal(err)
	}
	defer db.Exec("DROP TABLE " + table)
	if _, err := db.Exec("INSERT INTO " + table + " VALUES (1, 1)"); err != nil {
		t.Fatal(err)
	}
	a, other := oneConn(t, db), oneConn(t, db)
	q := "SELECT * FROM " + table + " WHERE id = ?"
	cols := func(run interface {
		QueryContext(context.Context, string, ...any) (*sql.Rows, error)
	}) (int, error) {
		rows, err := run.QueryContext(ctx, q, 1)
		if err != nil {
			return 0, err
		}
		defer rows.Close()
		c, _ := rows.Columns()
		for rows.Next() {
		}
		return len(c), rows.Err()
	}
	for i, ddl := range []string{"ALTER TABLE " + table + " ADD COLUMN b INT", "ALTER TABLE " + table + " ADD COLUMN c INT"} {
		if _, err := cols(a); err != nil { // pgx keeps the plan
			t.Fatal(err)
		}
		if _, err := other.ExecContext(ctx, ddl); err != nil {
			t.Fatal(err)
		}
		var n int
		var err error
		if i == 0 {
			tx, terr := a.BeginTx(ctx, nil)
			if terr != nil {
				t.Fatal(terr)
			}
			n, err = cols(tx)
			tx.Rollback()
		} else {
			n, err = cols(a)
		}
		if err != nil || n != 3+i {
			t.Fatalf("after %q (in a transaction: %v): %d columns, %v; want %d", ddl, i == 0, n, err, 3+i)
		}
	}
}

// TestAgreeReplicas runs, on stale replicas (PostgreSQL standby, MariaDB
// replica): writes dressed as reads, run on the primary, are seen by the
// next ReadReplica read (read-your-writes counts them); a statement
// prepared under ReadReplica waits for the replica at each execution; and
// a statement that would make the replica session writable is refused,
// so that a ReadReplica INSERT still fails and nothing is written.
func TestAgreeReplicas(t *testing.T) {
	t.Parallel()
	forEachReplicaBackend(t, true, func(t *testing.T, b *replicaBackend) {
		ctx := t.Context()
		rctx := ReadReplica(ctx)
		db := openReplicaDB(t, b.url("max_replica_wait=10s"))
		table := "agree_ryw"
		createReplicated(t, b, db, table)
		count := func(t *testing.T, table string, id int) int {
			t.Helper()
			var n int
			if err := db.QueryRowContext(rctx, "SELECT COUNT(*) FROM "+table+" WHERE id = ?", id).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		t.Run("writes in disguise", func(t *testing.T) {
			type disguise struct {
				query string
				table string // read after it; the test's table when ""
				id    int
			}
			cases := []disguise{
				{"EXPLAIN ANALYZE INSERT INTO agree_ryw VALUES (1, 0)", "", 1},
				{"WITH x AS (INSERT INTO agree_ryw VALUES (2, 0) RETURNING id) SELECT id FROM x", "", 2},
				{"SELECT 3 AS id INTO agree_ryw_into", "agree_ryw_into", 3},
			}
			if b.name != "postgres" {
				cases = []disguise{
					{"SET STATEMENT max_statement_time=60 FOR INSERT INTO agree_ryw VALUES (1, 0)", "", 1},
					{"/*!50000 INSERT INTO agree_ryw VALUES (2, 0) */", "", 2},
				}
			}
			count(t, table, 0) // the replica is seen caught up: only a write counted makes the next read wait
			for _, c := range cases {
				rows, err := db.QueryContext(ctx, c.query)
				if err != nil {
					t.Fatal(c.query, ": ", err)
				}
				for rows.Next() {
				}
				rows.Close()
				into := c.table
				if into == "" {
					into = table
				}
				if n := count(t, into, c.id); n != 1 {
					t.Errorf("after %q the replica read finds %d rows; want 1", c.query, n)
				}
			}
		})
		t.Run("prepared statement", func(t *testing.T) {
			one := openReplicaDB(t, b.url("max_replica_wait=10s"))
			one.SetMaxOpenConns(1)
			st, err := one.PrepareContext(rctx, "SELECT COUNT(*) FROM agree_ryw WHERE id = ?")
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			for i := 100; i < 103; i++ {
				if _, err := one.ExecContext(ctx, "INSERT INTO agree_ryw VALUES (?, 0)", i); err != nil {
					t.Fatal(err)
				}
				var n int
				if err := st.QueryRowContext(rctx, i).Scan(&n); err != nil || n != 1 {
					t.Errorf("the prepared read of row %d finds %d rows, %v; want 1", i, n, err)
				}
			}
		})
		t.Run("read-only session", func(t *testing.T) {
			one := openReplicaDB(t, b.url(""))
			one.SetMaxOpenConns(1)
			writable := []string{"SET default_transaction_read_only = off", "SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE", "RESET ALL"}
			if b.name != "postgres" {
				writable = []string{"SET SESSION TRANSACTION READ WRITE", "SET @@session.transaction_read_only = 0", "/*!40101 SET SESSION tx_read_only = 0 */"}
			}
			for _, q := range writable {
				if _, err := one.ExecContext(rctx, q); err == nil {
					t.Errorf("%s under ReadReplica: no error", q)
				}
				tx, err := one.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := tx.ExecContext(ctx, q); err == nil {
					t.Errorf("%s in a read-only transaction on the replica: no error", q)
				}
				tx.Rollback()
				if _, err := one.ExecContext(rctx, "INSERT INTO agree_ryw VALUES (200, 0)"); err == nil {
					t.Errorf("INSERT under ReadReplica after %s: no error", q)
				}
			}
			var n int
			if err := one.QueryRowContext(ctx, "SELECT COUNT(*) FROM agree_ryw WHERE id = 200").Scan(&n); err != nil || n != 0 {
				t.Errorf("the primary holds %d rows of id 200, %v; want 0", n, err)
			}
			if err := b.rawReplica(t).QueryRow("SELECT COUNT(*) FROM agree_ryw WHERE id = 200").Scan(&n); err != nil || n != 0 {
				t.Errorf("the replica holds %d rows of id 200, %v; want 0", n, err)
			}
		})
	})
}
