package databases_test

// Attacks on docs/fidelity.md and docs/placeholders.md with argument values
// of every kind: each row runs through the raw driver (pgx stdlib, go-sql-driver,
// modernc) and through databases with each option set, on a *sql.DB, a
// *sql.Conn and a *sql.Tx, repeated and alternating with other texts on one
// connection, and the rows, column types, rows affected, errors and the
// table's content afterwards are compared.

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/big"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-databases/databases"
	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"modernc.org/sqlite"
)

// Argument types.

type aaMyInt int
type aaMyString string
type aaMyBytes []byte
type aaMyFloat float64
type aaMyBool bool
type aaMyInts []int64

type aaValV struct{ v int64 }

func (v aaValV) Value() (driver.Value, error) { return v.v * 10, nil }

type aaValP struct{ v int64 }

func (p *aaValP) Value() (driver.Value, error) {
	if p == nil {
		return "nil-pointer", nil
	}
	return p.v * 100, nil
}

var errAAValuer = errors.New("aa valuer refuses")

type aaValErr struct{}

func (aaValErr) Value() (driver.Value, error) { return nil, errAAValuer }

type aaValPanic struct{}

func (aaValPanic) Value() (driver.Value, error) { panic("aa valuer panics") }

// aaBoth is a driver.Valuer and a pgx Int64Valuer, which disagree.
type aaBoth struct{}

func (aaBoth) Value() (driver.Value, error)     { return int64(7), nil }
func (aaBoth) Int64Value() (pgtype.Int8, error) { return pgtype.Int8{Int64: 8, Valid: true}, nil }

// aaValSlice is a slice that is a Valuer: one value, never a list.
type aaValSlice []int64

func (s aaValSlice) Value() (driver.Value, error) { return fmt.Sprint(len(s)), nil }

type aaStruct struct{ A int }

// A row: query as written (portable), optional PostgreSQL text, and its
// arguments; raw forms give the native text and arguments the raw driver
// gets (default: the same, with ? numbered on PostgreSQL).
type aaRow struct {
	name  string
	q     string // portable text; {c} is replaced by the PostgreSQL cast or ""
	cast  string // PostgreSQL cast of {c}
	exec  bool
	col   string // exec: the column read back afterwards
	only  string // "postgres", "mysql", "sqlite" or ""
	args  func() []any
	raw   map[string]aaRaw // per dialect native form
	known string           // a break: the subtest fails today
	// docErr: docs/placeholders.md makes it an error with portable
	// placeholders ("a wrong argument count is an error"), whatever the
	// raw driver does; with placeholders=native it is compared.
	docErr bool
}

type aaRaw struct {
	q    string
	args []any
}

func aaA(v ...any) func() []any { return func() []any { return v } }

