package tracing

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/go-databases/databases/middleware"
)

var (
	pgDB   = &middleware.Database{Dialect: "postgres", Namespace: "shop", Address: "db.internal", Port: 5432, URL: "postgres://app:***@db.internal:5432/shop"}
	liteDB = &middleware.Database{Dialect: "sqlite", Namespace: "/tmp/app.db", URL: "sqlite:////tmp/app.db"}
)

// ok is the real call of a test: it succeeds.
func ok(context.Context, *middleware.Call) error { return nil }

// fail returns a real call that fails with err.
func fail(err error) middleware.Handler {
	return func(context.Context, *middleware.Call) error { return err }
}

func run(mw middleware.Middleware, ctx context.Context, c *middleware.Call, final middleware.Handler) error {
	return middleware.NewPipeline(mw).Run(ctx, c, final)
}

func TestSpans(t *testing.T) {
	tests := []struct {
		name  string
		call  middleware.Call
		span  string
		attrs map[attribute.Key]any
	}{
		{
			name: "exec",
			call: middleware.Call{Op: middleware.OpExec, DB: pgDB, Query: "INSERT INTO orders (id) VALUES (?)", NativeQuery: "INSERT INTO orders (id) VALUES ($1)"},
			span: "INSERT orders",
			attrs: map[attribute.Key]any{
				"db.system.name": "postgresql", "db.namespace": "shop", "server.address": "db.internal", "server.port": int64(5432),
				"db.query.text": "INSERT INTO orders (id) VALUES ($1)", "db.operation.name": "INSERT", "db.collection.name": "orders",
				"db.query.summary": nil, "error.type": nil, "db.response.status_code": nil,
			},
		},
		{
			name:  "stmt exec",
			call:  middleware.Call{Op: middleware.OpStmtExec, DB: pgDB, NativeQuery: "UPDATE t SET a = $1"},
			span:  "UPDATE t",
			attrs: map[attribute.Key]any{"db.operation.name": "UPDATE", "db.collection.name": "t"},
		},
		{
			name: "sqlite has no server",
			call: middleware.Call{Op: middleware.OpExec, DB: liteDB, NativeQuery: "DELETE FROM t"},
			span: "DELETE t",
			attrs: map[attribute.Key]any{
				"db.system.name": "sqlite", "db.namespace": "/tmp/app.db", "server.address": nil, "server.port": nil,
			},
		},
		{
			name:  "mysql",
			call:  middleware.Call{Op: middleware.OpExec, DB: &middleware.Database{Dialect: "mysql", Namespace: "test", Address: "127.0.0.1", Port: 3306}, NativeQuery: "SET @a = 1"},
			span:  "SET",
			attrs: map[attribute.Key]any{"db.system.name": "mysql", "db.operation.name": "SET", "db.collection.name": nil},
		},
		{
			name:  "no operation falls back to the namespace",
			call:  middleware.Call{Op: middleware.OpExec, DB: pgDB, NativeQuery: "/* nothing */"},
			span:  "shop",
			attrs: map[attribute.Key]any{"db.operation.name": nil, "db.query.text": "/* nothing */"},
		},
		{
			name: "no operation nor namespace falls back to the system",
			call: middleware.Call{Op: middleware.OpExec, DB: &middleware.Database{Dialect: "mysql"}, NativeQuery: ""},
			span: "mysql",
		},
		{
			name:  "prepare",
			call:  middleware.Call{Op: middleware.OpPrepare, DB: pgDB, NativeQuery: "SELECT * FROM users WHERE id = $1"},
			span:  "PREPARE SELECT users",
			attrs: map[attribute.Key]any{"db.operation.name": "PREPARE", "db.collection.name": "users"},
		},
		{
			name:  "begin",
			call:  middleware.Call{Op: middleware.OpBegin, DB: pgDB},
			span:  "BEGIN",
			attrs: map[attribute.Key]any{"db.operation.name": "BEGIN", "db.query.text": nil, "db.system.name": "postgresql"},
		},
		{name: "commit", call: middleware.Call{Op: middleware.OpCommit, DB: pgDB}, span: "COMMIT"},
		{name: "rollback", call: middleware.Call{Op: middleware.OpRollback, DB: pgDB}, span: "ROLLBACK"},
		{name: "ping", call: middleware.Call{Op: middleware.OpPing, DB: pgDB}, span: "PING"},
		{name: "connect", call: middleware.Call{Op: middleware.OpConnect, DB: pgDB}, span: "CONNECT"},
		{
			name:  "no database",
			call:  middleware.Call{Op: middleware.OpExec, NativeQuery: "SELECT 1"},
			span:  "SELECT",
			attrs: map[attribute.Key]any{"db.system.name": "other_sql", "db.namespace": nil},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tel := newTelemetry(t, sdktrace.AlwaysSample())
			c := tt.call
			if err := run(New(tel.options()...), context.Background(), &c, ok); err != nil {
				t.Fatal(err)
			}
			spans := tel.ended()
			if len(spans) != 1 {
				t.Fatalf("%d spans, want 1", len(spans))
			}
			s := spans[0]
			if s.Name() != tt.span {
				t.Errorf("span name %q, want %q", s.Name(), tt.span)
			}
			if s.SpanKind() != trace.SpanKindClient {
				t.Errorf("span kind %v, want client", s.SpanKind())
			}
			if s.Status().Code != codes.Unset {
				t.Errorf("status %v, want unset", s.Status())
			}
			if s.InstrumentationScope().Name != scope {
				t.Errorf("scope %q", s.InstrumentationScope().Name)
			}
			checkAttrs(t, tt.span, s.Attributes(), tt.attrs)
			if points := tel.durations(t); len(points) != 1 || points[0].Count != 1 {
				t.Errorf("duration points %+v, want one with one measurement", points)
			}
		})
	}
}

