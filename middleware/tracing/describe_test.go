package tracing

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/go-databases/databases/middleware"
)

// TestDescribeRepeated: the same query text run in turn on other
// databases, on another host of one database's host list, and as a
// Prepare, gets each time the attributes of where it ran: the shortcut
// for a query like the last one (tracer.describe) compares the database
// and the server, not the text alone.
func TestDescribeRepeated(t *testing.T) {
	const q = "SELECT * FROM users WHERE id = 1"
	tests := []struct {
		name  string
		call  middleware.Call
		span  string
		attrs map[attribute.Key]any
	}{
		{"postgres", middleware.Call{Op: middleware.OpExec, DB: pgDB, NativeQuery: q}, "SELECT users",
			map[attribute.Key]any{"db.system.name": "postgresql", "server.address": "db.internal", "server.port": int64(5432)}},
		{"postgres again", middleware.Call{Op: middleware.OpExec, DB: pgDB, NativeQuery: q}, "SELECT users",
			map[attribute.Key]any{"db.system.name": "postgresql", "server.address": "db.internal"}},
		{"another host", middleware.Call{Op: middleware.OpExec, DB: pgDB, NativeQuery: q, ServerAddress: "db2.internal", ServerPort: 5433}, "SELECT users",
			map[attribute.Key]any{"db.system.name": "postgresql", "server.address": "db2.internal", "server.port": int64(5433)}},
		{"sqlite", middleware.Call{Op: middleware.OpExec, DB: liteDB, NativeQuery: q}, "SELECT users",
			map[attribute.Key]any{"db.system.name": "sqlite", "db.namespace": "/tmp/app.db", "server.address": nil, "server.port": nil}},
		{"prepare", middleware.Call{Op: middleware.OpPrepare, DB: liteDB, NativeQuery: q}, "PREPARE SELECT users",
			map[attribute.Key]any{"db.system.name": "sqlite", "db.operation.name": "PREPARE"}},
		{"sqlite exec after the prepare", middleware.Call{Op: middleware.OpExec, DB: liteDB, NativeQuery: q}, "SELECT users",
			map[attribute.Key]any{"db.system.name": "sqlite", "db.operation.name": "SELECT"}},
		{"postgres after sqlite", middleware.Call{Op: middleware.OpExec, DB: pgDB, NativeQuery: q}, "SELECT users",
			map[attribute.Key]any{"db.system.name": "postgresql", "db.namespace": "shop", "server.address": "db.internal"}},
	}
	tel := newTelemetry(t, sdktrace.AlwaysSample())
	mw := New(tel.options()...)
	for _, tt := range tests {
		c := tt.call
		if err := run(mw, context.Background(), &c, ok); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
	}
	spans := tel.ended()
	if len(spans) != len(tests) {
		t.Fatalf("%d spans, want %d", len(spans), len(tests))
	}
	for i, tt := range tests {
		if spans[i].Name() != tt.span {
			t.Errorf("%s: span %q, want %q", tt.name, spans[i].Name(), tt.span)
		}
		checkAttrs(t, tt.name, spans[i].Attributes(), tt.attrs)
	}
}
