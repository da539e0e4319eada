package tracing_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/go-databases/databases"
	"github.com/go-databases/databases/internal/dbtest"
	"github.com/go-databases/databases/middleware"
	"github.com/go-databases/databases/middleware/tracing"
)

// backend is one database opened through the databases driver with the
// tracing middleware, and the telemetry it records.
type backend struct {
	dbtest.Backend
	db     *sql.DB
	tp     *sdktrace.TracerProvider
	spans  *tracetest.SpanRecorder
	reader *sdkmetric.ManualReader
	// sent are the queries the real driver received, in order.
	sent []string
}

func open(t *testing.T, b dbtest.Backend, sampler sdktrace.Sampler, opts ...tracing.Option) *backend {
	t.Helper()
	be := &backend{Backend: b, spans: tracetest.NewSpanRecorder(), reader: sdkmetric.NewManualReader()}
	be.tp = sdktrace.NewTracerProvider(sdktrace.WithSampler(sampler), sdktrace.WithSpanProcessor(be.spans))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(be.reader))
	opts = append([]tracing.Option{tracing.WithTracerProvider(be.tp), tracing.WithMeterProvider(mp)}, opts...)
	// Inside the tracing middleware: what the real driver receives.
	record := middleware.On(middleware.OpQuery, func(ctx context.Context, c *middleware.Call, next middleware.Handler) error {
		be.sent = append(be.sent, c.NativeQuery)
		return next(ctx, c)
	}, middleware.OpExec, middleware.OpPrepare)
	c, err := databases.NewConnector(b.URL, databases.WithMiddleware(tracing.New(opts...), record))
	if err != nil {
		t.Fatal(err)
	}
	be.db = sql.OpenDB(c)
	be.db.SetMaxOpenConns(1) // one connection: the server sees one session
	t.Cleanup(func() {
		be.db.Close()
		be.tp.Shutdown(context.Background())
		mp.Shutdown(context.Background())
	})
	return be
}

// table creates a table of three rows and drops it when the test ends.
func (be *backend) table(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	name := dbtest.Name("tracing")
	if _, err := be.db.ExecContext(ctx, "CREATE TABLE "+name+" (id INTEGER PRIMARY KEY, name VARCHAR(20))"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { be.db.ExecContext(context.Background(), "DROP TABLE "+name) })
	for i, n := range []string{"ann", "bob", "cy"} {
		if _, err := be.db.ExecContext(ctx, "INSERT INTO "+name+" (id, name) VALUES (?, ?)", i+1, n); err != nil {
			t.Fatal(err)
		}
	}
	return name
}

// span returns the last ended span named name.
func (be *backend) span(t *testing.T, name string) sdktrace.ReadOnlySpan {
	t.Helper()
	spans := be.spans.Ended()
	for i := len(spans) - 1; i >= 0; i-- {
		if spans[i].Name() == name {
			return spans[i]
		}
	}
	var names []string
	for _, s := range spans {
		names = append(names, s.Name())
	}
	t.Fatalf("no span %q among %q", name, names)
	return nil
}

// want is what every span of the backend carries.
func (be *backend) want(t *testing.T) map[attribute.Key]any {
	u, err := url.Parse(be.URL)
	if err != nil {
		t.Fatal(err)
	}
	w := map[attribute.Key]any{
		"db.system.name": map[string]string{"sqlite": "sqlite", "postgres": "postgresql", "mysql": "mysql"}[be.Dialect],
		"db.namespace":   strings.TrimPrefix(u.Path, "/"),
		"server.address": nil,
		"server.port":    nil,
	}
	if be.Dialect != "sqlite" {
		port, _ := strconv.Atoi(u.Port())
		w["server.address"], w["server.port"] = u.Hostname(), int64(port)
	}
	return w
}

func check(t *testing.T, s sdktrace.ReadOnlySpan, want ...map[attribute.Key]any) {
	t.Helper()
	got := map[attribute.Key]attribute.Value{}
	for _, kv := range s.Attributes() {
		got[kv.Key] = kv.Value
	}
	for _, w := range want {
		for k, v := range w {
			g, ok := got[k]
			switch {
			case v == nil && ok:
				t.Errorf("%s: %s = %v, want none", s.Name(), k, g.String())
			case v != nil && !ok:
				t.Errorf("%s: no %s, want %v", s.Name(), k, v)
			case v != nil && g.AsInterface() != v:
				t.Errorf("%s: %s = %#v, want %#v", s.Name(), k, g.AsInterface(), v)
			}
		}
	}
}

