package logging_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/go-databases/databases/middleware"
	"github.com/go-databases/databases/middleware/logging"
	"github.com/go-databases/databases/middleware/tracing"
)

var testDB = &middleware.Database{Dialect: "postgres", Namespace: "shop", Address: "db.internal", Port: 5432,
	URL: "postgres://app:***@db.internal:5432/shop"}

// run sends one call through a chain holding only mw, with a final handler
// that returns err.
func run(mw middleware.Middleware, ctx context.Context, c *middleware.Call, err error) error {
	return middleware.NewPipeline(mw).Run(ctx, c, func(context.Context, *middleware.Call) error { return err })
}

func TestLevels(t *testing.T) {
	boom := errors.New("boom")
	slowStart := time.Now().Add(-time.Hour)
	tests := []struct {
		name    string
		opts    []logging.Option
		call    middleware.Call
		err     error
		want    slog.Level
		msg     string
		none    bool // no record at all
		wantErr error
	}{
		{name: "exec", call: middleware.Call{Op: middleware.OpExec, Query: "DELETE FROM t"}, want: slog.LevelInfo, msg: "db exec"},
		{name: "exec failed", call: middleware.Call{Op: middleware.OpExec, Query: "DELETE FROM t"}, err: boom, want: slog.LevelError, msg: "db exec", wantErr: boom},
		{name: "no rows is not a failure", call: middleware.Call{Op: middleware.OpExec}, err: sql.ErrNoRows, want: slog.LevelInfo, msg: "db exec", wantErr: sql.ErrNoRows},
		{name: "skip is not logged", call: middleware.Call{Op: middleware.OpExec, Query: "INSERT"}, err: driver.ErrSkip, none: true},
		{name: "skipped query is not logged", call: middleware.Call{Op: middleware.OpQuery, Query: "SELECT"}, err: driver.ErrSkip, none: true},
		{name: "query waits for its rows", call: middleware.Call{Op: middleware.OpQuery, Query: "SELECT 1"}, none: true},
		{name: "stmt query waits for its rows", call: middleware.Call{Op: middleware.OpStmtQuery, Query: "SELECT 1"}, none: true},
		{name: "query failed when sent", call: middleware.Call{Op: middleware.OpQuery, Query: "SELECT"}, err: boom, want: slog.LevelError, msg: "db query", wantErr: boom},
		{name: "stmt query failed when sent", call: middleware.Call{Op: middleware.OpStmtQuery, Query: "SELECT"}, err: boom, want: slog.LevelError, msg: "db stmt.query", wantErr: boom},
		{name: "rows", call: middleware.Call{Op: middleware.OpRows, Query: "SELECT 1"}, want: slog.LevelInfo, msg: "db query"},
		{name: "rows ended by an error", call: middleware.Call{Op: middleware.OpRows, Query: "SELECT 1", RowsErr: boom}, want: slog.LevelError, msg: "db query", wantErr: boom},
		{name: "rows failed to close", call: middleware.Call{Op: middleware.OpRows, Query: "SELECT 1"}, err: boom, want: slog.LevelError, msg: "db query", wantErr: boom},
		{name: "connect", call: middleware.Call{Op: middleware.OpConnect}, want: slog.LevelInfo, msg: "db connect"},
		{name: "conn close", call: middleware.Call{Op: middleware.OpConnClose}, want: slog.LevelInfo, msg: "db conn.close"},
		{name: "connect failed", call: middleware.Call{Op: middleware.OpConnect}, err: boom, want: slog.LevelError, msg: "db connect", wantErr: boom},
		{name: "commit", call: middleware.Call{Op: middleware.OpCommit, TxID: 3}, want: slog.LevelDebug, msg: "db commit"},
		{name: "begin", call: middleware.Call{Op: middleware.OpBegin, TxID: 3}, want: slog.LevelDebug, msg: "db begin"},
		{name: "prepare", call: middleware.Call{Op: middleware.OpPrepare, Query: "SELECT 1"}, want: slog.LevelDebug, msg: "db prepare"},
		{name: "stmt exec", call: middleware.Call{Op: middleware.OpStmtExec, Query: "DELETE FROM t"}, want: slog.LevelInfo, msg: "db stmt.exec"},
		{name: "slow exec", opts: []logging.Option{logging.WithSlowThreshold(time.Second)},
			call: middleware.Call{Op: middleware.OpExec, Start: slowStart}, want: slog.LevelWarn, msg: "db exec"},
		{name: "slow rows", opts: []logging.Option{logging.WithSlowThreshold(time.Second)},
			call: middleware.Call{Op: middleware.OpRows, Start: slowStart}, want: slog.LevelWarn, msg: "db query"},
		{name: "slow connect", opts: []logging.Option{logging.WithSlowThreshold(time.Second)},
			call: middleware.Call{Op: middleware.OpConnect, Start: slowStart}, want: slog.LevelWarn, msg: "db connect"},
		{name: "fast exec", opts: []logging.Option{logging.WithSlowThreshold(time.Hour)},
			call: middleware.Call{Op: middleware.OpExec, Start: time.Now()}, want: slog.LevelInfo, msg: "db exec"},
		{name: "slow and failed", opts: []logging.Option{logging.WithSlowThreshold(time.Second)},
			call: middleware.Call{Op: middleware.OpExec, Start: slowStart}, err: boom, want: slog.LevelError, msg: "db exec", wantErr: boom},
		{name: "threshold off", opts: []logging.Option{logging.WithSlowThreshold(0)},
			call: middleware.Call{Op: middleware.OpExec, Start: slowStart}, want: slog.LevelInfo, msg: "db exec"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newCapture(slog.LevelDebug)
			c := tt.call
			c.DB = testDB
			c.RowsAffected = -1
			err := run(logging.New(slog.New(h), tt.opts...), t.Context(), &c, tt.err)
			if err != tt.err {
				t.Fatalf("Run = %v; want the handler's error %v unchanged", err, tt.err)
			}
			recs := h.records()
			if tt.none {
				if len(recs) != 0 {
					t.Fatalf("got records:\n%s; want none", h.dump())
				}
				return
			}
			if len(recs) != 1 {
				t.Fatalf("got %d records:\n%s; want 1", len(recs), h.dump())
			}
			r := recs[0]
			if r.level != tt.want || r.msg != tt.msg {
				t.Errorf("record %s; want level %v, message %q", r, tt.want, tt.msg)
			}
			if tt.wantErr == nil {
				if r.has(logging.KeyError) {
					t.Errorf("record %s has an error; want none", r)
				}
			} else if got, _ := r.attrs[logging.KeyError].Any().(error); got != tt.wantErr {
				t.Errorf("error attribute = %v; want %v", got, tt.wantErr)
			}
		})
	}
}

