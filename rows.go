package databases

import (
	"database/sql/driver"
	"errors"
	"io"
	"reflect"

	"github.com/go-databases/databases/middleware"
)

// rows wraps a result set of the real driver while middleware watches it:
// it counts the rows read and ends the query's call (OpRows) at Close.
// Without middleware, queries return the real rows untouched, except
// pgx's on Go 1.27 (wrapDirect in rows_go127.go). The value
// lives in the query's call state and wrapRows returns it as one of the
// pointer-shaped types of wrap_gen.go, with exactly the optional interfaces
// of the real rows, so wrapping allocates nothing.
//
// Without middleware, rows that a cached prepared statement returned are
// wrapped too (state nil): closing them gives the statement back
// (stmtcache.go).
type rows struct {
	raw   driver.Rows
	state *callState // the query's call, ended with OpRows at Close; nil without middleware
	after io.Closer  // without middleware: the statement to close or give back with the rows, or nil
	done  bool
	//lint:ignore U1000 read from Go 1.27 on (rows_go127.go)
	scan columnScan // Go 1.27: how the current row is scanned (rows_go127.go)
}

// Mixins: each carries the methods of one optional interface, asserted on
// the real rows when called; wrapRows only picks them when the real rows
// have that interface. rowsColumnScanner, for the interface Go 1.27 added,
// is in rows_go127.go.
type (
	rowsNextResultSet  rows
	rowsScanType       rows
	rowsDBTypeName     rows
	rowsLength         rows
	rowsNullable       rows
	rowsPrecisionScale rows
)

var _ driver.Rows = (*rows)(nil)

// rowsInterfaces returns the optional interfaces of raw as wrapRows takes
// them. Rows of one connection nearly always share one type, so the answer
// is kept for it.
func (c *conn) rowsInterfaces(raw driver.Rows) uint {
	if t := reflect.TypeOf(raw); t != c.rowsType {
		c.rowsType, c.rowsMixin = t, rowsMixins(raw)
	}
	return c.rowsMixin
}

func (r *rows) Columns() []string { return r.raw.Columns() }

func (r *rows) Next(dest []driver.Value) error { return r.advanced(r.raw.Next(dest)) }

// advanced counts the row the real rows moved to, or keeps the error that
// ended them, for the query's call; it returns err.
func (r *rows) advanced(err error) error {
	if r.state == nil {
		return err
	}
	switch err {
	case nil:
		r.state.call.RowsReturned++
	case io.EOF:
	default:
		r.state.call.RowsErr = err
	}
	return err
}

// Close ends the query's call with OpRows, which closes the real rows.
func (r *rows) Close() error {
	if r.done {
		return nil
	}
	r.done = true
	s := r.state
	if s == nil {
		if r.after == nil { // wrapDirect's rows: the real rows' own error
			return r.raw.Close()
		}
		return errors.Join(r.raw.Close(), r.after.Close())
	}
	s.call.Op = middleware.OpRows
	err := s.observe(s.rowsCtx, s.final)
	s.release()
	return err
}

func (r *rowsNextResultSet) HasNextResultSet() bool {
	return r.raw.(driver.RowsNextResultSet).HasNextResultSet()
}

func (r *rowsNextResultSet) NextResultSet() error {
	return r.raw.(driver.RowsNextResultSet).NextResultSet()
}

func (r *rowsScanType) ColumnTypeScanType(i int) reflect.Type {
	return r.raw.(driver.RowsColumnTypeScanType).ColumnTypeScanType(i)
}

func (r *rowsDBTypeName) ColumnTypeDatabaseTypeName(i int) string {
	return r.raw.(driver.RowsColumnTypeDatabaseTypeName).ColumnTypeDatabaseTypeName(i)
}

func (r *rowsLength) ColumnTypeLength(i int) (int64, bool) {
	return r.raw.(driver.RowsColumnTypeLength).ColumnTypeLength(i)
}

func (r *rowsNullable) ColumnTypeNullable(i int) (bool, bool) {
	return r.raw.(driver.RowsColumnTypeNullable).ColumnTypeNullable(i)
}

func (r *rowsPrecisionScale) ColumnTypePrecisionScale(i int) (int64, int64, bool) {
	return r.raw.(driver.RowsColumnTypePrecisionScale).ColumnTypePrecisionScale(i)
}
