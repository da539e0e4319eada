package databases

// Bulk loading: the API and its row sources. CopyFrom reaches the
// connection through a prepared "COPY … FROM STDIN" statement, the one
// lib/pq's convention uses too (copy_stmt.go), so that a *sql.Tx, which
// offers no Raw, loads inside its own transaction. The connection then runs
// the load as one middleware call (copy_conn.go) through the fastest path
// of its backend (copy_pg.go, copy_insert.go).

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"strconv"
)

// CopySource is a source of rows for CopyFrom, as pgx's CopyFromSource:
// Next advances to the next row and reports whether there is one, Values
// returns its values in the order of CopyFrom's columns, and Err returns
// the error that ended the rows early, if any.
type CopySource interface {
	Next() bool
	Values() ([]any, error)
	Err() error
}

// CopyRows returns a CopySource of rows held in memory.
func CopyRows(rows [][]any) CopySource { return &copyRows{rows: rows, i: -1} }

type copyRows struct {
	rows [][]any
	i    int
}

func (r *copyRows) Next() bool             { r.i++; return r.i < len(r.rows) }
func (r *copyRows) Values() ([]any, error) { return r.rows[r.i], nil }
func (r *copyRows) Err() error             { return nil }

// CopySeq returns a CopySource of the rows seq yields, read as they are
// loaded. The source must be read to its end or it leaks the iterator's
// goroutine; CopyFrom does, even when it fails.
func CopySeq(seq iter.Seq[[]any]) CopySource {
	next, stop := iter.Pull(seq)
	return &copySeq{next: next, stop: stop}
}

type copySeq struct {
	next func() ([]any, bool)
	stop func()
	row  []any
}

func (s *copySeq) Next() bool {
	row, ok := s.next()
	if !ok {
		s.stop()
		return false
	}
	s.row = row
	return true
}

func (s *copySeq) Values() ([]any, error) { return s.row, nil }
func (s *copySeq) Err() error             { return nil }

// close stops the iterator of a load that ended early.
func (s *copySeq) close() { s.stop() }

// CopyFrom loads the rows of src into the columns of table, through the
// fastest path of the backend: PostgreSQL's COPY protocol (binary, through
// pgx), multi-row INSERTs sized to the server's limits on MySQL/MariaDB,
// and a multi-row INSERT prepared once per load on SQLite. q is a *sql.DB,
// a *sql.Conn or a *sql.Tx of a DB opened by this package. It returns the
// number of rows loaded.
//
// The load is all or nothing: inside q's transaction when q is a *sql.Tx,
// otherwise in a transaction of its own. A failure is a *CopyError that
// names the row (0-based index in src) and, where the server says, the
// column. Values convert as Exec arguments do. table may be qualified
// (schema.table); each part and each column is quoted for the dialect, so
// names are given as they are, not quoted.
//
// A source whose Next, Values or Err panics ends the load as a failure
// would, rolled back with its connection given back, and CopyFrom then
// panics with the same value on the caller's goroutine (PostgreSQL reads
// the source on a goroutine of pgx's).
//
// A load is a write: it runs on the primary, counts for read-your-writes,
// and is refused under ReadReplica. It is one middleware call of
// middleware.OpCopy, whose RowsAffected is the count. A cancelled ctx stops
// the load between rows and rolls it back, leaving the connection usable.
func CopyFrom(ctx context.Context, q any, table string, columns []string, src CopySource) (int64, error) {
	if len(columns) == 0 {
		return 0, fmt.Errorf("databases.CopyFrom %s: no columns given", table)
	}
	if src == nil {
		return 0, fmt.Errorf("databases.CopyFrom %s: no source given", table)
	}
	if s, ok := src.(*copySeq); ok {
		defer s.close()
	}
	var n int64
	err := withCopyStmt(ctx, q, table, columns, func(st *sql.Stmt) error {
		res, err := st.ExecContext(ctx, copySourceArg{src})
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	var p *copyPanic
	if errors.As(err, &p) {
		panic(p.value) // the load is rolled back and its connection given back
	}
	return n, err
}

// withCopyStmt prepares the COPY statement of table and columns on q and
// gives it to f.
func withCopyStmt(ctx context.Context, q any, table string, columns []string, f func(*sql.Stmt) error) error {
	var prep interface {
		PrepareContext(context.Context, string) (*sql.Stmt, error)
	}
	switch q := q.(type) {
	case *sql.DB:
		c, err := q.Conn(ctx)
		if err != nil {
			return err
		}
		defer c.Close()
		prep = c
	case *sql.Conn:
		prep = q
	case *sql.Tx:
		prep = q
	default:
		return fmt.Errorf("databases.CopyFrom %s: q is a %T; want a *sql.DB, *sql.Conn or *sql.Tx", table, q)
	}
	st, err := prep.PrepareContext(ctx, copyText(table, columns))
	if err != nil {
		return err
	}
	defer st.Close()
	return f(st)
}

// copySourceArg is the one argument CopyFrom gives the COPY statement:
// the whole source, which the statement loads in one call.
type copySourceArg struct{ src CopySource }

// CopyError is the failure of a load: the row of the source (0-based) that
// failed, -1 when no row is to blame (a failed commit, say), and the
// column when the server named it. Err is the server's or the source's
// error, reachable with errors.As.
type CopyError struct {
	Table  string
	Row    int64
	Column string
	Err    error
}

func (e *CopyError) Error() string {
	msg := "databases: copy into " + e.Table
	if e.Row >= 0 {
		msg += ": row " + strconv.FormatInt(e.Row, 10)
	}
	if e.Column != "" {
		msg += ", column " + e.Column
	}
	return msg + ": " + e.Err.Error()
}

func (e *CopyError) Unwrap() error { return e.Err }

// copyPanic is a panic of the source or of a value's conversion, recovered
// where it was raised (on pgx's goroutine on PostgreSQL) so that the load
// ends as a failure, rolled back, and raised again by CopyFrom on the
// caller's goroutine once database/sql holds nothing of it.
type copyPanic struct{ value any }

func (p *copyPanic) Error() string { return fmt.Sprintf("panic: %v", p.value) }

// errCopyReplica refuses a load under ReadReplica.
var errCopyReplica = errors.New("databases: COPY writes and cannot run under ReadReplica; load with a context that does not ask for a replica")
