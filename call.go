package databases

import (
	"context"
	"database/sql/driver"
	"errors"
	"io"
	"time"

	"github.com/go-databases/databases/middleware"
)

// The one path every call takes. An exec or a query, of the connection or
// of a statement prepared on it, and a Prepare pass the same stages, each
// written once:
//
//   - route: with read replicas, a call of the connection runs on a replica
//     connection or on the primary (routed, replica.go); a prepared
//     statement runs where it was prepared.
//   - guard: Transact's context (transact_guard.go) and the transaction
//     rules (txguard.go, leak.go), applied to what the statement does
//     (txeffect.go, read once per text by classify); a statement prepared
//     on a replica waits for the replica to catch up (admit).
//   - rewrite: placeholders and IN lists (conn.rewrite, stmt.bindArgs).
//   - chain or not: the middleware when it wants the call, through a call
//     state (callState.run); otherwise straight on, allocating nothing
//     (send).
//   - cache: the connection's prepared statements and the stale-plan retry
//     (execReal, queryReal).
//   - native: the real driver (native.go).
//   - after: what the statement did to the session, the schema and the
//     transaction (conn.ran).

// perform runs an exec (OpExec, OpStmtExec) or a query (OpQuery,
// OpStmtQuery): of the connection when st is nil, else of st, a statement
// prepared on it. It returns an exec's result or a query's rows.
func (c *conn) perform(ctx context.Context, op middleware.Op, st *stmt, query string, args []driver.NamedValue) (driver.Result, driver.Rows, error) {
	if c.rep != nil && st == nil {
		return c.routed(ctx, op, query, args)
	}
	return c.here(ctx, op, st, query, args)
}

// here runs an exec or a query on this connection's own server: every
// stage but the route.
func (c *conn) here(ctx context.Context, op middleware.Op, st *stmt, query string, args []driver.NamedValue) (driver.Result, driver.Rows, error) {
	ts, err := c.admit(ctx, op, st, query)
	native := query
	var res driver.Result
	var r driver.Rows
	// sent: neither the guard nor the rewrite refused the call, which
	// then reaches the server (or a middleware) as a statement that runs.
	sent := false
	if st == nil {
		if err == nil {
			native, args, err = c.rewrite(query, args)
			sent = err == nil
		}
		res, r, err = c.send(ctx, op, nil, query, native, args, ts, err)
	} else {
		native = st.native
		var expanded string
		if err == nil {
			expanded, args, err = st.bindArgs(args)
			sent = err == nil
		}
		if expanded != "" {
			// A list expanded is another native query: the connection runs it.
			if op == middleware.OpStmtExec {
				op = middleware.OpExec
			} else {
				op = middleware.OpQuery
			}
			s := newCallState(c, op, c.connector.interest(ctx, op), query, expanded, args, err)
			s.facts = *ts
			res, r, err = s.through(c.txContext(ctx))
		} else {
			res, r, err = c.send(ctx, op, st, query, native, args, ts, err)
		}
	}
	isQuery := op == middleware.OpQuery || op == middleware.OpStmtQuery
	if err != nil {
		what := "statement"
		if isQuery {
			what = "query"
		}
		err = explainLock(c.connector.cfg, what, err)
	}
	if st != nil && c.rep != nil && sent {
		if isQuery {
			c.noteQueryWrite(query)
		} else {
			c.noteWrite(query)
		}
	}
	if sent && c.needsRan(ts, err) {
		err = c.ran(ctx, *ts, err)
	}
	return res, r, err
}

