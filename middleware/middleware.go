// Package middleware defines the chain every driver call of package
// databases runs through. A Middleware wraps the call: it can look at it,
// annotate the context, reject it by returning an error without calling
// next, or retry it by calling next again after an error.
//
// A middleware interested in one operation checks c.Op and passes every
// other call straight to next; On does that for it:
//
//	audit := middleware.On(middleware.OpExec, func(ctx context.Context, c *middleware.Call, next middleware.Handler) error {
//		log.Printf("exec %s", c.Query)
//		return next(ctx, c)
//	})
//
// With no middleware configured, package databases calls the real driver
// directly: nothing here is allocated or called. A middleware that only
// records some calls implements Selective, and calls nobody wants take that
// direct path too; calls wanted only if they fail run directly and reach
// the chain after failing.
//
// A query's call (OpQuery, OpStmtQuery) ends when its rows are read: the
// rows' call (OpRows) runs, when they close, under the context the query's
// call passed to next, so what a middleware put in that context (a span, a
// logger's attributes) reaches the end of the query.
//
// # For drivers
//
// Pipeline, with its methods Interest, Observe and Run, is how a driver
// runs its calls through a chain; middleware authors need none of it.
// NewPipeline composes a chain once. Before a call the driver asks Interest
// whether the chain wants it (None: call the real driver directly, with no
// Call at all), then runs it with Observe, which for Failures runs the real
// call first and the chain only if it failed; Run runs a call through the
// whole chain.
package middleware

import (
	"context"
	"database/sql/driver"
	"strconv"
	"time"

	"github.com/go-databases/databases/sqlscan"
)

// Op names a driver operation.
type Op uint8

// The operations that run through the chain.
const (
	OpConnect      Op = iota + 1 // open a connection
	OpPing                       // Ping
	OpPrepare                    // prepare a statement
	OpExec                       // ExecContext on a connection
	OpQuery                      // QueryContext on a connection; its rows end with OpRows
	OpStmtExec                   // ExecContext on a prepared statement
	OpStmtQuery                  // QueryContext on a prepared statement; its rows end with OpRows
	OpRows                       // closing the rows of a query: the end of its lifetime, under the context its OpQuery/OpStmtQuery passed to next
	OpBegin                      // begin a transaction
	OpCommit                     // commit it
	OpRollback                   // roll it back
	OpStmtClose                  // close a prepared statement
	OpConnClose                  // close a connection
	OpResetSession               // reset a pooled connection before reuse
	OpCopy                       // a bulk load (databases.CopyFrom, COPY … FROM STDIN); RowsAffected is the rows loaded
)

var opNames = [...]string{
	OpConnect: "connect", OpPing: "ping", OpPrepare: "prepare", OpExec: "exec", OpQuery: "query",
	OpStmtExec: "stmt.exec", OpStmtQuery: "stmt.query", OpRows: "rows", OpBegin: "begin",
	OpCommit: "commit", OpRollback: "rollback", OpStmtClose: "stmt.close", OpConnClose: "conn.close",
	OpResetSession: "reset_session", OpCopy: "copy",
}

// String returns the operation's name, such as "exec" or "stmt.query".
func (o Op) String() string {
	if int(o) < len(opNames) && opNames[o] != "" {
		return opNames[o]
	}
	return "op(" + strconv.Itoa(int(o)) + ")"
}

// Database describes the database a connector talks to. It is the same
// value for every call of one connector.
type Database struct {
	Dialect   string // "sqlite", "postgres" or "mysql"
	Namespace string // database name, or the SQLite file path
	Address   string // server host, the first of a host list (see Call.ServerAddress); "" for SQLite
	Port      int    // server port; 0 when unknown
	URL       string // the URL with its password masked
	// SQLMode holds the MySQL sql_mode flags the URL sets that change how
	// query text is read (backslash escapes, ANSI quotes); 0 elsewhere.
	// Read query text with sqlscan.New(sqlscan.ParseDialect(Dialect), SQLMode, q).
	SQLMode sqlscan.Mode
	// Replica is set on the Database of a read replica: Address and Port
	// are then the replica's, and the calls it carries ran there.
	Replica bool
}

