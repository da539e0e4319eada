//go:build !go1.27

package databases

// newRowsIfaces are the optional rows interfaces of releases newer than
// this one: none.
var newRowsIfaces []iface

// goHasColumnScanner tells whether database/sql scans through
// driver.RowsColumnScanner, which Go 1.27 added.
const goHasColumnScanner = false
