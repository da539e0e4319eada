//lint:file-ignore SA1019 the calls fall back to the legacy driver interfaces, as database/sql does

package databases

// The calls that reach the real driver's exec, query, prepare and begin,
// made the way database/sql makes them: through the interface that takes a
// context when the driver has it, otherwise through the legacy one, with
// the arguments converted and the context checked (its ctxutil.go); and,
// for a driver that answers driver.ErrSkip or cannot exec at all, through a
// prepared statement (its DB.execDC and DB.queryDC). This is the one place
// that makes those calls, as ctxutil.go is for database/sql: the layers
// above (middleware, rewriting, the transaction rules, force_rollback's
// shared connection) all come here.

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// realConn is a connection of the real driver with its optional interfaces
// asserted once.
type realConn struct {
	raw driver.Conn
	pg  *pgconn.PgConn // the pgx connection, whose transaction status is free to read; nil elsewhere

	pinger        driver.Pinger
	execer        driver.ExecerContext
	execerLegacy  driver.Execer
	queryer       driver.QueryerContext
	queryerLegacy driver.Queryer
	preparer      driver.ConnPrepareContext
	beginner      driver.ConnBeginTx
	resetter      driver.SessionResetter
	validator     driver.Validator
	checker       driver.NamedValueChecker

	stmts *stmtCache // the prepared-statement cache (stmtcache.go); nil when off
}

// closed reports whether the real connection says it is closed: its
// IsValid, or pgx's own state (pgx's stdlib connection has no IsValid).
func (r *realConn) closed() bool {
	return r.validator != nil && !r.validator.IsValid() || r.pg != nil && r.pg.IsClosed()
}

func newRealConn(raw driver.Conn) realConn {
	r := realConn{raw: raw}
	if sc, ok := raw.(*stdlib.Conn); ok {
		r.pg = sc.Conn().PgConn()
	}
	r.pinger, _ = raw.(driver.Pinger)
	r.execer, _ = raw.(driver.ExecerContext)
	r.execerLegacy, _ = raw.(driver.Execer)
	r.queryer, _ = raw.(driver.QueryerContext)
	r.queryerLegacy, _ = raw.(driver.Queryer)
	r.preparer, _ = raw.(driver.ConnPrepareContext)
	r.beginner, _ = raw.(driver.ConnBeginTx)
	r.resetter, _ = raw.(driver.SessionResetter)
	r.validator, _ = raw.(driver.Validator)
	r.checker, _ = raw.(driver.NamedValueChecker)
	if v, ok := raw.(connView); ok {
		r.narrow(v.viewed())
	}
	return r
}

// connView is a driver connection that stands for another, the one it
// views: force_rollback's views of its shared connection
// (forcerollback_conn.go) have every optional interface, and answer for
// the real connection behind them. stmtView is the same for statements.
// The wrapper offers exactly the optional interfaces of what is viewed, so
// that database/sql treats a view as it would the real value.
type (
	connView interface{ viewed() *realConn }
	stmtView interface{ viewed() *realStmt }
)

// narrow removes the optional interfaces the viewed connection v lacks.
// Validator stays: a view's IsValid has work of its own (a force_rollback
// view ends a DriverConn hold), and answers true, as database/sql assumes
// of a connection without it.
func (r *realConn) narrow(v *realConn) {
	if v.pinger == nil {
		r.pinger = nil
	}
	if v.execer == nil && v.execerLegacy == nil {
		r.execer, r.execerLegacy = nil, nil
	}
	if v.queryer == nil && v.queryerLegacy == nil {
		r.queryer, r.queryerLegacy = nil, nil
	}
	if v.preparer == nil {
		r.preparer = nil
	}
	if v.beginner == nil {
		r.beginner = nil
	}
	if v.resetter == nil {
		r.resetter = nil
	}
	if v.checker == nil {
		r.checker = nil
	}
}

// execNative runs a statement on the real connection, through its legacy
// Execer when it has no ExecerContext (ctxDriverExec); the connection has
// one or the other. It may return driver.ErrSkip.
func (r *realConn) execNative(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if r.execer != nil {
		return r.execer.ExecContext(ctx, query, args)
	}
	values, err := namedValuesToValues(args)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return r.execerLegacy.Exec(query, values)
}

// queryNative is execNative for queries (ctxDriverQuery).
func (r *realConn) queryNative(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if r.queryer != nil {
		return r.queryer.QueryContext(ctx, query, args)
	}
	values, err := namedValuesToValues(args)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return r.queryerLegacy.Query(query, values)
}

// execOrPrepare runs a statement on the real connection and, when the
// driver has no Execer or answers driver.ErrSkip (go-sql-driver/mysql
// without interpolateParams, for a query with arguments), prepares, runs and
// closes it, as database/sql does (DB.execDC). It is used where one call
// must do it all: under middleware, which then sees one call rather than a
// failed call followed by a prepared one, on force_rollback's shared
// connection, and for the statements this package sends itself.
func (r *realConn) execOrPrepare(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if r.execer != nil || r.execerLegacy != nil {
		res, err := r.execNative(ctx, query, args)
		if err != driver.ErrSkip {
			return res, err
		}
	}
	return r.execPrepared(ctx, query, args)
}

