package databases

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/stdlib"
)

// WithForceRollback is the test mode, like the URL option
// force_rollback=true: every connection of the DB shares one real
// connection inside an outer transaction that is rolled back when the DB
// closes, so a test leaves no trace. BeginTx and Transact become savepoints.
func WithForceRollback() Option {
	return func(o *options) { o.forceRollback = true }
}

// forceRollbackWait bounds how long a call waits for the shared connection
// while another connection holds it with a transaction.
const forceRollbackWait = 5 * time.Second

// shared is the one real connection behind a force_rollback connector.
type shared struct {
	c   *connector
	sem chan struct{} // held by one virtual connection at a time

	once    sync.Once
	openErr error
	raw     driver.Conn
	outer   func() error // rolls back the outer transaction
	mysqlID int64        // CONNECTION_ID(), to cancel a statement with KILL QUERY

	mu    sync.Mutex
	owner *sharedConn // holds sem across calls (a transaction, open rows)
	holds int
	rows  *sharedRows // open rows that are the owner's only hold
	busy  bool        // a statement is running, so a cancel may be sent
	seq   atomic.Uint64
}

func newShared(c *connector) *shared {
	return &shared{c: c, sem: make(chan struct{}, 1)}
}

// open connects and begins the outer transaction, once, with a context
// that no caller can cancel.
func (s *shared) open() error {
	s.once.Do(func() {
		ctx := context.Background()
		raw, err := s.c.raw.Connect(ctx)
		if err != nil {
			s.openErr = err
			return
		}
		w := newConn(raw, s.c, 0)
		switch s.c.cfg.dialect {
		case dialectSQLite:
			_, err = w.execNative(ctx, "BEGIN", nil)
			s.outer = func() error { _, err := w.execNative(ctx, "ROLLBACK", nil); return err }
		default:
			var tx driver.Tx
			if w.beginner != nil {
				tx, err = w.beginner.BeginTx(ctx, driver.TxOptions{})
			} else {
				//lint:ignore SA1019 the real driver lacks BeginTx
				tx, err = raw.Begin()
			}
			if tx != nil {
				s.outer = tx.Rollback
			}
		}
		if err == nil && s.c.cfg.dialect == dialectMySQL {
			err = s.queryInt(ctx, w, "SELECT CONNECTION_ID()", &s.mysqlID)
		}
		if err != nil {
			raw.Close()
			s.openErr = fmt.Errorf("databases: force_rollback: cannot begin the outer transaction: %w", err)
			return
		}
		s.raw = raw
	})
	return s.openErr
}

func (s *shared) queryInt(ctx context.Context, w conn, query string, dest *int64) error {
	r, err := w.queryNative(ctx, query, nil)
	if err != nil {
		return err
	}
	defer r.Close()
	row := make([]driver.Value, 1)
	if err := r.Next(row); err != nil {
		return err
	}
	var n sql.NullInt64
	if err := n.Scan(row[0]); err != nil {
		return err
	}
	*dest = n.Int64
	return nil
}

// close rolls the outer transaction back and closes the connection, which
// makes the server roll back even when the rollback itself failed.
func (s *shared) close() error {
	if s.raw == nil {
		return nil
	}
	err := s.outer()
	return errors.Join(err, s.raw.Close())
}

// acquire gives v the shared connection. A connection that already holds
// it gets it again. Open rows of another connection are read into memory
// and released; a transaction of another is waited for, up to
// forceRollbackWait.
func (s *shared) acquire(ctx context.Context, v *sharedConn) error {
	s.mu.Lock()
	if s.owner == v && s.holds > 0 {
		s.holds++
		s.mu.Unlock()
		return nil
	}
	rows := s.rows
	s.mu.Unlock()
	if rows != nil && rows.conn != v {
		rows.detach()
	}
	timer := time.NewTimer(forceRollbackWait)
	defer timer.Stop()
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return fmt.Errorf("databases: force_rollback: another connection has held the shared connection in a transaction for %v; every connection of a force_rollback DB runs on one, so end that transaction before using another connection", forceRollbackWait)
	}
	s.mu.Lock()
	s.owner, s.holds = v, 1
	s.mu.Unlock()
	return nil
}

