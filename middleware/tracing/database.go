package tracing

import (
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/go-databases/databases/internal/sanitize"
	"github.com/go-databases/databases/middleware"
	"github.com/go-databases/databases/sqlscan"
)

// The cache of query descriptions is bounded like package rewrite's: by
// the number of queries, by the length of a query worth keeping, and by
// the bytes of query text it holds (the query and its sanitised text).
// When a bound is passed the cache starts over, so queries that keep
// coming back are soon cached again; a longer query (a bulk statement with
// inlined data) is described anew at every call instead of being kept.
const (
	maxQueries     = 1024
	maxCachedLen   = 64 << 10
	maxCachedBytes = 8 << 20
)

// database holds what every call on one middleware.Database shares: its
// attributes, the descriptions of the operations that have no query, and
// the cache of query descriptions.
type database struct {
	dialect sqlscan.Dialect
	mode    sqlscan.Mode // MySQL sql_mode flags for reading query text
	// attrs are the attributes of every span and measurement: system,
	// namespace, server address and port.
	attrs []attribute.KeyValue
	// target names a span whose query names no operation.
	target string
	// ops describe the operations that have no query text.
	ops [32]*operation

	// stmtCacheOpts are the options of a statement-cache lookup's count,
	// by middleware.StmtCache.
	stmtCacheOpts [3][]metric.AddOption

	queries  queryCache   // for exec and query
	prepares queryCache   // for prepare
	size     atomic.Int32 // queries cached in both
	bytes    atomic.Int64 // bytes of query text they hold
}

// queryCache maps a NativeQuery to its *operation, and keeps the last one
// found: a query run again and again is then found without hashing it.
type queryCache struct {
	all  sync.Map
	last atomic.Pointer[operation]
}

// operation describes one kind of call: a query on one database, or an
// operation without query text such as BEGIN. It is built once and shared.
type operation struct {
	name       string // span name
	operation  string // db.operation.name
	collection string // db.collection.name
	query      string // db.query.text
	text       string // the query text it describes, its key in the cache
	// commentable is set when a sqlcommenter comment may be appended to
	// the query (see commentable).
	commentable bool

	spanAttrs atomic.Pointer[[]attribute.KeyValue] // built when a span records
	// ends are the attributes a span of o ends with when the call did not
	// fail, by the statement cache's use and by the rows returned (none
	// counted, 0 or 1: what most queries return, lookups by key and
	// existence checks), built once each.
	ends [3][3]atomic.Pointer[[]attribute.KeyValue]
	// okMetric are the record options of a call that succeeded.
	okMetric []metric.RecordOption
	// found is the entry the tracer found the database of an exec or a
	// query of o by, when it last described one (tracer.describe).
	found atomic.Pointer[dbEntry]
}

// SystemName returns the db.system.name attribute for a dialect of package
// databases ("sqlite", "postgres", "mysql"), for callers that label other
// telemetry (pool metrics) the way the spans are labelled. The value is
// middleware.Database.SystemName's, which log records carry too.
func SystemName(dialect string) attribute.KeyValue { return systemName(dialect) }

func systemName(dialect string) attribute.KeyValue {
	return semconv.DBSystemNameKey.String(middleware.Database{Dialect: dialect}.SystemName())
}

// opNames are the operation names, and span names, of the operations that
// carry no query text.
var opNames = [...]string{
	middleware.OpConnect:      "CONNECT",
	middleware.OpPing:         "PING",
	middleware.OpBegin:        "BEGIN",
	middleware.OpCommit:       "COMMIT",
	middleware.OpRollback:     "ROLLBACK",
	middleware.OpStmtClose:    "DEALLOCATE",
	middleware.OpConnClose:    "DISCONNECT",
	middleware.OpResetSession: "RESET",
	middleware.OpCopy:         "COPY",
}

// zeroDatabase stands for a call that names no database.
var zeroDatabase = &middleware.Database{}

func newDatabase(t *tracer, db *middleware.Database) *database {
	d := &database{dialect: sanitize.Dialect(db.Dialect), mode: db.SQLMode}
	system := systemName(db.Dialect)
	d.attrs = append(d.attrs, system)
	d.target = system.Value.AsString()
	if db.Namespace != "" {
		d.attrs = append(d.attrs, semconv.DBNamespace(db.Namespace))
		d.target = db.Namespace
	}
	if db.Address != "" {
		d.attrs = append(d.attrs, semconv.ServerAddress(db.Address))
	}
	if db.Port > 0 {
		d.attrs = append(d.attrs, semconv.ServerPort(db.Port))
	}
	if db.Replica {
		d.attrs = append(d.attrs, attribute.Bool("db.replica", true))
	}
	for op, name := range opNames {
		if name != "" {
			d.ops[op] = d.fixed(t, middleware.Op(op))
		}
	}
	for _, use := range []middleware.StmtCache{middleware.StmtCacheHit, middleware.StmtCacheMiss} {
		set := attribute.NewSet(append(slices.Clip(d.attrs), stmtCacheAttrs[use]...)...)
		d.stmtCacheOpts[use] = []metric.AddOption{metric.WithAttributeSet(set)}
	}
	return d
}

