package databases

import (
	"context"
	"database/sql/driver"
	"errors"
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
	chain middleware.Chain
	ctx   context.Context  // the context the query ran with, after middleware
	call  *middleware.Call // the query's call, reused for OpRows
	stmt  driver.Stmt      // a statement to close with the rows, or nil
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

// observeQuery runs a query's call through the chain and, when it succeeds,
// returns its rows wrapped so that closing them ends the call.
// The query function may return a statement to close with the rows.
func observeQuery(ctx context.Context, chain middleware.Chain, call *middleware.Call, query func(context.Context, *middleware.Call) (driver.Rows, driver.Stmt, error)) (driver.Rows, error) {
	var raw driver.Rows
	var stmt driver.Stmt
	var rowsCtx context.Context
	err := chain.Run(ctx, call, func(ctx context.Context, call *middleware.Call) error {
		var err error
		raw, stmt, err = query(ctx, call)
		rowsCtx = ctx
		return err
	})
	if err != nil {
		if raw != nil {
			raw.Close()
		}
		if stmt != nil {
			stmt.Close()
		}
		return nil, err
	}
	r := rows{raw: raw, chain: chain, ctx: rowsCtx, call: call, stmt: stmt}
	r.nextResultSet, _ = raw.(driver.RowsNextResultSet)
	r.scanType, _ = raw.(driver.RowsColumnTypeScanType)
	r.dbTypeName, _ = raw.(driver.RowsColumnTypeDatabaseTypeName)
	r.length, _ = raw.(driver.RowsColumnTypeLength)
	r.nullable, _ = raw.(driver.RowsColumnTypeNullable)
	r.precisionScale, _ = raw.(driver.RowsColumnTypePrecisionScale)
	return wrapRowsValue(r), nil
}

func (r *rows) Columns() []string { return r.raw.Columns() }

func (r *rows) Next(dest []driver.Value) error {
	err := r.raw.Next(dest)
	switch err {
	case nil:
		r.call.RowsReturned++
	case io.EOF:
	default:
		r.call.RowsErr = err
	}
	return err
}

// Close closes the real rows and ends the query's call with OpRows.
func (r *rows) Close() error {
	if r.done {
		return r.raw.Close()
	}
	r.done = true
	r.call.Op = middleware.OpRows
	return r.chain.Run(r.ctx, r.call, func(context.Context, *middleware.Call) error {
		err := r.raw.Close()
		if r.stmt != nil {
			err = errors.Join(err, r.stmt.Close())
		}
		return err
	})
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
