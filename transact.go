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

// DefaultTransactAttempts bounds how many times Transact runs the
// outermost transaction when it fails with an error IsRetryable accepts,
// unless the URL option transact_attempts or WithTransactAttempts sets
// another bound. Between attempts Transact waits a random time, from 1 ms
// up to a bound that doubles from 5 ms to at most 250 ms; no attempt
// starts once TransactRetryTime has passed since the first one began.
const DefaultTransactAttempts = 30

// TransactRetryTime bounds the time over which Transact starts new
// attempts: an attempt that fails after it has passed is the last.
const TransactRetryTime = 30 * time.Second

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
	owner *txOwner // the connection of the transaction (transact_guard.go)
	// ended is set when the outermost transaction ends: a context kept
	// past it (stored, or held by a goroutine fn started) no longer
	// carries a transaction to nest in.
	ended *atomic.Bool
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
// Statements in fn must run on tx: one run on db (or a sql.Conn of it)
// with fn's ctx would run outside the transaction, and fails with
// ErrOutsideTransaction instead; WithoutTransaction(ctx) is the context
// for a statement meant to run outside.
//
// The outermost transaction is retried, up to DefaultTransactAttempts
// times (or the transact_attempts of the URL) with jittered backoff and
// within TransactRetryTime, when it fails with a serialization failure or
// deadlock (IsRetryable), or when its connection was lost before COMMIT
// was sent (the server rolled it back), so fn must be safe to run again.
// A COMMIT whose connection was lost before the answer is never retried:
// its error satisfies errors.Is(err, ErrCommitUnknown). The error returned
// is the last one, which after retries says how many attempts ran and is
// no longer retryable, so a Transact that runs inside another's function
// does not multiply its retries; errors.As reaches the driver's error.
// When ctx ends while the
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
	if st, ok := ctx.Value(txKey{}).(*txState); ok && st != nil && st.db == db && !st.ended.Load() {
		return nested(ctx, st, opts, fn)
	}
	var err error
	start := time.Now()
	owner := &txOwner{}
	for attempt := 1; ; attempt++ {
		var lost bool
		lost, err = transactOnce(ctx, db, opts, fn, owner)
		if err == nil || !lost && !IsRetryable(err) {
			break
		}
		if attempt >= owner.attempts() || time.Since(start) >= TransactRetryTime {
			if attempt > 1 {
				err = &retriesError{attempts: attempt, elapsed: time.Since(start), err: err}
			}
			break
		}
		if werr := wait(ctx, attempt); werr != nil {
			return fmt.Errorf("databases: transaction abandoned after %d attempts: %w", attempt, errors.Join(err, werr))
		}
	}
	return err
}

// attempts returns the bound on the attempts of a Transact of the
// connection's DB.
func (o *txOwner) attempts() int {
	if c := o.conn.Load(); c != nil {
		return c.connector.transactAttempts()
	}
	return DefaultTransactAttempts
}

// retriesError is the error of a Transact that gave up retrying. It is not
// retryable itself: a Transact whose function returns it does not run
// the inner one's attempts again.
type retriesError struct {
	attempts int
	elapsed  time.Duration
	err      error
}

func (e *retriesError) Error() string {
	return fmt.Sprintf("databases: transaction failed %d times over %v, the last time with: %v", e.attempts, e.elapsed.Round(time.Millisecond), e.err)
}

func (e *retriesError) Unwrap() error { return e.err }

// transactOnce runs fn in one transaction. lost reports that the
// transaction failed because its connection was lost before COMMIT was
// sent (lost.go), which makes it safe to run again.
func transactOnce(ctx context.Context, db *sql.DB, opts *sql.TxOptions, fn func(context.Context, *sql.Tx) error, owner *txOwner) (lost bool, err error) {
	tx, err := db.BeginTx(context.WithValue(ctx, txBeginKey{}, owner), opts)
	if err != nil {
		// Nothing ran: a connection that turns out lost is safe to replace.
		return ctx.Err() == nil && dberr.Unusable(err), err
	}
	st := &txState{db: db, tx: tx, owner: owner, ended: new(atomic.Bool)}
	defer st.ended.Store(true)
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
	inner := &txState{db: st.db, tx: st.tx, depth: st.depth + 1, owner: st.owner, ended: st.ended}
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
// conflict), SQLite BUSY_SNAPSHOT, BUSY_RECOVERY and LOCKED_SHAREDCACHE.
// Errors that already waited for a lock are not retried, since waiting
// again would multiply the wait: MySQL's 1205 (innodb_lock_wait_timeout,
// 50 s by default) and SQLite's plain BUSY (busy_timeout, 5 s by default;
// the lock is often the caller's own, see docs/errors.md). Nor is the
// error of a Transact that already gave up retrying.
func IsRetryable(err error) bool {
	var gaveUp *retriesError
	return !errors.As(err, &gaveUp) && dberr.Retryable(err)
}
