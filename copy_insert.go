package databases

// Loading through multi-row INSERTs, on MySQL/MariaDB and SQLite: one
// INSERT of many rows prepared once per load and run for each full batch,
// one more for the last rows. On MySQL a batch is cut short, too, before
// its values pass the connection's max_allowed_packet. A batch that fails
// is tried again row by row, to name the row, when the server's error does
// not.

import (
	"context"
	"database/sql/driver"
	stdjson "encoding/json"
	"fmt"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
	"weak"

	"github.com/go-databases/databases/internal/dberr"
	"github.com/go-sql-driver/mysql"
)

// insertLimits sizes a backend's batches.
type insertLimits struct {
	rows   int  // rows per INSERT, at most
	params int  // placeholders per statement, at most
	quote  byte // the identifier quote
	packet int  // bytes one statement's packet may take (MySQL's max_allowed_packet), 0 for no limit
}

var (
	// MySQL's prepared statements take 65 535 placeholders; the packet
	// limit is the connection's (mysqlPacket).
	mysqlInsert = insertLimits{rows: 1000, params: 65535, quote: '`'}
	// SQLite's default SQLITE_MAX_VARIABLE_NUMBER since 3.32.
	sqliteInsert = insertLimits{rows: 500, params: 32766, quote: '"'}
)

func copyMySQL(ctx, dctx context.Context, c *conn, rc *realConn, t *copyTarget, src CopySource) (int64, error) {
	lim := mysqlInsert
	var err error
	if lim.packet, err = c.mysqlPacket(dctx, rc); err != nil {
		return 0, &CopyError{Table: t.name(), Row: -1, Err: err}
	}
	return copyInsert(ctx, dctx, c, rc, t, src, lim)
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
	per    int // rows of a full batch

	full     *realStmt // the INSERT of a full batch, prepared by the first
	odd      *realStmt // the INSERT of the last batch of another size
	oddRows  int
	inserted int64 // rows the batches sent so far inserted
}

func copyInsert(ctx, dctx context.Context, c *conn, rc *realConn, t *copyTarget, src CopySource, lim insertLimits) (int64, error) {
	ncol := len(t.columns)
	b := &insertBatch{rc: rc, b: c.connector.backend, t: t, lim: lim, ncol: ncol, prefix: insertPrefix(t, lim.quote)}
	b.per = min(lim.rows, lim.params/ncol)
	if b.per < 1 {
		return 0, &CopyError{Table: t.name(), Row: -1, Err: fmt.Errorf("%d columns are more than the %d placeholders of one statement", ncol, lim.params)}
	}
	if lim.packet > 0 {
		// The statement's text goes in one packet too: "(?,?)," a row.
		b.per = max(1, min(b.per, (lim.packet-len(b.prefix)-1)/(2*ncol+1)))
	}
	defer b.close()
	r := &copyReader{src: src, ctx: ctx, ncol: ncol}
	args := make([]driver.NamedValue, 0, b.per*ncol)
	size := 0 // bytes the values of args take in the packet, with a packet limit
	for r.Next() {
		vals, err := r.Values()
		if err != nil {
			break
		}
		start, bytes := len(args), 0
		for i, v := range vals {
			dv, err := c.copyValue(v)
			if err != nil {
				return 0, &CopyError{Table: t.name(), Row: r.rows - 1, Column: t.columns[i], Err: err}
			}
			args = append(args, driver.NamedValue{Ordinal: len(args) + 1, Value: dv})
			if lim.packet > 0 {
				bytes += mysqlValueBytes(dv)
			}
		}
		if lim.packet > 0 && start > 0 && mysqlExecBytes(len(args), size+bytes) > lim.packet {
			// The row would take the batch past the packet limit: the rows
			// before it go first. A row too large alone goes alone, and the
			// server's error names it.
			if err := b.exec(dctx, args[:start]); err != nil {
				return 0, err
			}
			args = append(args[:0], args[start:]...)
			for i := range args {
				args[i].Ordinal = i + 1
			}
			size = 0
		}
		size += bytes
		if len(args) < cap(args) {
			continue
		}
		if err := b.exec(dctx, args); err != nil {
			return 0, err
		}
		args, size = args[:0], 0
	}
	if err := r.failed(t); err != nil {
		return 0, err
	}
	if len(args) > 0 {
		if err := b.exec(dctx, args); err != nil {
			return 0, err
		}
	}
	return b.inserted, nil
}