// SystemName is the OpenTelemetry db.system.name of the database's
// dialect: "sqlite", "postgresql", "mysql", or "other_sql" for any other
// (the value OpenTelemetry gives a SQL database it does not list). Log
// records and spans both take it from here, so that the two agree.
func (d Database) SystemName() string {
	switch d.Dialect {
	case "sqlite", "mysql":
		return d.Dialect
	case "postgres":
		return "postgresql"
	}
	return "other_sql"
}

// Call is one driver call as middleware sees it. Fields may be added in
// later versions. Middleware must not keep a Call after it returns.
type Call struct {
	Op Op
	DB *Database

	// Query is the SQL as the caller wrote it; NativeQuery is what the real
	// driver receives after placeholders were rewritten. A middleware may
	// change NativeQuery (to add a comment, say) before calling next.
	Query       string
	NativeQuery string
	// Args are the arguments as the real driver receives them.
	Args []driver.NamedValue
	// TxOptions are the options of OpBegin.
	TxOptions driver.TxOptions

	// ConnID numbers the connections of a connector from 1; TxID numbers
	// transactions and is 0 outside one.
	ConnID, TxID uint64

	// ServerAddress and ServerPort name the server the call's connection
	// reached: with a host list, the host that answered, where DB.Address
	// is the first of the list. They are DB.Address and DB.Port for a URL
	// with one host, empty for SQLite, and in OpConnect set only once the
	// connection is open (after next returns).
	ServerAddress string
	ServerPort    int

	// Start is when the operation began. For OpRows it is the start of the
	// query, so that End minus Start covers reading the rows too. It is zero
	// in a call that ran before the chain saw it because the chain wanted
	// failures only (Failures): the clock is not read for such calls.
	Start time.Time

	// RowsAffected is set after next returns from OpExec and OpStmtExec,
	// -1 when the driver cannot tell; in OpCopy, the rows loaded.
	RowsAffected int64
	// RowsReturned counts the rows read; final in OpRows.
	RowsReturned int64
	// RowsErr is, in OpRows, the error that ended reading the rows early
	// (nil when they were read to the end or closed before).
	RowsErr error

	// StmtCache says, in OpExec and OpQuery (and their OpRows), whether
	// the connection's prepared-statement cache served the call. On a miss
	// the statement was prepared by an OpPrepare call nested in this one,
	// whose StmtCache is StmtCacheMiss too, and kept.
	StmtCache StmtCache

	final Handler // the real call, set by Pipeline.Run
}

// StmtCache says how a call used the connection's prepared-statement
// cache (the stmt_cache URL option).
type StmtCache uint8

const (
	// StmtUncached: the call did not use the cache: it is off, the query
	// is not one it keeps, or its statement was serving open rows.
	StmtUncached StmtCache = iota
	// StmtCacheHit: a statement the connection had prepared earlier ran.
	StmtCacheHit
	// StmtCacheMiss: the statement was prepared for this call and kept.
	StmtCacheMiss
)

// String returns "", "hit" or "miss".
func (s StmtCache) String() string {
	switch s {
	case StmtCacheHit:
		return "hit"
	case StmtCacheMiss:
		return "miss"
	}
	return ""
}

// Handler performs a call: the next middleware, or the real driver.
type Handler func(ctx context.Context, c *Call) error

// Middleware wraps every driver call.
type Middleware interface {
	Handle(ctx context.Context, c *Call, next Handler) error
}

// Func turns a function into a Middleware.
type Func func(ctx context.Context, c *Call, next Handler) error

// Handle calls f.
func (f Func) Handle(ctx context.Context, c *Call, next Handler) error { return f(ctx, c, next) }

// On returns a middleware that runs f for the given operations and passes
// every other call straight through. It is Selective: calls of other
// operations do not run through the chain for it.
func On(op Op, f Func, more ...Op) Middleware {
	set := uint32(1) << op
	for _, o := range more {
		set |= 1 << o
	}
	return &onOps{set: set, f: f}
}

// onOps is the middleware On returns.
type onOps struct {
	set uint32 // one bit per operation
	f   Func
}

var _ Selective = (*onOps)(nil)

