package databases

// Schema changes. A statement prepared before a schema change can give the
// wrong columns or fail: PostgreSQL answers a plan kept by pgx's statement
// cache with 0A000 "cached plan must not change result type", and inside a
// transaction that aborts the transaction. The DB sees every schema change
// run through it (effDDL): it counts them, and each connection, before its
// next statement, drops what it prepared before the last one (the
// statement cache's statements, and on PostgreSQL pgx's, with
// DeallocateAll; in force_rollback mode, those of the shared connection).
// A change made inside a transaction is counted again when
// the transaction ends, since other connections see it only then.

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/jackc/pgx/v5/stdlib"
)

// ddlState is what a connection knows of the DB's schema changes.
type ddlState struct {
	seen      uint64 // the changes its prepared statements have seen
	pending   bool   // a change ran in a transaction still open: others learn of it at its end
	openStmts int    // statements prepared by the user and not closed (DeallocateAll would drop them)
}

// schema returns the count of schema changes run through the DB; the
// connectors of its replicas share the primary's.
func (c *connector) schema() *atomic.Uint64 {
	if c.parent != nil {
		return &c.parent.ddl
	}
	return &c.ddl
}

// invalidate drops the statements the connection prepared before the DB's
// last schema change. pgx's statements are dropped only while the user
// holds none prepared on the connection (DeallocateAll would drop those
// too) and the connection is idle and not in a failed transaction; else
// the next statement tries again.
func (c *conn) invalidate(ctx context.Context) {
	seen := c.connector.schema().Load()
	if c.stmts != nil {
		c.stmts.closeAll()
	}
	if c.pg != nil {
		sc, ok := c.raw.(*stdlib.Conn)
		if !ok || c.ddl.openStmts > 0 || c.pg.IsBusy() || c.pg.TxStatus() == 'E' {
			return
		}
		if err := sc.Conn().DeallocateAll(ctx); err != nil {
			c.failed(err)
			return
		}
	}
	c.ddl.seen = seen
}

// dropPlans is invalidate for force_rollback's shared connection, before
// each statement on it (the caller holds phys): pgx's statements are
// dropped after a schema change run through the DB, while the user holds
// none prepared on it and it is idle in the outer transaction; else the
// next statement tries again.
func (s *shared) dropPlans(ctx context.Context) error {
	seen := s.connector.schema().Load()
	if s.ddlSeen == seen || s.real.pg == nil {
		return nil
	}
	sc, ok := s.real.raw.(*stdlib.Conn)
	if !ok || s.userStmts.Load() > 0 || s.real.pg.IsBusy() || s.real.pg.TxStatus() != 'T' {
		return nil
	}
	if err := sc.Conn().DeallocateAll(ctx); err != nil {
		return fmt.Errorf("databases: force_rollback: dropping pgx's prepared statements after a schema change: %w", err)
	}
	s.ddlSeen = seen
	return nil
}

// schemaChanged counts a statement that may have changed the schema (ts),
// or the end of the transaction one ran in (ts without effDDL). Inside a
// transaction the connection drops its own statements at once, as its
// next statement would otherwise use one prepared before the change.
func (c *conn) schemaChanged(ctx context.Context, ts txStatement) {
	inTx := c.tx.id != 0 || c.rawTx || c.pg != nil && c.pg.TxStatus() != 'I'
	switch {
	case ts.does&effDDL != 0:
		c.connector.schema().Add(1)
		c.ddl.pending = inTx
		if inTx {
			c.invalidate(ctx)
		}
	case !inTx:
		c.ddl.pending = false
		c.connector.schema().Add(1)
	}
}
