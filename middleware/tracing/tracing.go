package tracing

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/go-databases/databases/middleware"
)

// scope is the instrumentation scope of the spans and the histogram.
const scope = "github.com/go-databases/databases/middleware/tracing"

// New returns a middleware that traces driver calls and measures their
// duration. See the package documentation for what it records.
func New(opts ...Option) middleware.Middleware {
	cfg := config{ops: defaultOps}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.tp == nil {
		cfg.tp = otel.GetTracerProvider()
	}
	if cfg.mp == nil {
		cfg.mp = otel.GetMeterProvider()
	}
	return &tracer{
		tracer:        cfg.tp.Tracer(scope, trace.WithSchemaURL(semconv.SchemaURL)),
		duration:      newDuration(cfg.mp),
		lookups:       newStmtCacheLookups(cfg.mp),
		ops:           cfg.ops,
		commenter:     cfg.commenter,
		literals:      cfg.literals,
		stmtCacheAttr: cfg.stmtCache,
	}
}

// tracer is the middleware.
type tracer struct {
	tracer        trace.Tracer
	duration      metric.Float64Histogram
	lookups       metric.Int64Counter // databases.stmt_cache.lookups
	ops           opSet
	commenter     bool
	literals      bool // db.query.text keeps literals (WithQueryLiterals)
	stmtCacheAttr bool // spans carry databases.stmt_cache (WithStmtCacheAttribute)

	last      atomic.Pointer[dbEntry]   // the database of the last call
	lastQuery atomic.Pointer[operation] // the last exec or query described
	byPointer sync.Map                  // dbKey → *dbEntry
	byValue   sync.Map                  // middleware.Database → *database
	pointers  atomic.Int32
}

// dbKey is a connector's *middleware.Database and the server a call
// reached, which is one host of a host list.
type dbKey struct {
	db   *middleware.Database
	addr string
	port int
}

// dbEntry pairs a dbKey with its description.
type dbEntry struct {
	key dbKey
	d   *database
}

var _ middleware.Selective = (*tracer)(nil)

// Interest skips the operations that get no span (WithOps), so that they
// do not run through the chain for this middleware.
func (t *tracer) Interest(_ context.Context, op middleware.Op) middleware.Interest {
	if t.ops.has(op) {
		return middleware.All
	}
	return middleware.None
}

// clientKind starts every span: built once so that starting one allocates
// no option.
var clientKind = []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindClient)}

// Handle traces c.
func (t *tracer) Handle(ctx context.Context, c *middleware.Call, next middleware.Handler) error {
	if c.Op == middleware.OpRows {
		return t.rows(ctx, c, next)
	}
	if !t.ops.has(c.Op) {
		return next(ctx, c)
	}
	d, o := t.describe(c)
	start := c.Start // set by package databases as the call began
	if start.IsZero() {
		start = time.Now()
	}
	ctx, span := t.tracer.Start(ctx, o.name, clientKind...)

	native := c.NativeQuery
	commented := t.commenter && o.commentable && span.IsRecording() && (c.Op == middleware.OpExec || c.Op == middleware.OpQuery || c.Op == middleware.OpPrepare)
	if commented {
		c.NativeQuery = comment(native, span.SpanContext())
	}

	if c.Op == middleware.OpQuery || c.Op == middleware.OpStmtQuery {
		q := &queryContext{Context: ctx, key: queryKey{t}, span: span, db: d, op: o, start: start}
		err := next(q, c)
		if commented {
			c.NativeQuery = native
		}
		q.use = t.stmtCache(ctx, d, c.StmtCache)
		if err != nil {
			// The rows never come: the query ends here.
			t.end(ctx, d, o, span, start, err, -1, q.use)
		}
		return err
	}

	err := next(ctx, c)
	if commented {
		c.NativeQuery = native
	}
	use := middleware.StmtUncached
	if c.Op == middleware.OpExec {
		use = t.stmtCache(ctx, d, c.StmtCache)
	}
	if c.Op == middleware.OpCopy && err == nil && isRecording(span) {
		span.SetAttributes(attribute.Int64(keyRowsAffected, c.RowsAffected))
	}
	if c.Op == middleware.OpConnect && c.ServerAddress != "" {
		d = t.at(c.DB, c.ServerAddress, c.ServerPort) // the host of the list that answered
		o = d.operation(t, c)
	}
	t.end(ctx, d, o, span, start, err, -1, use)
	return err
}

// isRecording is span.IsRecording, answered without it for a sampled span,
// which records (the SDK's IsRecording takes the span's lock). Of a span
// that does not record, such as a no-op tracer's child of a sampled remote
// parent, the attributes are built for nothing and dropped by the span.
func isRecording(span trace.Span) bool {
	return span.SpanContext().IsSampled() || span.IsRecording()
}

// describe returns the database and the description of c. The same exec
// or query as the last one (a query in a loop) is found by comparing its
// text and its database's key with the last one's, without the look-ups
// of at and operation, and without allocating.
func (t *tracer) describe(c *middleware.Call) (*database, *operation) {
	exec := c.Op == middleware.OpExec || c.Op == middleware.OpQuery || c.Op == middleware.OpStmtExec || c.Op == middleware.OpStmtQuery
	key := keyOf(c.DB, c.ServerAddress, c.ServerPort)
	if exec {
		if o := t.lastQuery.Load(); o != nil && o.text == c.NativeQuery {
			if e := o.found.Load(); e != nil && e.key == key {
				return e.d, o
			}
		}
	}
	e := t.entry(key)
	o := e.d.operation(t, c)
	if exec {
		o.found.Store(e)
		t.lastQuery.Store(o)
	}
	return e.d, o
}

