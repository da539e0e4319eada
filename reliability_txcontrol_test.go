package databases_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/go-databases/databases"
	"github.com/go-databases/databases/internal/dbtest"
)

// durableURL is a URL of b whose data outlives its *sql.DB: a file for
// SQLite, and MySQL with multi-statement strings allowed.
func durableURL(t *testing.T, b dbtest.Backend) string {
	switch b.Dialect {
	case "sqlite":
		return "sqlite:///" + filepath.Join(t.TempDir(), "durable.db")
	case "mysql":
		return b.URL + sep(b.URL) + "multiStatements=true"
	}
	return b.URL
}

// TestReliabilityLeakedTx opens a transaction outside BeginTx through every
// door, on a pool of one connection, then writes with db.Exec: that write
// was acknowledged, so it must be there after Close.
func TestReliabilityLeakedTx(t *testing.T) {
	var procedures []string
	exec := func(q string) func(*sql.DB) error {
		return func(db *sql.DB) error { _, err := db.Exec(q); return err }
	}
	prepared := func(q string) func(*sql.DB) error {
		return func(db *sql.DB) error {
			st, err := db.Prepare(q)
			if err != nil {
				return err
			}
			defer st.Close()
			_, err = st.Exec()
			return err
		}
	}
	tests := []struct {
		name     string
		dialects string // "" for all
		leak     func(*sql.DB) error
	}{
		{"plain BEGIN", "", exec("BEGIN")},
		{"form feed", "", exec("\fBEGIN")},
		{"line comment", "", exec("-- why\nBEGIN")},
		{"hash comment", "mysql", exec("# note\nBEGIN")},
		{"nested comment", "postgres", exec("/* a /* b */ c */ BEGIN")},
		{"executable comment", "mysql", exec("/*!40000 BEGIN */")},
		{"after a semicolon", "sqlite mysql postgres", exec("SELECT 1; BEGIN")},
		{"START TRANSACTION", "mysql postgres", exec("START TRANSACTION")},
		{"XA START", "mysql", exec("XA START 'leak'")},
		{"SET autocommit=0", "mysql", exec("SET autocommit=0")},
		{"SET @@session.autocommit", "mysql", exec("SET @@session.autocommit = OFF")},
		{"SAVEPOINT outside a transaction", "sqlite", exec("SAVEPOINT x")},
		{"prepared BEGIN", "sqlite mysql postgres", prepared("BEGIN")},
		{"prepared START TRANSACTION", "mysql", prepared("START TRANSACTION")},
		{"prepared SET autocommit", "mysql", prepared("SET autocommit=0")},
		{"prepared SAVEPOINT", "sqlite", prepared("SAVEPOINT x")},
		{"procedure", "mysql", func(db *sql.DB) error {
			name := dbtest.Name("begins")
			if _, err := db.Exec("CREATE PROCEDURE " + name + "() BEGIN START TRANSACTION; END"); err != nil {
				return err
			}
			// Dropped by the test's cleanup: DROP here would commit the
			// transaction the procedure leaves open.
			procedures = append(procedures, name)
			_, err := db.Exec("CALL " + name + "()")
			return err
		}},
	}
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		for _, tt := range tests {
			if tt.dialects != "" && !strings.Contains(tt.dialects, b.Dialect) {
				continue
			}
			t.Run(tt.name, func(t *testing.T) {
				url := durableURL(t, b)
				db, err := databases.Open(url)
				if err != nil {
					t.Fatal(err)
				}
				defer db.Close()
				db.SetMaxOpenConns(1)
				table := dbtest.Name("leak")
				if _, err := db.Exec("CREATE TABLE " + table + " (id INTEGER PRIMARY KEY)"); err != nil {
					t.Fatal(err)
				}
				if err := tt.leak(db); err != nil {
					t.Fatalf("leaking statement: %v", err)
				}
				if _, err := db.Exec("INSERT INTO "+table+" (id) VALUES (?)", 2); err != nil {
					t.Fatal(err)
				}
				db.Close()

				check, err := databases.Open(url)
				if err != nil {
					t.Fatal(err)
				}
				defer check.Close()
				defer check.Exec("DROP TABLE " + table)
				for _, p := range procedures {
					check.Exec("DROP PROCEDURE " + p)
				}
				procedures = nil
				if n := count(t, check, table); n != 1 {
					t.Fatalf("after Close the table has %d rows; the acknowledged INSERT was lost", n)
				}
			})
		}
	})
}

