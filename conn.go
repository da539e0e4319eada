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

// conn is a connection as database/sql sees it. Each call goes through the
// transaction rules (txguard.go, leak.go), the placeholder rewrite and the
// middleware (call.go) to the real connection it embeds (native.go). The
// value database/sql sees is built by wrapConn, which adds exactly the
// optional interfaces the real connection has (see wrap_gen.go); the mixin
// types below carry them.
type conn struct {
	realConn
	connector *connector
	id        uint64 // numbers the connector's connections from 1
	rawTx     bool   // a statement outside BeginTx may have opened a transaction
	bad       bool   // the connection must not be reused

	// The open transaction begun through BeginTx (txguard.go).
	txID      uint64           // 0 when there is none
	txOpts    driver.TxOptions // what it was begun with, to begin again after a MySQL implicit commit
	txCtx     context.Context  // BeginTx's context without its cancel, for statements sent without one
	txCheck   txCheck          // what to ask the server before its next statement
	txCause   txStatement      // the statement that may have committed it implicitly
	txErr     error            // the error after which the server may have rolled it back
	txAborted error            // set once the server has ended it: every later statement fails

	spare    *callState    // a call state to reuse; see newCallState
	lastPlan *rewrite.Plan // the plan of the last query rewritten, found again without hashing
	listArgs bool          // the checker let a slice through: it may be an IN list (inlist.go)
	// The last query classified and what it does (txeffect.go), and the
	// answers for the other texts the connection ran.
	lastQuery string
	lastTx    txStatement
	facts     map[string]txStatement

	ddlSeen    uint64      // the DB's schema changes this connection's cached statements have seen (ddl.go)
	ddlPending bool        // a schema change ran in a transaction still open: others learn of it at its end
	txCommit   txStatement // a statement that committed part of the open transaction (MySQL; lost.go)
	openStmts  int         // statements prepared by the user and not closed (ddl.go)

	rowsType  reflect.Type // the real rows type last seen, and
	rowsMixin uint         // the optional interfaces it has (rowsInterfaces)
	direct    directRows   // Go 1.27: the rows a query without middleware wraps (directRows)

	server *dsn.Server  // the host it reached (hosts.go)
	txHold *hold        // the open transaction's hold (holds.go); nil without
	rep    *replicaConn // with read replicas: the routing state (replica.go); nil without
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
	if v, ok := raw.(*sharedConn); ok {
		v.mirror(&w)
	} else if c.stmts > 0 {
		_, minArgs := c.backend.stmtCache()
		w.stmts = newStmtCache(c.stmts, minArgs)
	}
	return w
}

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
	return c.validator.IsValid()
}

func (c *connChecker) CheckNamedValue(nv *driver.NamedValue) error {
	return (*conn)(c).checkNamedValue(nv)
}

// start begins every exec and query: it applies the transaction rules to
// the statement (txguard.go, leak.go) and rewrites the placeholders.
func (c *conn) start(ctx context.Context, query string, args []driver.NamedValue) (string, []driver.NamedValue, txStatement, error) {
	var ts txStatement
	if err := c.guardTransact(ctx); err != nil {
		return "", nil, ts, err
	}
	ts = c.classify(query)
	if c.connector.shared == nil && (ts.effect != 0 || c.txID != 0) {
		if err := c.control(ctx, ts); err != nil {
			return "", nil, ts, err
		}
	}
	if c.ddlSeen != c.connector.schema().Load() {
		c.invalidate(ctx)
	}
	native, args, err := c.rewrite(query, args)
	return native, args, ts, err
}

// factsKept bounds the texts whose reading a connection keeps; past it the
// set starts again.
const factsKept = 256

// classify reads what a statement does (txeffect.go), in the connection's
// dialect, once per text: the answer for the last query is found again
// with a string compare, and those of the others the connection ran in a
// map.
func (c *conn) classify(query string) txStatement {
	if query == c.lastQuery && query != "" {
		return c.lastTx
	}
	ts, ok := c.facts[query]
	if !ok {
		cfg := c.connector.cfg
		ts = classify(c.connector.backend, cfg.MySQLMode, query)
		if c.facts == nil || len(c.facts) >= factsKept {
			c.facts = make(map[string]txStatement)
		}
		if len(query) <= stmtCacheMaxQuery {
			c.facts[query] = ts
		}
	}
	c.lastQuery, c.lastTx = query, ts
	return ts
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
	if ts.does&effDDL != 0 || c.ddlPending {
		c.schemaChanged(ctx, ts)
	}
	if c.txID != 0 {
		c.controlled(ts, err)
		err = c.lostAfterCommit(err)
	}
	return err
}

