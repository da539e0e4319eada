//lint:file-ignore SA1019 the fakes have the legacy interfaces a real driver may still have

package databases

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"sync"
	"testing"
)

// The generated wrappers are checked combination by combination: for every
// set of optional interfaces, a real driver value of exactly that shape
// (wrap_gen_shapes_test.go) goes through a connector or a prepare, and the
// wrapper that comes back must have exactly the interfaces of the set, keep
// one base value behind all of them, and reach the real value with every
// method, as database/sql would call it.

// shapeDriverName is the database/sql name of shapeDriver.
const shapeDriverName = "databases-test-shapes"

// shapeDriver is a database/sql driver whose Open returns whatever
// connection the test put in next: a shape of connShapes.
type shapeDriver struct {
	mu   sync.Mutex
	next driver.Conn
}

func (d *shapeDriver) Open(string) (driver.Conn, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.next == nil {
		return nil, errors.New("shapeDriver: no connection to hand out")
	}
	c := d.next
	d.next = nil
	return c, nil
}

var shapes = &shapeDriver{}

func init() { sql.Register(shapeDriverName, shapes) }

// connectShape opens raw through c and returns the wrapper it gets.
func connectShape(t *testing.T, c driver.Connector, raw driver.Conn) driver.Conn {
	t.Helper()
	shapes.mu.Lock()
	shapes.next = raw
	shapes.mu.Unlock()
	w, err := c.Connect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// shapeConnector returns a connector over shapeDriver, with the
// PostgreSQL dialect (whose begin goes to the real driver), with a
// pass-through middleware or with none.
func shapeConnector(t *testing.T, observed bool, native ...bool) driver.Connector {
	t.Helper()
	var opts []Option
	if observed {
		opts = append(opts, withObservedRows())
	}
	if len(native) > 0 && native[0] {
		opts = append(opts, WithNativePlaceholders())
	}
	c, err := NewConnector("postgres+"+shapeDriverName+"://h/db", opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Sentinels the fakes return, which the wrappers must pass on unchanged.
var (
	errFakePing  = errors.New("fake: ping")
	fakeAffected = int64(7)
	fakeColumns  = []string{"fake"}
	fakeConvert  = driver.ValueConverter(driver.Int32)
)

// callLog records the calls a fake received.
type callLog struct{ calls []string }

func (l *callLog) called(name string) { l.calls = append(l.calls, name) }

// expect runs do and checks that l received exactly want.
func (l *callLog) expect(t *testing.T, do func() error, want ...string) {
	t.Helper()
	l.calls = nil
	if err := do(); err != nil {
		t.Errorf("%v: %v", want, err)
	}
	if !slices.Equal(l.calls, want) {
		t.Errorf("the real value received %v, want %v", l.calls, want)
	}
}

// fakeConn implements driver.Conn and every optional interface a
// connection can have, the legacy ones included; a shape of connShapes
// exposes some of them.
type fakeConn struct {
	callLog
	valid bool        // what IsValid says
	stmt  driver.Stmt // what Prepare returns; a fakeStmt when nil
}

func (f *fakeConn) prepared() driver.Stmt {
	if f.stmt != nil {
		return f.stmt
	}
	return &fakeStmt{}
}

func (f *fakeConn) Prepare(string) (driver.Stmt, error) {
	f.called("Prepare")
	return f.prepared(), nil
}
func (f *fakeConn) Close() error               { f.called("Close"); return nil }
func (f *fakeConn) Begin() (driver.Tx, error)  { f.called("Begin"); return fakeTx{&f.callLog}, nil }
func (f *fakeConn) Ping(context.Context) error { f.called("Ping"); return errFakePing }
func (f *fakeConn) Exec(string, []driver.Value) (driver.Result, error) {
	f.called("Exec")
	return driver.RowsAffected(fakeAffected), nil
}
func (f *fakeConn) ExecContext(context.Context, string, []driver.NamedValue) (driver.Result, error) {
	f.called("ExecContext")
	return driver.RowsAffected(fakeAffected), nil
}
func (f *fakeConn) Query(string, []driver.Value) (driver.Rows, error) {
	f.called("Query")
	return fakeRows{}, nil
}
func (f *fakeConn) QueryContext(context.Context, string, []driver.NamedValue) (driver.Rows, error) {
	f.called("QueryContext")
	return fakeRows{}, nil
}
func (f *fakeConn) PrepareContext(context.Context, string) (driver.Stmt, error) {
	f.called("PrepareContext")
	return f.prepared(), nil
}
func (f *fakeConn) BeginTx(context.Context, driver.TxOptions) (driver.Tx, error) {
	f.called("BeginTx")
	return fakeTx{&f.callLog}, nil
}
func (f *fakeConn) ResetSession(context.Context) error { f.called("ResetSession"); return nil }
func (f *fakeConn) IsValid() bool                      { f.called("IsValid"); return f.valid }
func (f *fakeConn) CheckNamedValue(*driver.NamedValue) error {
	f.called("CheckNamedValue")
	return driver.ErrRemoveArgument
}

// fakeStmt is fakeConn for statements; a shape of stmtShapes exposes some
// of its interfaces.
type fakeStmt struct{ callLog }

func (f *fakeStmt) Close() error  { f.called("Close"); return nil }
func (f *fakeStmt) NumInput() int { return -1 }
func (f *fakeStmt) Exec([]driver.Value) (driver.Result, error) {
	f.called("Exec")
	return driver.RowsAffected(fakeAffected), nil
}
func (f *fakeStmt) Query([]driver.Value) (driver.Rows, error) {
	f.called("Query")
	return fakeRows{}, nil
}
func (f *fakeStmt) ExecContext(context.Context, []driver.NamedValue) (driver.Result, error) {
	f.called("ExecContext")
	return driver.RowsAffected(fakeAffected), nil
}
func (f *fakeStmt) QueryContext(context.Context, []driver.NamedValue) (driver.Rows, error) {
	f.called("QueryContext")
	return fakeRows{}, nil
}
func (f *fakeStmt) CheckNamedValue(*driver.NamedValue) error {
	f.called("CheckNamedValue")
	return driver.ErrRemoveArgument
}
func (f *fakeStmt) ColumnConverter(int) driver.ValueConverter {
	f.called("ColumnConverter")
	return fakeConvert
}

// columnConverter is driver.ColumnConverter under another name: a struct
// embedding driver.ColumnConverter gets a field of that name, which hides
// the method.
type columnConverter = driver.ColumnConverter

// fakeTx records its end in the log of the connection that began it.
type fakeTx struct{ *callLog }

func (t fakeTx) Commit() error   { t.called("Commit"); return nil }
func (t fakeTx) Rollback() error { t.called("Rollback"); return nil }

// fakeRows has one column and no rows.
type fakeRows struct{}

func (fakeRows) Columns() []string         { return fakeColumns }
func (fakeRows) Close() error              { return nil }
func (fakeRows) Next([]driver.Value) error { return io.EOF }

// setOf returns the bits of the interfaces of list that v has.
func setOf(v any, list []iface) uint {
	var set uint
	for i, f := range list {
		if f.has(v) {
			set |= 1 << i
		}
	}
	return set
}

// checkExactly checks that w has the interfaces of set and no other.
func checkExactly(t *testing.T, w any, set uint, list []iface) {
	t.Helper()
	for i, f := range list {
		if want := set&(1<<i) != 0; f.has(w) != want {
			t.Errorf("%T: has %s %v, want %v", w, f.name, !want, want)
		}
	}
}

// checkOneBase checks that the mixins of a combination built by wrapConn
// or wrapStmt all point at the combination's own base value: the state of
// a connection (its transaction, its cached plan) must be one, whichever
// interface database/sql calls it through.
func checkOneBase(t *testing.T, w any, base reflect.Type) {
	t.Helper()
	v := reflect.ValueOf(w)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		t.Fatalf("%T is not a pointer to a struct", w)
	}
	v = v.Elem()
	if v.Type() == base {
		return // no mixins: the base itself
	}
	if v.Field(0).Type() != base {
		t.Fatalf("%T: first field %s, want the embedded %s", w, v.Field(0).Type(), base)
	}
	at := v.Field(0).Addr().Pointer()
	for i := 1; i < v.NumField(); i++ {
		if v.Field(i).Pointer() != at {
			t.Errorf("%T: mixin %s points elsewhere than the embedded %s", w, v.Type().Field(i).Name, base)
		}
	}
}

// TestWrapConnSets checks every generated connection combination, with
// and without middleware: a real connection with exactly the interfaces of
// a set comes back from the connector with exactly those (ExecerContext and
// QueryerContext standing in for their legacy versions, which it never
// has), and every method reaches the real connection as database/sql would
// call it, its result unchanged.
func TestWrapConnSets(t *testing.T) {
	if n := 1 << len(connIfaces); len(connShapes) != n {
		t.Fatalf("%d connection shapes for %d interfaces, want %d", len(connShapes), len(connIfaces), n)
	}
	ctx := context.Background()
	// With portable placeholders a connection is always a
	// NamedValueChecker, to take IN lists (inlist.go); with native ones,
	// exactly when the real connection is.
	checkerBit := uint(1) << slices.IndexFunc(connIfaces, func(f iface) bool { return f.name == "NamedValueChecker" })
	for _, mode := range []struct {
		observed, native bool
	}{{false, false}, {true, false}, {false, true}, {true, true}} {
		observed := mode.observed
		c := shapeConnector(t, observed, mode.native)
		for set := range uint(len(connShapes)) {
			t.Run(fmt.Sprintf("observed=%v/native=%v/%08b", observed, mode.native, set), func(t *testing.T) {
				f := &fakeConn{}
				raw := connShapes[set](f)
				if got := setOf(raw, connIfaces); got != set {
					t.Fatalf("connShapes[%d] is a %08b", set, got)
				}
				w := connectShape(t, c, raw)
				want := set
				if !mode.native {
					want |= checkerBit
				}
				checkExactly(t, w, want, connIfaces)
				if is[driver.Execer](w) || is[driver.Queryer](w) {
					t.Error("the wrapper has a legacy Execer or Queryer")
				}
				checkOneBase(t, w, reflect.TypeFor[conn]())
				if DriverConn(w) != raw {
					t.Error("DriverConn does not return the real connection")
				}

				// either names the method database/sql calls: the
				// context one when the real connection has it.
				either := func(withCtx, legacy string, has bool) string {
					if has {
						return withCtx
					}
					return legacy
				}
				f.expect(t, func() error {
					s, err := w.Prepare("SELECT 1")
					if err == nil {
						err = s.Close()
					}
					return err
				}, either("PrepareContext", "Prepare", is[driver.ConnPrepareContext](raw)))
				f.expect(t, func() error {
					tx, err := w.Begin()
					if err == nil {
						err = tx.Commit()
					}
					return err
				}, "Begin", "Commit")
				if p, ok := w.(driver.Pinger); ok {
					f.expect(t, func() error {
						if err := p.Ping(ctx); !errors.Is(err, errFakePing) {
							return fmt.Errorf("Ping = %v, want the real connection's error", err)
						}
						return nil
					}, "Ping")
				}
				if e, ok := w.(driver.ExecerContext); ok {
					f.expect(t, func() error {
						r, err := e.ExecContext(ctx, "UPDATE t SET a = 1", nil)
						if err != nil {
							return err
						}
						if n, err := r.RowsAffected(); n != fakeAffected || err != nil {
							return fmt.Errorf("RowsAffected = %d, %v; want %d", n, err, fakeAffected)
						}
						return nil
					}, either("ExecContext", "Exec", is[driver.ExecerContext](raw)))
				}
				if q, ok := w.(driver.QueryerContext); ok {
					f.expect(t, func() error {
						r, err := q.QueryContext(ctx, "SELECT 1", nil)
						if err != nil {
							return err
						}
						defer r.Close()
						if got := r.Columns(); !slices.Equal(got, fakeColumns) {
							return fmt.Errorf("Columns = %v, want %v", got, fakeColumns)
						}
						return nil
					}, either("QueryContext", "Query", is[driver.QueryerContext](raw)))
				}
				if p, ok := w.(driver.ConnPrepareContext); ok {
					f.expect(t, func() error {
						s, err := p.PrepareContext(ctx, "SELECT 1")
						if err == nil {
							err = s.Close()
						}
						return err
					}, "PrepareContext")
				}
				if b, ok := w.(driver.ConnBeginTx); ok {
					f.expect(t, func() error {
						tx, err := b.BeginTx(ctx, driver.TxOptions{})
						if err == nil {
							err = tx.Commit()
						}
						return err
					}, "BeginTx", "Commit")
				}
				if r, ok := w.(driver.SessionResetter); ok {
					f.expect(t, func() error { return r.ResetSession(ctx) }, "ResetSession")
				}
				if v, ok := w.(driver.Validator); ok {
					for _, valid := range []bool{false, true} {
						f.valid = valid
						f.expect(t, func() error {
							if got := v.IsValid(); got != valid {
								return fmt.Errorf("IsValid = %v, want the real connection's %v", got, valid)
							}
							return nil
						}, "IsValid")
					}
				}
				if ch, ok := w.(driver.NamedValueChecker); ok && set&checkerBit != 0 {
					f.expect(t, func() error {
						if err := ch.CheckNamedValue(&driver.NamedValue{Ordinal: 1}); err != driver.ErrRemoveArgument {
							return fmt.Errorf("CheckNamedValue = %v, want driver.ErrRemoveArgument itself", err)
						}
						return nil
					}, "CheckNamedValue")
				} else if ok {
					// database/sql goes on as if there were no checker.
					f.expect(t, func() error {
						if err := ch.CheckNamedValue(&driver.NamedValue{Ordinal: 1}); err != driver.ErrSkip {
							return fmt.Errorf("CheckNamedValue = %v, want driver.ErrSkip itself", err)
						}
						return nil
					})
				}
				if ch, ok := w.(driver.NamedValueChecker); ok && !mode.native {
					// A slice that may be an IN list stays for the rewrite.
					f.expect(t, func() error {
						return ch.CheckNamedValue(&driver.NamedValue{Ordinal: 1, Value: []int64{1}})
					})
				}
				f.expect(t, w.Close, "Close")
			})
		}
	}
}

// TestWrapStmtSets is TestWrapConnSets for statements: a real statement
// with exactly the interfaces of a set, prepared through the wrapper, comes
// back with exactly those, and every method reaches it.
func TestWrapStmtSets(t *testing.T) {
	if n := 1 << len(stmtIfaces); len(stmtShapes) != n {
		t.Fatalf("%d statement shapes for %d interfaces, want %d", len(stmtShapes), len(stmtIfaces), n)
	}
	ctx := context.Background()
	for _, observed := range []bool{false, true} {
		f := &fakeConn{}
		w := connectShape(t, shapeConnector(t, observed), f)
		defer w.Close()
		for set := range uint(len(stmtShapes)) {
			t.Run(fmt.Sprintf("observed=%v/%04b", observed, set), func(t *testing.T) {
				fs := &fakeStmt{}
				raw := stmtShapes[set](fs)
				if got := setOf(raw, stmtIfaces); got != set {
					t.Fatalf("stmtShapes[%d] is a %04b", set, got)
				}
				f.stmt = raw
				s, err := w.(driver.ConnPrepareContext).PrepareContext(ctx, "SELECT 1")
				if err != nil {
					t.Fatal(err)
				}
				checkExactly(t, s, set, stmtIfaces)
				checkOneBase(t, s, reflect.TypeFor[stmt]())

				execs := "Exec"
				if is[driver.StmtExecContext](raw) {
					execs = "ExecContext"
				}
				queries := "Query"
				if is[driver.StmtQueryContext](raw) {
					queries = "QueryContext"
				}
				checkResult := func(r driver.Result, err error) error {
					if err != nil {
						return err
					}
					if n, err := r.RowsAffected(); n != fakeAffected || err != nil {
						return fmt.Errorf("RowsAffected = %d, %v; want %d", n, err, fakeAffected)
					}
					return nil
				}
				checkRows := func(r driver.Rows, err error) error {
					if err != nil {
						return err
					}
					defer r.Close()
					if got := r.Columns(); !slices.Equal(got, fakeColumns) {
						return fmt.Errorf("Columns = %v, want %v", got, fakeColumns)
					}
					return nil
				}
				fs.expect(t, func() error { return checkResult(s.Exec(nil)) }, execs)
				fs.expect(t, func() error { return checkRows(s.Query(nil)) }, queries)
				if e, ok := s.(driver.StmtExecContext); ok {
					fs.expect(t, func() error { return checkResult(e.ExecContext(ctx, nil)) }, execs)
				}
				if q, ok := s.(driver.StmtQueryContext); ok {
					fs.expect(t, func() error { return checkRows(q.QueryContext(ctx, nil)) }, queries)
				}
				if ch, ok := s.(driver.NamedValueChecker); ok {
					fs.expect(t, func() error {
						if err := ch.CheckNamedValue(&driver.NamedValue{Ordinal: 1}); err != driver.ErrRemoveArgument {
							return fmt.Errorf("CheckNamedValue = %v, want driver.ErrRemoveArgument itself", err)
						}
						return nil
					}, "CheckNamedValue")
				}
				if cc, ok := s.(driver.ColumnConverter); ok {
					fs.expect(t, func() error {
						if got := cc.ColumnConverter(0); got != fakeConvert {
							return fmt.Errorf("ColumnConverter = %v, want the real statement's", got)
						}
						return nil
					}, "ColumnConverter")
				}
				fs.expect(t, s.Close, "Close")
			})
		}
	}
}

// TestWrapSharedRowsSets is TestWrapRowsSets for force_rollback's rows:
// wrapSharedRows with a set returns a value with exactly its interfaces.
func TestWrapSharedRowsSets(t *testing.T) {
	list := rowsIfaces[:len(rowsIfaces)-len(newRowsIfaces)]
	var r sharedRows
	for set := range uint(1) << len(list) {
		w := wrapSharedRows(&r, set)
		checkExactly(t, w, set, list)
		for _, f := range newRowsIfaces {
			if f.has(w) {
				t.Errorf("%T: has %s, which rows in memory cannot offer", w, f.name)
			}
		}
	}
}
