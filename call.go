package databases

import (
	"context"
	"database/sql/driver"
	"errors"
	"sync"
	"time"

	"github.com/go-databases/databases/middleware"
)

// callState carries one exec, query or rows call through the middleware
// pipeline: the Call middleware sees, what the real call needs and what it
// returned. States are pooled, and final is bound once per state, so a call
// through the pipeline allocates nothing of its own. A query's state lives
// on in its rows until they close.
type callState struct {
	call  middleware.Call
	final middleware.Handler // s.run, bound once

	conn   *conn
	stmt   *stmt // for OpStmtExec and OpStmtQuery
	preErr error // an error found before the call (a bad placeholder)

	res      driver.Result
	rows     driver.Rows
	rowsStmt driver.Stmt     // a statement to close with the rows
	rowsCtx  context.Context // the context the real query ran with
}

var callStates = sync.Pool{New: func() any {
	s := &callState{}
	s.final = s.run
	return s
}}

// newCallState takes a state from the pool for a call of c.
func newCallState(c *conn, op middleware.Op, query, native string, args []driver.NamedValue, preErr error) *callState {
	s := callStates.Get().(*callState)
	s.conn, s.preErr = c, preErr
	s.call = middleware.Call{
		Op: op, DB: c.c.db, Query: query, NativeQuery: native, Args: args,
		ConnID: c.id, TxID: c.txID, Start: time.Now(), RowsAffected: -1,
	}
	return s
}

// release returns the state to the pool, dropping what it refers to.
func (s *callState) release() {
	final := s.final
	*s = callState{final: final}
	callStates.Put(s)
}

// run is the innermost handler: the real driver call.
func (s *callState) run(ctx context.Context, call *middleware.Call) error {
	if s.preErr != nil {
		return s.preErr
	}
	var err error
	switch call.Op {
	case middleware.OpExec:
		s.res, err = s.conn.execNative(ctx, call.NativeQuery, call.Args)
		if err == driver.ErrSkip {
			s.res, err = s.conn.execPrepared(ctx, call.NativeQuery, call.Args)
		}
	case middleware.OpStmtExec:
		s.res, err = s.stmt.execNative(ctx, call.Args)
	case middleware.OpQuery:
		s.rows, err = s.conn.queryNative(ctx, call.NativeQuery, call.Args)
		if err == driver.ErrSkip {
			s.rows, s.rowsStmt, err = s.conn.queryPrepared(ctx, call.NativeQuery, call.Args)
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

// do runs a call whose only result is its error through the pipeline.
func (s *callState) do(ctx context.Context) error {
	err := s.conn.c.chain.Run(ctx, &s.call, s.final)
	s.release()
	return err
}

// exec runs an exec call through the pipeline.
func (s *callState) exec(ctx context.Context) (driver.Result, error) {
	err := s.conn.c.chain.Run(ctx, &s.call, s.final)
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
	err := s.conn.c.chain.Run(ctx, &s.call, s.final)
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
	return wrapRowsValue(newRows(s)), nil
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