func TestAttributes(t *testing.T) {
	args := []driver.NamedValue{{Ordinal: 1, Value: int64(42)}, {Ordinal: 2, Value: "alice@example.com"}}
	named := []driver.NamedValue{{Name: "email", Ordinal: 1, Value: "alice@example.com"}}
	tests := []struct {
		name   string
		opts   []logging.Option
		call   middleware.Call
		want   map[string]string // attribute → its value as text
		absent []string
		values bool // argument values may appear
	}{
		{name: "exec",
			call: middleware.Call{Op: middleware.OpExec, Query: "UPDATE t SET a = ? WHERE b = ?", NativeQuery: "UPDATE t SET a = $1 WHERE b = $2",
				Args: args, ConnID: 7, RowsAffected: 2},
			want: map[string]string{
				logging.KeySystem: "postgresql", logging.KeyOperation: "exec",
				logging.KeyQuery: "UPDATE t SET a = ? WHERE b = ?", logging.KeyNativeQuery: "UPDATE t SET a = $1 WHERE b = $2",
				logging.KeyArgs: "2", logging.KeyConnID: "7", logging.KeyRowsAffected: "2"},
			absent: []string{logging.KeyArgValues + ".1", logging.KeyTxID, logging.KeyRowsReturned, logging.KeyURL, logging.KeyServer, logging.KeyServerPort}},
		{name: "server of a host list",
			call: middleware.Call{Op: middleware.OpExec, Query: "SELECT 1", NativeQuery: "SELECT 1", ConnID: 2, RowsAffected: -1,
				ServerAddress: "db2.internal", ServerPort: 5433},
			want: map[string]string{logging.KeyServer: "db2.internal", logging.KeyServerPort: "5433"}},
		{name: "rows affected unknown",
			call:   middleware.Call{Op: middleware.OpStmtExec, Query: "DELETE FROM t", NativeQuery: "DELETE FROM t", ConnID: 1, TxID: 4, RowsAffected: -1},
			want:   map[string]string{logging.KeyOperation: "stmt.exec", logging.KeyTxID: "4"},
			absent: []string{logging.KeyRowsAffected, logging.KeyNativeQuery, logging.KeyArgs}},
		{name: "rows",
			call:   middleware.Call{Op: middleware.OpRows, Query: "SELECT * FROM t", ConnID: 1, RowsReturned: 3, RowsAffected: -1},
			want:   map[string]string{logging.KeyOperation: "query", logging.KeyRowsReturned: "3"},
			absent: []string{logging.KeyRowsAffected}},
		{name: "values with WithArgs", opts: []logging.Option{logging.WithArgs()},
			call:   middleware.Call{Op: middleware.OpExec, Query: "UPDATE t SET a = ? WHERE b = ?", Args: args, RowsAffected: 1},
			want:   map[string]string{logging.KeyArgs: "2", logging.KeyArgValues + ".1": "42", logging.KeyArgValues + ".2": "alice@example.com"},
			values: true},
		{name: "named values with WithArgs", opts: []logging.Option{logging.WithArgs()},
			call:   middleware.Call{Op: middleware.OpExec, Query: "DELETE FROM t WHERE e = :email", Args: named, RowsAffected: 1},
			want:   map[string]string{logging.KeyArgs: "1", logging.KeyArgValues + ".email": "alice@example.com"},
			values: true},
		{name: "connect",
			call:   middleware.Call{Op: middleware.OpConnect, ConnID: 1, RowsAffected: -1},
			want:   map[string]string{logging.KeyOperation: "connect", logging.KeyURL: "postgres://app:***@db.internal:5432/shop"},
			absent: []string{logging.KeyQuery, logging.KeyRowsAffected, logging.KeyRowsReturned}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newCapture(slog.LevelDebug)
			c := tt.call
			c.DB = testDB
			c.Start = time.Now()
			if err := run(logging.New(slog.New(h), tt.opts...), t.Context(), &c, nil); err != nil {
				t.Fatal(err)
			}
			recs := h.records()
			if len(recs) != 1 {
				t.Fatalf("got %d records:\n%s; want 1", len(recs), h.dump())
			}
			r := recs[0]
			for k, v := range tt.want {
				if got, ok := r.attrs[k]; !ok || got.String() != v {
					t.Errorf("%s = %q (present %v); want %q in %s", k, got.String(), ok, v, r)
				}
			}
			for _, k := range tt.absent {
				if r.has(k) {
					t.Errorf("record has %s; want it absent: %s", k, r)
				}
			}
			if !r.has(logging.KeyDuration) || r.attrs[logging.KeyDuration].Kind() != slog.KindDuration {
				t.Errorf("record has no duration: %s", r)
			}
			if !tt.values && strings.Contains(r.String(), "alice@example.com") {
				t.Errorf("argument value logged without WithArgs: %s", r)
			}
		})
	}
}