// aaNum numbers ? (?? is ?) outside quotes, for PostgreSQL.
func aaNum(q string) string {
	var b strings.Builder
	n := 0
	inq := false
	for i := 0; i < len(q); i++ {
		c := q[i]
		if c == '\'' {
			inq = !inq
		}
		if c == '?' && !inq {
			if i+1 < len(q) && q[i+1] == '?' {
				b.WriteByte('?')
				i++
				continue
			}
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

func (r aaRow) text(dialect string) string {
	c := ""
	if dialect == "postgres" && r.cast != "" {
		c = "::" + r.cast
	}
	return strings.ReplaceAll(r.q, "{c}", c)
}

func (r aaRow) native(dialect string) (string, []any) {
	if f, ok := r.raw[dialect]; ok {
		return f.q, f.args
	}
	q := r.text(dialect)
	if dialect == "postgres" {
		q = aaNum(q)
	}
	return q, r.args()
}

// An argument kind: its PostgreSQL cast and the column it is inserted into.
type aaKind struct {
	name string
	cast string
	col  string
	args func() []any
}

func aaKinds() []aaKind {
	ny, _ := time.LoadLocation("America/New_York")
	ts := time.Date(2024, 3, 10, 6, 30, 15, 123456000, time.UTC)
	return []aaKind{
		{"nil", "text", "s", aaA(nil)},
		{"typed-nil-int", "bigint", "i", aaA((*int)(nil))},
		{"typed-nil-string", "text", "s", aaA((*string)(nil))},
		{"ptr-int", "bigint", "i", func() []any { v := 5; return []any{&v} }},
		{"int8", "bigint", "i", aaA(int8(-8))},
		{"int16", "bigint", "i", aaA(int16(-16))},
		{"int32", "bigint", "i", aaA(int32(-32))},
		{"int64", "bigint", "i", aaA(int64(math.MinInt64))},
		{"int", "bigint", "i", aaA(42)},
		{"uint8", "bigint", "i", aaA(uint8(255))},
		{"uint16", "bigint", "i", aaA(uint16(65535))},
		{"uint32", "bigint", "i", aaA(uint32(math.MaxUint32))},
		{"uint64-small", "bigint", "i", aaA(uint64(64))},
		{"uint64-high", "numeric", "u", aaA(uint64(math.MaxInt64) + 5)},
		{"uint-high", "numeric", "u", aaA(uint(math.MaxInt64) + 6)},
		{"float32", "float8", "f", aaA(float32(1.5))},
		{"float32-nan", "float8", "f", aaA(float32(math.NaN()))},
		{"float32-inf", "float8", "f", aaA(float32(math.Inf(1)))},
		{"float64-neginf", "float8", "f", aaA(math.Inf(-1))},
		{"bytes-nil", "bytea", "b", aaA([]byte(nil))},
		{"bytes-empty", "bytea", "b", aaA([]byte{})},
		{"bytes-nul", "bytea", "b", aaA([]byte("a\x00b"))},
		{"string-empty", "text", "s", aaA("")},
		{"string-nul", "text", "s", aaA("a\x00b")},
		{"string-invalid-utf8", "text", "s", aaA("a\xff\xfeb")},
		{"time-utc", "timestamptz", "ts", aaA(ts)},
		{"time-fixed-zone", "timestamptz", "ts", aaA(ts.In(time.FixedZone("x", 5*3600+30*60)))},
		{"time-new-york", "timestamptz", "ts", aaA(ts.In(ny))},
		{"time-zero", "timestamptz", "ts", aaA(time.Time{})},
		{"null-int64-invalid", "bigint", "i", aaA(sql.NullInt64{})},
		{"null-int64-valid", "bigint", "i", aaA(sql.NullInt64{Int64: 5, Valid: true})},
		{"null-string", "text", "s", aaA(sql.NullString{String: "x", Valid: true})},
		{"null-time-invalid", "timestamptz", "ts", aaA(sql.NullTime{})},
		{"null-float", "float8", "f", aaA(sql.NullFloat64{Float64: 2.5, Valid: true})},
		{"null-generic", "bigint", "i", aaA(sql.Null[int64]{V: 3, Valid: true})},
		{"null-generic-invalid", "bigint", "i", aaA(sql.Null[int64]{})},
		{"valuer-value-recv", "bigint", "i", aaA(aaValV{4})},
		{"valuer-value-recv-nil-ptr", "bigint", "i", aaA((*aaValV)(nil))},
		{"valuer-ptr-recv", "bigint", "i", aaA(&aaValP{3})},
		{"valuer-ptr-recv-nil", "text", "s", aaA((*aaValP)(nil))},
		{"valuer-ptr-recv-by-value", "bigint", "i", aaA(aaValP{3})},
		{"valuer-error", "bigint", "i", aaA(aaValErr{})},
		{"valuer-panic", "bigint", "i", aaA(aaValPanic{})},
		{"valuer-and-pgx", "bigint", "i", aaA(aaBoth{})},
		{"valuer-slice", "text", "s", aaA(aaValSlice{1, 2})},
		{"named-int", "bigint", "i", aaA(aaMyInt(9))},
		{"named-string", "text", "s", aaA(aaMyString("ms"))},
		{"named-bytes", "bytea", "b", aaA(aaMyBytes("mb"))},
		{"named-float", "float8", "f", aaA(aaMyFloat(0.25))},
		{"named-bool", "bool", "i", aaA(aaMyBool(true))},
		{"struct", "text", "s", aaA(aaStruct{1})},
		{"map", "text", "s", aaA(map[string]int{"a": 1})},
		{"slice-int64-plain", "bigint[]", "s", aaA([]int64{1, 2})},
		{"slice-string-plain", "text[]", "s", aaA([]string{"a", "b"})},
		{"slice-named-plain", "bigint[]", "s", aaA(aaMyInts{1})},
		{"pgtype-int8", "bigint", "i", aaA(pgtype.Int8{Int64: 11, Valid: true})},
		{"pgtype-text-null", "text", "s", aaA(pgtype.Text{})},
		{"pgtype-numeric", "numeric", "u", aaA(pgtype.Numeric{Int: bigInt(12345), Exp: -2, Valid: true})},
		{"pgtype-flatarray", "bigint[]", "s", aaA(pgtype.FlatArray[int64]{1, 2})},
		{"json-raw", "jsonb", "j", aaA(json.RawMessage(`{"a": 1}`))},
		{"json-raw-nil", "jsonb", "j", aaA(json.RawMessage(nil))},
		{"bool", "bool", "i", aaA(true)},
	}
}

func aaRows() []aaRow {
	var rows []aaRow
	// Same text with every kind in turn: SELECT ?.
	for _, k := range aaKinds() {
		rows = append(rows, aaRow{name: "select/" + k.name, q: "SELECT ?{c} AS v", cast: k.cast, args: k.args})
	}
	// Exec: insert into the kind's column, then read the table.
	for _, k := range aaKinds() {
		rows = append(rows, aaRow{name: "insert/" + k.name, q: "INSERT INTO aa_t (" + k.col + ") VALUES (?{c})", cast: k.cast, exec: true, col: k.col, args: k.args})
	}
	// PostgreSQL: one text without a cast for every kind.
	for _, k := range aaKinds() {
		rows = append(rows, aaRow{name: "uncast/" + k.name, only: "postgres", q: "SELECT ? AS v", args: k.args})
	}
	// IS NULL, one text for all kinds, alternating with the SELECT above.
	for _, k := range aaKinds() {
		rows = append(rows, aaRow{name: "isnull/" + k.name, q: "SELECT ?{c} IS NULL AS n, 1 AS one", cast: k.cast, args: k.args})
	}
	in := "SELECT v FROM aa_n WHERE v IN (?) ORDER BY v"
	notIn := "SELECT v FROM aa_n WHERE v NOT IN (?) ORDER BY v"
	list := func(name, q string, dialects map[string]aaRaw, args ...any) aaRow {
		return aaRow{name: name, q: q, args: aaA(args...), raw: dialects}
	}
	ex := func(q string, vals ...any) map[string]aaRaw {
		// expanded on every backend: ? per element
		ph := strings.TrimSuffix(strings.Repeat("?, ", len(vals)), ", ")
		m := map[string]aaRaw{}
		qq := strings.Replace(q, "(?)", "("+ph+")", 1)
		m["mysql"] = aaRaw{qq, vals}
		m["sqlite"] = aaRaw{qq, vals}
		m["postgres"] = aaRaw{aaNum(qq), vals}
		return m
	}
	arr := func(q string, slice any, vals ...any) map[string]aaRaw {
		m := ex(q, vals...)
		pq := strings.Replace(strings.Replace(q, " NOT IN (?)", " <> ALL(?)", 1), " IN (?)", " = ANY(?)", 1)
		m["postgres"] = aaRaw{aaNum(pq), []any{slice}}
		return m
	}
	rows = append(rows,
		list("in/int64", in, arr(in, []int64{1, 2, 3}, int64(1), int64(2), int64(3)), []int64{1, 2, 3}),
		list("in/int64-again-other-len", in, arr(in, []int64{4}, int64(4)), []int64{4}),
		list("in/int", in, arr(in, []int{2, 5}, 2, 5), []int{2, 5}),
		list("in/named-slice", in, arr(in, aaMyInts{1, 5}, int64(1), int64(5)), aaMyInts{1, 5}),
		list("in/any", in, ex(in, 1, "2"), []any{1, "2"}),
		list("in/uint64-high", in, ex(in, uint64(math.MaxInt64)+1), []uint64{uint64(math.MaxInt64) + 1}),
		list("notin/int64", notIn, arr(notIn, []int64{1, 2}, int64(1), int64(2)), []int64{1, 2}),
		list("in/int64-empty", in, map[string]aaRaw{
			"postgres": {"SELECT v FROM aa_n WHERE v = ANY('{}') ORDER BY v", nil},
			"mysql":    {"SELECT v FROM aa_n WHERE v IN (SELECT NULL FROM DUAL WHERE FALSE) ORDER BY v", nil},
			"sqlite":   {"SELECT v FROM aa_n WHERE v IN () ORDER BY v", nil},
		}, []int64{}),
		list("notin/int64-empty", notIn, map[string]aaRaw{
			"postgres": {"SELECT v FROM aa_n WHERE v <> ALL('{}') ORDER BY v", nil},
			"mysql":    {"SELECT v FROM aa_n WHERE v NOT IN (SELECT NULL FROM DUAL WHERE FALSE) ORDER BY v", nil},
			"sqlite":   {"SELECT v FROM aa_n WHERE v NOT IN () ORDER BY v", nil},
		}, []int64{}),
		list("in/bytes-is-one-value", "SELECT ? IN (?) AS x", nil, []byte("a"), []byte("a")),
		list("in/valuer-slice-is-one-value", "SELECT v FROM aa_n WHERE v IN (?) ORDER BY v", nil, aaValSlice{1, 2}),
		list("in/json-raw-is-one-value", "SELECT ? IN (?) AS x", nil, "[1]", json.RawMessage("[1]")),
		list("in/with-valuer-error-element", in, ex(in, 1, aaValErr{}), []any{1, aaValErr{}}),
		list("in/with-struct-element", in, ex(in, 1, aaStruct{}), []any{1, aaStruct{}}),
		func() aaRow {
			q := "SELECT v FROM aa_n WHERE v IN (?) AND v > ? ORDER BY v"
			e := "SELECT v FROM aa_n WHERE v IN (?, ?, ?) AND v > ? ORDER BY v"
			m := map[string]aaRaw{
				"postgres": {"SELECT v FROM aa_n WHERE v = ANY($1) AND v > $2 ORDER BY v", []any{[]int64{1, 3, 4}, 1}},
				"mysql":    {e, []any{1, 3, 4, 1}},
				"sqlite":   {e, []any{1, 3, 4, 1}},
			}
			return list("in/int64-then-scalar", q, m, []int64{1, 3, 4}, 1)
		}(),
	)
	// The same IN text, lengths across size classes and typed after []any.
	for _, n := range []int{5, 1, 9, 3, 17, 2} {
		ints := make([]int64, n)
		vals := make([]any, n)
		for i := range ints {
			ints[i] = int64(i%6 + 1)
			vals[i] = ints[i]
		}
		rows = append(rows, list(fmt.Sprintf("in/len-%d", n), in, arr(in, ints, vals...), ints))
		rows = append(rows, list(fmt.Sprintf("in/any-len-%d", n), in, ex(in, vals...), vals))
	}
	// The IN text once more with scalars: same text, no slice.
	rows = append(rows,
		aaRow{name: "in/scalar-same-text", q: in, args: aaA(2)},
		aaRow{name: "in/nil-same-text", q: in, args: aaA(nil)},
		aaRow{name: "in/bytes-same-text", q: in, args: aaA([]byte("1"))},
	)
	// Slices as plain values.
	rows = append(rows,
		aaRow{name: "any/int64", only: "postgres", q: "SELECT v FROM aa_n WHERE v = ANY(?) ORDER BY v", args: aaA([]int64{1, 3})},
		aaRow{name: "any/string", only: "postgres", q: "SELECT v FROM aa_n WHERE v::text = ANY(?) ORDER BY v", args: aaA([]string{"2", "4"})},
		aaRow{name: "any/named", only: "postgres", q: "SELECT v FROM aa_n WHERE v = ANY(?) ORDER BY v", args: aaA(aaMyInts{5})},
		aaRow{name: "any/nil-slice", only: "postgres", q: "SELECT v FROM aa_n WHERE v = ANY(?) ORDER BY v", args: aaA([]int64(nil))},
		aaRow{name: "any/pgtype-flat", only: "postgres", q: "SELECT v FROM aa_n WHERE v = ANY(?) ORDER BY v", args: aaA(pgtype.FlatArray[int64]{2})},
		aaRow{name: "plain-slice/int64", q: "SELECT ? AS v", args: aaA([]int64{1})},
		aaRow{name: "plain-slice/string", q: "SELECT ? AS v", args: aaA([]string{"a"})},
		aaRow{name: "jsonb/exists", only: "postgres", q: "SELECT ?::jsonb ?? 'a' AS x, '?' AS q", args: aaA(`{"a":1}`)},
		aaRow{name: "jsonb/exists-raw", only: "postgres", q: "SELECT ?::jsonb ?? 'a' AS x", args: aaA(json.RawMessage(`{"b":1}`))},
	)
	// Named arguments.
	rows = append(rows,
		aaRow{name: "named/out-of-order", q: "SELECT :a AS a, :b AS b, :a AS a2",
			args: aaA(sql.Named("b", "B"), sql.Named("a", "A")),
			raw: map[string]aaRaw{
				"postgres": {"SELECT $1::text AS a, $2::text AS b, $1::text AS a2", []any{"A", "B"}},
				"mysql":    {"SELECT ? AS a, ? AS b, ? AS a2", []any{"A", "B", "A"}},
			}},
		aaRow{name: "named/at", only: "postgres", q: "SELECT @x{c} AS x", cast: "bigint", args: aaA(sql.Named("x", 5)),
			raw: map[string]aaRaw{
				"postgres": {"SELECT $1::bigint AS x", []any{5}},
				"mysql":    {"SELECT ? AS x", []any{5}},
			}},
		aaRow{name: "named/reused-name", docErr: true, q: "SELECT :a AS a", args: aaA(sql.Named("a", 1), sql.Named("a", 2))},
		aaRow{name: "named/missing", docErr: true, q: "SELECT :a AS a, :b AS b", args: aaA(sql.Named("a", 1))},
		aaRow{name: "named/extra", docErr: true, q: "SELECT :a AS a", args: aaA(sql.Named("a", 1), sql.Named("z", 2))},
		aaRow{name: "named/mixed-positional", docErr: true, q: "SELECT :a AS a", args: aaA(1)},
		aaRow{name: "named/nil", q: "SELECT :a{c} IS NULL AS a", cast: "text", args: aaA(sql.Named("a", nil)),
			raw: map[string]aaRaw{
				"postgres": {"SELECT $1::text IS NULL AS a", []any{nil}},
				"mysql":    {"SELECT ? IS NULL AS a", []any{nil}},
			}},
		aaRow{name: "named/valuer-error", q: "SELECT :a AS a", args: aaA(sql.Named("a", aaValErr{})),
			raw: map[string]aaRaw{
				"postgres": {"SELECT $1 AS a", []any{aaValErr{}}},
				"mysql":    {"SELECT ? AS a", []any{aaValErr{}}},
			}},
		aaRow{name: "named/at-sqlite", only: "sqlite", q: "SELECT @x AS x", args: aaA(sql.Named("x", 5))},
	)
	// Wrong counts.
	rows = append(rows,
		aaRow{name: "count/two-ok", q: "SELECT ?{c} AS a, ?{c} AS b", cast: "bigint", args: aaA(1, 2)},
		aaRow{name: "count/too-few-same-text", docErr: true, q: "SELECT ?{c} AS a, ?{c} AS b", cast: "bigint", args: aaA(1)},
		aaRow{name: "count/too-many-same-text", docErr: true, q: "SELECT ?{c} AS a, ?{c} AS b", cast: "bigint", args: aaA(1, 2, 3)},
		aaRow{name: "count/named-same-text", docErr: true, q: "SELECT ?{c} AS a, ?{c} AS b", cast: "bigint", args: aaA(sql.Named("a", 1), sql.Named("b", 2))},
		aaRow{name: "count/two-ok-again", q: "SELECT ?{c} AS a, ?{c} AS b", cast: "bigint", args: aaA(3, 4)},
		aaRow{name: "count/too-few", docErr: true, q: "SELECT ? AS a, ? AS b", args: aaA(1)},
		aaRow{name: "count/too-many", docErr: true, q: "SELECT ?{c} AS a", cast: "bigint", args: aaA(1, 2)},
		aaRow{name: "count/none-expected", docErr: true, q: "SELECT 1 AS a", args: aaA(1)},
		// "A query with no arguments is sent as written": PostgreSQL gets a ?.
		aaRow{name: "count/none-given", docErr: true, only: "postgres", q: "SELECT ?{c} AS a", cast: "bigint", args: aaA()},
		aaRow{name: "count/none-given", only: "mysql", q: "SELECT ? AS a", args: aaA()},
		aaRow{name: "count/none-given", only: "sqlite", q: "SELECT ? AS a", args: aaA()},
		aaRow{name: "count/exec-too-many", docErr: true, q: "INSERT INTO aa_t (i) VALUES (?{c})", cast: "bigint", exec: true, col: "i", args: aaA(1, 2)},
	)
	// Native $1 on PostgreSQL, and SQLite's own.
	rows = append(rows,
		aaRow{name: "native/pg-dollar", only: "postgres", q: "SELECT $1::bigint + $1::bigint AS x", args: aaA(2),
			raw: map[string]aaRaw{"postgres": {"SELECT $1::bigint + $1::bigint AS x", []any{2}}}},
		aaRow{name: "native/pg-dollar-too-many", docErr: true, only: "postgres", q: "SELECT $1::bigint + $1::bigint AS x", args: aaA(2, 3),
			raw: map[string]aaRaw{"postgres": {"SELECT $1::bigint + $1::bigint AS x", []any{2, 3}}}},
		aaRow{name: "native/pg-dollar-again", only: "postgres", q: "SELECT $1::bigint + $1::bigint AS x", args: aaA(5),
			raw: map[string]aaRaw{"postgres": {"SELECT $1::bigint + $1::bigint AS x", []any{5}}}},
		aaRow{name: "native/sqlite-qnum", only: "sqlite", q: "SELECT ?2 AS a, ?1 AS b", args: aaA(1, 2)},
		aaRow{name: "native/sqlite-dollar-name", only: "sqlite", q: "SELECT $x AS a", args: aaA(sql.Named("x", 3))},
	)
	return rows
}

func bigInt(v int64) *big.Int { return big.NewInt(v) }

// The outcome of one call.
type aaOut struct {
	kind     string // "row", "other", "setup" or "cancelled"
	panicked bool
	err      error
	cols     string
	rows     string
	affected string
	effect   string
}

func (o aaOut) String() string {
	return fmt.Sprintf("panic=%v err=%v cols=%s rows=%s affected=%s effect=%s", o.panicked, o.err, o.cols, o.rows, o.affected, o.effect)
}

type aaQueryer interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}

func aaCall(ctx context.Context, q aaQueryer, r aaRow, text string, args []any) (o aaOut) {
	o.kind = "row"
	defer func() {
		if p := recover(); p != nil {
			o.panicked = true
		}
	}()
	if r.exec {
		res, err := q.ExecContext(ctx, text, args...)
		o.err = err
		if err == nil {
			n, err1 := res.RowsAffected()
			_, err2 := res.LastInsertId()
			o.affected = fmt.Sprintf("%d %v lastid-err=%v", n, err1, err2 != nil)
		}
		o.effect = aaRead(context.Background(), q, "SELECT "+r.col+" FROM aa_t")
		if _, err := q.ExecContext(context.Background(), "DELETE FROM aa_t"); err != nil {
			o.effect += " delete: " + err.Error()
		}
		return o
	}
	rows, err := q.QueryContext(ctx, text, args...)
	o.err = err
	if err != nil {
		return o
	}
	o.cols, o.rows, o.err = aaScan(rows)
	return o
}

func aaScan(rows *sql.Rows) (cols, vals string, err error) {
	defer rows.Close()
	cts, err := rows.ColumnTypes()
	if err != nil {
		return "", "", err
	}
	var cb strings.Builder
	for _, ct := range cts {
		l, lok := ct.Length()
		p, s, dok := ct.DecimalSize()
		n, nok := ct.Nullable()
		fmt.Fprintf(&cb, "[%s %s %v %d/%v %d.%d/%v %v/%v]", ct.Name(), ct.DatabaseTypeName(), ct.ScanType(), l, lok, p, s, dok, n, nok)
	}
	var vb strings.Builder
	for rows.Next() {
		dest := make([]any, len(cts))
		ptrs := make([]any, len(cts))
		for i := range dest {
			ptrs[i] = &dest[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return cb.String(), vb.String(), err
		}
		for i, v := range dest {
			if t, ok := v.(time.Time); ok {
				dest[i] = t.String()
			}
		}
		fmt.Fprintf(&vb, "%#v;", dest)
	}
	return cb.String(), vb.String(), rows.Err()
}

func aaRead(ctx context.Context, q aaQueryer, text string) string {
	rows, err := q.QueryContext(ctx, text)
	if err != nil {
		return "read: " + err.Error()
	}
	c, v, err := aaScan(rows)
	return fmt.Sprintf("%s %s %v", c, v, err)
}

// aaCompare reports how got (databases) differs from want (raw driver).
func aaCompare(want, got aaOut, list bool) string {
	var d []string
	if want.panicked != got.panicked {
		d = append(d, fmt.Sprintf("panicked: raw %v, databases %v", want.panicked, got.panicked))
	}
	if (want.err == nil) != (got.err == nil) {
		d = append(d, fmt.Sprintf("error: raw %v, databases %v", want.err, got.err))
	} else if want.err != nil {
		var pw, pg *pgconn.PgError
		if errors.As(want.err, &pw) && (!errors.As(got.err, &pg) || pw.Code != pg.Code) {
			d = append(d, fmt.Sprintf("PgError: raw %v, databases %v", want.err, got.err))
		}
		var mw, mg *mysql.MySQLError
		if errors.As(want.err, &mw) && (!errors.As(got.err, &mg) || mw.Number != mg.Number) {
			d = append(d, fmt.Sprintf("MySQLError: raw %v, databases %v", want.err, got.err))
		}
		var sw, sg *sqlite.Error
		if errors.As(want.err, &sw) && (!errors.As(got.err, &sg) || sw.Code() != sg.Code()) {
			d = append(d, fmt.Sprintf("sqlite.Error: raw %v, databases %v", want.err, got.err))
		}
		for _, target := range []error{errAAValuer, context.Canceled, sql.ErrTxDone, sql.ErrConnDone, driver.ErrBadConn} {
			if errors.Is(want.err, target) && !errors.Is(got.err, target) {
				d = append(d, fmt.Sprintf("errors.Is(%v): raw %v, databases %v", target, want.err, got.err))
			}
		}
		if m := want.err.Error(); !list && strings.HasPrefix(m, "sql: converting argument") && !strings.Contains(got.err.Error(), m[strings.Index(m, "type:"):]) {
			d = append(d, fmt.Sprintf("message: raw %q, databases %q", m, got.err.Error()))
		}
	}
	if want.cols != got.cols {
		d = append(d, fmt.Sprintf("columns: raw %s, databases %s", want.cols, got.cols))
	}
	if want.rows != got.rows {
		d = append(d, fmt.Sprintf("rows: raw %s, databases %s", want.rows, got.rows))
	}
	if want.affected != got.affected {
		d = append(d, fmt.Sprintf("affected: raw %s, databases %s", want.affected, got.affected))
	}
	if want.effect != got.effect {
		d = append(d, fmt.Sprintf("effect: raw %s, databases %s", want.effect, got.effect))
	}
	return strings.Join(d, "\n")
}

type aaBackend struct {
	dialect string
	rawName string
	rawDSN  string
	url     string // databases URL, options added with &
	setup   []string
}

func aaBackends(t *testing.T) []aaBackend {
	var bs []aaBackend
	dir := t.TempDir()
	sqliteSetup := []string{
		"CREATE TABLE aa_t (i, u, f, s, b, ts, j)",
		"CREATE TABLE aa_n (v INTEGER)", "INSERT INTO aa_n VALUES (1), (2), (3), (4), (5), (NULL)",
	}
	bs = append(bs, aaBackend{"sqlite", "sqlite",
		filepath.Join(dir, "raw.db") + "?_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_txlock=immediate",
		"sqlite:///" + filepath.Join(dir, "wrapped.db"), sqliteSetup})
	if u, err := url.Parse(os.Getenv("DATABASES_TEST_POSTGRES_URL")); err == nil && u.Host != "" {
		u.Path = "/test_atkarg"
		aaCreateDB(t, "pgx", os.Getenv("DATABASES_TEST_POSTGRES_URL"), "test_atkarg")
		bs = append(bs, aaBackend{"postgres", "pgx", u.String(), u.String(), []string{
			"DROP TABLE IF EXISTS aa_t", "DROP TABLE IF EXISTS aa_n",
			"CREATE TABLE aa_t (i bigint, u numeric, f float8, s text, b bytea, ts timestamptz, j jsonb)",
			"CREATE TABLE aa_n (v bigint)", "INSERT INTO aa_n VALUES (1), (2), (3), (4), (5), (NULL)",
		}})
	} else {
		t.Log("DATABASES_TEST_POSTGRES_URL not set: PostgreSQL skipped")
	}
	if u, err := url.Parse(os.Getenv("DATABASES_TEST_MYSQL_URL")); err == nil && u.Host != "" {
		cfg := mysql.NewConfig()
		cfg.User = u.User.Username()
		cfg.Passwd, _ = u.User.Password()
		cfg.Net = "tcp"
		cfg.Addr = u.Host
		cfg.DBName = ""
		cfg.ParseTime = true
		aaCreateDB(t, "mysql", cfg.FormatDSN(), "test_atkarg")
		cfg.DBName = "test_atkarg"
		u.Path = "/test_atkarg"
		q := u.Query()
		q.Set("parseTime", "true")
		u.RawQuery = q.Encode()
		bs = append(bs, aaBackend{"mysql", "mysql", cfg.FormatDSN(), u.String(), []string{
			"DROP TABLE IF EXISTS aa_t", "DROP TABLE IF EXISTS aa_n",
			"CREATE TABLE aa_t (i bigint, u bigint unsigned, f double, s longtext, b longblob, ts datetime(6), j json)",
			"CREATE TABLE aa_n (v bigint)", "INSERT INTO aa_n VALUES (1), (2), (3), (4), (5), (NULL)",
		}})
	} else {
		t.Log("DATABASES_TEST_MYSQL_URL not set: MySQL skipped")
	}
	return bs
}

func aaCreateDB(t *testing.T, driverName, dsn, name string) {
	t.Helper()
	db, err := sql.Open(driverName, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	if driverName == "pgx" {
		db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
			t.Fatal(err)
		}
	} else {
		db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name)
		if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		db, err := sql.Open(driverName, dsn)
		if err != nil {
			return
		}
		defer db.Close()
		if driverName == "pgx" {
			db.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		} else {
			db.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name)
		}
	})
}

