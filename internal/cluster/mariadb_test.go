package cluster

import (
	"database/sql"
	"testing"
	"time"
)

// TestMariaDB writes on the primary and finds the rows on the replica once
// it has caught up by GTID; the replica is read-only and reports its
// primary's GTID position. With MASTER_DELAY=1 a row read at once on the
// replica is missing, and there a second later.
func TestMariaDB(t *testing.T) {
	for _, delay := range []time.Duration{0, time.Second} {
		t.Run("delay="+delay.String(), func(t *testing.T) {
			m := StartMariaDB(t, MariaDBOptions{Delay: delay})
			t.Logf("primary and replica replicating in %v", m.StartTime.Round(time.Millisecond))
			p, err := sql.Open("mysql", m.Primary.DSN())
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			r, err := sql.Open("mysql", m.Replica.DSN())
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			var readOnly bool
			if err := r.QueryRow("SELECT @@read_only").Scan(&readOnly); err != nil || !readOnly {
				t.Errorf("replica @@read_only = %v (%v), want 1", readOnly, err)
			}
			for _, q := range []string{"CREATE TABLE cluster_repl (id INT PRIMARY KEY)", "INSERT INTO cluster_repl VALUES (1), (2), (3)"} {
				if _, err := p.Exec(q); err != nil {
					t.Fatal(err)
				}
			}
			written := time.Now()
			if delay > 0 {
				var n int
				err := r.QueryRow("SELECT COUNT(*) FROM cluster_repl").Scan(&n)
				if err == nil && n == 3 && time.Since(written) < delay {
					t.Errorf("the replica with MASTER_DELAY=%v had the rows at once", delay)
				}
			}
			if err := m.WaitCaughtUp(10 * time.Second); err != nil {
				t.Fatal(err)
			}
			if delay > 0 && time.Since(written) < delay {
				t.Errorf("caught up after %v with MASTER_DELAY=%v", time.Since(written), delay)
			}
			var n int
			if err := r.QueryRow("SELECT COUNT(*) FROM cluster_repl").Scan(&n); err != nil || n != 3 {
				t.Errorf("replica has %d rows (%v), want 3", n, err)
			}
			var primaryPos, replicaPos string
			if err := p.QueryRow("SELECT @@gtid_binlog_pos").Scan(&primaryPos); err != nil {
				t.Fatal(err)
			}
			if err := r.QueryRow("SELECT @@gtid_slave_pos").Scan(&replicaPos); err != nil {
				t.Fatal(err)
			}
			if primaryPos == "" || primaryPos != replicaPos {
				t.Errorf("primary at GTID %q, replica at %q", primaryPos, replicaPos)
			}
		})
	}
}
