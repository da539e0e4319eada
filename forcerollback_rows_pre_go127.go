//go:build !go1.27

package databases

// captureRow has nothing to read before Go 1.27, where database/sql reads
// each row whole with Next and nothing sets onRow or cur.
func (r *sharedRows) captureRow() { r.onRow, r.cur = false, nil }
