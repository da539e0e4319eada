package databases

// Leak detection: a transaction opened by a statement outside BeginTx (a raw
// BEGIN, SET autocommit=0, a procedure that starts one) must never reach the
// next user of a pooled connection, or that user's acknowledged writes are
// lost when the connection closes. A statement whose text may open one
// flags its connection (txEffect, read by sqlscan through comments, every
// statement of a multi-statement string, and prepared statements); a
// flagged connection asks the server before it is reused, and one still in
// a transaction is discarded, which makes the server roll it back.
// PostgreSQL needs no flag: pgx tracks the transaction status of every
// connection, so it is read each time, for free.

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"time"
)

// ErrTxLeaked is reported (through the middleware chain, as the error of
// OpResetSession) when a connection goes back to the pool with a
// transaction that a raw BEGIN opened still in progress. The connection is
// discarded, so the server rolls the transaction back and the next user of
// the pool never sees it.
var ErrTxLeaked = errors.New("databases: a transaction begun by a raw BEGIN statement was left open; the connection was discarded")

// errTxLeaked also means driver.ErrBadConn, which makes database/sql
// discard the connection.
var errTxLeaked = fmt.Errorf("%w (%w)", ErrTxLeaked, driver.ErrBadConn)

// noteRawTx flags the connection when a statement run outside BeginTx may
// leave a transaction open.
func (c *conn) noteRawTx(eff txEffect) {
	if eff&c.connector.backend.leakFlags() != 0 {
		c.rawTx = true
	}
}

// mustCheck reports, without a round trip, whether the connection must be
// checked (reusable) as it goes back to the pool: it is marked bad, flagged,
// or pgx says it is in a transaction.
func (c *conn) mustCheck() bool {
	return c.bad || c.rawTx || c.pg != nil && c.pg.TxStatus() != 'I'
}

// reusable says why the connection must be discarded, if it must.
func (c *conn) reusable(ctx context.Context) error {
	if c.bad {
		return driver.ErrBadConn
	}
	if c.leakedTx(ctx) {
		c.bad = true
		return errTxLeaked
	}
	return nil
}

// leakedTx reports whether the connection is in a transaction that BeginTx
// did not open, asking the cheapest way the backend allows.
func (c *conn) leakedTx(ctx context.Context) bool {
	if c.pg != nil {
		return c.pg.TxStatus() != 'I'
	}
	if !c.rawTx {
		return false
	}
	open, err := c.txOpen(ctx, c.connector.backend)
	c.rawTx = open || err != nil
	return c.rawTx
}

// txOpen asks the server whether the connection is inside a transaction
// (MySQL: or has autocommit off, which makes the next statement open one),
// the way backend b can tell. It is a round trip, made only for a
// connection that needs it.
func (r *realConn) txOpen(ctx context.Context, b backend) (bool, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	return b.txOpen(ctx, r)
}

// errCannotTellTx is txOpen's error where the real driver cannot say.
var errCannotTellTx = errors.New("databases: cannot tell whether the connection is in a transaction")
