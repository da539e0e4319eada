package databases

// SQLite's transactions are begun by this package rather than by modernc,
// whose BeginTx neither picks the lock mode per transaction nor makes a
// read-only transaction refuse writes.

import (
	"context"
	"database/sql/driver"
	"strings"
)

// beginSQLite begins a SQLite transaction. Read-write transactions take the
// write lock at BEGIN (txlock, immediate by default), so that two of them
// never deadlock on a lock upgrade; read-only ones begin deferred under
// PRAGMA query_only.
func (c *conn) beginSQLite(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	mode := c.connector.cfg.TxLock
	if opts.ReadOnly {
		mode = "deferred"
	}
	begin := "BEGIN " + strings.ToUpper(mode)
	wctx, done := boundWait(ctx, c.connector.cfg, begin)
	if _, err := c.execOrPrepare(wctx, begin, nil); err != nil {
		return nil, done(err)
	}
	done(nil)
	t := &sqliteTx{conn: c, ctx: ctx, readOnly: opts.ReadOnly}
	if opts.ReadOnly {
		if _, err := c.execOrPrepare(ctx, "PRAGMA query_only = 1", nil); err != nil {
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

// finish ends the transaction and makes the connection writable again.
// COMMIT runs under the context of BeginTx, as modernc's own Commit does:
// a COMMIT waiting for another connection's lock ends when that context
// does. A COMMIT that fails (SQLITE_BUSY past the busy timeout, say) is
// rolled back, as database/sql considers the transaction over either way;
// ROLLBACK runs whatever the context, since database/sql calls it to end a
// transaction whose context ended. A connection that cannot be brought
// back to autocommit is marked bad and discarded.
func (t *sqliteTx) finish(stmt string) error {
	c := t.conn
	cfg := c.connector.cfg
	ctx := context.WithoutCancel(t.ctx)
	if stmt == "COMMIT" {
		ctx = t.ctx
	}
	wctx, done := boundWait(ctx, cfg, stmt)
	_, err := c.execOrPrepare(wctx, stmt, nil)
	err = done(err)
	bg := context.WithoutCancel(t.ctx)
	if err != nil && stmt == "COMMIT" {
		rctx, rdone := boundWait(bg, cfg, "ROLLBACK")
		_, rbErr := c.execOrPrepare(rctx, "ROLLBACK", nil)
		switch {
		case rdone(rbErr) == nil:
		case !strings.Contains(rbErr.Error(), "no transaction is active"):
			c.bad = true
		case ctx.Err() != nil:
			// A COMMIT interrupted while it waits for a lock leaves the
			// transaction open, and the ROLLBACK above ends it. None open
			// means the COMMIT ran: modernc reports the context's error
			// whenever the context ended during the call, even one that
			// committed (or, rarely, one that failed and rolled back).
			err = &commitEndedError{cause: err}
		}
	}
	if t.readOnly {
		if _, qoErr := c.execOrPrepare(bg, "PRAGMA query_only = 0", nil); qoErr != nil {
			c.bad = true
		}
	}
	return err
}
