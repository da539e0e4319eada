package databases

// force_rollback as a connector's mode (connmode.go): what the wrapper
// leaves to the shared connection. Its views' transactions are savepoints
// of the outer transaction (forcerollback_conn.go), whose statements the
// guard of forcerollback_guard.go watches rather than the transaction
// rules of txguard.go; the shared connection outlives every view, so a
// view is never lost; replicas are ignored, since every call runs in the
// one transaction on the primary, which sees the test's own writes; raw
// access holds the shared connection (shared.holdRaw).

import (
	"context"
	"database/sql/driver"
	"errors"

	"github.com/go-databases/databases/internal/dsn"
)

// ErrSharedLost is the error of every connection a force_rollback DB makes
// after its shared connection was lost (killed, the server restarted): the
// outer transaction went with it, and with it what the test wrote, so the
// DB cannot go on; open a new one.
var ErrSharedLost = errors.New("databases: force_rollback: the shared connection was lost (killed, or the server went away); the outer transaction and what the test wrote went with it; open a new DB")

// connect returns a new view of the shared connection, opening it first.
func (s *shared) connect(_ context.Context, c *connector) (driver.Conn, *dsn.Server, error) {
	if err := s.open(); err != nil {
		return nil, c.server, err
	}
	if s.gone.Load() {
		return nil, c.server, ErrSharedLost
	}
	return &sharedConn{s: s}, c.server, nil
}

// keepsOpen: the shared connection stays open, its outer transaction to be
// rolled back, until the DB closes.
func (s *shared) keepsOpen() bool      { return true }
func (s *shared) routesReplicas() bool { return false }

func (s *shared) control(context.Context, *conn, txStatement) error { return nil }
func (s *shared) controlled(*conn, txStatement, error)              {}
func (s *shared) commitCheck(context.Context, *conn) error          { return nil }

// begins: the view begins, with a savepoint.
func (s *shared) begins(_ *conn, native beginFunc) beginFunc { return native }

// lost: a view whose call the driver refused as on a bad connection is
// discarded when the shared connection itself is closed, and every later
// view fails with ErrSharedLost. A connection in use by another view is
// alive enough.
func (s *shared) lost(c *conn, err error) {
	if s.connector.backend.inProcess() || !errors.Is(err, driver.ErrBadConn) || !s.phys.TryLock() {
		return
	}
	dead := !s.closed.Load() && s.real.closed()
	s.phys.Unlock()
	if dead {
		s.gone.Store(true)
		c.bad = true
	}
}

// commitLost: a view's Commit releases a savepoint; nothing commits before
// the outer transaction is rolled back.
func (s *shared) commitLost(err error) error { return err }

// driverConn holds the shared connection for c's caller (shared.holdRaw).
func (s *shared) driverConn(c *conn) any { return s.holdRaw(c.raw.(*sharedConn)) }

// copyConn holds the shared connection for the load as DriverConn does,
// until the load gives it back.
func (s *shared) copyConn(c *conn) (*realConn, func(), error) {
	v := c.raw.(*sharedConn)
	held := s.holdRaw(v)
	if err, ok := held.(error); ok {
		return nil, nil, err
	}
	rc := new(realConn)
	*rc = newRealConn(held.(driver.Conn))
	return rc, func() { s.endRaw(v) }, nil
}
