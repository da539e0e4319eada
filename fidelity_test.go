//lint:file-ignore SA1019 the test checks the legacy driver interfaces too

package databases

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"log/slog"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/go-databases/databases/internal/dbtest"
	"github.com/go-databases/databases/internal/dsn"
	"github.com/go-databases/databases/middleware"
)

// iface is one optional driver interface, with how to test a value for it.
type iface struct {
	name string
	has  func(any) bool
}

func is[T any](v any) bool { _, ok := v.(T); return ok }

var (
	connIfaces = []iface{
		{"Pinger", is[driver.Pinger]},
		{"ExecerContext", func(v any) bool { return is[driver.ExecerContext](v) || is[driver.Execer](v) }},
		{"QueryerContext", func(v any) bool { return is[driver.QueryerContext](v) || is[driver.Queryer](v) }},
		{"ConnPrepareContext", is[driver.ConnPrepareContext]},
		{"ConnBeginTx", is[driver.ConnBeginTx]},
		{"SessionResetter", is[driver.SessionResetter]},
		{"Validator", is[driver.Validator]},
		{"NamedValueChecker", is[driver.NamedValueChecker]},
	}
	stmtIfaces = []iface{
		{"StmtExecContext", is[driver.StmtExecContext]},
		{"StmtQueryContext", is[driver.StmtQueryContext]},
		{"NamedValueChecker", is[driver.NamedValueChecker]},
		{"ColumnConverter", is[driver.ColumnConverter]},
	}
	// rowsIfaces is in the order of the mixin bits of wrapRows; the
	// interfaces of newer Go releases (newRowsIfaces) come last.
	rowsIfaces = append([]iface{
		{"RowsNextResultSet", is[driver.RowsNextResultSet]},
		{"RowsColumnTypeScanType", is[driver.RowsColumnTypeScanType]},
		{"RowsColumnTypeDatabaseTypeName", is[driver.RowsColumnTypeDatabaseTypeName]},
		{"RowsColumnTypeLength", is[driver.RowsColumnTypeLength]},
		{"RowsColumnTypeNullable", is[driver.RowsColumnTypeNullable]},
		{"RowsColumnTypePrecisionScale", is[driver.RowsColumnTypePrecisionScale]},
	}, newRowsIfaces...)
)

func ifaceSet(v any, list []iface) []string {
	var names []string
	for _, i := range list {
		if i.has(v) {
			names = append(names, i.name)
		}
	}
	return names
}

// withObservedRows adds a middleware that passes every call through, so
// that queries return wrapped rows.
func withObservedRows() Option {
	return WithMiddleware(middleware.Func(func(ctx context.Context, c *middleware.Call, next middleware.Handler) error {
		return next(ctx, c)
	}))
}

// fidelityURL is the backend's URL, with SQLite on a file so the raw driver
// can open the same database.
func fidelityURL(t *testing.T, b dbtest.Backend) string {
	if b.Dialect == "sqlite" {
		return "sqlite:///" + filepath.Join(t.TempDir(), "fidelity.db")
	}
	return b.URL
}

