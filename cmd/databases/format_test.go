package main

import (
	"context"
	"io"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/go-databases/databases"
	"github.com/go-databases/databases/internal/dbtest"
)

// A table cell shows every value on one line and tells values apart that
// would look alike: NULL from the text NULL, text from bytes, a tab or line
// break from the two characters \t or \n.
func TestCell(t *testing.T) {
	tests := []struct {
		v    any
		want string
	}{
		{nil, "NULL"},
		{"NULL", `\NULL`},
		{[]byte("NULL"), `\NULL`},
		{"null", "null"},
		{"", ""},
		{[]byte("héllo"), "héllo"},
		{[]byte{0, 0xff}, `\x00ff`},
		{`\x00ff`, `\\x00ff`},
		{"a\tb\nc\r\n", `a\tb\nc\r\n`},
		{`C:\dir`, `C:\\dir`},
		{"\x00\x1b\x7f", `\x00\x1b\x7f`},
		{"\u0085 \u00e9", `\u0085 é`},
		{"a\xffb", `a\xffb`},
		{"s", "s"},
		{int64(-3), "-3"},
		{1.5, "1.5"},
		{true, "true"},
		{time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), "2026-01-02T03:04:05.000000006Z"},
	}
	for _, tt := range tests {
		if got := cell(tt.v); got != tt.want {
			t.Errorf("cell(%#v) = %q; want %q", tt.v, got, tt.want)
		}
	}
}

// A CSV field is NULL as nothing, the empty string as "", and quoted when
// CSV needs it; text goes as is.
func TestAppendCSVField(t *testing.T) {
	tests := []struct {
		v    any
		want string
	}{
		{nil, ""},
		{"", `""`},
		{"NULL", "NULL"},
		{[]byte("NULL"), "NULL"},
		{"a,b", `"a,b"`},
		{`say "hi"`, `"say ""hi"""`},
		{"a\nb", "\"a\nb\""},
		{"a\rb", "\"a\rb\""},
		{"a\tb", "a\tb"},
		{" a", `" a"`},
		{`\.`, `"\."`},
		{[]byte{0, 0xff}, `\x00ff`},
		{int64(7), "7"},
	}
	for _, tt := range tests {
		if got := string(appendCSVField(nil, tt.v)); got != tt.want {
			t.Errorf("appendCSVField(%#v) = %s; want %s", tt.v, got, tt.want)
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
		{nil, true, "null"},
		{true, false, "true"},
		{int64(42), false, "42"},
		{int64(42), true, "42"},
		{int16(-7), true, "-7"},
		{uint64(math.MaxUint64), true, "18446744073709551615"},
		{2.5, false, "2.5"},
		{float32(1.1), true, "1.1"},
		{math.Inf(1), true, `"+Inf"`},
		{math.NaN(), false, `"NaN"`},
		{"a\"b\n", false, `"a\"b\n"`},
		{[]byte("12.50"), true, "12.50"},
		{"12.50", true, "12.50"},
		{"9007199254740993", true, "9007199254740993"},
		{"1e5", true, "1e5"},
		{[]byte("12.50"), false, `"12.50"`},
		{"12.50", false, `"12.50"`},
		{"NaN", true, `"NaN"`},
		{".5", true, `".5"`},
		{" 1", true, `" 1"`},
		{"1 ", true, `"1 "`},
		{[]byte{0xff}, true, `"\\xff"`},
		{time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), false, `"2026-01-02T03:04:05Z"`},
	}
	for _, tt := range tests {
		if got := string(appendJSON(nil, tt.v, tt.numeric)); got != tt.want {
			t.Errorf("appendJSON(%#v, %v) = %s; want %s", tt.v, tt.numeric, got, tt.want)
		}
	}
}

