package databases

// Loading through multi-row INSERTs, on MySQL/MariaDB and SQLite: one
// INSERT of many rows prepared once per load and run for each full batch,
// one more for the last rows. A batch that fails is tried again row by
// row, to name the row, when the server's error does not.

import (
	"context"
	"database/sql/driver"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/go-databases/databases/internal/dberr"
)

// insertLimits sizes a backend's batches.
type insertLimits struct {
	rows   int  // rows per INSERT, at most
	params int  // placeholders per statement, at most
	quote  byte // the identifier quote
}

var (
	// MySQL's prepared statements take 65 535 placeholders. The packet
	// limit (max_allowed_packet) needs no sizing here: go-sql-driver sends
	// a value too long for one packet as long data, in packets of its own.
	mysqlInsert = insertLimits{rows: 1000, params: 65535, quote: '`'}
	// SQLite's default SQLITE_MAX_VARIABLE_NUMBER since 3.32.
	sqliteInsert = insertLimits{rows: 500, params: 32766, quote: '"'}
)

func copyMySQL(ctx, dctx context.Context, c *conn, rc *realConn, t *copyTarget, src CopySource) (int64, error) {
	return copyInsert(ctx, dctx, c, rc, t, src, mysqlInsert)
}

func copySQLite(ctx, dctx context.Context, c *conn, rc *realConn, t *copyTarget, src CopySource) (int64, error) {
	return copyInsert(ctx, dctx, c, rc, t, src, sqliteInsert)
}

// insertBatch is the state of a load through INSERTs.
type insertBatch struct {
	rc     *realConn
	b      backend
	t      *copyTarget
	lim    insertLimits
	prefix string // INSERT INTO t (a, b) VALUES
	ncol   int
}

func copyInsert(ctx, dctx context.Context, c *conn, rc *realConn, t *copyTarget, src CopySource, lim insertLimits) (int64, error) {
	ncol := len(t.columns)
	per := min(lim.rows, lim.params/ncol)
	if per < 1 {
		return 0, &CopyError{Table: t.name(), Row: -1, Err: fmt.Errorf("%d columns are more than the %d placeholders of one statement", ncol, lim.params)}
	}
	b := &insertBatch{rc: rc, b: c.connector.backend, t: t, lim: lim, ncol: ncol, prefix: insertPrefix(t, lim.quote)}
	r := &copyReader{src: src, ctx: ctx, ncol: ncol}
	args := make([]driver.NamedValue, 0, per*ncol)
	var full *realStmt
	defer func() {
		if full != nil {
			full.raw.Close()
		}
	}()
	var n int64
	for r.Next() {
		vals, err := r.Values()
		if err != nil {
			break
		}
		for i, v := range vals {
			dv, err := c.copyValue(v)
			if err != nil {
				return 0, &CopyError{Table: t.name(), Row: r.rows - 1, Column: t.columns[i], Err: err}
			}
			args = append(args, driver.NamedValue{Ordinal: len(args) + 1, Value: dv})
		}
		if len(args) < cap(args) {
			continue
		}
		if full == nil {
			st, err := b.prepare(dctx, per)
			if err != nil {
				return 0, &CopyError{Table: t.name(), Row: n, Err: err}
			}
			full = &st
		}
		if _, err := full.execNative(dctx, args); err != nil {
			return 0, b.blame(dctx, err, n, args)
		}
		n += int64(per)
		args = args[:0]
	}
	if err := r.failed(t); err != nil {
		return 0, err
	}
	if len(args) > 0 {
		st, err := b.prepare(dctx, len(args)/ncol)
		if err != nil {
			return 0, &CopyError{Table: t.name(), Row: n, Err: err}
		}
		_, err = st.execNative(dctx, args)
		st.raw.Close()
		if err != nil {
			return 0, b.blame(dctx, err, n, args)
		}
		n += int64(len(args) / ncol)
	}
	return n, nil
}