func (s *shared) release() {
	s.mu.Lock()
	s.holds--
	if s.holds > 0 {
		s.mu.Unlock()
		return
	}
	s.owner, s.rows = nil, nil
	s.mu.Unlock()
	<-s.sem
}

// Every statement runs so that neither its failure nor the caller's
// cancellation ends the outer transaction: on PostgreSQL inside a savepoint
// (a failed statement aborts the whole transaction there), and always with
// a context the driver cannot act on, the cancellation being sent to the
// server as a statement cancel instead.

// savepoint opens the statement's savepoint, on PostgreSQL only.
func (s *shared) savepoint(w *conn) (string, error) {
	if s.c.cfg.dialect != dialectPostgres {
		return "", nil
	}
	sp := fmt.Sprintf("databases_stmt%d", s.seq.Add(1))
	_, err := w.execNative(context.Background(), "SAVEPOINT "+sp, nil)
	return sp, err
}

// endSavepoint releases the statement's savepoint, rolling back to it first
// when the statement failed.
func (s *shared) endSavepoint(w *conn, sp string, failed bool) error {
	if sp == "" {
		return nil
	}
	var err error
	if failed {
		_, err = w.execNative(context.Background(), "ROLLBACK TO SAVEPOINT "+sp, nil)
	}
	if _, relErr := w.execNative(context.Background(), "RELEASE SAVEPOINT "+sp, nil); err == nil {
		err = relErr
	}
	return err
}

// run runs one statement, turning the caller's cancellation into a cancel
// of the statement on the server.
func (s *shared) run(ctx context.Context, f func(context.Context) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	s.busy = true
	s.mu.Unlock()
	stop := context.AfterFunc(ctx, s.cancelStatement)
	err := f(context.WithoutCancel(ctx))
	stop()
	s.mu.Lock()
	s.busy = false
	s.mu.Unlock()
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("%w: %w", ctx.Err(), err)
	}
	return err
}

// guard runs a statement that leaves nothing open inside its savepoint.
func (s *shared) guard(ctx context.Context, w *conn, f func(context.Context) error) error {
	sp, err := s.savepoint(w)
	if err != nil {
		return err
	}
	err = s.run(ctx, f)
	if spErr := s.endSavepoint(w, sp, err != nil); err == nil {
		err = spErr
	}
	return err
}

