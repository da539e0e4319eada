package main

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/go-databases/databases"
	"github.com/go-databases/databases/internal/dbtest"
)

func TestText(t *testing.T) {
	tests := []struct {
		v    any
		want string
	}{
		{nil, "NULL"},
		{[]byte("héllo"), "héllo"},
		{[]byte{0, 0xff}, `\x00ff`},
		{"s", "s"},
		{int64(-3), "-3"},
		{1.5, "1.5"},
		{true, "true"},
		{time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), "2026-01-02T03:04:05.000000006Z"},
	}
	for _, tt := range tests {
		if got := text(tt.v); got != tt.want {
			t.Errorf("text(%#v) = %q; want %q", tt.v, got, tt.want)
		}
	}
}

func TestAppendJSON(t *testing.T) {
	tests := []struct {
		v       any
		numeric bool
		want    string
	}{
		{nil, false, "null"},
		{true, false, "true"},
		{int64(42), false, "42"},
		{2.5, false, "2.5"},
		{math.Inf(1), false, `"+Inf"`},
		{math.NaN(), false, `"NaN"`},
		{"a\"b\n", false, `"a\"b\n"`},
		{[]byte("12.50"), true, "12.50"},
		{[]byte("12.50"), false, `"12.50"`},
		{[]byte("NaN"), true, `"NaN"`},
		{[]byte{0xff}, true, `"\\xff"`},
		{time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), false, `"2026-01-02T03:04:05Z"`},
	}
	for _, tt := range tests {
		if got := string(appendJSON(nil, tt.v, tt.numeric)); got != tt.want {
			t.Errorf("appendJSON(%#v, %v) = %s; want %s", tt.v, tt.numeric, got, tt.want)
		}
	}
}

// Each format prints the same result set the same way on every backend.
func TestFormatsBackends(t *testing.T) {
	const query = "SELECT 7 AS n, 'a,b' AS s, NULL AS z"
	tests := []struct {
		format string
		want   string
	}{
		{"table", "n  s    z\n-  -    -\n7  a,b  NULL\n(1 row)\n1 row affected\n"},
		{"csv", "n,s,z\n7,\"a,b\",\n"},
		{"json", `[{"n":7,"s":"a,b","z":null}]` + "\n"},
	}
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		ctx := context.Background()
		db, err := databases.Open(b.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		table := dbtest.Name("cli_format")
		if _, err := db.ExecContext(ctx, "CREATE TABLE "+table+" (x INTEGER)"); err != nil {
			t.Fatal(err)
		}
		defer db.ExecContext(ctx, "DROP TABLE "+table)
		conn, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		for _, tt := range tests {
			t.Run(tt.format, func(t *testing.T) {
				var out strings.Builder
				f := newFormatter(tt.format, &out)
				if err := runOne(ctx, conn, query, f); err != nil {
					t.Fatal(err)
				}
				if err := runOne(ctx, conn, "INSERT INTO "+table+" VALUES (1)", f); err != nil {
					t.Fatal(err)
				}
				if out.String() != tt.want {
					t.Fatalf("output:\n%s\nwant:\n%s", out.String(), tt.want)
				}
			})
		}
	})
}

func TestNewFormatterUnknown(t *testing.T) {
	if f := newFormatter("xml", nil); f != nil {
		t.Fatalf("newFormatter(xml) = %T; want nil", f)
	}
}
