package insights

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"reflect"

	"github.com/go-databases/databases/internal/dberr"
)

// errorClass names the class of err for Query.ErrorsByClass: the code the
// database answered with (dberr.Code), else the name of a well-known
// sentinel, else the Go type of the error.
func errorClass(err error) string {
	if code := dberr.Code(err); code != "" {
		return code
	}
	for _, s := range sentinels {
		if errors.Is(err, s.err) {
			return s.name
		}
	}
	if t := reflect.TypeOf(err); t != nil && t.String() != "*errors.errorString" {
		return t.String()
	}
	return "other"
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
}