func aaURL(base, opt string) string {
	if opt == "" {
		return base
	}
	if strings.Contains(base, "?") {
		return base + "&" + opt
	}
	return base + "?" + opt
}

// The scenarios: where each call runs.
var aaScenarios = []string{"db", "conn", "tx", "tx-per-row", "tx-after-failed", "cancelled", "tx-cancelled", "tx-prepared"}

// aaCancelRows are the rows run with a cancelled context.
// Break (fidelity.md: errors equal pgx's, driver.ErrBadConn keeps its meaning): postgres/stmt_cache=16/cancelled/* get pgconn's "timeout: context already done" and a Conn that stays usable, where pgx gives driver.ErrBadConn and the Conn is closed.
var aaCancelRows = map[string]bool{"select/int": true, "select/valuer-error": true, "in/int64": true,
	"insert/int": true, "named/out-of-order": true, "any/int64": true, "plain-slice/int64": true}

// aaRun runs every row of the backend in one scenario and returns the
// outcomes: each row three times, with another text between the second and
// the third.
func aaRun(t *testing.T, db *sql.DB, dialect, scenario string, rows []aaRow, native bool) [][]aaOut {
	ctx := context.Background()
	var outs [][]aaOut
	var conn *sql.Conn
	var tx *sql.Tx
	var err error
	switch scenario {
	case "conn":
		conn, err = db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
	case "tx":
		if dialect == "postgres" {
			break // an error aborts it: tx-per-row instead
		}
		tx, err = db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
	}
	for _, r := range rows {
		text, args := r.text(dialect), r.args()
		if native {
			text, args = r.native(dialect)
		}
		// A panicking Valuer leaves database/sql's lock of a Conn or Tx
		// held (the raw driver's too): Close and Rollback would wait
		// forever, so it runs on the DB only.
		if strings.Contains(r.name, "valuer-panic") && scenario != "db" {
			outs = append(outs, nil)
			continue
		}
		if os.Getenv("AA_DEBUG") != "" {
			fmt.Fprintln(os.Stderr, "AA", dialect, scenario, native, r.name)
		}
		var q aaQueryer = db
		var o []aaOut
		switch scenario {
		case "conn":
			q = conn
		case "tx":
			if tx != nil {
				q = tx
			} else {
				q = nil
			}
		case "tx-per-row", "tx-after-failed", "tx-prepared":
			ptx, err := db.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer ptx.Rollback()
			if scenario == "tx-after-failed" {
				_, err := ptx.ExecContext(ctx, "SELECT * FROM aa_missing_table")
				o = append(o, aaOut{kind: "setup", err: err})
			}
			q = ptx
			if scenario == "tx-prepared" {
				q = aaPrepared{ptx}
			}
		case "cancelled":
			if !aaCancelRows[r.name] && !strings.HasPrefix(r.name, "count/") {
				outs = append(outs, nil)
				continue
			}
			c, err := db.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			cctx, cancel := context.WithCancel(ctx)
			cancel()
			o = append(o, aaCall(cctx, c, r, text, args))
			o[len(o)-1].kind = "cancelled"
			o = append(o, aaCall(ctx, c, r, text, args))
			c.Close()
			outs = append(outs, o)
			continue
		case "tx-cancelled":
			if !aaCancelRows[r.name] && !strings.HasPrefix(r.name, "count/") {
				outs = append(outs, nil)
				continue
			}
			// the Tx's own context stays alive; the call's is cancelled
			ctx3, cancel3 := context.WithCancel(ctx)
			cancel3()
			ptx, err := db.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			o = append(o, aaCall(ctx3, ptx, r, text, args))
			o[len(o)-1].kind = "cancelled"
			o = append(o, aaCall(ctx, ptx, r, text, args))
			ptx.Rollback()
			outs = append(outs, o)
			continue
		}
		if q == nil {
			outs = append(outs, nil)
			continue
		}
		o = append(o, aaCall(ctx, q, r, text, args))
		o = append(o, aaCall(ctx, q, r, text, args))
		o = append(o, aaCall(ctx, q, aaRow{}, "SELECT 2 AS other", nil))
		o[len(o)-1].kind = "other"
		o = append(o, aaCall(ctx, q, r, text, args))
		if tx, ok := q.(*sql.Tx); ok && scenario != "tx" {
			tx.Rollback()
		}
		if p, ok := q.(aaPrepared); ok {
			p.tx.Rollback()
		}
		outs = append(outs, o)
	}
	return outs
}

