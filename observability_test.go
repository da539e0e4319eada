package databases_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/go-databases/databases"
	"github.com/go-databases/databases/middleware/logging"
)

// capture is a slog.Handler that keeps records, and whether their context
// carried a span.
type capture struct {
	mu      sync.Mutex
	records []string
}

func (c *capture) Enabled(context.Context, slog.Level) bool { return true }
func (c *capture) WithAttrs([]slog.Attr) slog.Handler       { return c }
func (c *capture) WithGroup(string) slog.Handler            { return c }
func (c *capture) Handle(ctx context.Context, r slog.Record) error {
	line := r.Level.String() + " " + r.Message
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "db.query.text" {
			line += " " + a.Value.String()
		}
		return true
	})
	if trace.SpanContextFromContext(ctx).IsValid() {
		line += " [span]"
	}
	c.mu.Lock()
	c.records = append(c.records, line)
	c.mu.Unlock()
	return nil
}

func (c *capture) text() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.records, "\n")
}

// TestURLLogOption: log=LEVEL logs to slog.Default() from that level, even
// when the default handler is set higher; slow alone logs slow calls at warn.
func TestURLLogOption(t *testing.T) {
	prev := slog.Default()
	defer slog.SetDefault(prev)
	tests := []struct {
		query      string
		want, deny []string
	}{
		{"log=debug", []string{"INFO db exec CREATE TABLE t (x INTEGER)", "INFO db connect"}, nil},
		{"log=info", []string{"INFO db connect"}, []string{"DEBUG"}},
		{"log=off", nil, []string{"db "}},
		{"slow=1ns", []string{"WARN db exec CREATE TABLE t (x INTEGER)"}, []string{"DEBUG", "INFO"}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			c := &capture{}
			slog.SetDefault(slog.New(c))
			db, err := databases.Open("sqlite:///:memory:?" + tt.query)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec("CREATE TABLE t (x INTEGER)"); err != nil {
				t.Fatal(err)
			}
			db.Close()
			got := c.text()
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("records lack %q:\n%s", w, got)
				}
			}
			for _, d := range tt.deny {
				if strings.Contains(got, d) {
					t.Errorf("records have %q:\n%s", d, got)
				}
			}
		})
	}
}

// TestURLSlowWithLogger: the URL's slow threshold applies to the logger
// given in code, and overrides a threshold given there too; without slow
// the code's options alone count.
func TestURLSlowWithLogger(t *testing.T) {
	tests := []struct {
		name  string
		query string
		opts  []logging.Option
		want  string
	}{
		{"no threshold", "", nil, "INFO db exec CREATE TABLE t (x INTEGER)"},
		{"URL threshold", "?slow=1ns", nil, "WARN db exec CREATE TABLE t (x INTEGER)"},
		{"code threshold", "", []logging.Option{logging.WithSlowThreshold(time.Nanosecond)}, "WARN db exec CREATE TABLE t (x INTEGER)"},
		{"URL overrides code", "?slow=1h", []logging.Option{logging.WithSlowThreshold(time.Nanosecond)}, "INFO db exec CREATE TABLE t (x INTEGER)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &capture{}
			db, err := databases.Open("sqlite:///:memory:"+tt.query, databases.WithLogger(slog.New(c), tt.opts...))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if _, err := db.Exec("CREATE TABLE t (x INTEGER)"); err != nil {
				t.Fatal(err)
			}
			if got := c.text(); !strings.Contains(got, tt.want) {
				t.Errorf("records lack %q:\n%s", tt.want, got)
			}
		})
	}
}

// TestURLTraceOption: trace=on traces with the global tracer provider, and
// log records made inside a span carry it in their context.
func TestURLTraceOption(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	prevTP := otel.GetTracerProvider()
	otel.SetTracerProvider(tp)
	defer otel.SetTracerProvider(prevTP)
	prevLog := slog.Default()
	defer slog.SetDefault(prevLog)
	c := &capture{}
	slog.SetDefault(slog.New(c))

	db, err := databases.Open("sqlite:///:memory:?trace=on&log=debug")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("CREATE TABLE users (id INTEGER)"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM users").Scan(&n); err != nil {
		t.Fatal(err)
	}
	db.Close()
	var names []string
	for _, s := range rec.Ended() {
		names = append(names, s.Name())
	}
	if got := strings.Join(names, ","); !strings.Contains(got, "CREATE users") || !strings.Contains(got, "SELECT users") {
		t.Fatalf("spans = %s", got)
	}
	if !strings.Contains(c.text(), "INFO db query SELECT COUNT(*) FROM users [span]") {
		t.Fatalf("query record without its span:\n%s", c.text())
	}
}