// stmtCache counts a lookup of the statement cache, and returns use, which
// the span's attributes carry when it ends.
func (t *tracer) stmtCache(ctx context.Context, d *database, use middleware.StmtCache) middleware.StmtCache {
	if use != middleware.StmtUncached {
		t.countStmtCache(ctx, d, use)
	}
	return use
}

// rows ends the span of the query whose rows are being closed.
func (t *tracer) rows(ctx context.Context, c *middleware.Call, next middleware.Handler) error {
	err := next(ctx, c)
	q, _ := ctx.Value(queryKey{t}).(*queryContext)
	if q == nil {
		return err // the query was not traced by this middleware
	}
	failure := c.RowsErr
	if failure == nil {
		failure = err
	}
	t.end(ctx, q.db, q.op, q.span, q.start, failure, max(c.RowsReturned, 0), q.use)
	return err
}

// end sets the attributes of span, ends it, and records the duration of
// the call. returned is the number of rows a query returned, -1 for other
// operations; use is how the statement cache served the call. The
// attributes are set in one go, at the end, so that the span copies them
// once: a slice built once per query for the common endings (no error,
// no rows counted or 0 or 1 of them), joined in a pooled buffer otherwise.
func (t *tracer) end(ctx context.Context, d *database, o *operation, span trace.Span, start time.Time, err error, returned int64, use middleware.StmtCache) {
	var f failure
	if err != nil {
		f = classify(err)
	}
	if !t.stmtCacheAttr {
		use = middleware.StmtUncached // the lookup was counted; the span does not say
	}
	switch {
	case !f.failed && returned <= 1:
		// Once built, the slice goes to any span, which drops it if it
		// does not record; it is built for a span that records only.
		if attrs := o.builtEnd(use, returned); attrs != nil {
			span.SetAttributes(*attrs...)
		} else if isRecording(span) {
			span.SetAttributes(o.endAttributes(d, use, returned)...)
		}
	case !isRecording(span):
	default:
		buf := attrPool.Get().(*[]attribute.KeyValue)
		extra := append((*buf)[:0], o.endAttributes(d, use, -1)...)
		if returned >= 0 {
			extra = append(extra, semconv.DBResponseReturnedRows(int(returned)))
		}
		if f.failed {
			extra = append(extra, semconv.ErrorTypeKey.String(f.typ))
			if f.code != "" {
				extra = append(extra, semconv.DBResponseStatusCode(f.code))
			}
			span.SetStatus(codes.Error, err.Error())
		}
		span.SetAttributes(extra...)
		clear(extra)
		*buf = extra[:0]
		attrPool.Put(buf)
	}
	span.End()
	if err == nil || !isSkip(err) {
		t.record(ctx, d, o, start, f)
	}
}

// attrPool holds the buffers end joins attributes in.
var attrPool = sync.Pool{New: func() any { return new([]attribute.KeyValue) }}

// database returns the shared description of db, at its own address.
func (t *tracer) database(db *middleware.Database) *database { return t.at(db, "", 0) }

// at returns the shared description of db at the server a call reached
// (Call.ServerAddress and ServerPort), or at db's own address when addr is
// "". It is found by the connector's pointer, since a connector passes
// the same *middleware.Database to every call, and shared by value, so that
// connectors opened again and again for the same database (sql.Open of a
// registered driver, tests) do not each build a query cache that outlives
// them.
func (t *tracer) at(db *middleware.Database, addr string, port int) *database {
	return t.entry(keyOf(db, addr, port)).d
}

// keyOf is the key of db at the server a call reached (see at).
func keyOf(db *middleware.Database, addr string, port int) dbKey {
	if db == nil {
		db = zeroDatabase
	}
	if addr == "" {
		return dbKey{db, db.Address, db.Port}
	}
	return dbKey{db, addr, port}
}

// entry returns the entry of key, made on its first call.
func (t *tracer) entry(key dbKey) *dbEntry {
	if e := t.last.Load(); e != nil && e.key == key {
		return e
	}
	if v, ok := t.byPointer.Load(key); ok {
		e := v.(*dbEntry)
		t.last.Store(e)
		return e
	}
	value := *key.db
	value.Address, value.Port = key.addr, key.port
	v, ok := t.byValue.Load(value)
	if !ok {
		v, _ = t.byValue.LoadOrStore(value, newDatabase(t, &value))
	}
	if t.pointers.Add(1) > maxPointers {
		t.byPointer.Clear()
		t.pointers.Store(1)
	}
	e := &dbEntry{key, v.(*database)}
	t.byPointer.Store(key, e)
	t.last.Store(e)
	return e
}

// maxPointers bounds the index of databases by pointer.
const maxPointers = 256

// queryKey finds, in the context of a query's rows, the query a tracer
// started; each tracer has its own key.
type queryKey struct{ t *tracer }

// queryContext is the context a traced query runs under. It carries the
// query's span to the call that closes its rows, with one allocation for
// both.
type queryContext struct {
	context.Context
	key   queryKey
	span  trace.Span
	db    *database
	op    *operation
	start time.Time
	use   middleware.StmtCache // set once the query ran
}

// Value returns q for q's key, and asks the parent context otherwise.
func (q *queryContext) Value(key any) any {
	if k, ok := key.(queryKey); ok && k == q.key {
		return q
	}
	return q.Context.Value(key)
}

// keyRowsAffected carries the rows a COPY loaded, under the name the
// logging middleware gives them.
const keyRowsAffected = "db.rows_affected"
