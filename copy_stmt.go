//lint:file-ignore SA1019 a driver.Stmt has the legacy Exec and Query

package databases

// lib/pq's convention for COPY through database/sql, so that code written
// for it moves unchanged:
//
//	stmt, _ := tx.Prepare(`COPY t (a, b) FROM STDIN`) // or pq.CopyIn("t", "a", "b")
//	for _, r := range rows {
//		stmt.Exec(r.A, r.B) // buffered: no round trip
//	}
//	stmt.Exec()  // loads the rows buffered
//	stmt.Close()
//
// Preparing such a statement reaches no server: the connection's Prepare
// hands it to prepareCopy, and the load runs when the rows are flushed, as
// CopyFrom runs it (copy_conn.go). CopyFrom itself prepares the same
// statement and executes it once with its whole source.

import (
	"context"
	"database/sql/driver"
	"errors"
)

// copyStmt is a prepared COPY … FROM STDIN.
type copyStmt struct {
	conn  *conn
	t     *copyTarget
	rows  [][]any // buffered by Exec, loaded by the Exec without arguments
	chunk []any   // holds the values of the rows, allocated copyChunkRows rows at a time
}

// copyChunkRows is how many rows' values one allocation of a buffering
// copyStmt holds.
const copyChunkRows = 1024

var (
	_ driver.Stmt              = (*copyStmt)(nil)
	_ driver.StmtExecContext   = (*copyStmt)(nil)
	_ driver.NamedValueChecker = (*copyStmt)(nil)
)

// prepareCopy is the connection's Prepare for a COPY … FROM STDIN; ok is
// false for every other statement, which Prepare sends on as it is.
func (c *conn) prepareCopy(ctx context.Context, query string) (st driver.Stmt, ok bool, err error) {
	if !isCopyFromStdin(query) {
		return nil, false, nil
	}
	spec, err := parseCopy(query)
	if err != nil {
		return nil, true, err
	}
	if ctx.Value(readReplicaKey{}) != nil {
		return nil, true, errCopyReplica
	}
	return &copyStmt{conn: c, t: c.copyTarget(spec, copyDisplayText(c.connector.backend.identQuote(), spec, query))}, true, nil
}

// NumInput is -1: a row's values, or none to flush, or CopyFrom's source.
func (s *copyStmt) NumInput() int { return -1 }

// Close drops rows that were never flushed: database/sql closes a
// transaction's statements after its Commit or Rollback, too late to load
// them inside it.
func (s *copyStmt) Close() error {
	s.rows, s.chunk = nil, nil
	return nil
}

func (s *copyStmt) Exec(values []driver.Value) (driver.Result, error) {
	return s.ExecContext(context.Background(), valuesToNamedValues(values))
}

func (s *copyStmt) Query([]driver.Value) (driver.Rows, error) {
	return nil, errors.New("databases: COPY … FROM STDIN returns no rows; use Exec")
}

// CheckNamedValue takes CopyFrom's source as it is, and converts a row's
// values as Exec converts its arguments.
func (s *copyStmt) CheckNamedValue(nv *driver.NamedValue) error {
	if _, ok := nv.Value.(copySourceArg); ok {
		return nil
	}
	v, err := s.conn.copyValue(nv.Value)
	if err != nil {
		return err
	}
	nv.Value = v
	return nil
}

// ExecContext buffers a row, or loads: CopyFrom's source at once, or the
// rows buffered when called without arguments.
func (s *copyStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	if len(args) == 1 {
		if a, ok := args[0].Value.(copySourceArg); ok {
			n, err := s.conn.copyFrom(ctx, s.t, a.src)
			return driver.RowsAffected(n), err
		}
	}
	if len(args) == 0 {
		rows := s.rows
		s.rows, s.chunk = nil, nil
		n, err := s.conn.copyFrom(ctx, s.t, CopyRows(rows))
		return driver.RowsAffected(n), err
	}
	if len(args) != len(s.t.columns) {
		return nil, &CopyError{Table: s.t.name(), Row: int64(len(s.rows)), Err: errRowWidth(len(args), len(s.t.columns))}
	}
	if cap(s.chunk)-len(s.chunk) < len(args) {
		s.chunk = make([]any, 0, copyChunkRows*len(args))
	}
	start := len(s.chunk)
	for _, a := range args {
		if b, ok := a.Value.([]byte); ok {
			a.Value = append([]byte(nil), b...) // the caller may reuse its buffer before the flush
		}
		s.chunk = append(s.chunk, a.Value)
	}
	s.rows = append(s.rows, s.chunk[start:len(s.chunk):len(s.chunk)])
	return driver.RowsAffected(0), nil
}