// TestReliabilityTxControlInsideTx: inside a BeginTx transaction, a statement
// that would end it, open another or switch autocommit is refused, in every
// dressing, and the transaction keeps its meaning: Rollback undoes all.
func TestReliabilityTxControlInsideTx(t *testing.T) {
	tests := []struct {
		dialects string
		query    string
	}{
		{"", "COMMIT"},
		{"", "commit /* c */"},
		{"", "SELECT 1; COMMIT"},
		{"", "ROLLBACK"},
		{"", "BEGIN"},
		{"sqlite postgres", "END"},
		{"postgres", "ABORT"},
		{"mysql postgres", "START TRANSACTION"},
		{"mysql", "# c\nCOMMIT"},
		{"mysql", "/*!40000 COMMIT */"},
		{"mysql", "SET autocommit=0"},
		{"mysql", "SET autocommit=1"},
		{"mysql", "XA END 'x'"},
	}
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		url := durableURL(t, b)
		db, err := databases.Open(url)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		table := createTable(t, db, "inside", "id INTEGER PRIMARY KEY")
		for _, tt := range tests {
			if tt.dialects != "" && !strings.Contains(tt.dialects, b.Dialect) {
				continue
			}
			for _, prepared := range []bool{false, true} {
				tx, err := db.Begin()
				if err != nil {
					t.Fatal(err)
				}
				if _, err := tx.Exec("INSERT INTO "+table+" (id) VALUES (?)", 1); err != nil {
					t.Fatal(err)
				}
				if prepared {
					var st *sql.Stmt
					if st, err = tx.Prepare(tt.query); err == nil {
						_, err = st.Exec()
						st.Close()
					}
				} else {
					_, err = tx.Exec(tt.query)
				}
				if err == nil || !strings.Contains(err.Error(), "would end or replace the transaction") || !strings.Contains(err.Error(), "byte offset") {
					t.Errorf("%q (prepared %v) inside a transaction: err = %v, want a refusal", tt.query, prepared, err)
				}
				if _, err := tx.Exec("INSERT INTO "+table+" (id) VALUES (?)", 2); err != nil {
					t.Fatalf("%q: the transaction is not usable after the refusal: %v", tt.query, err)
				}
				if err := tx.Rollback(); err != nil {
					t.Fatal(err)
				}
				if n := count(t, db, table); n != 0 {
					t.Fatalf("%q (prepared %v): %d rows after Rollback; want 0", tt.query, prepared, n)
				}
			}
		}
	})
}

