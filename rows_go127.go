//go:build go1.27

package databases

import "database/sql/driver"

// rowsColumnScanner carries driver.RowsColumnScanner, which Go 1.27 added:
// database/sql then reads rows with NextRow and ScanColumn instead of Next,
// and the driver scans into the destination itself (pgx fills Go slices from
// PostgreSQL arrays). wrapRows picks it only when the real rows have it.
type rowsColumnScanner rows

// NextRow advances the real rows and counts the row as Next does.
func (r *rowsColumnScanner) NextRow() error {
	return (*rows)(r).advanced(r.raw.(driver.RowsColumnScanner).NextRow())
}

func (r *rowsColumnScanner) ScanColumn(scanCtx driver.ScanContext, index int, dest any) error {
	return r.raw.(driver.RowsColumnScanner).ScanColumn(scanCtx, index, dest)
}