func (m *onOps) Handle(ctx context.Context, c *Call, next Handler) error {
	if m.set&(1<<c.Op) == 0 {
		return next(ctx, c)
	}
	return m.f(ctx, c, next)
}

func (m *onOps) Interest(_ context.Context, op Op) Interest {
	if m.set&(1<<op) == 0 {
		return None
	}
	return All
}

// Interest says which calls a middleware needs to see. See Selective.
type Interest uint8

const (
	// All: the middleware sees the call before it runs, and may change,
	// reject or retry it.
	All Interest = iota
	// Failures: the middleware only needs calls that fail. The call runs
	// first, without the chain; only if it fails does the chain run, with a
	// next that returns the call's error instead of running it again. A
	// query fails when it cannot start, or when reading or closing its rows
	// fails (OpRows with RowsErr or an error).
	Failures
	// None: the middleware has nothing to do with the call.
	None
)

// Selective is a Middleware that tells, before each call, which calls it
// needs to see. When every middleware of a chain is Selective, a call runs
// through the chain only as far as the most interested one needs: a logger
// whose level leaves only errors costs a check per call, not a trip
// through the chain. A Selective middleware may still be called for a call
// it did not ask for, because another middleware did; it passes it on.
type Selective interface {
	Middleware
	Interest(ctx context.Context, op Op) Interest
}

// Chain is an ordered list of middleware; the first is the outermost.
// NewPipeline(chain...) composes it to run calls through.
type Chain []Middleware

// Pipeline is a chain composed once, so that running a call through it
// allocates nothing per middleware. It is for drivers: see "For drivers"
// in the package documentation.
type Pipeline struct {
	first     Handler
	one       Middleware  // the only middleware of a chain of one, run without first's closure
	selective []Selective // every middleware, when all of them are Selective
}

// callFinal is the innermost handler of every pipeline: the call's own final.
func callFinal(ctx context.Context, c *Call) error { return c.final(ctx, c) }

// NewPipeline composes mw, the first being the outermost.
func NewPipeline(mw ...Middleware) *Pipeline {
	p := &Pipeline{first: compose(mw)}
	if len(mw) == 1 {
		p.one = mw[0]
	}
	selective := make([]Selective, 0, len(mw))
	for _, m := range mw {
		s, ok := m.(Selective)
		if !ok {
			return p
		}
		selective = append(selective, s)
	}
	p.selective = selective
	return p
}

// compose returns the handler that runs mw, then the call's final.
func compose(mw []Middleware) Handler {
	h := Handler(callFinal)
	for i := len(mw) - 1; i >= 0; i-- {
		m, next := mw[i], h
		h = func(ctx context.Context, c *Call) error { return m.Handle(ctx, c, next) }
	}
	return h
}

// Interest returns what the chain needs to see of a call of op: the
// strongest interest of its middleware, and All when one of them is not
// Selective.
func (p *Pipeline) Interest(ctx context.Context, op Op) Interest {
	switch len(p.selective) {
	case 0:
		return All
	case 1:
		return p.selective[0].Interest(ctx, op)
	}
	in := None
	for _, m := range p.selective {
		if i := m.Interest(ctx, op); i < in {
			if i == All {
				return All
			}
			in = i
		}
	}
	return in
}

// Observe runs a call as interest in asks: through the chain for All; for
// Failures, final alone first, and the chain only when final failed, with
// a final that returns that failure. It is not meant for None, which needs
// no Call at all; it treats it as Failures.
func (p *Pipeline) Observe(ctx context.Context, in Interest, c *Call, final Handler) error {
	if in == All {
		return p.Run(ctx, c, final)
	}
	err := final(ctx, c)
	if err == nil && c.RowsErr == nil {
		return nil
	}
	return p.Run(ctx, c, func(context.Context, *Call) error { return err })
}

// Run runs c through the middleware and then through final, the real call.
func (p *Pipeline) Run(ctx context.Context, c *Call, final Handler) error {
	outer := c.final
	c.final = final
	var err error
	if p.one != nil {
		err = p.one.Handle(ctx, c, callFinal)
	} else {
		err = p.first(ctx, c)
	}
	c.final = outer
	return err
}