func TestQuerySpanEndsWithRows(t *testing.T) {
	for _, op := range []middleware.Op{middleware.OpQuery, middleware.OpStmtQuery} {
		t.Run(op.String(), func(t *testing.T) {
			tel := newTelemetry(t, sdktrace.AlwaysSample())
			mw := New(tel.options()...)
			parentCtx, parent := tel.tp.Tracer("test").Start(context.Background(), "caller")

			c := &middleware.Call{Op: op, DB: pgDB, NativeQuery: "SELECT id FROM users", Start: time.Now()}
			var inner context.Context
			err := run(mw, parentCtx, c, func(ctx context.Context, c *middleware.Call) error {
				inner = ctx
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if n := len(tel.ended()); n != 0 {
				t.Fatalf("%d spans ended before the rows were closed", n)
			}
			if got := trace.SpanFromContext(inner).SpanContext(); !got.IsValid() || got.SpanID() == parent.SpanContext().SpanID() {
				t.Fatal("the driver does not see the query's span in its context")
			}

			time.Sleep(2 * time.Millisecond) // reading rows
			rows := *c
			rows.Op = middleware.OpRows
			rows.RowsReturned = 3
			if err := run(mw, inner, &rows, ok); err != nil {
				t.Fatal(err)
			}
			parent.End()

			spans := tel.ended()
			if len(spans) != 2 {
				t.Fatalf("%d spans, want the query's and the caller's", len(spans))
			}
			q := spans[0]
			if q.Name() != "SELECT users" {
				t.Errorf("span name %q", q.Name())
			}
			if q.Parent().SpanID() != parent.SpanContext().SpanID() {
				t.Error("the query span is not a child of the caller's span")
			}
			if d := q.EndTime().Sub(q.StartTime()); d < 2*time.Millisecond {
				t.Errorf("the query span lasted %v: reading the rows is not part of it", d)
			}
			checkAttrs(t, q.Name(), q.Attributes(), map[attribute.Key]any{"db.response.returned_rows": int64(3)})
			if points := tel.durations(t); len(points) != 1 || points[0].Count != 1 || points[0].Sum < 0.002 {
				t.Errorf("duration points %+v, want one measurement of at least 2ms", points)
			}
		})
	}
}

func TestQueryErrorEndsAtQuery(t *testing.T) {
	tel := newTelemetry(t, sdktrace.AlwaysSample())
	err := run(New(tel.options()...), context.Background(),
		&middleware.Call{Op: middleware.OpQuery, DB: pgDB, NativeQuery: "SELECT * FROM missing"},
		fail(&pgconn.PgError{Severity: "ERROR", Code: "42P01", Message: `relation "missing" does not exist`}))
	if err == nil {
		t.Fatal("the error was lost")
	}
	spans := tel.ended()
	if len(spans) != 1 {
		t.Fatalf("%d spans, want 1", len(spans))
	}
	s := spans[0]
	if s.Status().Code != codes.Error || !strings.Contains(s.Status().Description, "does not exist") {
		t.Errorf("status %+v", s.Status())
	}
	checkAttrs(t, s.Name(), s.Attributes(), map[attribute.Key]any{"error.type": "42P01", "db.response.status_code": "42P01"})
	points := tel.durations(t)
	if len(points) != 1 {
		t.Fatalf("%d duration points", len(points))
	}
	if v, _ := points[0].Attributes.Value("error.type"); v.AsString() != "42P01" {
		t.Errorf("measurement error.type %q", v.AsString())
	}
}

func TestRowsError(t *testing.T) {
	tel := newTelemetry(t, sdktrace.AlwaysSample())
	mw := New(tel.options()...)
	c := &middleware.Call{Op: middleware.OpQuery, DB: liteDB, NativeQuery: "SELECT * FROM t"}
	var inner context.Context
	run(mw, context.Background(), c, func(ctx context.Context, _ *middleware.Call) error { inner = ctx; return nil })
	rows := *c
	rows.Op, rows.RowsReturned, rows.RowsErr = middleware.OpRows, 1, context.DeadlineExceeded
	run(mw, inner, &rows, ok)
	s := tel.ended()[0]
	if s.Status().Code != codes.Error {
		t.Errorf("status %+v", s.Status())
	}
	checkAttrs(t, s.Name(), s.Attributes(), map[attribute.Key]any{
		"error.type": "context.DeadlineExceeded", "db.response.status_code": nil, "db.response.returned_rows": int64(1),
	})
}

func TestNotFailures(t *testing.T) {
	for _, err := range []error{sql.ErrNoRows, driver.ErrSkip} {
		t.Run(err.Error(), func(t *testing.T) {
			tel := newTelemetry(t, sdktrace.AlwaysSample())
			got := run(New(tel.options()...), context.Background(), &middleware.Call{Op: middleware.OpExec, DB: pgDB, NativeQuery: "SELECT 1"}, fail(err))
			if got != err {
				t.Fatalf("error %v, want %v returned bare", got, err)
			}
			s := tel.ended()[0]
			if s.Status().Code == codes.Error {
				t.Errorf("status %+v", s.Status())
			}
			checkAttrs(t, s.Name(), s.Attributes(), map[attribute.Key]any{"error.type": nil})
			points := tel.durations(t)
			if skipped := err == driver.ErrSkip; skipped != (len(points) == 0) {
				t.Errorf("%d duration points", len(points))
			}
		})
	}
}

func TestNeverSample(t *testing.T) {
	tel := newTelemetry(t, sdktrace.NeverSample())
	mw := New(tel.options(WithSQLCommenter())...)
	ctx := context.Background()
	q := "SELECT * FROM users WHERE id = $1"
	c := &middleware.Call{Op: middleware.OpQuery, DB: pgDB, NativeQuery: q}
	var inner context.Context
	run(mw, ctx, c, func(ctx context.Context, c *middleware.Call) error {
		if c.NativeQuery != q {
			t.Errorf("the query was changed without a recording span: %q", c.NativeQuery)
		}
		inner = ctx
		return nil
	})
	rows := *c
	rows.Op = middleware.OpRows
	run(mw, inner, &rows, ok)
	run(mw, ctx, &middleware.Call{Op: middleware.OpBegin, DB: pgDB}, ok)

	if n := len(tel.ended()); n != 0 {
		t.Errorf("%d spans recorded", n)
	}
	d := mw.(*tracer).database(pgDB)
	if o := d.operation(mw.(*tracer), c); o.spanAttrs.Load() != nil {
		t.Error("span attributes were built for spans that do not record")
	}
	if n := len(tel.durations(t)); n != 2 {
		t.Errorf("%d duration points, want 2: metrics do not depend on sampling", n)
	}
}

func TestOps(t *testing.T) {
	tel := newTelemetry(t, sdktrace.AlwaysSample())
	mw := New(tel.options(WithOps(middleware.OpBegin, middleware.OpStmtClose, middleware.OpRows))...)
	ctx := context.Background()
	for _, op := range []middleware.Op{middleware.OpExec, middleware.OpBegin, middleware.OpStmtClose, middleware.OpConnClose, middleware.OpResetSession} {
		run(mw, ctx, &middleware.Call{Op: op, DB: pgDB, NativeQuery: "SELECT 1"}, ok)
	}
	// Rows of an untraced query pass through.
	run(mw, ctx, &middleware.Call{Op: middleware.OpRows, DB: pgDB, NativeQuery: "SELECT 1"}, ok)
	var names []string
	for _, s := range tel.ended() {
		names = append(names, s.Name())
	}
	if got := strings.Join(names, ","); got != "BEGIN,DEALLOCATE" {
		t.Errorf("spans %s, want BEGIN,DEALLOCATE", got)
	}
}

// Two tracing middleware in one chain each end their own query span.
func TestTwoTracers(t *testing.T) {
	tel1 := newTelemetry(t, sdktrace.AlwaysSample())
	tel2 := newTelemetry(t, sdktrace.AlwaysSample())
	chain := middleware.NewPipeline(New(tel1.options()...), New(tel2.options()...))
	c := &middleware.Call{Op: middleware.OpQuery, DB: pgDB, NativeQuery: "SELECT 1"}
	var inner context.Context
	chain.Run(context.Background(), c, func(ctx context.Context, _ *middleware.Call) error { inner = ctx; return nil })
	rows := *c
	rows.Op, rows.RowsReturned = middleware.OpRows, 1
	chain.Run(inner, &rows, ok)
	for i, tel := range []*telemetry{tel1, tel2} {
		spans := tel.ended()
		if len(spans) != 1 {
			t.Fatalf("tracer %d ended %d spans", i+1, len(spans))
		}
		checkAttrs(t, spans[0].Name(), spans[0].Attributes(), map[attribute.Key]any{"db.response.returned_rows": int64(1)})
	}
	if tel2.ended()[0].Parent().SpanID() != tel1.ended()[0].SpanContext().SpanID() {
		t.Error("the inner tracer's span is not a child of the outer's")
	}
}

func TestSQLCommenter(t *testing.T) {
	tests := []struct {
		op     middleware.Op
		db     *middleware.Database
		query  string
		want   string // the query sent, with TP for the comment
		commit bool
	}{
		{middleware.OpQuery, pgDB, "SELECT x", "SELECT x TP", true},
		{middleware.OpExec, pgDB, "DELETE FROM t;  \n", "DELETE FROM t TP;", true},
		{middleware.OpPrepare, pgDB, "SELECT x", "SELECT x TP", true},
		{middleware.OpExec, pgDB, "SELECT a # b", "SELECT a # b TP", true},
		// sqlcommenter leaves a query with a comment of its own as it is,
		// and one left open: the comment could close it.
		{middleware.OpPrepare, pgDB, "SELECT x -- one", "SELECT x -- one", false},
		{middleware.OpExec, &middleware.Database{Dialect: "mysql"}, "SELECT x # one", "SELECT x # one", false},
		{middleware.OpExec, &middleware.Database{Dialect: "mysql"}, "SELECT x /* open", "SELECT x /* open", false},
		{middleware.OpQuery, pgDB, "/* app */ SELECT x", "/* app */ SELECT x", false},
		{middleware.OpQuery, pgDB, "SELECT 'open", "SELECT 'open", false},
		{middleware.OpStmtExec, pgDB, "SELECT x", "SELECT x", false},
		{middleware.OpBegin, pgDB, "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.op.String()+" "+tt.query, func(t *testing.T) {
			tel := newTelemetry(t, sdktrace.AlwaysSample())
			c := &middleware.Call{Op: tt.op, DB: tt.db, NativeQuery: tt.query}
			var sent string
			var sc trace.SpanContext
			run(New(tel.options(WithSQLCommenter())...), context.Background(), c, func(ctx context.Context, c *middleware.Call) error {
				sent, sc = c.NativeQuery, trace.SpanContextFromContext(ctx)
				return nil
			})
			want := strings.Replace(tt.want, "TP", fmt.Sprintf("/*traceparent='00-%s-%s-01'*/", sc.TraceID(), sc.SpanID()), 1)
			if sent != want {
				t.Errorf("sent %q, want %q", sent, want)
			}
			if c.NativeQuery != tt.query {
				t.Errorf("NativeQuery is %q after the call, want it restored to %q", c.NativeQuery, tt.query)
			}
			if s := tel.ended(); len(s) == 1 {
				checkAttrs(t, s[0].Name(), s[0].Attributes(), map[attribute.Key]any{"db.query.text": nilIfEmpty(tt.query)})
			}
		})
	}
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func TestCommentTraceState(t *testing.T) {
	ts, err := trace.ParseTraceState("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE")
	if err != nil {
		t.Fatal(err)
	}
	sc := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID:    trace.TraceID{0x0a, 0xf7, 0x65, 0x19, 0x16, 0xcd, 0x43, 0xdd, 0x84, 0x48, 0xeb, 0x21, 0x1c, 0x80, 0x31, 0x9c},
		SpanID:     trace.SpanID{0xb7, 0xad, 0x6b, 0x71, 0x69, 0x20, 0x33, 0x31},
		TraceFlags: trace.FlagsSampled,
		TraceState: ts,
	})
	got := comment("SELECT 1", sc)
	want := "SELECT 1 /*traceparent='00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',tracestate='rojo%3D00f067aa0ba902b7%2Ccongo%3Dt61rcWkgMzE'*/"
	if got != want {
		t.Errorf("comment:\n got %s\nwant %s", got, want)
	}
	if n := testing.AllocsPerRun(100, func() {
		comment("SELECT 1", trace.NewSpanContext(trace.SpanContextConfig{TraceID: sc.TraceID(), SpanID: sc.SpanID()}))
	}); n > 1 {
		t.Errorf("comment allocates %v times, want 1", n)
	}
}

