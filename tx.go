package databases

import (
	"context"
	"database/sql/driver"
	"errors"

	"github.com/go-databases/databases/internal/dberr"
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

func (t *tx) Commit() error   { return t.end(middleware.OpCommit) }
func (t *tx) Rollback() error { return t.end(middleware.OpRollback) }

func (t *tx) end(op middleware.Op) error {
	in := t.conn.connector.interest(t.ctx, op)
	if in == middleware.None {
		return t.finish(op)
	}
	s := newCallState(t.conn, op, in, "", "", nil, nil)
	s.call.TxID = t.id
	err := s.observe(t.ctx, func(context.Context, *middleware.Call) error { return t.finish(op) })
	s.release()
	return err
}

// finish commits or rolls back through the real driver, after the
// connection's own check that the transaction can still commit (txguard.go).
func (t *tx) finish(op middleware.Op) error {
	c := t.conn
	if c.rep != nil {
		defer c.rep.txEnded(c)
	}
	committed := c.tx.commit
	err := c.endTx(t.ctx, op == middleware.OpCommit, t.raw.Rollback)
	switch {
	case err != nil:
	case op == middleware.OpCommit:
		err = c.commitFailed(t.raw.Commit())
	default:
		err = t.raw.Rollback()
		c.failed(err)
	}
	if committed.effect != 0 && err != nil && !errors.Is(err, ErrCommitUnknown) && dberr.Unusable(err) {
		err = &partCommittedError{at: committed, cause: err}
	}
	if c.ddl.pending {
		c.schemaChanged(t.ctx, txStatement{})
	}
	return err
}

// nextTxID numbers a transaction; those of replicas share the primary's
// numbering.
func (c *connector) nextTxID() uint64 {
	if c.parent != nil {
		return c.parent.txID.Add(1)
	}
	return c.txID.Add(1)
}
