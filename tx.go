package databases

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/stdlib"

	"github.com/go-databases/databases/middleware"
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

// tx wraps a transaction of the real driver. It keeps the context BeginTx
// ran under, so that Commit and Rollback reach middleware with it.
type tx struct {
	raw  driver.Tx
	conn *conn
	id   uint64
	ctx  context.Context
}

var _ driver.Tx = (*tx)(nil)

func (t *tx) Commit() error   { return t.end(middleware.OpCommit, t.raw.Commit) }
func (t *tx) Rollback() error { return t.end(middleware.OpRollback, t.raw.Rollback) }

func (t *tx) end(op middleware.Op, f func() error) error {
	defer func() { t.conn.txID = 0 }()
	in := t.conn.c.interest(t.ctx, op)
	if in == middleware.None {
		return f()
	}
	s := newCallState(t.conn, op, in, "", "", nil, nil)
	s.call.TxID = t.id
	err := s.observe(t.ctx, func(context.Context, *middleware.Call) error { return f() })
	s.release()
	return err
}

// beginSQLite begins a SQLite transaction itself, because the driver's
// BeginTx neither chooses the lock mode per transaction nor refuses writes
// in a read-only one. Read-write transactions take the write lock at BEGIN
// (txlock, immediate by default), so that two of them never deadlock on a
// lock upgrade; read-only ones begin deferred under PRAGMA query_only.
func (c *conn) beginSQLite(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	mode := c.c.cfg.txlock
	if opts.ReadOnly {
		mode = "deferred"
	}
	if _, err := c.execNative(ctx, "BEGIN "+strings.ToUpper(mode), nil); err != nil {
		return nil, err
	}
	t := &sqliteTx{conn: c, ctx: ctx, readOnly: opts.ReadOnly}
	if opts.ReadOnly {
		if _, err := c.execNative(ctx, "PRAGMA query_only = 1", nil); err != nil {
			t.finish("ROLLBACK")
			return nil, err
		}
	}
	return t, nil
}

// sqliteTx is a transaction begun by beginSQLite.
type sqliteTx struct {
	conn     *conn
	ctx      context.Context
	readOnly bool
}

func (t *sqliteTx) Commit() error   { return t.finish("COMMIT") }
func (t *sqliteTx) Rollback() error { return t.finish("ROLLBACK") }

// finish ends the transaction and makes the connection writable again. A
// COMMIT that fails (SQLITE_BUSY past the busy timeout, say) is rolled back,
// as database/sql considers the transaction over either way; a connection
// that cannot be brought back to autocommit is marked bad and discarded.
func (t *sqliteTx) finish(stmt string) error {
	c := t.conn
	ctx := context.WithoutCancel(t.ctx)
	_, err := c.execNative(ctx, stmt, nil)
	if err != nil && stmt == "COMMIT" {
		if _, rbErr := c.execNative(ctx, "ROLLBACK", nil); rbErr != nil {
			c.bad = true
		}
	}
	if t.readOnly {
		if _, qoErr := c.execNative(ctx, "PRAGMA query_only = 0", nil); qoErr != nil {
			c.bad = true
		}
	}
	return err
}

// leakedTx reports whether a connection flagged by startsRawTx still has a
// transaction open, asking the cheapest way the backend allows. It runs only
// for flagged connections.
func (c *conn) leakedTx(ctx context.Context) bool {
	return c.rawTx && c.askTxOpen(ctx)
}

// askTxOpen is leakedTx for a flagged connection. It is a function of its
// own so that leakedTx, which runs before every reuse, has no defers.
func (c *conn) askTxOpen(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	switch c.c.cfg.dialect {
	case dialectPostgres:
		if pc, ok := c.raw.(*stdlib.Conn); ok {
			c.rawTx = pc.Conn().PgConn().TxStatus() != 'I'
			return c.rawTx
		}
	case dialectMySQL:
		r, err := c.queryNative(ctx, "SELECT @@in_transaction, @@autocommit", nil)
		if err != nil {
			return true
		}
		defer r.Close()
		row := make([]driver.Value, 2)
		if r.Next(row) != nil {
			return true
		}
		inTx, autocommit := fmt.Sprint(row[0]), fmt.Sprint(row[1])
		c.rawTx = inTx != "0" || autocommit != "1"
		return c.rawTx
	case dialectSQLite:
		// SQLite has no query for it; a BEGIN inside a transaction fails.
		if _, err := c.execNative(ctx, "BEGIN", nil); err != nil {
			return true
		}
		if _, err := c.execNative(ctx, "ROLLBACK", nil); err != nil {
			return true
		}
		c.rawTx = false
		return false
	}
	return true
}