// cancelStatement asks the server to stop the running statement, without
// touching the connection: a PostgreSQL cancel request or a MySQL KILL
// QUERY from a second connection. SQLite statements are not interrupted,
// since an interrupted write rolls back the whole transaction.
func (s *shared) cancelStatement() {
	s.mu.Lock()
	busy := s.busy
	s.mu.Unlock()
	if !busy {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	switch s.c.cfg.dialect {
	case dialectPostgres:
		if pc, ok := s.raw.(*stdlib.Conn); ok {
			pc.Conn().PgConn().CancelRequest(ctx)
		}
	case dialectMySQL:
		killer, err := s.c.raw.Connect(ctx)
		if err != nil {
			return
		}
		defer killer.Close()
		if e, ok := killer.(driver.ExecerContext); ok {
			e.ExecContext(ctx, fmt.Sprintf("KILL QUERY %d", s.mysqlID), nil)
		}
	}
}

// refuseTxControl rejects statements that would end or replace the outer
// transaction.
func (s *shared) refuseTxControl(query string) (txStatement, error) {
	ts := s.c.cfg.dialect.classify(s.c.cfg.mysqlMode, query)
	if ts.effect&(effBegin|effEnd|effAutocommit) != 0 {
		return ts, ts.refuse("force_rollback: ", "would end the outer transaction; use BeginTx or Transact, which become savepoints")
	}
	return ts, nil
}

// sharedConn is one pooled connection of a force_rollback DB: a view of the
// shared real connection. It is what newConn wraps in that mode.
type sharedConn struct {
	s *shared
	w conn // the real connection, as this package calls it
}

var (
	_ driver.Conn               = (*sharedConn)(nil)
	_ driver.ExecerContext      = (*sharedConn)(nil)
	_ driver.QueryerContext     = (*sharedConn)(nil)
	_ driver.ConnPrepareContext = (*sharedConn)(nil)
	_ driver.ConnBeginTx        = (*sharedConn)(nil)
	_ driver.Pinger             = (*sharedConn)(nil)
	_ driver.SessionResetter    = (*sharedConn)(nil)
	_ driver.NamedValueChecker  = (*sharedConn)(nil)
)

func (s *shared) connect() (driver.Conn, error) {
	if err := s.open(); err != nil {
		return nil, err
	}
	return &sharedConn{s: s, w: newConn(s.raw, s.c, 0)}, nil
}

func (v *sharedConn) Prepare(query string) (driver.Stmt, error) {
	return v.PrepareContext(context.Background(), query)
}

func (v *sharedConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	if err := v.s.acquire(ctx, v); err != nil {
		return nil, err
	}
	defer v.s.release()
	st, err := v.w.prepareNative(ctx, query)
	if err != nil {
		return nil, err
	}
	return &sharedStmt{v: v, raw: st, query: query}, nil
}

// Close gives back what the connection still holds; the real connection
// stays open until the DB closes.
func (v *sharedConn) Close() error {
	v.s.mu.Lock()
	held := v.s.owner == v
	v.s.mu.Unlock()
	if held {
		v.s.release()
	}
	return nil
}

func (v *sharedConn) Begin() (driver.Tx, error) {
	return v.BeginTx(context.Background(), driver.TxOptions{})
}

// BeginTx opens a savepoint and keeps the shared connection until it ends.
func (v *sharedConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if opts.Isolation != driver.IsolationLevel(sql.LevelDefault) || opts.ReadOnly {
		return nil, fmt.Errorf("databases: force_rollback: transactions are savepoints of the outer transaction and cannot have their own options (isolation level %s, read-only %v)",
			sql.IsolationLevel(opts.Isolation), opts.ReadOnly)
	}
	if err := v.s.acquire(ctx, v); err != nil {
		return nil, err
	}
	name := fmt.Sprintf("databases_tx%d", v.s.seq.Add(1))
	if _, err := v.w.execNative(context.WithoutCancel(ctx), "SAVEPOINT "+name, nil); err != nil {
		v.s.release()
		return nil, err
	}
	return &sharedTx{v: v, name: name}, nil
}

func (v *sharedConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	ts, err := v.s.refuseTxControl(query)
	if err != nil {
		return nil, err
	}
	if err := v.s.acquire(ctx, v); err != nil {
		return nil, err
	}
	defer v.s.release()
	var res driver.Result
	err = v.s.guard(ctx, &v.w, func(ctx context.Context) error {
		var err error
		res, err = v.w.execNative(ctx, query, args)
		if err == driver.ErrSkip {
			res, err = v.w.execPrepared(ctx, query, args)
		}
		return err
	})
	if err == nil && ts.effect&effImplicitCommit != 0 {
		_, err = v.w.execNative(context.Background(), "START TRANSACTION", nil)
	}
	return res, err
}

func (v *sharedConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if _, err := v.s.refuseTxControl(query); err != nil {
		return nil, err
	}
	return v.query(ctx, func(ctx context.Context) (driver.Rows, driver.Stmt, error) {
		r, err := v.w.queryNative(ctx, query, args)
		if err == driver.ErrSkip {
			return v.w.queryPrepared(ctx, query, args)
		}
		return r, nil, err
	})
}

// query runs a query and keeps the shared connection until its rows close
// or are read into memory because another connection needs it.
func (v *sharedConn) query(ctx context.Context, run func(context.Context) (driver.Rows, driver.Stmt, error)) (driver.Rows, error) {
	if err := v.s.acquire(ctx, v); err != nil {
		return nil, err
	}
	sp, err := v.s.savepoint(&v.w)
	if err != nil {
		v.s.release()
		return nil, err
	}
	var raw driver.Rows
	var st driver.Stmt
	err = v.s.run(ctx, func(ctx context.Context) error {
		var err error
		raw, st, err = run(ctx)
		return err
	})
	if err != nil {
		v.s.endSavepoint(&v.w, sp, true)
		v.s.release()
		return nil, err
	}
	r := &sharedRows{conn: v, raw: raw, stmt: st, savepoint: sp}
	v.s.mu.Lock()
	if v.s.holds == 1 {
		v.s.rows = r
	}
	v.s.mu.Unlock()
	return r, nil
}

func (v *sharedConn) Ping(ctx context.Context) error {
	if err := v.s.acquire(ctx, v); err != nil {
		return err
	}
	defer v.s.release()
	if v.w.pinger == nil {
		return nil
	}
	return v.w.pinger.Ping(ctx)
}

// ResetSession does not ask the real driver: its connection is always in
// the outer transaction, which pgx would take for a leaked one.
func (v *sharedConn) ResetSession(context.Context) error { return nil }

func (v *sharedConn) CheckNamedValue(nv *driver.NamedValue) error {
	if v.w.checker == nil {
		return driver.ErrSkip
	}
	return v.w.checker.CheckNamedValue(nv)
}

// sharedTx is a transaction of a force_rollback DB: a savepoint.
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

func (t *sharedTx) end(stmts ...string) error {
	if t.done {
		return sql.ErrTxDone
	}
	t.done = true
	defer t.v.s.release()
	for _, q := range stmts {
		if _, err := t.v.w.execNative(context.Background(), q, nil); err != nil {
			return err
		}
	}
	return nil
}

// sharedStmt is a prepared statement on the shared connection.
type sharedStmt struct {
	v     *sharedConn
	raw   driver.Stmt
	query string
}

func (s *sharedStmt) Close() error  { return s.raw.Close() }
func (s *sharedStmt) NumInput() int { return s.raw.NumInput() }

func (s *sharedStmt) Exec(values []driver.Value) (driver.Result, error) {
	return s.ExecContext(context.Background(), valuesToNamedValues(values))
}

func (s *sharedStmt) Query(values []driver.Value) (driver.Rows, error) {
	return s.QueryContext(context.Background(), valuesToNamedValues(values))
}

func (s *sharedStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	if err := s.v.s.acquire(ctx, s.v); err != nil {
		return nil, err
	}
	defer s.v.s.release()
	st := newStmt(s.raw, &s.v.w, s.query, s.query, nil)
	var res driver.Result
	err := s.v.s.guard(ctx, &s.v.w, func(ctx context.Context) error {
		var err error
		res, err = st.execNative(ctx, args)
		return err
	})
	return res, err
}

func (s *sharedStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	st := newStmt(s.raw, &s.v.w, s.query, s.query, nil)
	return s.v.query(ctx, func(ctx context.Context) (driver.Rows, driver.Stmt, error) {
		r, err := st.queryNative(ctx, args)
		return r, nil, err
	})
}

// sharedRows are rows read from the shared connection. When another
// connection needs it while they are open, detach reads the rest into
// memory, so that a query inside a loop over rows works instead of
// deadlocking.
type sharedRows struct {
	conn      *sharedConn
	raw       driver.Rows
	stmt      driver.Stmt
	savepoint string // the query's savepoint, released with the rows

	mu       sync.Mutex
	cols     []string
	types    []columnType // captured at detach
	buffered [][]driver.Value
	detached bool
	closed   bool
	failed   bool  // reading the rows failed
	err      error // what ended reading when detached
}

// columnType is what a detached result set still answers about a column.
type columnType struct {
	scanType         reflect.Type
	dbType           string
	length           int64
	lengthOK         bool
	nullable, nullOK bool
	precision, scale int64
	precisionScaleOK bool
}

var (
	_ driver.Rows                           = (*sharedRows)(nil)
	_ driver.RowsColumnTypeScanType         = (*sharedRows)(nil)
	_ driver.RowsColumnTypeDatabaseTypeName = (*sharedRows)(nil)
	_ driver.RowsColumnTypeLength           = (*sharedRows)(nil)
	_ driver.RowsColumnTypeNullable         = (*sharedRows)(nil)
	_ driver.RowsColumnTypePrecisionScale   = (*sharedRows)(nil)
)

func (r *sharedRows) Columns() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cols == nil {
		r.cols = r.raw.Columns()
	}
	return r.cols
}

