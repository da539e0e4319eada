package cluster

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/go-databases/databases/internal/mytemp"
)

// MariaDB is a MariaDB primary with one asynchronous replica that follows
// it by GTID. The replica runs with read_only on.
type MariaDB struct {
	Primary, Replica *mytemp.Server
	// StartTime is how long the pair took to be up and replicating.
	StartTime time.Duration
}

// MariaDBOptions change the pair.
type MariaDBOptions struct {
	// Delay is the replica's MASTER_DELAY, in whole seconds: it applies
	// each transaction that long after the primary committed it.
	Delay time.Duration
}

// StartMariaDB starts a primary (binary log on) and a read-only replica
// (CHANGE MASTER TO … MASTER_USE_GTID=slave_pos), both serving the database
// "test". It skips the test when the binaries are missing (fails under
// CI=true); both are stopped and removed when the test ends.
func StartMariaDB(t testing.TB, opts MariaDBOptions) *MariaDB {
	t.Helper()
	mytemp.Require(t)
	m, err := NewMariaDB(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return m
}

// NewMariaDB is StartMariaDB for a caller that manages the pair's
// lifetime: it must Close it.
func NewMariaDB(opts MariaDBOptions) (*MariaDB, error) {
	start := time.Now()
	m := &MariaDB{}
	fail := func(err error) (*MariaDB, error) {
		m.Close()
		return nil, err
	}
	var err error
	common := []string{"--binlog-format=ROW", "--log-bin=binlog", "--gtid-strict-mode=ON"}
	if m.Primary, err = mytemp.New(append(common, "--server-id=1")...); err != nil {
		return fail(err)
	}
	if m.Replica, err = mytemp.New(append(common, "--server-id=2", "--read-only=ON", "--log-slave-updates=ON")...); err != nil {
		return fail(err)
	}
	for _, s := range []*mytemp.Server{m.Primary, m.Replica} {
		if err := s.Launch(); err != nil {
			return fail(err)
		}
	}
	for _, s := range []*mytemp.Server{m.Primary, m.Replica} {
		if err := s.WaitReady(mytemp.StartTimeout); err != nil {
			return fail(err)
		}
	}
	db := openMySQL(m.Replica, 5*time.Second)
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	change := fmt.Sprintf("CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=%d, MASTER_USER='root', MASTER_PASSWORD='', "+
		"MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1, MASTER_DELAY=%d", m.Primary.Port, int(opts.Delay.Seconds()))
	for _, q := range []string{change, "START SLAVE"} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fail(fmt.Errorf("replica: %s: %w", q, err))
		}
	}
	if err := m.WaitCaughtUp(30*time.Second + opts.Delay); err != nil {
		return fail(err)
	}
	m.StartTime = time.Since(start)
	return m, nil
}

// WaitCaughtUp waits until the replica has applied everything the primary
// had written when it was called (MASTER_GTID_WAIT on the primary's
// @@gtid_binlog_pos).
func (m *MariaDB) WaitCaughtUp(timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout+5*time.Second)
	defer cancel()
	p := openMySQL(m.Primary, 5*time.Second)
	defer p.Close()
	var pos string
	if err := p.QueryRowContext(ctx, "SELECT @@gtid_binlog_pos").Scan(&pos); err != nil {
		return fmt.Errorf("primary: %w", err)
	}
	r := openMySQL(m.Replica, timeout+5*time.Second)
	defer r.Close()
	var res int
	if err := r.QueryRowContext(ctx, "SELECT MASTER_GTID_WAIT(?, ?)", pos, timeout.Seconds()).Scan(&res); err != nil {
		return fmt.Errorf("replica: MASTER_GTID_WAIT: %w", err)
	}
	if res != 0 {
		st, err := slaveStatus(ctx, r)
		return fmt.Errorf("replica did not reach the primary's position %s within %v (Slave_IO_Running %q, Slave_SQL_Running %q, Last_IO_Error %q, Last_SQL_Error %q, %v)",
			pos, timeout, st["Slave_IO_Running"], st["Slave_SQL_Running"], st["Last_IO_Error"], st["Last_SQL_Error"], err)
	}
	return nil
}

// slaveStatus returns SHOW SLAVE STATUS as column name to value.
func slaveStatus(ctx context.Context, db *sql.DB) (map[string]string, error) {
	rows, err := db.QueryContext(ctx, "SHOW SLAVE STATUS")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	if !rows.Next() {
		return out, rows.Err()
	}
	vals := make([]sql.NullString, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return nil, err
	}
	for i, c := range cols {
		out[c] = vals[i].String
	}
	return out, rows.Err()
}

// Close stops both servers and removes their directories.
func (m *MariaDB) Close() {
	for _, s := range []*mytemp.Server{m.Primary, m.Replica} {
		if s != nil {
			s.Close()
		}
	}
}
