package mytemp

import (
	"database/sql"
	"errors"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

func open(t *testing.T, s *Server) *sql.DB {
	t.Helper()
	db, err := sql.Open("mysql", s.DSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestStart starts a server with extra arguments and checks that they
// reached it, that it serves the database "test" on its own port as the
// mysql user (when run as root), and that Close removes its directory.
func TestStart(t *testing.T) {
	start := time.Now()
	s := Start(t, "--read-only", "--server-id=7")
	t.Logf("installed and started in %v", time.Since(start).Round(time.Millisecond))
	db := open(t, s)
	var port, serverID int
	var readOnly bool
	var schema string
	if err := db.QueryRow("SELECT @@port, @@read_only, @@server_id, DATABASE()").Scan(&port, &readOnly, &serverID, &schema); err != nil {
		t.Fatal(err)
	}
	if port != s.Port || !readOnly || serverID != 7 || schema != "test" {
		t.Errorf("@@port %d (want %d), @@read_only %v, @@server_id %d, DATABASE() %q", port, s.Port, readOnly, serverID, schema)
	}
	if os.Geteuid() == 0 {
		st, err := os.Stat("/proc/" + strconv.Itoa(s.Pid()))
		if err != nil {
			t.Fatal(err)
		}
		if uid := st.Sys().(*syscall.Stat_t).Uid; uid == 0 {
			t.Error("mariadbd runs as root")
		}
	}
	if want := "mysql://root@127.0.0.1:" + strconv.Itoa(s.Port) + "/test"; s.URL() != want {
		t.Errorf("URL %q, want %q", s.URL(), want)
	}
	// A read-only server refuses writes of a user without the privilege to
	// bypass it; root has it, so this checks the table is writable at all.
	if _, err := db.Exec("CREATE TABLE mytemp_t (id INT PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := os.Stat(s.Dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("after Close, %s: %v", s.Dir, err)
	}
}

// TestKillAndRestart kills the server with SIGKILL under an open pool: a
// query then fails with a connection error; after Run the data committed
// before the kill is there and the pool works again.
func TestKillAndRestart(t *testing.T) {
	s := Start(t)
	db := open(t, s)
	if _, err := db.Exec("CREATE TABLE mytemp_k (id INT PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("INSERT INTO mytemp_k VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	pid := s.Pid()
	s.Kill()
	if s.Running() || syscall.Kill(pid, 0) == nil {
		t.Fatalf("process %d still there after Kill", pid)
	}
	if _, err := db.Exec("INSERT INTO mytemp_k VALUES (2)"); err == nil {
		t.Fatal("insert succeeded with the server killed")
	} else if !errors.Is(err, syscall.ECONNREFUSED) && !errors.Is(err, mysql.ErrInvalidConn) && !errors.Is(err, syscall.ECONNRESET) {
		t.Logf("error with the server killed: %v", err)
	}
	start := time.Now()
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	t.Logf("restarted after SIGKILL in %v", time.Since(start).Round(time.Millisecond))
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM mytemp_k").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("%d rows after the restart, want 1", n)
	}
}
