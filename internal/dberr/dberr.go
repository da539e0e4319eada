// Package dberr classifies the errors of the three real drivers (pgx,
// go-sql-driver/mysql, modernc.org/sqlite) in one place: the code a server
// answered with, which errors a retry of the whole transaction can get
// past, and which mean the server itself refused a statement. Transact,
// the transaction guard and tracing all ask here, so a driver's error codes
// are written down once.
package dberr

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"syscall"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Code returns the code the database answered err with: the SQLSTATE of a
// PostgreSQL error, the number of a MySQL error, the extended result code of
// a SQLite error; "" when err is not a database's answer.
func Code(err error) string {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Code
	}
	var my *mysql.MySQLError
	if errors.As(err, &my) {
		return strconv.Itoa(int(my.Number))
	}
	var lite *sqlite.Error
	if errors.As(err, &lite) {
		return strconv.Itoa(lite.Code())
	}
	return ""
}

// Retryable reports whether err is a serialization failure or deadlock,
// which running the whole transaction again can get past: PostgreSQL
// SQLSTATE 40001 and 40P01, MySQL 1213 (deadlock, and a Galera
// certification conflict), SQLite BUSY_SNAPSHOT (a transaction that read
// an older snapshot than the one it would write to), BUSY_RECOVERY and
// LOCKED_SHAREDCACHE (a deadlock among shared-cache connections). A plain
// SQLite BUSY is not: it comes after busy_timeout already waited for a lock
// that another connection of the DB still holds, often the caller's own
// transaction or open rows, and waiting again would multiply that wait.
func Retryable(err error) bool {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Code == "40001" || pg.Code == "40P01"
	}
	var my *mysql.MySQLError
	if errors.As(err, &my) {
		return my.Number == 1213
	}
	var lite *sqlite.Error
	if errors.As(err, &lite) {
		switch lite.Code() {
		case sqlite3.SQLITE_BUSY_SNAPSHOT, sqlite3.SQLITE_BUSY_RECOVERY, sqlite3.SQLITE_LOCKED_SHAREDCACHE:
			return true
		}
	}
	return false
}

// FromServer reports whether err is an answer of the database (a refused
// or failed statement), as opposed to an error of the client, the network
// or the context.
func FromServer(err error) bool {
	return Code(err) != ""
}

// StaleStatement reports whether err says that a statement prepared earlier
// no longer fits the schema or the session, so that preparing it again
// would get past it: PostgreSQL 0A000 "cached plan must not change result
// type", MySQL 1615 (needs to be re-prepared) and 1243 (unknown prepared
// statement handler, after the session was reset), SQLite SCHEMA.
func StaleStatement(err error) bool {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Code == "0A000" && strings.Contains(pg.Message, "cached plan must not change result type")
	}
	var my *mysql.MySQLError
	if errors.As(err, &my) {
		return my.Number == 1615 || my.Number == 1243
	}
	var lite *sqlite.Error
	if errors.As(err, &lite) {
		return lite.Code()&0xff == sqlite3.SQLITE_SCHEMA
	}
	return false
}

// TooManyStatements reports whether err is MySQL's 1461: the server's
// max_prepared_stmt_count is reached.
func TooManyStatements(err error) bool {
	var my *mysql.MySQLError
	return errors.As(err, &my) && my.Number == 1461
}

// Unusable reports whether err means the connection cannot serve another
// statement: it was lost (a network error, EOF, go-sql-driver's "invalid
// connection", driver.ErrBadConn, a pgx connection that is closed), the
// server ended it (PostgreSQL 57P01 admin shutdown, 57P02 crash shutdown,
// 57P03 cannot connect now and class 08, connection exceptions; MySQL 1053
// server shutdown, 1927 connection killed), or it is on a Galera node that
// no longer serves (1047, WSREP not ready). A timeout counts, the
// context's deadline included (it is a net.Error): pgx and go-sql-driver
// close a connection whose call a deadline cut. A cancellation alone does
// not.
func Unusable(err error) bool {
	if err == nil {
		return false
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Code == "57P01" || pg.Code == "57P02" || pg.Code == "57P03" || strings.HasPrefix(pg.Code, "08")
	}
	var my *mysql.MySQLError
	if errors.As(err, &my) {
		return my.Number == 1053 || my.Number == 1927 || my.Number == 1047
	}
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, mysql.ErrInvalidConn) || pgconn.SafeToRetry(err) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, net.ErrClosed) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne)
}

// Unsent reports whether the driver says err happened before the statement
// reached the server: driver.ErrBadConn (database/sql's contract: never
// returned when the server may have run the statement) or an error pgx
// marks safe to retry.
func Unsent(err error) bool {
	return errors.Is(err, driver.ErrBadConn) || pgconn.SafeToRetry(err)
}

// LoginRefused reports whether err is a server refusing the login itself,
// which every host of a cluster would refuse the same way: PostgreSQL
// class 28 (authentication), 3D000 (no such database) and 42501 (no CONNECT
// privilege), the codes at which pgx stops trying further hosts; MySQL 1044
// and 1045 (access denied) and 1049 (unknown database).
func LoginRefused(err error) bool {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return strings.HasPrefix(pg.Code, "28") || pg.Code == "3D000" || pg.Code == "42501"
	}
	var my *mysql.MySQLError
	if errors.As(err, &my) {
		return my.Number == 1044 || my.Number == 1045 || my.Number == 1049
	}
	return false
}

// Class names err for the logs, spans and aggregates of the built-in
// middleware: the code the database answered with (Code), else the name of
// a well-known sentinel error, whose Go type (*errors.errorString) would
// say nothing; "" for any other error, which the caller names by its type.
func Class(err error) string {
	if code := Code(err); code != "" {
		return code
	}
	for _, s := range sentinels {
		if errors.Is(err, s.err) {
			return s.name
		}
	}
	return ""
}

// sentinels name the errors that are values rather than types.
var sentinels = []struct {
	err  error
	name string
}{
	{context.Canceled, "context.Canceled"},
	{context.DeadlineExceeded, "context.DeadlineExceeded"},
	{driver.ErrBadConn, "driver.ErrBadConn"},
	{sql.ErrConnDone, "sql.ErrConnDone"},
	{sql.ErrTxDone, "sql.ErrTxDone"},
	{mysql.ErrInvalidConn, "mysql.ErrInvalidConn"},
}
