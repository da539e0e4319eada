package tracing

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/go-databases/databases/middleware"
)

// BenchmarkHandle measures what Handle itself adds to one call, the real
// call being free: a point query (sent, then its rows closed) and an exec.
// "always-nometrics" records spans only, as BenchmarkObservability in
// package databases does (BenchmarkSDKSpan is its floor).
func BenchmarkHandle(b *testing.B) {
	const q = "SELECT id, name, email FROM users WHERE id = $1"
	setups := []struct {
		name string
		opts func(b *testing.B) []Option
	}{
		{"always", func(b *testing.B) []Option { return newBenchTelemetry(b, sdktrace.AlwaysSample()).options() }},
		{"always-nometrics", func(b *testing.B) []Option {
			return []Option{WithTracerProvider(newBenchTelemetry(b, sdktrace.AlwaysSample()).tp), WithMeterProvider(metricnoop.NewMeterProvider())}
		}},
		{"always+commenter", func(b *testing.B) []Option {
			return newBenchTelemetry(b, sdktrace.AlwaysSample()).options(WithSQLCommenter())
		}},
		{"never", func(b *testing.B) []Option { return newBenchTelemetry(b, sdktrace.NeverSample()).options() }},
		{"noop", func(*testing.B) []Option {
			return []Option{WithTracerProvider(tracenoop.NewTracerProvider()), WithMeterProvider(metricnoop.NewMeterProvider())}
		}},
	}
	for _, s := range setups {
		b.Run("query/"+s.name, func(b *testing.B) {
			mw := New(s.opts(b)...)
			ctx := context.Background()
			var inner context.Context
			final := func(ctx context.Context, _ *middleware.Call) error { inner = ctx; return nil }
			c := &middleware.Call{Op: middleware.OpQuery, DB: pgDB, NativeQuery: q}
			rows := &middleware.Call{Op: middleware.OpRows, DB: pgDB, NativeQuery: q, RowsReturned: 1}
			b.ReportAllocs()
			for b.Loop() {
				mw.Handle(ctx, c, final)
				mw.Handle(inner, rows, ok)
			}
		})
		b.Run("exec/"+s.name, func(b *testing.B) {
			mw := New(s.opts(b)...)
			ctx := context.Background()
			c := &middleware.Call{Op: middleware.OpExec, DB: pgDB, NativeQuery: "UPDATE users SET name = $1 WHERE id = $2"}
			b.ReportAllocs()
			for b.Loop() {
				mw.Handle(ctx, c, ok)
			}
		})
	}
}

// BenchmarkSDKSpan is the floor under BenchmarkHandle/query/always without
// metrics: the SDK starting and ending a client span with the same eight
// attributes, set in one call.
func BenchmarkSDKSpan(b *testing.B) {
	tel := newBenchTelemetry(b, sdktrace.AlwaysSample())
	tr := tel.tp.Tracer("bench")
	attrs := []attribute.KeyValue{
		attribute.String("db.system.name", "postgresql"), attribute.String("db.namespace", "shop"),
		attribute.String("server.address", "db.internal"), attribute.Int("server.port", 5432),
		attribute.String("db.query.text", "SELECT id, name, email FROM users WHERE id = $1"),
		attribute.String("db.operation.name", "SELECT"), attribute.String("db.collection.name", "users"),
		attribute.Int("db.response.returned_rows", 1),
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_, span := tr.Start(ctx, "SELECT users", clientKind...)
		span.SetAttributes(attrs...)
		span.End()
	}
}

// newBenchTelemetry is newTelemetry whose recorder forgets its spans now and
// then, so that a long benchmark does not measure a growing slice.
func newBenchTelemetry(b *testing.B, sampler sdktrace.Sampler) *telemetry {
	tel := newTelemetry(b, sampler)
	tel.tp.RegisterSpanProcessor(&resetter{tel: tel})
	return tel
}

// resetter resets the span recorder every 4096 spans.
type resetter struct {
	tel *telemetry
	n   int
}

func (r *resetter) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (r *resetter) OnEnd(sdktrace.ReadOnlySpan) {
	if r.n++; r.n == 4096 {
		r.n = 0
		r.tel.spans.Reset()
	}
}
func (*resetter) Shutdown(context.Context) error   { return nil }
func (*resetter) ForceFlush(context.Context) error { return nil }