// queryOrPrepare is execOrPrepare for queries (DB.queryDC). It returns the
// statement it prepared, if it did, to be closed with the rows.
func (r *realConn) queryOrPrepare(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, driver.Stmt, error) {
	if r.queryer != nil || r.queryerLegacy != nil {
		rows, err := r.queryNative(ctx, query, args)
		if err != driver.ErrSkip {
			return rows, nil, err
		}
	}
	return r.queryPrepared(ctx, query, args)
}

// execPrepared and queryPrepared prepare, run and close a statement, for
// execOrPrepare and queryOrPrepare; the run is the statement's execNative or
// queryNative, as database/sql's is ctxDriverStmtExec or ctxDriverStmtQuery.
func (r *realConn) execPrepared(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	s, err := r.prepareNative(ctx, query)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	if err := checkNumInput(s, args); err != nil {
		return nil, err
	}
	rs := newRealStmt(s)
	return rs.execNative(ctx, args)
}

// queryPrepared returns the statement too: it is closed with the rows.
func (r *realConn) queryPrepared(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, driver.Stmt, error) {
	s, err := r.prepareNative(ctx, query)
	if err != nil {
		return nil, nil, err
	}
	if err := checkNumInput(s, args); err != nil {
		s.Close()
		return nil, nil, err
	}
	rs := newRealStmt(s)
	rows, err := rs.queryNative(ctx, args)
	if err != nil {
		s.Close()
		return nil, nil, err
	}
	return rows, s, nil
}

// checkNumInput refuses arguments whose count is not the one a statement
// the real driver prepared expects, as database/sql does when it checks
// the arguments of a statement (driverArgsConnLocked), with its message;
// a statement that cannot tell (-1) takes any count.
func checkNumInput(s driver.Stmt, args []driver.NamedValue) error {
	if want := s.NumInput(); want != -1 && want != len(args) {
		return fmt.Errorf("sql: expected %d arguments, got %d", want, len(args))
	}
	return nil
}

// prepareNative prepares on the real connection (ctxDriverPrepare). On
// MySQL's 1461 it tries once more after freeing cached statements
// (stmtCache.relieve).
func (r *realConn) prepareNative(ctx context.Context, query string) (driver.Stmt, error) {
	s, err := r.prepareOnce(ctx, query)
	if err != nil && r.stmts.relieve(ctx, err) {
		s, err = r.prepareOnce(ctx, query)
	}
	return s, err
}

func (r *realConn) prepareOnce(ctx context.Context, query string) (driver.Stmt, error) {
	if r.preparer != nil {
		return r.preparer.PrepareContext(ctx, query)
	}
	s, err := r.raw.Prepare(query)
	if err == nil && ctx.Err() != nil {
		s.Close()
		return nil, ctx.Err()
	}
	return s, err
}

// beginNative begins a transaction on the real connection, through BeginTx
// when it has it and otherwise through the legacy Begin.
// beginLegacy is the real driver's legacy Begin, for the wrapper's own
// legacy Begin.
func (r *realConn) beginLegacy(context.Context, driver.TxOptions) (driver.Tx, error) {
	return r.raw.Begin()
}

func (r *realConn) beginNative(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if r.beginner != nil {
		return r.beginner.BeginTx(ctx, opts)
	}
	return r.raw.Begin()
}

// realStmt is a prepared statement of the real driver with its optional
// interfaces asserted once.
type realStmt struct {
	raw       driver.Stmt
	execer    driver.StmtExecContext
	queryer   driver.StmtQueryContext
	checker   driver.NamedValueChecker
	converter driver.ColumnConverter
}

func newRealStmt(raw driver.Stmt) realStmt {
	s := realStmt{raw: raw}
	s.execer, _ = raw.(driver.StmtExecContext)
	s.queryer, _ = raw.(driver.StmtQueryContext)
	s.checker, _ = raw.(driver.NamedValueChecker)
	s.converter, _ = raw.(driver.ColumnConverter)
	return s
}

// narrow is realConn.narrow for statements.
func (s *realStmt) narrow(v *realStmt) {
	if v.execer == nil {
		s.execer = nil
	}
	if v.queryer == nil {
		s.queryer = nil
	}
	if v.checker == nil {
		s.checker = nil
	}
	if v.converter == nil {
		s.converter = nil
	}
}

// execNative runs the real statement, through its legacy Exec when it has
// no ExecContext (ctxDriverStmtExec).
func (s *realStmt) execNative(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	if s.execer != nil {
		return s.execer.ExecContext(ctx, args)
	}
	values, err := namedValuesToValues(args)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return s.raw.Exec(values)
}

// queryNative is execNative for queries (ctxDriverStmtQuery).
func (s *realStmt) queryNative(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	if s.queryer != nil {
		return s.queryer.QueryContext(ctx, args)
	}
	values, err := namedValuesToValues(args)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return s.raw.Query(values)
}

// namedValuesToValues converts arguments for a legacy driver interface, which
// cannot take names.
func namedValuesToValues(args []driver.NamedValue) ([]driver.Value, error) {
	values := make([]driver.Value, len(args))
	for i, a := range args {
		if a.Name != "" {
			return nil, errors.New("databases: the real driver does not support named parameters")
		}
		values[i] = a.Value
	}
	return values, nil
}

// valuesToNamedValues is the reverse, for the legacy Stmt methods.
func valuesToNamedValues(values []driver.Value) []driver.NamedValue {
	args := make([]driver.NamedValue, len(values))
	for i, v := range values {
		args[i] = driver.NamedValue{Ordinal: i + 1, Value: v}
	}
	return args
}
