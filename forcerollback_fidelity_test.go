package databases

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/go-databases/databases/internal/dbtest"
)

// TestForceRollbackInterfaceSets: in force_rollback mode too, connections,
// statements and rows offer exactly the optional interfaces of the real
// driver's, rows read into memory included, and column types read the same.
// The one addition is Validator on connections, which ends a DriverConn hold
// when the connection goes back to the pool and says what the real
// connection says (true when it has no IsValid). Go 1.27's
// RowsColumnScanner is offered too, so that pgx scans arrays into slices
// as it does in production.
func TestForceRollbackInterfaceSets(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		url := fidelityURL(t, b)
		raw := openRaw(t, url)
		table := dbtest.Name("frifaces")
		if _, err := raw.Exec("CREATE TABLE " + table + " (id INTEGER PRIMARY KEY, name VARCHAR(20) NOT NULL, price DECIMAL(10,2))"); err != nil {
			t.Fatal(err)
		}
		defer raw.Exec("DROP TABLE " + table)
		if _, err := raw.Exec("INSERT INTO " + table + " (id, name) VALUES (1, 'x'), (2, 'y')"); err != nil {
			t.Fatal(err)
		}
		query := "SELECT id, name, price FROM " + table + " ORDER BY id"
		wantTypes := readColumnTypes(t, raw, query)
		for _, observed := range []bool{false, true} {
			var opts []Option
			if observed {
				opts = append(opts, withObservedRows())
			}
			c, err := newConnector(url+sepFor(url)+"force_rollback=true", &Driver{}, opts)
			if err != nil {
				t.Fatal(err)
			}
			checkSharedSets(t, c, query, observed)
			db := sql.OpenDB(c.public())
			if got := readColumnTypes(t, db, query); !reflect.DeepEqual(got, wantTypes) {
				t.Errorf("observed %v: column types\n got  %v\n want %v", observed, got, wantTypes)
			}
			// Rows read into memory answer the same.
			rows, err := db.Query(query)
			if err != nil {
				t.Fatal(err)
			}
			rows.Next()
			var n int
			if err := db.QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
				t.Fatal(err)
			}
			cts, err := rows.ColumnTypes()
			if err != nil {
				t.Fatal(err)
			}
			if got := describeColumnTypes(cts); !reflect.DeepEqual(got, wantTypes) {
				t.Errorf("observed %v, rows read into memory: column types\n got  %v\n want %v", observed, got, wantTypes)
			}
			rows.Close()
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func sepFor(url string) string {
	if strings.Contains(url, "?") {
		return "&"
	}
	return "?"
}

// checkSharedSets compares the interface sets of one force_rollback
// connection, its statement and its rows (as read, and as read into
// memory) with those of the real connection behind it.
func checkSharedSets(t *testing.T, c *connector, query string, observed bool) {
	t.Helper()
	ctx := context.Background()
	wc, err := c.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer wc.Close()
	dconn, ok := DriverConn(wc).(driver.Conn)
	if !ok || dconn == wc {
		t.Fatalf("DriverConn returned %T, not the real connection", DriverConn(wc))
	}
	if _, ok := dconn.(*sharedConn); ok {
		t.Fatal("DriverConn returned the shared view, not the real connection")
	}
	compare := func(what string, raw, wrapped any, list []iface, extra ...string) {
		t.Helper()
		r, w := ifaceSet(raw, list), ifaceSet(wrapped, list)
		for _, x := range extra {
			if !slices.Contains(r, x) {
				r = append(r, x)
			}
		}
		slices.Sort(r)
		slices.Sort(w)
		if !reflect.DeepEqual(r, w) {
			t.Errorf("observed %v: %s interfaces:\n raw     %v\n wrapped %v", observed, what, r, w)
		}
	}
	// The real connection first, while DriverConn holds it for wc.
	rs, err := dconn.(driver.ConnPrepareContext).PrepareContext(ctx, query)
	if err != nil {
		t.Fatal(err)
	}
	rr, err := dconn.(driver.QueryerContext).QueryContext(ctx, query, nil)
	if err != nil {
		t.Fatal(err)
	}
	rr.Close()
	rs.Close()

	compare("conn", dconn, wc, connIfaces, "Validator", "NamedValueChecker")
	ws, err := wc.(driver.ConnPrepareContext).PrepareContext(ctx, query)
	if err != nil {
		t.Fatal(err)
	}
	compare("stmt", rs, ws, stmtIfaces)
	ws.Close()
	wr, err := wc.(driver.QueryerContext).QueryContext(ctx, query, nil)
	if err != nil {
		t.Fatal(err)
	}
	compare("rows", rr, wr, rowsIfaces)
	// Another connection needs the shared one: wr is read into memory.
	wc2, err := c.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer wc2.Close()
	r2, err := wc2.(driver.QueryerContext).QueryContext(ctx, query, nil)
	if err != nil {
		t.Fatal(err)
	}
	compare("detached rows", rr, wr, rowsIfaces)
	dest := make([]driver.Value, 3)
	if err := wr.Next(dest); err != nil {
		t.Fatalf("first row read into memory: %v", err)
	}
	wr.Close()
	r2.Close()
}

// readColumnTypes describes the column types of query's result.
func readColumnTypes(t *testing.T, db *sql.DB, query string) []string {
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
	return describeColumnTypes(cts)
}

// describeColumnTypes prints every attribute of each column type.
func describeColumnTypes(cts []*sql.ColumnType) []string {
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
