package main

import (
	"database/sql"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"
)

// A formatter writes the results of a script's statements.
type formatter interface {
	// Rows writes one result set; the rows are closed by the caller.
	Rows(rows *sql.Rows) error
	// Affected reports a statement that returned no rows; n < 0 when the
	// driver cannot count the rows affected.
	Affected(n int64) error
}

// formats lists the values of -format.
var formats = []string{"table", "csv", "json"}

// newFormatter returns the formatter named by -format, or nil for an
// unknown name.
func newFormatter(name string, out io.Writer) formatter {
	switch name {
	case "table":
		return tableFormat{out}
	case "csv":
		return &csvFormat{out: out}
	case "json":
		return jsonFormat{out}
	}
	return nil
}

// tableFormat writes aligned columns with a header, a rule and a row count,
// and "N rows affected" for other statements.
type tableFormat struct{ out io.Writer }

func (f tableFormat) Affected(n int64) error {
	if n < 0 {
		_, err := fmt.Fprintln(f.out, "ok")
		return err
	}
	_, err := fmt.Fprintf(f.out, "%d %s affected\n", n, plural(n, "row"))
	return err
}

func (f tableFormat) Rows(rows *sql.Rows) error {
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(f.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, strings.Join(cols, "\t"))
	rule := make([]string, len(cols))
	for i, c := range cols {
		rule[i] = strings.Repeat("-", max(len(c), 1))
	}
	fmt.Fprintln(w, strings.Join(rule, "\t"))
	cells := make([]string, len(cols))
	n, err := scanAll(rows, func(values []any) error {
		for i, v := range values {
			cells[i] = text(v)
		}
		_, err := fmt.Fprintln(w, strings.Join(cells, "\t"))
		return err
	})
	if err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	_, err = fmt.Fprintf(f.out, "(%d %s)\n", n, plural(n, "row"))
	return err
}

// csvFormat writes each result set as CSV with a header row, NULL as an
// empty field, and an empty line between result sets. Statements that
// return no rows write nothing.
type csvFormat struct {
	out  io.Writer
	sets int
}

func (f *csvFormat) Affected(int64) error { return nil }

func (f *csvFormat) Rows(rows *sql.Rows) error {
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	if f.sets++; f.sets > 1 {
		if _, err := io.WriteString(f.out, "\n"); err != nil {
			return err
		}
	}
	w := csv.NewWriter(f.out)
	w.Write(cols)
	record := make([]string, len(cols))
	_, err = scanAll(rows, func(values []any) error {
		for i, v := range values {
			if v == nil {
				record[i] = ""
			} else {
				record[i] = text(v)
			}
		}
		return w.Write(record)
	})
	if err != nil {
		return err
	}
	w.Flush()
	return w.Error()
}

// jsonFormat writes each result set as one JSON array of objects, keys in
// column order, on a line of its own. Statements that return no rows write
// nothing.
type jsonFormat struct{ out io.Writer }

func (f jsonFormat) Affected(int64) error { return nil }

func (f jsonFormat) Rows(rows *sql.Rows) error {
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	numeric := make([]bool, len(cols))
	if types, err := rows.ColumnTypes(); err == nil {
		for i, t := range types {
			numeric[i] = isNumericType(t.DatabaseTypeName())
		}
	}
	keys := make([][]byte, len(cols))
	for i, c := range cols {
		keys[i], _ = json.Marshal(c)
	}
	buf := []byte{'['}
	_, err = scanAll(rows, func(values []any) error {
		if len(buf) > 1 {
			buf = append(buf, ',')
		}
		buf = append(buf, '{')
		for i, v := range values {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = append(buf, keys[i]...)
			buf = append(buf, ':')
			buf = appendJSON(buf, v, numeric[i])
		}
		buf = append(buf, '}')
		return nil
	})
	if err != nil {
		return err
	}
	buf = append(buf, ']', '\n')
	_, err = f.out.Write(buf)
	return err
}

// appendJSON appends v as a JSON value. Bytes of a numeric column that form
// a JSON number (MySQL's text protocol returns numbers as bytes) are
// written as that number.
func appendJSON(buf []byte, v any, numeric bool) []byte {
	switch v := v.(type) {
	case nil:
		return append(buf, "null"...)
	case bool:
		return strconv.AppendBool(buf, v)
	case int64:
		return strconv.AppendInt(buf, v, 10)
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return strconv.AppendQuote(buf, strconv.FormatFloat(v, 'g', -1, 64))
		}
		return strconv.AppendFloat(buf, v, 'g', -1, 64)
	case []byte:
		if numeric && json.Valid(v) && isNumber(v) {
			return append(buf, v...)
		}
	}
	b, err := json.Marshal(text(v))
	if err != nil {
		b, _ = json.Marshal(fmt.Sprint(v))
	}
	return append(buf, b...)
}

func isNumber(b []byte) bool {
	return len(b) > 0 && (b[0] == '-' || b[0] >= '0' && b[0] <= '9')
}

func isNumericType(name string) bool {
	switch strings.ToUpper(name) {
	case "INT", "INTEGER", "TINYINT", "SMALLINT", "MEDIUMINT", "BIGINT",
		"UNSIGNED INT", "UNSIGNED TINYINT", "UNSIGNED SMALLINT", "UNSIGNED MEDIUMINT", "UNSIGNED BIGINT",
		"INT2", "INT4", "INT8", "DECIMAL", "NUMERIC", "FLOAT", "DOUBLE", "REAL", "FLOAT4", "FLOAT8":
		return true
	}
	return false
}

// scanAll calls f with the values of each row and returns the row count.
func scanAll(rows *sql.Rows, f func(values []any) error) (int64, error) {
	cols, err := rows.Columns()
	if err != nil {
		return 0, err
	}
	values := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range values {
		ptrs[i] = &values[i]
	}
	var n int64
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return n, err
		}
		if err := f(values); err != nil {
			return n, err
		}
		n++
	}
	return n, rows.Err()
}

// text formats a value for the table and CSV formats: NULL, text as is,
// other bytes as \x and hex, times in RFC 3339.
func text(v any) string {
	switch v := v.(type) {
	case nil:
		return "NULL"
	case []byte:
		if utf8.Valid(v) {
			return string(v)
		}
		return `\x` + hex.EncodeToString(v)
	case string:
		return v
	case time.Time:
		return v.Format(time.RFC3339Nano)
	default:
		return fmt.Sprint(v)
	}
}

func plural(n int64, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
