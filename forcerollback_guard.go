package databases

// What force_rollback does around each statement on the shared connection,
// so that nothing a test does outlives the outer transaction and nothing
// ends it early:
//
//   - Refused, whatever the dressing (comments, after a `;`, prepared, a
//     MySQL executable comment), read by classify: statements that would
//     end or replace the outer transaction (BEGIN, COMMIT, ROLLBACK, END,
//     ABORT, SET autocommit, XA, PREPARE TRANSACTION), and on MySQL those
//     the server commits implicitly before (DDL other than on temporary
//     tables, TRUNCATE, LOCK TABLES, ANALYZE/CHECK/OPTIMIZE/REPAIR TABLE,
//     FLUSH, …): after an implicit commit nothing written earlier can be
//     rolled back. On PostgreSQL, a savepoint command sharing a query with
//     other statements.
//   - On PostgreSQL every statement, Prepare included, runs inside a
//     savepoint of its own, since a failed statement aborts the whole
//     transaction there. The caller's savepoint commands (Transact's
//     among them) end it by the rules of guardKind, so that releasing the
//     guard's savepoint never releases the caller's.
//   - Afterwards the server is asked, where the text cannot tell, whether
//     the outer transaction is still open: on MySQL after CALL, EXECUTE and
//     compound statements (a procedure may commit) and after a server error
//     (a deadlock rolls the transaction back), on SQLite after a server
//     error, on PostgreSQL after every statement (pgx tracks it for free).
//     If it ended, a new outer transaction begins, so later writes are
//     still rolled back at Close, and the statement fails loudly.

import (
	"context"
	"errors"
	"fmt"
)

// guardKind is how a statement's PostgreSQL savepoint ends when the
// statement succeeds.
type guardKind uint8

const (
	// guardPlain: the savepoint is released.
	guardPlain guardKind = iota
	// guardKeep: the statement is SAVEPOINT x, established after the
	// guard's savepoint, which must stay beneath x; releasing it would
	// release x. It is harmless there, and released with whatever encloses
	// x (BeginTx's savepoint, a Savepoint mark).
	guardKeep
	// guardGone: the statement is RELEASE x or ROLLBACK TO x; x was
	// established before the guard's savepoint, which the statement has
	// therefore destroyed.
	guardGone
)

// check applies the refusals to a query about to be prepared or run and
// returns what it does to a transaction.
func (s *shared) check(query string) (txStatement, error) {
	b := s.connector.backend
	ts := classify(b, s.connector.cfg.MySQLMode, query)
	const where = "force_rollback: "
	switch control := ts.effect&(effBegin|effEnd|effAutocommit) != 0; {
	case control && ts.effect&effImplicitCommit != 0:
		return ts, ts.refuse(where, "would end the outer transaction, or commits it implicitly on MySQL, and force_rollback could then roll nothing back; use BeginTx or Transact, which become savepoints, and create the schema before opening the force_rollback DB")
	case control:
		return ts, ts.refuse(where, "would end the outer transaction; use BeginTx or Transact, which become savepoints")
	case ts.effect&effImplicitCommit != 0:
		return ts, ts.refuse(where, "commits implicitly on MySQL: the server would commit what the test wrote before it, and nothing could then roll that back; create the schema before opening the force_rollback DB, or use CREATE TEMPORARY TABLE, which does not commit")
	case ts.effect&effSavepoint != 0 && b.statementSavepoints() && ts.count > 1:
		return ts, ts.refuse(where, "shares a query with other statements; on PostgreSQL force_rollback runs each savepoint command alone (it guards every statement with a savepoint of its own), so send it by itself")
	}
	return ts, nil
}

// kindOf is the guard rule for a statement.
func kindOf(ts txStatement) guardKind {
	switch {
	case ts.effect&effSavepoint == 0:
		return guardPlain
	case ts.keyword == "SAVEPOINT":
		return guardKeep
	default:
		return guardGone
	}
}

// statementGuard is what surrounds one statement: its PostgreSQL savepoint
// and what to ask the server afterwards.
type statementGuard struct {
	ts   txStatement
	sp   string // "" off PostgreSQL
	kind guardKind
}

// openGuard opens the statement's savepoint on PostgreSQL; the caller holds
// the real connection (phys).
func (s *shared) openGuard(ts txStatement) (statementGuard, error) {
	g := statementGuard{ts: ts, kind: kindOf(ts)}
	if !s.connector.backend.statementSavepoints() {
		return g, nil
	}
	if err := s.dropPlans(context.Background()); err != nil {
		return g, err
	}
	g.sp = fmt.Sprintf("databases_stmt%d", s.seq.Add(1))
	_, err := s.real.execOrPrepare(context.Background(), "SAVEPOINT "+g.sp, nil)
	return g, err
}