// operation returns the description of c: a cached one when there is one.
func (d *database) operation(t *tracer, c *middleware.Call) *operation {
	switch c.Op {
	case middleware.OpExec, middleware.OpQuery, middleware.OpStmtExec, middleware.OpStmtQuery:
		return d.query(t, &d.queries, c.NativeQuery, false)
	case middleware.OpPrepare:
		return d.query(t, &d.prepares, c.NativeQuery, true)
	}
	if int(c.Op) < len(d.ops) {
		if o := d.ops[c.Op]; o != nil {
			return o
		}
	}
	return d.fixed(t, c.Op)
}

// fixed describes an operation without query text.
func (d *database) fixed(t *tracer, op middleware.Op) *operation {
	var name string
	if int(op) < len(opNames) {
		name = opNames[op]
	}
	if name == "" {
		name = op.String()
	}
	o := &operation{name: name, operation: name}
	o.okMetric = t.metricOptions(d, o)
	return o
}

// query returns the cached description of q, building it on a miss.
func (d *database) query(t *tracer, cache *queryCache, q string, prepare bool) *operation {
	if o := cache.last.Load(); o != nil && o.text == q {
		return o
	}
	if v, ok := cache.all.Load(q); ok {
		o := v.(*operation)
		cache.last.Store(o)
		return o
	}
	o := d.describe(t, q, prepare)
	if len(q) > maxCachedLen {
		return o
	}
	cost := int64(len(q))
	if o.query != q {
		cost += int64(len(o.query))
	}
	if d.size.Add(1) > maxQueries || d.bytes.Add(cost) > maxCachedBytes {
		d.queries.all.Clear()
		d.prepares.all.Clear()
		d.size.Store(1)
		d.bytes.Store(cost)
	}
	if v, loaded := cache.all.LoadOrStore(q, o); loaded {
		o = v.(*operation)
	}
	cache.last.Store(o)
	return o
}

// describe summarizes q and builds its metric attributes. What it keeps
// of q is copied, so that an operation kept by the metrics SDK (through its
// attribute set) does not keep the whole query.
func (d *database) describe(t *tracer, q string, prepare bool) *operation {
	s := summarize(q, d.dialect, d.mode)
	o := &operation{operation: strings.Clone(s.operation), collection: strings.Clone(s.collection), query: q, text: q}
	if !t.literals {
		o.query = sanitize.Query(d.dialect, d.mode, q)
	}
	switch {
	case s.operation == "":
		o.name = d.target
	case s.collection == "":
		o.name = o.operation
	default:
		o.name = s.operation + " " + s.collection
	}
	if prepare {
		o.operation = "PREPARE"
		if s.operation == "" {
			o.name = "PREPARE"
		} else {
			o.name = "PREPARE " + o.name
		}
	}
	if t.commenter {
		o.commentable = commentable(q, d.dialect, d.mode)
	}
	o.okMetric = t.metricOptions(d, o)
	return o
}

// spanAttributes returns the attributes of a span of o, building them the
// first time a span of o records.
func (o *operation) spanAttributes(d *database) []attribute.KeyValue {
	if p := o.spanAttrs.Load(); p != nil {
		return *p
	}
	attrs := make([]attribute.KeyValue, 0, len(d.attrs)+3)
	attrs = append(attrs, d.attrs...)
	if o.query != "" {
		attrs = append(attrs, semconv.DBQueryText(o.query))
	}
	if o.operation != "" {
		attrs = append(attrs, semconv.DBOperationName(o.operation))
	}
	if o.collection != "" {
		attrs = append(attrs, semconv.DBCollectionName(o.collection))
	}
	o.spanAttrs.Store(&attrs)
	return attrs
}

// builtEnd returns the attributes endAttributes built for use and
// returned, or nil before they are.
func (o *operation) builtEnd(use middleware.StmtCache, returned int64) *[]attribute.KeyValue {
	if int(use) >= len(o.ends) {
		use = middleware.StmtUncached
	}
	return o.ends[use][returned+1].Load()
}

// endAttributes returns the attributes of a span of o whose call used the
// statement cache as use and returned returned rows, -1 when it returns
// none (an exec), 0 or 1; built the first time, shared after. Beyond one
// row, the caller appends db.response.returned_rows to the attributes of
// returned -1.
func (o *operation) endAttributes(d *database, use middleware.StmtCache, returned int64) []attribute.KeyValue {
	if a := o.builtEnd(use, returned); a != nil {
		return *a
	}
	if int(use) >= len(o.ends) {
		use = middleware.StmtUncached
	}
	p := &o.ends[use][returned+1]
	attrs := slices.Clip(o.spanAttributes(d))
	if use != middleware.StmtUncached {
		attrs = append(attrs, stmtCacheAttrs[use]...)
	}
	if returned >= 0 {
		attrs = append(attrs, semconv.DBResponseReturnedRows(int(returned)))
	}
	attrs = slices.Clip(attrs)
	p.Store(&attrs)
	return attrs
}
