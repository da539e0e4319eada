package databases

import (
	"context"
	"database/sql/driver"
	"errors"
	"reflect"

	"github.com/go-databases/databases/internal/dsn"
	"github.com/go-databases/databases/middleware"
	"github.com/go-databases/databases/rewrite"
)

// conn is a connection as database/sql sees it. Each call takes the one
// path of call.go to the real connection it embeds (native.go). The value
// database/sql sees is built by wrapConn, which adds exactly the optional
// interfaces the real connection has (see wrap_gen.go); the mixin types
// below carry them. Its fields are the list of what a connection has; each
// feature's state is a struct of its own, in the feature's file.
type conn struct {
	realConn              // the real driver's connection, and its statement cache (stmtcache.go)
	connector *connector  // what opened it: the configuration, the middleware, the DB's shared state
	id        uint64      // numbers the connector's connections from 1
	server    *dsn.Server // the host it reached (hosts.go)
	bad       bool        // the connection must not be reused
	rawTx     bool        // a statement outside BeginTx may have opened a transaction (leak.go)

	tx     txGuard      // the transaction begun through BeginTx, and its rules (txguard.go)
	txHold *hold        // the open transaction's hold (holds.go); nil without
	memo   stmtMemo     // what the texts it ran do (txeffect.go)
	ddl    ddlState     // the schema changes its statements have seen (ddl.go)
	rep    *replicaConn // with read replicas: the routing state (replica.go); nil without

	// The placeholder rewrite (rewrite) and IN lists (inlist.go).
	lastPlan *rewrite.Plan // the plan of the last query rewritten, found again without hashing
	listArgs bool          // the checker let a slice through: it may be an IN list

	spare *callState // a call state to reuse (call.go)

	// Rows (rows.go).
	rowsType  reflect.Type // the real rows type last seen, and
	rowsMixin uint         // the optional interfaces it has (rowsInterfaces)
	direct    directRows   // Go 1.27: the rows a query without middleware wraps (directRows)
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

func newConn(raw driver.Conn, c *connector, id uint64) conn {
	w := conn{realConn: newRealConn(raw), connector: c, id: id}
	if c.replicas != nil {
		w.rep = &replicaConn{}
	}
	if c.stmts > 0 {
		_, minArgs := c.backend.stmtCache()
		w.stmts = newStmtCache(c.stmts, minArgs, c.backend)
	}
	return w
}

// self returns the connection behind the value wrapConn built.
func (c *conn) self() *conn { return c }

// Unwrap returns the real driver's connection, for use inside
// sql.Conn.Raw (pgx CopyFrom, SQLite backup, ...). See DriverConn.
func (c *conn) Unwrap() driver.Conn { return c.raw }

// run runs a call without results through the middleware, or f directly
// when there is none.
func (c *conn) run(ctx context.Context, op middleware.Op, f func(context.Context) error) error {
	in := c.connector.interest(ctx, op)
	if in == middleware.None {
		return f(ctx)
	}
	s := newCallState(c, op, in, "", "", nil, nil)
	err := s.observe(ctx, func(ctx context.Context, _ *middleware.Call) error { return f(ctx) })
	s.release()
	return err
}

func (c *conn) Prepare(query string) (driver.Stmt, error) {
	return c.prepare(context.Background(), query)
}

// Close closes the statements the connection kept, then the connection.
func (c *conn) Close() error {
	c.stmts.retire()
	if c.rep != nil {
		c.closeReplica()
	}
	return c.run(context.Background(), middleware.OpConnClose, func(context.Context) error {
		if c.stmts == nil {
			return c.raw.Close()
		}
		return errors.Join(c.stmts.closeAll(), c.raw.Close())
	})
}

// Begin is the legacy call, which reaches the real driver's legacy Begin:
// code that calls it through sql.Conn.Raw gets what the real driver does.
func (c *conn) Begin() (driver.Tx, error) {
	return c.begin(context.Background(), driver.TxOptions{}, c.beginLegacy)
}

func (c *connPinger) Ping(ctx context.Context) error {
	err := (*conn)(c).run(ctx, middleware.OpPing, c.pinger.Ping)
	if err != nil {
		err = explainLock(c.connector.cfg, "ping", err)
	}
	return err
}

func (c *connExecer) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if c.txHold != nil {
		c.txHold.ran(query)
	}
	return (*conn)(c).exec(ctx, query, args)
}

