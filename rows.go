package databases

import (
	"database/sql/driver"
	"io"
	"reflect"

	"github.com/go-databases/databases/middleware"
)

// rows wraps a result set of the real driver while middleware watches it:
// it counts the rows read and ends the query's call (OpRows) at Close.
// Without middleware, queries return the real rows untouched. wrapRowsValue
// builds a value with exactly the optional interfaces of the real rows.
type rows struct {
	raw   driver.Rows
	state *callState // the query's call, ended with OpRows at Close
	done  bool

	nextResultSet  driver.RowsNextResultSet
	scanType       driver.RowsColumnTypeScanType
	dbTypeName     driver.RowsColumnTypeDatabaseTypeName
	length         driver.RowsColumnTypeLength
	nullable       driver.RowsColumnTypeNullable
	precisionScale driver.RowsColumnTypePrecisionScale
}

// Mixins: each adds one optional interface to the value wrapRowsValue builds.
type (
	rowsNextResultSet  rows
	rowsScanType       rows
	rowsDBTypeName     rows
	rowsLength         rows
	rowsNullable       rows
	rowsPrecisionScale rows
)

// Each mixin completes an optional interface when combined with rows.
var (
	_ driver.Rows              = (*rows)(nil)
	_ driver.RowsNextResultSet = struct {
		*rows
		*rowsNextResultSet
	}{}
	_ driver.RowsColumnTypeScanType = struct {
		*rows
		*rowsScanType
	}{}
	_ driver.RowsColumnTypeDatabaseTypeName = struct {
		*rows
		*rowsDBTypeName
	}{}
	_ driver.RowsColumnTypeLength = struct {
		*rows
		*rowsLength
	}{}
	_ driver.RowsColumnTypeNullable = struct {
		*rows
		*rowsNullable
	}{}
	_ driver.RowsColumnTypePrecisionScale = struct {
		*rows
		*rowsPrecisionScale
	}{}
)

// newRows wraps the rows a query call returned.
func newRows(s *callState) rows {
	raw := s.rows
	r := rows{raw: raw, state: s}
	r.nextResultSet, _ = raw.(driver.RowsNextResultSet)
	r.scanType, _ = raw.(driver.RowsColumnTypeScanType)
	r.dbTypeName, _ = raw.(driver.RowsColumnTypeDatabaseTypeName)
	r.length, _ = raw.(driver.RowsColumnTypeLength)
	r.nullable, _ = raw.(driver.RowsColumnTypeNullable)
	r.precisionScale, _ = raw.(driver.RowsColumnTypePrecisionScale)
	return r
}

func (r *rows) Columns() []string { return r.raw.Columns() }

func (r *rows) Next(dest []driver.Value) error {
	err := r.raw.Next(dest)
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
	s.call.Op = middleware.OpRows
	err := s.conn.c.chain.Run(s.rowsCtx, &s.call, s.final)
	s.release()
	return err
}

func (r *rowsNextResultSet) HasNextResultSet() bool { return r.nextResultSet.HasNextResultSet() }
func (r *rowsNextResultSet) NextResultSet() error   { return r.nextResultSet.NextResultSet() }

func (r *rowsScanType) ColumnTypeScanType(i int) reflect.Type {
	return r.scanType.ColumnTypeScanType(i)
}

func (r *rowsDBTypeName) ColumnTypeDatabaseTypeName(i int) string {
	return r.dbTypeName.ColumnTypeDatabaseTypeName(i)
}

func (r *rowsLength) ColumnTypeLength(i int) (int64, bool) { return r.length.ColumnTypeLength(i) }

func (r *rowsNullable) ColumnTypeNullable(i int) (bool, bool) {
	return r.nullable.ColumnTypeNullable(i)
}

func (r *rowsPrecisionScale) ColumnTypePrecisionScale(i int) (int64, int64, bool) {
	return r.precisionScale.ColumnTypePrecisionScale(i)
}
