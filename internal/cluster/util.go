package cluster

import (
	"context"
	"database/sql"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/go-databases/databases/internal/dbtest"
	"github.com/go-databases/databases/internal/mytemp"
	"github.com/go-sql-driver/mysql"
)

// require skips t unless DATABASES_TEST_CLUSTERS=1 (dbtest.RequireClusters),
// and skips it with why (a failure under CI=true) when why is not "".
func require(t testing.TB, why string) {
	t.Helper()
	dbtest.RequireClusters(t)
	if why == "" {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatal(why)
	}
	t.Skip(why)
}

func lookPath(bin string) (string, error) { return exec.LookPath(bin) }

// openMySQL opens the raw driver on one server, with a short connect
// timeout and the given read timeout: the harness's own checks must not
// hang on a dead node.
func openMySQL(s *mytemp.Server, readTimeout time.Duration) *sql.DB {
	cfg := mysql.NewConfig()
	cfg.User, cfg.Net, cfg.Addr, cfg.DBName = "root", "tcp", s.Addr(), ""
	cfg.Timeout, cfg.ReadTimeout, cfg.WriteTimeout = time.Second, readTimeout, 5*time.Second
	c, _ := mysql.NewConnector(cfg)
	return sql.OpenDB(c)
}

type wsrepStatus struct {
	ready  bool
	state  string // wsrep_local_state_comment: Synced, Donor/Desynced, Joining…
	status string // wsrep_cluster_status: Primary or non-Primary
	size   int    // wsrep_cluster_size
}

func galeraStatus(s *mytemp.Server) (wsrepStatus, error) {
	db := openMySQL(s, 5*time.Second)
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	rows, err := db.QueryContext(ctx, "SHOW GLOBAL STATUS WHERE Variable_name IN ('wsrep_ready', 'wsrep_local_state_comment', 'wsrep_cluster_status', 'wsrep_cluster_size')")
	if err != nil {
		return wsrepStatus{}, err
	}
	defer rows.Close()
	var st wsrepStatus
	for rows.Next() {
		var name, value string
		if err := rows.Scan(&name, &value); err != nil {
			return st, err
		}
		switch name {
		case "wsrep_ready":
			st.ready = value == "ON"
		case "wsrep_local_state_comment":
			st.state = value
		case "wsrep_cluster_status":
			st.status = value
		case "wsrep_cluster_size":
			for _, c := range value {
				st.size = st.size*10 + int(c-'0')
			}
		}
	}
	return st, rows.Err()
}