// admit is the guard stage: it refuses a call given the context of a
// Transact it does not run in, reads what the statement does (a prepared
// statement's was read at Prepare), applies the transaction rules to it,
// makes a statement prepared on a replica wait for the replica, and drops
// the statements the connection prepared before the DB's last schema
// change (ddl.go). It returns what the statement does, also when it
// refuses the call: the statement's own, or the connection's memo of the
// text, which nothing replaces before the call ends.
func (c *conn) admit(ctx context.Context, op middleware.Op, st *stmt, query string) (*txStatement, error) {
	var ts *txStatement
	if st != nil {
		ts = &st.tx
	} else {
		ts = c.classify(query)
	}
	if c.tx.id == 0 { // inside BeginTx's transaction the call runs in it
		if err := c.guardTransact(ctx); err != nil {
			return ts, err
		}
	}
	// A Prepare runs nothing: outside a transaction its executions are
	// what may open one. Inside one, a statement that does nothing to it
	// has nothing for the rules of any mode while the transaction has
	// nothing to be asked or refused (txGuard.clear).
	if ts.effect != 0 && (op != middleware.OpPrepare || c.tx.id != 0) || c.tx.id != 0 && !c.tx.clear() {
		if err := c.connector.mode.control(ctx, c, *ts); err != nil {
			return ts, err
		}
	}
	if st != nil && st.primary != nil {
		if err := st.primary.replicaExec(ctx, c, &st.tx); err != nil {
			return ts, err
		}
	}
	if c.ddl.seen != c.connector.schema().Load() {
		c.invalidate(ctx)
	}
	return ts, nil
}

// send is the chain-or-not stage: through the middleware when the chain
// wants the call, else straight to the cache and the real driver, with no
// call state. err is an error found before (a bad placeholder, a refused
// statement), which the middleware sees as the call's.
func (c *conn) send(ctx context.Context, op middleware.Op, st *stmt, query, native string, args []driver.NamedValue, ts *txStatement, err error) (driver.Result, driver.Rows, error) {
	ctx = c.txContext(ctx)
	if in := c.connector.interest(ctx, op); in != middleware.None {
		s := newCallState(c, op, in, query, native, args, err)
		s.facts, s.stmt = *ts, st
		return s.through(ctx)
	}
	if err != nil {
		return nil, nil, err
	}
	switch op {
	case middleware.OpExec:
		res, _, err := c.execReal(ctx, native, args, ts, nil)
		return res, nil, err
	case middleware.OpQuery:
		r, after, _, err := c.queryReal(ctx, native, args, ts, nil)
		if err != nil {
			return nil, nil, err
		}
		return nil, c.cachedRows(r, after), nil
	case middleware.OpStmtExec:
		res, err := st.execNative(ctx, args)
		return res, nil, err
	default: // OpStmtQuery
		r, err := st.queryNative(ctx, args)
		if err != nil {
			return nil, nil, err
		}
		return nil, c.wrapDirect(r), nil
	}
}

// execReal is the cache stage of an exec: through the statement cache when
// the query may be kept (txStatement.cacheable) and no middleware changed
// it, else straight to the real driver; a call that pgx's cached plan made
// fail runs once more when nothing of it can have run (retryStale). Under
// middleware (s not nil) a driver's driver.ErrSkip is answered here, by
// preparing, so that the chain sees one call; without, database/sql
// answers it.
func (c *conn) execReal(ctx context.Context, native string, args []driver.NamedValue, ts *txStatement, s *callState) (res driver.Result, use middleware.StmtCache, err error) {
	if c.stmts.wants(native, len(args)) && ts.cacheable() && (s == nil || native == s.native) &&
		(ts.does&effWrite != 0 || c.connector.backend.execsKeptReads()) {
		res, use, err = c.execCached(ctx, native, args, s)
	} else {
		res, err = c.execOnce(ctx, native, args, s != nil)
	}
	if err != nil && c.retryStale(err, ts) {
		res, err = c.execOnce(ctx, native, args, s != nil)
	}
	return res, use, err
}

// queryReal is execReal for queries. It returns, with the rows, what must
// be closed after them: a cached statement, busy until then, or one
// prepared for this call alone.
func (c *conn) queryReal(ctx context.Context, native string, args []driver.NamedValue, ts *txStatement, s *callState) (r driver.Rows, after io.Closer, use middleware.StmtCache, err error) {
	if c.stmts.wants(native, len(args)) && ts.cacheable() && (s == nil || native == s.native) {
		r, after, use, err = c.queryCached(ctx, native, args, s)
	} else {
		r, after, err = c.queryOnce(ctx, native, args, s != nil)
	}
	if err != nil && c.retryStale(err, ts) {
		r, after, err = c.queryOnce(ctx, native, args, s != nil)
	}
	return r, after, use, err
}