// txContext gives a statement of a transaction that was sent without a
// context (tx.Exec) the context of BeginTx, so that its middleware calls
// nest under the transaction's.
func (c *conn) txContext(ctx context.Context) context.Context {
	if c.txCtx != nil && ctx == context.Background() {
		return c.txCtx
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
	if c.rep != nil {
		return c.execRouted(ctx, query, args)
	}
	return c.execHere(ctx, query, args)
}

// execHere runs a statement on this connection's own server.
func (c *conn) execHere(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	native, args, ts, err := c.start(ctx, query, args)
	res, err := c.execDirect(ctx, query, native, args, ts, err)
	err = explainLock(c.connector.cfg, "statement", err)
	if ts.does&(effSession|effDDL) != 0 || c.txID != 0 || err != nil || c.ddlPending {
		err = c.ran(ctx, ts, err)
	}
	return res, err
}

// execDirect runs an exec call through the middleware, or straight to the
// real driver when none wants it.
func (c *conn) execDirect(ctx context.Context, query, native string, args []driver.NamedValue, ts txStatement, err error) (driver.Result, error) {
	ctx = c.txContext(ctx)
	in := c.connector.interest(ctx, middleware.OpExec)
	if in == middleware.None {
		if err != nil {
			return nil, err
		}
		if c.stmts.wants(native, len(args)) && ts.cacheable() {
			res, _, err := c.execCached(ctx, native, args, nil)
			return res, err
		}
		res, err := c.execNative(ctx, native, args)
		if err != nil && c.retryStale(err, ts) {
			res, err = c.execNative(ctx, native, args)
		}
		return res, err
	}
	s := newCallState(c, middleware.OpExec, in, query, native, args, err)
	s.facts = ts
	return s.exec(ctx)
}

func (c *conn) query(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if c.rep != nil {
		return c.queryRouted(ctx, query, args)
	}
	return c.queryHere(ctx, query, args)
}

// queryHere is execHere for queries.
func (c *conn) queryHere(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	native, args, ts, err := c.start(ctx, query, args)
	r, err := c.queryDirect(ctx, query, native, args, ts, err)
	err = explainLock(c.connector.cfg, "query", err)
	if ts.does&(effSession|effDDL) != 0 || c.txID != 0 || err != nil || c.ddlPending {
		err = c.ran(ctx, ts, err)
	}
	return r, err
}

// queryDirect is execDirect for queries.
func (c *conn) queryDirect(ctx context.Context, query, native string, args []driver.NamedValue, ts txStatement, err error) (driver.Rows, error) {
	ctx = c.txContext(ctx)
	in := c.connector.interest(ctx, middleware.OpQuery)
	if in == middleware.None {
		if err != nil {
			return nil, err
		}
		if c.stmts.wants(native, len(args)) && ts.cacheable() {
			return c.queryThroughCache(ctx, native, args)
		}
		r, err := c.queryNative(ctx, native, args)
		if err != nil && c.retryStale(err, ts) {
			r, err = c.queryNative(ctx, native, args)
		}
		if err != nil {
			return nil, err
		}
		return c.wrapDirect(r), nil
	}
	s := newCallState(c, middleware.OpQuery, in, query, native, args, err)
	s.facts = ts
	return s.query(ctx)
}

func (c *conn) prepare(ctx context.Context, query string) (driver.Stmt, error) {
	if s, ok, err := c.prepareCopy(ctx, query); ok { // COPY … FROM STDIN (copy_stmt.go)
		return s, err
	}
	if c.rep != nil {
		if rc, err := c.route(ctx, query); rc != nil || err != nil {
			if err != nil {
				return nil, err
			}
			return c.prepareReplica(ctx, rc, query)
		}
	}
	st, err := c.prepareHere(ctx, query)
	if err != nil {
		err = explainLock(c.connector.cfg, "prepare", err)
		return nil, err
	}
	return wrapStmt(st), nil
}

// prepareHere prepares a statement on this connection's own server.
func (c *conn) prepareHere(ctx context.Context, query string) (stmt, error) {
	if err := c.guardTransact(ctx); err != nil {
		return stmt{}, err
	}
	ts := c.classify(query)
	if c.connector.shared == nil && c.txID != 0 {
		if err := c.control(ctx, ts); err != nil {
			return stmt{}, err
		}
	}
	if c.ddlSeen != c.connector.schema().Load() {
		c.invalidate(ctx)
	}
	var plan *rewrite.Plan
	native := query
	var planErr error
	if c.connector.cache != nil {
		if plan, planErr = c.connector.cache.Plan(query); planErr == nil {
			native = plan.Query()
		}
	}
	prepare := func(ctx context.Context, native string) (driver.Stmt, error) {
		if planErr != nil {
			return nil, planErr
		}
		return c.prepareNative(ctx, native)
	}
	var s driver.Stmt
	var err error
	if in := c.connector.interest(ctx, middleware.OpPrepare); in == middleware.None {
		s, err = prepare(ctx, native)
	} else {
		st := newCallState(c, middleware.OpPrepare, in, query, native, nil, nil)
		err = st.observe(ctx, func(ctx context.Context, call *middleware.Call) error {
			var err error
			s, err = prepare(ctx, call.NativeQuery)
			native = call.NativeQuery
			return err
		})
		st.release()
	}
	if err != nil {
		return stmt{}, err
	}
	st := newStmt(s, c, query, native, plan)
	st.tx = ts
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
	if c.connector.backend.beginsItself() && c.connector.shared == nil && (c.execer != nil || c.execerLegacy != nil) {
		begin = c.beginSQLite
	}
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
	c.txID, c.txOpts = id, opts
	if c.connector.chain != nil {
		c.txCtx = context.WithoutCancel(ctx)
	}
	return &tx{raw: t, conn: c, id: id, ctx: ctx}, nil
}
