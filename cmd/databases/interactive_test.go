//go:build linux

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal pair of 24 rows and 120 columns.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	fd := int(master.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetUint32(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	slave, err = os.OpenFile("/dev/pts/"+strconv.Itoa(int(n)), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.IoctlSetWinsize(int(slave.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 24, Col: 120}); err != nil {
		t.Fatal(err)
	}
	return master, slave
}

// terminal is the command running on a pseudo-terminal.
type terminal struct {
	t      *testing.T
	master *os.File
	cmd    *exec.Cmd
	done   chan struct{} // closed when the command has ended
	err    error         // how it ended, once done is closed
	mu     sync.Mutex
	out    strings.Builder
	seen   int // output already matched by expect
}

// startTerminal runs the command with args on a new pseudo-terminal. The
// test keeps its own copy of the terminal's slave side open until the end,
// so what a command prints just before it exits is never lost to the
// master's end-of-file (Linux may drop output still queued when the last
// slave closes).
func startTerminal(t *testing.T, env []string, args ...string) *terminal {
	master, slave := openPTY(t)
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), append([]string{"DATABASES_CLI_MAIN=1", "TERM=xterm"}, env...)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	term := &terminal{t: t, master: master, cmd: cmd, done: make(chan struct{})}
	go func() {
		term.err = cmd.Wait()
		close(term.done)
	}()
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			term.mu.Lock()
			term.out.Write(buf[:n])
			term.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-term.done
		slave.Close()
		master.Close()
	})
	return term
}

// send types keys.
func (term *terminal) send(keys string) {
	term.t.Helper()
	if _, err := term.master.WriteString(keys); err != nil {
		term.t.Fatal(err)
	}
}

// wait waits for the command to end, for a minute at most, and returns how
// it ended.
func (term *terminal) wait() error {
	term.t.Helper()
	select {
	case <-term.done:
		return term.err
	case <-time.After(time.Minute):
		term.t.Fatalf("the command did not end; the terminal shows:\n%q", term.output())
		return nil
	}
}

// output is everything the terminal has shown.
func (term *terminal) output() string {
	term.mu.Lock()
	defer term.mu.Unlock()
	return term.out.String()
}

// expect waits until the output after what was matched before holds want,
// for a minute at most (a generous bound for a loaded machine). When the
// command ends without showing it, it fails sooner, with how the command
// ended, once the reader has had 10 s to take what the command left in the
// terminal.
func (term *terminal) expect(want string) {
	term.t.Helper()
	deadline := time.Now().Add(time.Minute)
	ended := false
	for {
		if !ended {
			select {
			case <-term.done:
				ended = true
				if grace := time.Now().Add(10 * time.Second); grace.Before(deadline) {
					deadline = grace
				}
			default:
			}
		}
		term.mu.Lock()
		out := term.out.String()
		i := strings.Index(out[term.seen:], want)
		if i >= 0 {
			term.seen += i + len(want)
		}
		term.mu.Unlock()
		if i >= 0 {
			return
		}
		if time.Now().After(deadline) {
			if ended {
				term.t.Fatalf("the command ended (%v) without showing %q; the terminal shows:\n%q", term.err, want, out)
			}
			term.t.Fatalf("the terminal never showed %q; it shows:\n%q", want, out)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestInteractive drives the prompt through a pseudo-terminal: a statement
// runs when its ';' is typed, one typed over two lines gets the
// continuation prompt, line editing moves the cursor, the up arrow brings
// the last statement back, \ commands work, an error leaves the session
// going, \q ends it, and the history is saved for the next session.
func TestInteractive(t *testing.T) {
	history := filepath.Join(t.TempDir(), "history")
	term := startTerminal(t, []string{"DATABASES_HISTORY=" + history, "DATABASE_URL="})
	term.expect("sqlite=> ")
	term.send("CREATE TABLE t (x INTEGER);\r")
	term.expect("ok\r\n")
	term.expect("sqlite=> ")
	term.send("INSERT INTO t VALUES (1),\r")
	term.expect("sqlite-> ")
	term.send("(2);\r")
	term.expect("INSERT 2\r\n")
	term.expect("sqlite=> ")
	// Ctrl-A goes to the start of the line, where the missing S is typed.
	term.send("ELECT count(*) AS n FROM t;\x01S\r")
	term.expect("(1 row)")
	term.expect("sqlite=> ")
	// The up arrow brings back the last statement.
	term.send("\x1b[A\r")
	term.expect("n\r\n-\r\n2\r\n(1 row)")
	term.expect("sqlite=> ")
	term.send("SELECT nope;\r")
	term.expect("databases: statement 5 (line 1): SQL logic error: no such column: nope")
	term.expect("sqlite=> ")
	term.send("\\dt\r")
	term.expect("name\r\n----\r\nt\r\n(1 row)")
	term.expect("sqlite=> ")
	term.send("\\q\r")
	if err := term.wait(); err != nil {
		t.Fatalf("the command ended with %v", err)
	}
	saved, err := os.ReadFile(history)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"CREATE TABLE t (x INTEGER);\n", "INSERT INTO t VALUES (1), (2);\n", "SELECT count(*) AS n FROM t;\n", "\\dt\n"} {
		if !strings.Contains(string(saved), want) {
			t.Errorf("the history file lacks %q:\n%s", want, saved)
		}
	}

	// The next session has the history: the up arrow brings \q back.
	term = startTerminal(t, []string{"DATABASES_HISTORY=" + history, "DATABASE_URL="})
	term.expect("sqlite=> ")
	term.send("\x1b[A\r")
	if err := term.wait(); err != nil {
		t.Fatalf("the second session ended with %v", err)
	}
}

// TestInteractiveEOF: Ctrl-D at the prompt ends the session with status 0,
// and Ctrl-C drops a statement being typed.
func TestInteractiveEOF(t *testing.T) {
	term := startTerminal(t, []string{"DATABASES_HISTORY=" + filepath.Join(t.TempDir(), "h"), "DATABASE_URL="}, "sqlite:///:memory:")
	term.expect("sqlite=> ")
	term.send("SELECT 1 AS dropped\r")
	term.expect("sqlite-> ")
	term.send("\x03")
	term.expect("sqlite=> ")
	term.send("SELECT 2 AS kept;\r")
	term.expect("kept\r\n----\r\n2\r\n(1 row)")
	term.expect("sqlite=> ")
	term.send("\x04")
	if err := term.wait(); err != nil {
		t.Fatalf("the command ended with %v", err)
	}
	if out := term.output(); strings.Contains(out, "dropped\r\n-") {
		t.Errorf("the statement dropped with Ctrl-C ran:\n%q", out)
	}
}
