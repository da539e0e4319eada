//lint:file-ignore SA1019 the argument check mirrors database/sql's, column converters included

package databases

// IN lists: a Go slice bound to a placeholder that is the whole
// parenthesised list after IN or NOT IN is written as one native placeholder
// per element (rewrite.Plan.Expand). database/sql checks every argument
// before the driver sees the query, through the connection's or the
// statement's NamedValueChecker, so the check cannot know where a slice
// will go: the wrapper's checker takes a slice that could be a list as it
// is and marks the call (conn.listArgs), and the rewrite, which knows the
// query, either expands it, converting each element as database/sql would
// have converted an argument, or gives it the check it would have had
// (the real driver's checker, the statement's column converter, or
// driver.DefaultParameterConverter), with database/sql's error message.
// Every other argument goes to the real driver's checker, or back to
// database/sql with driver.ErrSkip when the real connection has none,
// which database/sql treats as if there were no checker at all.

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/go-databases/databases/rewrite"
)

// arraysOn reports whether a list may go to the real driver as one array
// parameter (rewrite.Array): PostgreSQL through pgx, which encodes a Go
// slice as an array whatever the query execution mode.
func (c *connector) arraysOn() bool {
	return c.backend.bindsArrays(c.cfg)
}

// listsOn reports whether a slice may be a list argument: placeholders are
// rewritten (not placeholders=native).
func (c *connector) listsOn() bool { return !(c.cfg.Native || c.opts.native) }

// claimsChecker reports whether the wrapper of a connection is a
// driver.NamedValueChecker: when the real connection is, and whenever
// lists are on, since database/sql rejects a slice the driver does not
// take before the driver sees the query (modernc has no checker).
func (c *conn) claimsChecker() bool { return c.checker != nil || c.connector.listsOn() }

// listCandidate reports whether v may be a list argument: a slice or array
// whose elements are not bytes and that is not a driver.Valuer. It runs on
// every argument, so the common types are told apart inline (plainValue).
func listCandidate(v any) bool { return !plainValue(v) && listShaped(v) }

// plainValue reports whether v is of one of the types arguments mostly
// have, none of which is a list.
func plainValue(v any) bool {
	switch v.(type) {
	case nil, int64, int, string, []byte, bool, float64, time.Time, int32, float32:
		return true
	}
	return false
}

// listShaped is listCandidate for a value of another type.
func listShaped(v any) bool {
	if _, ok := v.(driver.Valuer); ok {
		return false
	}
	t := reflect.TypeOf(v)
	k := t.Kind()
	return (k == reflect.Slice || k == reflect.Array) && t.Elem().Kind() != reflect.Uint8
}

// checkNamedValue is the connection's CheckNamedValue.
func (c *conn) checkNamedValue(nv *driver.NamedValue) error {
	if listCandidate(nv.Value) && c.connector.listsOn() {
		c.listArgs = true
		return nil
	}
	if c.checker == nil {
		return driver.ErrSkip
	}
	return c.checker.CheckNamedValue(nv)
}

// checkNamedValue is the statement's CheckNamedValue, which exists when the
// real statement has one.
func (s *stmt) checkNamedValue(nv *driver.NamedValue) error {
	if listCandidate(nv.Value) && s.conn.connector.listsOn() {
		s.conn.listArgs = true
		return nil
	}
	return s.checker.CheckNamedValue(nv)
}

// listPlan returns the Plan of query from the connector's rewrite cache,
// which knows its list placeholders.
func (c *conn) listPlan(query string) (*rewrite.Plan, error) {
	if p := c.lastPlan; p != nil && p.Source() == query {
		return p, nil
	}
	p, err := c.connector.cache.Plan(query)
	if err == nil {
		c.lastPlan = p
	}
	return p, err
}

// rewriteLists is rewrite for a call whose arguments hold a slice the
// checker let through.
func (c *conn) rewriteLists(query string, args []driver.NamedValue) (string, []driver.NamedValue, error) {
	c.listArgs = false
	if len(args) == 0 {
		// Left set by a call that database/sql refused after the check.
		return c.rewrite(query, args)
	}
	plan, err := c.listPlan(query)
	if err != nil {
		return "", nil, err
	}
	args, err = c.listArgsOf(plan, args, nil)
	if err != nil {
		return "", nil, err
	}
	return plan.Expand(args)
}

