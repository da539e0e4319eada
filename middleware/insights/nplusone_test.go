package insights_test

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/go-databases/databases"
	"github.com/go-databases/databases/middleware/insights"
)

// recorder keeps the log records it is given.
type recorder struct {
	mu      sync.Mutex
	records []slog.Record
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.records = append(r.records, rec)
	return nil
}
func (r *recorder) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *recorder) WithGroup(string) slog.Handler      { return r }

// reports returns the N+1 reports logged: their attributes by key.
func (r *recorder) reports(t *testing.T) []map[string]string {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []map[string]string
	for _, rec := range r.records {
		if rec.Level != slog.LevelWarn || !strings.Contains(rec.Message, "N+1") {
			t.Errorf("unexpected record %v %q", rec.Level, rec.Message)
			continue
		}
		attrs := map[string]string{}
		rec.Attrs(func(a slog.Attr) bool {
			attrs[a.Key] = a.Value.String()
			return true
		})
		out = append(out, attrs)
	}
	return out
}

// TestNPlusOne runs request handlers through ScopeHandler against SQLite:
// only a query run more than the threshold in one request is reported,
// once.
func TestNPlusOne(t *testing.T) {
	tests := []struct {
		name     string
		requests int // run one after the other
		parallel int // run at once
		handler  func(db *sql.DB, r *http.Request) error
		reports  int
		count    string
	}{
		{
			name: "50 identical lookups: one report", requests: 1, reports: 1, count: "11",
			handler: func(db *sql.DB, r *http.Request) error { return lookups(db, r, 50, 1) },
		},
		{
			name: "ten different queries: none", requests: 1,
			handler: func(db *sql.DB, r *http.Request) error { return lookups(db, r, 10, 10) },
		},
		{
			name: "ten different queries ten times each, the threshold: none", requests: 1,
			handler: func(db *sql.DB, r *http.Request) error { return lookups(db, r, 100, 10) },
		},
		{
			name: "six lookups in each of five requests: none, scopes do not leak", requests: 5,
			handler: func(db *sql.DB, r *http.Request) error { return lookups(db, r, 6, 1) },
		},
		{
			name: "six lookups in each of 20 concurrent requests: none", parallel: 20,
			handler: func(db *sql.DB, r *http.Request) error { return lookups(db, r, 6, 1) },
		},
		{
			name: "50 lookups in each of three requests: three reports", requests: 3, reports: 3, count: "11",
			handler: func(db *sql.DB, r *http.Request) error { return lookups(db, r, 50, 1) },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{}
			reader := sdkmetric.NewManualReader()
			ins := insights.New(insights.WithLogger(slog.New(rec)), insights.WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))))
			db := openItems(t, ins)
			srv := httptest.NewServer(insights.ScopeHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if err := tt.handler(db, r); err != nil {
					t.Error(err)
					http.Error(w, err.Error(), 500)
				}
			})))
			defer srv.Close()
			for range tt.requests {
				get(t, srv.URL)
			}
			var wg sync.WaitGroup
			for range tt.parallel {
				wg.Go(func() { get(t, srv.URL) })
			}
			wg.Wait()

			reports := rec.reports(t)
			if len(reports) != tt.reports {
				t.Fatalf("%d reports; want %d: %v", len(reports), tt.reports, reports)
			}
			for _, r := range reports {
				if r["db.query.summary"] != "SELECT name FROM items WHERE id = ?" || r["count"] != tt.count || r["db.query.text"] == "" {
					t.Errorf("report %v; want summary SELECT name FROM items WHERE id = ? and count %s", r, tt.count)
				}
			}
			if got := ins.Stats().NPlusOne; got != uint64(tt.reports) {
				t.Errorf("Stats().NPlusOne = %d; want %d", got, tt.reports)
			}
			if got := counter(t, reader); got != int64(tt.reports) {
				t.Errorf("counter %s = %d; want %d", insights.MetricNPlusOne, got, tt.reports)
			}
		})
	}
}

// lookups runs n lookups by id, cycling through distinct different query
// texts (each selects another column alias).
func lookups(db *sql.DB, r *http.Request, n, distinct int) error {
	var name string
	for i := range n {
		q := "SELECT name FROM items WHERE id = ?"
		if k := i % distinct; k > 0 {
			q = fmt.Sprintf("SELECT name AS n%d FROM items WHERE id = ?", k)
		}
		if err := db.QueryRowContext(r.Context(), q, i%3).Scan(&name); err != nil {
			return err
		}
	}
	return nil
}

func openItems(t *testing.T, ins *insights.Insights, opts ...databases.Option) *sql.DB {
	t.Helper()
	db, err := databases.Open("sqlite:///:memory:", append(opts, databases.WithMiddleware(ins))...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, q := range []string{"CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)", "INSERT INTO items VALUES (0, 'a'), (1, 'b'), (2, 'c')"} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

func get(t *testing.T, url string) {
	resp, err := http.Get(url)
	if err != nil {
		t.Error(err)
		return
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("GET %s: %s", url, resp.Status)
	}
}

// counter returns the value of the N+1 counter.
func counter(t *testing.T, reader *sdkmetric.ManualReader) int64 {
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if s, ok := m.Data.(metricdata.Sum[int64]); ok && m.Name == insights.MetricNPlusOne {
				for _, p := range s.DataPoints {
					n += p.Value
				}
			}
		}
	}
	return n
}

// TestNPlusOneTraceScope: with tracing on and no Scope, a trace is the
// scope; the report carries its trace id and the span gets an event.
func TestNPlusOneTraceScope(t *testing.T) {
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	rec := &recorder{}
	ins := insights.New(insights.WithLogger(slog.New(rec)))
	db := openItems(t, ins, databases.WithTracerProvider(tp))

	var traceIDs []string
	for range 2 { // two traces, two scopes
		ctx, span := tp.Tracer("test").Start(context.Background(), "request")
		traceIDs = append(traceIDs, span.SpanContext().TraceID().String())
		r := httptest.NewRequestWithContext(ctx, "GET", "/", nil)
		if err := lookups(db, r, 30, 1); err != nil {
			t.Fatal(err)
		}
		span.End()
	}
	// Queries outside any span are not counted.
	if err := lookups(db, httptest.NewRequest("GET", "/", nil), 30, 1); err != nil {
		t.Fatal(err)
	}
	reports := rec.reports(t)
	if len(reports) != 2 {
		t.Fatalf("%d reports; want 2: %v", len(reports), reports)
	}
	for i, r := range reports {
		if r["trace_id"] != traceIDs[i] {
			t.Errorf("report %d: trace_id %q; want %q", i, r["trace_id"], traceIDs[i])
		}
	}
	var events int
	for _, s := range spans.Ended() {
		for _, e := range s.Events() {
			if e.Name == insights.EventNPlusOne {
				events++
			}
		}
	}
	if events != 2 {
		t.Errorf("%d span events %s; want 2", events, insights.EventNPlusOne)
	}
}
