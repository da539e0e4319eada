// Package mytemp runs a private MariaDB server for one test:
// mariadb-install-db into a temporary directory, mariadbd on a free loopback
// port (as the mysql user when the test runs as root), stopped by its pid.
// Extra server arguments make it a read-only server, a replication source
// or replica, or a Galera node; a test can kill the server and start it
// again while a pool uses it.
package mytemp

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/go-databases/databases/internal/dbtest"
)

// Binaries the server needs, and where Debian's mariadb-server puts them.
const (
	serverBin  = "/usr/sbin/mariadbd"
	installBin = "mariadb-install-db"
)

// StartTimeout bounds how long a start waits for the server to accept
// queries: a Galera joiner copies its data from a donor first.
const StartTimeout = 90 * time.Second

// Server is a private MariaDB instance.
type Server struct {
	Port int
	Dir  string   // base directory: data/, the config file, socket and log
	args []string // extra mariadbd arguments

	cred *syscall.Credential // run as mysql when the caller is root

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// Missing says why a MariaDB server cannot run on this machine, or returns
// "" when it can.
func Missing() string {
	if _, err := os.Stat(serverBin); err != nil {
		return serverBin + " not found; install the mariadb-server package to run this test"
	}
	if _, err := exec.LookPath(installBin); err != nil {
		return installBin + " not found; install the mariadb-server package to run this test"
	}
	if os.Geteuid() == 0 {
		if _, err := user.Lookup("mysql"); err != nil {
			return "running as root and there is no mysql user to run mariadbd as"
		}
	}
	return ""
}

// Require skips t unless DATABASES_TEST_CLUSTERS=1 (dbtest.RequireClusters),
// and skips it with a message when the server cannot run here, or fails it
// under CI=true, where it must.
func Require(t testing.TB) {
	t.Helper()
	dbtest.RequireClusters(t)
	if why := Missing(); why != "" {
		if os.Getenv("CI") == "true" {
			t.Fatal(why)
		}
		t.Skip(why)
	}
}

// Start installs a server with the extra mariadbd arguments (such as
// "--read-only", "--server-id=2", "--log-bin"), starts it and waits until it
// serves the database "test". It skips the test when the binaries are
// missing (fails under CI=true); the server is stopped and its directory
// removed when the test ends.
func Start(t testing.TB, args ...string) *Server {
	t.Helper()
	Require(t)
	s, err := New(args...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	return s
}

// New installs a server's data directory on a free loopback port without
// starting it. The caller must Close it.
func New(args ...string) (*Server, error) { return newServer(nil, args) }

func newServer(from *Server, args []string) (*Server, error) {
	dir, err := os.MkdirTemp("", "mytemp-")
	if err != nil {
		return nil, err
	}
	s := &Server{Dir: dir, args: args}
	if s.Port, err = FreePort(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("mysql")
		if err != nil {
			os.RemoveAll(dir)
			return nil, errors.New("running as root and there is no mysql user to run mariadbd as")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		s.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	if err := os.WriteFile(s.configPath(), []byte(s.config()), 0o644); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	// A temporary directory of its own: in the shared /tmp, a server's
	// temporary table files can clash with those another server left.
	if err := os.Mkdir(filepath.Join(dir, "tmp"), 0o700); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if s.cred != nil {
		if err := os.Chown(filepath.Join(dir, "tmp"), int(s.cred.Uid), int(s.cred.Gid)); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	var cmd *exec.Cmd
	if from == nil {
		cmd = exec.Command(installBin, "--defaults-file="+s.configPath(),
			"--auth-root-authentication-method=normal", "--skip-test-db")
	} else {
		cmd = exec.Command("cp", "-R", "--preserve=mode,timestamps", filepath.Join(from.Dir, "data"), filepath.Join(dir, "data"))
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	if out, err := cmd.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("%s: %v\n%s", cmd.Path, err, out)
	}
	return s, nil
}

// NewFrom is New with a copy of the (stopped) server from's data
// directory in place of a new one: the nodes of a Galera cluster seeded
// from one node's state join it without a state transfer.
func NewFrom(from *Server, args ...string) (*Server, error) {
	if from.Running() {
		return nil, fmt.Errorf("copy of mariadbd on port %d: stop it first", from.Port)
	}
	return newServer(from, args)
}

// config is the server's option file: everything a private server on
// loopback needs, small buffers, no durability (a test does not survive a
// power cut). The SST scripts of a Galera node read it too.
func (s *Server) config() string {
	return fmt.Sprintf(`[client-server]
socket=%[1]s/sock
port=%[2]d

[mariadbd]
datadir=%[1]s/data
tmpdir=%[1]s/tmp
pid-file=%[1]s/pid
bind-address=127.0.0.1
skip-name-resolve
innodb-buffer-pool-size=32M
innodb-log-file-size=8M
innodb-flush-log-at-trx-commit=2
sync-binlog=0
max-connections=200
performance-schema=OFF
`, s.Dir, s.Port)
}

func (s *Server) configPath() string { return filepath.Join(s.Dir, "my.cnf") }

// LogPath is the file the server writes its messages to.
func (s *Server) LogPath() string { return filepath.Join(s.Dir, "log") }

// URL is the server's mysql:// URL for the database "test".
func (s *Server) URL() string {
	return fmt.Sprintf("mysql://root@127.0.0.1:%d/test", s.Port)
}

// DSN is the server's go-sql-driver DSN for the database "test".
func (s *Server) DSN() string {
	return fmt.Sprintf("root@tcp(127.0.0.1:%d)/test", s.Port)
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return fmt.Sprintf("127.0.0.1:%d", s.Port) }

// Run starts the (stopped) server with its arguments and the extra ones
// given here for this start only, and waits until it serves the database
// "test" (creating it, outside the binary log, if it is not there).
func (s *Server) Run(extra ...string) error {
	if err := s.Launch(extra...); err != nil {
		return err
	}
	return s.WaitReady(StartTimeout)
}

// Launch starts the server process and returns without waiting for it to
// serve: the first node of a Galera cluster waits for no one, but a test
// can start the other nodes at once and wait for them together.
func (s *Server) Launch(extra ...string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return fmt.Errorf("mariadbd on port %d is already running", s.Port)
	}
	log, err := os.OpenFile(s.LogPath(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer log.Close()
	fmt.Fprintf(log, "---- start %s\n", time.Now().Format(time.RFC3339Nano))
	args := append([]string{"--defaults-file=" + s.configPath()}, s.args...)
	cmd := exec.Command(serverBin, append(args, extra...)...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Credential: s.cred,
		// Its own process group, so that Kill also ends what it started
		// (the rsync daemon of a Galera state transfer); gone with the
		// test binary if that dies first.
		Setpgid:   true,
		Pdeathsig: syscall.SIGKILL,
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", serverBin, err)
	}
	done := make(chan struct{})
	go func() {
		cmd.Wait()
		close(done)
	}()
	s.cmd, s.done = cmd, done
	return nil
}

// WaitReady waits until the server answers queries on the database "test"
// (creating it outside the binary log if it is missing), up to timeout. A
// Galera node answers with error 1047 until it has joined; that is waited
// out too.
func (s *Server) WaitReady(timeout time.Duration) error {
	s.mu.Lock()
	done := s.done
	s.mu.Unlock()
	if done == nil {
		return fmt.Errorf("mariadbd on port %d is not running", s.Port)
	}
	cfg := mysql.NewConfig()
	cfg.User, cfg.Net, cfg.Addr = "root", "tcp", s.Addr()
	cfg.Timeout = time.Second
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		return err
	}
	db := sql.OpenDB(connector)
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var last error
	for {
		last = s.createTestDB(ctx, db)
		if last == nil {
			return nil
		}
		select {
		case <-done:
			return fmt.Errorf("mariadbd on port %d exited while starting: %v\n%s", s.Port, last, s.LogTail(30))
		case <-ctx.Done():
			return fmt.Errorf("mariadbd on port %d did not serve within %v: %v\n%s", s.Port, timeout, last, s.LogTail(30))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (s *Server) createTestDB(ctx context.Context, db *sql.DB) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	var exists int
	if err := conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = 'test'").Scan(&exists); err != nil {
		return err
	}
	if exists > 0 {
		return nil
	}
	// Outside the binary log: a replica creates its own, and a source's
	// creation must not be replayed on a replica that has one.
	if _, err := conn.ExecContext(ctx, "SET SESSION sql_log_bin = 0"); err != nil {
		return err
	}
	_, err = conn.ExecContext(ctx, "CREATE DATABASE IF NOT EXISTS test")
	return err
}

// Pid is the server's process id, or 0 when it is not running.
func (s *Server) Pid() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// Running reports whether the server process is alive.
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return false
	}
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

// Kill ends the server with SIGKILL, as a crash would, together with the
// processes it started, and waits until it is gone.
func (s *Server) Kill() { s.stop(false) }

// Stop shuts the server down cleanly (SIGTERM) and waits until it is gone;
// after 30 s it is killed.
func (s *Server) Stop() { s.stop(true) }

func (s *Server) stop(clean bool) {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.cmd, s.done = nil, nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	pid := cmd.Process.Pid
	if clean {
		syscall.Kill(pid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(30 * time.Second):
		}
	}
	// The whole process group, by its id (the server's pid).
	syscall.Kill(-pid, syscall.SIGKILL)
	<-done
}

// Close stops the server and removes its directory.
func (s *Server) Close() {
	s.Kill()
	os.RemoveAll(s.Dir)
}

// LogTail returns the last n lines of the server's log, for error messages.
func (s *Server) LogTail(n int) string {
	b, _ := os.ReadFile(s.LogPath())
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
