package databases

// Rolling a force_rollback DB back to an earlier state without closing it:
// Savepoint, and RollbackAfter for tests and subtests. Both mark the state
// with a savepoint of the outer transaction, taken and rolled back on the
// shared connection like any statement.

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// mark is a savepoint taken by Savepoint or RollbackAfter.
type mark struct {
	name string // the savepoint's
	test string // the test that took it; "" for Savepoint
}

// Savepoint works on force_rollback DBs only (the URL option
// force_rollback=true, or WithForceRollback); on any other DB it returns an
// error that says so, and a savepoint inside a transaction of your own is
// SAVEPOINT run on the *sql.Tx.
//
// It marks the present state of the force_rollback DB. rollback returns the
// DB to it, undoing everything done through db since then, on every
// connection of the pool; the DB stays open and usable. Marks nest: roll
// them back innermost first. Transactions begun after the mark must have
// ended before rollback, which otherwise waits up to 5 s for them and fails.
func Savepoint(ctx context.Context, db *sql.DB) (rollback func() error, err error) {
	rollback, err = savepoint(ctx, db, "")
	if errors.Is(err, errNotForceRollback) {
		err = fmt.Errorf("databases.Savepoint: %w", err)
	}
	return rollback, err
}

// errNotForceRollback is the error of Savepoint and RollbackAfter on a DB
// that is not in force_rollback mode.
var errNotForceRollback = errors.New("this DB is not in force_rollback mode, and Savepoint and RollbackAfter work only in it: open it with the URL option force_rollback=true (or WithForceRollback); for a savepoint in a transaction of your own, run SAVEPOINT on the *sql.Tx")

// TB is the part of testing.TB that RollbackAfter uses; *testing.T,
// *testing.B and *testing.F have it.
type TB interface {
	Helper()
	Name() string
	Cleanup(func())
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
}

// RollbackAfter undoes what t does through db when t ends: it takes a
// Savepoint and rolls back to it in t.Cleanup. Called first in each
// subtest, it makes every subtest start from the state its parent left,
// without closing the DB; subtests of subtests nest. Tests that share one
// DB must not run in parallel, since rolling back undoes whatever was done
// after the savepoint; RollbackAfter fails the test when two that are not
// nested overlap.
func RollbackAfter(t TB, db *sql.DB) {
	t.Helper()
	rollback, err := savepoint(context.Background(), db, t.Name())
	if err != nil {
		t.Fatalf("databases.RollbackAfter: %v", err)
		return
	}
	t.Cleanup(func() {
		if err := rollback(); err != nil {
			t.Errorf("databases.RollbackAfter: %v", err)
		}
	})
}

// savepoint takes a mark for test (or for no test).
func savepoint(ctx context.Context, db *sql.DB, test string) (func() error, error) {
	s, err := sharedOf(ctx, db)
	if err != nil {
		return nil, err
	}
	owner := &sharedConn{s: s}
	if err := s.acquire(ctx, owner); err != nil {
		return nil, err
	}
	defer s.release(owner)
	s.mu.Lock()
	if n := len(s.marks); n > 0 && test != "" {
		if top := s.marks[n-1]; top.test != "" && !strings.HasPrefix(test, top.test+"/") {
			s.mu.Unlock()
			return nil, fmt.Errorf("%s and %s hold savepoints of one force_rollback DB at the same time (parallel tests?); rolling back a savepoint undoes everything done after it, whoever did it, so tests that overlap need a DB each", top.test, test)
		}
	}
	s.mu.Unlock()
	m := &mark{name: fmt.Sprintf("databases_mark%d", s.seq.Add(1)), test: test}
	err = s.use(func() error {
		_, err := s.real.execOrPrepare(context.Background(), "SAVEPOINT "+m.name, nil)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.marks = append(s.marks, m)
	s.mu.Unlock()
	return func() error { return s.rollbackTo(m) }, nil
}

// sharedOf finds the shared connection behind db.
func sharedOf(ctx context.Context, db *sql.DB) (*shared, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	var s *shared
	err = conn.Raw(func(dc any) error {
		if u, ok := dc.(interface{ Unwrap() driver.Conn }); ok {
			if v, ok := u.Unwrap().(*sharedConn); ok {
				s = v.s
				return nil
			}
		}
		return errNotForceRollback
	})
	return s, err
}

// rollbackTo rolls back to m and releases it.
func (s *shared) rollbackTo(m *mark) error {
	owner := &sharedConn{s: s}
	if err := s.acquire(context.Background(), owner); err != nil {
		return fmt.Errorf("databases: cannot roll back to the savepoint: %w", err)
	}
	defer s.release(owner)
	s.mu.Lock()
	i := slices.Index(s.marks, m)
	switch {
	case i < 0:
		s.mu.Unlock()
		return errors.New("databases: the savepoint was rolled back already, or ended with the outer transaction")
	case i < len(s.marks)-1:
		later := s.marks[i+1]
		s.mu.Unlock()
		who := ""
		if later.test != "" {
			who = " (of " + later.test + ")"
		}
		return fmt.Errorf("databases: a savepoint taken later%s is still there: roll savepoints back innermost first; the DB was left as it is", who)
	}
	s.marks = s.marks[:i]
	s.mu.Unlock()
	return s.use(func() error {
		return s.endSavepoint("ROLLBACK TO SAVEPOINT "+m.name, "RELEASE SAVEPOINT "+m.name)
	})
}
