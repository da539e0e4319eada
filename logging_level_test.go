package databases_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/go-databases/databases"
	"github.com/go-databases/databases/internal/dbtest"
)

// TestLogInfoShowsQueries: log=info logs each query and exec, as pgx's
// tracelog does at Info; begin and commit stay at debug.
func TestLogInfoShowsQueries(t *testing.T) {
	var buf bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	defer slog.SetDefault(prev)
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		buf.Reset()
		db, err := databases.Open(b.URL + map[bool]string{true: "&", false: "?"}[strings.Contains(b.URL, "?")] + "log=info")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var n int
		if err := db.QueryRow("SELECT 41 + ?", 1).Scan(&n); err != nil || n != 42 {
			t.Fatalf("got %d, %v", n, err)
		}
		tx, err := db.Begin()
		if err != nil {
			t.Fatal(err)
		}
		tx.Commit()
		logs := buf.String()
		if !strings.Contains(logs, `level=INFO msg="db query"`) || !strings.Contains(logs, "SELECT 41 + ?") {
			t.Errorf("log=info logged no query:\n%s", logs)
		}
		if strings.Contains(logs, "db begin") || strings.Contains(logs, "db commit") {
			t.Errorf("log=info logged a begin or commit, which are debug:\n%s", logs)
		}
	})
}
