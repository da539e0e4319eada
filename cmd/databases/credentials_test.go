package main

import (
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/go-databases/databases"
	"github.com/go-databases/databases/internal/dbtest"
)

// TestCLIPasswordFile runs the command against MariaDB as a user of the
// test's own whose password is in a password_file: it connects with the
// file's password, and with a wrong one it fails naming the server and the
// user, with neither password in its output, logs (-log debug), spans
// (-trace) or insights (-insights).
func TestCLIPasswordFile(t *testing.T) {
	b := dbtest.Backends()[2]
	b.Require(t)
	admin, err := databases.Open(b.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	u, err := url.Parse(b.URL)
	if err != nil {
		t.Fatal(err)
	}
	const user = "test_creds_cli"
	run := func(q string) {
		if _, err := admin.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	run("DROP USER IF EXISTS '" + user + "'@'%'")
	run("CREATE USER '" + user + "'@'%' IDENTIFIED BY 'Cli-Secret-1'")
	run("GRANT SELECT ON `" + strings.TrimPrefix(u.Path, "/") + "`.* TO '" + user + "'@'%'")
	defer admin.Exec("DROP USER IF EXISTS '" + user + "'@'%'")

	file := writeFile(t, "password", "Cli-Secret-1\n")
	v := *u
	v.User = url.User(user)
	q := v.Query()
	q.Set("password_file", file)
	v.RawQuery = q.Encode()
	args := []string{"-url", v.String(), "-log", "debug", "-trace", "-insights", "SELECT CURRENT_USER() AS u"}

	code, stdout, stderr := runCLI(t, "", args...)
	if code != 0 || !strings.Contains(stdout, user+"@") {
		t.Fatalf("with the file's password: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if err := os.WriteFile(file, []byte("Cli-Wrong-2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = runCLI(t, "", args...)
	server := u.Host
	if u.Port() == "" {
		server += ":3306"
	}
	if want := "connecting to " + server + ` as user "` + user + `"`; code != exitError || !strings.Contains(stderr, want) {
		t.Errorf("with a wrong password: exit %d, stderr %q; want %d and %q", code, stderr, exitError, want)
	}
	for _, pw := range []string{"Cli-Secret-1", "Cli-Wrong-2"} {
		if strings.Contains(stdout+stderr, pw) {
			t.Errorf("the output shows %q:\n%s\n%s", pw, stdout, stderr)
		}
	}
}
