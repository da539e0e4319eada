package main

import (
	"context"
	"reflect"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/go-databases/databases"
)

func TestRun(t *testing.T) {
	var out strings.Builder
	err := run(context.Background(), "sqlite:///:memory:", []string{
		"CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, data BLOB)",
		"INSERT INTO t (name, data) VALUES ('ada', x'00ff'), ('grace', NULL)",
		"SELECT id, name, data FROM t ORDER BY id",
	}, &out)
	if err != nil {
		t.Fatal(err)
	}
	want := `0 rows affected
2 rows affected
id  name   data
--  ----   ----
1   ada    \x00ff
2   grace  NULL
(2 rows)
`
	if out.String() != want {
		t.Fatalf("output:\n%s\nwant:\n%s", out.String(), want)
	}
}

func TestRunStopsAtFirstError(t *testing.T) {
	var out strings.Builder
	err := run(context.Background(), "sqlite:///:memory:", []string{"SELECT 1", "SELECT nope", "SELECT 2"}, &out)
	if err == nil || !strings.HasPrefix(err.Error(), "statement 2: ") {
		t.Fatalf("err = %v; want one naming statement 2", err)
	}
	if strings.Contains(out.String(), "2\n(1 row)") {
		t.Fatal("ran the statement after the failing one")
	}
}

func TestReadStatements(t *testing.T) {
	script := "CREATE TABLE t (x);\nINSERT INTO t\n  VALUES (';');\n\nSELECT * FROM t"
	got, err := readStatements(strings.NewReader(script))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"CREATE TABLE t (x)", "INSERT INTO t\n  VALUES (';')", "SELECT * FROM t"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("statements = %q; want %q", got, want)
	}
}

func TestRunTraced(t *testing.T) {
	var out, spans strings.Builder
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spanPrinter{&spans}))
	err := run(context.Background(), "sqlite:///:memory:", []string{"CREATE TABLE users (id INTEGER)", "SELECT id FROM users"}, &out,
		databases.WithTracerProvider(tp))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`span "CREATE users"`, `span "SELECT users"`, `db.system.name="sqlite"`, `db.response.returned_rows="0"`} {
		if !strings.Contains(spans.String(), want) {
			t.Errorf("spans lack %s:\n%s", want, spans.String())
		}
	}
}