// openRaw opens the real driver on the DSN databases derives from url, to
// compare the two; it is closed when the test ends.
func openRaw(t *testing.T, url string) *sql.DB {
	t.Helper()
	cfg, err := dsn.Parse(url)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open(cfg.DriverName, cfg.DSN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	return raw
}

// TestInterfaceSets checks that the wrapper's conn, stmt and rows implement
// exactly the optional interfaces of the real driver's, on every dialect;
// but for a connection's NamedValueChecker, which it has whenever
// placeholders are portable (see inlist.go), and only when the real one has
// it with placeholders=native.
func TestInterfaceSets(t *testing.T) {
	for _, native := range []bool{false, true} {
		t.Run(fmt.Sprintf("native=%v", native), func(t *testing.T) { testInterfaceSets(t, native) })
	}
}

func testInterfaceSets(t *testing.T, native bool) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		ctx := context.Background()
		var opts []Option
		if native {
			opts = append(opts, WithNativePlaceholders())
		}
		c, err := newConnector(fidelityURL(t, b), &Driver{}, append(opts, withObservedRows()))
		if err != nil {
			t.Fatal(err)
		}
		wc, err := c.Connect(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer wc.Close()
		dconn := DriverConn(wc).(driver.Conn)
		if dconn == wc {
			t.Fatal("DriverConn returned the wrapper itself")
		}
		compare := func(what string, raw, wrapped any, list []iface) {
			t.Helper()
			r, w := ifaceSet(raw, list), ifaceSet(wrapped, list)
			if what == "conn" && !native && !slices.Contains(r, "NamedValueChecker") {
				r = append(r, "NamedValueChecker")
			}
			if !reflect.DeepEqual(r, w) {
				t.Errorf("%s interfaces:\n raw     %v\n wrapped %v", what, r, w)
			}
			if len(r) == 0 {
				t.Errorf("%s: raw %T has none of the optional interfaces; the comparison proves nothing", what, raw)
			}
		}
		compare("conn", dconn, wc, connIfaces)
		if is[driver.Execer](wc) || is[driver.Queryer](wc) {
			t.Error("wrapper claims a legacy Execer/Queryer; it must offer only the Context versions")
		}

		const q = "SELECT 1"
		rs, err := dconn.(driver.ConnPrepareContext).PrepareContext(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		defer rs.Close()
		ws, err := wc.(driver.ConnPrepareContext).PrepareContext(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		defer ws.Close()
		compare("stmt", rs, ws, stmtIfaces)

		rr, err := dconn.(driver.QueryerContext).QueryContext(ctx, q, nil)
		if err != nil {
			t.Fatal(err)
		}
		rr.Close()
		wr, err := wc.(driver.QueryerContext).QueryContext(ctx, q, nil)
		if err != nil {
			t.Fatal(err)
		}
		wr.Close()
		if reflect.TypeOf(wr) == reflect.TypeOf(rr) {
			t.Fatal("rows were not wrapped although observed")
		}
		compare("rows", rr, wr, rowsIfaces)
	})
}

// TestColumnTypesMatchRawDriver compares every ColumnType attribute seen
// through databases with what the real driver reports for the same query,
// with rows returned as they are and with rows wrapped.
func TestColumnTypesMatchRawDriver(t *testing.T) {
	ddl := map[string]string{
		"sqlite":   "CREATE TABLE %s (id INTEGER PRIMARY KEY, name VARCHAR(20) NOT NULL, note TEXT, price DECIMAL(10,2), born TIMESTAMP, data BLOB, ok BOOLEAN)",
		"postgres": "CREATE TABLE %s (id INTEGER PRIMARY KEY, name VARCHAR(20) NOT NULL, note TEXT, price NUMERIC(10,2), born TIMESTAMPTZ, data BYTEA, ok BOOLEAN)",
		"mysql":    "CREATE TABLE %s (id INT PRIMARY KEY, name VARCHAR(20) NOT NULL, note TEXT, price DECIMAL(10,2), born DATETIME(6), data BLOB, ok BOOLEAN)",
	}
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		url := fidelityURL(t, b)
		raw := openRaw(t, url)
		table := dbtest.Name("coltypes")
		if _, err := raw.Exec(fmt.Sprintf(ddl[b.Dialect], table)); err != nil {
			t.Fatal(err)
		}
		defer raw.Exec("DROP TABLE " + table)
		if _, err := raw.Exec("INSERT INTO " + table + " (id, name) VALUES (1, 'x')"); err != nil {
			t.Fatal(err)
		}
		query := "SELECT id, name, note, price, born, data, ok FROM " + table
		want := columnTypes(t, raw, query)
		for _, observed := range []bool{false, true} {
			var opts []Option
			if observed {
				opts = append(opts, withObservedRows())
			}
			c, err := newConnector(url, &Driver{}, opts)
			if err != nil {
				t.Fatal(err)
			}
			db := sql.OpenDB(c.public())
			got := columnTypes(t, db, query)
			db.Close()
			if !reflect.DeepEqual(got, want) {
				t.Errorf("observed rows %v:\n got  %v\n want %v", observed, got, want)
			}
		}
	})
}