// TestPoolMetrics: Open with a meter provider reports the pool, under the
// semantic-convention names by default and otelsql's on request, and
// stops when the DB closes.
func TestPoolMetrics(t *testing.T) {
	tests := []struct {
		name   string
		opts   []databases.Option
		metric string            // a metric to find, with the value 4
		attrs  map[string]string // attributes it must carry
		absent string            // a metric that must not be there
	}{
		{
			name:   "semconv by default",
			metric: "db.client.connection.max",
			attrs:  map[string]string{"db.client.connection.pool.name": ":memory:", "db.system.name": "sqlite"},
			absent: "db.sql.connection.max_open",
		},
		{
			name:   "semconv pool name",
			opts:   []databases.Option{databases.WithPoolName("primary")},
			metric: "db.client.connection.idle.max",
			attrs:  map[string]string{"db.client.connection.pool.name": "primary"},
		},
		{
			name:   "otelsql",
			opts:   []databases.Option{databases.WithPoolMetricNames(databases.PoolMetricsOtelsql)},
			metric: "db.sql.connection.max_open",
			attrs:  map[string]string{"db.system.name": "sqlite"},
			absent: "db.client.connection.max",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reader := sdkmetric.NewManualReader()
			mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
			db, err := databases.Open("sqlite:///:memory:?max_open_conns=4&max_idle_conns=4", append(tt.opts, databases.WithMeterProvider(mp))...)
			if err != nil {
				t.Fatal(err)
			}
			if err := db.Ping(); err != nil {
				t.Fatal(err)
			}
			type point struct {
				value int64
				attrs attribute.Set
			}
			metrics := func() map[string][]point {
				var rm metricdata.ResourceMetrics
				if err := reader.Collect(context.Background(), &rm); err != nil {
					t.Fatal(err)
				}
				out := map[string][]point{}
				for _, sm := range rm.ScopeMetrics {
					for _, m := range sm.Metrics {
						switch d := m.Data.(type) {
						case metricdata.Gauge[int64]:
							for _, p := range d.DataPoints {
								out[m.Name] = append(out[m.Name], point{p.Value, p.Attributes})
							}
						case metricdata.Sum[int64]:
							for _, p := range d.DataPoints {
								out[m.Name] = append(out[m.Name], point{p.Value, p.Attributes})
							}
						}
					}
				}
				return out
			}
			got := metrics()
			if _, ok := got[tt.absent]; ok {
				t.Errorf("%s reported: %v", tt.absent, got)
			}
			points := got[tt.metric]
			if len(points) != 1 || points[0].value != 4 {
				t.Fatalf("%s = %v; want one point of 4 (metrics %v)", tt.metric, points, got)
			}
			for k, v := range tt.attrs {
				if a, ok := points[0].attrs.Value(attribute.Key(k)); !ok || a.AsString() != v {
					t.Errorf("%s: attribute %s = %q; want %q", tt.metric, k, a.AsString(), v)
				}
			}
			if count := got["db.client.connection.count"]; tt.metric == "db.client.connection.max" && len(count) != 2 {
				t.Errorf("db.client.connection.count = %v; want a point per state, idle and used", count)
			}
			db.Close()
			if got := metrics(); len(got) > 0 {
				t.Fatalf("pool metrics still reported after Close: %v", got)
			}
		})
	}
}

// TestTxSpansNestUnderBeginTx: statements of a transaction sent without a
// context (tx.Exec, tx.Query, a statement prepared on the transaction) make
// spans in the trace of the span current at BeginTx, children of it, as
// Commit's does.
func TestTxSpansNestUnderBeginTx(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	db, err := databases.Open("sqlite:///:memory:", databases.WithTracerProvider(tp))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("CREATE TABLE t (id INTEGER)"); err != nil {
		t.Fatal(err)
	}
	ctx, parent := tp.Tracer("test").Start(context.Background(), "request")
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec("INSERT INTO t (id) VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := tx.QueryRow("SELECT COUNT(*) FROM t").Scan(&n); err != nil {
		t.Fatal(err)
	}
	st, err := tx.Prepare("UPDATE t SET id = 2")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Exec(); err != nil {
		t.Fatal(err)
	}
	st.Close()
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	parent.End()
	want := parent.SpanContext()
	seen := map[string]bool{}
	for _, s := range rec.Ended() {
		switch s.Name() {
		case "INSERT t", "SELECT t", "UPDATE t", "COMMIT":
			seen[s.Name()] = true
			if s.SpanContext().TraceID() != want.TraceID() || s.Parent().SpanID() != want.SpanID() {
				t.Errorf("span %q: trace %s parent %s; want trace %s parent %s", s.Name(),
					s.SpanContext().TraceID(), s.Parent().SpanID(), want.TraceID(), want.SpanID())
			}
		}
	}
	for _, name := range []string{"INSERT t", "SELECT t", "UPDATE t"} {
		if !seen[name] {
			var names []string
			for _, s := range rec.Ended() {
				names = append(names, s.Name())
			}
			t.Errorf("no span %q among %q", name, names)
		}
	}
}
