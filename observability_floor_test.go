package databases_test

import (
	"context"
	"database/sql"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// spanFloor is BenchmarkObservability's sdk-span: the raw driver's point
// SELECT inside one client span of the same SDK setup, with the attributes
// the tracing middleware gives that query's span by default, set in one
// call. What it adds over raw is the SDK's own work for such a span, the
// floor under what tracing adds.
func spanFloor(b *testing.B, db *sql.DB, bt benchTarget, table string, tp *sdktrace.TracerProvider) {
	ctx := context.Background()
	query := "SELECT name FROM " + table + " WHERE id = " + bt.native
	common, summary := semconvAttrs(bt, table)
	attrs := append(append(append(common, attribute.String("db.query.text", query)), summary...),
		attribute.Int("db.response.returned_rows", 1))
	tracer := tp.Tracer("floor")
	kind := trace.WithSpanKind(trace.SpanKindClient)
	name := "SELECT " + table
	var s string
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		ctx, span := tracer.Start(ctx, name, kind)
		if err := db.QueryRowContext(ctx, query, i%benchRows).Scan(&s); err != nil {
			b.Fatal(err)
		}
		span.SetAttributes(attrs...)
		span.End()
		i++
	}
}

// semconvAttrs are the semantic-convention attributes the tracing
// middleware gives the point SELECT's span besides db.query.text and
// db.response.returned_rows: those of the database (system, namespace,
// the server's address and port) and those of the query's summary
// (operation, collection). BenchmarkObservability's otelsql-semconv gives
// otelsql the same, the first through WithAttributes, the second through
// WithAttributesGetter.
func semconvAttrs(bt benchTarget, table string) (database, summary []attribute.KeyValue) {
	system, port := bt.name, 0
	switch bt.name {
	case "postgres":
		system, port = "postgresql", 5432
	case "mysql":
		port = 3306
	}
	database = []attribute.KeyValue{attribute.String("db.system.name", system), attribute.String("db.namespace", "bench")}
	if port != 0 {
		database = append(database, attribute.String("server.address", "127.0.0.1"), attribute.Int("server.port", port))
	}
	summary = []attribute.KeyValue{attribute.String("db.operation.name", "SELECT"), attribute.String("db.collection.name", table)}
	return database, summary
}
