//go:build go1.27

package databases

import (
	"database/sql"
	"database/sql/driver"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/stdlib"
)

// rowsColumnScanner carries driver.RowsColumnScanner, which Go 1.27 added:
// database/sql then reads rows with NextRow and ScanColumn instead of Next,
// and the driver scans into the destination itself (pgx fills Go slices from
// PostgreSQL arrays). wrapRows picks it only when the real rows have it.
//
// pgx's ScanColumn costs more than its Next for what database/sql has
// always scanned: for an *int64, a *string, a sql.NullString… it looks the
// destination's type up (reflect, a sync.Map), makes the column's
// driver.Value as Next does, and hands it to sql.ConvertAssign. So while
// every column of a row goes to such a destination, the rows are read
// with the real Next and scanned with sql.ConvertAssign, which is what pgx
// does for them; any other destination (a Go slice from an array, a pgx
// type) goes to pgx's ScanColumn, which reads the same current row, and
// the rows after it are read with NextRow.
type rowsColumnScanner rows

// columnScan is what rowsColumnScanner keeps of its rows (see above).
type columnScan struct {
	raw    bool            // read with NextRow, scan with the real ScanColumn
	row    bool            // vals holds the current row
	missed bool            // a column of the current row went to the real ScanColumn
	vals   []driver.Value  // the current row as the real Next gives it
	small  [4]driver.Value // vals of up to four columns, without an allocation
}

// NextRow advances the real rows and counts the row as Next does.
func (r *rowsColumnScanner) NextRow() error {
	s := &r.scan
	s.row = false
	if s.missed {
		s.raw = true
	}
	if !s.raw && s.vals == nil {
		if _, ok := r.raw.(*stdlib.Rows); ok {
			if n := len(r.raw.Columns()); n <= len(s.small) {
				s.vals = s.small[:n:n]
			} else {
				s.vals = make([]driver.Value, n)
			}
		} else {
			s.raw = true // another driver's ScanColumn may differ from its Next
		}
	}
	if s.raw {
		return (*rows)(r).advanced(r.raw.(driver.RowsColumnScanner).NextRow())
	}
	err := r.raw.Next(s.vals)
	switch {
	case err == nil:
		s.row = true
	case strings.HasPrefix(err.Error(), "convert field "):
		// pgx moved to the row but could not make a column's value: its
		// ScanColumn reports that at the column's Scan, as raw pgx does.
		s.raw, err = true, nil
	}
	return (*rows)(r).advanced(err)
}

// ScanColumn scans a value destination with sql.ConvertAssign, as pgx does,
// and anything else with pgx's ScanColumn.
func (r *rowsColumnScanner) ScanColumn(scanCtx driver.ScanContext, index int, dest any) error {
	s := &r.scan
	if s.row {
		if assign(dest, s.vals[index]) {
			return nil
		}
		if valueDest(dest) {
			return sql.ConvertAssign(scanCtx, dest, s.vals[index])
		}
		s.missed = true
	}
	return r.raw.(driver.RowsColumnScanner).ScanColumn(scanCtx, index, dest)
}

// assign stores v in dest when dest is a non-nil pointer to v's own type
// among the most common ones, which is what sql.ConvertAssign does with
// them (through reflection for the numbers and bools); it reports whether
// it did.
func assign(dest any, v driver.Value) bool {
	switch d := dest.(type) {
	case *int64:
		if x, ok := v.(int64); ok && d != nil {
			*d = x
			return true
		}
	case *string:
		if x, ok := v.(string); ok && d != nil {
			*d = x
			return true
		}
	case *float64:
		if x, ok := v.(float64); ok && d != nil {
			*d = x
			return true
		}
	case *bool:
		if x, ok := v.(bool); ok && d != nil {
			*d = x
			return true
		}
	case *time.Time:
		if x, ok := v.(time.Time); ok && d != nil {
			*d = x
			return true
		}
	}
	return false
}

// valueDest reports whether dest is a non-nil pointer that pgx's
// ScanColumn fills from the column's driver.Value with sql.ConvertAssign
// (its isSQLScanDestination): the common destinations only; any other
// goes to pgx.
func valueDest(dest any) bool {
	switch d := dest.(type) {
	case *int64:
		return d != nil
	case *string:
		return d != nil
	case *float64:
		return d != nil
	case *bool:
		return d != nil
	case *time.Time:
		return d != nil
	case *[]byte:
		return d != nil
	case *any:
		return d != nil
	case *int:
		return d != nil
	case *int32:
		return d != nil
	case *sql.RawBytes:
		return d != nil
	case *sql.NullString:
		return d != nil
	case *sql.NullInt64:
		return d != nil
	case *sql.NullInt32:
		return d != nil
	case *sql.NullInt16:
		return d != nil
	case *sql.NullFloat64:
		return d != nil
	case *sql.NullBool:
		return d != nil
	case *sql.NullTime:
		return d != nil
	case *sql.NullByte:
		return d != nil
	}
	return false
}

// directRows is the rows value a connection lends the query it runs
// without middleware (wrapDirect).
type directRows = rows

// wrapDirect wraps the rows pgx returned to a query without middleware, so
// that Go 1.27 scans them as it scans the rows a middleware watches (see
// rowsColumnScanner): pgx's ScanColumn costs more than its Next for the
// common destinations. Other drivers' rows are returned untouched: the
// cheaper path is pgx's alone (NextRow). The connection's own value holds
// them when the rows it held last are closed (pgx runs one query at a time
// on a connection); otherwise a new one does.
func (c *conn) wrapDirect(raw driver.Rows) driver.Rows {
	if _, ok := raw.(*stdlib.Rows); !ok {
		return raw
	}
	r := &c.direct
	if r.raw != nil && !r.done {
		r = new(rows)
	}
	*r = rows{raw: raw}
	return wrapRows(r, c.rowsInterfaces(raw))
}
