package databases

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"github.com/go-databases/databases/internal/dbtest"
	"github.com/go-databases/databases/internal/dsn"
	"github.com/go-databases/databases/middleware"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"log/slog"
	"strings"
	"testing"
)

// withPassword returns b's URL with the password Zx9Qp2: in the user info
// on the servers, in a password option on SQLite, which has no user info.
func withPassword(t *testing.T, b dbtest.Backend) string {
	t.Helper()
	if b.Dialect == "sqlite" {
		return b.URL + "?password=Zx9Qp2"
	}
	i := strings.Index(b.URL, "://") + 3
	at := strings.LastIndexByte(b.URL, '@')
	if at < i {
		t.Fatalf("%s: no user in the URL", dsn.RedactURL(b.URL))
	}
	user, _, _ := strings.Cut(b.URL[i:at], ":")
	return b.URL[:i] + user + ":Zx9Qp2" + b.URL[at:]
}

// TestValuesPrintWithoutSecrets prints every value of the package a user
// can hold that has the URL or the real driver's configuration behind it,
// with every fmt verb and both slog handlers: none shows the password.
// pgx's configuration, which the connector holds, has it in a field.
func TestValuesPrintWithoutSecrets(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		url := withPassword(t, b)
		c, err := NewConnector(url)
		if err != nil {
			t.Fatal(err)
		}
		defer func() {
			if cl, ok := c.(interface{ Close() error }); ok {
				cl.Close()
			}
		}()
		var seen *middleware.Database
		db, err := Open(url, WithMiddleware(middleware.Func(func(ctx context.Context, call *middleware.Call, next middleware.Handler) error {
			seen = call.DB
			return next(ctx, call)
		})))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		ctx := context.Background()
		conn, err := db.Conn(ctx)
		if err == nil {
			defer conn.Close()
		}
		var wrapped any
		if conn != nil {
			conn.Raw(func(dc any) error { wrapped = dc; return nil }) // the package's connection
		}
		values := map[string]any{
			"connector":        c,
			"connector.Driver": c.Driver(),
			"Driver":           &Driver{opts: []Option{WithNativePlaceholders()}},
			"sql.DB":           db,
			"sql.DB.Driver":    db.Driver(),
			"middleware.DB":    seen,
			"conn":             wrapped,
		}
		// The connector formats as its masked URL.
		if got, want := fmt.Sprint(c), "databases.Connector("+dsn.RedactURL(url)+")"; got != want {
			t.Errorf("connector prints %q; want %q", got, want)
		}
		for name, v := range values {
			var text, js bytes.Buffer
			slog.New(slog.NewTextHandler(&text, nil)).Info("v", "v", v)
			slog.New(slog.NewJSONHandler(&js, nil)).Info("v", "v", v)
			for _, out := range []string{
				fmt.Sprintf("%v", v), fmt.Sprintf("%+v", v), fmt.Sprintf("%#v", v),
				fmt.Sprintf("%s", v), fmt.Sprintf("%q", v), text.String(), js.String(),
			} {
				if strings.Contains(out, "Zx9Qp2") {
					t.Errorf("%s prints the password: %s", name, out)
				}
			}
		}
		var _ driver.Connector = c
		_ = sql.ErrNoRows
	})
}

// TestURLSanitizeOption runs a query with a literal through the built-in
// logging and tracing: its text shows '?' for the literal, and the literal
// with sanitize=off.
func TestURLSanitizeOption(t *testing.T) {
	for _, tt := range []struct {
		query string
		want  string
	}{
		{"", "SELECT ? AS secret"},
		{"?sanitize=on", "SELECT ? AS secret"},
		{"?sanitize=off", "SELECT 'hunter2' AS secret"},
	} {
		var logs bytes.Buffer
		spans := tracetest.NewSpanRecorder()
		tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
		db, err := Open("sqlite:///:memory:"+tt.query,
			WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
			WithTracerProvider(tp))
		if err != nil {
			t.Fatal(err)
		}
		var s string
		if err := db.QueryRow("SELECT 'hunter2' AS secret").Scan(&s); err != nil {
			t.Fatal(err)
		}
		db.Close()
		if !strings.Contains(logs.String(), fmt.Sprintf("db.query.text=%q", tt.want)) {
			t.Errorf("%s: the log has no db.query.text=%q:\n%s", tt.query, tt.want, logs.String())
		}
		found := false
		for _, span := range spans.Ended() {
			for _, kv := range span.Attributes() {
				found = found || kv.Key == "db.query.text" && kv.Value.AsString() == tt.want
			}
		}
		if !found {
			t.Errorf("%s: no span with db.query.text %q", tt.query, tt.want)
		}
	}
	if _, err := Open("sqlite:///:memory:?sanitize=maybe"); err == nil || !strings.Contains(err.Error(), `option sanitize: "maybe" is not a boolean`) {
		t.Errorf("sanitize=maybe: %v", err)
	}
}