// aaPrepared runs each call as a statement prepared on the transaction.
type aaPrepared struct{ tx *sql.Tx }

func (p aaPrepared) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	st, err := p.tx.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	return st.ExecContext(ctx, args...)
}

func (p aaPrepared) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	st, err := p.tx.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	// not closed here: the rows are still read; the transaction's end
	// closes it.
	return st.QueryContext(ctx, args...)
}

func aaSetup(t *testing.T, db *sql.DB, stmts []string) {
	t.Helper()
	for _, s := range stmts {
		if _, err := db.ExecContext(context.Background(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// TestAttackArgs: docs/fidelity.md "a call's rows, column types, rows
// affected, errors and effects equal the raw driver's", for arguments of
// every kind, on a DB, a Conn and a Tx, with every option set.
func TestAttackArgs(t *testing.T) {
	oldLog := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelDebug})))
	oldTP := otel.GetTracerProvider()
	tp := sdktrace.NewTracerProvider()
	otel.SetTracerProvider(tp)
	t.Cleanup(func() {
		slog.SetDefault(oldLog)
		otel.SetTracerProvider(oldTP)
		tp.Shutdown(context.Background())
	})
	rows := aaRows()
	for _, b := range aaBackends(t) {
		t.Run(b.dialect, func(t *testing.T) {
			raw, err := sql.Open(b.rawName, b.rawDSN)
			if err != nil {
				t.Fatal(err)
			}
			defer raw.Close()
			if b.dialect == "sqlite" {
				aaSetup(t, raw, b.setup)
			} else {
				aaSetup(t, raw, b.setup) // the same database: set up once
			}
			var mine []aaRow
			for _, r := range rows {
				if r.only == "" || r.only == b.dialect {
					mine = append(mine, r)
				}
			}
			rawOuts := map[string][][]aaOut{}
			for _, s := range aaScenarios {
				rawOuts[s] = aaRun(t, raw, b.dialect, s, mine, true)
			}
			configs := []string{"", "stmt_cache=0", "stmt_cache=16", "log=debug", "trace=on", "placeholders=native", "log=debug&trace=on&stmt_cache=0"}
			for ci, opt := range configs {
				name := opt
				if name == "" {
					name = "default"
				}
				t.Run(name, func(t *testing.T) {
					db, err := databases.Open(aaURL(b.url, opt))
					if err != nil {
						t.Fatal(err)
					}
					defer db.Close()
					if b.dialect == "sqlite" && ci == 0 {
						aaSetup(t, db, b.setup)
					}
					native := strings.Contains(opt, "placeholders=native")
					for _, s := range aaScenarios {
						outs := aaRun(t, db, b.dialect, s, mine, native)
						t.Run(s, func(t *testing.T) {
							for i, r := range mine {
								t.Run(r.name, func(t *testing.T) {
									if r.known != "" {
										t.Log("known: " + r.known)
									}
									want, got := rawOuts[s][i], outs[i]
									if len(want) != len(got) {
										t.Fatalf("calls: raw %d, databases %d", len(want), len(got))
									}
									for k := range want {
										if r.docErr && !native {
											// the raw text is not what databases would send:
											// only databases's error is checked.
											if got[k].kind == "row" && got[k].err == nil {
												t.Errorf("call %d of %q: databases gives no error; docs/placeholders.md promises one", k, r.q)
											}
											continue
										}
										if d := aaCompare(want[k], got[k], strings.HasPrefix(r.name, "in/")); d != "" {
											t.Errorf("call %d of %q:\n%s", k, r.q, d)
										}
									}
								})
							}
						})
					}
				})
			}
		})
	}
}

