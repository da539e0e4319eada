package databases

// A connector's mode: how its connections treat transactions, lost
// connections, replicas and raw access. It is chosen once, in
// newConnector, and the wrapper calls it where the modes differ, never
// asking which one it has. In the usual mode, ownConns (here), every
// pooled connection is a real connection of its own, under the rules of
// txguard.go and lost.go. In force_rollback mode, *shared
// (forcerollback_mode.go), every pooled connection is a view of one shared
// real connection, which has rules of its own (forcerollback_guard.go).

import (
	"context"
	"database/sql/driver"

	"github.com/go-databases/databases/internal/dsn"
)

// connMode is how a connector's connections behave where force_rollback
// differs.
type connMode interface {
	// connect opens a connection for the pool (connector.rawConnect) and
	// says which host it reached.
	connect(ctx context.Context, c *connector) (driver.Conn, *dsn.Server, error)
	// keepsOpen reports whether the mode holds something open until the
	// DB closes, which then needs the connector's Close (connector.public).
	keepsOpen() bool
	// close frees what the mode holds, as the DB closes.
	close() error
	// routesReplicas reports whether calls may run on the read replicas
	// (connector.openReplicas).
	routesReplicas() bool

	// control applies the transaction rules to a statement about to run
	// on c (conn.control); controlled notes, after it ran, what they must
	// remember (conn.controlled); commitCheck is what they check before a
	// Commit (conn.endTx).
	control(ctx context.Context, c *conn, ts txStatement) error
	controlled(c *conn, ts txStatement, err error)
	commitCheck(ctx context.Context, c *conn) error
	// begins returns what begins a transaction of c, given the real
	// driver's begin (conn.begin, conn.copyBegin).
	begins(c *conn, native beginFunc) beginFunc

	// lost acts on c's real connection no longer being able to serve
	// (conn.failed, with the call's error; a panic during a load, with
	// none).
	lost(c *conn, err error)
	// commitLost is the error of a Commit whose connection was lost after
	// COMMIT was sent, given the driver's (conn.commitFailed).
	commitLost(err error) error

	// driverConn is what DriverConn returns for c; copyConn is the real
	// connection a load runs on (conn.copyReal), and what gives it back.
	driverConn(c *conn) any
	copyConn(c *conn) (*realConn, func(), error)
}

// beginFunc begins a transaction.
type beginFunc func(context.Context, driver.TxOptions) (driver.Tx, error)

// ownConns is the usual mode: each connection of the pool is a real
// connection of its own.
type ownConns struct{}

var (
	_ connMode = ownConns{}
	_ connMode = (*shared)(nil)
)

func (ownConns) connect(ctx context.Context, c *connector) (driver.Conn, *dsn.Server, error) {
	return c.dial(ctx)
}

func (ownConns) keepsOpen() bool      { return false }
func (ownConns) close() error         { return nil }
func (ownConns) routesReplicas() bool { return true }

func (ownConns) control(ctx context.Context, c *conn, ts txStatement) error {
	return c.control(ctx, ts)
}

func (ownConns) controlled(c *conn, ts txStatement, err error) { c.controlled(ts, err) }

func (ownConns) commitCheck(ctx context.Context, c *conn) error { return c.commitCheck(ctx) }

// begins: on SQLite the package begins transactions itself (sqlitetx.go),
// through the connection's exec.
func (ownConns) begins(c *conn, native beginFunc) beginFunc {
	if c.connector.backend.beginsItself() && (c.execer != nil || c.execerLegacy != nil) {
		return c.beginSQLite
	}
	return native
}

// lost: database/sql closes a bad connection rather than hand it out again.
func (ownConns) lost(c *conn, _ error) { c.bad = true }

func (ownConns) commitLost(err error) error { return &commitUnknownError{cause: err} }

func (ownConns) driverConn(c *conn) any { return c.raw }

func (ownConns) copyConn(c *conn) (*realConn, func(), error) {
	return &c.realConn, func() {}, nil
}
