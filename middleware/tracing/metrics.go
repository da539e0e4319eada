package tracing

import (
	"context"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/semconv/v1.43.0/dbconv"

	"github.com/go-databases/databases/middleware"
)

// durationBuckets are the bucket boundaries, in seconds, the conventions
// recommend for db.client.operation.duration.
var durationBuckets = []float64{0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10}

// newDuration creates the db.client.operation.duration histogram. An error
// goes to the global OpenTelemetry error handler and leaves a histogram that
// records nothing.
func newDuration(mp metric.MeterProvider) metric.Float64Histogram {
	m := mp.Meter(scope, metric.WithSchemaURL(semconv.SchemaURL))
	h, err := dbconv.NewClientOperationDuration(m, metric.WithExplicitBucketBoundaries(durationBuckets...))
	if err != nil {
		otel.Handle(err)
	}
	return h.Inst()
}

// metricAttributes are the measurement attributes of o on d.
func metricAttributes(d *database, o *operation, extra int) []attribute.KeyValue {
	attrs := make([]attribute.KeyValue, 0, len(d.attrs)+2+extra)
	attrs = append(attrs, d.attrs...)
	if o.operation != "" {
		attrs = append(attrs, semconv.DBOperationName(o.operation))
	}
	if o.collection != "" {
		attrs = append(attrs, semconv.DBCollectionName(o.collection))
	}
	return attrs
}

// metricOptions are the record options of a call of o that succeeded,
// built once per operation so that recording allocates nothing here.
func (t *tracer) metricOptions(d *database, o *operation) []metric.RecordOption {
	return []metric.RecordOption{metric.WithAttributeSet(attribute.NewSet(metricAttributes(d, o, 0)...))}
}

// record measures one call of o that took from start until now.
func (t *tracer) record(ctx context.Context, d *database, o *operation, start time.Time, e failure) {
	if !t.duration.Enabled(ctx) {
		return
	}
	seconds := time.Since(start).Seconds()
	if !e.failed {
		t.duration.Record(ctx, seconds, o.okMetric...)
		return
	}
	attrs := append(metricAttributes(d, o, 2), semconv.ErrorTypeKey.String(e.typ))
	if e.code != "" {
		attrs = append(attrs, semconv.DBResponseStatusCode(e.code))
	}
	t.duration.Record(ctx, seconds, metric.WithAttributes(attrs...))
}

// The statement cache's lookups: a counter of package databases' own
// (the conventions name none), with the result as an attribute.
const (
	stmtCacheLookups = "databases.stmt_cache.lookups"
	stmtCacheKey     = attribute.Key("databases.stmt_cache")
)

// stmtCacheAttrs are the span attribute of a call the statement cache
// served (hit) or prepared for (miss), by middleware.StmtCache; shared, so
// that setting one allocates nothing.
var stmtCacheAttrs = [...][]attribute.KeyValue{
	middleware.StmtCacheHit:  {stmtCacheKey.String("hit")},
	middleware.StmtCacheMiss: {stmtCacheKey.String("miss")},
}

// newStmtCacheLookups creates the databases.stmt_cache.lookups counter.
func newStmtCacheLookups(mp metric.MeterProvider) metric.Int64Counter {
	m := mp.Meter(scope, metric.WithSchemaURL(semconv.SchemaURL))
	c, err := m.Int64Counter(stmtCacheLookups, metric.WithUnit("{lookup}"),
		metric.WithDescription("Lookups in the per-connection prepared-statement cache, by result (hit or miss)."))
	if err != nil {
		otel.Handle(err)
	}
	return c
}

// countStmtCache counts a lookup of the statement cache on d.
func (t *tracer) countStmtCache(ctx context.Context, d *database, use middleware.StmtCache) {
	if !t.lookups.Enabled(ctx) {
		return
	}
	t.lookups.Add(ctx, 1, d.stmtCacheOpts[use]...)
}
