package databases

import (
	"context"
	"database/sql/driver"

	"github.com/go-databases/databases/middleware"
)

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
	if t.conn.c.chain == nil {
		return f()
	}
	call := t.conn.newCall(op, "", "", nil)
	call.TxID = t.id
	return t.conn.c.chain.Run(t.ctx, call, func(context.Context, *middleware.Call) error { return f() })
}
