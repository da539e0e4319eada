package main

import (
	"bufio"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
	"unicode/utf8"
)

// A formatter writes the results of a script's statements.
type formatter interface {
	// Rows writes one result set; the rows are closed by the caller. When
	// reading the rows fails, the rows read before are written, then the
	// error is returned.
	Rows(rows *sql.Rows) error
	// Done reports a statement that returned no result set.
	Done() error
	// Count reports an INSERT, UPDATE, DELETE, REPLACE or MERGE (verb) that
	// changed n rows.
	Count(verb string, n int64) error
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
// each value on one line as cell shows it, and "ok" for a statement without
// a result set. A result set that fails midway has no row count.
type tableFormat struct{ out io.Writer }

func (f tableFormat) Done() error {
	_, err := fmt.Fprintln(f.out, "ok")
	return err
}

func (f tableFormat) Count(verb string, n int64) error {
	_, err := fmt.Fprintf(f.out, "%s %d\n", verb, n)
	return err
}

func (f tableFormat) Rows(rows *sql.Rows) error {
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(f.out, 0, 0, 2, ' ', 0)
	cells := make([]string, len(cols))
	rule := make([]string, len(cols))
	for i, c := range cols {
		cells[i] = escape(c)
		rule[i] = strings.Repeat("-", max(utf8.RuneCountInString(cells[i]), 1))
	}
	fmt.Fprintln(w, strings.Join(cells, "\t"))
	fmt.Fprintln(w, strings.Join(rule, "\t"))
	n, err := scanAll(rows, func(values []any) error {
		for i, v := range values {
			cells[i] = cell(v)
		}
		_, err := fmt.Fprintln(w, strings.Join(cells, "\t"))
		return err
	})
	if ferr := w.Flush(); err == nil {
		err = ferr
	}
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(f.out, "(%d %s)\n", n, plural(n, "row"))
	return err
}

// csvFormat writes each result set as CSV with a header row and an empty
// line between result sets, fields as appendCSVField writes them.
// Statements without a result set write nothing.
type csvFormat struct {
	out  io.Writer
	sets int
}

func (f *csvFormat) Done() error               { return nil }
func (f *csvFormat) Count(string, int64) error { return nil }

func (f *csvFormat) Rows(rows *sql.Rows) error {
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f.out)
	if f.sets++; f.sets > 1 {
		w.WriteByte('\n')
	}
	var line []byte
	record := func(values []any) error {
		line = line[:0]
		for i, v := range values {
			if i > 0 {
				line = append(line, ',')
			}
			line = appendCSVField(line, v)
		}
		line = append(line, '\n')
		_, err := w.Write(line)
		return err
	}
	header := make([]any, len(cols))
	for i, c := range cols {
		header[i] = c
	}
	if err = record(header); err == nil {
		_, err = scanAll(rows, record)
	}
	if ferr := w.Flush(); err == nil {
		err = ferr
	}
	return err
}

// appendCSVField appends v as a CSV field the way PostgreSQL's COPY … CSV
// writes it, so that NULL and the empty string differ: NULL is an empty
// field, the empty string a quoted "". Other values are text as is (bytes
// that are not UTF-8 as \x and hex), quoted when they hold a comma, quote
// or line break, start with a space or tab, or are \. (COPY's end marker).
func appendCSVField(buf []byte, v any) []byte {
	if v == nil {
		return buf
	}
	s := text(v)
	if s != "" && s != `\.` && !strings.ContainsAny(s, ",\"\r\n") && s[0] != ' ' && s[0] != '\t' {
		return append(buf, s...)
	}
	buf = append(buf, '"')
	buf = append(buf, strings.ReplaceAll(s, `"`, `""`)...)
	return append(buf, '"')
}

// jsonFormat writes each result set as one JSON array of objects, keys in
// column order, on a line of its own; a result set that fails midway ends
// its array after the rows read. Statements without a result set write
// nothing.
type jsonFormat struct{ out io.Writer }

func (f jsonFormat) Done() error               { return nil }
func (f jsonFormat) Count(string, int64) error { return nil }

