package databases_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/go-databases/databases"
	"github.com/go-databases/databases/internal/dbtest"
)

// sleepQuery is a statement that takes 5 s on each server.
var sleepQuery = map[string]string{
	"postgres": "SELECT pg_sleep(5)",
	"mysql":    "SELECT SLEEP(5)",
}

// TestForceRollback: everything a force_rollback DB does is undone at
// Close, after a failed statement, a cancelled statement, a panic inside
// Transact and a query issued while rows are open.
func TestForceRollback(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		url := b.URL
		if b.Dialect == "sqlite" { // a file, so a second DB can look at it
			url = "sqlite:///" + filepath.Join(t.TempDir(), "fr.db")
		}
		plain, err := databases.Open(url)
		if err != nil {
			t.Fatal(err)
		}
		defer plain.Close()
		table := createTable(t, plain, "fr", "id INTEGER PRIMARY KEY")

		db, err := databases.Open(url + sep(url) + "force_rollback=true")
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		insert := func(ctx context.Context, id int) error {
			_, err := db.ExecContext(ctx, "INSERT INTO "+table+" (id) VALUES (?)", id)
			return err
		}
		mustInsert := func(id int) {
			t.Helper()
			if err := insert(ctx, id); err != nil {
				t.Fatalf("insert %d: %v", id, err)
			}
		}

		mustInsert(1)
		if err := insert(ctx, 1); err == nil {
			t.Fatal("duplicate key accepted")
		}
		mustInsert(2) // the failed statement did not end the outer transaction

		cctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		start := time.Now()
		if q, ok := sleepQuery[b.Dialect]; ok {
			_, err = db.ExecContext(cctx, q)
		} else {
			<-cctx.Done()
			err = insert(cctx, 99)
		}
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("cancelled statement: err = %v; want context.DeadlineExceeded", err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Fatalf("cancelled statement returned after %v", d)
		}
		mustInsert(3)

		func() {
			defer func() { recover() }()
			databases.Transact(ctx, db, nil, func(ctx context.Context, tx *sql.Tx) error {
				tx.ExecContext(ctx, "INSERT INTO "+table+" (id) VALUES (?)", 100)
				panic("boom")
			})
		}()
		if err := databases.Transact(ctx, db, nil, func(ctx context.Context, tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, "INSERT INTO "+table+" (id) VALUES (?)", 4)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelSerializable}); err == nil || !strings.Contains(err.Error(), "Serializable") {
			t.Fatalf("BeginTx with its own isolation: %v", err)
		}
		if _, err := db.Exec("COMMIT"); err == nil {
			t.Fatal("a raw COMMIT was accepted")
		}

		// A write inside a loop over rows uses a second connection of the
		// pool: it must not deadlock on the one real connection.
		rows, err := db.QueryContext(ctx, "SELECT id FROM "+table+" ORDER BY id")
		if err != nil {
			t.Fatal(err)
		}
		var seen []int
		for rows.Next() {
			var id int
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			seen = append(seen, id)
			mustInsert(1000 + id)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		if fmt.Sprint(seen) != "[1 2 3 4]" {
			t.Fatalf("rows read = %v; want [1 2 3 4]", seen)
		}
		if n := count(t, db, table); n != 8 {
			t.Fatalf("%d rows inside the outer transaction; want 8", n)
		}

		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		if n := count(t, plain, table); n != 0 {
			t.Fatalf("%d rows after Close; want 0", n)
		}
	})
}

