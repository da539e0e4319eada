package databases_test

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/go-databases/databases"
	"github.com/go-databases/databases/middleware/logging"
)

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

// TestURLPoolOptionsApplied: the pool options of a URL reach the *sql.DB
// Open returns (max_open_conns shows in its Stats), and a URL without
// them leaves database/sql's defaults.
func TestURLPoolOptionsApplied(t *testing.T) {
	for _, tt := range []struct {
		query   string
		maxOpen int
	}{
		{"", 0},
		{"?max_open_conns=3", 3},
		{"?max_open_conns=1&max_idle_conns=1&conn_max_lifetime=1m&conn_max_idle_time=30s", 1},
	} {
		db, err := databases.Open("sqlite:///:memory:" + tt.query)
		if err != nil {
			t.Fatalf("%s: %v", tt.query, err)
		}
		if got := db.Stats().MaxOpenConnections; got != tt.maxOpen {
			t.Errorf("%q: MaxOpenConnections = %d; want %d", tt.query, got, tt.maxOpen)
		}
		db.Close()
	}
}
