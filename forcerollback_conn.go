//lint:file-ignore SA1019 the views mirror the legacy driver interfaces a real driver may still have

package databases

// force_rollback's pooled connections, transactions and prepared
// statements: views of the one shared real connection (forcerollback.go).
// Each call owns the shared connection while it runs, and runs its
// statement inside the guard of forcerollback_guard.go. They offer the
// optional interfaces of the real driver's values, and no others (connView).

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
)

// sharedConn is one pooled connection of a force_rollback DB: a view of the
// shared real connection. It is what newConn wraps in that mode.
type sharedConn struct {
	s *shared

	// A DriverConn hold (shared.holdRaw); database/sql calls a connection
	// from one goroutine at a time, which guards these.
	rawHeld      bool
	rawSavepoint string
}

var (
	_ driver.Conn               = (*sharedConn)(nil)
	_ driver.ExecerContext      = (*sharedConn)(nil)
	_ driver.QueryerContext     = (*sharedConn)(nil)
	_ driver.ConnPrepareContext = (*sharedConn)(nil)
	_ driver.ConnBeginTx        = (*sharedConn)(nil)
	_ driver.Pinger             = (*sharedConn)(nil)
	_ driver.SessionResetter    = (*sharedConn)(nil)
	_ driver.Validator          = (*sharedConn)(nil)
	_ driver.NamedValueChecker  = (*sharedConn)(nil)
)

// viewed is the real connection behind the view (connView).
func (v *sharedConn) viewed() *realConn { return &v.s.real }

func (v *sharedConn) Prepare(query string) (driver.Stmt, error) {
	return v.PrepareContext(context.Background(), query)
}

// PrepareContext refuses what would end the outer transaction already
// here, so that it cannot run later; on PostgreSQL a Prepare that fails
// does not abort the outer transaction.
func (v *sharedConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	s := v.s
	s.endRaw(v)
	ts, err := s.check(query)
	if err != nil {
		return nil, err
	}
	if err := s.acquire(ctx, v); err != nil {
		return nil, err
	}
	defer s.release(v)
	var st driver.Stmt
	err = s.do(ctx, txStatement{}, func(ctx context.Context) error {
		prepared, err := s.real.prepareNative(ctx, query)
		if err == nil {
			st = prepared
		}
		return err
	})
	if err != nil {
		if st != nil {
			s.use(st.Close)
		}
		return nil, err
	}
	s.userStmts.Add(1)
	return &sharedStmt{v: v, real: newRealStmt(st), query: query, ts: ts}, nil
}

// Close gives back what the connection still holds; the real connection
// stays open until the DB closes.
func (v *sharedConn) Close() error {
	v.s.endRaw(v)
	v.s.releaseAll(v)
	return nil
}

func (v *sharedConn) Begin() (driver.Tx, error) {
	return v.BeginTx(context.Background(), driver.TxOptions{})
}

// BeginTx opens a savepoint and keeps the shared connection until it ends.
func (v *sharedConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	s := v.s
	s.endRaw(v)
	if opts.Isolation != driver.IsolationLevel(sql.LevelDefault) || opts.ReadOnly {
		return nil, fmt.Errorf("databases: force_rollback: transactions are savepoints of the outer transaction and cannot have their own options (isolation level %s, read-only %v)",
			sql.IsolationLevel(opts.Isolation), opts.ReadOnly)
	}
	if err := s.acquire(ctx, v); err != nil {
		return nil, err
	}
	name := fmt.Sprintf("databases_tx%d", s.seq.Add(1))
	err := s.use(func() error {
		_, err := s.real.execOrPrepare(context.Background(), "SAVEPOINT "+name, nil)
		return err
	})
	if err != nil {
		s.release(v)
		return nil, err
	}
	return &sharedTx{v: v, name: name}, nil
}

func (v *sharedConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	s := v.s
	s.endRaw(v)
	ts, err := s.check(query)
	if err != nil {
		return nil, err
	}
	if err := s.acquire(ctx, v); err != nil {
		return nil, err
	}
	defer s.release(v)
	var res driver.Result
	err = s.do(ctx, ts, func(ctx context.Context) error {
		var err error
		res, err = s.real.execOrPrepare(ctx, query, args)
		return err
	})
	return res, err
}

func (v *sharedConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	s := v.s
	s.endRaw(v)
	ts, err := s.check(query)
	if err != nil {
		return nil, err
	}
	return v.query(ctx, ts, func(ctx context.Context) (driver.Rows, driver.Stmt, error) {
		return s.real.queryOrPrepare(ctx, query, args)
	})
}

// query runs a query and keeps the shared connection until its rows close
// or are read into memory because another connection needs it.
func (v *sharedConn) query(ctx context.Context, ts txStatement, run func(context.Context) (driver.Rows, driver.Stmt, error)) (driver.Rows, error) {
	s := v.s
	if err := s.acquire(ctx, v); err != nil {
		return nil, err
	}
	var r *sharedRows
	err := s.use(func() error {
		g, err := s.openGuard(ts)
		if err != nil {
			return err
		}
		var raw driver.Rows
		var st driver.Stmt
		err = s.run(ctx, func(ctx context.Context) error {
			var err error
			raw, st, err = run(ctx)
			return err
		})
		if err != nil {
			return s.closeGuard(g, err)
		}
		r = &sharedRows{conn: v, raw: raw, stmt: st, guard: g}
		return nil
	})
	if err != nil {
		s.release(v)
		return nil, err
	}
	s.addRows(r)
	return wrapSharedRows(r, sharedRowsMixins(r.raw)), nil
}

