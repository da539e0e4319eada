// Package logging is a middleware that logs every driver call of package
// databases with log/slog.
//
//	c, err := databases.NewConnector(url, databases.WithMiddleware(logging.New(logger)))
//	db := sql.OpenDB(c)
//
// # Levels
//
// Each call gives at most one record, written when the call returns:
//
//   - Error: the call failed. The record carries the error. Two errors are
//     not failures: sql.ErrNoRows logs at the level of the call, and driver.ErrSkip, which
//     database/sql answers by doing the call another way (a prepared
//     statement), is not logged at all: the call that replaces it is.
//   - Warn: the call took at least the threshold set by WithSlowThreshold
//     (off by default).
//   - Info: each statement the program sends (exec, query, stmt.exec,
//     stmt.query), as pgx's tracelog logs each query at Info, and opening
//     and closing a connection (operations connect and conn.close), with
//     the URL of the database, its password masked.
//   - Debug: every other call: prepare, begin, commit, rollback, ping, ...
//     except reset_session, the check database/sql makes before reusing a
//     pooled connection, which is only logged when it fails.
//
// A query is logged once, when its rows are closed, with the time from
// sending it to closing the rows and the number of rows read; a query that
// fails when it is sent is logged then. An error that ended reading the rows
// is the query's error.
//
// The record goes to the logger with the context of the call, so a handler
// can read values from it (a trace id, a request id). When the logger is not
// enabled for a record's level, nothing is allocated.
//
// # Attributes
//
// The message is "db " followed by the operation ("db exec", "db query").
// Attribute keys are stable:
//
//	db.system.name   the dialect as OpenTelemetry names it: postgresql, mysql, sqlite
//	db.operation     the driver operation: connect, ping, prepare, exec, query,
//	                 stmt.exec, stmt.query, begin, commit, rollback, stmt.close,
//	                 conn.close, reset_session (a query logged when its rows
//	                 close is "query", whether or not it ran on a prepared
//	                 statement)
//	db.query.text    the query as written, when the call has one, literals
//	                 masked (see Redaction)
//	db.query.native  the query the real driver received, when it differs
//	db.args          the number of arguments, when there are any
//	db.args.values   the argument values, only with WithArgs: a group keyed
//	                 by name, or by position from 1 for positional arguments
//	db.args.truncated the original length in bytes of each value of
//	                 db.args.values that was cut (see WithArgsLimit), keyed
//	                 like it
//	db.url           the URL with its password masked (connect, conn.close)
//	server.address   the host the call's connection reached (with a host
//	                 list, the one that answered), when there is one
//	server.port      its port, when known
//	db.conn_id       the connection, numbered from 1 per connector
//	db.tx_id         the transaction, when the call runs in one
//	db.replica       true when the call ran on a read replica
//	server.address   the replica's host:port, when the call ran on one
//	db.rows_affected rows changed by exec and stmt.exec, when the driver tells
//	db.rows_returned rows read by a query
//	duration         how long the call took (a query: until its rows closed);
//	                 absent from the records of failures when the logger's
//	                 level leaves only those, see Interest
//	error            the error, when the call failed
//
// # Redaction
//
// Argument values are not logged unless WithArgs is given: a record only
// says how many there were. With WithArgs, a string or []byte value longer
// than 256 bytes (WithArgsLimit changes it) is logged cut to that length,
// and db.args.truncated gives its length.
//
// A query without placeholders carries its values in its text, so, as the
// OpenTelemetry conventions ask of db.query.text, its string and numeric
// literals are logged as '?': UPDATE users SET password = ? WHERE id = ?.
// A query with placeholders is logged as written, its values being
// arguments. WithQueryLiterals logs every query as written.
//
// The URL is logged with its password masked, as package databases hands
// it to middleware; the DSN of the real driver is never logged.
package logging

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"log/slog"
	"time"

	"github.com/go-databases/databases/middleware"
)

// Option configures the middleware New returns.
type Option func(*config)

type config struct {
	slow      time.Duration // 0: no call counts as slow
	args      bool          // log argument values
	argsLimit int           // longest string or []byte value logged whole; <= 0: no limit
	literals  bool          // log query text with its literals
}

// DefaultArgsLimit is the length in bytes beyond which WithArgs logs a
// string or []byte value cut, unless WithArgsLimit says otherwise.
const DefaultArgsLimit = 256

// WithSlowThreshold logs a call that takes d or longer at Warn instead of
// Debug or Info. A failed call still logs at Error. d <= 0 turns it off,
// which is the default.
func WithSlowThreshold(d time.Duration) Option {
	return func(c *config) { c.slow = max(d, 0) }
}

// WithArgs logs the values of a call's arguments as db.args.values. By
// default only their number is logged, since values are often personal data
// or secrets.
func WithArgs() Option {
	return func(c *config) { c.args = true }
}

