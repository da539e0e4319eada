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