// execOnce runs an exec uncached: with orPrepare, preparing when the
// driver asks (execOrPrepare), as one call.
func (c *conn) execOnce(ctx context.Context, native string, args []driver.NamedValue, orPrepare bool) (driver.Result, error) {
	if orPrepare {
		return c.execOrPrepare(ctx, native, args)
	}
	res, err := c.execNative(ctx, native, args)
	if err == driver.ErrSkip {
		res, err = c.execPrepared(ctx, native, args) // see queryOnce
	}
	return res, err
}

// queryOnce is execOnce for queries.
func (c *conn) queryOnce(ctx context.Context, native string, args []driver.NamedValue, orPrepare bool) (driver.Rows, io.Closer, error) {
	if orPrepare {
		r, st, err := c.queryOrPrepare(ctx, native, args)
		if st == nil {
			return r, nil, err
		}
		return r, st, err
	}
	r, err := c.queryNative(ctx, native, args)
	if err == driver.ErrSkip {
		// go-sql-driver/mysql answers a query with arguments so without
		// interpolateParams. It is prepared, run, and closed with its rows
		// here, as database/sql would next (DB.queryDC): done by
		// database/sql, the statement would come back as a prepare of the
		// wrapper, a statement of its own and a second check of the
		// arguments, and the call's rules would apply twice.
		r, st, err := c.queryPrepared(ctx, native, args)
		if st == nil {
			return r, nil, err
		}
		return r, st, err
	}
	return r, nil, err
}

// prepareCall is the chain-or-not stage of a Prepare, the user's or the
// statement cache's on a miss (use): it prepares native through the
// middleware when the chain wants it, and returns the statement and the
// query prepared, which a middleware may have changed. err is an error
// found before, which the middleware sees as the call's.
func (c *conn) prepareCall(ctx context.Context, query, native string, use middleware.StmtCache, err error) (driver.Stmt, string, error) {
	in := c.connector.interest(ctx, middleware.OpPrepare)
	if in == middleware.None {
		if err != nil {
			return nil, native, err
		}
		st, err := c.prepareNative(ctx, native)
		return st, native, err
	}
	s := newCallState(c, middleware.OpPrepare, in, query, native, nil, err)
	s.call.StmtCache = use
	err = s.observe(ctx, s.final)
	st, native := s.prepared, s.call.NativeQuery
	s.release()
	return st, native, err
}

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
	prepared driver.Stmt     // what a Prepare returned
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
	call.ConnID, call.TxID, call.RowsAffected = c.id, c.tx.id, -1
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

// run is the innermost handler: the real driver call, through the
// statement cache when the query may use it (execReal, queryReal).
func (s *callState) run(ctx context.Context, call *middleware.Call) error {
	if s.preErr != nil {
		return s.preErr
	}
	var err error
	switch call.Op {
	case middleware.OpExec:
		s.res, call.StmtCache, err = s.conn.execReal(ctx, call.NativeQuery, call.Args, &s.facts, s)
	case middleware.OpStmtExec:
		s.res, err = s.stmt.execNative(ctx, call.Args)
	case middleware.OpQuery:
		s.rows, s.rowsStmt, call.StmtCache, err = s.conn.queryReal(ctx, call.NativeQuery, call.Args, &s.facts, s)
		s.rowsCtx = ctx
	case middleware.OpStmtQuery:
		s.rows, err = s.stmt.queryNative(ctx, call.Args)
		s.rowsCtx = ctx
	case middleware.OpPrepare:
		s.prepared, err = s.conn.prepareNative(ctx, call.NativeQuery)
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

// through runs an exec or a query call through the pipeline: an exec's
// result or a query's rows.
func (s *callState) through(ctx context.Context) (driver.Result, driver.Rows, error) {
	if op := s.call.Op; op == middleware.OpExec || op == middleware.OpStmtExec {
		res, err := s.exec(ctx)
		return res, nil, err
	}
	r, err := s.query(ctx)
	return nil, r, err
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