func (c *connQueryer) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	r, err := (*conn)(c).query(ctx, query, args)
	return (*conn)(c).held(ctx, query, r, err)
}

func (c *connPreparer) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return (*conn)(c).prepare(ctx, query)
}

func (c *connBeginner) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	t, err := (*conn)(c).begin(ctx, opts, c.beginNative)
	return (*conn)(c).heldTx(ctx, t, err)
}

// ResetSession discards a connection that a raw BEGIN left in a
// transaction, before the real driver's own checks.
// It runs before every reuse, so it goes through the connection's spare
// call state rather than a closure.
func (c *connResetter) ResetSession(ctx context.Context) error {
	w := (*conn)(c)
	w.stmts.claim()
	if w.rep != nil {
		w.resetReplica(ctx)
	}
	in := w.connector.interest(ctx, middleware.OpResetSession)
	if in == middleware.None {
		return w.resetSession(ctx)
	}
	return newCallState(w, middleware.OpResetSession, in, "", "", nil, nil).do(ctx)
}

func (c *conn) resetSession(ctx context.Context) error {
	if err := c.reusable(ctx); err != nil {
		return err
	}
	return c.resetter.ResetSession(ctx)
}

// IsValid runs as the connection goes back to the pool: a connection with a
// leaked transaction is closed at once, releasing its locks.
func (c *connValidator) IsValid() bool {
	w := (*conn)(c)
	if w.rep != nil {
		w.rep.settle(w)
	}
	if w.mustCheck() {
		if err := w.run(context.Background(), middleware.OpResetSession, w.reusable); err != nil {
			return false
		}
	}
	if !c.validator.IsValid() {
		return false
	}
	w.stmts.rest()
	return true
}

func (c *connChecker) CheckNamedValue(nv *driver.NamedValue) error {
	return (*conn)(c).checkNamedValue(nv)
}

// classify reads what a statement does (txeffect.go), in the connection's
// dialect, once per text (stmtMemo). The answer is the connection's memo
// of it, good until the next classify.
func (c *conn) classify(query string) *txStatement {
	return c.memo.read(c.connector, query)
}

// ran applies what a statement that ran, or failed, did beyond its result:
// a session change drops the statements the connection kept, a schema
// change makes every connection of the DB drop theirs (ddl.go), and inside
// a transaction the rules of txguard.go and lost.go follow. It returns
// the call's error, which a lost connection after a commit point turns
// into ErrCommitUnknown.
func (c *conn) ran(ctx context.Context, ts txStatement, err error) error {
	c.failed(err)
	if ts.does&effSession != 0 && c.stmts != nil {
		c.stmts.closeAll()
	}
	if ts.does&effDDL != 0 || c.ddl.pending {
		c.schemaChanged(ctx, ts)
	}
	if c.tx.id != 0 {
		c.connector.mode.controlled(c, ts, err)
		err = c.lostAfterCommit(err)
	}
	return err
}

// needsRan reports whether a call that ran, or failed with err, has
// anything for ran to do: a failure, a session or schema change, a schema
// change pending, or in a transaction a statement that may commit it
// (controlled). A statement of a transaction that succeeded and commits
// nothing has not: ran's checks of it would all be false.
func (c *conn) needsRan(ts *txStatement, err error) bool {
	return err != nil || ts.does&(effSession|effDDL) != 0 || c.ddl.pending ||
		c.tx.id != 0 && ts.commitPoint(c.connector.backend)
}

// txContext gives a statement of a transaction that was sent without a
// context (tx.Exec) the context of BeginTx, so that its middleware calls
// nest under the transaction's.
func (c *conn) txContext(ctx context.Context) context.Context {
	if c.tx.ctx != nil && ctx == context.Background() {
		return c.tx.ctx
	}
	return ctx
}

