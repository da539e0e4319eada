package main

import (
	"context"
	"os"
	"testing"

	"github.com/go-databases/databases/internal/dbtest"
)

// TestMain lets a test run the command as a program of its own: the test
// binary with DATABASES_CLI_MAIN=1 is the command, so the interactive tests
// drive it through a pseudo-terminal, as a person would. Otherwise it runs
// the tests and ends the run with one line naming what it skipped.
func TestMain(m *testing.M) {
	if os.Getenv("DATABASES_CLI_MAIN") == "1" {
		os.Exit(cli(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	dbtest.Main(m, "cmd/databases")
}
