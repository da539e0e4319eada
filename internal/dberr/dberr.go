// Package dberr classifies the errors of the three real drivers (pgx,
// go-sql-driver/mysql, modernc.org/sqlite) in one place: the code a server
// answered with, which errors a retry of the whole transaction can get
// past, and which mean the server itself refused a statement. Transact,
// the transaction guard and tracing all ask here, so a driver's error codes
// are written down once.
package dberr

import (
	"errors"
	"strconv"
	"strings"

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
// certification conflict), SQLite BUSY and LOCKED.
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
		code := lite.Code() & 0xff // the primary result code
		return code == sqlite3.SQLITE_BUSY || code == sqlite3.SQLITE_LOCKED
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