func (r *sharedRows) Next(dest []driver.Value) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.detached {
		err := r.raw.Next(dest)
		if err != nil && err != io.EOF {
			r.failed = true
		}
		return err
	}
	if len(r.buffered) == 0 {
		if r.err != nil {
			return r.err
		}
		return io.EOF
	}
	copy(dest, r.buffered[0])
	r.buffered = r.buffered[1:]
	return nil
}

// detach reads the remaining rows into memory and gives the shared
// connection back.
func (r *sharedRows) detach() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.detached || r.closed {
		return
	}
	if r.cols == nil {
		r.cols = r.raw.Columns()
	}
	r.types = make([]columnType, len(r.cols))
	for i := range r.types {
		r.types[i] = r.columnType(i)
	}
	for {
		row := make([]driver.Value, len(r.cols))
		err := r.raw.Next(row)
		if err == io.EOF {
			break
		}
		if err != nil {
			r.err, r.failed = err, true
			break
		}
		for i, v := range row {
			if b, ok := v.([]byte); ok { // drivers may reuse their buffers
				row[i] = append([]byte(nil), b...)
			}
		}
		r.buffered = append(r.buffered, row)
	}
	r.detached = true
	r.closeRaw()
}

func (r *sharedRows) closeRaw() error {
	err := r.raw.Close()
	if r.stmt != nil {
		err = errors.Join(err, r.stmt.Close())
	}
	err = errors.Join(err, r.conn.s.endSavepoint(&r.conn.w, r.savepoint, err != nil || r.failed))
	r.conn.s.release()
	return err
}