func TestClassify(t *testing.T) {
	type custom struct{ error }
	tests := []struct {
		err       error
		failed    bool
		typ, code string
	}{
		{nil, false, "", ""},
		{sql.ErrNoRows, false, "", ""},
		{fmt.Errorf("scan: %w", sql.ErrNoRows), false, "", ""},
		{driver.ErrSkip, false, "", ""},
		{&pgconn.PgError{Code: "23505"}, true, "23505", "23505"},
		{fmt.Errorf("insert: %w", &pgconn.PgError{Code: "40001"}), true, "40001", "40001"},
		{context.Canceled, true, "context.Canceled", ""},
		{fmt.Errorf("query: %w", context.DeadlineExceeded), true, "context.DeadlineExceeded", ""},
		{driver.ErrBadConn, true, "driver.ErrBadConn", ""},
		{errors.New("boom"), true, "_OTHER", ""},
		{&pgconn.ConnectError{}, true, "*pgconn.ConnectError", ""},
		{custom{errors.New("x")}, true, "github.com/go-databases/databases/middleware/tracing.custom", ""},
	}
	for _, tt := range tests {
		got := classify(tt.err)
		if got != (failure{tt.failed, tt.typ, tt.code}) {
			t.Errorf("classify(%#v) = %+v, want {%v %s %s}", tt.err, got, tt.failed, tt.typ, tt.code)
		}
	}
}