// lists is bind for a prepared statement whose arguments hold a slice the
// checker let through. When a list argument is to be expanded, the native
// query differs from the prepared one, and it returns that query for the
// connection to run; else "" and the arguments checked.
func (s *stmt) lists(args []driver.NamedValue) (string, []driver.NamedValue, error) {
	c := s.conn
	c.listArgs = false
	plan := s.plan
	if plan == nil {
		var err error
		if plan, err = c.listPlan(s.sql); err != nil {
			return "", nil, err
		}
	}
	args, err := c.listArgsOf(plan, args, s)
	if err != nil {
		return "", nil, err
	}
	for i := range args {
		switch args[i].Value.(type) {
		case rewrite.List, rewrite.Array:
			return plan.Expand(args)
		}
	}
	return "", args, nil
}

// listArgsOf returns args with each slice the checker let through either a
// rewrite.List of its converted elements, where plan has a list
// placeholder for it, or checked as database/sql would have checked it.
// st is the statement the call runs on, or nil.
func (c *conn) listArgsOf(plan *rewrite.Plan, args []driver.NamedValue, st *stmt) ([]driver.NamedValue, error) {
	out := args
	copied := false
	for i := 0; i < len(out); i++ {
		nv := out[i]
		if !listCandidate(nv.Value) {
			continue
		}
		if !copied {
			out = append([]driver.NamedValue(nil), out...)
			copied = true
		}
		if list, array := plan.ListKind(nv); list {
			if array && c.connector.arraysOn() {
				if a, ok := arrayOf(nv.Value); ok {
					out[i].Value = a
					continue
				}
			}
			l, err := c.listElements(nv)
			if err != nil {
				return nil, err
			}
			out[i].Value = l
			continue
		}
		err := c.checkLater(&nv, st)
		switch {
		case errors.Is(err, driver.ErrRemoveArgument):
			out = append(out[:i], out[i+1:]...)
			i--
		case err != nil:
			return nil, fmt.Errorf("sql: converting argument %s type: %w", describeNamedValue(&nv), err)
		default:
			out[i] = nv
		}
	}
	return out, nil
}

// commonSlices are the slice types a list argument of which is converted
// without reflection.
var commonSlices = [...]reflect.Type{
	reflect.TypeFor[[]int64](), reflect.TypeFor[[]int](), reflect.TypeFor[[]int32](),
	reflect.TypeFor[[]string](), reflect.TypeFor[[]float64](), reflect.TypeFor[[]bool](),
	reflect.TypeFor[[]time.Time](), reflect.TypeFor[[]any](), reflect.TypeFor[[]driver.Valuer](),
}

// common returns v as one of commonSlices: v itself, or a named
// slice type over one of them converted to it; nil for any other type.
func common(v any) any {
	switch v.(type) {
	case []int64, []int, []int32, []string, []float64, []bool, []time.Time, []any, []driver.Valuer:
		return v
	}
	t := reflect.TypeOf(v)
	if t.Kind() != reflect.Slice {
		return nil
	}
	for _, c := range commonSlices {
		if t.Elem() == c.Elem() {
			return reflect.ValueOf(v).Convert(c).Interface()
		}
	}
	return nil
}

// arrayOf returns a list argument as a PostgreSQL array parameter when pgx
// encodes it as raw pgx encodes the same slice (a typed slice of a common
// element type) and it is not empty: an empty list keeps = ANY('{}'),
// since a nil slice would be a NULL array, under which NOT IN would match
// nothing.
func arrayOf(v any) (rewrite.Array, bool) {
	switch s := common(v).(type) {
	case []int64:
		return rewrite.Array{V: s}, len(s) > 0
	case []int:
		return rewrite.Array{V: s}, len(s) > 0
	case []int32:
		return rewrite.Array{V: s}, len(s) > 0
	case []string:
		return rewrite.Array{V: s}, len(s) > 0
	case []float64:
		return rewrite.Array{V: s}, len(s) > 0
	case []bool:
		return rewrite.Array{V: s}, len(s) > 0
	case []time.Time:
		return rewrite.Array{V: s}, len(s) > 0
	}
	return rewrite.Array{}, false
}

