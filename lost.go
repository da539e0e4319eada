package databases

// Lost connections. A connection that dies, or that the server ends
// (PostgreSQL 57P01, 57P02, 57P03; a MySQL KILL; a Galera node that stops
// serving), is marked bad, so that database/sql closes it rather than hand
// it out again. A COMMIT whose connection dies before the answer arrives
// has an outcome nobody knows: its error says so (ErrCommitUnknown), and
// Transact does not run it again. A transaction whose connection died
// before COMMIT was sent was rolled back by the server; Transact runs it
// again.

import (
	"context"
	"errors"

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

// failed notes the error of a call: a connection that can no longer serve
// is marked bad.
func (c *conn) failed(err error) {
	if err != nil && dberr.Unusable(err) {
		c.bad = true
	}
}

// commitFailed turns the error of the real driver's Commit into
// ErrCommitUnknown when the connection was lost with COMMIT sent.
func (c *conn) commitFailed(err error) error {
	c.failed(err)
	if err != nil && dberr.Unusable(err) && !dberr.Unsent(err) {
		return &commitUnknownError{cause: err}
	}
	return err
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
	if errors.Is(err, ErrCommitUnknown) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return false
	}
	return rbErr != nil && dberr.Unusable(rbErr) || dberr.Unusable(err) && (dberr.FromServer(err) || dberr.Unsent(err))
}
