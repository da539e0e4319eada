// Package dbtest gives tests the database URLs of the three backends: SQLite
// in memory always, PostgreSQL and MySQL from DATABASES_TEST_POSTGRES_URL and
// DATABASES_TEST_MYSQL_URL. A missing server is a skip with a message, and a
// failure when CI=true.
package dbtest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"testing"
)

// Backend is one database a behavioural test runs against.
type Backend struct {
	Dialect string // "sqlite", "postgres" or "mysql"
	URL     string // "" when the server is not configured
	env     string
}

// Backends lists the three dialects in a fixed order.
func Backends() []Backend {
	return []Backend{
		{Dialect: "sqlite", URL: "sqlite:///:memory:"},
		{Dialect: "postgres", URL: os.Getenv("DATABASES_TEST_POSTGRES_URL"), env: "DATABASES_TEST_POSTGRES_URL"},
		{Dialect: "mysql", URL: mysqlURL(os.Getenv("DATABASES_TEST_MYSQL_URL")), env: "DATABASES_TEST_MYSQL_URL"},
	}
}

// mysqlURL makes sure DATETIME columns scan into time.Time in tests.
func mysqlURL(u string) string {
	if u == "" || strings.Contains(u, "parseTime=") {
		return u
	}
	if strings.Contains(u, "?") {
		return u + "&parseTime=true"
	}
	return u + "?parseTime=true"
}

// Require skips the test when b's server is not configured, or fails it
// under CI, where every server must be there.
func (b Backend) Require(t testing.TB) {
	t.Helper()
	if b.URL != "" {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not set; CI must test %s", b.env, b.Dialect)
	}
	t.Skipf("%s is not set; set it to a %s URL to run this test (see CONTRIBUTING.md)", b.env, b.Dialect)
}

// Unconfigured names the backends whose server is not configured, each as
// "postgres (DATABASES_TEST_POSTGRES_URL is not set)", so that a test
// binary can say what its run left out.
func Unconfigured() []string {
	var out []string
	for _, b := range Backends() {
		if b.URL == "" {
			out = append(out, fmt.Sprintf("%s (%s is not set)", b.Dialect, b.env))
		}
	}
	return out
}

// Run runs f once per backend as a subtest named after the dialect.
func Run(t *testing.T, f func(t *testing.T, b Backend)) {
	for _, b := range Backends() {
		t.Run(b.Dialect, func(t *testing.T) {
			b.Require(t)
			f(t, b)
		})
	}
}

// Name returns a table name unique to this run, so tests of several packages
// can share one server.
func Name(prefix string) string {
	var b [4]byte
	rand.Read(b[:])
	return prefix + "_" + hex.EncodeToString(b[:])
}