func TestForceRollbackOption(t *testing.T) {
	path := filepath.Join(t.TempDir(), "o.db")
	db, err := databases.Open("sqlite:///"+path, databases.WithForceRollback())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("CREATE TABLE t (x INTEGER)"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, _ = databases.Open("sqlite:///" + path)
	defer db.Close()
	if _, err := db.Exec("SELECT * FROM t"); err == nil {
		t.Fatal("table created under WithForceRollback survived Close")
	}
}

// frEnv is a database seen two ways: through a normal DB, which counts what
// is left, and through force_rollback DBs opened on it.
type frEnv struct {
	dialect string
	url     string // the backend's URL; SQLite on a file, so both DBs see it
	plain   *sql.DB
	table   string // (id INTEGER PRIMARY KEY), dropped when the test ends
}

func newFREnv(t *testing.T, b dbtest.Backend) frEnv {
	t.Helper()
	url := b.URL
	if b.Dialect == "sqlite" {
		url = "sqlite:///" + filepath.Join(t.TempDir(), "fr.db")
	}
	plain, err := databases.Open(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { plain.Close() })
	return frEnv{dialect: b.Dialect, url: url, plain: plain, table: createTable(t, plain, "fr", "id INTEGER PRIMARY KEY")}
}

// open opens a force_rollback DB with the extra URL options given; the test
// closes it at the end if it has not.
func (e frEnv) open(t *testing.T, opts ...string) *sql.DB {
	t.Helper()
	u := e.url + sep(e.url) + strings.Join(append([]string{"force_rollback=true"}, opts...), "&")
	db, err := databases.Open(u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// insert writes id through db.
func (e frEnv) insert(t *testing.T, db interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}, id int) {
	t.Helper()
	if _, err := db.ExecContext(context.Background(), "INSERT INTO "+e.table+" (id) VALUES (?)", id); err != nil {
		t.Fatalf("insert %d: %v", id, err)
	}
}

// left counts the rows of the table from the normal DB.
func (e frEnv) left(t *testing.T) int {
	t.Helper()
	return count(t, e.plain, e.table)
}

// TestForceRollbackRefusesTxControl: whatever its dressing (comments, after
// a `;`, prepared, a MySQL executable comment), a statement that would end
// the outer transaction is refused, and so is a MySQL statement that
// commits implicitly; the test's writes before and after it are rolled back
// at Close. CREATE TEMPORARY TABLE on MySQL and DDL on PostgreSQL and SQLite
// run, and are rolled back too.
func TestForceRollbackRefusesTxControl(t *testing.T) {
	const (
		txControl = "would end the outer transaction"
		implicit  = "commits implicitly"
		allowed   = ""
	)
	tests := []struct {
		dialects string // the dialects the case runs on
		how      string // exec, query, prepare (then Exec), multi (MySQL with multiStatements=true)
		query    string // %[1]s is the test's table
		want     string // a fragment of the error; "" when the statement runs
	}{
		{"sqlite postgres mysql", "exec", "COMMIT", txControl},
		{"sqlite postgres mysql", "query", "COMMIT", txControl},
		{"sqlite postgres mysql", "prepare", "COMMIT", txControl},
		{"sqlite postgres mysql", "exec", "ROLLBACK", txControl},
		{"sqlite postgres mysql", "prepare", "ROLLBACK", txControl},
		{"sqlite postgres mysql", "exec", "BEGIN", txControl},
		{"sqlite postgres mysql", "exec", "/* note */ COMMIT", txControl},
		{"sqlite postgres mysql", "exec", "-- note\ncommit", txControl},
		{"sqlite postgres", "exec", "SELECT 1; COMMIT", txControl},
		{"sqlite postgres", "exec", "END", txControl},
		{"postgres", "exec", "ABORT", txControl},
		{"postgres", "exec", "START TRANSACTION", txControl},
		{"postgres", "prepare", "PREPARE TRANSACTION 'x'", txControl},
		{"mysql", "multi", "SELECT 1; COMMIT", txControl},
		{"mysql", "exec", "# note\nCOMMIT", txControl},
		{"mysql", "exec", "/*!40000 COMMIT */", txControl},
		{"mysql", "exec", "SET autocommit = 0", txControl},
		{"mysql", "prepare", "SET @@session.autocommit = 1", txControl},
		{"mysql", "exec", "XA START 'x'", txControl},
		{"mysql", "exec", "/*!40000 ALTER TABLE %[1]s DISABLE KEYS */", implicit},
		{"mysql", "exec", "CHECK TABLE %[1]s", implicit},
		{"mysql", "query", "CHECK TABLE %[1]s", implicit},
		{"mysql", "exec", "FLUSH TABLES", implicit},
		{"mysql", "exec", "ANALYZE TABLE %[1]s", implicit},
		{"mysql", "exec", "LOCK TABLES %[1]s WRITE", implicit},
		{"mysql", "exec", "TRUNCATE %[1]s", implicit},
		{"mysql", "exec", "CREATE TABLE %[1]s_b (x INT)", implicit},
		{"mysql", "prepare", "CREATE TABLE %[1]s_c (x INT)", implicit},
		{"mysql", "exec", "CREATE INDEX i_x ON %[1]s (id)", implicit},
		{"mysql", "exec", "DROP TABLE IF EXISTS %[1]s_nosuch", implicit},
		{"mysql", "multi", "SELECT 1; CREATE TABLE %[1]s_d (x INT)", implicit},
		{"mysql", "exec", "CREATE TEMPORARY TABLE %[1]s_tmp (x INT)", allowed},
		{"mysql", "exec", "CREATE TEMPORARY TABLE %[1]s_tmp (x INT); INSERT INTO %[1]s_tmp VALUES (1); DROP TEMPORARY TABLE %[1]s_tmp", allowed},
		{"sqlite postgres", "exec", "CREATE TABLE %[1]s_e (x INT)", allowed},
		{"sqlite postgres", "exec", "CREATE TABLE %[1]s_f (x INT); DROP TABLE %[1]s_f", allowed},
	}
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		e := newFREnv(t, b)
		ctx := context.Background()
		for i, tc := range tests {
			if !strings.Contains(tc.dialects, b.Dialect) {
				continue
			}
			query := strings.ReplaceAll(tc.query, "%[1]s", e.table)
			if strings.Count(query, ";") > 0 && tc.how == "exec" && b.Dialect == "mysql" {
				tc.how = "multi"
			}
			t.Run(fmt.Sprintf("%d_%s", i, tc.how), func(t *testing.T) {
				var db *sql.DB
				if tc.how == "multi" {
					db = e.open(t, "multiStatements=true")
				} else {
					db = e.open(t)
				}
				e.insert(t, db, 1)
				var err error
				switch tc.how {
				case "exec", "multi":
					_, err = db.ExecContext(ctx, query)
				case "query":
					var rows *sql.Rows
					if rows, err = db.QueryContext(ctx, query); err == nil {
						for rows.Next() {
						}
						err = errors.Join(rows.Err(), rows.Close())
					}
				case "prepare":
					var st *sql.Stmt
					if st, err = db.PrepareContext(ctx, query); err == nil {
						_, err = st.ExecContext(ctx)
						st.Close()
					}
				}
				switch {
				case tc.want == "" && err != nil:
					t.Errorf("%s %q: %v; want it to run", tc.how, query, err)
				case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "force_rollback")):
					t.Errorf("%s %q: err = %v; want an error saying it %s", tc.how, query, err, tc.want)
				}
				e.insert(t, db, 2) // the outer transaction is still there
				if err := db.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
				if n := e.left(t); n != 0 {
					t.Errorf("%s %q: %d rows left after Close; want 0", tc.how, query, n)
					e.plain.Exec("DELETE FROM " + e.table)
				}
			})
		}
		if b.Dialect != "mysql" {
			var n int
			if err := e.plain.QueryRow("SELECT COUNT(*) FROM " + e.table + "_e").Scan(&n); err == nil {
				t.Errorf("table created in force_rollback mode survived Close")
				e.plain.Exec("DROP TABLE " + e.table + "_e")
			}
		}
	})
}

