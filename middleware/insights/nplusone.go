package insights

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"sync"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"

	"github.com/go-databases/databases/middleware"
	"github.com/go-databases/databases/middleware/tracing"
)

// Scope returns a context that starts a scope of N+1 detection, such as
// one request: the queries run under it (or a context derived from it)
// count together, apart from those of any other scope. Without a scope, a
// query counts in the trace of the span in its context, when there is one
// (tracing on); with neither it is not counted.
func Scope(ctx context.Context) context.Context {
	return context.WithValue(ctx, scopeKey{}, &scope{})
}

// ScopeHandler runs every request of h in a scope of its own (Scope).
func ScopeHandler(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(Scope(r.Context())))
	})
}

// scopeKey is the context key of a *scope.
type scopeKey struct{}

// maxScopeQueries bounds the distinct queries one scope counts: a scope
// that runs more distinct queries counts the first ones only.
const maxScopeQueries = 1024

// scope counts the runs of each query summary in one scope.
type scope struct {
	mu     sync.Mutex
	counts map[counted]int
}

// counted is a query of one Insights, since a scope may span DBs that
// each have their own.
type counted struct {
	i       *Insights
	summary string
}

// add counts one run of summary and returns the runs counted so far; 0
// when the scope counts too many queries already.
func (s *scope) add(i *Insights, summary string) int {
	k := counted{i, summary}
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.counts[k]
	if !ok {
		if s.counts == nil {
			s.counts = make(map[counted]int)
		} else if len(s.counts) >= maxScopeQueries {
			return 0
		}
	}
	n++
	s.counts[k] = n
	return n
}

// maxTraceScopes bounds the traces counted at once: the scopes of the
// maxTraceScopes traces seen last are kept, and up to as many before them.
// A trace that runs queries after twice that many other traces did starts
// counting again.
const maxTraceScopes = 4096

// traceScopes are the scopes of traces, in two generations: when the
// current one is full it becomes the previous one, and the previous one
// is dropped.
type traceScopes struct {
	mu        sync.Mutex
	cur, prev map[trace.TraceID]*scope
}

func (t *traceScopes) get(id trace.TraceID) *scope {
	t.mu.Lock()
	defer t.mu.Unlock()
	if s, ok := t.cur[id]; ok {
		return s
	}
	s, ok := t.prev[id]
	if !ok {
		s = &scope{}
	}
	if t.cur == nil || len(t.cur) >= maxTraceScopes {
		t.prev, t.cur = t.cur, make(map[trace.TraceID]*scope)
	}
	t.cur[id] = s
	return s
}

// countInScope counts a run of e in the scope of ctx, and reports e when
// that run is one more than the threshold: once per scope and query.
func (i *Insights) countInScope(ctx context.Context, c *middleware.Call, e *entry) {
	s, _ := ctx.Value(scopeKey{}).(*scope)
	if s == nil {
		sc := trace.SpanContextFromContext(ctx)
		if !sc.HasTraceID() {
			return
		}
		s = i.traces.get(sc.TraceID())
	}
	if s.add(i, e.summary) == i.cfg.nPlusOne+1 {
		i.report(ctx, c, e)
	}
}

// Attribute keys of an N+1 report.
const (
	KeySummary = "db.query.summary" // the query's summary
	KeyCount   = "count"            // the runs counted when it was reported: the threshold plus one
	KeyText    = "db.query.text"    // the sanitised text of one run
	KeyTraceID = "trace_id"         // the trace of the span in the context, when there is one
)

// report writes the N+1 report of e: a log record, a span event and a
// count.
func (i *Insights) report(ctx context.Context, c *middleware.Call, e *entry) {
	e.nPlusOne.Add(1)
	i.table.nPlusOne.Add(1)
	n := i.cfg.nPlusOne + 1
	logger := i.cfg.logger
	if logger == nil {
		logger = slog.Default()
	}
	sc := trace.SpanContextFromContext(ctx)
	if logger.Enabled(ctx, slog.LevelWarn) {
		attrs := []slog.Attr{slog.String(KeySummary, e.summary), slog.Int(KeyCount, n), slog.String(KeyText, e.sample)}
		if sc.HasTraceID() {
			attrs = append(attrs, slog.String(KeyTraceID, sc.TraceID().String()))
		}
		logger.LogAttrs(ctx, slog.LevelWarn, "databases: N+1 query: the same query ran more than "+strconv.Itoa(i.cfg.nPlusOne)+" times in one scope", attrs...)
	}
	if span := trace.SpanFromContext(ctx); span.IsRecording() {
		span.AddEvent(EventNPlusOne, trace.WithAttributes(attribute.String(KeySummary, e.summary), attribute.Int(KeyCount, n)))
	}
	var system attribute.KeyValue
	if c.DB != nil {
		system = tracing.SystemName(c.DB.Dialect)
	} else {
		system = tracing.SystemName("")
	}
	i.counter.Add(ctx, 1, metric.WithAttributes(system))
}

// EventNPlusOne is the name of the span event of an N+1 report.
const EventNPlusOne = "db.query.n_plus_one"

// MetricNPlusOne is the name of the counter of N+1 reports.
const MetricNPlusOne = "databases.insights.n_plus_one"

// newCounter creates the counter of N+1 reports. An error goes to the
// global OpenTelemetry error handler and leaves a counter that counts
// nothing.
func newCounter(mp metric.MeterProvider) metric.Int64Counter {
	m := mp.Meter("github.com/go-databases/databases/middleware/insights")
	c, err := m.Int64Counter(MetricNPlusOne, metric.WithUnit("{report}"),
		metric.WithDescription("Queries that ran more than the N+1 threshold in one scope (request or trace), once per scope and query."))
	if err != nil || c == nil {
		otel.Handle(err)
		c, _ = noop.Meter{}.Int64Counter(MetricNPlusOne)
	}
	return c
}
