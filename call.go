package databases

import (
	"context"
	"database/sql/driver"
	"errors"
	"io"
	"time"

	"github.com/go-databases/databases/middleware"
)

// callState carries one call through the middleware pipeline: the Call
// middleware sees, what the real call needs and what it returned. Each
// connection keeps one spare state, and final is bound once per state, so a
// call through the pipeline allocates nothing of its own. A query's state
// lives on in its rows, which it holds, until they close.
//
// database/sql never uses a connection, its statements or its rows from two
// goroutines at once (it holds the connection's lock around every driver
// call), which is what lets the spare state live on the connection.
type callState struct {
	call  middleware.Call
	final middleware.Handler // s.run, bound once

	in     middleware.Interest // what the chain wants of the call: All or Failures
	conn   *conn
	stmt   *stmt       // for OpStmtExec and OpStmtQuery
	preErr error       // an error found before the call (a bad placeholder)
	facts  txStatement // what the query does: whether it may be cached or run again

	res      driver.Result
	rows     driver.Rows
	native   string          // the native query before middleware could change it
	rowsStmt io.Closer       // a statement to close, or give back to the cache, with the rows
	rowsCtx  context.Context // the context the real query ran with
	wrapped  rows            // what a query returns to database/sql
}

// newCallState takes the connection's spare state, or a new one while the
// spare is in use (a query whose rows are open, say), for a call of c.
func newCallState(c *conn, op middleware.Op, in middleware.Interest, query, native string, args []driver.NamedValue, preErr error) *callState {
	s := c.spare
	if s != nil {
		c.spare = nil
	} else {
		s = &callState{}
		s.final = s.run
	}
	s.in, s.conn, s.preErr = in, c, preErr
	// Field by field: the state is zero already (new, or cleared by release).
	call := &s.call
	call.Op, call.DB, call.Query, call.NativeQuery, call.Args = op, c.connector.db, query, native, args
	s.native = native
	call.ConnID, call.TxID, call.RowsAffected = c.id, c.txID, -1
	call.ServerAddress, call.ServerPort = c.server.Host, c.server.Port
	if in == middleware.All {
		// Only then: reading the clock costs more than the rest of the
		// state, and a call that only matters if it fails goes without.
		call.Start = time.Now()
	}
	return s
}

// release gives the state back to its connection, dropping what it refers
// to.
func (s *callState) release() {
	c := s.conn
	*s = callState{final: s.final}
	if c.spare == nil {
		c.spare = s
	}
}

// run is the innermost handler: the real driver call.
func (s *callState) run(ctx context.Context, call *middleware.Call) error {
	if s.preErr != nil {
		return s.preErr
	}
	var err error
	switch call.Op {
	case middleware.OpExec:
		c := s.conn
		if c.stmts.wants(call.NativeQuery, len(call.Args)) && call.NativeQuery == s.native && s.facts.cacheable() {
			s.res, call.StmtCache, err = c.execCached(ctx, call.NativeQuery, call.Args, s)
		} else {
			s.res, err = c.execOrPrepare(ctx, call.NativeQuery, call.Args)
		}
		if err != nil && c.retryStale(err, s.facts) {
			s.res, err = c.execOrPrepare(ctx, call.NativeQuery, call.Args)
		}
	case middleware.OpStmtExec:
		s.res, err = s.stmt.execNative(ctx, call.Args)
	case middleware.OpQuery:
		c := s.conn
		if c.stmts.wants(call.NativeQuery, len(call.Args)) && call.NativeQuery == s.native && s.facts.cacheable() {
			s.rows, s.rowsStmt, call.StmtCache, err = c.queryCached(ctx, call.NativeQuery, call.Args, s)
		} else {
			s.rows, s.rowsStmt, err = c.queryOrPrepare(ctx, call.NativeQuery, call.Args)
		}
		if err != nil && c.retryStale(err, s.facts) {
			s.rows, s.rowsStmt, err = c.queryOrPrepare(ctx, call.NativeQuery, call.Args)
		}
		s.rowsCtx = ctx
	case middleware.OpStmtQuery:
		s.rows, err = s.stmt.queryNative(ctx, call.Args)
		s.rowsCtx = ctx
	case middleware.OpResetSession:
		err = s.conn.resetSession(ctx)
	case middleware.OpRows:
		err = s.rows.Close()
		if s.rowsStmt != nil {
			err = errors.Join(err, s.rowsStmt.Close())
		}
	default:
		panic("databases: callState cannot run " + call.Op.String())
	}
	if err == nil && s.res != nil {
		call.RowsAffected = rowsAffected(s.res)
	}
	return err
}

// prepareNested prepares a statement for the cache, on a miss, as an
// OpPrepare call of the middleware nested in the call s runs.
// It returns the query prepared, which a middleware may have changed.
func (s *callState) prepareNested(ctx context.Context, query string) (driver.Stmt, string, error) {
	c := s.conn
	in := c.connector.interest(ctx, middleware.OpPrepare)
	if in == middleware.None {
		st, err := c.prepareNative(ctx, query)
		return st, query, err
	}
	p := newCallState(c, middleware.OpPrepare, in, s.call.Query, query, nil, nil)
	p.call.StmtCache = middleware.StmtCacheMiss
	var st driver.Stmt
	err := p.observe(ctx, func(ctx context.Context, call *middleware.Call) error {
		var err error
		query = call.NativeQuery
		st, err = c.prepareNative(ctx, query)
		return err
	})
	p.release()
	return st, query, err
}

// do runs a call whose only result is its error through the pipeline.
func (s *callState) do(ctx context.Context) error {
	err := s.observe(ctx, s.final)
	s.release()
	return err
}

// observe runs the call through the chain as much as the chain wants it.
func (s *callState) observe(ctx context.Context, final middleware.Handler) error {
	if s.in == middleware.None {
		return final(ctx, &s.call) // a call that needs the state only (inlist.go)
	}
	return s.conn.connector.chain.Observe(ctx, s.in, &s.call, final)
}

// exec runs an exec call through the pipeline.
func (s *callState) exec(ctx context.Context) (driver.Result, error) {
	err := s.observe(ctx, s.final)
	res := s.res
	s.release()
	if err != nil {
		return nil, err
	}
	return res, nil
}

// query runs a query call through the pipeline and returns its rows,
// wrapped so that closing them ends the call with OpRows.
func (s *callState) query(ctx context.Context) (driver.Rows, error) {
	err := s.observe(ctx, s.final)
	if err != nil {
		if s.rows != nil {
			s.rows.Close()
		}
		if s.rowsStmt != nil {
			s.rowsStmt.Close()
		}
		s.release()
		return nil, err
	}
	s.wrapped = rows{raw: s.rows, state: s}
	return wrapRows(&s.wrapped, s.conn.rowsInterfaces(s.rows)), nil
}

// rowsAffected reads a result's count for middleware; -1 when the driver
// cannot tell.
func rowsAffected(res driver.Result) int64 {
	n, err := res.RowsAffected()
	if err != nil {
		return -1
	}
	return n
}
