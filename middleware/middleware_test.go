package middleware_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/go-databases/databases/middleware"
)

// tagger appends its name to the query on the way in and out.
type tagger string

func (tg tagger) Handle(ctx context.Context, c *middleware.Call, next middleware.Handler) error {
	c.Query += ">" + string(tg)
	err := next(ctx, c)
	c.Query += "<" + string(tg)
	return err
}

func TestPipelineOrder(t *testing.T) {
	p := middleware.NewPipeline(tagger("a"), tagger("b"))
	c := &middleware.Call{Op: middleware.OpExec}
	err := p.Run(context.Background(), c, func(_ context.Context, c *middleware.Call) error {
		c.Query += "|real|"
		return nil
	})
	if err != nil || c.Query != ">a>b|real|<b<a" {
		t.Fatalf("query = %q, %v; want >a>b|real|<b<a", c.Query, err)
	}
}

func TestOnFiltersOperations(t *testing.T) {
	errRejected := errors.New("rejected")
	reject := middleware.On(middleware.OpExec, func(context.Context, *middleware.Call, middleware.Handler) error {
		return errRejected
	}, middleware.OpStmtExec)
	p := middleware.NewPipeline(reject)
	final := func(context.Context, *middleware.Call) error { return nil }
	for op, want := range map[middleware.Op]error{
		middleware.OpExec: errRejected, middleware.OpStmtExec: errRejected,
		middleware.OpQuery: nil, middleware.OpCommit: nil,
	} {
		if err := p.Run(context.Background(), &middleware.Call{Op: op}, final); !errors.Is(err, want) {
			t.Errorf("%s: err = %v; want %v", op, err, want)
		}
	}
}

func TestPipelineRetry(t *testing.T) {
	attempts := 0
	retry := middleware.Func(func(ctx context.Context, c *middleware.Call, next middleware.Handler) error {
		if err := next(ctx, c); err != nil {
			return next(ctx, c)
		}
		return nil
	})
	err := middleware.NewPipeline(retry).Run(context.Background(), &middleware.Call{}, func(context.Context, *middleware.Call) error {
		attempts++
		if attempts == 1 {
			return errors.New("transient")
		}
		return nil
	})
	if err != nil || attempts != 2 {
		t.Fatalf("err = %v after %d attempts; want nil after 2", err, attempts)
	}
}

// TestPipelineAllocatesNothing: running a call through composed middleware
// costs no allocation per middleware.
func TestPipelineAllocatesNothing(t *testing.T) {
	pass := middleware.Func(func(ctx context.Context, c *middleware.Call, next middleware.Handler) error { return next(ctx, c) })
	p := middleware.NewPipeline(pass, pass, pass)
	c := &middleware.Call{}
	final := func(context.Context, *middleware.Call) error { return nil }
	ctx := context.Background()
	if n := testing.AllocsPerRun(100, func() { p.Run(ctx, c, final) }); n != 0 {
		t.Fatalf("%v allocations per call; want 0", n)
	}
}

func TestOpString(t *testing.T) {
	if got := middleware.OpStmtQuery.String(); got != "stmt.query" {
		t.Errorf("OpStmtQuery = %q", got)
	}
	if got := middleware.Op(200).String(); !strings.HasPrefix(got, "op(200") {
		t.Errorf("unknown op = %q", got)
	}
}

// wants is a Selective middleware with a fixed interest per operation that
// counts the calls it is handed.
type wants struct {
	in    map[middleware.Op]middleware.Interest
	calls int
}

func (w *wants) Interest(_ context.Context, op middleware.Op) middleware.Interest {
	if in, ok := w.in[op]; ok {
		return in
	}
	return middleware.None
}

func (w *wants) Handle(ctx context.Context, c *middleware.Call, next middleware.Handler) error {
	w.calls++
	return next(ctx, c)
}

