package logging

import (
	"log/slog"
	"strconv"
	"time"

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
	KeyURL          = "db.url"
	KeyConnID       = "db.conn_id"
	KeyTxID         = "db.tx_id"
	KeyRowsAffected = "db.rows_affected"
	KeyRowsReturned = "db.rows_returned"
	KeyDuration     = "duration"
	KeyError        = "error"
)

// maxAttrs is the most attributes one record carries.
const maxAttrs = 12

// attrs appends the attributes of c's record to buf.
func (m *logMiddleware) attrs(buf []slog.Attr, c *middleware.Call, d time.Duration, err error) []slog.Attr {
	op := c.Op
	if op == middleware.OpRows {
		op = middleware.OpQuery
	}
	if c.DB != nil {
		buf = append(buf, slog.String(KeySystem, systemName(c.DB.Dialect)))
	}
	buf = append(buf, slog.String(KeyOperation, op.String()))
	if c.Query != "" {
		buf = append(buf, slog.String(KeyQuery, c.Query))
		if c.NativeQuery != "" && c.NativeQuery != c.Query {
			buf = append(buf, slog.String(KeyNativeQuery, c.NativeQuery))
		}
	}
	if n := len(c.Args); n > 0 {
		buf = append(buf, slog.Int(KeyArgs, n))
		if m.cfg.args {
			buf = append(buf, argValues(c))
		}
	}
	if (c.Op == middleware.OpConnect || c.Op == middleware.OpConnClose) && c.DB != nil && c.DB.URL != "" {
		buf = append(buf, slog.String(KeyURL, c.DB.URL))
	}
	if c.ConnID != 0 {
		buf = append(buf, slog.Uint64(KeyConnID, c.ConnID))
	}
	if c.TxID != 0 {
		buf = append(buf, slog.Uint64(KeyTxID, c.TxID))
	}
	switch c.Op {
	case middleware.OpExec, middleware.OpStmtExec:
		if err == nil && c.RowsAffected >= 0 {
			buf = append(buf, slog.Int64(KeyRowsAffected, c.RowsAffected))
		}
	case middleware.OpRows:
		buf = append(buf, slog.Int64(KeyRowsReturned, c.RowsReturned))
	}
	if d >= 0 {
		buf = append(buf, slog.Duration(KeyDuration, d))
	}
	if err != nil {
		buf = append(buf, slog.Any(KeyError, err))
	}
	return buf
}

// argValues groups the argument values under their names, or their
// positions for positional arguments.
func argValues(c *middleware.Call) slog.Attr {
	vals := make([]slog.Attr, len(c.Args))
	for i, a := range c.Args {
		key := a.Name
		if key == "" {
			key = strconv.Itoa(a.Ordinal)
			if a.Ordinal == 0 {
				key = strconv.Itoa(i + 1)
			}
		}
		vals[i] = slog.Any(key, a.Value)
	}
	return slog.Attr{Key: KeyArgValues, Value: slog.GroupValue(vals...)}
}

// systemName returns the OpenTelemetry db.system.name of a dialect, so that
// records and spans of one database carry the same value.
func systemName(dialect string) string {
	if dialect == "postgres" {
		return "postgresql"
	}
	return dialect
}

// messages holds the message of each operation's record, built once.
var messages = func() []string {
	msgs := make([]string, middleware.OpResetSession+1)
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