// TestContextReachesHandler checks that the record goes out with the
// context the call got.
func TestContextReachesHandler(t *testing.T) {
	type key struct{}
	h := newCapture(slog.LevelDebug)
	ctx := context.WithValue(t.Context(), key{}, "request-7")
	c := &middleware.Call{Op: middleware.OpExec, DB: testDB, RowsAffected: -1}
	if err := run(logging.New(slog.New(h)), ctx, c, nil); err != nil {
		t.Fatal(err)
	}
	recs := h.records()
	if len(recs) != 1 || recs[0].ctx.Value(key{}) != "request-7" {
		t.Fatalf("handler did not get the call's context: %d records", len(recs))
	}
}

// TestNilLogger checks that a nil logger logs to slog.Default at the time
// of the call.
func TestNilLogger(t *testing.T) {
	h := newCapture(slog.LevelInfo)
	prev := slog.Default()
	slog.SetDefault(slog.New(h))
	t.Cleanup(func() { slog.SetDefault(prev) })

	c := &middleware.Call{Op: middleware.OpConnect, DB: testDB, RowsAffected: -1}
	if err := run(logging.New(nil), t.Context(), c, nil); err != nil {
		t.Fatal(err)
	}
	if recs := h.records(); len(recs) != 1 || recs[0].msg != "db connect" {
		t.Fatalf("slog.Default got:\n%s; want the connect record", h.dump())
	}
}

