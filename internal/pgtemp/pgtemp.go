// Package pgtemp runs a private PostgreSQL server for one test: a copy of
// a data directory initdb made once per process, in a temporary directory,
// pg_ctl start and stop on a free loopback port. The
// test can stop and start the server while a pool uses it, start a
// streaming standby of it with pg_basebackup, and promote that standby.
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
	"sync"
	"testing"

	"github.com/go-databases/databases/internal/dbtest"
)

// Server is a private PostgreSQL instance.
type Server struct {
	Port     int
	dir      string   // data directory
	bin      string   // directory of initdb, pg_ctl and postgres
	settings []string // extra server settings, "name=value"
	t        testing.TB
	uid      int // run the binaries as this user (root cannot); -1: as the caller
	gid      int
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

// skip skips t with why, or fails it under CI=true, where the server
// binaries must be installed.
func skip(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(why)
	}
	t.Skip(why)
}

// Start copies the template cluster (made by initdb on first use) into a
// temporary directory and starts it, with extra server settings such as
// "synchronous_commit=off" (each passed as -c). It skips the test unless
// DATABASES_TEST_CLUSTERS=1 (dbtest.RequireClusters), and when the
// PostgreSQL binaries are missing, or when the test runs as root and there
// is no postgres user to run them as (under CI=true it fails instead). The
// server is stopped when the test ends.
func Start(t testing.TB, settings ...string) *Server {
	t.Helper()
	s := newServer(t, settings)
	tmpl, err := s.template()
	if err != nil {
		t.Fatal(err)
	}
	// cp -a keeps the owner (the postgres user when the caller is root)
	// and the mode 0700 the server insists on.
	if out, err := exec.Command("cp", "-a", tmpl, s.dir).CombinedOutput(); err != nil {
		t.Fatalf("copy of the initdb template: %v\n%s", err, out)
	}
	s.StartServer()
	return s
}

// templates holds the data directory initdb made for each binary
// directory, once per process: every Start copies it, which costs a
// third of a new initdb on a loaded machine. RemoveTemplates removes them.
var templates struct {
	sync.Mutex
	dirs map[string]string // bin directory → data directory
}

// template returns the template data directory for s's binaries, making
// it with initdb on first use.
func (s *Server) template() (string, error) {
	templates.Lock()
	defer templates.Unlock()
	if d, ok := templates.dirs[s.bin]; ok {
		return d, nil
	}
	base, err := os.MkdirTemp("", "pgtemp-template-")
	if err != nil {
		return "", err
	}
	if s.uid >= 0 {
		if err := os.Chown(base, s.uid, s.gid); err != nil {
			os.RemoveAll(base)
			return "", err
		}
	}
	dir := filepath.Join(base, "data")
	if out, err := s.command("initdb", "-D", dir, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync", "--no-instructions").CombinedOutput(); err != nil {
		os.RemoveAll(base)
		return "", fmt.Errorf("initdb: %w\n%s", err, out)
	}
	if templates.dirs == nil {
		templates.dirs = map[string]string{}
	}
	templates.dirs[s.bin] = dir
	return dir, nil
}

// RemoveTemplates removes the template data directories Start made. A
// test binary that starts servers calls it once its tests are done
// (cluster.CloseShared does).
func RemoveTemplates() {
	templates.Lock()
	defer templates.Unlock()
	for bin, d := range templates.dirs {
		os.RemoveAll(filepath.Dir(d))
		delete(templates.dirs, bin)
	}
}

// newServer prepares a Server with its own temporary directory and free
// port, and registers its stop at the end of the test.
func newServer(t testing.TB, settings []string) *Server {
	t.Helper()
	dbtest.RequireClusters(t)
	bin := BinDir()
	if bin == "" {
		skip(t, "PostgreSQL server binaries not found in /usr/lib/postgresql/*/bin; install the postgresql package to run this test")
	}
	s := &Server{bin: bin, settings: settings, t: t, uid: -1, gid: -1}
	base := t.TempDir()
	if os.Geteuid() == 0 {
		// initdb refuses to run as root.
		u, err := user.Lookup("postgres")
		if err != nil {
			skip(t, "running as root and there is no postgres user to run initdb as")
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
	t.Cleanup(func() {
		if s.running() {
			s.command("pg_ctl", "-D", s.dir, "-m", "immediate", "-w", "stop").Run()
		}
	})
	return s
}

// StartStandby copies the running server s with pg_basebackup -R into a
// new server that streams from it, and starts it with the extra settings
// (such as "recovery_min_apply_delay=700ms"). The standby is stopped when
// the test t ends.
func (s *Server) StartStandby(t testing.TB, settings ...string) *Server {
	t.Helper()
	st := newServer(t, settings)
	if out, err := st.command("pg_basebackup", "-h", "127.0.0.1", "-p", strconv.Itoa(s.Port), "-U", "postgres",
		"-D", st.dir, "-R", "-X", "stream", "-c", "fast", "--no-sync").CombinedOutput(); err != nil {
		t.Fatalf("pg_basebackup: %v\n%s", err, out)
	}
	st.StartServer()
	return st
}

// URL is the server's postgres:// URL for the database "postgres".
func (s *Server) URL() string { return s.URLFor("postgres") }

// URLFor is the server's postgres:// URL for the database db.
func (s *Server) URLFor(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.Port, db)
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return fmt.Sprintf("127.0.0.1:%d", s.Port) }

// StartServer starts the (stopped) server and waits until it accepts
// connections.
func (s *Server) StartServer() {
	s.t.Helper()
	opts := fmt.Sprintf("-p %d -c listen_addresses=127.0.0.1 -k %s -c fsync=off -c max_connections=40", s.Port, filepath.Dir(s.dir))
	for _, kv := range s.settings {
		opts += " -c " + kv
	}
	if out, err := s.command("pg_ctl", "-D", s.dir, "-l", filepath.Join(filepath.Dir(s.dir), "log"), "-o", opts, "-w", "-t", "30", "start").CombinedOutput(); err != nil {
		log, _ := os.ReadFile(filepath.Join(filepath.Dir(s.dir), "log"))
		s.t.Fatalf("pg_ctl start: %v\n%s\n%s", err, out, log)
	}
}

// StopServer stops the server (fast shutdown: sessions are terminated) and
// waits until it is gone.
func (s *Server) StopServer() { s.stop("fast") }

// StopImmediate stops the server the way a crash would (pg_ctl stop -m
// immediate: no checkpoint, sessions cut) and waits until it is gone.
func (s *Server) StopImmediate() { s.stop("immediate") }

func (s *Server) stop(mode string) {
	s.t.Helper()
	if out, err := s.command("pg_ctl", "-D", s.dir, "-m", mode, "-w", "-t", "30", "stop").CombinedOutput(); err != nil {
		s.t.Fatalf("pg_ctl stop -m %s: %v\n%s", mode, err, out)
	}
}

// Promote makes a standby a primary (pg_ctl promote) and waits until it
// takes writes.
func (s *Server) Promote() {
	s.t.Helper()
	if out, err := s.command("pg_ctl", "-D", s.dir, "-w", "-t", "30", "promote").CombinedOutput(); err != nil {
		s.t.Fatalf("pg_ctl promote: %v\n%s", err, out)
	}
}

// Log returns what the server wrote to its log file.
func (s *Server) Log() string {
	b, _ := os.ReadFile(filepath.Join(filepath.Dir(s.dir), "log"))
	return string(b)
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
