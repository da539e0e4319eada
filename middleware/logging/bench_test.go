package logging_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/go-databases/databases"
	"github.com/go-databases/databases/middleware"
	"github.com/go-databases/databases/middleware/logging"
)

func benchCall() middleware.Call {
	return middleware.Call{Op: middleware.OpExec, DB: testDB, Query: "UPDATE t SET a = ? WHERE id = ?",
		NativeQuery: "UPDATE t SET a = $1 WHERE id = $2",
		Args:        []driver.NamedValue{{Ordinal: 1, Value: "x"}, {Ordinal: 2, Value: int64(7)}},
		ConnID:      1, Start: time.Now(), RowsAffected: 1}
}

// BenchmarkHandle measures one call through the middleware: at a level the
// logger does not enable (which must not allocate), and written to a text
// handler.
func BenchmarkHandle(b *testing.B) {
	next := func(context.Context, *middleware.Call) error { return nil }
	levels := []struct {
		name   string
		logger *slog.Logger
	}{
		{"disabled", slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))},
		{"enabled", slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelDebug}))},
	}
	for _, l := range levels {
		b.Run(l.name, func(b *testing.B) {
			mw := logging.New(l.logger)
			c := benchCall()
			ctx := b.Context()
			b.ReportAllocs()
			for b.Loop() {
				mw.Handle(ctx, &c, next)
			}
		})
	}
}

// BenchmarkChain compares a chain holding a middleware that only calls next
// with one holding logging at a disabled level: the difference is what
// logging costs beyond the chain itself.
func BenchmarkChain(b *testing.B) {
	final := func(context.Context, *middleware.Call) error { return nil }
	disabled := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelError}))
	chains := []struct {
		name  string
		chain *middleware.Pipeline
	}{
		{"passthrough", middleware.NewPipeline(middleware.Func(func(ctx context.Context, c *middleware.Call, next middleware.Handler) error {
			return next(ctx, c)
		}))},
		{"logging-disabled", middleware.NewPipeline(logging.New(disabled))},
	}
	for _, ch := range chains {
		b.Run(ch.name, func(b *testing.B) {
			c := benchCall()
			ctx := b.Context()
			b.ReportAllocs()
			for b.Loop() {
				ch.chain.Run(ctx, &c, final)
			}
		})
	}
}

// TestChainAllocs checks with the chain itself that logging at a disabled
// level adds no allocation to what a pass-through middleware costs.
func TestChainAllocs(t *testing.T) {
	final := func(context.Context, *middleware.Call) error { return nil }
	pass := middleware.NewPipeline(middleware.Func(func(ctx context.Context, c *middleware.Call, next middleware.Handler) error {
		return next(ctx, c)
	}))
	logged := middleware.NewPipeline(logging.New(slog.New(newCapture(slog.LevelError))))
	c := benchCall()
	ctx := t.Context()
	base := testing.AllocsPerRun(100, func() { pass.Run(ctx, &c, final) })
	got := testing.AllocsPerRun(100, func() { logged.Run(ctx, &c, final) })
	if got > base {
		t.Errorf("chain with logging at a disabled level: %v allocs; a pass-through middleware: %v", got, base)
	}
}

// BenchmarkPointSelect runs a point SELECT on SQLite in memory with no
// middleware, with a middleware that only calls next, and with logging at a
// disabled level.
func BenchmarkPointSelect(b *testing.B) {
	disabled := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelError}))
	setups := []struct {
		name string
		opts []databases.Option
	}{
		{"none", nil},
		{"passthrough", []databases.Option{databases.WithMiddleware(middleware.Func(func(ctx context.Context, c *middleware.Call, next middleware.Handler) error {
			return next(ctx, c)
		}))}},
		{"logging-disabled", []databases.Option{databases.WithMiddleware(logging.New(disabled))}},
	}
	for _, s := range setups {
		b.Run(s.name, func(b *testing.B) {
			c, err := databases.NewConnector("sqlite:///:memory:", s.opts...)
			if err != nil {
				b.Fatal(err)
			}
			db := sql.OpenDB(c)
			defer db.Close()
			if _, err := db.Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO t VALUES (1, 'a')"); err != nil {
				b.Fatal(err)
			}
			var name string
			b.ReportAllocs()
			for b.Loop() {
				if err := db.QueryRow("SELECT name FROM t WHERE id = ?", 1).Scan(&name); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkQueryLiterals measures what masking the literals of a query
// without placeholders adds to writing its record: sanitised (the default)
// against WithQueryLiterals.
func BenchmarkQueryLiterals(b *testing.B) {
	next := func(context.Context, *middleware.Call) error { return nil }
	logger := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelDebug}))
	q := "UPDATE users SET name = 'Ada Lovelace', email = 'ada@example.com', visits = 42 WHERE id = 1042"
	for _, v := range []struct {
		name string
		opts []logging.Option
	}{
		{"sanitised", nil},
		{"as written", []logging.Option{logging.WithQueryLiterals()}},
	} {
		b.Run(v.name, func(b *testing.B) {
			mw := logging.New(logger, v.opts...)
			c := middleware.Call{Op: middleware.OpExec, DB: testDB, Query: q, NativeQuery: q, ConnID: 1, Start: time.Now(), RowsAffected: 1}
			ctx := b.Context()
			b.ReportAllocs()
			for b.Loop() {
				mw.Handle(ctx, &c, next)
			}
		})
	}
}