// Ping asks the real connection, with the caller's cancellation sent to the
// server like a statement's.
func (v *sharedConn) Ping(ctx context.Context) error {
	s := v.s
	s.endRaw(v)
	if err := s.acquire(ctx, v); err != nil {
		return err
	}
	defer s.release(v)
	return s.use(func() error {
		if s.real.pinger == nil {
			return nil
		}
		return s.run(ctx, s.real.pinger.Ping)
	})
}

// ResetSession does not ask the real driver: its connection is always in
// the outer transaction, which pgx would take for a leaked one.
func (v *sharedConn) ResetSession(context.Context) error {
	v.s.endRaw(v)
	return nil
}

// IsValid runs as the connection goes back to the pool.
func (v *sharedConn) IsValid() bool {
	v.s.endRaw(v)
	return true
}

func (v *sharedConn) CheckNamedValue(nv *driver.NamedValue) error {
	if v.s.real.checker == nil {
		return driver.ErrSkip
	}
	return v.s.real.checker.CheckNamedValue(nv)
}

// sharedTx is a transaction of a force_rollback DB: a savepoint, which
// keeps the shared connection until it ends.
type sharedTx struct {
	v    *sharedConn
	name string
	done bool
}

func (t *sharedTx) Commit() error {
	return t.end("RELEASE SAVEPOINT " + t.name)
}

func (t *sharedTx) Rollback() error {
	return t.end("ROLLBACK TO SAVEPOINT "+t.name, "RELEASE SAVEPOINT "+t.name)
}

// end runs the savepoint commands that end the transaction.
func (t *sharedTx) end(stmts ...string) error {
	if t.done {
		return sql.ErrTxDone
	}
	t.done = true
	s := t.v.s
	s.endRaw(t.v)
	defer s.release(t.v)
	return s.use(func() error { return s.endSavepoint(stmts...) })
}

// sharedStmt is a prepared statement on the shared connection.
type sharedStmt struct {
	v     *sharedConn
	real  realStmt
	query string
	ts    txStatement // read at Prepare
}

var (
	_ driver.StmtExecContext   = (*sharedStmt)(nil)
	_ driver.StmtQueryContext  = (*sharedStmt)(nil)
	_ driver.NamedValueChecker = (*sharedStmt)(nil)
	_ driver.ColumnConverter   = (*sharedStmt)(nil)
)

// viewed is the real statement behind the view (stmtView).
func (s *sharedStmt) viewed() *realStmt { return &s.real }

// Close closes the real statement now if the shared connection is free or
// already this connection's; otherwise the next connection to own it
// closes the statement first, so that closing never waits and never runs
// while another connection uses the real one.
func (s *sharedStmt) Close() error {
	sh := s.v.s
	sh.endRaw(s.v)
	sh.userStmts.Add(-1)
	if !sh.tryAcquire(s.v) {
		sh.mu.Lock()
		sh.stale = append(sh.stale, s.real.raw)
		sh.mu.Unlock()
		return nil
	}
	defer sh.release(s.v)
	return sh.use(s.real.raw.Close)
}

func (s *sharedStmt) NumInput() int { return s.real.raw.NumInput() }

func (s *sharedStmt) Exec(values []driver.Value) (driver.Result, error) {
	return s.ExecContext(context.Background(), valuesToNamedValues(values))
}

func (s *sharedStmt) Query(values []driver.Value) (driver.Rows, error) {
	return s.QueryContext(context.Background(), valuesToNamedValues(values))
}

func (s *sharedStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	sh := s.v.s
	sh.endRaw(s.v)
	if err := sh.acquire(ctx, s.v); err != nil {
		return nil, err
	}
	defer sh.release(s.v)
	var res driver.Result
	err := sh.do(ctx, s.ts, func(ctx context.Context) error {
		var err error
		res, err = s.real.execNative(ctx, args)
		return err
	})
	return res, err
}

func (s *sharedStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	sh := s.v.s
	sh.endRaw(s.v)
	return s.v.query(ctx, s.ts, func(ctx context.Context) (driver.Rows, driver.Stmt, error) {
		r, err := s.real.queryNative(ctx, args)
		return r, nil, err
	})
}

func (s *sharedStmt) CheckNamedValue(nv *driver.NamedValue) error {
	if s.real.checker == nil {
		return driver.ErrSkip
	}
	return s.real.checker.CheckNamedValue(nv)
}

func (s *sharedStmt) ColumnConverter(idx int) driver.ValueConverter {
	if s.real.converter == nil {
		return driver.DefaultParameterConverter
	}
	return s.real.converter.ColumnConverter(idx)
}
