package tracing

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/go-databases/databases/middleware"
)

// TestStmtCacheAttribute: with WithStmtCacheAttribute, a span whose call
// the statement cache served carries databases.stmt_cache (hit or miss)
// beside its other attributes, whatever else it ends with (rows, an error,
// an exec), and a call that did not use the cache carries none; without
// it, no span carries it and the others are the same. Every case runs
// twice on one middleware with one query text, so that the attributes
// built for one ending are not handed to another; the lookups are counted
// once per call, with the attribute or without.
func TestStmtCacheAttribute(t *testing.T) {
	for _, attr := range []bool{true, false} {
		t.Run(fmt.Sprintf("attribute=%v", attr), func(t *testing.T) { testStmtCacheAttribute(t, attr) })
	}
}

func testStmtCacheAttribute(t *testing.T, attr bool) {
	const q = "SELECT * FROM users WHERE id = $1"
	boom := errors.New("boom")
	tests := []struct {
		name    string
		op      middleware.Op
		use     middleware.StmtCache
		rows    int64 // returned, for a query whose rows come
		rowsErr error // ends reading the rows
		err     error // the call fails: a query's rows never come
		want    map[attribute.Key]any
	}{
		{name: "query hit, one row", op: middleware.OpQuery, use: middleware.StmtCacheHit, rows: 1,
			want: map[attribute.Key]any{"databases.stmt_cache": "hit", "db.response.returned_rows": int64(1), "error.type": nil}},
		{name: "query miss, no row", op: middleware.OpQuery, use: middleware.StmtCacheMiss, rows: 0,
			want: map[attribute.Key]any{"databases.stmt_cache": "miss", "db.response.returned_rows": int64(0)}},
		{name: "query uncached, one row", op: middleware.OpQuery, use: middleware.StmtUncached, rows: 1,
			want: map[attribute.Key]any{"databases.stmt_cache": nil, "db.response.returned_rows": int64(1)}},
		{name: "query hit, three rows", op: middleware.OpQuery, use: middleware.StmtCacheHit, rows: 3,
			want: map[attribute.Key]any{"databases.stmt_cache": "hit", "db.response.returned_rows": int64(3)}},
		{name: "query hit, reading fails", op: middleware.OpQuery, use: middleware.StmtCacheHit, rows: 1, rowsErr: boom,
			want: map[attribute.Key]any{"databases.stmt_cache": "hit", "db.response.returned_rows": int64(1), "error.type": "_OTHER"}},
		{name: "query miss that fails", op: middleware.OpQuery, use: middleware.StmtCacheMiss, err: boom,
			want: map[attribute.Key]any{"databases.stmt_cache": "miss", "db.response.returned_rows": nil, "error.type": "_OTHER"}},
		{name: "exec hit", op: middleware.OpExec, use: middleware.StmtCacheHit,
			want: map[attribute.Key]any{"databases.stmt_cache": "hit", "db.response.returned_rows": nil, "error.type": nil}},
		{name: "exec miss that fails", op: middleware.OpExec, use: middleware.StmtCacheMiss, err: boom,
			want: map[attribute.Key]any{"databases.stmt_cache": "miss", "error.type": "_OTHER"}},
		{name: "exec uncached", op: middleware.OpExec, use: middleware.StmtUncached,
			want: map[attribute.Key]any{"databases.stmt_cache": nil, "db.response.returned_rows": nil}},
	}
	tel := newTelemetry(t, sdktrace.AlwaysSample())
	var opts []Option
	if attr {
		opts = append(opts, WithStmtCacheAttribute())
	}
	mw := New(tel.options(opts...)...)
	lookups := map[string]int64{}
	for _, tt := range tests {
		for range 2 {
			var inner context.Context
			c := &middleware.Call{Op: tt.op, DB: pgDB, NativeQuery: q}
			final := func(ctx context.Context, c *middleware.Call) error {
				inner, c.StmtCache = ctx, tt.use
				return tt.err
			}
			if err := run(mw, context.Background(), c, final); !errors.Is(err, tt.err) {
				t.Fatalf("%s: %v, want %v", tt.name, err, tt.err)
			}
			if tt.op == middleware.OpQuery && tt.err == nil {
				rows := *c
				rows.Op, rows.RowsReturned, rows.RowsErr = middleware.OpRows, tt.rows, tt.rowsErr
				if err := run(mw, inner, &rows, ok); err != nil {
					t.Fatal(err)
				}
			}
			if tt.use != middleware.StmtUncached {
				lookups[tt.use.String()]++
			}
		}
	}
	spans := tel.ended()
	if len(spans) != 2*len(tests) {
		t.Fatalf("%d spans, want %d", len(spans), 2*len(tests))
	}
	for i, s := range spans {
		tt := tests[i/2]
		want := map[attribute.Key]any{
			"db.system.name": "postgresql", "db.namespace": "shop", "server.address": "db.internal", "server.port": int64(5432),
			"db.query.text": q, "db.operation.name": "SELECT", "db.collection.name": "users",
		}
		for k, v := range tt.want {
			want[k] = v
		}
		if !attr {
			want["databases.stmt_cache"] = nil // checkAttrs: absent
		}
		checkAttrs(t, tt.name, s.Attributes(), want)
		if s.Name() != "SELECT users" {
			t.Errorf("%s: span %q, want %q", tt.name, s.Name(), "SELECT users")
		}
	}
	if got := countedLookups(t, tel); len(got) != len(lookups) || got["hit"] != lookups["hit"] || got["miss"] != lookups["miss"] {
		t.Errorf("databases.stmt_cache.lookups = %v, want %v", got, lookups)
	}
}

// countedLookups sums databases.stmt_cache.lookups by its result.
func countedLookups(t *testing.T, tel *telemetry) map[string]int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := tel.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != stmtCacheLookups {
				continue
			}
			for _, p := range m.Data.(metricdata.Sum[int64]).DataPoints {
				v, _ := p.Attributes.Value(stmtCacheKey)
				got[v.AsString()] += p.Value
			}
		}
	}
	return got
}
