//go:build !go1.27

package databases

// captureRow has nothing to do before Go 1.27: database/sql reads each
// row whole with Next.
func (r *sharedRows) captureRow() {}