func TestDriverQuery(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		be := open(t, b, sdktrace.AlwaysSample())
		table := be.table(t)
		ctx, caller := be.tp.Tracer("test").Start(context.Background(), "caller")
		rows, err := be.db.QueryContext(ctx, "SELECT id, name FROM "+table+" WHERE id > ? ORDER BY id", 0)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for rows.Next() {
			n++
		}
		if err := rows.Close(); err != nil || n != 3 {
			t.Fatalf("read %d rows: %v", n, err)
		}
		caller.End()

		s := be.span(t, "SELECT "+table)
		if s.SpanKind() != trace.SpanKindClient {
			t.Errorf("kind %v", s.SpanKind())
		}
		if s.Parent().SpanID() != caller.SpanContext().SpanID() {
			t.Error("the query span is not a child of the caller's span")
		}
		if s.Status().Code != codes.Unset {
			t.Errorf("status %+v", s.Status())
		}
		native := "SELECT id, name FROM " + table + " WHERE id > ? ORDER BY id"
		if b.Dialect == "postgres" {
			native = strings.Replace(native, "?", "$1", 1)
		}
		check(t, s, be.want(t), map[attribute.Key]any{
			"db.query.text":             native,
			"db.operation.name":         "SELECT",
			"db.collection.name":        table,
			"db.response.returned_rows": int64(3),
		})
		check(t, be.span(t, "INSERT "+table), be.want(t))
		check(t, be.span(t, "CREATE "+table), be.want(t))
	})
}

func TestDriverTransaction(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		be := open(t, b, sdktrace.AlwaysSample())
		table := be.table(t)
		for _, end := range []string{"COMMIT", "ROLLBACK"} {
			ctx, caller := be.tp.Tracer("test").Start(context.Background(), "transfer")
			tx, err := be.db.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tx.ExecContext(ctx, "UPDATE "+table+" SET name = 'x' WHERE id = 1"); err != nil {
				t.Fatal(err)
			}
			if end == "COMMIT" {
				err = tx.Commit()
			} else {
				err = tx.Rollback()
			}
			if err != nil {
				t.Fatal(err)
			}
			caller.End()
			for _, name := range []string{"BEGIN", "UPDATE " + table, end} {
				s := be.span(t, name)
				if s.Parent().SpanID() != caller.SpanContext().SpanID() {
					t.Errorf("%s: %s is not a child of the span around BeginTx", end, name)
				}
				check(t, s, be.want(t))
			}
		}
	})
}

func TestDriverError(t *testing.T) {
	status := map[string]string{"sqlite": "1", "postgres": "42P01", "mysql": "1146"}
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		be := open(t, b, sdktrace.AlwaysSample())
		missing := dbtest.Name("missing")
		if _, err := be.db.QueryContext(context.Background(), "SELECT * FROM "+missing); err == nil {
			t.Fatal("a query of a missing table worked")
		}
		s := be.span(t, "SELECT "+missing)
		if s.Status().Code != codes.Error || s.Status().Description == "" {
			t.Errorf("status %+v, want an error", s.Status())
		}
		check(t, s, be.want(t), map[attribute.Key]any{
			"db.response.status_code":   status[b.Dialect],
			"error.type":                status[b.Dialect],
			"db.response.returned_rows": nil,
		})

		// sql.ErrNoRows is an answer, not a failure.
		table := be.table(t)
		var name string
		if err := be.db.QueryRowContext(context.Background(), "SELECT name FROM "+table+" WHERE id = 42").Scan(&name); err != sql.ErrNoRows {
			t.Fatalf("got %v, want sql.ErrNoRows", err)
		}
		s = be.span(t, "SELECT "+table)
		if s.Status().Code != codes.Unset {
			t.Errorf("no rows: status %+v", s.Status())
		}
		check(t, s, map[attribute.Key]any{"db.response.returned_rows": int64(0), "error.type": nil})
	})
}

