package databases_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/go-databases/databases"
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
