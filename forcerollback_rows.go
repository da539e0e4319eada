package databases

// force_rollback's rows. While they are open their connection owns the
// shared real connection; when another connection needs it, the rows are
// read into memory (detached), every result set of them, so that a query
// inside a loop over rows works instead of deadlocking. They offer the
// optional interfaces of the real rows that still hold in memory
// (wrapSharedRows, generated). On Go 1.27 that includes scanning columns
// themselves (RowsColumnScanner), through the real rows while attached, as
// production does; rows in memory hold driver values, which scan as
// database/sql converts them.

import (
	"bytes"
	"database/sql/driver"
	"errors"
	"io"
	"reflect"
	"sync"
)

// sharedRows are rows read from the shared connection.
type sharedRows struct {
	conn  *sharedConn
	raw   driver.Rows
	stmt  driver.Stmt    // a statement to close with the rows
	guard statementGuard // the query's, ended when the real rows close

	mu       sync.Mutex
	detached bool
	closed   bool
	readErr  error // what ended reading the real rows early
	// Go 1.27's RowsColumnScanner (forcerollback_rows_go127.go): onRow is
	// set while NextRow has moved the real rows to a row not yet read into
	// memory; cur is the row NextRow moved to once detached.
	onRow    bool
	cur      []driver.Value
	sets     []resultSet // detached: the result sets left, the current one first
	nextErr  error       // detached: what moving past the last set returns
	closeErr error       // detached: what closing the real rows returned
}

// resultSet is one result set read into memory.
type resultSet struct {
	cols  []string
	types []columnType
	rows  [][]driver.Value
	err   error // what ended reading it early
}

// columnType is what a detached result set still answers about a column.
type columnType struct {
	scanType         reflect.Type
	dbType           string
	length           int64
	lengthOK         bool
	nullable, nullOK bool
	precision, scale int64
	precisionScaleOK bool
}

// Mixins: each carries the methods of one optional interface; the
// combinations that wrapSharedRows returns pick them after the real rows.
type (
	sharedRowsNextResultSet  sharedRows
	sharedRowsScanType       sharedRows
	sharedRowsDBTypeName     sharedRows
	sharedRowsLength         sharedRows
	sharedRowsNullable       sharedRows
	sharedRowsPrecisionScale sharedRows
)

var _ driver.Rows = (*sharedRows)(nil)

func (r *sharedRows) Columns() []string {
	r.conn.s.endRaw(r.conn)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.detached {
		return r.sets[0].cols
	}
	return r.raw.Columns()
}

func (r *sharedRows) Next(dest []driver.Value) error {
	r.conn.s.endRaw(r.conn)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.detached {
		return r.nextDetached(dest)
	}
	err := r.conn.s.use(func() error { return r.raw.Next(dest) })
	if err != nil && err != io.EOF {
		r.readErr = err
	}
	if err == nil {
		// The caller may still hold this row when another connection needs
		// the shared one and the rest is read into memory, through the
		// buffer the driver's values point into: the row keeps copies.
		cloneBytes(dest)
	}
	return err
}

// cloneBytes replaces each []byte of row with a copy (nil stays nil, empty
// stays empty): drivers may reuse their buffers at the next read.
func cloneBytes(row []driver.Value) {
	for i, v := range row {
		if b, ok := v.([]byte); ok {
			row[i] = bytes.Clone(b)
		}
	}
}

// nextDetached moves to the next row in memory; r.mu is held.
func (r *sharedRows) nextDetached(dest []driver.Value) error {
	set := &r.sets[0]
	if len(set.rows) == 0 {
		if set.err != nil {
			return set.err
		}
		return io.EOF
	}
	copy(dest, set.rows[0])
	set.rows = set.rows[1:]
	return nil
}

func (r *sharedRowsNextResultSet) HasNextResultSet() bool {
	x := (*sharedRows)(r)
	x.conn.s.endRaw(x.conn)
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.detached {
		return len(x.sets) > 1 || x.nextErr != nil
	}
	var has bool
	x.conn.s.use(func() error {
		has = x.raw.(driver.RowsNextResultSet).HasNextResultSet()
		return nil
	})
	return has
}

func (r *sharedRowsNextResultSet) NextResultSet() error {
	x := (*sharedRows)(r)
	x.conn.s.endRaw(x.conn)
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.detached {
		switch {
		case len(x.sets) > 1:
			x.sets = x.sets[1:]
			return nil
		case x.nextErr != nil:
			err := x.nextErr
			x.nextErr = nil
			return err
		}
		return io.EOF
	}
	err := x.conn.s.use(x.raw.(driver.RowsNextResultSet).NextResultSet)
	if err != nil && err != io.EOF {
		x.readErr = err
	}
	return err
}

