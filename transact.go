// Transact: a function run in a transaction that commits when it returns
// nil, nests as savepoints, and runs again after a serialization failure or
// deadlock (IsRetryable).

package databases

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/go-databases/databases/internal/dberr"
)

// TransactAttempts bounds how many times Transact runs the outermost
// transaction when it fails with an error IsRetryable accepts. Between
// attempts Transact waits a random time, from 1 ms up to a bound that
// doubles from 5 ms to at most 250 ms.
const TransactAttempts = 30

const (
	backoffFirst = 5 * time.Millisecond
	backoffMax   = 250 * time.Millisecond
)

// txKey is the context key under which Transact keeps the open transaction.
type txKey struct{}

type txState struct {
	db    *sql.DB
	tx    *sql.Tx
	depth int
	// nested is held while a nested Transact runs at depth+1: savepoints of
	// two concurrent siblings would interleave, and rolling one back would
	// undo the other's work.
	nested atomic.Bool
}

// Transact runs fn in a transaction of db and commits it when fn returns
// nil. An error or a panic in fn rolls it back (the panic is re-raised).
//
// fn receives a context that carries the transaction: a Transact call with
// that context on the same db nests, as a SAVEPOINT that an error rolls back
// without undoing the outer work. opts apply to the outermost transaction; a
// nested call may pass nil or the same options.
//
// The outermost transaction is retried, up to TransactAttempts times with
// jittered backoff, when it fails with a serialization failure or deadlock
// (IsRetryable), or when its connection was lost before COMMIT was sent
// (the server rolled it back), so fn must be safe to run again. A COMMIT
// whose connection was lost before the answer is never retried: its error
// satisfies errors.Is(err, ErrCommitUnknown). The error returned is the
// last one; errors.As reaches the driver's error. When ctx ends while the
// transaction runs, the error says so: errors.Is(err, context.Canceled) or
// context.DeadlineExceeded holds, and what fn or Commit returned stays in
// the chain.
//
// Nested calls run one at a time: a nested Transact started while a
// sibling of the same transaction is still running fails at once, since
// their savepoints would interleave. A transaction the server rolled back
// inside a nested call (a MySQL deadlock ends the whole transaction) makes
// every later statement and the Commit fail (ErrTxAborted), so the outer
// call cannot commit half of its work; it is retried as a whole.
func Transact(ctx context.Context, db *sql.DB, opts *sql.TxOptions, fn func(ctx context.Context, tx *sql.Tx) error) error {
	if st, ok := ctx.Value(txKey{}).(*txState); ok && st.db == db {
		return nested(ctx, st, opts, fn)
	}
	var err error
	for attempt := 1; ; attempt++ {
		var lost bool
		lost, err = transactOnce(ctx, db, opts, fn)
		if err == nil || !lost && !IsRetryable(err) || attempt == TransactAttempts {
			break
		}
		if werr := wait(ctx, attempt); werr != nil {
			return fmt.Errorf("databases: transaction abandoned after %d attempts: %w", attempt, errors.Join(err, werr))
		}
	}
	return err
}

// transactOnce runs fn in one transaction. lost reports that the
// transaction failed because its connection was lost before COMMIT was
// sent (lost.go), which makes it safe to run again.
func transactOnce(ctx context.Context, db *sql.DB, opts *sql.TxOptions, fn func(context.Context, *sql.Tx) error) (lost bool, err error) {
	tx, err := db.BeginTx(ctx, opts)
	if err != nil {
		// Nothing ran: a connection that turns out lost is safe to replace.
		return ctx.Err() == nil && dberr.Unusable(err), err
	}
	st := &txState{db: db, tx: tx}
	defer func() {
		if p := recover(); p != nil {
			tx.Rollback()
			panic(p)
		}
	}()
	if err := fn(context.WithValue(ctx, txKey{}, st), tx); err != nil {
		rbErr := tx.Rollback()
		if errors.Is(rbErr, sql.ErrTxDone) {
			rbErr = nil
		}
		lost := ctx.Err() == nil && lostBeforeCommit(err, rbErr)
		if rbErr != nil {
			err = joinRollback(err, rbErr)
		}
		return lost, canceled(ctx, err)
	}
	err = tx.Commit()
	return err != nil && ctx.Err() == nil && lostBeforeCommit(err, nil), canceled(ctx, err)
}

// canceled puts ctx's error in front of err when ctx ended: database/sql
// then rolls the transaction back on its own, and fn sees only
// sql.ErrTxDone, which does not say why.
func canceled(ctx context.Context, err error) error {
	if err == nil || ctx.Err() == nil || errors.Is(err, ctx.Err()) {
		return err
	}
	return fmt.Errorf("databases: transaction rolled back: %w: %w", ctx.Err(), err)
}

// nested runs fn inside a savepoint of the open transaction.
func nested(ctx context.Context, st *txState, opts *sql.TxOptions, fn func(context.Context, *sql.Tx) error) (err error) {
	if opts != nil && (opts.Isolation != sql.LevelDefault || opts.ReadOnly) {
		return fmt.Errorf("databases: a nested Transact runs in the outer transaction and cannot change its options (isolation %s, read-only %v)", opts.Isolation, opts.ReadOnly)
	}
	if !st.nested.CompareAndSwap(false, true) {
		return errors.New("databases: a nested Transact is already running on this transaction; nested calls on one transaction must run one after another")
	}
	defer st.nested.Store(false)
	inner := &txState{db: st.db, tx: st.tx, depth: st.depth + 1}
	name := fmt.Sprintf("databases_sp%d", inner.depth)
	if _, err := st.tx.ExecContext(ctx, "SAVEPOINT "+name); err != nil {
		return err
	}
	rollback := func() error {
		_, err := st.tx.ExecContext(context.WithoutCancel(ctx), "ROLLBACK TO SAVEPOINT "+name)
		if err == nil {
			_, err = st.tx.ExecContext(context.WithoutCancel(ctx), "RELEASE SAVEPOINT "+name)
		}
		return err
	}
	defer func() {
		if p := recover(); p != nil {
			rollback()
			panic(p)
		}
	}()
	if err := fn(context.WithValue(ctx, txKey{}, inner), st.tx); err != nil {
		if rbErr := rollback(); rbErr != nil {
			return joinRollback(err, rbErr)
		}
		return err
	}
	_, err = st.tx.ExecContext(ctx, "RELEASE SAVEPOINT "+name)
	return err
}

// joinRollback joins the error of a transaction's work with the error of
// rolling it back, unless the second says nothing new: on a broken
// connection both are the same error (go-sql-driver's "invalid
// connection"), which would otherwise read twice.
func joinRollback(err, rbErr error) error {
	if errors.Is(err, rbErr) || errors.Is(rbErr, err) || rbErr.Error() == err.Error() {
		return err
	}
	return errors.Join(err, rbErr)
}

// wait sleeps before the next attempt, or returns early with ctx's error.
func wait(ctx context.Context, attempt int) error {
	d := min(backoffFirst<<(attempt-1), backoffMax)
	t := time.NewTimer(rand.N(d) + time.Millisecond)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// IsRetryable reports whether err is a serialization failure or deadlock
// that running the whole transaction again can get past: PostgreSQL SQLSTATE
// 40001 and 40P01, MySQL error 1213 (deadlock, and a Galera certification
// conflict), SQLite BUSY and LOCKED. MySQL's 1205 (lock wait timeout) is not
// retried: the statement already waited innodb_lock_wait_timeout (50 s by
// default) for a lock another transaction still holds, and waiting again
// would multiply that wait.
func IsRetryable(err error) bool { return dberr.Retryable(err) }
