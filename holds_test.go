package databases_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/go-databases/databases"
	"github.com/go-databases/databases/internal/dbtest"
)

// holdLog is a slog.Handler that keeps each record as its level, message
// and attributes, groups flattened to "group.key".
type holdLog struct {
	mu      sync.Mutex
	records []holdRecord
}

type holdRecord struct {
	level slog.Level
	msg   string
	attrs map[string]string
}

func (h *holdLog) Enabled(context.Context, slog.Level) bool { return true }
func (h *holdLog) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *holdLog) WithGroup(string) slog.Handler            { return h }
func (h *holdLog) Handle(_ context.Context, r slog.Record) error {
	rec := holdRecord{level: r.Level, msg: r.Message, attrs: map[string]string{}}
	var add func(prefix string, a slog.Attr)
	add = func(prefix string, a slog.Attr) {
		if a.Value.Kind() == slog.KindGroup {
			for _, g := range a.Value.Group() {
				add(prefix+a.Key+".", g)
			}
			return
		}
		rec.attrs[prefix+a.Key] = a.Value.String()
	}
	r.Attrs(func(a slog.Attr) bool { add("", a); return true })
	h.mu.Lock()
	h.records = append(h.records, rec)
	h.mu.Unlock()
	return nil
}

// matching returns the records at level whose message contains msg.
func (h *holdLog) matching(level slog.Level, msg string) []holdRecord {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []holdRecord
	for _, r := range h.records {
		if r.level == level && strings.Contains(r.msg, msg) {
			out = append(out, r)
		}
	}
	return out
}

// waitFor polls until f holds or d has passed, and reports whether it held.
func waitFor(d time.Duration, f func() bool) bool {
	for end := time.Now().Add(d); ; time.Sleep(20 * time.Millisecond) {
		if f() {
			return true
		}
		if time.Now().After(end) {
			return false
		}
	}
}

// lineAbove is the file:line of the line above its caller's.
func lineAbove() string {
	_, file, line, _ := runtime.Caller(1)
	return fmt.Sprintf("%s:%d", file, line-1)
}

const testLeakThreshold = time.Second