func (r *sharedRows) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	if r.detached {
		return nil
	}
	return r.closeRaw()
}

// columnType asks the real rows about column i; called with r.mu held.
func (r *sharedRows) columnType(i int) columnType {
	var ct columnType
	if t, ok := r.raw.(driver.RowsColumnTypeScanType); ok {
		ct.scanType = t.ColumnTypeScanType(i)
	} else {
		ct.scanType = reflect.TypeFor[any]()
	}
	if t, ok := r.raw.(driver.RowsColumnTypeDatabaseTypeName); ok {
		ct.dbType = t.ColumnTypeDatabaseTypeName(i)
	}
	if t, ok := r.raw.(driver.RowsColumnTypeLength); ok {
		ct.length, ct.lengthOK = t.ColumnTypeLength(i)
	}
	if t, ok := r.raw.(driver.RowsColumnTypeNullable); ok {
		ct.nullable, ct.nullOK = t.ColumnTypeNullable(i)
	}
	if t, ok := r.raw.(driver.RowsColumnTypePrecisionScale); ok {
		ct.precision, ct.scale, ct.precisionScaleOK = t.ColumnTypePrecisionScale(i)
	}
	return ct
}

func (r *sharedRows) typeOf(i int) columnType {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.detached {
		return r.types[i]
	}
	return r.columnType(i)
}

func (r *sharedRows) ColumnTypeScanType(i int) reflect.Type   { return r.typeOf(i).scanType }
func (r *sharedRows) ColumnTypeDatabaseTypeName(i int) string { return r.typeOf(i).dbType }
func (r *sharedRows) ColumnTypeLength(i int) (int64, bool) {
	t := r.typeOf(i)
	return t.length, t.lengthOK
}
func (r *sharedRows) ColumnTypeNullable(i int) (bool, bool) {
	t := r.typeOf(i)
	return t.nullable, t.nullOK
}
func (r *sharedRows) ColumnTypePrecisionScale(i int) (int64, int64, bool) {
	t := r.typeOf(i)
	return t.precision, t.scale, t.precisionScaleOK
}