// copyValue converts a value as Exec converts its arguments: the real
// driver's NamedValueChecker, else database/sql's default converter
// (driver.Valuer included). The common driver values pass as they are,
// which is what both would return.
func (c *conn) copyValue(v any) (driver.Value, error) {
	switch v.(type) {
	case nil, int64, float64, string, []byte, bool, time.Time:
		return v, nil
	}
	if c.checker != nil {
		nv := driver.NamedValue{Ordinal: 1, Value: v}
		err := c.checker.CheckNamedValue(&nv)
		if err != driver.ErrSkip {
			return nv.Value, err
		}
	}
	return driver.DefaultParameterConverter.ConvertValue(v)
}

// insertPrefix writes "INSERT INTO t (a, b) VALUES ".
func insertPrefix(t *copyTarget, quote byte) string {
	var sb strings.Builder
	sb.WriteString("INSERT INTO ")
	for i, p := range t.table {
		if i > 0 {
			sb.WriteByte('.')
		}
		writeQuoted(&sb, p, quote)
	}
	sb.WriteString(" (")
	for i, col := range t.columns {
		if i > 0 {
			sb.WriteString(", ")
		}
		writeQuoted(&sb, col, quote)
	}
	sb.WriteString(") VALUES ")
	return sb.String()
}

// prepare prepares the INSERT of rows rows.
func (b *insertBatch) prepare(ctx context.Context, rows int) (realStmt, error) {
	var sb strings.Builder
	sb.Grow(len(b.prefix) + rows*(2*b.ncol+2))
	sb.WriteString(b.prefix)
	for i := range rows {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteByte('(')
		for j := range b.ncol {
			if j > 0 {
				sb.WriteByte(',')
			}
			sb.WriteByte('?')
		}
		sb.WriteByte(')')
	}
	st, err := b.rc.prepareNative(ctx, sb.String())
	if err != nil {
		return realStmt{}, err
	}
	return newRealStmt(st), nil
}

// myAtRow reads MySQL's "… at row 3" (counting from 1 within the
// statement); the column from "for column 'b'", "for column `db`.`t`.`b`"
// or "Column 'b' cannot be null".
var (
	myAtRow  = regexp.MustCompile(` at row (\d+)`)
	myColumn = regexp.MustCompile("[Cc]olumn (?:'([^']*)'|(?:`[^`]*`\\.)*`([^`]*)`)")
	// SQLite: "NOT NULL constraint failed: t.b", "cannot store TEXT value
	// in INTEGER column t.a".
	liteColumn = regexp.MustCompile(`(?:constraint failed: |column )[^.\s]+\.([^\s,]+)`)
)

// blame turns the error of a batch whose first row is row base into a
// CopyError naming the row: the server's "at row" where it says it,
// otherwise the first row of the batch that fails on its own. The rows that
// succeed on their own are rolled back with the rest of the load.
func (b *insertBatch) blame(ctx context.Context, err error, base int64, args []driver.NamedValue) error {
	ce := &CopyError{Table: b.t.name(), Row: -1, Column: errColumn(err), Err: err}
	if m := myAtRow.FindStringSubmatch(err.Error()); m != nil {
		if row, perr := strconv.ParseInt(m[1], 10, 64); perr == nil {
			ce.Row = base + row - 1
			return ce
		}
	}
	if dberr.Unusable(err) {
		return ce
	}
	// Only inside the load's transaction: after a deadlock MySQL has rolled
	// it back, and the rows tried one by one would each commit.
	if open, terr := b.rc.txOpen(ctx, b.b); terr != nil || !open {
		return ce
	}
	st, perr := b.prepare(ctx, 1)
	if perr != nil {
		return ce
	}
	defer st.raw.Close()
	one := make([]driver.NamedValue, b.ncol)
	for i := 0; i*b.ncol < len(args); i++ {
		for j := range one {
			one[j] = driver.NamedValue{Ordinal: j + 1, Value: args[i*b.ncol+j].Value}
		}
		if _, rerr := st.execNative(ctx, one); rerr != nil {
			ce.Row, ce.Column, ce.Err = base+int64(i), errColumn(rerr), rerr
			return ce
		}
	}
	return ce
}

// errColumn reads the column a MySQL or SQLite error names, or "".
func errColumn(err error) string {
	msg := err.Error()
	if m := myColumn.FindStringSubmatch(msg); m != nil {
		return m[1] + m[2]
	}
	if m := liteColumn.FindStringSubmatch(msg); m != nil {
		return m[1]
	}
	return ""
}
