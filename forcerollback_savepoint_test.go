package databases_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/go-databases/databases"
	"github.com/go-databases/databases/internal/dbtest"
)

// TestRollbackAfterSubtests: each subtest that calls RollbackAfter starts
// from the state its parent left and leaves it so, nested subtests too,
// with transactions, prepared statements and open rows inside; the DB stays
// open throughout and Close still leaves nothing.
func TestRollbackAfterSubtests(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		e := newFREnv(t, b)
		db := e.open(t)
		ctx := context.Background()
		rows := func(t *testing.T) int { t.Helper(); return count(t, db, e.table) }
		e.insert(t, db, 1) // the parent's fixture
		for i := range 3 {
			var open *sql.Rows // left open past the subtest: rolling back reads it into memory
			t.Run(fmt.Sprint("sub", i), func(t *testing.T) {
				databases.RollbackAfter(t, db)
				if n := rows(t); n != 1 {
					t.Fatalf("subtest starts with %d rows; want the parent's 1", n)
				}
				e.insert(t, db, 10+i)
				err := databases.Transact(ctx, db, nil, func(ctx context.Context, tx *sql.Tx) error {
					e.insert(t, tx, 20+i)
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				st, err := db.Prepare("INSERT INTO " + e.table + " (id) VALUES (?)")
				if err != nil {
					t.Fatal(err)
				}
				defer st.Close()
				if _, err := st.Exec(30 + i); err != nil {
					t.Fatal(err)
				}
				t.Run("nested", func(t *testing.T) {
					databases.RollbackAfter(t, db)
					e.insert(t, db, 40+i)
					if n := rows(t); n != 5 {
						t.Fatalf("%d rows in the nested subtest; want 5", n)
					}
				})
				if n := rows(t); n != 4 {
					t.Fatalf("%d rows after the nested subtest; want 4", n)
				}
				if open, err = db.Query("SELECT id FROM " + e.table + " ORDER BY id"); err != nil {
					t.Fatal(err)
				}
			})
			var ids []int
			for open != nil && open.Next() {
				var id int
				open.Scan(&id)
				ids = append(ids, id)
			}
			if open == nil || open.Err() != nil || len(ids) != 4 {
				t.Fatalf("rows opened in the subtest and read after it: %v", ids)
			}
			open.Close()
		}
		if n := rows(t); n != 1 {
			t.Fatalf("%d rows after the subtests; want the parent's 1", n)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		if n := e.left(t); n != 0 {
			t.Fatalf("%d rows left after Close", n)
		}
	})
}

// fakeT records what RollbackAfter reports, to test its failures.
type fakeT struct {
	name     string
	cleanups []func()
	errs     []string
}

func (f *fakeT) Helper()           {}
func (f *fakeT) Name() string      { return f.name }
func (f *fakeT) Cleanup(fn func()) { f.cleanups = append(f.cleanups, fn) }
func (f *fakeT) Errorf(format string, args ...any) {
	f.errs = append(f.errs, fmt.Sprintf(format, args...))
}
func (f *fakeT) Fatalf(format string, args ...any) {
	f.errs = append(f.errs, fmt.Sprintf(format, args...))
}
func (f *fakeT) end() {
	for i := len(f.cleanups) - 1; i >= 0; i-- {
		f.cleanups[i]()
	}
}

// TestSavepointMisuse: the helpers say clearly when they cannot work: on a
// DB that is not in force_rollback mode, for subtests that overlap in time,
// for savepoints rolled back out of order or twice.
func TestSavepointMisuse(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		e := newFREnv(t, b)
		ctx := context.Background()
		if _, err := databases.Savepoint(ctx, e.plain); err == nil || !strings.Contains(err.Error(), "databases.Savepoint: this DB is not in force_rollback mode") || !strings.Contains(err.Error(), "force_rollback=true") {
			t.Errorf("Savepoint on a normal DB: err = %v; want it to name Savepoint, say the DB is not in force_rollback mode, and how to open one", err)
		}
		plainT := &fakeT{name: "TestX"}
		databases.RollbackAfter(plainT, e.plain)
		if len(plainT.errs) != 1 || !strings.Contains(plainT.errs[0], "databases.RollbackAfter: this DB is not in force_rollback mode") {
			t.Errorf("RollbackAfter on a normal DB: reported %q; want it to say the DB is not in force_rollback mode", plainT.errs)
		}
		db := e.open(t)

		a, b2 := &fakeT{name: "TestX/a"}, &fakeT{name: "TestX/b"}
		databases.RollbackAfter(a, db)
		databases.RollbackAfter(b2, db) // a sibling while a is running: parallel subtests
		if len(b2.errs) != 1 || !strings.Contains(b2.errs[0], "TestX/a and TestX/b") {
			t.Errorf("overlapping subtests: reported %q; want both named", b2.errs)
		}
		child := &fakeT{name: "TestX/a/child"}
		databases.RollbackAfter(child, db)
		e.insert(t, db, 1)
		child.end()
		a.end()
		if len(a.errs)+len(child.errs) != 0 {
			t.Errorf("nested subtests reported %q %q", a.errs, child.errs)
		}

		outer, err := databases.Savepoint(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		inner, err := databases.Savepoint(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		e.insert(t, db, 2)
		if err := outer(); err == nil || !strings.Contains(err.Error(), "innermost first") {
			t.Errorf("rolling back the outer savepoint first: err = %v", err)
		}
		if n := count(t, db, e.table); n != 1 {
			t.Errorf("%d rows after a refused rollback; want 1 (left as it was)", n)
		}
		if err := inner(); err != nil {
			t.Fatal(err)
		}
		if err := inner(); err == nil {
			t.Error("rolling back twice succeeded")
		}
		if err := outer(); err != nil {
			t.Fatal(err)
		}
		if n := count(t, db, e.table); n != 0 {
			t.Errorf("%d rows after rolling back; want 0", n)
		}
	})
}