func openLeaky(t *testing.T, url string, opts ...string) (*sql.DB, *holdLog) {
	t.Helper()
	log := &holdLog{}
	for _, o := range append([]string{"leak_threshold=" + testLeakThreshold.String()}, opts...) {
		url = withURLOption(url, o)
	}
	db, err := databases.Open(url, databases.WithLogger(slog.New(log)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, log
}

func withURLOption(url, opt string) string {
	if strings.Contains(url, "?") {
		return url + "&" + opt
	}
	return url + "?" + opt
}

// TestLeakThreshold: on each backend, rows left open and a transaction
// left open are each reported once, within the threshold plus a second,
// naming the line of this file that opened them, the query and the
// connection; rows closed and a transaction ended in time are not
// reported; a leak that ends later is reported at INFO.
func TestLeakThreshold(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		db, log := openLeaky(t, b.URL)
		ctx := context.Background()

		// In time: closed, committed and rolled back before the threshold.
		rows, err := db.QueryContext(ctx, "SELECT 1 AS closed_in_time")
		if err != nil {
			t.Fatal(err)
		}
		rows.Close()
		for _, commit := range []bool{true, false} {
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tx.ExecContext(ctx, "SELECT 2 AS ended_in_time"); err != nil {
				t.Fatal(err)
			}
			if commit {
				err = tx.Commit()
			} else {
				err = tx.Rollback()
			}
			if err != nil {
				t.Fatal(err)
			}
		}

		// Left open.
		start := time.Now()
		leakedRows, err := db.QueryContext(ctx, "SELECT 3 AS left_open")
		rowsAt := lineAbove()
		if err != nil {
			t.Fatal(err)
		}
		leakedTx, err := db.BeginTx(ctx, nil)
		txAt := lineAbove()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := leakedTx.ExecContext(ctx, "SELECT 4 AS in_leaked_tx"); err != nil {
			t.Fatal(err)
		}

		leaks := func() []holdRecord { return log.matching(slog.LevelWarn, "leak") }
		if !waitFor(testLeakThreshold+10*time.Second, func() bool { return len(leaks()) >= 2 }) {
			t.Fatalf("%d leak records in %v; want 2: %+v", len(leaks()), time.Since(start), leaks())
		}
		time.Sleep(testLeakThreshold) // several checks more: no second report
		got := leaks()
		if len(got) != 2 {
			t.Fatalf("%d leak records; want 2, one for the rows, one for the transaction: %+v", len(got), got)
		}
		want := map[string]struct{ msg, at, query string }{
			"rows":        {"databases: leak: rows not closed within leak_threshold 1s", rowsAt, "SELECT ? AS left_open"},
			"transaction": {"databases: leak: transaction not ended within leak_threshold 1s", txAt, "SELECT ? AS in_leaked_tx"},
		}
		for _, r := range got {
			kind := "rows"
			if strings.Contains(r.msg, "transaction") {
				kind = "transaction"
			}
			w := want[kind]
			delete(want, kind)
			if r.msg != w.msg {
				t.Errorf("%s: message %q; want %q", kind, r.msg, w.msg)
			}
			if r.attrs["opened_at"] != w.at {
				t.Errorf("%s: opened_at %q; want %q", kind, r.attrs["opened_at"], w.at)
			}
			if r.attrs["query"] != w.query {
				t.Errorf("%s: query %q; want %q", kind, r.attrs["query"], w.query)
			}
			if !strings.HasSuffix(r.attrs["function"], ".TestLeakThreshold.func1") {
				t.Errorf("%s: function %q; want this test's", kind, r.attrs["function"])
			}
			held, err := time.ParseDuration(r.attrs["held"])
			if err != nil || held < testLeakThreshold || held > testLeakThreshold+time.Second {
				t.Errorf("%s: held %q; want within [%v, %v]", kind, r.attrs["held"], testLeakThreshold, testLeakThreshold+time.Second)
			}
			if r.attrs["conn"] == "" || r.attrs["conn"] == "0" {
				t.Errorf("%s: conn %q; want the connection's number", kind, r.attrs["conn"])
			}
		}
		if len(want) > 0 {
			t.Errorf("no record for %v", want)
		}

		// Ended late: reported at INFO, with how long.
		leakedRows.Close()
		leakedTx.Rollback()
		var ended []holdRecord
		if !waitFor(5*time.Second, func() bool { ended = log.matching(slog.LevelInfo, "leak ended"); return len(ended) == 2 }) {
			t.Fatalf("%d records of leaks ended; want 2: %+v", len(ended), ended)
		}
		for _, r := range ended {
			held, _ := time.ParseDuration(r.attrs["held"])
			if held < testLeakThreshold || (r.attrs["opened_at"] != rowsAt && r.attrs["opened_at"] != txAt) {
				t.Errorf("leak ended: %+v; want held past %v, opened at %s or %s", r, testLeakThreshold, rowsAt, txAt)
			}
		}
	})
}

// TestLeakPoolRanDry: a pool of 2 held by two leaks (rows and a
// transaction) reports both holders, once, when a third caller waits.
func TestLeakPoolRanDry(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		db, log := openLeaky(t, b.URL, "max_open_conns=2")
		ctx := context.Background()
		rows, err := db.QueryContext(ctx, "SELECT 1 AS held_by_rows")
		rowsAt := lineAbove()
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		tx, err := db.BeginTx(ctx, nil)
		txAt := lineAbove()
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		if _, err := tx.ExecContext(ctx, "SELECT 2 AS held_by_tx"); err != nil {
			t.Fatal(err)
		}

		wait, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() {
			var one int
			done <- db.QueryRowContext(wait, "SELECT 3").Scan(&one)
		}()
		dry := func() []holdRecord { return log.matching(slog.LevelWarn, "pool ran dry") }
		ok := waitFor(10*time.Second, func() bool { return len(dry()) > 0 })
		cancel()
		if err := <-done; err == nil {
			t.Errorf("the third caller got a connection of a pool of 2 held by two leaks")
		}
		if !ok {
			t.Fatalf("no record of the pool running dry in 10s; records: %+v", log.records)
		}
		got := dry()
		if len(got) != 1 {
			t.Fatalf("%d records of the pool running dry; want 1: %+v", len(got), got)
		}
		r := got[0]
		if r.attrs["in_use"] != "2" || r.attrs["max_open_conns"] != "2" || r.attrs["wait_count"] == "0" {
			t.Errorf("pool figures %v; want 2 in use of 2 and a wait", r.attrs)
		}
		holders := map[string]map[string]string{} // opened_at → the holder's attributes
		for k, v := range r.attrs {
			conn, key, ok := strings.Cut(k, ".")
			if !ok || !strings.HasPrefix(conn, "conn_") {
				continue
			}
			if holders[conn] == nil {
				holders[conn] = map[string]string{}
			}
			holders[conn][key] = v
		}
		byAt := map[string]map[string]string{}
		for _, h := range holders {
			byAt[h["opened_at"]] = h
		}
		for _, w := range []struct{ at, inTx, query string }{
			{rowsAt, "false", "SELECT ? AS held_by_rows"},
			{txAt, "true", "SELECT ? AS held_by_tx"},
		} {
			h := byAt[w.at]
			if h == nil {
				t.Errorf("no holder opened at %s in %v", w.at, r.attrs)
				continue
			}
			if h["in_tx"] != w.inTx || h["query"] != w.query || h["held"] == "" {
				t.Errorf("holder opened at %s: %v; want in_tx %s, query %q and how long", w.at, h, w.inTx, w.query)
			}
		}
		if len(holders) != 2 {
			t.Errorf("%d holders; want 2: %v", len(holders), r.attrs)
		}
	})
}

