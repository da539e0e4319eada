// Package pgtemp runs a private PostgreSQL server for one test: initdb into
// a temporary directory, pg_ctl start and stop on a free loopback port. The
// test can stop and start the server while a pool uses it.
package pgtemp

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
)

// Server is a private PostgreSQL instance.
type Server struct {
	Port int
	dir  string // data directory
	bin  string // directory of initdb, pg_ctl and postgres
	t    testing.TB
	uid  int // run the binaries as this user (root cannot); -1: as the caller
	gid  int
}

// BinDir returns the newest /usr/lib/postgresql/*/bin holding initdb and
// pg_ctl, or "" when there is none.
func BinDir() string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if isExec(filepath.Join(d, "initdb")) && isExec(filepath.Join(d, "pg_ctl")) {
			return d
		}
	}
	return ""
}

func version(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

func isExec(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode()&0o111 != 0
}

// Start initialises a cluster in a temporary directory and starts it. It
// skips the test when the PostgreSQL binaries are missing, or when the test
// runs as root and there is no postgres user to run them as. The server is
// stopped when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := BinDir()
	if bin == "" {
		t.Skip("PostgreSQL server binaries not found in /usr/lib/postgresql/*/bin; install the postgresql package to run this test")
	}
	s := &Server{bin: bin, t: t, uid: -1, gid: -1}
	base := t.TempDir()
	if os.Geteuid() == 0 {
		// initdb refuses to run as root.
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Skip("running as root and there is no postgres user to run initdb as")
		}
		s.uid, _ = strconv.Atoi(u.Uid)
		s.gid, _ = strconv.Atoi(u.Gid)
		// The server must reach its directory: open the path to it.
		for d := base; d != filepath.Dir(d) && d != os.TempDir(); d = filepath.Dir(d) {
			if err := os.Chmod(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Chown(base, s.uid, s.gid); err != nil {
			t.Fatal(err)
		}
	}
	s.dir = filepath.Join(base, "data")
	s.Port = freePort(t)
	if out, err := s.command("initdb", "-D", s.dir, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync", "--no-instructions").CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	s.StartServer()
	t.Cleanup(func() {
		if s.running() {
			s.command("pg_ctl", "-D", s.dir, "-m", "immediate", "-w", "stop").Run()
		}
	})
	return s
}

// URL is the server's postgres:// URL for the database "postgres".
func (s *Server) URL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", s.Port)
}

// StartServer starts the (stopped) server and waits until it accepts
// connections.
func (s *Server) StartServer() {
	s.t.Helper()
	opts := fmt.Sprintf("-p %d -c listen_addresses=127.0.0.1 -k %s -c fsync=off -c max_connections=40", s.Port, filepath.Dir(s.dir))
	if out, err := s.command("pg_ctl", "-D", s.dir, "-l", filepath.Join(filepath.Dir(s.dir), "log"), "-o", opts, "-w", "-t", "30", "start").CombinedOutput(); err != nil {
		log, _ := os.ReadFile(filepath.Join(filepath.Dir(s.dir), "log"))
		s.t.Fatalf("pg_ctl start: %v\n%s\n%s", err, out, log)
	}
}

// StopServer stops the server (fast shutdown: sessions are terminated) and
// waits until it is gone.
func (s *Server) StopServer() {
	s.t.Helper()
	if out, err := s.command("pg_ctl", "-D", s.dir, "-m", "fast", "-w", "-t", "30", "stop").CombinedOutput(); err != nil {
		s.t.Fatalf("pg_ctl stop: %v\n%s", err, out)
	}
}

func (s *Server) running() bool {
	return s.command("pg_ctl", "-D", s.dir, "status").Run() == nil
}

// command builds a command for one of the server binaries, run as the
// postgres user when the caller is root.
func (s *Server) command(name string, args ...string) *exec.Cmd {
	path := filepath.Join(s.bin, name)
	if s.uid < 0 {
		return exec.Command(path, args...)
	}
	return exec.Command("runuser", append([]string{"-u", "postgres", "--", path}, args...)...)
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