func TestNumericType(t *testing.T) {
	for name, want := range map[string]bool{
		"INT4": true, "INT8": true, "NUMERIC": true, "FLOAT4": true, "FLOAT8": true, // PostgreSQL
		"INT": true, "UNSIGNED BIGINT": true, "DECIMAL": true, "FLOAT": true, "DOUBLE": true, // MySQL
		"INTEGER": true, "DECIMAL(10,2)": true, "BIGINT UNSIGNED": true, "double precision": true, "REAL": true, // SQLite as declared
		"": false, "TEXT": false, "VARCHAR(10)": false, "INTERVAL": false, "POINT": false, "790": false, "BOOL": false, "YEAR": false,
	} {
		if got := numericType(name); got != want {
			t.Errorf("numericType(%q) = %v; want %v", name, got, want)
		}
	}
}

// Each format prints the same result set the same way on every backend.
func TestFormatsBackends(t *testing.T) {
	const query = "SELECT 7 AS n, 'a,b' AS s, NULL AS z, 'NULL' AS t, '' AS e, 'x\ty\nz' AS c"
	tests := []struct {
		format string
		want   string
	}{
		{"table", "n  s    z     t      e  c\n-  -    -     -      -  -\n7  a,b  NULL  \\NULL     x\\ty\\nz\n(1 row)\nINSERT 1\n"},
		{"csv", "n,s,z,t,e,c\n7,\"a,b\",,NULL,\"\",\"x\ty\nz\"\n"},
		{"json", `[{"n":7,"s":"a,b","z":null,"t":"NULL","e":"","c":"x\ty\nz"}]` + "\n"},
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
		for _, tt := range tests {
			t.Run(tt.format, func(t *testing.T) {
				var out strings.Builder
				s, err := openSession(ctx, b.URL, newFormatter(tt.format, &out), io.Discard, nil)
				if err != nil {
					t.Fatal(err)
				}
				defer s.close()
				if b.Dialect == "sqlite" { // a database of its own
					if _, err := s.conn.ExecContext(ctx, "CREATE TABLE "+table+" (x INTEGER)"); err != nil {
						t.Fatal(err)
					}
				}
				if err := runOne(ctx, s, query); err != nil {
					t.Fatal(err)
				}
				if err := runOne(ctx, s, "INSERT INTO "+table+" VALUES (1)"); err != nil {
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

// JSON numbers follow the column's database type on every backend: numeric
// columns are numbers with the digits the database sent, text columns are
// strings whatever they hold.
func TestJSONNumbersBackends(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		table := dbtest.Name("cli_numbers")
		want := `[{"d":12.50,"i":3,"b":9007199254740993,"f":1.5,"dp":2.25,"v":"42","d2":25.00}]` + "\n"
		if b.Dialect == "sqlite" {
			// SQLite keeps a DECIMAL as a REAL, and d * 2 has no declared
			// type: its value is a number.
			want = `[{"d":12.5,"i":3,"b":9007199254740993,"f":1.5,"dp":2.25,"v":"42","d2":25}]` + "\n"
		}
		code, stdout, stderr := runCLI(t, "", "-url", b.URL, "-format", "json",
			"CREATE TABLE "+table+" (d DECIMAL(10,2), i INTEGER, b BIGINT, f FLOAT, dp DOUBLE PRECISION, v VARCHAR(10))",
			"INSERT INTO "+table+" VALUES (12.50, 3, 9007199254740993, 1.5, 2.25, '42')",
			"SELECT d, i, b, f, dp, v, d * 2 AS d2 FROM "+table,
			"DROP TABLE "+table)
		if code != 0 {
			t.Fatalf("exit status %d: %s", code, stderr)
		}
		if stdout != want {
			t.Fatalf("stdout:\n%s\nwant:\n%s", stdout, want)
		}
		if b.Dialect == "postgres" {
			_, stdout, _ := runCLI(t, "", "-url", b.URL, "-format", "json", "SELECT 'NaN'::numeric AS n, 'Infinity'::float8 AS f, 1.5::real AS r")
			if want := `[{"n":"NaN","f":"+Inf","r":1.5}]` + "\n"; stdout != want {
				t.Fatalf("stdout:\n%s\nwant:\n%s", stdout, want)
			}
		}
	})
}