// TestInsightsConnections: the insights page's JSON lists each connection
// held by rows or a transaction, with where it was opened, and the pool's
// waits.
func TestInsightsConnections(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		db, _ := openLeaky(t, b.URL, "insights=on")
		ctx := context.Background()
		rows, err := db.QueryContext(ctx, "SELECT 1 AS shown")
		rowsAt := lineAbove()
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		tx, err := db.BeginTx(ctx, nil)
		txAt := lineAbove()
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		if _, err := tx.ExecContext(ctx, "SELECT 2 AS in_tx"); err != nil {
			t.Fatal(err)
		}

		rec := httptest.NewRecorder()
		databases.Insights(db).Handler().ServeHTTP(rec, httptest.NewRequestWithContext(ctx, "GET", "/?format=json", nil))
		var page struct {
			Pool struct {
				InUse       *int `json:"in_use"`
				WaitCount   *int `json:"wait_count"`
				Connections []struct {
					ID       uint64 `json:"id"`
					OpenedAt string `json:"opened_at"`
					InTx     bool   `json:"in_tx"`
					Query    string `json:"query"`
				} `json:"connections"`
			} `json:"pool"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil {
			t.Fatalf("%v: %s", err, rec.Body)
		}
		p := page.Pool
		if p.InUse == nil || *p.InUse != 2 || p.WaitCount == nil {
			t.Errorf("pool figures in_use %v, wait_count %v; want 2 and a count: %s", p.InUse, p.WaitCount, rec.Body)
		}
		if len(p.Connections) != 2 {
			t.Fatalf("%d connections; want 2: %s", len(p.Connections), rec.Body)
		}
		if c := p.Connections[0]; c.OpenedAt != rowsAt || c.InTx || c.Query != "SELECT ? AS shown" {
			t.Errorf("first connection %+v; want the rows opened at %s", c, rowsAt)
		}
		if c := p.Connections[1]; c.OpenedAt != txAt || !c.InTx || c.Query != "SELECT ? AS in_tx" {
			t.Errorf("second connection %+v; want the transaction begun at %s", c, txAt)
		}
		if p.Connections[0].ID == p.Connections[1].ID {
			t.Errorf("both on connection %d", p.Connections[0].ID)
		}

		rows.Close()
		tx.Rollback()
		rec = httptest.NewRecorder()
		databases.Insights(db).Handler().ServeHTTP(rec, httptest.NewRequestWithContext(ctx, "GET", "/", nil))
		if body := rec.Body.String(); !strings.Contains(body, `<table id="connections">`) || strings.Contains(body, "holds_test.go") {
			t.Errorf("page after the holds ended: want an empty Connections table:\n%s", body)
		}
	})
}

// TestLeakThresholdAllocs: with the option off a point SELECT allocates
// what it did without the option (no hold, no call site); with it on, one
// allocation more (the rows' hold, call site inside: capturing it
// allocates nothing).
func TestLeakThresholdAllocs(t *testing.T) {
	allocs := func(url string) float64 {
		db, err := databases.Open(url)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		table := createTable(t, db, "allocs", "id INTEGER PRIMARY KEY, name TEXT")
		if _, err := db.Exec("INSERT INTO " + table + " VALUES (1, 'a')"); err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		query := "SELECT name FROM " + table + " WHERE id = ?"
		var name string
		return testing.AllocsPerRun(200, func() {
			if err := db.QueryRowContext(ctx, query, 1).Scan(&name); err != nil {
				t.Fatal(err)
			}
		})
	}
	url := "sqlite:///" + t.TempDir() + "/allocs.db"
	without, off, on := allocs(url), allocs(url+"?leak_threshold=off"), allocs(url+"?leak_threshold=30s")
	if off != without {
		t.Errorf("point SELECT with leak_threshold=off: %v allocations; want %v, as without the option", off, without)
	}
	if on != without+1 {
		t.Errorf("point SELECT with leak_threshold=30s: %v allocations; want %v, one more than without (%v)", on, without+1, without)
	}
}

// TestLeakTelemetry: with tracing and metrics on, a leak is an event on the
// span of the context the rows were opened with, naming this file and line,
// and a count of databases.leaks; the time the rows held their connection
// is a point of db.client.connection.use_time when they close.
func TestLeakTelemetry(t *testing.T) {
	t.Parallel()
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	log := &holdLog{}
	db, err := databases.Open("sqlite:///:memory:?leak_threshold="+testLeakThreshold.String(),
		databases.WithTracerProvider(tp), databases.WithMeterProvider(mp), databases.WithLogger(slog.New(log)))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	ctx, span := tp.Tracer("test").Start(context.Background(), "request")
	rows, err := db.QueryContext(ctx, "SELECT 1 AS traced")
	at := lineAbove()
	if err != nil {
		t.Fatal(err)
	}
	if !waitFor(testLeakThreshold+10*time.Second, func() bool { return len(log.matching(slog.LevelWarn, "leak")) > 0 }) {
		t.Fatal("no leak reported")
	}
	span.End()
	rows.Close()

	var events []sdktrace.Event
	for _, s := range spans.Ended() {
		if s.Name() == "request" {
			events = s.Events()
		}
	}
	if len(events) != 1 || events[0].Name != databases.EventLeak {
		t.Fatalf("events of the caller's span: %+v; want one %s", events, databases.EventLeak)
	}
	attrs := map[string]string{}
	for _, a := range events[0].Attributes {
		attrs[string(a.Key)] = a.Value.String()
	}
	if got := attrs["code.file.path"] + ":" + attrs["code.line.number"]; got != at {
		t.Errorf("event at %s; want %s (%v)", got, at, attrs)
	}
	if attrs["databases.leak.kind"] != "rows" || attrs["db.query.summary"] != "SELECT ? AS traced" || attrs["db.system.name"] != "sqlite" {
		t.Errorf("event attributes %v", attrs)
	}

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	var leaks int64
	var useTime uint64
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				if m.Name == databases.MetricLeaks {
					for _, p := range d.DataPoints {
						if kind, _ := p.Attributes.Value("databases.leak.kind"); kind.AsString() == "rows" {
							leaks += p.Value
						}
					}
				}
			case metricdata.Histogram[float64]:
				if m.Name == "db.client.connection.use_time" {
					for _, p := range d.DataPoints {
						useTime += p.Count
					}
				}
			}
		}
	}
	if leaks != 1 {
		t.Errorf("%s{kind=rows} = %d; want 1", databases.MetricLeaks, leaks)
	}
	if useTime != 1 {
		t.Errorf("db.client.connection.use_time has %d points; want 1, the rows", useTime)
	}
}

// TestLeakPrepared: rows of a prepared statement left open are reported
// at the line that ran the statement, on each backend.
func TestLeakPrepared(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		db, log := openLeaky(t, b.URL)
		stmt, err := db.Prepare("SELECT 5 AS prepared")
		if err != nil {
			t.Fatal(err)
		}
		defer stmt.Close()
		rows, err := stmt.Query()
		at := lineAbove()
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var got []holdRecord
		if !waitFor(testLeakThreshold+10*time.Second, func() bool { got = log.matching(slog.LevelWarn, "leak"); return len(got) > 0 }) {
			t.Fatal("no leak reported")
		}
		if r := got[0]; r.attrs["opened_at"] != at || r.attrs["query"] != "SELECT ? AS prepared" {
			t.Errorf("leak record %+v; want opened at %s, query SELECT ? AS prepared", r, at)
		}
	})
}
