// Package dbtest gives tests the database URLs of the three backends: SQLite
// in memory always, PostgreSQL and MySQL from DATABASES_TEST_POSTGRES_URL and
// DATABASES_TEST_MYSQL_URL. A missing server is a skip with a message, and a
// failure when CI=true.
//
// Tests that start servers of their own (internal/pgtemp, internal/mytemp,
// the clusters of internal/cluster) take seconds to minutes each; they run
// only when DATABASES_TEST_CLUSTERS=1 (RequireClusters). A test binary's
// TestMain calls Main, which ends the run with one line saying what was
// skipped and how to run it.
package dbtest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
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
	skipped.add(b.Dialect+" ("+b.env+" is not set)", t)
	t.Skipf("%s is not set; set it to a %s URL to run this test (see docs/testing.md)", b.env, b.Dialect)
}

// Require calls the Require of the backend of dialect ("postgres" or
// "mysql"): for a test that reaches that server at an address of its own,
// such as the attack tests' databases on the same servers, so that it
// skips, and is counted in the summary, when the server is not configured.
func Require(t testing.TB, dialect string) {
	t.Helper()
	for _, b := range Backends() {
		if b.Dialect == dialect {
			b.Require(t)
			return
		}
	}
	t.Fatalf("dbtest: no backend %q", dialect)
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

// ClustersEnv is the variable that lets tests start servers of their own.
const ClustersEnv = "DATABASES_TEST_CLUSTERS"

// clustersSkip is the reason RequireClusters records its skips under.
const clustersSkip = "clusters"

// RequireClusters skips t unless DATABASES_TEST_CLUSTERS=1: t starts
// private servers or clusters, which takes seconds to minutes. Under
// CI=true the variable must be set: 1 to run such tests, 0 to leave them
// out on purpose; unset, the test fails, so that a CI that forgot it does
// not pass without its drills. internal/pgtemp, internal/mytemp and
// internal/cluster call it before they start anything.
func RequireClusters(t testing.TB) {
	t.Helper()
	switch clustersDecision(os.Getenv(ClustersEnv), os.Getenv("CI")) {
	case runClusters:
		return
	case failClusters:
		t.Fatalf("%s is not set; under CI=true set it to 1 to run the tests that start their own servers, or to 0 to skip them", ClustersEnv)
	}
	skipped.add(clustersSkip, t)
	t.Skipf("this test starts servers of its own; set %s=1 to run it (see docs/testing.md)", ClustersEnv)
}

type decision uint8

const (
	skipClusters decision = iota
	runClusters
	failClusters
)

// clustersDecision is RequireClusters' answer for the values of
// DATABASES_TEST_CLUSTERS and CI.
func clustersDecision(clusters, ci string) decision {
	switch {
	case clusters == "1":
		return runClusters
	case clusters == "" && ci == "true":
		return failClusters
	}
	return skipClusters
}

// ClustersEnabled reports whether DATABASES_TEST_CLUSTERS=1, for a
// benchmark or helper that decides without a test to skip.
func ClustersEnabled() bool { return os.Getenv(ClustersEnv) == "1" }

// skipped records, per reason, the top-level tests skipped for it.
var skipped skips

type skips struct {
	mu      sync.Mutex
	reasons []string            // in the order first seen
	tests   map[string][]string // reason → top-level test names, each once
}

func (s *skips) add(reason string, t testing.TB) {
	name, _, _ := strings.Cut(t.Name(), "/")
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tests == nil {
		s.tests = map[string][]string{}
	}
	if _, ok := s.tests[reason]; !ok {
		s.reasons = append(s.reasons, reason)
	}
	if !slices.Contains(s.tests[reason], name) {
		s.tests[reason] = append(s.tests[reason], name)
	}
}

// summary is the line naming what was skipped, or "".
func (s *skips) summary(binary string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.reasons) == 0 {
		return ""
	}
	parts := make([]string, len(s.reasons))
	for i, r := range s.reasons {
		n := len(s.tests[r])
		parts[i] = fmt.Sprintf("%d %s on %s", n, plural(n, "test", "tests"), r)
		if r == clustersSkip {
			parts[i] = fmt.Sprintf("%d %s (%s=1 runs them)", n,
				plural(n, "test that starts its own servers", "tests that start their own servers"), ClustersEnv)
		}
	}
	return binary + ": skipped " + strings.Join(parts, "; ") + "; see docs/testing.md"
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Main runs a test binary's tests, then cleanups (such as stopping a shared
// cluster), and ends with one line naming what was skipped, if anything:
//
//	databases: skipped 40 tests on postgres (DATABASES_TEST_POSTGRES_URL is not set); 21 tests that start their own servers (DATABASES_TEST_CLUSTERS=1 runs them); see docs/testing.md
//
// The line goes to standard output, which go test shows with -v, when the
// binary fails, or when it runs one package from its directory (go test
// with no package arguments). In package list mode (go test ./...) go test
// discards what a passing binary printed, so the line is also written to
// the terminal (/dev/tty) when there is one and -v is off.
func Main(m *testing.M, binary string, cleanups ...func()) {
	code := m.Run()
	for _, f := range cleanups {
		f()
	}
	if line := skipped.summary(binary); line != "" {
		fmt.Println(line)
		if !testing.Verbose() {
			if tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0); err == nil {
				fmt.Fprintln(tty, line)
				tty.Close()
			}
		}
	}
	os.Exit(code)
}
