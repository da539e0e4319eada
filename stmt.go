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
	if v, ok := raw.(stmtView); ok {
		s.narrow(v.viewed())
	}
	c.ddl.openStmts++
	return s
}

func (s *stmt) Close() error {
	s.conn.stmts.lock() // database/sql may close it while the connection is idle
	defer s.conn.stmts.unlock()
	s.conn.ddl.openStmts--
	if s.conn.connector.chain == nil {
		return s.raw.Close() // no closure to allocate (conn.run)
	}
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

// bindArgs is the rewrite stage of an execution: it maps the arguments to
// the native statement's. An IN list expanded makes another native query,
// which it returns for the connection to run; else "".
func (s *stmt) bindArgs(args []driver.NamedValue) (string, []driver.NamedValue, error) {
	if s.conn.listArgs {
		native, largs, err := s.lists(args)
		if native != "" || err != nil {
			return native, largs, err
		}
		args = largs
	}
	if s.plan == nil {
		return "", args, nil
	}
	args, err := s.plan.Bind(args)
	return "", args, err
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
	res, _, err := s.conn.perform(ctx, middleware.OpStmtExec, s, s.sql, args)
	return res, err
}

func (s *stmt) query(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	_, r, err := s.conn.perform(ctx, middleware.OpStmtQuery, s, s.sql, args)
	return s.conn.held(ctx, s.sql, r, err)
}

func (s *stmtChecker) CheckNamedValue(nv *driver.NamedValue) error {
	return (*stmt)(s).checkNamedValue(nv)
}

func (s *stmtConverter) ColumnConverter(idx int) driver.ValueConverter {
	return s.converter.ColumnConverter(idx)
}
