package cluster

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/go-databases/databases/internal/pgtemp"
	_ "github.com/jackc/pgx/v5/stdlib" // the admin connections' driver
)

// Postgres is a PostgreSQL primary with one streaming standby that is
// synchronous (synchronous_standby_names='*'): a COMMIT the primary
// acknowledges is on the standby's disk.
type Postgres struct {
	Primary, Standby *pgtemp.Server
	// StartTime is how long the pair took to be up and synchronous.
	StartTime time.Duration
}

// PostgresOptions change the pair.
type PostgresOptions struct {
	// ApplyDelay sets the standby's recovery_min_apply_delay: it holds
	// each transaction this long before replaying it, so reads on it are
	// stale by that much (COMMIT still waits only for the flush).
	ApplyDelay time.Duration
}

// StartPostgres starts a primary and a synchronous standby made with
// pg_basebackup -R, both with a database "test". It skips the test when the
// binaries are missing (fails under CI=true); both are stopped when the
// test ends.
func StartPostgres(t testing.TB, opts PostgresOptions) *Postgres {
	t.Helper()
	start := time.Now()
	primary := pgtemp.Start(t)
	if err := pgExec(primary.URL(), "CREATE DATABASE test"); err != nil {
		t.Fatal(err)
	}
	var settings []string
	if opts.ApplyDelay > 0 {
		settings = append(settings, fmt.Sprintf("recovery_min_apply_delay=%dms", opts.ApplyDelay.Milliseconds()))
	}
	standby := primary.StartStandby(t, settings...)
	// Synchronous only now: with no standby connected, every COMMIT of
	// the primary would wait.
	if err := pgExec(primary.URL(), "ALTER SYSTEM SET synchronous_standby_names = '*'", "SELECT pg_reload_conf()"); err != nil {
		t.Fatal(err)
	}
	p := &Postgres{Primary: primary, Standby: standby}
	if err := p.waitSync(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	p.StartTime = time.Since(start)
	return p
}

// waitSync waits until the primary reports its standby as synchronous.
func (p *Postgres) waitSync(timeout time.Duration) error {
	db, err := sql.Open("pgx", p.Primary.URL())
	if err != nil {
		return err
	}
	defer db.Close()
	deadline := time.Now().Add(timeout)
	for {
		var state string
		err := db.QueryRow("SELECT sync_state FROM pg_stat_replication").Scan(&state)
		if err == nil && state == "sync" {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("standby not synchronous within %v (sync_state %q, %v)", timeout, state, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// HostList is "primary:port,standby:port".
func (p *Postgres) HostList() string { return p.Primary.Addr() + "," + p.Standby.Addr() }

// URL is a postgres:// URL for the database "test" with both servers in its
// host list, primary first, and the given query ("" for none), such as
// "target_session_attrs=read-write".
func (p *Postgres) URL(query string) string {
	u := "postgres://postgres@" + p.HostList() + "/test?sslmode=disable"
	if query != "" {
		u += "&" + strings.TrimPrefix(query, "?")
	}
	return u
}

// StopPrimary stops the primary the way a crash would (pg_ctl stop -m
// immediate).
func (p *Postgres) StopPrimary() { p.Primary.StopImmediate() }

// Promote makes the standby the primary and waits until it takes writes.
func (p *Postgres) Promote() error {
	p.Standby.Promote()
	db, err := sql.Open("pgx", p.Standby.URLFor("test"))
	if err != nil {
		return err
	}
	defer db.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var recovering bool
		err := db.QueryRow("SELECT pg_is_in_recovery()").Scan(&recovering)
		if err == nil && !recovering {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("standby still in recovery 30 s after promote (%v)", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// pgExec runs statements, one after another, on one connection.
func pgExec(url string, stmts ...string) error {
	db, err := sql.Open("pgx", url)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, q := range stmts {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return nil
}
