package databases

import (
	"context"
	"database/sql/driver"

	"github.com/go-databases/databases/rewrite"
)

// stmt wraps a prepared statement of the real driver. Its query was
// rewritten once, at prepare; each execution only maps the arguments.
type stmt struct {
	raw  driver.Stmt
	conn *conn
	plan *rewrite.Plan // nil when the query was sent as written

	execer    driver.StmtExecContext
	queryer   driver.StmtQueryContext
	checker   driver.NamedValueChecker
	converter driver.ColumnConverter
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

func newStmt(raw driver.Stmt, c *conn, plan *rewrite.Plan) stmt {
	s := stmt{raw: raw, conn: c, plan: plan}
	s.execer, _ = raw.(driver.StmtExecContext)
	s.queryer, _ = raw.(driver.StmtQueryContext)
	s.checker, _ = raw.(driver.NamedValueChecker)
	//lint:ignore SA1019 forwarded for drivers that still have it
	s.converter, _ = raw.(driver.ColumnConverter)
	return s
}

func (s *stmt) Close() error { return s.raw.Close() }

// NumInput reports the arguments the query as written expects, which after
// a rewrite can differ from the native statement's count (a repeated :name).
func (s *stmt) NumInput() int {
	if s.plan != nil {
		return s.plan.NumInput()
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
	args, err := s.bind(valuesToNamedValues(values))
	if err != nil {
		return nil, err
	}
	if values, err = namedValuesToValues(args); err != nil {
		return nil, err
	}
	//lint:ignore SA1019 database/sql calls Exec only when the real statement lacks ExecContext
	return s.raw.Exec(values)
}

func (s *stmt) Query(values []driver.Value) (driver.Rows, error) {
	args, err := s.bind(valuesToNamedValues(values))
	if err != nil {
		return nil, err
	}
	if values, err = namedValuesToValues(args); err != nil {
		return nil, err
	}
	//lint:ignore SA1019 database/sql calls Query only when the real statement lacks QueryContext
	r, err := s.raw.Query(values)
	if err != nil {
		return nil, err
	}
	return s.conn.c.wrapRows(r), nil
}

func (s *stmtExecer) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	args, err := (*stmt)(s).bind(args)
	if err != nil {
		return nil, err
	}
	return s.execer.ExecContext(ctx, args)
}

func (s *stmtQueryer) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	args, err := (*stmt)(s).bind(args)
	if err != nil {
		return nil, err
	}
	r, err := s.queryer.QueryContext(ctx, args)
	if err != nil {
		return nil, err
	}
	return s.conn.c.wrapRows(r), nil
}

func (s *stmtChecker) CheckNamedValue(nv *driver.NamedValue) error {
	return s.checker.CheckNamedValue(nv)
}

func (s *stmtConverter) ColumnConverter(idx int) driver.ValueConverter {
	return s.converter.ColumnConverter(idx)
}