func TestParentIsCaller(t *testing.T) {
	tel := newTelemetry(t, sdktrace.AlwaysSample())
	mw := New(tel.options()...)
	ctx, caller := tel.tp.Tracer("test").Start(context.Background(), "caller")
	for _, op := range []middleware.Op{middleware.OpBegin, middleware.OpExec, middleware.OpCommit} {
		run(mw, ctx, &middleware.Call{Op: op, DB: pgDB, NativeQuery: "UPDATE t SET a = 1"}, ok)
	}
	caller.End()
	for _, s := range tel.ended()[:3] {
		if s.Parent().SpanID() != caller.SpanContext().SpanID() {
			t.Errorf("%s is not a child of the caller's span", s.Name())
		}
	}
}

func TestQueryCacheIsBounded(t *testing.T) {
	tel := newTelemetry(t, sdktrace.NeverSample())
	mw := New(tel.options()...).(*tracer)
	for i := range maxQueries + 10 {
		run(mw, context.Background(), &middleware.Call{Op: middleware.OpExec, DB: pgDB, NativeQuery: fmt.Sprintf("SELECT %d", i)}, ok)
	}
	d := mw.database(pgDB)
	n := 0
	d.queries.all.Range(func(any, any) bool { n++; return true })
	if n > maxQueries {
		t.Errorf("%d cached queries, want at most %d", n, maxQueries)
	}
}