// TestForceRollbackMySQLCall: a procedure may commit, which the text of a
// CALL does not show. The server is asked afterwards; the commit is reported
// loudly and the outer transaction begun again, so later writes are still
// rolled back. A procedure that does not commit runs as usual.
func TestForceRollbackMySQLCall(t *testing.T) {
	b := dbtest.Backends()[2]
	b.Require(t)
	e := newFREnv(t, b)
	ctx := context.Background()
	quiet, commits := dbtest.Name("p_quiet"), dbtest.Name("p_commits")
	for _, q := range []string{
		"CREATE PROCEDURE " + quiet + "() BEGIN SELECT 1 INTO @x; END",
		"CREATE PROCEDURE " + commits + "() BEGIN COMMIT; END",
	} {
		if _, err := e.plain.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		e.plain.Exec("DROP PROCEDURE " + quiet)
		e.plain.Exec("DROP PROCEDURE " + commits)
	})
	db := e.open(t)
	e.insert(t, db, 1)
	if _, err := db.ExecContext(ctx, "CALL "+quiet+"()"); err != nil {
		t.Fatalf("CALL of a procedure that does not commit: %v", err)
	}
	_, err := db.ExecContext(ctx, "CALL "+commits+"()")
	if err == nil || !strings.Contains(err.Error(), "could not be rolled back") {
		t.Fatalf("CALL of a procedure that commits: err = %v; want it reported", err)
	}
	e.insert(t, db, 2)
	// The same, prepared and as a query: reported too.
	for i, call := range []func() error{
		func() error {
			st, err := db.PrepareContext(ctx, "CALL "+commits+"()")
			if err != nil {
				return err
			}
			defer st.Close()
			_, err = st.ExecContext(ctx)
			return err
		},
		func() error {
			rows, err := db.QueryContext(ctx, "/* c */ CALL "+commits+"()")
			if err != nil {
				return err
			}
			return rows.Close()
		},
	} {
		e.insert(t, db, 3+i)
		if err := call(); err == nil || !strings.Contains(err.Error(), "could not be rolled back") {
			t.Fatalf("CALL %d of a procedure that commits: err = %v; want it reported", i, err)
		}
	}
	e.insert(t, db, 5)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	var ids []int
	rows, err := e.plain.Query("SELECT id FROM " + e.table + " ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int
		rows.Scan(&id)
		ids = append(ids, id)
	}
	rows.Close()
	if fmt.Sprint(ids) != "[1 2 3 4]" {
		t.Fatalf("rows after Close = %v; want [1 2 3 4]: the writes before each commit are the ones the errors report, the one after the last is rolled back", ids)
	}
}