func TestDriverMetrics(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		be := open(t, b, sdktrace.AlwaysSample())
		table := be.table(t)
		be.db.QueryContext(context.Background(), "SELECT * FROM "+dbtest.Name("missing"))
		var rm metricdata.ResourceMetrics
		if err := be.reader.Collect(context.Background(), &rm); err != nil {
			t.Fatal(err)
		}
		var points []metricdata.HistogramDataPoint[float64]
		for _, sm := range rm.ScopeMetrics {
			for _, m := range sm.Metrics {
				if m.Name == "db.client.operation.duration" {
					points = append(points, m.Data.(metricdata.Histogram[float64]).DataPoints...)
				}
			}
		}
		var inserts, failures uint64
		for _, p := range points {
			if want := []float64{0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10}; fmt.Sprint(p.Bounds) != fmt.Sprint(want) {
				t.Errorf("bounds %v, want %v", p.Bounds, want)
			}
			if v, _ := p.Attributes.Value("db.system.name"); v.AsString() != be.want(t)["db.system.name"] {
				t.Errorf("db.system.name %q", v.AsString())
			}
			op, _ := p.Attributes.Value("db.operation.name")
			coll, _ := p.Attributes.Value("db.collection.name")
			if op.AsString() == "INSERT" && coll.AsString() == table {
				inserts += p.Count
			}
			// The failed SELECT; on SQLite its statement's prepare, the
			// statement cache's miss, fails first, as a call of its own.
			if _, ok := p.Attributes.Value("error.type"); ok && op.AsString() == "SELECT" {
				failures += p.Count
			}
		}
		if inserts != 3 || failures != 1 {
			t.Errorf("%d inserts and %d failures measured, want 3 and 1", inserts, failures)
		}
	})
}

func TestDriverNeverSample(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		be := open(t, b, sdktrace.NeverSample(), tracing.WithSQLCommenter())
		table := be.table(t)
		ctx, caller := be.tp.Tracer("test").Start(context.Background(), "caller")
		var n int
		if err := be.db.QueryRowContext(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil || n != 3 {
			t.Fatalf("count %d: %v", n, err)
		}
		caller.End()
		if got := len(be.spans.Ended()); got != 0 {
			t.Errorf("%d spans recorded with a sampler that never samples", got)
		}
		for _, q := range be.sent {
			if strings.Contains(q, "traceparent") {
				t.Errorf("a comment was added without a recording span: %q", q)
			}
		}
	})
}

func TestDriverSQLCommenter(t *testing.T) {
	// The statement that reads back the text of the statement running it.
	self := map[string]struct{ query, span string }{
		"postgres": {"SELECT query FROM pg_stat_activity WHERE pid = pg_backend_pid()", "SELECT pg_stat_activity"},
		"mysql":    {"SELECT info FROM information_schema.processlist WHERE id = connection_id()", "SELECT information_schema.processlist"},
		"sqlite":   {"SELECT sqlite_version()", "SELECT"},
	}
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		be := open(t, b, sdktrace.AlwaysSample(), tracing.WithSQLCommenter())
		query := self[b.Dialect].query
		var got string
		if err := be.db.QueryRowContext(context.Background(), query).Scan(&got); err != nil {
			t.Fatal(err)
		}
		s := be.span(t, self[b.Dialect].span)
		comment := fmt.Sprintf("/*traceparent='00-%s-%s-01'*/", s.SpanContext().TraceID(), s.SpanContext().SpanID())
		if want := query + " " + comment; be.sent[len(be.sent)-1] != want {
			t.Errorf("the driver received %q, want %q", be.sent[len(be.sent)-1], want)
		}
		if b.Dialect != "sqlite" && !strings.Contains(got, comment) {
			t.Errorf("the server received %q, want it to carry %s", got, comment)
		}
		check(t, s, map[attribute.Key]any{"db.query.text": query})
	})
}

func TestDriverPrepared(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		be := open(t, b, sdktrace.AlwaysSample())
		table := be.table(t)
		ctx, caller := be.tp.Tracer("test").Start(context.Background(), "caller")
		stmt, err := be.db.PrepareContext(ctx, "SELECT name FROM "+table+" WHERE id = ?")
		if err != nil {
			t.Fatal(err)
		}
		var name string
		if err := stmt.QueryRowContext(ctx, 2).Scan(&name); err != nil || name != "bob" {
			t.Fatalf("got %q: %v", name, err)
		}
		stmt.Close()
		caller.End()
		for _, n := range []string{"PREPARE SELECT " + table, "SELECT " + table} {
			s := be.span(t, n)
			if s.Parent().SpanID() != caller.SpanContext().SpanID() {
				t.Errorf("%s is not a child of the caller's span", n)
			}
			check(t, s, be.want(t), map[attribute.Key]any{"db.collection.name": table})
		}
		check(t, be.span(t, "SELECT "+table), map[attribute.Key]any{"db.operation.name": "SELECT", "db.response.returned_rows": int64(1)})
		check(t, be.span(t, "PREPARE SELECT "+table), map[attribute.Key]any{"db.operation.name": "PREPARE"})
	})
}