// TestQueryCacheHeapBound runs 1000 distinct long queries through a
// tracer that samples nothing and measures the heap they leave: the cache
// keeps no query longer than maxCachedLen and at most maxCachedBytes of
// query text, and the metric attributes, which the SDK keeps, hold no part
// of a query's memory.
func TestQueryCacheHeapBound(t *testing.T) {
	for _, size := range []int{256 << 10, maxCachedLen - 100} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			tel := newTelemetry(t, sdktrace.NeverSample())
			mw := New(tel.options()...)
			filler := strings.Repeat("x", size)
			heap := func() uint64 {
				runtime.GC()
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				return m.HeapAlloc
			}
			before := heap()
			for i := range 1000 {
				// Each query names a table of its own, so that each gets
				// an attribute set of its own in the metrics SDK.
				q := fmt.Sprintf("SELECT '%s' FROM t%d", filler, i)
				run(mw, context.Background(), &middleware.Call{Op: middleware.OpExec, DB: pgDB, NativeQuery: q}, ok)
			}
			grown := int64(heap()) - int64(before)
			limit := int64(2*maxCachedBytes + 4<<20)
			t.Logf("1000 queries of %d KiB: the heap grew by %.1f MiB", size>>10, float64(grown)/(1<<20))
			if grown > limit {
				t.Errorf("the heap grew by %d bytes, want at most %d", grown, limit)
			}
			runtime.KeepAlive(mw)
		})
	}
}