// exec inserts the rows whose values are args, through the INSERT of their
// number of rows: the full batch's, prepared once, or another, kept for
// the batches of the same size that follow (the last, or those the packet
// limit cut short).
func (b *insertBatch) exec(ctx context.Context, args []driver.NamedValue) error {
	rows := len(args) / b.ncol
	st := b.full
	if rows != b.per {
		st = b.odd
		if rows != b.oddRows {
			st = nil
		}
	}
	if st == nil {
		p, err := b.prepare(ctx, rows)
		if err != nil {
			return &CopyError{Table: b.t.name(), Row: b.inserted, Err: err}
		}
		st = &p
		if rows == b.per {
			b.full = st
		} else {
			if b.odd != nil {
				b.odd.raw.Close()
			}
			b.odd, b.oddRows = st, rows
		}
	}
	if _, err := st.execNative(ctx, args); err != nil {
		return b.blame(ctx, err, b.inserted, args)
	}
	b.inserted += int64(rows)
	return nil
}

// close closes the INSERTs prepared.
func (b *insertBatch) close() {
	for _, st := range []*realStmt{b.full, b.odd} {
		if st != nil {
			st.raw.Close()
		}
	}
}

// mysqlPackets holds the packet limit of each MySQL connection that has
// loaded rows, read by its first load: keyed weakly, so that a connection
// closed and collected takes its entry with it.
var mysqlPackets sync.Map // weak.Pointer[conn] → int

// mysqlPacket returns how many bytes a packet the load sends may take: the
// session's max_allowed_packet, read once per connection, less the byte
// go-sql-driver keeps, and at most the driver's own limit (the DSN's
// maxAllowedPacket, 64 MiB by default), beyond which it refuses to send.
func (c *conn) mysqlPacket(ctx context.Context, rc *realConn) (int, error) {
	key := weak.Make(c)
	if v, ok := mysqlPackets.Load(key); ok {
		return v.(int), nil
	}
	rows, st, err := rc.queryOrPrepare(ctx, "SELECT @@max_allowed_packet", nil)
	if err != nil {
		return 0, fmt.Errorf("reading max_allowed_packet: %w", err)
	}
	if st != nil {
		defer st.Close()
	}
	defer rows.Close()
	row := make([]driver.Value, 1)
	if err := rows.Next(row); err != nil {
		return 0, fmt.Errorf("reading max_allowed_packet: %w", err)
	}
	n, err := strconv.Atoi(driverText(row[0]))
	if err != nil || n < 1024 {
		return 0, fmt.Errorf("reading max_allowed_packet: the server says %v", row[0])
	}
	n--
	if cfg := c.connector.cfg; cfg.DriverName == cfg.Dialect.DefaultDriver { // go-sql-driver: this runs on MySQL only
		if mc, err := mysql.ParseDSN(cfg.DSN); err == nil && mc.MaxAllowedPacket > 0 {
			n = min(n, mc.MaxAllowedPacket)
		}
	}
	if _, loaded := mysqlPackets.LoadOrStore(key, n); !loaded {
		runtime.AddCleanup(c, func(k weak.Pointer[conn]) { mysqlPackets.Delete(k) }, key)
	}
	return n, nil
}

// driverText is a number the server sent, as text: go-sql-driver returns
// int64 through the binary protocol and []byte through the text one.
func driverText(v driver.Value) string {
	if b, ok := v.([]byte); ok {
		return string(b)
	}
	return fmt.Sprint(v)
}

// mysqlExecBytes is the size of go-sql-driver's COM_STMT_EXECUTE of nargs
// arguments whose values take values bytes: command, statement id, flags
// and iteration count, the NULL bitmap, the new-parameters flag and two
// bytes of type per argument.
func mysqlExecBytes(nargs, values int) int {
	return 10 + (nargs+7)/8 + 1 + 2*nargs + values
}

// mysqlValueBytes is, at most, what v takes in a COM_STMT_EXECUTE
// (go-sql-driver's writeExecutePacket). A long value the driver sends
// ahead as long data is counted as if inline, which only makes the batch
// smaller.
func mysqlValueBytes(v driver.Value) int {
	switch v := v.(type) {
	case nil:
		return 0
	case bool:
		return 1
	case int64, uint64, float64:
		return 8
	case []byte:
		return lenencBytes(len(v)) + len(v)
	case string:
		return lenencBytes(len(v)) + len(v)
	case stdjson.RawMessage:
		return lenencBytes(len(v)) + len(v)
	case time.Time:
		return 1 + len("2006-01-02 15:04:05.999999")
	}
	return 64 // no other value reaches the driver's packet
}

// lenencBytes is the size of MySQL's length-encoded integer n.
func lenencBytes(n int) int {
	switch {
	case n <= 250:
		return 1
	case n < 1<<16:
		return 3
	case n < 1<<24:
		return 4
	}
	return 9
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
	if len(args) == b.ncol { // a batch of one row: the row is known
		ce.Row = base
		return ce
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
