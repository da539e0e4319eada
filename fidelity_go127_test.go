//go:build go1.27

package databases

import "database/sql/driver"

// newRowsIfaces are the optional rows interfaces Go 1.27 added.
var newRowsIfaces = []iface{
	{"RowsColumnScanner", is[driver.RowsColumnScanner]},
}

// goHasColumnScanner tells whether database/sql scans through
// driver.RowsColumnScanner (pgx's array scans into Go slices).
const goHasColumnScanner = true
