package insights

import (
	"reflect"

	"github.com/go-databases/databases/internal/dberr"
)

// errorClass names the class of err for Query.ErrorsByClass: the code the
// database answered with or the name of a well-known sentinel
// (dberr.Class), else the Go type of the error.
func errorClass(err error) string {
	if c := dberr.Class(err); c != "" {
		return c
	}
	if t := reflect.TypeOf(err); t != nil && t.String() != "*errors.errorString" {
		return t.String()
	}
	return "other"
}
