//go:build go1.27

package databases

import (
	"context"
	"database/sql/driver"
	"reflect"
	"strings"
	"testing"

	"github.com/go-databases/databases/internal/dbtest"
	"github.com/jackc/pgx/v5/stdlib"
)

// TestDirectRowsWrapped checks that on Go 1.27 a query without middleware
// wraps pgx's rows (wrapDirect), with exactly pgx's optional interfaces, so
// that database/sql scans them the cheaper way; and that other drivers'
// rows are returned untouched (by a query the statement cache does not
// serve, which wraps them to give its statement back).
func TestDirectRowsWrapped(t *testing.T) {
	ctx := context.Background()
	for _, b := range dbtest.Backends() {
		t.Run(b.Dialect, func(t *testing.T) {
			b.Require(t)
			url := b.URL // the query path without the statement cache, which is off with pgx
			if b.Dialect != "postgres" {
				sep := "?"
				if strings.Contains(url, "?") {
					sep = "&"
				}
				url += sep + "stmt_cache=0"
			}
			db, err := Open(url)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			c, err := db.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			err = c.Raw(func(dc any) error {
				for i := range 2 { // the second query reuses the connection's rows value
					r, err := dc.(driver.QueryerContext).QueryContext(ctx, "SELECT 1", nil)
					if err != nil {
						return err
					}
					// The wrapped rows are pointers to rows-shaped types of this package.
					ok := reflect.TypeOf(r).Kind() == reflect.Pointer &&
						reflect.TypeOf(r).Elem().PkgPath() == reflect.TypeFor[rows]().PkgPath()
					_, pgx := r.(*stdlib.Rows)
					switch {
					case b.Dialect == "postgres" && (pgx || !ok):
						t.Errorf("query %d: pgx's rows %T not wrapped", i, r)
					case b.Dialect != "postgres" && ok:
						t.Errorf("query %d: %s's rows wrapped (%T)", i, b.Dialect, r)
					}
					if ok {
						raw := (*rows)(reflect.ValueOf(r).UnsafePointer()).raw
						for _, f := range rowsIfaces {
							if f.has(r) != f.has(raw) {
								t.Errorf("query %d: %s: wrapped %v, real %v", i, f.name, f.has(r), f.has(raw))
							}
						}
					}
					if err := r.Close(); err != nil {
						t.Errorf("query %d: Close: %v", i, err)
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}