// WithArgsLimit sets the length in bytes beyond which WithArgs logs a
// string or []byte value cut to that length, with its full length in
// db.args.truncated; n <= 0 logs values whole. The default is
// DefaultArgsLimit: a 40 MiB upload should not make a 40 MiB log record.
func WithArgsLimit(n int) Option {
	return func(c *config) { c.argsLimit = n }
}

// WithQueryLiterals logs query text as written. By default the string and
// numeric literals of a query without placeholders are logged as '?',
// since they are its values (see Redaction in the package documentation).
func WithQueryLiterals() Option {
	return func(c *config) { c.literals = true }
}

// New returns a middleware that logs every driver call to logger, or to
// slog.Default() at the time of the call when logger is nil.
func New(logger *slog.Logger, opts ...Option) middleware.Middleware {
	m := &logMiddleware{logger: logger, cfg: config{argsLimit: DefaultArgsLimit}}
	for _, o := range opts {
		o(&m.cfg)
	}
	return m
}

type logMiddleware struct {
	logger *slog.Logger
	cfg    config
}

var _ middleware.Selective = (*logMiddleware)(nil)

// Interest asks the logger, before each call, which records it would
// write: every call's when the level of a successful call (or Warn, with a
// slow threshold) is enabled, and otherwise only failures', whose level is
// checked when one happens. A service logging at Warn thus pays one level
// check per call, not a trip through the chain, and not even a reading of
// the clock: a failure is then logged without its duration.
func (m *logMiddleware) Interest(ctx context.Context, op middleware.Op) middleware.Interest {
	if op == middleware.OpResetSession {
		return middleware.Failures // a successful reset is not logged
	}
	logger := m.logger
	if logger == nil {
		logger = slog.Default()
	}
	switch {
	case logger.Enabled(ctx, successLevel(op)):
		return middleware.All
	case m.cfg.slow > 0 && logger.Enabled(ctx, slog.LevelWarn):
		return middleware.All // any call may turn out slow
	}
	return middleware.Failures
}

// Handle runs the call and logs it when the logger is enabled for its level.
func (m *logMiddleware) Handle(ctx context.Context, c *middleware.Call, next middleware.Handler) error {
	if c.Op == middleware.OpPrepare && c.StmtCache == middleware.StmtCacheMiss {
		// The statement cache's prepare, inside the call it serves: that
		// call's record covers it (db.stmt_cache=miss) and its error.
		return next(ctx, c)
	}
	err := next(ctx, c)
	if err == nil && (c.Op == middleware.OpQuery || c.Op == middleware.OpStmtQuery) {
		return nil // logged when its rows close, as OpRows
	}
	if err == nil && c.Op == middleware.OpResetSession {
		return nil // see Interest
	}
	if errors.Is(err, driver.ErrSkip) {
		return err // database/sql does the call another way, which is logged
	}
	failure := err
	if c.Op == middleware.OpRows && c.RowsErr != nil {
		failure = c.RowsErr // the cause; closing such rows often repeats it
	}
	d := time.Duration(-1) // unknown: a call that failed before the chain saw it has no Start
	if m.cfg.slow > 0 && !c.Start.IsZero() {
		d = time.Since(c.Start) // needed for the level
	}
	level := m.level(c.Op, d, failure)

	logger := m.logger
	if logger == nil {
		logger = slog.Default()
	}
	if !logger.Enabled(ctx, level) {
		return err
	}
	if m.cfg.slow == 0 && !c.Start.IsZero() {
		d = time.Since(c.Start)
	}
	var buf [maxAttrs]slog.Attr
	attrs := m.attrs(buf[:0], c, d, failure)
	logger.LogAttrs(ctx, level, message(c.Op), attrs...)
	return err
}

// level picks the level of a call's record.
func (m *logMiddleware) level(op middleware.Op, d time.Duration, err error) slog.Level {
	switch {
	case err != nil && !expected(err):
		return slog.LevelError
	case m.cfg.slow > 0 && d >= m.cfg.slow:
		return slog.LevelWarn
	default:
		return successLevel(op)
	}
}

// successLevel is the level of a call that succeeded, in time: Info for the
// statements a program sends (exec, query, their prepared forms; a query
// when its rows close) and for opening and closing a connection, as pgx's
// tracelog logs each query at Info; Debug for the rest.
func successLevel(op middleware.Op) slog.Level {
	switch op {
	case middleware.OpExec, middleware.OpQuery, middleware.OpStmtExec, middleware.OpStmtQuery, middleware.OpRows,
		middleware.OpConnect, middleware.OpConnClose:
		return slog.LevelInfo
	}
	return slog.LevelDebug
}

// expected reports whether err is an answer rather than a failure.
func expected(err error) bool {
	return errors.Is(err, sql.ErrNoRows)
}
