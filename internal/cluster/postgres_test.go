package cluster

import (
	"database/sql"
	"testing"
	"time"
)

// TestPostgres checks the synchronous standby: a row committed on the
// primary is on the standby, which refuses writes; with
// recovery_min_apply_delay the row shows there only after the delay. After
// the primary stops immediately and the standby is promoted, every
// acknowledged row is there and the new primary takes writes.
func TestPostgres(t *testing.T) {
	t.Parallel()
	for _, delay := range []time.Duration{0, 700 * time.Millisecond} {
		t.Run("delay="+delay.String(), func(t *testing.T) {
			c := StartPostgres(t, PostgresOptions{ApplyDelay: delay})
			t.Logf("primary and synchronous standby up in %v", c.StartTime.Round(time.Millisecond))
			p, err := sql.Open("pgx", c.Primary.URLFor("test"))
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			s, err := sql.Open("pgx", c.Standby.URLFor("test"))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			var names string
			if err := p.QueryRow("SHOW synchronous_standby_names").Scan(&names); err != nil || names != "*" {
				t.Errorf("synchronous_standby_names = %q (%v)", names, err)
			}
			if _, err := p.Exec("CREATE TABLE cluster_pg (id INT PRIMARY KEY)"); err != nil {
				t.Fatal(err)
			}
			const rows = 20
			// written is taken before the last INSERT is sent: its commit,
			// from which the standby's apply delay counts, comes after it.
			// Taken after, a loaded machine may let the gap pass for apply
			// delay.
			var written time.Time
			for i := range rows {
				if i == rows-1 {
					written = time.Now()
				}
				if _, err := p.Exec("INSERT INTO cluster_pg VALUES ($1)", i); err != nil {
					t.Fatal(err)
				}
			}
			count := func() int {
				var n int
				if err := s.QueryRow("SELECT COUNT(*) FROM cluster_pg").Scan(&n); err != nil {
					return -1
				}
				return n
			}
			if delay > 0 {
				if n := count(); n == rows && time.Since(written) < delay {
					t.Errorf("the standby with recovery_min_apply_delay=%v had the rows at once", delay)
				}
			}
			deadline := time.Now().Add(90 * time.Second) // generous: a loaded machine replays slowly
			for count() != rows && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			if n := count(); n != rows {
				t.Fatalf("standby has %d rows, want %d", n, rows)
			}
			if delay > 0 && time.Since(written) < delay {
				t.Errorf("standby had the rows %v after the commit, before the delay of %v", time.Since(written), delay)
			}
			if _, err := s.Exec("INSERT INTO cluster_pg VALUES (-1)"); err == nil {
				t.Error("the standby took a write")
			}

			c.StopPrimary()
			start := time.Now()
			if err := c.Promote(); err != nil {
				t.Fatal(err)
			}
			t.Logf("standby promoted in %v", time.Since(start).Round(time.Millisecond))
			if n := count(); n != rows {
				t.Errorf("after promotion the new primary has %d rows, want %d", n, rows)
			}
			if _, err := s.Exec("INSERT INTO cluster_pg VALUES ($1)", rows); err != nil {
				t.Errorf("the promoted standby refused a write: %v", err)
			}
		})
	}
}
