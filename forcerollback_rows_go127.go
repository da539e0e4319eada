//go:build go1.27

package databases

// force_rollback's rows as Go 1.27's driver.RowsColumnScanner: the real
// rows scan each column into its destination (pgx fills a []int64 from a
// bigint[]), as they do without force_rollback.

import (
	"database/sql"
	"database/sql/driver"
	"io"
)

// sharedRowsColumnScanner is the mixin of RowsColumnScanner.
type sharedRowsColumnScanner sharedRows

// NextRow moves to the next row, of the real rows or of those in memory.
func (r *sharedRowsColumnScanner) NextRow() error {
	x := (*sharedRows)(r)
	x.conn.s.endRaw(x.conn)
	x.mu.Lock()
	defer x.mu.Unlock()
	x.onRow = false
	if x.detached {
		x.cur = make([]driver.Value, len(x.sets[0].cols))
		if err := x.nextDetached(x.cur); err != nil {
			x.cur = nil
			return err
		}
		return nil
	}
	err := x.conn.s.use(x.raw.(driver.RowsColumnScanner).NextRow)
	switch {
	case err == nil:
		x.onRow = true
	case err != io.EOF:
		x.readErr = err
	}
	return err
}

// ScanColumn scans column index of the current row into dest: the real
// rows do it while attached; a row in memory converts as database/sql does.
func (r *sharedRowsColumnScanner) ScanColumn(scanCtx driver.ScanContext, index int, dest any) error {
	x := (*sharedRows)(r)
	x.conn.s.endRaw(x.conn)
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.detached {
		if index >= len(x.cur) {
			return io.EOF
		}
		return sql.ConvertAssign(scanCtx, dest, x.cur[index])
	}
	return x.conn.s.use(func() error {
		return x.raw.(driver.RowsColumnScanner).ScanColumn(scanCtx, index, dest)
	})
}

// captureRow reads the row NextRow moved the real rows to into cur, before
// the rows are read into memory; r.mu and phys are held.
func (r *sharedRows) captureRow() {
	if !r.onRow {
		return
	}
	r.onRow = false
	scanner := r.raw.(driver.RowsColumnScanner)
	r.cur = make([]driver.Value, len(r.raw.Columns()))
	for i := range r.cur {
		var v any
		if err := scanner.ScanColumn(driver.ScanContext{}, i, &v); err != nil {
			r.readErr = err
			return
		}
		if b, ok := v.([]byte); ok {
			v = append([]byte(nil), b...)
		}
		r.cur[i] = v
	}
}
