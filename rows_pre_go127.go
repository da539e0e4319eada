//go:build !go1.27

package databases

import "database/sql/driver"

// columnScan is empty before Go 1.27, whose rows have no
// driver.RowsColumnScanner to scan with (rows_go127.go).
//
//lint:ignore U1000 the field of rows that Go 1.27 reads
type columnScan struct{}

// directRows takes no room before Go 1.27 (rows_go127.go).
type directRows struct{}

// wrapDirect returns raw: before Go 1.27 database/sql reads rows with Next,
// and the real rows cost least (rows_go127.go).
func (c *conn) wrapDirect(raw driver.Rows) driver.Rows { return raw }