func TestConcurrent(t *testing.T) {
	tel := newTelemetry(t, sdktrace.TraceIDRatioBased(0.5))
	mw := New(tel.options(WithSQLCommenter())...)
	dbs := []*middleware.Database{pgDB, liteDB}
	done := make(chan struct{})
	for g := range 8 {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range 200 {
				c := &middleware.Call{Op: middleware.OpQuery, DB: dbs[(g+i)%2], NativeQuery: fmt.Sprintf("SELECT * FROM t%d", i%7)}
				var inner context.Context
				run(mw, context.Background(), c, func(ctx context.Context, _ *middleware.Call) error { inner = ctx; return nil })
				c.Op = middleware.OpRows
				run(mw, inner, c, ok)
			}
		}()
	}
	for range 8 {
		<-done
	}
	var n uint64
	for _, p := range tel.durations(t) {
		n += p.Count
	}
	if n != 8*200 {
		t.Errorf("%d measurements, want %d", n, 8*200)
	}
}

func TestDatabasesShareByValue(t *testing.T) {
	tel := newTelemetry(t, sdktrace.NeverSample())
	mw := New(tel.options()...).(*tracer)
	first := mw.database(pgDB)
	again := *pgDB
	if mw.database(&again) != first {
		t.Error("two connectors of one database do not share its description")
	}
	for i := range maxPointers + 10 {
		mw.database(&middleware.Database{Dialect: "sqlite", Namespace: fmt.Sprint(i % 3)})
	}
	n := 0
	mw.byPointer.Range(func(any, any) bool { n++; return true })
	if n > maxPointers {
		t.Errorf("%d databases indexed by pointer, want at most %d", n, maxPointers)
	}
}