func (f jsonFormat) Rows(rows *sql.Rows) error {
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	numeric := make([]bool, len(cols))
	if types, err := rows.ColumnTypes(); err == nil {
		for i, t := range types {
			numeric[i] = numericType(t.DatabaseTypeName())
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
	buf = append(buf, ']', '\n')
	if _, werr := f.out.Write(buf); err == nil {
		err = werr
	}
	return err
}

// appendJSON appends v as a JSON value. A value of a numeric column is a
// number whatever the driver returns it as (PostgreSQL's numeric comes as a
// string, MySQL's decimal as bytes), with the digits the database sent; NaN
// and infinities, which JSON has no number for, are strings. In other
// columns numbers the driver returns as numbers (SQLite's untyped
// expressions) stay numbers, booleans are true or false, and everything
// else is a string.
func appendJSON(buf []byte, v any, numeric bool) []byte {
	if v == nil {
		return append(buf, "null"...)
	}
	if b, ok := v.(bool); ok {
		return strconv.AppendBool(buf, b)
	}
	if n, ok := number(v, numeric); ok {
		return append(buf, n...)
	}
	b, err := json.Marshal(text(v))
	if err != nil {
		b, _ = json.Marshal(fmt.Sprint(v))
	}
	return append(buf, b...)
}

// number returns v as a JSON number: any Go number, and with numeric also
// text that is a JSON number.
func number(v any, numeric bool) (string, bool) {
	switch v := v.(type) {
	case int64:
		return strconv.FormatInt(v, 10), true
	case int, int8, int16, int32, uint, uint8, uint16, uint32, uint64:
		return fmt.Sprint(v), true
	case float64:
		return float(v, 64)
	case float32:
		return float(float64(v), 32)
	case []byte:
		return string(v), numeric && isJSONNumber(string(v))
	case string:
		return v, numeric && isJSONNumber(v)
	}
	return "", false
}

func float(f float64, bits int) (string, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "", false
	}
	return strconv.FormatFloat(f, 'g', -1, bits), true
}

// isJSONNumber reports whether s is a JSON number and nothing else.
func isJSONNumber(s string) bool {
	if s == "" || !(s[0] == '-' || s[0] >= '0' && s[0] <= '9') || s[len(s)-1] < '0' || s[len(s)-1] > '9' {
		return false
	}
	return json.Valid([]byte(s))
}

// numericTypes are the integer, decimal and floating-point type names the
// drivers report (PostgreSQL's INT4, MySQL's UNSIGNED BIGINT) or SQLite
// columns are declared with, without length and sign.
var numericTypes = map[string]bool{
	"INT": true, "INTEGER": true, "TINYINT": true, "SMALLINT": true, "MEDIUMINT": true, "BIGINT": true,
	"INT2": true, "INT4": true, "INT8": true,
	"DECIMAL": true, "DEC": true, "NUMERIC": true, "FIXED": true,
	"FLOAT": true, "FLOAT4": true, "FLOAT8": true, "REAL": true, "DOUBLE": true, "DOUBLE PRECISION": true,
}

// numericType reports whether a column's database type is numeric.
func numericType(name string) bool {
	name, _, _ = strings.Cut(strings.ToUpper(name), "(")
	var words []string
	for _, w := range strings.Fields(name) {
		if w != "UNSIGNED" && w != "SIGNED" && w != "ZEROFILL" {
			words = append(words, w)
		}
	}
	return numericTypes[strings.Join(words, " ")]
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

// text formats a non-NULL value for CSV and JSON strings: text as is, other
// bytes as \x and hex, times in RFC 3339.
func text(v any) string {
	switch v := v.(type) {
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

// cell formats a value for a table: NULL as NULL, anything else as text
// does, escaped so that each value shows on one line and no two values look
// alike: a backslash as \\, tab, line feed and carriage return as \t, \n
// and \r, other control characters and bytes that are not UTF-8 as \xHH or
// \uHHHH, and the text NULL as \NULL.
func cell(v any) string {
	if v == nil {
		return "NULL"
	}
	if b, ok := v.([]byte); ok && !utf8.Valid(b) {
		return text(v) // \x and hex
	}
	s := escape(text(v))
	if s == "NULL" {
		return `\NULL`
	}
	return s
}

// escape writes backslash, control characters and invalid UTF-8 in s as
// backslash escapes.
func escape(s string) string {
	i := strings.IndexFunc(s, func(r rune) bool { return r == '\\' || r == utf8.RuneError || unicode.IsControl(r) })
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.WriteString(s[:i])
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == utf8.RuneError && size == 1, r < 0x80 && unicode.IsControl(r):
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case unicode.IsControl(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

func plural(n int64, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
