package databases

// The rules inside a transaction begun by BeginTx, the same on every
// backend: no statement may end it or open another (COMMIT, BEGIN, SET
// autocommit, in any dressing), and once the server has ended it, by an
// implicit commit or by rolling it back, no later statement of the *sql.Tx
// runs outside a transaction.
//
// MySQL commits the open transaction before DDL and a few other statements
// (effImplicitCommit); nothing can undo that, so the connection begins a new
// transaction with the same options before the next statement, and
// everything after the DDL stays atomic. A read-only transaction refuses
// such statements instead. MySQL and SQLite roll a whole transaction back
// on some errors (a deadlock, a full disk); after an error the connection
// asks the server, before its next statement, whether the transaction is
// still open, and if not every later statement and the Commit fail with
// ErrTxAborted. PostgreSQL does both itself: DDL is transactional, and a
// failed transaction refuses statements until it is rolled back.

import (
	"context"
	"database/sql/driver"
	"errors"

	"github.com/go-databases/databases/internal/dberr"
)

// ErrTxAborted is in the chain of the error of every statement, and of the
// Commit, of a transaction that the server rolled back (a MySQL deadlock,
// say): running them would run them outside any transaction. The error
// that made the server roll back stays reachable with errors.As, so
// IsRetryable and Transact see a deadlock as one.
var ErrTxAborted = errors.New("databases: the server rolled the transaction back")

// txAbortedError is ErrTxAborted with its cause.
type txAbortedError struct{ cause error }

func (e *txAbortedError) Error() string {
	return ErrTxAborted.Error() + " after: " + e.cause.Error() + "; the rest of the transaction is refused so that nothing runs outside it"
}

func (e *txAbortedError) Unwrap() []error { return []error{ErrTxAborted, e.cause} }

// txGuard is the transaction a connection has open through BeginTx, and
// what the rules must remember of it.
type txGuard struct {
	id      uint64           // numbers it (connector.nextTxID); 0 when there is none
	opts    driver.TxOptions // what it was begun with, to begin again after a MySQL implicit commit
	ctx     context.Context  // BeginTx's context without its cancel, for statements sent without one
	check   txCheck          // what to ask the server before its next statement
	cause   txStatement      // the statement that may have committed it implicitly
	err     error            // the error after which the server may have rolled it back
	aborted error            // set once the server has ended it: every later statement fails
	commit  txStatement      // a statement that committed part of it (MySQL; lost.go)
}

// txCheck is what the connection must ask the server before the next
// statement of its transaction.
type txCheck uint8

const (
	checkImplicitCommit txCheck = 1 << iota // a statement may have committed it (MySQL)
	checkFailed                             // a statement failed; the server may have rolled it back
)

// control applies the transaction rules to a statement about to run: it
// flags a connection outside a transaction that the statement may leave in
// one, and inside one refuses what would end it. The connector's mode
// calls it (connmode.go): force_rollback has rules of its own.
func (c *conn) control(ctx context.Context, ts txStatement) error {
	if c.tx.id == 0 {
		c.noteRawTx(ts.effect)
		return nil
	}
	if c.tx.check != 0 {
		if err := c.checkTx(ctx); err != nil {
			return c.lostAfterCommit(err)
		}
	}
	if c.tx.aborted != nil {
		return c.tx.aborted
	}
	if ts.effect&(effBegin|effEnd|effAutocommit) != 0 {
		return ts.refuse("", "would end or replace the transaction begun by BeginTx; end it with Commit or Rollback, or use SAVEPOINT or a nested Transact")
	}
	if ts.effect&effImplicitCommit != 0 && c.tx.opts.ReadOnly {
		return ts.refuse("", "commits the open transaction implicitly on MySQL, which a read-only transaction does not allow")
	}
	return nil
}

// clear reports whether the transaction has nothing for control to
// check before the next statement: the server is not to be asked about it,
// and it has not ended. A statement that does nothing to the transaction
// then passes.
func (g *txGuard) clear() bool { return g.check == 0 && g.aborted == nil }

// controlled notes, after a statement of a transaction has run, what the
// server must be asked before the next one; through the connector's mode,
// as control.
func (c *conn) controlled(ts txStatement, err error) {
	if c.tx.id == 0 {
		return
	}
	if ts.commitPoint(c.connector.backend) {
		c.tx.check |= checkImplicitCommit
		c.tx.cause = ts
		if c.tx.commit.effect == 0 && !dberr.Unsent(err) {
			c.tx.commit = ts // it was sent: the server committed before running it
		}
	}
	if err != nil && mayEndTx(err) {
		c.tx.check |= checkFailed
		c.tx.err = err
	}
}

// mayEndTx reports whether a statement's error is one after which MySQL or
// SQLite may have rolled back the whole transaction: an error the server
// returned (PostgreSQL keeps track itself).
func mayEndTx(err error) bool { return dberr.FromServer(err) }

// checkTx asks the server whether the transaction is still open, and acts on
// the answer: a new transaction after an implicit commit, ErrTxAborted after
// a rollback.
func (c *conn) checkTx(ctx context.Context) error {
	check, cause, failed := c.tx.check, c.tx.cause, c.tx.err
	c.tx.check, c.tx.cause, c.tx.err = 0, txStatement{}, nil
	open, err := c.txOpen(ctx, c.connector.backend)
	switch {
	case err != nil:
		c.bad = true
		c.tx.aborted = &txAbortedError{cause: errors.Join(failed, err)}
		return c.tx.aborted
	case open:
		return nil
	case check&checkImplicitCommit != 0:
		if _, err := c.beginNative(context.WithoutCancel(ctx), c.tx.opts); err != nil {
			c.bad = true
			c.tx.aborted = &txAbortedError{cause: err}
			return c.tx.aborted
		}
		if c.tx.opts.ReadOnly {
			return cause.refuse("", "committed the read-only transaction implicitly on MySQL; a new read-only transaction was begun")
		}
		return nil
	default:
		c.tx.aborted = &txAbortedError{cause: failed}
		return c.tx.aborted
	}
}

// endTx runs before Commit and Rollback: a Commit of a transaction the
// server ended fails (after rolling back what a new one may hold), and the
// connection forgets the transaction's state.
func (c *conn) endTx(ctx context.Context, commit bool, rollback func() error) error {
	var err error
	if commit {
		if err = c.connector.mode.commitCheck(ctx, c); err != nil {
			rollback()
		}
	}
	c.tx = txGuard{}
	return err
}

// commitCheck is endTx's check, through the connector's mode as control:
// an error if the server ended the transaction.
func (c *conn) commitCheck(ctx context.Context) error {
	if c.tx.check != 0 {
		return c.checkTx(ctx)
	}
	return c.tx.aborted
}