// TestForceRollbackSavepoints: savepoints behave as in production. A nested
// Transact whose function fails rolls back only its own writes; raw
// SAVEPOINT, ROLLBACK TO and RELEASE work; a misspelt savepoint name is an
// error that leaves the outer transaction usable.
func TestForceRollbackSavepoints(t *testing.T) {
	errInner := errors.New("inner fails")
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		e := newFREnv(t, b)
		db := e.open(t)
		ctx := context.Background()
		for round := range 3 { // the statement savepoints must not pile up or collide
			base := 10 * round
			err := databases.Transact(ctx, db, nil, func(ctx context.Context, tx *sql.Tx) error {
				e.insert(t, tx, base+1)
				err := databases.Transact(ctx, db, nil, func(ctx context.Context, tx *sql.Tx) error {
					e.insert(t, tx, base+2)
					return errInner
				})
				if err != errInner {
					return fmt.Errorf("nested Transact: %w; want only the function's error", err)
				}
				return databases.Transact(ctx, db, nil, func(ctx context.Context, tx *sql.Tx) error {
					e.insert(t, tx, base+3)
					return nil
				})
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		if n := count(t, db, e.table); n != 6 {
			t.Fatalf("%d rows after nested Transact calls; want 6 (the failed inner ones rolled back)", n)
		}

		// An inner function whose statement fails: only the savepoint is
		// rolled back.
		err := databases.Transact(ctx, db, nil, func(ctx context.Context, tx *sql.Tx) error {
			e.insert(t, tx, 50)
			err := databases.Transact(ctx, db, nil, func(ctx context.Context, tx *sql.Tx) error {
				e.insert(t, tx, 51)
				_, err := tx.ExecContext(ctx, "INSERT INTO "+e.table+" (id) VALUES (?)", 50)
				return err
			})
			if err == nil || strings.Contains(err.Error(), "does not exist") {
				return fmt.Errorf("nested Transact with a duplicate key: %v; want only the duplicate key error", err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if n := count(t, db, e.table); n != 7 {
			t.Fatalf("%d rows; want 7", n)
		}
		// Savepoint commands prepared, and sent as queries.
		st, err := db.Prepare("SAVEPOINT p")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Exec(); err != nil {
			t.Fatal(err)
		}
		st.Close()
		e.insert(t, db, 60)
		rows, err := db.Query("ROLLBACK TO SAVEPOINT p")
		if err != nil {
			t.Fatal(err)
		}
		rows.Close()
		if st, err = db.Prepare("RELEASE SAVEPOINT p"); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Exec(); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Exec(); err == nil {
			t.Fatal("RELEASE of a released savepoint succeeded")
		}
		st.Close()
		if n := count(t, db, e.table); n != 7 {
			t.Fatalf("%d rows; want 7", n)
		}
		if _, err := db.Exec("DELETE FROM " + e.table + " WHERE id >= 50"); err != nil {
			t.Fatal(err)
		}

		exec := func(q string) error { _, err := db.ExecContext(ctx, q); return err }
		must := func(q string) {
			t.Helper()
			if err := exec(q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		must("SAVEPOINT a")
		e.insert(t, db, 100)
		must("ROLLBACK TO SAVEPOINT a")
		e.insert(t, db, 101)
		must("RELEASE SAVEPOINT a")
		if err := exec("RELEASE SAVEPOINT nosuch"); err == nil {
			t.Fatal("RELEASE of a savepoint that does not exist succeeded")
		}
		if err := exec("ROLLBACK TO SAVEPOINT nosuch"); err == nil {
			t.Fatal("ROLLBACK TO a savepoint that does not exist succeeded")
		}
		must("SAVEPOINT b")
		if err := exec("SAVEPOINT"); err == nil {
			t.Fatal("SAVEPOINT without a name succeeded")
		}
		e.insert(t, db, 102)
		must("ROLLBACK TO SAVEPOINT b")
		must("RELEASE SAVEPOINT b")
		e.insert(t, db, 103) // the outer transaction survived the errors
		if n := count(t, db, e.table); n != 8 {
			t.Fatalf("%d rows; want 8", n)
		}
		if b.Dialect == "postgres" {
			if err := exec("SAVEPOINT c; SELECT 1"); err == nil || !strings.Contains(err.Error(), "force_rollback") {
				t.Fatalf("a savepoint command beside another statement: err = %v; want it refused", err)
			}
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		if n := e.left(t); n != 0 {
			t.Fatalf("%d rows left after Close", n)
		}
	})
}

// TestForceRollbackFailedPrepare: a Prepare the server rejects leaves the
// outer transaction usable.
func TestForceRollbackFailedPrepare(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		e := newFREnv(t, b)
		db := e.open(t)
		e.insert(t, db, 1)
		if _, err := db.Prepare("SELECT * FROM " + e.table + "_missing"); err == nil {
			t.Fatal("Prepare of a missing table succeeded")
		}
		e.insert(t, db, 2)
		if n := count(t, db, e.table); n != 2 {
			t.Fatalf("%d rows; want 2", n)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		if n := e.left(t); n != 0 {
			t.Fatalf("%d rows left after Close", n)
		}
	})
}

// TestForceRollbackDriverConn: inside sql.Conn.Raw, DriverConn gives the
// real driver's connection in this mode too, so pgx CopyFrom works; its
// rows are rolled back at Close, and on PostgreSQL a failed copy leaves the
// outer transaction usable.
func TestForceRollbackDriverConn(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		e := newFREnv(t, b)
		db := e.open(t)
		ctx := context.Background()
		e.insert(t, db, 1)
		other, err := db.Conn(ctx) // a second connection of the pool, used after Raw
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		conn, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		err = conn.Raw(func(dc any) error {
			real := databases.DriverConn(dc)
			if b.Dialect != "postgres" {
				if name := fmt.Sprintf("%T", real); strings.Contains(name, "databases") {
					return fmt.Errorf("DriverConn returned %s, not the real driver's connection", name)
				}
				return nil
			}
			pc, ok := real.(*stdlib.Conn)
			if !ok {
				return fmt.Errorf("DriverConn returned %T; want *stdlib.Conn", real)
			}
			n, err := pc.Conn().CopyFrom(ctx, pgx.Identifier{e.table}, []string{"id"}, pgx.CopyFromRows([][]any{{2}, {3}}))
			if err != nil || n != 2 {
				return fmt.Errorf("CopyFrom = %d, %v", n, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if b.Dialect == "postgres" {
			err = conn.Raw(func(dc any) error {
				_, err := databases.DriverConn(dc).(*stdlib.Conn).Conn().CopyFrom(ctx, pgx.Identifier{e.table}, []string{"id"}, pgx.CopyFromRows([][]any{{1}}))
				return err
			})
			if err == nil {
				t.Fatal("CopyFrom of a duplicate key succeeded")
			}
		}
		if err := conn.Close(); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		e.insert(t, other, 4) // the hold ended when conn went back to the pool
		if d := time.Since(start); d > time.Second {
			t.Fatalf("another connection waited %v after the sql.Conn given the real connection was closed", d)
		}
		want := 2
		if b.Dialect == "postgres" {
			want = 4
		}
		if n := count(t, db, e.table); n != want {
			t.Fatalf("%d rows; want %d", n, want)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		if n := e.left(t); n != 0 {
			t.Fatalf("%d rows left after Close", n)
		}
	})
}

// TestForceRollbackMultiResultSets: MySQL multi-statement results keep all
// their result sets in this mode, read as they come or read into memory
// because another connection needed the shared one.
func TestForceRollbackMultiResultSets(t *testing.T) {
	b := dbtest.Backends()[2]
	b.Require(t)
	e := newFREnv(t, b)
	db := e.open(t, "multiStatements=true")
	ctx := context.Background()
	for _, detach := range []bool{false, true} {
		rows, err := db.QueryContext(ctx, "SELECT 1 UNION ALL SELECT 2; SELECT 'a', 'b'; SELECT 3")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		set := 0
		for {
			for rows.Next() {
				cols, _ := rows.Columns()
				vals := make([]any, len(cols))
				ptrs := make([]any, len(cols))
				for i := range vals {
					ptrs[i] = &vals[i]
				}
				if err := rows.Scan(ptrs...); err != nil {
					t.Fatal(err)
				}
				for i, v := range vals {
					if b, ok := v.([]byte); ok {
						vals[i] = string(b)
					}
				}
				got = append(got, fmt.Sprintf("%d:%v", set, vals))
				if detach && set == 0 && len(got) == 1 {
					e.insert(t, db, 1) // another connection: the rows are read into memory
				}
			}
			if !rows.NextResultSet() {
				break
			}
			set++
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		if want := "[0:[1] 0:[2] 1:[a b] 2:[3]]"; fmt.Sprint(got) != want {
			t.Errorf("detached %v: read %v; want %v", detach, got, want)
		}
	}
}

// TestForceRollbackMySQLDeadlock: a deadlock makes MySQL roll back the
// whole outer transaction. The error says so, keeps the driver's error
// reachable, and a new outer transaction begins, so that what the test
// writes afterwards is rolled back at Close rather than committed one
// statement at a time.
func TestForceRollbackMySQLDeadlock(t *testing.T) {
	b := dbtest.Backends()[2]
	b.Require(t)
	e := newFREnv(t, b)
	ctx := context.Background()
	for _, id := range []int{1, 2} {
		e.insert(t, e.plain, id)
	}
	other := createTable(t, e.plain, "frweight", "id INTEGER PRIMARY KEY")
	db := e.open(t)
	e.insert(t, db, 100)

	tx, err := e.plain.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	for i := range 50 { // more work than the force_rollback side: it is the victim
		if _, err := tx.Exec("INSERT INTO "+other+" (id) VALUES (?)", i); err != nil {
			t.Fatal(err)
		}
	}
	lock := func(q interface {
		ExecContext(context.Context, string, ...any) (sql.Result, error)
	}, id int) error {
		_, err := q.ExecContext(ctx, "SELECT id FROM "+e.table+" WHERE id = ? FOR UPDATE", id)
		return err
	}
	if err := lock(tx, 1); err != nil {
		t.Fatal(err)
	}
	if err := lock(db, 2); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- lock(tx, 2) }()
	time.Sleep(300 * time.Millisecond)
	err = lock(db, 1)
	var myErr *mysql.MySQLError
	if err == nil || !errors.As(err, &myErr) || myErr.Number != 1213 || !strings.Contains(err.Error(), "rolled back the outer transaction") {
		t.Fatalf("deadlock: err = %v; want the MySQL 1213 error, saying the outer transaction was rolled back", err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	tx.Rollback()
	e.insert(t, db, 101)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := e.plain.QueryRow("SELECT COUNT(*) FROM " + e.table + " WHERE id >= 100").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("%d rows written in force_rollback mode left after Close", n)
	}
}

// TestForceRollbackCloseLeakedTx: Close of a DB whose transaction was never
// ended waits for it a bounded time, rolls everything back all the same and
// says why; the forgotten transaction then fails cleanly.
func TestForceRollbackCloseLeakedTx(t *testing.T) {
	if testing.Short() {
		t.Skip("waits 5 s")
	}
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		t.Parallel()
		e := newFREnv(t, b)
		db := e.open(t)
		tx, err := db.Begin()
		if err != nil {
			t.Fatal(err)
		}
		e.insert(t, tx, 1)
		start := time.Now()
		err = db.Close()
		if err == nil || !strings.Contains(err.Error(), "transaction") {
			t.Errorf("Close with a transaction left open: err = %v; want it said", err)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("Close took %v", d)
		}
		if _, err := tx.Exec("INSERT INTO " + e.table + " (id) VALUES (2)"); err == nil {
			t.Error("the forgotten transaction ran a statement after Close")
		}
		tx.Rollback()
		if n := e.left(t); n != 0 {
			t.Fatalf("%d rows left after Close", n)
		}
	})
}