// closeGuard ends the statement's savepoint, after the statement returned
// err, and checks the outer transaction; the caller holds phys. It returns
// the statement's error, or the error that says the outer transaction
// ended.
func (s *shared) closeGuard(g statementGuard, err error) error {
	ctx := context.Background()
	if g.sp != "" {
		status := byte('T') // a driver other than pgx does not tell
		if s.real.pg != nil {
			status = s.real.pg.TxStatus()
		}
		if status == 'I' {
			return s.reopen(g.ts, err)
		}
		failed := err != nil || status == 'E'
		var spErr error
		switch {
		case failed:
			if _, spErr = s.real.execOrPrepare(ctx, "ROLLBACK TO SAVEPOINT "+g.sp, nil); spErr == nil {
				_, spErr = s.real.execOrPrepare(ctx, "RELEASE SAVEPOINT "+g.sp, nil)
			}
		case g.kind == guardPlain:
			_, spErr = s.real.execOrPrepare(ctx, "RELEASE SAVEPOINT "+g.sp, nil)
		}
		if err == nil && status == 'E' {
			err = errors.New("databases: force_rollback: the statement left the transaction aborted; it was rolled back to before the statement")
		}
		if spErr != nil {
			return errors.Join(err, spErr)
		}
		return err
	}
	b := s.connector.backend
	if (b.implicitCommits() && g.ts.effect&effUnknown != 0) || (err != nil && !b.statementSavepoints() && mayEndTx(err)) {
		open, askErr := s.real.txOpen(ctx, b)
		if askErr != nil {
			return errors.Join(err, askErr)
		}
		if !open {
			return s.reopen(g.ts, err)
		}
	}
	return err
}

// reopen begins a new outer transaction after a statement ended the last
// one, and returns the error that says so.
func (s *shared) reopen(ts txStatement, cause error) error {
	e := &outerEndedError{ts: ts, cause: cause}
	s.mu.Lock()
	s.marks = nil // gone with the transaction
	s.mu.Unlock()
	if err := s.begin(); err != nil {
		e.beginErr = err
	}
	return e
}

// outerEndedError says that a statement ended the outer transaction.
type outerEndedError struct {
	ts       txStatement
	cause    error // the statement's error, if it failed
	beginErr error // beginning a new outer transaction failed too
}

func (e *outerEndedError) Error() string {
	var msg string
	switch {
	case e.ts.effect != 0:
		msg = fmt.Sprintf("databases: force_rollback: %s (byte offset %d) ended the outer transaction (a COMMIT or ROLLBACK the text does not show, in a procedure say): what the test wrote before it was committed, if it committed, and could not be rolled back at Close", e.ts.keyword, e.ts.offset)
		if e.cause != nil {
			msg += "; the statement failed: " + e.cause.Error()
		}
	case e.cause != nil:
		msg = "databases: force_rollback: the server rolled back the outer transaction after: " + e.cause.Error() + "; what the test wrote before is gone"
	default:
		msg = "databases: force_rollback: the outer transaction ended under the statement; what the test wrote before it may have been committed"
	}
	if e.beginErr != nil {
		return msg + "; beginning a new outer transaction failed too: " + e.beginErr.Error()
	}
	return msg + "; a new outer transaction was begun, so later writes are rolled back at Close"
}

func (e *outerEndedError) Unwrap() []error {
	var errs []error
	for _, err := range []error{e.cause, e.beginErr} {
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// endSavepoint runs the commands that end one of this package's savepoints
// (BeginTx's, a Savepoint mark), each guarded like a caller's RELEASE, so
// that on PostgreSQL a savepoint that is gone (the caller released an
// earlier one) is an error that leaves the outer transaction usable. The
// caller holds phys.
func (s *shared) endSavepoint(stmts ...string) error {
	ts := txStatement{effect: effSavepoint, keyword: "RELEASE"}
	for _, q := range stmts {
		g, err := s.openGuard(ts)
		if err == nil {
			_, err = s.real.execOrPrepare(context.Background(), q, nil)
			err = s.closeGuard(g, err)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// do runs a statement that leaves nothing open (an exec, a Prepare) on the
// shared connection, inside its guard; the caller owns the connection.
func (s *shared) do(ctx context.Context, ts txStatement, f func(context.Context) error) error {
	return s.use(func() error {
		g, err := s.openGuard(ts)
		if err != nil {
			return err
		}
		return s.closeGuard(g, s.run(ctx, f))
	})
}