// rewrite turns a portable query into the dialect's native one and maps its
// arguments, or fails it as every dialect does (on SQLite the native query
// is the query as written, but its arguments are checked all the same). A
// query without arguments is sent as written, and so is every query when
// rewriting is off (placeholders=native).
func (c *conn) rewrite(query string, args []driver.NamedValue) (string, []driver.NamedValue, error) {
	if c.listArgs {
		return c.rewriteLists(query, args)
	}
	if c.connector.cache == nil || len(args) == 0 {
		return query, args, nil
	}
	plan := c.lastPlan
	if plan == nil || plan.Source() != query {
		var err error
		if plan, err = c.connector.cache.Plan(query); err != nil {
			return "", nil, err
		}
		c.lastPlan = plan
	}
	args, err := plan.Bind(args)
	if err != nil {
		return "", nil, err
	}
	return plan.Query(), args, nil
}

func (c *conn) exec(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	res, _, err := c.perform(ctx, middleware.OpExec, nil, query, args)
	return res, err
}

func (c *conn) query(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	_, r, err := c.perform(ctx, middleware.OpQuery, nil, query, args)
	return r, err
}

// prepare prepares a statement on the replica a ReadReplica context routes
// it to, or here (prepareHere).
func (c *conn) prepare(ctx context.Context, query string) (driver.Stmt, error) {
	if s, ok, err := c.prepareCopy(ctx, query); ok { // COPY … FROM STDIN (copy_stmt.go)
		return s, err
	}
	if c.rep != nil {
		if rconn, err := c.route(ctx, query); rconn != nil || err != nil {
			if err != nil {
				return nil, err
			}
			return c.prepareReplica(ctx, rconn, query)
		}
	}
	st, err := c.prepareHere(ctx, query)
	if err != nil {
		err = explainLock(c.connector.cfg, "prepare", err)
		return nil, err
	}
	return wrapStmt(st), nil
}

// prepareHere prepares a statement on this connection's own server, through
// the stages of every call (call.go): the guard, the rewrite of its
// placeholders, the middleware or not, the real driver.
func (c *conn) prepareHere(ctx context.Context, query string) (stmt, error) {
	ts, err := c.admit(ctx, middleware.OpPrepare, nil, query)
	var plan *rewrite.Plan
	native := query
	if err == nil && c.connector.cache != nil {
		if plan, err = c.connector.cache.Plan(query); err == nil {
			native = plan.Query()
		}
	}
	s, native, err := c.prepareCall(ctx, query, native, middleware.StmtUncached, err)
	if err != nil {
		return stmt{}, err
	}
	st := newStmt(s, c, query, native, plan)
	st.tx = *ts
	return st, nil
}

// begin checks the options against what the backend can give and begins
// through the real driver, or, on SQLite, itself.
func (c *conn) begin(ctx context.Context, opts driver.TxOptions, begin func(context.Context, driver.TxOptions) (driver.Tx, error)) (driver.Tx, error) {
	noteBegin(ctx, c)
	if err := c.connector.backend.checkTxOptions(opts); err != nil {
		return nil, err
	}
	if c.rep != nil && opts.ReadOnly {
		if t, err, routed := c.beginReplica(ctx, opts); routed {
			return t, err
		}
	}
	begin = c.connector.mode.begins(c, begin)
	id := c.connector.nextTxID()
	var t driver.Tx
	var err error
	if in := c.connector.interest(ctx, middleware.OpBegin); in == middleware.None {
		t, err = begin(ctx, opts)
	} else {
		s := newCallState(c, middleware.OpBegin, in, "", "", nil, nil)
		s.call.TxID, s.call.TxOptions = id, opts
		err = s.observe(ctx, func(ctx context.Context, call *middleware.Call) error {
			var err error
			t, err = begin(ctx, call.TxOptions)
			return err
		})
		s.release()
	}
	if err != nil {
		return nil, err
	}
	c.tx.id, c.tx.opts = id, opts
	if c.connector.chain != nil {
		c.tx.ctx = context.WithoutCancel(ctx)
	}
	return &tx{raw: t, conn: c, id: id, ctx: ctx}, nil
}
