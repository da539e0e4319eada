package tracing

import (
	"database/sql"
	"database/sql/driver"
	"errors"

	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/go-databases/databases/internal/dberr"
)

// failure is how a call ended, in the terms of the conventions.
type failure struct {
	failed bool
	typ    string // error.type
	code   string // db.response.status_code; "" when the database gave none
}

// classify describes err. sql.ErrNoRows and driver.ErrSkip are not
// failures: the first is an answer, the second asks database/sql to try
// another way. The status code is the SQLSTATE of a PostgreSQL error, the
// error number of a MySQL error, or the (extended) result code of a SQLite
// error; error.type is that code when there is one, the Go type of the error
// otherwise.
func classify(err error) failure {
	if err == nil || errors.Is(err, sql.ErrNoRows) || errors.Is(err, driver.ErrSkip) {
		return failure{}
	}
	f := failure{failed: true, code: statusCode(err)}
	if f.typ = dberr.Class(err); f.typ != "" {
		return f
	}
	f.typ = semconv.ErrorType(err).Value.AsString()
	if f.typ == "*errors.errorString" {
		f.typ = semconv.ErrorTypeOther.Value.AsString()
	}
	return f
}

// statusCode is the code the database answered err with, or "".
func statusCode(err error) string { return dberr.Code(err) }

// isSkip reports whether err is driver.ErrSkip: the call did not happen.
func isSkip(err error) bool { return errors.Is(err, driver.ErrSkip) }
