package logging

import (
	"log/slog"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/go-databases/databases/internal/sanitize"
	"github.com/go-databases/databases/middleware"
)

// Attribute keys; the package documentation describes each.
const (
	KeySystem       = "db.system.name"
	KeyOperation    = "db.operation"
	KeyQuery        = "db.query.text"
	KeyNativeQuery  = "db.query.native"
	KeyArgs         = "db.args"
	KeyArgValues    = "db.args.values"
	KeyArgTruncated = "db.args.truncated"
	KeyURL          = "db.url"
	KeyServer       = "server.address"
	KeyServerPort   = "server.port"
	KeyConnID       = "db.conn_id"
	KeyTxID         = "db.tx_id"
	KeyReplica      = "db.replica"
	KeyRowsAffected = "db.rows_affected"
	KeyRowsReturned = "db.rows_returned"
	KeyStmtCache    = "db.stmt_cache"
	KeyDuration     = "duration"
	KeyError        = "error"
)

// maxAttrs is the most attributes one record carries.
const maxAttrs = 17

// attrs appends the attributes of c's record to buf.
func (m *logMiddleware) attrs(buf []slog.Attr, c *middleware.Call, d time.Duration, err error) []slog.Attr {
	op := c.Op
	if op == middleware.OpRows {
		op = middleware.OpQuery
	}
	if c.DB != nil {
		buf = append(buf, slog.String(KeySystem, c.DB.SystemName()))
	}
	buf = append(buf, slog.String(KeyOperation, op.String()))
	if c.Query != "" {
		buf = append(buf, slog.String(KeyQuery, m.queryText(c, c.Query)))
		if c.NativeQuery != "" && c.NativeQuery != c.Query {
			buf = append(buf, slog.String(KeyNativeQuery, m.queryText(c, c.NativeQuery)))
		}
	}
	if n := len(c.Args); n > 0 {
		buf = append(buf, slog.Int(KeyArgs, n))
		if m.cfg.args {
			buf = m.argValues(buf, c)
		}
	}
	if (c.Op == middleware.OpConnect || c.Op == middleware.OpConnClose) && c.DB != nil && c.DB.URL != "" {
		buf = append(buf, slog.String(KeyURL, c.DB.URL))
	}
	if c.ServerAddress != "" {
		buf = append(buf, slog.String(KeyServer, c.ServerAddress))
		if c.ServerPort > 0 {
			buf = append(buf, slog.Int(KeyServerPort, c.ServerPort))
		}
	}
	if c.ConnID != 0 {
		buf = append(buf, slog.Uint64(KeyConnID, c.ConnID))
	}
	if c.TxID != 0 {
		buf = append(buf, slog.Uint64(KeyTxID, c.TxID))
	}
	if c.DB != nil && c.DB.Replica {
		buf = append(buf, slog.Bool(KeyReplica, true))
	}
	switch c.Op {
	case middleware.OpExec, middleware.OpStmtExec, middleware.OpCopy:
		if err == nil && c.RowsAffected >= 0 {
			buf = append(buf, slog.Int64(KeyRowsAffected, c.RowsAffected))
		}
	case middleware.OpRows:
		buf = append(buf, slog.Int64(KeyRowsReturned, c.RowsReturned))
	}
	if c.StmtCache != middleware.StmtUncached {
		buf = append(buf, slog.String(KeyStmtCache, c.StmtCache.String()))
	}
	if d >= 0 {
		buf = append(buf, slog.Duration(KeyDuration, d))
	}
	if err != nil {
		buf = append(buf, slog.Any(KeyError, err))
	}
	return buf
}

// queryText returns q as the record shows it: with its literals masked
// unless WithQueryLiterals was given (sanitize.Query keeps a query with
// placeholders as it is).
func (m *logMiddleware) queryText(c *middleware.Call, q string) string {
	if m.cfg.literals {
		return q
	}
	if c.DB == nil {
		return sanitize.Query(sanitize.Dialect(""), 0, q)
	}
	return sanitize.Query(sanitize.Dialect(c.DB.Dialect), c.DB.SQLMode, q)
}

// argValues appends the argument values, grouped under their names or
// their positions for positional arguments, and the lengths of those it
// cut.
func (m *logMiddleware) argValues(buf []slog.Attr, c *middleware.Call) []slog.Attr {
	vals := make([]slog.Attr, len(c.Args))
	var cut []slog.Attr
	for i, a := range c.Args {
		key := a.Name
		if key == "" {
			key = strconv.Itoa(a.Ordinal)
			if a.Ordinal == 0 {
				key = strconv.Itoa(i + 1)
			}
		}
		v, n := truncate(a.Value, m.cfg.argsLimit)
		if n >= 0 {
			cut = append(cut, slog.Int(key, n))
		}
		vals[i] = slog.Any(key, v)
	}
	buf = append(buf, slog.Attr{Key: KeyArgValues, Value: slog.GroupValue(vals...)})
	if cut != nil {
		buf = append(buf, slog.Attr{Key: KeyArgTruncated, Value: slog.GroupValue(cut...)})
	}
	return buf
}

// truncate returns v cut to limit bytes when it is a longer string or
// []byte (a string at a UTF-8 character boundary), and v's length; or v
// and -1 when it is not cut.
func truncate(v any, limit int) (any, int) {
	if limit <= 0 {
		return v, -1
	}
	switch v := v.(type) {
	case string:
		if len(v) <= limit {
			return v, -1
		}
		end := limit
		for end > 0 && !utf8.RuneStart(v[end]) {
			end--
		}
		return v[:end], len(v)
	case []byte:
		if len(v) <= limit {
			return v, -1
		}
		return v[:limit], len(v)
	}
	return v, -1
}

// messages holds the message of each operation's record, built once.
var messages = func() []string {
	msgs := make([]string, middleware.OpCopy+1)
	for op := range msgs {
		msgs[op] = "db " + middleware.Op(op).String()
	}
	msgs[middleware.OpRows] = "db " + middleware.OpQuery.String()
	return msgs
}()

func message(op middleware.Op) string {
	if int(op) < len(messages) {
		return messages[op]
	}
	return "db " + op.String()
}