func TestPipelineInterest(t *testing.T) {
	failures := &wants{in: map[middleware.Op]middleware.Interest{middleware.OpExec: middleware.Failures, middleware.OpQuery: middleware.Failures}}
	all := &wants{in: map[middleware.Op]middleware.Interest{middleware.OpQuery: middleware.All}}
	nothing := &wants{}
	plain := middleware.Func(func(ctx context.Context, c *middleware.Call, next middleware.Handler) error { return next(ctx, c) })
	tests := []struct {
		name  string
		chain []middleware.Middleware
		op    middleware.Op
		want  middleware.Interest
	}{
		{"none asked", []middleware.Middleware{nothing}, middleware.OpExec, middleware.None},
		{"failures", []middleware.Middleware{nothing, failures}, middleware.OpExec, middleware.Failures},
		{"strongest wins", []middleware.Middleware{failures, all}, middleware.OpQuery, middleware.All},
		{"weaker for another op", []middleware.Middleware{failures, all}, middleware.OpExec, middleware.Failures},
		{"not selective", []middleware.Middleware{nothing, plain}, middleware.OpCommit, middleware.All},
		{"On, its operation", []middleware.Middleware{middleware.On(middleware.OpExec, plain.Handle)}, middleware.OpExec, middleware.All},
		{"On, another operation", []middleware.Middleware{middleware.On(middleware.OpExec, plain.Handle, middleware.OpCommit)}, middleware.OpQuery, middleware.None},
	}
	for _, tt := range tests {
		if got := middleware.NewPipeline(tt.chain...).Interest(context.Background(), tt.op); got != tt.want {
			t.Errorf("%s: Interest(%s) = %d; want %d", tt.name, tt.op, got, tt.want)
		}
	}
}

// TestObserveFailures: with Failures, the call runs once, before the chain,
// and the chain runs only when it failed; next hands back the failure
// without running the call again.
func TestObserveFailures(t *testing.T) {
	errBoom := errors.New("boom")
	seen := 0
	var seenErr error
	retry := middleware.Func(func(ctx context.Context, c *middleware.Call, next middleware.Handler) error {
		seen++
		next(ctx, c)
		seenErr = next(ctx, c) // a retry gets the same answer
		return seenErr
	})
	p := middleware.NewPipeline(retry)
	for _, tt := range []struct {
		name      string
		err       error
		rowsErr   error
		wantSeen  int
		wantError error
	}{
		{"success", nil, nil, 0, nil},
		{"failure", errBoom, nil, 1, errBoom},
		{"rows failed", nil, errBoom, 1, nil},
	} {
		seen, seenErr = 0, nil
		runs := 0
		c := &middleware.Call{Op: middleware.OpRows, RowsErr: tt.rowsErr}
		err := p.Observe(context.Background(), middleware.Failures, c, func(context.Context, *middleware.Call) error {
			runs++
			return tt.err
		})
		if runs != 1 || seen != tt.wantSeen || err != tt.wantError || seenErr != tt.wantError {
			t.Errorf("%s: call ran %d times, chain %d, err %v (chain saw %v); want 1, %d, %v", tt.name, runs, seen, err, seenErr, tt.wantSeen, tt.wantError)
		}
	}
	// All runs the chain around the call.
	seen = 0
	runs := 0
	p.Observe(context.Background(), middleware.All, &middleware.Call{}, func(context.Context, *middleware.Call) error { runs++; return nil })
	if seen != 1 || runs != 2 {
		t.Errorf("All: chain %d, call ran %d times; want 1, 2 (the middleware calls next twice)", seen, runs)
	}
}

// TestDatabaseSystemName checks the db.system.name of each dialect, and
// "other_sql" for one OpenTelemetry would not know.
func TestDatabaseSystemName(t *testing.T) {
	tests := []struct{ dialect, want string }{
		{"sqlite", "sqlite"},
		{"postgres", "postgresql"},
		{"mysql", "mysql"},
		{"", "other_sql"},
		{"oracle", "other_sql"},
		{"postgresql", "other_sql"}, // a URL scheme, not a dialect name
	}
	for _, tt := range tests {
		if got := (middleware.Database{Dialect: tt.dialect}).SystemName(); got != tt.want {
			t.Errorf("Database{Dialect: %q}.SystemName() = %q; want %q", tt.dialect, got, tt.want)
		}
	}
}
