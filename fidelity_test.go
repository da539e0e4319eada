//lint:file-ignore SA1019 the test checks the legacy driver interfaces too

package databases

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/go-databases/databases/internal/dbtest"
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
	rowsIfaces = []iface{
		{"RowsNextResultSet", is[driver.RowsNextResultSet]},
		{"RowsColumnTypeScanType", is[driver.RowsColumnTypeScanType]},
		{"RowsColumnTypeDatabaseTypeName", is[driver.RowsColumnTypeDatabaseTypeName]},
		{"RowsColumnTypeLength", is[driver.RowsColumnTypeLength]},
		{"RowsColumnTypeNullable", is[driver.RowsColumnTypeNullable]},
		{"RowsColumnTypePrecisionScale", is[driver.RowsColumnTypePrecisionScale]},
	}
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
	cfg, err := parseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open(cfg.driverName, cfg.dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	return raw
}

// TestInterfaceSets checks that the wrapper's conn, stmt and rows implement
// exactly the optional interfaces of the real driver's, on every dialect.
func TestInterfaceSets(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		ctx := context.Background()
		c, err := newConnector(fidelityURL(t, b), &Driver{}, []Option{withObservedRows()})
		if err != nil {
			t.Fatal(err)
		}
		wc, err := c.Connect(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer wc.Close()
		rc := DriverConn(wc).(driver.Conn)
		if rc == wc {
			t.Fatal("DriverConn returned the wrapper itself")
		}
		compare := func(what string, raw, wrapped any, list []iface) {
			t.Helper()
			r, w := ifaceSet(raw, list), ifaceSet(wrapped, list)
			if !reflect.DeepEqual(r, w) {
				t.Errorf("%s interfaces:\n raw     %v\n wrapped %v", what, r, w)
			}
			if len(r) == 0 {
				t.Errorf("%s: raw %T has none of the optional interfaces; the comparison proves nothing", what, raw)
			}
		}
		compare("conn", rc, wc, connIfaces)
		if is[driver.Execer](wc) || is[driver.Queryer](wc) {
			t.Error("wrapper claims a legacy Execer/Queryer; it must offer only the Context versions")
		}

		const q = "SELECT 1"
		rs, err := rc.(driver.ConnPrepareContext).PrepareContext(ctx, q)
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

		rr, err := rc.(driver.QueryerContext).QueryContext(ctx, q, nil)
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

// TestDriverSentinelsUnchanged checks that driver.ErrSkip comes back bare
// (database/sql compares it with ==) and driver.ErrBadConn keeps its meaning.
func TestDriverSentinelsUnchanged(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		if b.Dialect == "sqlite" {
			t.Skip("modernc sqlite returns neither sentinel from these calls")
		}
		ctx := context.Background()
		c, err := newConnector(b.URL, &Driver{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		wc, err := c.Connect(ctx)
		if err != nil {
			t.Fatal(err)
		}
		args := []driver.NamedValue{{Ordinal: 1, Value: int64(1)}}
		if b.Dialect == "mysql" {
			// go-sql-driver asks database/sql to prepare instead of
			// executing with arguments when interpolateParams is off.
			_, err := wc.(driver.ExecerContext).ExecContext(ctx, "DO ?", args)
			if err != driver.ErrSkip {
				t.Fatalf("ExecContext with args = %v; want driver.ErrSkip itself", err)
			}
		}
		DriverConn(wc).(driver.Conn).Close()
		_, err = wc.(driver.ExecerContext).ExecContext(ctx, "SELECT 1", nil)
		if err != driver.ErrBadConn {
			t.Fatalf("ExecContext on a closed connection = %v; want driver.ErrBadConn itself", err)
		}
	})
}