// listElements converts each element of the slice nv holds as database/sql
// converts an argument of a connection call: the real connection's
// NamedValueChecker, then driver.DefaultParameterConverter (which calls a
// driver.Valuer's Value). The common slice types are read without
// reflection; without a checker, their elements are what the default
// conversion makes of them (int and int32 become int64, the others are
// driver.Values already).
func (c *conn) listElements(nv driver.NamedValue) (rewrite.List, error) {
	switch s := common(nv.Value).(type) {
	case []int64:
		return elements(c, &nv, s, func(v int64) driver.Value { return v })
	case []int:
		return elements(c, &nv, s, func(v int) driver.Value { return int64(v) })
	case []int32:
		return elements(c, &nv, s, func(v int32) driver.Value { return int64(v) })
	case []string:
		return elements(c, &nv, s, func(v string) driver.Value { return v })
	case []float64:
		return elements(c, &nv, s, func(v float64) driver.Value { return v })
	case []bool:
		return elements(c, &nv, s, func(v bool) driver.Value { return v })
	case []time.Time:
		return elements(c, &nv, s, func(v time.Time) driver.Value { return v })
	case []any:
		return elements(c, &nv, s, nil)
	case []driver.Valuer:
		return elements(c, &nv, s, nil)
	}
	rv := reflect.ValueOf(nv.Value)
	l := make(rewrite.List, rv.Len())
	e := &driver.NamedValue{}
	for i := range l {
		v, err := c.element(e, &nv, i, rv.Index(i).Interface())
		if err != nil {
			return nil, err
		}
		l[i] = v
	}
	return l, nil
}

// elements is listElements for a slice of a common type: value is the
// default conversion of an element, used when the connection has no
// checker, or nil to convert each element as any other.
func elements[T any](c *conn, nv *driver.NamedValue, s []T, value func(T) driver.Value) (rewrite.List, error) {
	l := make(rewrite.List, len(s))
	if value != nil && c.checker == nil {
		for i, v := range s {
			l[i] = value(v)
		}
		return l, nil
	}
	e := &driver.NamedValue{}
	for i, v := range s {
		v, err := c.element(e, nv, i, v)
		if err != nil {
			return nil, err
		}
		l[i] = v
	}
	return l, nil
}

// element converts element i, v, of the list argument nv. e is the
// NamedValue the checker is given, one for every element of a list: the
// checker's interface call makes it escape, and one per element would be
// an allocation per element.
func (c *conn) element(e, nv *driver.NamedValue, i int, v any) (driver.Value, error) {
	*e = driver.NamedValue{Ordinal: nv.Ordinal, Name: nv.Name, Value: v}
	err := checkValue(e, c.checker, nil, 0)
	if err == nil {
		return e.Value, nil
	}
	if errors.Is(err, driver.ErrRemoveArgument) {
		err = errors.New("the driver removes it, which an element cannot be")
	}
	return nil, fmt.Errorf("sql: converting argument %s element %d type: %w", describeNamedValue(nv), i, err)
}

// checkLater gives a slice that is not a list the check database/sql would
// have given it: the real statement's or connection's NamedValueChecker,
// the statement's ColumnConverter, driver.DefaultParameterConverter.
func (c *conn) checkLater(nv *driver.NamedValue, st *stmt) error {
	nvc := c.checker
	var cci driver.ColumnConverter
	want := 0
	if st != nil {
		if st.checker != nil {
			nvc = st.checker
		}
		cci = st.converter
		want = st.NumInput()
	}
	return checkValue(nv, nvc, cci, want)
}

// checkValue is database/sql's argument check (driverArgsConnLocked in its
// convert.go): the NamedValueChecker, the ColumnConverter when it skips or
// is nil, and the default conversion last.
func checkValue(nv *driver.NamedValue, nvc driver.NamedValueChecker, cci driver.ColumnConverter, want int) error {
	if nvc != nil {
		if err := nvc.CheckNamedValue(nv); err != driver.ErrSkip {
			return err
		}
	}
	if cci != nil {
		if err := columnConvert(nv, cci, want); err != driver.ErrSkip {
			return err
		}
	}
	v, err := driver.DefaultParameterConverter.ConvertValue(nv.Value)
	if err == nil {
		nv.Value = v
	}
	return err
}

// columnConvert is database/sql's ccChecker for a value that is no
// driver.Valuer (a list candidate never is).
func columnConvert(nv *driver.NamedValue, cci driver.ColumnConverter, want int) error {
	index := nv.Ordinal - 1
	if want <= index {
		return nil
	}
	arg := nv.Value
	v, err := cci.ColumnConverter(index).ConvertValue(arg)
	if err != nil {
		return err
	}
	if !driver.IsValue(v) {
		return fmt.Errorf("driver ColumnConverter error converted %T to unsupported type %T", arg, v)
	}
	nv.Value = v
	return nil
}

// describeNamedValue names an argument as database/sql's errors do.
func describeNamedValue(nv *driver.NamedValue) string {
	if nv.Name == "" {
		return fmt.Sprintf("$%d", nv.Ordinal)
	}
	return fmt.Sprintf("with name %q", nv.Name)
}