func columnTypes(t *testing.T, db *sql.DB, query string) []string {
	t.Helper()
	rows, err := db.Query(query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cts, err := rows.ColumnTypes()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, ct := range cts {
		length, lok := ct.Length()
		prec, scale, dok := ct.DecimalSize()
		nullable, nok := ct.Nullable()
		out = append(out, fmt.Sprintf("%s scan=%v db=%s len=%d,%v dec=%d,%d,%v null=%v,%v",
			ct.Name(), ct.ScanType(), ct.DatabaseTypeName(), length, lok, prec, scale, dok, nullable, nok))
	}
	return out
}

// TestDriverSentinelsUnchanged checks that driver.ErrBadConn keeps its
// meaning, and that a statement go-sql-driver answers with driver.ErrSkip
// (arguments without interpolateParams) runs in the wrapper, prepared,
// with the statement cache on or off, as database/sql would run it; where
// the wrapper has nothing to do with an argument (a connection without a
// checker), CheckNamedValue gives driver.ErrSkip back bare (wrap_gen_test.go).
func TestDriverSentinelsUnchanged(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		if b.Dialect == "sqlite" {
			t.Skip("modernc sqlite returns neither sentinel from these calls")
		}
		ctx := context.Background()
		c, err := newConnector(b.URL+"&stmt_cache=0", &Driver{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		wc, err := c.Connect(ctx)
		if err != nil {
			t.Fatal(err)
		}
		args := []driver.NamedValue{{Ordinal: 1, Value: int64(1)}}
		if b.Dialect == "mysql" {
			for _, url := range []string{b.URL + "&stmt_cache=0", b.URL} {
				c, err := newConnector(url, &Driver{}, nil)
				if err != nil {
					t.Fatal(err)
				}
				cc, err := c.Connect(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := cc.(driver.ExecerContext).ExecContext(ctx, "DO ?", args); err != nil {
					t.Errorf("%s: ExecContext with args = %v; want it run", url, err)
				}
				r, err := cc.(driver.QueryerContext).QueryContext(ctx, "SELECT ? + 1", args)
				if err != nil {
					t.Fatalf("%s: QueryContext with args = %v; want rows", url, err)
				}
				dest := make([]driver.Value, 1)
				if err := r.Next(dest); err != nil || fmt.Sprint(dest[0]) != "2" {
					t.Errorf("%s: QueryContext with args read %v, %v; want 2", url, dest[0], err)
				}
				if err := r.Close(); err != nil {
					t.Errorf("%s: rows.Close = %v", url, err)
				}
				cc.Close()
			}
		}
		DriverConn(wc).(driver.Conn).Close()
		_, err = wc.(driver.ExecerContext).ExecContext(ctx, "SELECT 1", nil)
		if err != driver.ErrBadConn {
			t.Fatalf("ExecContext on a closed connection = %v; want driver.ErrBadConn itself", err)
		}
	})
}

// TestWrapRowsSets checks every generated rows combination: wrapRows with a
// set returns a value with exactly the interfaces of that set, no more
// (which would make database/sql call a method the real rows lack).
func TestWrapRowsSets(t *testing.T) {
	var r rows
	for set := range uint(1) << len(rowsIfaces) {
		w := wrapRows(&r, set)
		for i, f := range rowsIfaces {
			if want := set&(1<<i) != 0; f.has(w) != want {
				t.Errorf("wrapRows(set %#b) = %T: has %s %v, want %v", set, w, f.name, !want, want)
			}
		}
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent writes, for a log.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestArrayScanMatchesPgx scans PostgreSQL arrays into Go slices through
// databases with no middleware, with logging, with tracing and with a
// middleware, directly, prepared, in a transaction and with a cancelled
// context, and compares every result and error with raw pgx. From Go 1.27,
// where pgx scans through driver.RowsColumnScanner, the scans must succeed;
// before, both fail alike. The middleware counts the rows read.
func TestArrayScanMatchesPgx(t *testing.T) {
	b := dbtest.Backends()[1]
	if b.Dialect != "postgres" {
		t.Fatalf("backend 1 is %s", b.Dialect)
	}
	b.Require(t)

	logs := &syncBuffer{}
	prevLog := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(logs, nil)))
	t.Cleanup(func() { slog.SetDefault(prevLog) })
	spans := tracetest.NewSpanRecorder()
	prevTP := otel.GetTracerProvider()
	otel.SetTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans)))
	t.Cleanup(func() { otel.SetTracerProvider(prevTP) })
	var counted sync.Map // query -> rows returned, from OpRows
	counter := middleware.Func(func(ctx context.Context, c *middleware.Call, next middleware.Handler) error {
		err := next(ctx, c)
		if c.Op == middleware.OpRows {
			counted.Store(c.Query, c.RowsReturned)
		}
		return err
	})

	open := func(t *testing.T, query string, opts ...Option) *sql.DB {
		db, err := Open(b.URL+"&"+query, opts...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	dbs := []struct {
		name string
		db   *sql.DB
	}{
		{"no middleware", open(t, "")},
		{"log=debug", open(t, "log=debug")},
		{"trace=on", open(t, "trace=on")},
		{"WithMiddleware", open(t, "", WithMiddleware(counter))},
		// Test mode scans as production does.
		{"force_rollback", open(t, "force_rollback=true")},
		{"force_rollback+WithMiddleware", open(t, "force_rollback=true", WithMiddleware(counter))},
	}
	raw := openRaw(t, b.URL)

	type querier interface {
		QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	}
	// scan runs query (? placeholders) and scans each row's one column into
	// a new *T, returning the values and the error as text.
	scan := func(ctx context.Context, q querier, query string, dest func() any, args ...any) string {
		rs, err := q.QueryContext(ctx, query, args...)
		if err != nil {
			return "query: " + err.Error()
		}
		defer rs.Close()
		var out []string
		for rs.Next() {
			d := dest()
			if err := rs.Scan(d); err != nil {
				return fmt.Sprintf("%s scan: %v", strings.Join(out, " "), err)
			}
			out = append(out, fmt.Sprintf("%#v", reflect.ValueOf(d).Elem().Interface()))
		}
		return fmt.Sprintf("%s err=%v", strings.Join(out, " "), rs.Err())
	}
	int64s := func() any { return new([]int64) }
	tests := []struct {
		name, query string
		args        []any
		dest        func() any
		want        string // from Go 1.27 on
	}{
		{"bigint[]", "SELECT ARRAY[1,2,3]::bigint[]", nil, int64s, "[]int64{1, 2, 3} err=<nil>"},
		{"argument", "SELECT ARRAY[?::bigint, 2, 3]", []any{int64(7)}, int64s, "[]int64{7, 2, 3} err=<nil>"},
		{"three rows", "SELECT ARRAY[i, i*10]::bigint[] FROM generate_series(1, 3) AS i", nil, int64s,
			"[]int64{1, 10} []int64{2, 20} []int64{3, 30} err=<nil>"},
		{"null", "SELECT NULL::bigint[]", nil, int64s, "[]int64(nil) err=<nil>"},
		{"text[]", "SELECT ARRAY['a', NULL, 'c']::text[]", nil, func() any { return new([]sql.NullString) },
			`[]sql.NullString{sql.NullString{String:"a", Valid:true}, sql.NullString{String:"", Valid:false}, sql.NullString{String:"c", Valid:true}} err=<nil>`},
		{"into string", "SELECT ARRAY[1,2]::bigint[]", nil, func() any { return new(string) }, `"{1,2}" err=<nil>`},
		{"text into []int64", "SELECT 'x'::text", nil, int64s, ""},
	}
	ctx := context.Background()
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	ways := []struct {
		name string
		run  func(db *sql.DB, query string, dest func() any, args []any) string
	}{
		{"direct", func(db *sql.DB, query string, dest func() any, args []any) string {
			return scan(ctx, db, query, dest, args...)
		}},
		{"prepared", func(db *sql.DB, query string, dest func() any, args []any) string {
			st, err := db.Prepare(query)
			if err != nil {
				return "prepare: " + err.Error()
			}
			defer st.Close()
			return scan(ctx, stmtQuerier{st}, query, dest, args...)
		}},
		{"in a transaction", func(db *sql.DB, query string, dest func() any, args []any) string {
			tx, err := db.Begin()
			if err != nil {
				return "begin: " + err.Error()
			}
			defer tx.Rollback()
			return scan(ctx, tx, query, dest, args...)
		}},
		{"cancelled", func(db *sql.DB, query string, dest func() any, args []any) string {
			return scan(cancelled, db, query, dest, args...)
		}},
	}
	for _, tt := range tests {
		for _, way := range ways {
			rawQuery := strings.Replace(tt.query, "?", "$1", 1)
			want := way.run(raw, rawQuery, tt.dest, tt.args)
			if goHasColumnScanner && tt.want != "" && way.name != "cancelled" && want != tt.want {
				t.Errorf("%s %s: raw pgx gives %s; want %s", tt.name, way.name, want, tt.want)
			}
			for _, d := range dbs {
				if got := way.run(d.db, tt.query, tt.dest, tt.args); got != want {
					t.Errorf("%s %s through databases with %s:\n got %s\nwant %s (raw pgx)", tt.name, way.name, d.name, got, want)
				}
			}
		}
	}

	// force_rollback's rows are a type of their own: they may claim
	// RowsColumnScanner only if they scan through it.
	for _, opts := range [][]Option{nil, {WithMiddleware(counter)}} {
		db := open(t, "force_rollback=true", opts...)
		const query = "SELECT ARRAY[1,2,3]::bigint[]"
		var claims []string
		c, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		err = c.Raw(func(dc any) error {
			rs, err := dc.(driver.QueryerContext).QueryContext(ctx, query, nil)
			if err != nil {
				return err
			}
			claims = ifaceSet(rs, newRowsIfaces)
			return rs.Close()
		})
		c.Close()
		if err != nil {
			t.Fatal(err)
		}
		got := scan(ctx, db, query, int64s)
		works := got == tests[0].want
		if goHasColumnScanner != works || len(claims) > 0 != works || !works && !strings.Contains(got, "unsupported Scan") {
			t.Errorf("force_rollback, %d middleware: rows claim %v and scan %s", len(opts), claims, got)
		}
	}

	if !strings.Contains(logs.String(), "ARRAY[?,?,?]::bigint[]") { // literals masked (sanitize)
		t.Errorf("log=debug logged no array query:\n%s", logs.String())
	}
	if len(spans.Ended()) == 0 {
		t.Error("trace=on recorded no span")
	}
	// Before Go 1.27 the first row's scan fails and closes the rows.
	want := int64(1)
	if goHasColumnScanner {
		want = 3
	}
	if n, _ := counted.Load("SELECT ARRAY[i, i*10]::bigint[] FROM generate_series(1, 3) AS i"); n != want {
		t.Errorf("middleware counted %v rows of the three-row query; want %d", n, want)
	}
}

// stmtQuerier runs QueryContext on a prepared statement, ignoring the query.
type stmtQuerier struct{ st *sql.Stmt }

func (s stmtQuerier) QueryContext(ctx context.Context, _ string, args ...any) (*sql.Rows, error) {
	return s.st.QueryContext(ctx, args...)
}

// legacyIfaces are the connection interfaces from before contexts, which
// the wrapper does not offer (docs/fidelity.md).
var legacyIfaces = []iface{
	{"Execer", is[driver.Execer]},
	{"Queryer", is[driver.Queryer]},
}

// TestRawHandsOutWrapper pins what a sql.Conn.Raw callback gets: the
// wrapper, with ExecerContext and QueryerContext where the real connection
// has them or their legacy versions but never the legacy driver.Execer and
// driver.Queryer, and a NamedValueChecker in any case; DriverConn gives the real connection with all of its
// interfaces, as a raw sql.DB hands it out.
func TestRawHandsOutWrapper(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		ctx := context.Background()
		url := fidelityURL(t, b)
		rawDB := openRaw(t, url)
		var wantConn, wantLegacy []string // the real connection's interfaces
		rawConn, err := rawDB.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		err = rawConn.Raw(func(dc any) error {
			wantConn, wantLegacy = ifaceSet(dc, connIfaces), ifaceSet(dc, legacyIfaces)
			return nil
		})
		rawConn.Close()
		if err != nil {
			t.Fatal(err)
		}
		if b.Dialect == "mysql" && !slices.Contains(wantLegacy, "Execer") {
			t.Fatalf("go-sql-driver's connection lacks driver.Execer (%v); the test proves nothing", wantLegacy)
		}
		for _, opts := range [][]Option{nil, {withObservedRows()}} {
			db, err := Open(url, opts...)
			if err != nil {
				t.Fatal(err)
			}
			c, err := db.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			err = c.Raw(func(dc any) error {
				if legacy := ifaceSet(dc, legacyIfaces); legacy != nil {
					t.Errorf("%d middleware: the value Raw hands out has the legacy %v", len(opts), legacy)
				}
				// The wrapper is a NamedValueChecker whatever the real
				// connection is, for IN lists (inlist.go).
				want := wantConn
				if !slices.Contains(want, "NamedValueChecker") {
					want = append(slices.Clone(want), "NamedValueChecker")
				}
				if got := ifaceSet(dc, connIfaces); !reflect.DeepEqual(got, want) {
					t.Errorf("%d middleware: Raw hands out %v; the real connection has %v", len(opts), got, wantConn)
				}
				real := DriverConn(dc)
				gotConn, gotLegacy := ifaceSet(real, connIfaces), ifaceSet(real, legacyIfaces)
				if !reflect.DeepEqual(gotConn, wantConn) || !reflect.DeepEqual(gotLegacy, wantLegacy) {
					t.Errorf("%d middleware: DriverConn gives %T with %v %v; the raw driver's has %v %v",
						len(opts), real, gotConn, gotLegacy, wantConn, wantLegacy)
				}
				return nil
			})
			c.Close()
			db.Close()
			if err != nil {
				t.Fatal(err)
			}
		}
	})
}
