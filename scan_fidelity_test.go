package databases

import (
	"context"
	"database/sql"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/go-databases/databases/internal/dbtest"
)

// TestScanMatchesPgx scans rows of common column types into the common
// destinations (and a Go slice beside them, and a pgx error or two)
// through databases without middleware and with some, directly, prepared
// and in a transaction, and compares every value and error with raw pgx.
// From Go 1.27 the wrapper scans the common destinations itself
// (rows_go127.go); the results must not change.
func TestScanMatchesPgx(t *testing.T) {
	b := dbtest.Backends()[1]
	b.Require(t)
	ctx := context.Background()
	raw := openRaw(t, b.URL)
	dbs := map[string]*sql.DB{}
	for name, opts := range map[string][]Option{"no middleware": nil, "WithMiddleware": {WithMiddleware()}} {
		db, err := Open(b.URL, opts...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		dbs[name] = db
	}
	anyType := reflect.TypeFor[any]()
	// news returns new destinations per row, one per value (or
	// reflect.Type) of ts: a pointer to its type.
	news := func(ts ...any) func() []any {
		return func() []any {
			d := make([]any, len(ts))
			for i, t := range ts {
				typ, ok := t.(reflect.Type)
				if !ok {
					typ = reflect.TypeOf(t)
				}
				d[i] = reflect.New(typ).Interface()
			}
			return d
		}
	}
	type querier interface {
		QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	}
	scan := func(q querier, query string, dest func() []any, args []any) string {
		rs, err := q.QueryContext(ctx, query, args...)
		if err != nil {
			return "query: " + err.Error()
		}
		defer rs.Close()
		var out []string
		for rs.Next() {
			d := dest()
			if err := rs.Scan(d...); err != nil {
				return fmt.Sprintf("%s scan: %v", strings.Join(out, " "), err)
			}
			for _, v := range d {
				if rv := reflect.ValueOf(v); !rv.IsNil() {
					v = rv.Elem().Interface()
				}
				out = append(out, fmt.Sprintf("%#v", v))
			}
		}
		return fmt.Sprintf("%s err=%v", strings.Join(out, " "), rs.Err())
	}
	tests := []struct {
		name, query string
		args        []any
		dest        func() []any
	}{
		{"scalars", "SELECT i::bigint, 'n' || i, i * 0.5::float8, timestamptz '2024-01-01 00:00:00+00' + i * interval '1 hour', i % 2 = 0, " +
			"decode('ff0' || i, 'hex'), (i + 1)::int4, i::int2 FROM generate_series(1, 3) AS i", nil,
			news(int64(0), "", 0.0, time.Time{}, false, []byte(nil), 0, int32(0))},
		{"argument", "SELECT ?::bigint * 2", []any{21}, news(int64(0))},
		{"nulls", "SELECT NULL::text, NULL::bigint, NULL::int4, NULL::int2, NULL::float8, NULL::timestamptz, NULL::bool, NULL::int2, NULL::text", nil,
			news(sql.NullString{}, sql.NullInt64{}, sql.NullInt32{}, sql.NullInt16{}, sql.NullFloat64{}, sql.NullTime{}, sql.NullBool{}, sql.NullByte{}, anyType)},
		{"valid nulls", "SELECT 'x'::text, 5::bigint, 6::int4, 7::int2, 1.5::float8, timestamptz '2024-01-01 00:00:00+00', true, 8::int2", nil,
			news(sql.NullString{}, sql.NullInt64{}, sql.NullInt32{}, sql.NullInt16{}, sql.NullFloat64{}, sql.NullTime{}, sql.NullBool{}, sql.NullByte{})},
		{"into any", "SELECT 1::int4, 'x'::text, 2.5::float8, NULL::int4, '\\x01'::bytea, 1.25::numeric, date '2024-02-03', true", nil,
			news(anyType, anyType, anyType, anyType, anyType, anyType, anyType, anyType)},
		{"into strings", "SELECT 1.50::numeric, '6ba7b810-9dad-11d1-80b4-00c04fd430c8'::uuid, 42::bigint, '{\"a\": 1}'::jsonb, ARRAY[1, 2]::int4[]", nil,
			news("", "", "", "", "")},
		{"raw bytes", "SELECT 'abc'::text", nil, news(sql.RawBytes(nil))},
		{"a slice beside scalars", "SELECT i, ARRAY[i, i * 10]::bigint[], 'x' || i FROM generate_series(1, 3) AS i", nil,
			news(int64(0), []int64(nil), "")},
		{"a slice on the second row", "SELECT i, CASE WHEN i > 1 THEN ARRAY[i] END FROM generate_series(1, 3) AS i", nil,
			news(int64(0), []int64(nil))},
		{"text into *int64", "SELECT 'x'::text", nil, news(int64(0))},
		{"NULL into *int64", "SELECT NULL::bigint", nil, news(int64(0))},
		{"too big for *int32", "SELECT 3000000000::bigint", nil, news(int32(0))},
		{"infinity into *time.Time", "SELECT 'infinity'::timestamptz", nil, news(time.Time{})},
		{"nil pointer", "SELECT 1::bigint", nil, func() []any { return []any{(*int64)(nil)} }},
		{"error after rows", "SELECT 10 / (3 - i) FROM generate_series(1, 4) AS i", nil, news(int64(0))},
	}
	for _, tt := range tests {
		rawQuery := strings.Replace(tt.query, "?", "$1", 1)
		want := scan(raw, rawQuery, tt.dest, tt.args)
		for name, db := range dbs {
			if got := scan(db, tt.query, tt.dest, tt.args); got != want {
				t.Errorf("%s, %s:\n got %s\nwant %s (raw pgx)", tt.name, name, got, want)
			}
			st, err := db.Prepare(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			if got := scan(stmtQuerier{st}, tt.query, tt.dest, tt.args); got != want {
				t.Errorf("%s, %s, prepared:\n got %s\nwant %s (raw pgx)", tt.name, name, got, want)
			}
			st.Close()
			tx, err := db.Begin()
			if err != nil {
				t.Fatal(err)
			}
			if got := scan(tx, tt.query, tt.dest, tt.args); got != want {
				t.Errorf("%s, %s, in a transaction:\n got %s\nwant %s (raw pgx)", tt.name, name, got, want)
			}
			tx.Rollback()
		}
		if testing.Verbose() {
			t.Logf("%s: %s", tt.name, want)
		}
	}
}