// TestAttackArgsDeadline: a deadline that passes during the call, on a
// *sql.Conn, with an argument, then the next call on the same Conn: the
// error and whether the Conn still works equal the raw driver's.
func TestAttackArgsDeadline(t *testing.T) {
	oldLog := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() { slog.SetDefault(oldLog) })
	for _, b := range aaBackends(t) {
		if b.dialect == "sqlite" {
			continue
		}
		t.Run(b.dialect, func(t *testing.T) {
			q := "SELECT ?::int AS a, pg_sleep(2) AS s"
			if b.dialect == "mysql" {
				q = "SELECT ? AS a, SLEEP(2) AS s"
			}
			again := "SELECT ? AS again"
			if b.dialect == "postgres" {
				again = "SELECT ?::int AS again"
			}
			run := func(db *sql.DB, text string) []aaOut {
				ctx := context.Background()
				c, err := db.Conn(ctx)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				dctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
				defer cancel()
				r := aaRow{q: q}
				o := []aaOut{aaCall(dctx, c, r, text, []any{1})}
				o = append(o, aaCall(ctx, c, aaRow{}, aaQ(b.dialect, text, again), []any{2}))
				return o
			}
			raw, err := sql.Open(b.rawName, b.rawDSN)
			if err != nil {
				t.Fatal(err)
			}
			defer raw.Close()
			rawText := q
			if b.dialect == "postgres" {
				rawText = aaNum(q)
			}
			want := run(raw, rawText)
			for _, opt := range []string{"", "stmt_cache=0", "stmt_cache=16", "log=debug&trace=on", "placeholders=native"} {
				t.Run("opt="+opt, func(t *testing.T) {
					db, err := databases.Open(aaURL(b.url, opt))
					if err != nil {
						t.Fatal(err)
					}
					defer db.Close()
					text := q
					if strings.Contains(opt, "native") {
						text = rawText
					}
					got := run(db, text)
					for k := range want {
						if d := aaCompare(want[k], got[k], false); d != "" {
							t.Errorf("call %d: %s", k, d)
						}
					}
				})
			}
		})
	}
}

// aaQ is q with ? numbered when the text it follows was (native PostgreSQL).
func aaQ(dialect, prev, q string) string {
	if dialect == "postgres" && strings.Contains(prev, "$1") {
		return aaNum(q)
	}
	return q
}
