package cluster

import (
	"database/sql"
	"testing"
	"time"
)

// TestMariaDB writes on the primary and finds the rows on the replica once
// it has caught up by GTID; the replica is read-only and reports its
// primary's GTID position. After SetDelay(1 s) (MASTER_DELAY=1) rows read at
// once on the replica are missing until the second they were written in
// has passed and one more.
func TestMariaDB(t *testing.T) {
	t.Parallel()
	m := StartMariaDB(t, MariaDBOptions{})
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
	if _, err := p.Exec("CREATE TABLE cluster_repl (id INT PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	id := 0
	for _, delay := range []time.Duration{0, time.Second} {
		t.Run("delay="+delay.String(), func(t *testing.T) {
			if err := m.SetDelay(delay); err != nil {
				t.Fatal(err)
			}
			var want int
			// MASTER_DELAY counts from the event's timestamp, in whole
			// seconds: the rows are due no earlier than the start of the
			// second the last was sent in plus the delay. Read after the
			// INSERTs, the clock may have passed into the next second.
			var due time.Time
			for i := range 3 {
				id++
				if i == 2 {
					due = time.Now().Truncate(time.Second).Add(delay)
				}
				if _, err := p.Exec("INSERT INTO cluster_repl VALUES (?)", id); err != nil {
					t.Fatal(err)
				}
			}
			want = id
			count := func() int {
				var n int
				if err := r.QueryRow("SELECT COUNT(*) FROM cluster_repl").Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}
			if delay > 0 {
				if n := count(); n == want && time.Now().Before(due) {
					t.Errorf("the replica with MASTER_DELAY=%v had the rows %v before they were due", delay, time.Until(due))
				}
			}
			if err := m.WaitCaughtUp(90 * time.Second); err != nil {
				t.Fatal(err)
			}
			if now := time.Now(); delay > 0 && now.Before(due) {
				t.Errorf("caught up %v before the rows were due with MASTER_DELAY=%v", due.Sub(now), delay)
			}
			if n := count(); n != want {
				t.Errorf("replica has %d rows, want %d", n, want)
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
