package databases

// Lost connections. A connection that dies, or that the server ends
// (PostgreSQL 57P01, 57P02, 57P03; a MySQL KILL; a Galera node that stops
// serving), is marked bad, so that database/sql closes it rather than hand
// it out again. A COMMIT whose connection dies before the answer arrives
// has an outcome nobody knows: its error says so (ErrCommitUnknown), and
// Transact does not run it again. A transaction whose connection died
// before COMMIT was sent was rolled back by the server; Transact runs it
// again, unless a statement of it committed part of it first (a MySQL
// implicit commit, a procedure): then what was committed is not known to
// be undone, the error says so (ErrCommitUnknown), and Transact does not
// run it again.

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"

	"github.com/go-databases/databases/internal/dberr"
)

// ErrCommitUnknown is in the chain of the error of a Commit whose connection
// was lost after COMMIT was sent and before the server answered: the
// transaction may or may not have committed. The driver's error stays
// reachable with errors.As. Transact never retries such a transaction; the
// caller must find out, from the data, whether its work is there.
var ErrCommitUnknown = errors.New("databases: the connection was lost during COMMIT; the transaction may or may not have committed")

// commitUnknownError is ErrCommitUnknown with the driver's error.
type commitUnknownError struct{ cause error }

func (e *commitUnknownError) Error() string {
	return ErrCommitUnknown.Error() + ": " + e.cause.Error()
}

func (e *commitUnknownError) Unwrap() []error { return []error{ErrCommitUnknown, e.cause} }

// commitEndedError is ErrCommitUnknown for a SQLite COMMIT during which
// its context ended and after which no transaction is open: it most likely
// committed, but modernc reports only the context's error.
type commitEndedError struct{ cause error }

func (e *commitEndedError) Error() string {
	return "databases: the context ended while COMMIT ran and the transaction is no longer open; it most likely committed, but the driver reported only: " + e.cause.Error()
}

func (e *commitEndedError) Unwrap() []error { return []error{ErrCommitUnknown, e.cause} }

// partCommittedError is ErrCommitUnknown for a transaction whose
// connection was lost after a statement of it committed what ran before
// it: that part is stored, the rest rolled back.
type partCommittedError struct {
	at    txStatement // the statement that committed
	cause error
}

func (e *partCommittedError) Error() string {
	return fmt.Sprintf("databases: the connection was lost after %s (byte offset %d) committed the transaction's earlier statements implicitly; they are stored, what ran after it was rolled back, and the transaction must not simply run again: %v",
		e.at.keyword, e.at.offset, e.cause)
}

func (e *partCommittedError) Unwrap() []error { return []error{ErrCommitUnknown, e.cause} }

// lostAfterCommit turns the error of a statement, Commit or Rollback of a
// transaction begun by BeginTx into ErrCommitUnknown when the connection
// was lost after a statement of the transaction committed part of it
// (txCommit, set by controlled).
func (c *conn) lostAfterCommit(err error) error {
	if err == nil || c.tx.commit.effect == 0 || !dberr.Unusable(err) || errors.Is(err, ErrCommitUnknown) {
		return err
	}
	return &partCommittedError{at: c.tx.commit, cause: err}
}

// failed notes the error of a call: a connection that can no longer serve
// is lost (connMode.lost: marked bad, but for force_rollback's views of
// the shared connection, which outlives them).
func (c *conn) failed(err error) {
	if err != nil && dberr.Unusable(err) {
		c.connector.mode.lost(c, err)
	}
}

// commitFailed turns the error of the real driver's Commit into
// ErrCommitUnknown when the connection was lost with COMMIT sent.
func (c *conn) commitFailed(err error) error {
	c.failed(err)
	// Only driver.ErrBadConn promises that COMMIT was not sent: pgx marks
	// "conn closed" safe to retry even when it met it reading COMMIT's
	// answer (jackc/pgx#2428), so its SafeToRetry is not trusted here.
	// SQLite runs in process: a COMMIT that failed (its context ended while
	// it waited for a lock, which dberr.Unusable takes for a lost network
	// connection) did not commit, and sqliteTx.finish rolled it back.
	if err != nil && !c.inProcess() && dberr.Unusable(err) && !errors.Is(err, driver.ErrBadConn) {
		return c.connector.mode.commitLost(err)
	}
	return err
}

// inProcess reports whether c's database runs in this process (SQLite).
func (c *conn) inProcess() bool {
	return c.connector.backend != nil && c.connector.backend.inProcess()
}

// lostBeforeCommit reports whether a transaction that failed with err, and
// whose rollback returned rbErr, failed because its connection was lost or
// ended before COMMIT was sent, so that the server rolled it back and
// running it again is safe: the rollback found the connection gone, the
// server itself ended the connection (57P01, a Galera node leaving the
// cluster), or Commit failed before sending COMMIT. A statement cut by a
// context's deadline or cancellation is not retried, even when the driver
// closed the connection for it: the caller gave up.
func lostBeforeCommit(err, rbErr error) bool {
	if errors.Is(err, ErrCommitUnknown) || errors.Is(rbErr, ErrCommitUnknown) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return false
	}
	return rbErr != nil && dberr.Unusable(rbErr) || dberr.Unusable(err) && (dberr.FromServer(err) || dberr.Unsent(err))
}
