package databases

import (
	"context"
	"database/sql/driver"
	"errors"

	"github.com/go-databases/databases/rewrite"
)

// conn wraps a connection of the real driver. The value database/sql sees is
// built by wrapConn, which adds exactly the optional interfaces the real
// connection has (see wrap_gen.go); the mixin types below carry them.
type conn struct {
	raw driver.Conn
	c   *connector

	// The real connection's optional interfaces, asserted once.
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
}

// Mixins: each adds one optional interface to the value wrapConn builds.
type (
	connPinger    conn
	connExecer    conn // ExecerContext, also standing in for a legacy Execer
	connQueryer   conn // QueryerContext, also standing in for a legacy Queryer
	connPreparer  conn
	connBeginner  conn
	connResetter  conn
	connValidator conn
	connChecker   conn
)

var (
	_ driver.Conn               = (*conn)(nil)
	_ driver.Pinger             = (*connPinger)(nil)
	_ driver.ExecerContext      = (*connExecer)(nil)
	_ driver.QueryerContext     = (*connQueryer)(nil)
	_ driver.ConnPrepareContext = (*connPreparer)(nil)
	_ driver.ConnBeginTx        = (*connBeginner)(nil)
	_ driver.SessionResetter    = (*connResetter)(nil)
	_ driver.Validator          = (*connValidator)(nil)
	_ driver.NamedValueChecker  = (*connChecker)(nil)
)

func newConn(raw driver.Conn, c *connector) conn {
	w := conn{raw: raw, c: c}
	w.pinger, _ = raw.(driver.Pinger)
	w.execer, _ = raw.(driver.ExecerContext)
	w.execerLegacy, _ = raw.(driver.Execer)
	w.queryer, _ = raw.(driver.QueryerContext)
	w.queryerLegacy, _ = raw.(driver.Queryer)
	w.preparer, _ = raw.(driver.ConnPrepareContext)
	w.beginner, _ = raw.(driver.ConnBeginTx)
	w.resetter, _ = raw.(driver.SessionResetter)
	w.validator, _ = raw.(driver.Validator)
	w.checker, _ = raw.(driver.NamedValueChecker)
	return w
}

// Unwrap returns the real driver's connection, for use inside
// sql.Conn.Raw (pgx CopyFrom, SQLite backup, ...). See DriverConn.
func (c *conn) Unwrap() driver.Conn { return c.raw }

func (c *conn) Prepare(query string) (driver.Stmt, error) {
	return c.prepare(context.Background(), query)
}

func (c *conn) Close() error { return c.raw.Close() }

func (c *conn) Begin() (driver.Tx, error) {
	//lint:ignore SA1019 database/sql calls Begin only when the real driver lacks BeginTx
	t, err := c.raw.Begin()
	if err != nil {
		return nil, err
	}
	return &tx{raw: t, conn: c}, nil
}

func (c *connPinger) Ping(ctx context.Context) error { return c.pinger.Ping(ctx) }

func (c *connExecer) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	return (*conn)(c).exec(ctx, query, args)
}

func (c *connQueryer) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	return (*conn)(c).query(ctx, query, args)
}

func (c *connPreparer) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return (*conn)(c).prepare(ctx, query)
}

func (c *connBeginner) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	t, err := c.beginner.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &tx{raw: t, conn: (*conn)(c)}, nil
}

func (c *connResetter) ResetSession(ctx context.Context) error { return c.resetter.ResetSession(ctx) }

func (c *connValidator) IsValid() bool { return c.validator.IsValid() }

func (c *connChecker) CheckNamedValue(nv *driver.NamedValue) error {
	return c.checker.CheckNamedValue(nv)
}

// rewrite turns a portable query into the dialect's native one and maps its
// arguments. A query without arguments is sent as written, and so is every
// query when rewriting is off (SQLite, placeholders=native).
func (c *conn) rewrite(query string, args []driver.NamedValue) (string, []driver.NamedValue, error) {
	if c.c.cache == nil || len(args) == 0 {
		return query, args, nil
	}
	plan, err := c.c.cache.Plan(query)
	if err != nil {
		return "", nil, err
	}
	args, err = plan.Bind(args)
	if err != nil {
		return "", nil, err
	}
	return plan.Query(), args, nil
}

func (c *conn) exec(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	query, args, err := c.rewrite(query, args)
	if err != nil {
		return nil, err
	}
	if c.execer != nil {
		return c.execer.ExecContext(ctx, query, args)
	}
	// A driver with only the legacy Execer, called as database/sql would.
	values, err := namedValuesToValues(args)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	//lint:ignore SA1019 the real driver has only the legacy interface
	return c.execerLegacy.Exec(query, values)
}

func (c *conn) query(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	query, args, err := c.rewrite(query, args)
	if err != nil {
		return nil, err
	}
	var r driver.Rows
	if c.queryer != nil {
		r, err = c.queryer.QueryContext(ctx, query, args)
	} else {
		var values []driver.Value
		if values, err = namedValuesToValues(args); err != nil {
			return nil, err
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		//lint:ignore SA1019 the real driver has only the legacy interface
		r, err = c.queryerLegacy.Query(query, values)
	}
	if err != nil {
		return nil, err
	}
	return c.c.wrapRows(r), nil
}

func (c *conn) prepare(ctx context.Context, query string) (driver.Stmt, error) {
	var plan *rewrite.Plan
	native := query
	if c.c.cache != nil {
		var err error
		if plan, err = c.c.cache.Plan(query); err != nil {
			return nil, err
		}
		native = plan.Query()
	}
	var s driver.Stmt
	var err error
	if c.preparer != nil {
		s, err = c.preparer.PrepareContext(ctx, native)
	} else {
		s, err = c.raw.Prepare(native)
		if err == nil && ctx.Err() != nil {
			s.Close()
			return nil, ctx.Err()
		}
	}
	if err != nil {
		return nil, err
	}
	return wrapStmt(newStmt(s, c, plan)), nil
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
