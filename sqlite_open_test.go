package databases

import (
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"modernc.org/sqlite"
)

// A SQLite file in a directory that does not exist fails at first use; the
// error names the path and the missing directory, and still wraps the
// driver's *sqlite.Error.
func TestSQLiteOpenNamesMissingDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nodir")
	path := filepath.Join(dir, "x.db")
	db, err := sql.Open("databases", "sqlite:///"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Ping()
	if err == nil {
		t.Fatal("Ping succeeded on a file in a missing directory")
	}
	for _, want := range []string{path, `directory "` + dir + `" does not exist`, "unable to open database file"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	var se *sqlite.Error
	if !errors.As(err, &se) {
		t.Errorf("errors.As(%v, *sqlite.Error) = false; the driver's error must stay reachable", err)
	}
}