// TestDisabledLevelAllocatesNothing checks that a call whose level the
// logger does not enable costs no allocation in the middleware.
func TestDisabledLevelAllocatesNothing(t *testing.T) {
	logger := slog.New(newCapture(slog.LevelError))
	tests := []struct {
		name string
		opts []logging.Option
		call middleware.Call
	}{
		{name: "exec", call: middleware.Call{Op: middleware.OpExec, Query: "UPDATE t SET a = ?", Args: []driver.NamedValue{{Ordinal: 1, Value: int64(1)}}, RowsAffected: 1}},
		{name: "exec with args", opts: []logging.Option{logging.WithArgs()},
			call: middleware.Call{Op: middleware.OpExec, Query: "UPDATE t SET a = ?", Args: []driver.NamedValue{{Ordinal: 1, Value: int64(1)}}, RowsAffected: 1}},
		{name: "rows", call: middleware.Call{Op: middleware.OpRows, Query: "SELECT 1", RowsReturned: 1}},
		{name: "query", call: middleware.Call{Op: middleware.OpQuery, Query: "SELECT 1"}},
		{name: "connect", call: middleware.Call{Op: middleware.OpConnect}},
		{name: "below slow threshold", opts: []logging.Option{logging.WithSlowThreshold(time.Hour)}, call: middleware.Call{Op: middleware.OpExec}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mw := logging.New(logger, tt.opts...)
			c := tt.call
			c.DB = testDB
			c.Start = time.Now()
			ctx := t.Context()
			next := func(context.Context, *middleware.Call) error { return nil }
			if n := testing.AllocsPerRun(100, func() { mw.Handle(ctx, &c, next) }); n != 0 {
				t.Errorf("Handle at a disabled level: %v allocs per call; want 0", n)
			}
		})
	}
}

// TestSystemNameAgreesWithTracing checks that a record and a span of the
// same database carry the same db.system.name, for every dialect and for
// one neither knows.
func TestSystemNameAgreesWithTracing(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres", "mysql", "", "oracle"} {
		h := newCapture(slog.LevelDebug)
		c := &middleware.Call{Op: middleware.OpExec, DB: &middleware.Database{Dialect: dialect}, RowsAffected: -1}
		if err := run(logging.New(slog.New(h)), t.Context(), c, nil); err != nil {
			t.Fatal(err)
		}
		recs := h.records()
		if len(recs) != 1 {
			t.Fatalf("dialect %q: %d records; want 1", dialect, len(recs))
		}
		want := tracing.SystemName(dialect).Value.AsString()
		if got := recs[0].attrs[logging.KeySystem].String(); got != want {
			t.Errorf("dialect %q: record says %s=%q, span says %q", dialect, logging.KeySystem, got, want)
		}
	}
}
