//go:build !go1.27

package databases

// columnScan is empty before Go 1.27, whose rows have no
// driver.RowsColumnScanner to scan with (rows_go127.go).
//
//lint:ignore U1000 the field of rows that Go 1.27 reads
type columnScan struct{}