// detach reads the remaining rows, of every result set, into memory and
// gives the shared connection back. Another connection calls it.
func (r *sharedRows) detach() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.detached || r.closed {
		return
	}
	s := r.conn.s
	s.phys.Lock()
	if !s.closed.Load() {
		r.readAll()
		r.closeErr = r.closeRaw()
	}
	s.phys.Unlock()
	r.detached = true
	s.dropRows(r)
	s.release(r.conn)
}

// readAll reads what is left of the real rows, the row NextRow moved to
// first; r.mu and phys are held.
func (r *sharedRows) readAll() {
	r.captureRow()
	r.sets = []resultSet{r.readSet()}
	next, ok := r.raw.(driver.RowsNextResultSet)
	if !ok || r.sets[0].err != nil {
		return
	}
	for next.HasNextResultSet() {
		if err := next.NextResultSet(); err != nil {
			if err != io.EOF {
				r.nextErr, r.readErr = err, err
			}
			return
		}
		r.sets = append(r.sets, r.readSet())
		if err := r.sets[len(r.sets)-1].err; err != nil {
			r.readErr = err
			return
		}
	}
}

// readSet reads the current result set of the real rows.
func (r *sharedRows) readSet() resultSet {
	set := resultSet{cols: r.raw.Columns()}
	set.types = make([]columnType, len(set.cols))
	for i := range set.types {
		set.types[i] = r.columnType(i)
	}
	for {
		row := make([]driver.Value, len(set.cols))
		err := r.raw.Next(row)
		if err == io.EOF {
			return set
		}
		if err != nil {
			set.err, r.readErr = err, err
			return set
		}
		cloneBytes(row)
		set.rows = append(set.rows, row)
	}
}

// closeRaw closes the real rows and ends the query's guard; phys is held.
func (r *sharedRows) closeRaw() error {
	err := r.raw.Close()
	if r.stmt != nil {
		err = errors.Join(err, r.stmt.Close())
	}
	failure := r.readErr
	if failure == nil {
		failure = err
	}
	if gerr := r.conn.s.closeGuard(r.guard, failure); gerr != failure {
		err = errors.Join(err, gerr)
	}
	return err
}

func (r *sharedRows) Close() error {
	s := r.conn.s
	s.endRaw(r.conn)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	if r.detached {
		return r.closeErr
	}
	err := s.use(r.closeRaw)
	s.dropRows(r)
	s.release(r.conn)
	return err
}

// columnType asks the real rows about column i; r.mu is held.
func (r *sharedRows) columnType(i int) columnType {
	var ct columnType
	if t, ok := r.raw.(driver.RowsColumnTypeScanType); ok {
		ct.scanType = t.ColumnTypeScanType(i)
	}
	if t, ok := r.raw.(driver.RowsColumnTypeDatabaseTypeName); ok {
		ct.dbType = t.ColumnTypeDatabaseTypeName(i)
	}
	if t, ok := r.raw.(driver.RowsColumnTypeLength); ok {
		ct.length, ct.lengthOK = t.ColumnTypeLength(i)
	}
	if t, ok := r.raw.(driver.RowsColumnTypeNullable); ok {
		ct.nullable, ct.nullOK = t.ColumnTypeNullable(i)
	}
	if t, ok := r.raw.(driver.RowsColumnTypePrecisionScale); ok {
		ct.precision, ct.scale, ct.precisionScaleOK = t.ColumnTypePrecisionScale(i)
	}
	return ct
}

func (r *sharedRows) typeOf(i int) columnType {
	r.conn.s.endRaw(r.conn)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.detached {
		return r.sets[0].types[i]
	}
	return r.columnType(i)
}

func (r *sharedRowsScanType) ColumnTypeScanType(i int) reflect.Type {
	return (*sharedRows)(r).typeOf(i).scanType
}

func (r *sharedRowsDBTypeName) ColumnTypeDatabaseTypeName(i int) string {
	return (*sharedRows)(r).typeOf(i).dbType
}

func (r *sharedRowsLength) ColumnTypeLength(i int) (int64, bool) {
	t := (*sharedRows)(r).typeOf(i)
	return t.length, t.lengthOK
}

func (r *sharedRowsNullable) ColumnTypeNullable(i int) (bool, bool) {
	t := (*sharedRows)(r).typeOf(i)
	return t.nullable, t.nullOK
}

func (r *sharedRowsPrecisionScale) ColumnTypePrecisionScale(i int) (int64, int64, bool) {
	t := (*sharedRows)(r).typeOf(i)
	return t.precision, t.scale, t.precisionScaleOK
}