// TestReliabilityMySQLAutocommit: SET autocommit=0 inside a
// transaction is refused, so the connection goes back to the pool in
// autocommit and the next user's write is committed.
func TestReliabilityMySQLAutocommit(t *testing.T) {
	b := dbtest.Backends()[2]
	b.Require(t)
	db, err := databases.Open(b.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	table := createTable(t, db, "autocommit", "id INTEGER PRIMARY KEY")
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec("SET autocommit=0"); err == nil {
		t.Error("SET autocommit=0 inside a transaction was accepted")
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("INSERT INTO " + table + " (id) VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	var autocommit int
	if err := db.QueryRow("SELECT @@autocommit").Scan(&autocommit); err != nil || autocommit != 1 {
		t.Fatalf("@@autocommit = %d (%v) on the pooled connection; want 1", autocommit, err)
	}
	other, err := databases.Open(b.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if n := count(t, other, table); n != 1 {
		t.Fatalf("another connection sees %d rows; want 1", n)
	}
}

// TestReliabilityMySQLImplicitCommit: DDL inside a MySQL transaction commits what came
// before (MySQL does so, nothing can undo it); what comes after stays in a
// transaction, so Rollback undoes it. A read-only transaction refuses the
// DDL, in every dressing, and stays read-only.
func TestReliabilityMySQLImplicitCommit(t *testing.T) {
	b := dbtest.Backends()[2]
	b.Require(t)
	db, err := databases.Open(b.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	table := createTable(t, db, "implicit", "id INTEGER PRIMARY KEY")
	scratch := dbtest.Name("scratch")
	defer db.Exec("DROP TABLE IF EXISTS " + scratch)

	t.Run("read-write", func(t *testing.T) {
		tx, err := db.Begin()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec("INSERT INTO " + table + " (id) VALUES (1)"); err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec("CREATE TABLE IF NOT EXISTS " + scratch + " (x INT)"); err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec("INSERT INTO " + table + " (id) VALUES (2)"); err != nil {
			t.Fatal(err)
		}
		var inTx int
		if err := tx.QueryRow("SELECT @@in_transaction").Scan(&inTx); err != nil || inTx != 1 {
			t.Fatalf("@@in_transaction = %d (%v) after the DDL; want 1", inTx, err)
		}
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
		var ids []int
		rows, err := db.Query("SELECT id FROM " + table + " ORDER BY id")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id int
			rows.Scan(&id)
			ids = append(ids, id)
		}
		rows.Close()
		if len(ids) != 1 || ids[0] != 1 {
			t.Fatalf("rows %v after Rollback; want [1] (committed by the DDL; 2 rolled back)", ids)
		}
	})

	t.Run("procedure", func(t *testing.T) {
		// A procedure that commits: the text cannot show it, so the server
		// is asked after CALL. What came before is committed (MySQL's
		// rule); what comes after is in a new transaction.
		proc := dbtest.Name("commits")
		if _, err := db.Exec("CREATE PROCEDURE " + proc + "() BEGIN COMMIT; END"); err != nil {
			t.Fatal(err)
		}
		defer db.Exec("DROP PROCEDURE " + proc)
		tx, err := db.Begin()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec("INSERT INTO " + table + " (id) VALUES (10)"); err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec("/* c */ CALL " + proc + "()"); err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec("INSERT INTO " + table + " (id) VALUES (11)"); err != nil {
			t.Fatal(err)
		}
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
		var ids []int
		rows, err := db.Query("SELECT id FROM " + table + " WHERE id >= 10 ORDER BY id")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id int
			rows.Scan(&id)
			ids = append(ids, id)
		}
		rows.Close()
		if len(ids) != 1 || ids[0] != 10 {
			t.Fatalf("rows %v after Rollback; want [10] (committed by the procedure; 11 rolled back)", ids)
		}
		if _, err := db.Exec("DELETE FROM " + table + " WHERE id = 10"); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("read-only", func(t *testing.T) {
		for _, ddl := range []string{
			"CREATE TABLE IF NOT EXISTS " + scratch + " (x INT)",
			"/* c */ create table if not exists " + scratch + " (x INT)",
			"/*!40000 ALTER TABLE " + table + " DISABLE KEYS */",
			"SELECT 1; CHECK TABLE " + table,
			"ANALYZE TABLE " + table,
			"FLUSH TABLES",
		} {
			for _, prepared := range []bool{false, true} {
				tx, err := db.BeginTx(context.Background(), &sql.TxOptions{ReadOnly: true})
				if err != nil {
					t.Fatal(err)
				}
				if prepared {
					var st *sql.Stmt
					if st, err = tx.Prepare(ddl); err == nil {
						_, err = st.Exec()
						st.Close()
					}
				} else {
					_, err = tx.Exec(ddl)
				}
				if err == nil || !strings.Contains(err.Error(), "commits the open transaction implicitly") {
					t.Errorf("%q (prepared %v) in a read-only transaction: err = %v, want a refusal", ddl, prepared, err)
				}
				if _, err := tx.Exec("DELETE FROM " + table); err == nil {
					t.Errorf("after %q, DELETE in the read-only transaction was accepted", ddl)
				}
				if err := tx.Rollback(); err != nil {
					t.Fatal(err)
				}
			}
		}
		if n := count(t, db, table); n != 1 {
			t.Fatalf("%d rows after the read-only transactions; want 1", n)
		}
	})
}

// TestFaultNestedDeadlock: a deadlock inside a nested Transact
// on MySQL rolls the whole transaction back on the server; the outer
// function goes on as documented, but its later statements must not
// autocommit. Transact retries the whole transaction, and both the outer
// rows are there exactly once.
func TestFaultNestedDeadlock(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		if b.Dialect == "sqlite" {
			t.Skip("SQLite has one writer at a time: no deadlock between two transactions")
		}
		db, err := databases.Open(b.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		locks := createTable(t, db, "locks", "id INTEGER PRIMARY KEY, v INTEGER")
		out := createTable(t, db, "outer", "id INTEGER PRIMARY KEY")
		if _, err := db.Exec("INSERT INTO " + locks + " (id, v) VALUES (1, 0), (2, 0)"); err != nil {
			t.Fatal(err)
		}
		heavy := createTable(t, db, "heavy", "id INTEGER PRIMARY KEY")

		ctx := context.Background()
		attempts := 0
		var nestedErr error
		other := func() {}
		err = databases.Transact(ctx, db, nil, func(ctx context.Context, tx *sql.Tx) error {
			attempts++
			if _, err := tx.ExecContext(ctx, "INSERT INTO "+out+" (id) VALUES (101)"); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, "UPDATE "+locks+" SET v = v + 1 WHERE id = 1"); err != nil {
				return err
			}
			if attempts == 1 {
				nestedErr = databases.Transact(ctx, db, nil, func(ctx context.Context, tx *sql.Tx) error {
					var err error
					other, err = deadlock(t, db, tx, b.Dialect, locks, heavy)
					return err
				})
				// The documented contract: a failed nested call was rolled
				// back to its savepoint, and the outer function may go on.
			}
			_, err := tx.ExecContext(ctx, "INSERT INTO "+out+" (id) VALUES (201)")
			return err
		})
		other()
		if nestedErr == nil || !databases.IsRetryable(nestedErr) {
			t.Fatalf("nested Transact: %v; want the deadlock", nestedErr)
		}
		if err != nil {
			t.Fatalf("Transact: %v", err)
		}
		if attempts != 2 && b.Dialect == "mysql" {
			t.Errorf("%d attempts; want 2 (the server ended the first)", attempts)
		}
		if n := count(t, db, out); n != 2 {
			t.Fatalf("%d outer rows; want 2 (101 and 201)", n)
		}
	})
}

// deadlock makes tx the victim of a deadlock: tx holds row 1 and waits for
// row 2, which another transaction holds; that one then asks for row 1.
// MySQL picks the transaction that wrote less (tx; the other wrote 50
// rows), PostgreSQL the one that waited longest (tx again).
// The other transaction may wait until tx's outer transaction ends; wait
// for it with the returned function after that.
func deadlock(t *testing.T, db *sql.DB, tx *sql.Tx, dialect, locks, heavy string) (func(), error) {
	other, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		if _, err := other.Exec("INSERT INTO "+heavy+" (id) VALUES (?)", i); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := other.Exec("UPDATE " + locks + " SET v = v + 1 WHERE id = 2"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	lockWait := lockWaiter(ctx, t, db, tx, dialect)
	var wg sync.WaitGroup
	done := make(chan error, 1)
	wg.Go(func() {
		defer cancel()
		// Once the server shows tx waiting for row 2, not after a sleep.
		if err := lockWait(done); err != nil {
			t.Errorf("tx did not wait for row 2: %v", err)
			other.Rollback()
			return
		}
		if _, err := other.Exec("UPDATE " + locks + " SET v = v + 1 WHERE id = 1"); err != nil {
			t.Errorf("the other transaction: %v", err)
		}
		other.Rollback()
	})
	_, err = tx.Exec("UPDATE " + locks + " SET v = v + 1 WHERE id = 2")
	done <- err
	return wg.Wait, err
}

// TestReliabilityNestedSiblings: two nested Transact calls on one transaction
// at once would interleave their savepoints; the second is refused at once
// and the first one's work is kept.
func TestReliabilityNestedSiblings(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		db, err := databases.Open(b.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		table := createTable(t, db, "siblings", "id INTEGER PRIMARY KEY")
		ctx := context.Background()
		err = databases.Transact(ctx, db, nil, func(ctx context.Context, tx *sql.Tx) error {
			inside, release := make(chan struct{}), make(chan struct{})
			var wg sync.WaitGroup
			var first error
			wg.Go(func() {
				first = databases.Transact(ctx, db, nil, func(ctx context.Context, tx *sql.Tx) error {
					_, err := tx.ExecContext(ctx, "INSERT INTO "+table+" (id) VALUES (1)")
					close(inside)
					<-release
					return err
				})
			})
			<-inside
			second := databases.Transact(ctx, db, nil, func(ctx context.Context, tx *sql.Tx) error {
				t.Error("the second sibling ran")
				return errors.New("ran")
			})
			close(release)
			wg.Wait()
			if second == nil || !strings.Contains(second.Error(), "already running") {
				t.Errorf("second sibling: %v; want a refusal", second)
			}
			return first
		})
		if err != nil {
			t.Fatal(err)
		}
		if n := count(t, db, table); n != 1 {
			t.Fatalf("%d rows; want 1", n)
		}
	})
}

// TestFaultLockWaitTimeout: MySQL's lock wait timeout is not retried, so
// Transact gives up after one wait with error 1205.
func TestFaultLockWaitTimeout(t *testing.T) {
	b := dbtest.Backends()[2]
	b.Require(t)
	db, err := databases.Open(b.URL + sep(b.URL) + "innodb_lock_wait_timeout=1")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	table := createTable(t, db, "lockwait", "id INTEGER PRIMARY KEY, v INTEGER")
	if _, err := db.Exec("INSERT INTO " + table + " (id, v) VALUES (1, 0)"); err != nil {
		t.Fatal(err)
	}
	holder, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Rollback()
	if _, err := holder.Exec("UPDATE " + table + " SET v = 1 WHERE id = 1"); err != nil {
		t.Fatal(err)
	}
	attempts := 0
	start := time.Now()
	err = databases.Transact(context.Background(), db, nil, func(ctx context.Context, tx *sql.Tx) error {
		attempts++
		_, err := tx.ExecContext(ctx, "UPDATE "+table+" SET v = 2 WHERE id = 1")
		return err
	})
	var myErr *mysql.MySQLError
	if !errors.As(err, &myErr) || myErr.Number != 1205 {
		t.Fatalf("Transact: %v; want error 1205", err)
	}
	if attempts != 1 {
		t.Errorf("%d attempts after %v; want 1", attempts, time.Since(start))
	}
}

// TestFaultTransactCanceled: a context cancelled while fn runs is what Transact
// reports, with what fn saw kept in the chain.
func TestFaultTransactCanceled(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		db, err := databases.Open(b.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		table := createTable(t, db, "canceled", "id INTEGER PRIMARY KEY")
		for _, commit := range []bool{false, true} {
			ctx, cancel := context.WithCancel(context.Background())
			err = databases.Transact(ctx, db, nil, func(ctx context.Context, tx *sql.Tx) error {
				if _, err := tx.ExecContext(ctx, "INSERT INTO "+table+" (id) VALUES (1)"); err != nil {
					return err
				}
				cancel()
				if commit {
					return nil // leave it to Commit to find out
				}
				// database/sql rolls back when ctx ends; wait for it.
				for range 100 {
					if _, err := tx.Exec("SELECT 1"); errors.Is(err, sql.ErrTxDone) {
						return err
					}
					time.Sleep(10 * time.Millisecond)
				}
				return errors.New("the transaction outlived its context")
			})
			if !errors.Is(err, context.Canceled) {
				t.Errorf("commit %v: Transact: %v; want context.Canceled in the chain", commit, err)
			}
			if !commit && !errors.Is(err, sql.ErrTxDone) {
				t.Errorf("commit %v: Transact: %v; want what fn or Commit saw (sql.ErrTxDone) in the chain", commit, err)
			}
			if n := count(t, db, table); n != 0 {
				t.Fatalf("%d rows; want 0", n)
			}
		}
	})
}