// TestReturnedRowsOfOneQuery runs one query again and again with different
// row counts: each span has its own count, whether its attributes were
// built for it (0 and 1 are kept per query) or not.
func TestReturnedRowsOfOneQuery(t *testing.T) {
	tel := newTelemetry(t, sdktrace.AlwaysSample())
	mw := New(tel.options()...)
	counts := []int64{1, 0, 1, 3, 0, 1}
	for _, n := range counts {
		var inner context.Context
		c := &middleware.Call{Op: middleware.OpQuery, DB: pgDB, NativeQuery: "SELECT * FROM users WHERE id = $1"}
		if err := run(mw, context.Background(), c, func(ctx context.Context, _ *middleware.Call) error { inner = ctx; return nil }); err != nil {
			t.Fatal(err)
		}
		rows := *c
		rows.Op, rows.RowsReturned = middleware.OpRows, n
		if err := run(mw, inner, &rows, ok); err != nil {
			t.Fatal(err)
		}
	}
	spans := tel.ended()
	if len(spans) != len(counts) {
		t.Fatalf("%d spans, want %d", len(spans), len(counts))
	}
	for i, s := range spans {
		checkAttrs(t, s.Name(), s.Attributes(), map[attribute.Key]any{
			"db.response.returned_rows": counts[i], "db.query.text": "SELECT * FROM users WHERE id = $1", "db.operation.name": "SELECT",
		})
		if len(s.Attributes()) != 8 { // system, namespace, address, port, query, operation, collection, rows
			t.Errorf("span %d has %d attributes, want 8: %v", i, len(s.Attributes()), s.Attributes())
		}
	}
}

// TestServerOfCall: spans and measurements name the server a call reached
// (Call.ServerAddress), one host of a list, rather than the database's
// first host; a call that names none, and a connect before it knows its
// server, take the database's.
func TestServerOfCall(t *testing.T) {
	tel := newTelemetry(t, sdktrace.AlwaysSample())
	mw := New(tel.options()...)
	ctx := context.Background()
	run(mw, ctx, &middleware.Call{Op: middleware.OpExec, DB: pgDB, NativeQuery: "SELECT 1", ServerAddress: "db2.internal", ServerPort: 5433}, ok)
	run(mw, ctx, &middleware.Call{Op: middleware.OpExec, DB: pgDB, NativeQuery: "SELECT 1"}, ok)
	run(mw, ctx, &middleware.Call{Op: middleware.OpExec, DB: pgDB, NativeQuery: "SELECT 1", ServerAddress: "db3.internal", ServerPort: 5432}, ok)
	run(mw, ctx, &middleware.Call{Op: middleware.OpConnect, DB: pgDB}, func(_ context.Context, c *middleware.Call) error {
		c.ServerAddress, c.ServerPort = "db2.internal", 5433 // learnt as the connection opens
		return nil
	})
	spans := tel.ended()
	want := []struct {
		addr string
		port int64
	}{{"db2.internal", 5433}, {"db.internal", 5432}, {"db3.internal", 5432}, {"db2.internal", 5433}}
	if len(spans) != len(want) {
		t.Fatalf("%d spans, want %d", len(spans), len(want))
	}
	for i, s := range spans {
		checkAttrs(t, s.Name(), s.Attributes(), map[attribute.Key]any{"server.address": want[i].addr, "server.port": want[i].port})
	}
	servers := map[string]bool{}
	for _, p := range tel.durations(t) {
		a, _ := p.Attributes.Value("server.address")
		servers[a.AsString()] = true
	}
	if len(servers) != 3 {
		t.Errorf("durations recorded for servers %v, want the three", servers)
	}
}
