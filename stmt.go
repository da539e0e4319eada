//lint:file-ignore SA1019 the wrapper mirrors the legacy driver interfaces a real driver may still have

package databases

import (
	"context"
	"database/sql/driver"

	"github.com/go-databases/databases/middleware"
	"github.com/go-databases/databases/rewrite"
)

// stmt is a prepared statement as database/sql sees it, wrapping the real
// driver's (native.go). Its query was rewritten once, at prepare; each
// execution only maps the arguments, and goes through the transaction rules
// and the middleware as a call of its connection does.
type stmt struct {
	realStmt
	conn   *conn
	sql    string        // as the caller wrote it
	native string        // as prepared by the real driver
	plan   *rewrite.Plan // nil when the query was sent as written
	tx     txStatement   // what the statement does (txeffect.go), read at prepare
	// primary is, for a statement prepared on a replica connection, the
	// primary connection that routed it there (replica.go); nil otherwise.
	primary *conn
}

// Mixins: each adds one optional interface to the value wrapStmt builds.
type (
	stmtExecer    stmt
	stmtQueryer   stmt
	stmtChecker   stmt
	stmtConverter stmt
)

var (
	_ driver.Stmt              = (*stmt)(nil)
	_ driver.StmtExecContext   = (*stmtExecer)(nil)
	_ driver.StmtQueryContext  = (*stmtQueryer)(nil)
	_ driver.NamedValueChecker = (*stmtChecker)(nil)
	_ driver.ColumnConverter   = (*stmtConverter)(nil)
)

func newStmt(raw driver.Stmt, c *conn, query, native string, plan *rewrite.Plan) stmt {
	s := stmt{realStmt: newRealStmt(raw), conn: c, sql: query, native: native, plan: plan}
	if v, ok := raw.(*sharedStmt); ok {
		v.mirror(&s)
	}
	c.openStmts++
	return s
}

func (s *stmt) Close() error {
	s.conn.openStmts--
	return s.conn.run(context.Background(), middleware.OpStmtClose, func(context.Context) error { return s.raw.Close() })
}

// NumInput is -1 when the query has a Plan, whose Bind checks the
// arguments: a count that does not match gets the same error, with the
// offset of the placeholder at fault, as the query run unprepared.
func (s *stmt) NumInput() int {
	if s.plan != nil {
		return -1
	}
	return s.raw.NumInput()
}

func (s *stmt) bind(args []driver.NamedValue) ([]driver.NamedValue, error) {
	if s.plan == nil {
		return args, nil
	}
	return s.plan.Bind(args)
}

func (s *stmt) Exec(values []driver.Value) (driver.Result, error) {
	return s.exec(context.Background(), valuesToNamedValues(values))
}

func (s *stmt) Query(values []driver.Value) (driver.Rows, error) {
	return s.query(context.Background(), valuesToNamedValues(values))
}

func (s *stmtExecer) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	return (*stmt)(s).exec(ctx, args)
}

func (s *stmtQueryer) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	return (*stmt)(s).query(ctx, args)
}

func (s *stmt) exec(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	if err := s.start(ctx); err != nil {
		return nil, err
	}
	res, err := s.execDirect(ctx, args)
	if err != nil {
		err = explainLock(s.conn.connector.cfg, "statement", err)
	}
	if s.conn.rep != nil {
		s.conn.noteWrite(s.sql)
	}
	if s.tx.does&(effSession|effDDL) != 0 || s.conn.txID != 0 || err != nil || s.conn.ddlPending {
		err = s.conn.ran(ctx, s.tx, err)
	}
	return res, err
}

// start applies, before each execution, what a call of the connection
// applies before it runs: the transaction rules, and for a statement
// prepared on a replica the replica's catching up (replicaExec).
func (s *stmt) start(ctx context.Context) error {
	if err := s.conn.guardTransact(ctx); err != nil {
		return err
	}
	if s.conn.connector.shared == nil && (s.tx.effect != 0 || s.conn.txID != 0) {
		if err := s.conn.control(ctx, s.tx); err != nil {
			return err
		}
	}
	if s.primary != nil {
		return s.primary.replicaExec(ctx, s.conn, &s.tx)
	}
	return nil
}

func (s *stmt) execDirect(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	ctx = s.conn.txContext(ctx)
	if s.conn.listArgs {
		// A list expanded is another native query: the connection runs it.
		native, largs, err := s.lists(args)
		if native != "" || err != nil {
			return s.conn.listCall(ctx, middleware.OpExec, s.sql, native, largs, err).exec(ctx)
		}
		args = largs
	}
	args, err := s.bind(args)
	in := s.conn.connector.interest(ctx, middleware.OpStmtExec)
	if in == middleware.None {
		if err != nil {
			return nil, err
		}
		return s.execNative(ctx, args)
	}
	st := newCallState(s.conn, middleware.OpStmtExec, in, s.sql, s.native, args, err)
	st.stmt = s
	return st.exec(ctx)
}

func (s *stmt) query(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	if err := s.start(ctx); err != nil {
		return nil, err
	}
	r, err := s.queryDirect(ctx, args)
	if err != nil {
		err = explainLock(s.conn.connector.cfg, "query", err)
	}
	if s.conn.rep != nil {
		s.conn.noteQueryWrite(s.sql)
	}
	if s.tx.does&(effSession|effDDL) != 0 || s.conn.txID != 0 || err != nil || s.conn.ddlPending {
		err = s.conn.ran(ctx, s.tx, err)
	}
	return s.conn.held(ctx, s.sql, r, err)
}

func (s *stmt) queryDirect(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	ctx = s.conn.txContext(ctx)
	if s.conn.listArgs {
		native, largs, err := s.lists(args)
		if native != "" || err != nil {
			return s.conn.listCall(ctx, middleware.OpQuery, s.sql, native, largs, err).query(ctx)
		}
		args = largs
	}
	args, err := s.bind(args)
	in := s.conn.connector.interest(ctx, middleware.OpStmtQuery)
	if in == middleware.None {
		if err != nil {
			return nil, err
		}
		r, err := s.queryNative(ctx, args)
		if err != nil {
			return nil, err
		}
		return s.conn.wrapDirect(r), nil
	}
	st := newCallState(s.conn, middleware.OpStmtQuery, in, s.sql, s.native, args, err)
	st.stmt = s
	return st.query(ctx)
}

func (s *stmtChecker) CheckNamedValue(nv *driver.NamedValue) error {
	return (*stmt)(s).checkNamedValue(nv)
}

func (s *stmtConverter) ColumnConverter(idx int) driver.ValueConverter {
	return s.converter.ColumnConverter(idx)
}
