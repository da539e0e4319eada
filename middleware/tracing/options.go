package tracing

import (
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/go-databases/databases/middleware"
)

// Option configures the middleware New returns.
type Option func(*config)

type config struct {
	tp        trace.TracerProvider // nil: otel.GetTracerProvider()
	mp        metric.MeterProvider // nil: otel.GetMeterProvider()
	commenter bool
	literals  bool
	stmtCache bool // the databases.stmt_cache span attribute (WithStmtCacheAttribute)
	ops       opSet
}

// opSet is a set of middleware.Op, one bit each.
type opSet uint32

func (s opSet) has(op middleware.Op) bool { return op < 32 && s&(1<<op) != 0 }

// defaultOps are the operations traced unless WithOps says otherwise.
var defaultOps = setOf(
	middleware.OpConnect, middleware.OpPing, middleware.OpPrepare,
	middleware.OpExec, middleware.OpQuery, middleware.OpStmtExec, middleware.OpStmtQuery,
	middleware.OpBegin, middleware.OpCommit, middleware.OpRollback, middleware.OpCopy,
)

func setOf(ops ...middleware.Op) opSet {
	var s opSet
	for _, op := range ops {
		if op > 0 && op < 32 && op != middleware.OpRows {
			s |= 1 << op
		}
	}
	return s
}

// WithTracerProvider sets where spans go. The default is the global
// provider, otel.GetTracerProvider().
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(c *config) { c.tp = tp }
}

// WithMeterProvider sets where the db.client.operation.duration histogram
// goes. The default is the global provider, otel.GetMeterProvider().
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(c *config) { c.mp = mp }
}

// WithSQLCommenter appends a sqlcommenter comment carrying the W3C trace
// context of the operation's span, /*traceparent='00-…-…-01'*/ (and
// tracestate when there is one), to the query of Exec, Query and Prepare
// while their span is recording.
func WithSQLCommenter() Option {
	return func(c *config) { c.commenter = true }
}

// WithQueryLiterals records db.query.text as the driver receives it. By
// default a query without placeholders is recorded with its string and
// numeric literals replaced by '?', as the OpenTelemetry conventions ask:
// its values are in its text (UPDATE users SET password = 'hunter2'). A
// query with placeholders is recorded as written either way, since its
// values are arguments, which are never recorded.
func WithQueryLiterals() Option {
	return func(c *config) { c.literals = true }
}

// WithStmtCacheAttribute adds databases.stmt_cache ("hit" or "miss") to
// the span of a call the connection's prepared-statement cache served. It
// is package databases' own attribute, not one of the conventions', so it
// is off by default: each span attribute costs the OpenTelemetry SDK about
// 600 instructions per span (docs/performance.md). The counter
// databases.stmt_cache.lookups, a metric, is recorded either way.
func WithStmtCacheAttribute() Option {
	return func(c *config) { c.stmtCache = true }
}

// WithOps sets the operations that get a span and a duration measurement,
// replacing the default: Connect, Ping, Prepare, Exec, Query, Stmt Exec,
// Stmt Query, Begin, Commit, Rollback and Copy. OpRows is not an operation of its
// own here: the rows of a traced query always end the query's span.
func WithOps(ops ...middleware.Op) Option {
	return func(c *config) { c.ops = setOf(ops...) }
}
