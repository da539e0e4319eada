package databases

import (
	"database/sql"
	"flag"
	"fmt"
	"os"
	"testing"

	"github.com/go-databases/databases/internal/cluster"
	"github.com/go-databases/databases/internal/dbtest"
)

// TestMain runs the parallel tests parallelWaiters at a time, creates the
// databases the attack tests use on the configured servers, stops the Galera cluster the tests share, if one was started,
// and ends with one line naming what the run skipped (servers not
// configured, tests that start their own servers).
func TestMain(m *testing.M) {
	waitingParallel()
	if err := createAttackDatabases(); err != nil {
		fmt.Fprintln(os.Stderr, "databases:", err)
		os.Exit(1)
	}
	dbtest.Main(m, "databases", cluster.CloseShared)
}

// parallelWaiters is the -parallel this package runs with when the
// command line gives none. Its parallel tests mostly wait (a leak
// threshold, a busy_timeout, force_rollback's wait for the shared
// connection) rather than compute; at the default, GOMAXPROCS (2 on the CI
// machine), they would wait out their sleeps two at a time.
const parallelWaiters = 16

// waitingParallel sets -parallel to parallelWaiters unless it was given.
func waitingParallel() {
	flag.Parse()
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == "test.parallel" })
	if !given {
		if err := flag.Set("test.parallel", fmt.Sprint(parallelWaiters)); err != nil {
			panic(err)
		}
	}
}

// attackDatabases are the databases of their own that the attack tests
// (attack_*_test.go) open on the servers of the behavioural tests, each
// with its own state (users, tables, session settings) apart from the
// others'.
var attackDatabases = []string{"test_atk1", "test_atk_agree", "test_atk_agree2", "test_atk_copy", "test_atk_door", "test_atk_fail"}

// createAttackDatabases creates attackDatabases on each configured server
// that lacks them.
func createAttackDatabases() error {
	for _, b := range dbtest.Backends() {
		if b.URL == "" || b.Dialect == "sqlite" {
			continue
		}
		db, err := Open(b.URL)
		if err != nil {
			return err
		}
		err = createDatabases(db, b.Dialect)
		db.Close()
		if err != nil {
			return fmt.Errorf("creating the attack tests' databases on %s: %w", b.Dialect, err)
		}
	}
	return nil
}

func createDatabases(db *sql.DB, dialect string) error {
	for _, name := range attackDatabases {
		if dialect == "mysql" {
			if _, err := db.Exec("CREATE DATABASE IF NOT EXISTS " + name); err != nil {
				return err
			}
			continue
		}
		var n int
		if err := db.QueryRow("SELECT COUNT(*) FROM pg_database WHERE datname = $1", name).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			if _, err := db.Exec("CREATE DATABASE " + name); err != nil {
				return err
			}
		}
	}
	return nil
}
