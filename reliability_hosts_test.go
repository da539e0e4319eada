package databases

// Fault drills of host lists and lost connections: a first host that is a
// closed port or does not answer, every host down, the host that fits
// target_session_attrs, load_balance_hosts=random, a COMMIT whose
// connection dies (ErrCommitUnknown), a transaction whose connection dies
// before COMMIT (retried by Transact), and a connection the server ends
// with 57P01 (discarded).

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/go-databases/databases/internal/cluster"
	"github.com/go-databases/databases/internal/dbtest"
	"github.com/go-databases/databases/internal/dsn"
	"github.com/go-databases/databases/internal/mytemp"
	"github.com/go-databases/databases/middleware"
)

// withHosts returns the URL u with its hosts replaced by hosts, and its
// user info by userInfo when that is not "".
func withHosts(t *testing.T, u, userInfo string, hosts ...string) string {
	t.Helper()
	scheme, rest, ok := strings.Cut(u, "://")
	if !ok {
		t.Fatalf("no scheme in %s", u)
	}
	authority, path := rest, ""
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		authority, path = rest[:i], rest[i:]
	}
	user := ""
	if i := strings.LastIndexByte(authority, '@'); i >= 0 {
		user = authority[:i+1]
	}
	if userInfo != "" {
		user = userInfo + "@"
	}
	return scheme + "://" + user + strings.Join(hosts, ",") + path
}

// serverAddr returns the host:port of the URL u.
func serverAddr(t *testing.T, u string) string {
	t.Helper()
	cfg, err := dsn.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Hosts[0].String()
}

// closedPort returns a loopback address where nothing listens: a listener
// opened and closed again, so that connecting is refused at once.
func closedPort(t *testing.T) string {
	return closedPorts(t, 1)[0]
}

// closedPorts returns n distinct closed loopback addresses: the listeners
// are all open before any is closed, since the kernel may give a port just
// closed to the next listener.
func closedPorts(t *testing.T, n int) []string {
	addrs := make([]string, n)
	for i := range addrs {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		addrs[i] = l.Addr().String()
	}
	return addrs
}

// silentHost returns a loopback address that accepts connections and never
// says a word, as a server that hangs does.
func silentHost(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var held []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			c.Close()
		}
	})
	return l.Addr().String()
}

// connects records the server of every connection opened.
type connects struct {
	mu      sync.Mutex
	servers []string
}

func (r *connects) middleware() middleware.Middleware {
	return middleware.On(middleware.OpConnect, func(ctx context.Context, c *middleware.Call, next middleware.Handler) error {
		err := next(ctx, c)
		if err == nil {
			r.mu.Lock()
			r.servers = append(r.servers, net.JoinHostPort(c.ServerAddress, fmt.Sprint(c.ServerPort)))
			r.mu.Unlock()
		}
		return err
	})
}

func (r *connects) count() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := map[string]int{}
	for _, s := range r.servers {
		n[s]++
	}
	return n
}

// networkBackends are the PostgreSQL and MySQL backends.
func networkBackends(t *testing.T, f func(t *testing.T, b dbtest.Backend)) {
	for _, b := range dbtest.Backends()[1:] {
		t.Run(b.Dialect, func(t *testing.T) {
			b.Require(t)
			if b.Dialect == "mysql" {
				quietMySQL(t)
			}
			f(t, b)
		})
	}
}

// TestFaultHostListFirstHostDown: a host list whose first host is a closed
// port, then one that accepts and never answers, then the real server.
// The connection reaches the real server, in about one connect_timeout
// (the silent host's), and spans and log records name the real server.
func TestFaultHostListFirstHostDown(t *testing.T) {
	networkBackends(t, func(t *testing.T, b dbtest.Backend) {
		real := serverAddr(t, b.URL)
		silent := silentHost(t)
		closed := closedPort(t) // taken while silent listens: never its port
		u := withQuery(withHosts(t, b.URL, "", closed, silent, real), "connect_timeout=3")

		rec := tracetest.NewSpanRecorder()
		tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
		var seen connects
		var logs syncBuffer
		logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		db, err := Open(u, WithTracerProvider(tp), WithMiddleware(seen.middleware()), WithLogger(logger))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		start := time.Now()
		if err := db.Ping(); err != nil {
			t.Fatal(err)
		}
		took := time.Since(start)
		// One connect_timeout for the silent host, nothing for the closed
		// port: under two, with 2.5 s to spare for a loaded machine.
		if took > 5500*time.Millisecond {
			t.Errorf("connecting took %v, want about 3 s (one connect_timeout), under 6 s", took)
		}
		if _, err := db.Exec("SELECT 1"); err != nil {
			t.Fatal(err)
		}
		if got := seen.count(); got[real] != 1 || len(got) != 1 {
			t.Errorf("connections opened to %v, want one to %s", got, real)
		}
		host, port, _ := net.SplitHostPort(real)
		var spans int
		for _, s := range rec.Ended() {
			attrs := map[attribute.Key]attribute.Value{}
			for _, kv := range s.Attributes() {
				attrs[kv.Key] = kv.Value
			}
			if got := attrs["server.address"].AsString(); got != host || fmt.Sprint(attrs["server.port"].AsInt64()) != port {
				t.Errorf("span %s: server %s:%d, want %s", s.Name(), got, attrs["server.port"].AsInt64(), real)
			}
			spans++
		}
		if spans < 2 {
			t.Errorf("%d spans, want the CONNECT and the SELECT at least", spans)
		}
		records := strings.Split(strings.TrimSpace(logs.String()), "\n")
		for _, r := range records {
			if !strings.Contains(r, `"server.address":"`+host+`","server.port":`+port+`,`) {
				t.Errorf("log record does not name %s: %s", real, r)
			}
		}
		if len(records) < 2 {
			t.Errorf("%d log records, want the connect and the exec at least", len(records))
		}
		t.Logf("connected through %s (refused) and %s (silent) to %s in %v", closed, silent, real, took.Round(time.Millisecond))
	})
}

// TestFaultHostListAllDown: when no host answers, the error names each
// host with its reason, and never the password.
func TestFaultHostListAllDown(t *testing.T) {
	networkBackends(t, func(t *testing.T, b dbtest.Backend) {
		silent := silentHost(t)
		closed := closedPort(t) // taken while silent listens: never its port
		u := withQuery(withHosts(t, b.URL, "app:"+inputPassword, closed, silent), "connect_timeout=3")
		db, err := Open(u)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		start := time.Now()
		err = db.Ping()
		took := time.Since(start)
		if err == nil {
			t.Fatal("connected with every host down")
		}
		msg := err.Error()
		checkNoPassword(t, "error", msg)
		ci, si := strings.Index(msg, closed+": "), strings.Index(msg, silent+": ")
		if ci < 0 || si < ci {
			t.Fatalf("error %q does not name %s then %s", msg, closed, silent)
		}
		if why := msg[ci:si]; !strings.Contains(why, "refused") {
			t.Errorf("reason for the closed port %q does not say refused", why)
		}
		if why := msg[si:]; !strings.Contains(why, "connect_timeout=3") {
			t.Errorf("reason for the silent host %q does not name connect_timeout", why)
		}
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("errors.Is(err, context.DeadlineExceeded) = false for %v", err)
		}
		if took > 5500*time.Millisecond { // under two, with 2.5 s to spare
			t.Errorf("failing took %v, want about one connect_timeout (3 s)", took)
		}
		t.Logf("%v", msg)
	})
}

// TestReliabilityTargetSessionAttrs: on the shared server, which is a
// primary (PostgreSQL not in recovery, MariaDB read_only OFF), listed
// twice under two names: read-write and primary connect, read-only and
// standby fail naming both hosts and why, prefer-standby takes the primary.
func TestReliabilityTargetSessionAttrs(t *testing.T) {
	networkBackends(t, func(t *testing.T, b dbtest.Backend) {
		real := serverAddr(t, b.URL)
		_, port, _ := net.SplitHostPort(real)
		twice := withHosts(t, b.URL, "", "127.0.0.1:"+port, "localhost:"+port)
		for _, tt := range []struct {
			target string
			fits   bool
			why    string
		}{
			{"any", true, ""},
			{"read-write", true, ""},
			{"primary", true, ""},
			{"prefer-standby", true, ""},
			{"read-only", false, map[string]string{"postgres": "transaction_read_only is off", "mysql": "read_only is OFF"}[b.Dialect]},
			{"standby", false, map[string]string{"postgres": "pg_is_in_recovery() is f", "mysql": "read_only is OFF"}[b.Dialect]},
		} {
			t.Run(tt.target, func(t *testing.T) {
				db, err := Open(withQuery(twice, "target_session_attrs="+tt.target))
				if err != nil {
					t.Fatal(err)
				}
				defer db.Close()
				err = db.Ping()
				if tt.fits {
					if err != nil {
						t.Fatal(err)
					}
					return
				}
				if err == nil {
					t.Fatal("connected to a primary")
				}
				msg := err.Error()
				for _, h := range []string{"127.0.0.1:" + port + ": ", "localhost:" + port + ": "} {
					if !strings.Contains(msg, h) {
						t.Errorf("error %q does not name %s", msg, h)
					}
				}
				if strings.Count(msg, tt.why) != 2 || !strings.Contains(msg, "target_session_attrs="+tt.target) {
					t.Errorf("error %q does not say %q for each host", msg, tt.why)
				}
			})
		}
	})
}

// TestReliabilityLoadBalanceHosts: load_balance_hosts=random spreads new
// connections over the hosts of the list (one server under two names), and
// disable keeps them on the first.
func TestReliabilityLoadBalanceHosts(t *testing.T) {
	networkBackends(t, func(t *testing.T, b dbtest.Backend) {
		_, port, _ := net.SplitHostPort(serverAddr(t, b.URL))
		hosts := []string{"127.0.0.1:" + port, "localhost:" + port}
		for _, mode := range []string{"random", "disable"} {
			t.Run(mode, func(t *testing.T) {
				var seen connects
				db, err := Open(withQuery(withHosts(t, b.URL, "", hosts...), "load_balance_hosts="+mode), WithMiddleware(seen.middleware()))
				if err != nil {
					t.Fatal(err)
				}
				defer db.Close()
				const n = 24
				var conns []*sql.Conn
				for range n {
					c, err := db.Conn(context.Background())
					if err != nil {
						t.Fatal(err)
					}
					if err := c.PingContext(context.Background()); err != nil {
						t.Fatal(err)
					}
					conns = append(conns, c)
				}
				for _, c := range conns {
					c.Close()
				}
				got := seen.count()
				t.Logf("%s: %v", mode, got)
				if got[hosts[0]]+got[hosts[1]] != n {
					t.Fatalf("connections by host %v, want %d over %v", got, n, hosts)
				}
				switch mode {
				case "random": // each host is missed by all 24 with probability 2^-24
					if got[hosts[0]] == 0 || got[hosts[1]] == 0 {
						t.Errorf("random: connections by host %v, want both hosts used", got)
					}
				case "disable":
					if got[hosts[0]] != n {
						t.Errorf("disable: connections by host %v, want all on %s", got, hosts[0])
					}
				}
			})
		}
	})
}

// TestFaultCommitUnknownPostgres: a deferred constraint trigger terminates
// the transaction's own backend at COMMIT, so the connection dies after
// COMMIT was sent: Commit's error satisfies errors.Is(err,
// ErrCommitUnknown) and reaches pgx's 57P01, and Transact runs the function
// once, without retrying.
func TestFaultCommitUnknownPostgres(t *testing.T) {
	b := dbtest.Backends()[1]
	b.Require(t)
	db, err := Open(b.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	table := dbtest.Name("hosts_commit")
	for _, q := range []string{
		"CREATE TABLE " + table + " (id int)",
		"CREATE FUNCTION " + table + "_kill() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_terminate_backend(pg_backend_pid()); PERFORM pg_sleep(5); RETURN NULL; END $$",
		"CREATE CONSTRAINT TRIGGER " + table + "_kill AFTER INSERT ON " + table + " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION " + table + "_kill()",
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		db.Exec("DROP TABLE " + table)
		db.Exec("DROP FUNCTION " + table + "_kill()")
	})

	var runs atomic.Int32
	err = Transact(context.Background(), db, nil, func(ctx context.Context, tx *sql.Tx) error {
		runs.Add(1)
		_, err := tx.ExecContext(ctx, "INSERT INTO "+table+" VALUES (1)")
		return err
	})
	if !errors.Is(err, ErrCommitUnknown) {
		t.Fatalf("Transact: %v; want ErrCommitUnknown", err)
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "57P01" {
		t.Errorf("errors.As(*pgconn.PgError) = %v; want 57P01 in %v", pgErr, err)
	}
	if n := runs.Load(); n != 1 {
		t.Errorf("the function ran %d times; a COMMIT of unknown outcome must not be retried", n)
	}
	t.Logf("%v", err)
	// The same through BeginTx and Commit.
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec("INSERT INTO " + table + " VALUES (2)"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); !errors.Is(err, ErrCommitUnknown) {
		t.Errorf("Commit: %v; want ErrCommitUnknown", err)
	}
	if err := db.Ping(); err != nil {
		t.Errorf("the pool after a lost COMMIT: %v", err)
	}
}

// TestFaultCommitUnknownMySQL: a proxy between the pool and MariaDB passes
// a transaction's COMMIT to the server and then cuts the connection,
// dropping the server's answer: the server committed, the client cannot
// know. Commit's error satisfies errors.Is(err, ErrCommitUnknown) and
// reaches go-sql-driver's mysql.ErrInvalidConn; Transact runs the function
// once, and the row is there once (a retry would have written it twice).
func TestFaultCommitUnknownMySQL(t *testing.T) {
	b := dbtest.Backends()[2]
	b.Require(t)
	quietMySQL(t)
	direct, err := Open(b.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer direct.Close()
	table := dbtest.Name("hosts_commit")
	if _, err := direct.Exec("CREATE TABLE " + table + " (id int) ENGINE=InnoDB"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { direct.Exec("DROP TABLE " + table) })

	p := newCutProxy(t, serverAddr(t, b.URL), []byte("COMMIT"))
	db, err := Open(withHosts(t, b.URL, "", p.addr))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var runs atomic.Int32
	err = Transact(context.Background(), db, nil, func(ctx context.Context, tx *sql.Tx) error {
		runs.Add(1)
		_, err := tx.ExecContext(ctx, "INSERT INTO "+table+" VALUES (1)")
		p.arm()
		return err
	})
	if !errors.Is(err, ErrCommitUnknown) {
		t.Fatalf("Transact: %v; want ErrCommitUnknown", err)
	}
	if !errors.Is(err, mysql.ErrInvalidConn) {
		t.Errorf("errors.Is(err, mysql.ErrInvalidConn) = false for %v", err)
	}
	if n := runs.Load(); n != 1 {
		t.Errorf("the function ran %d times; a COMMIT of unknown outcome must not be retried", n)
	}
	var n int
	if err := direct.QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("%d rows; the server committed the one row", n)
	}
	if err := db.Ping(); err != nil {
		t.Errorf("the pool after a lost COMMIT: %v", err)
	}
	t.Logf("%v", err)
}

// cutProxy forwards TCP connections to a server. Once armed, the first
// chunk a client sends that contains marker is passed on, and the
// connection is cut as the server answers, the answer dropped.
type cutProxy struct {
	addr  string
	armed atomic.Bool
}

func newCutProxy(t *testing.T, target string, marker []byte) *cutProxy {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	p := &cutProxy{addr: l.Addr().String()}
	go func() {
		for {
			client, err := l.Accept()
			if err != nil {
				return
			}
			server, err := net.Dial("tcp", target)
			if err != nil {
				client.Close()
				continue
			}
			var cut atomic.Bool
			go func() { // server to client
				defer client.Close()
				buf := make([]byte, 64<<10)
				for {
					n, err := server.Read(buf)
					if err != nil || cut.Load() {
						server.Close()
						return
					}
					if _, err := client.Write(buf[:n]); err != nil {
						return
					}
				}
			}()
			go func() { // client to server
				defer server.Close()
				buf := make([]byte, 64<<10)
				for {
					n, err := client.Read(buf)
					if err != nil {
						return
					}
					if bytes.Contains(buf[:n], marker) && p.armed.CompareAndSwap(true, false) {
						cut.Store(true)
					}
					if _, err := server.Write(buf[:n]); err != nil {
						return
					}
				}
			}()
		}
	}()
	return p
}

// arm makes the proxy cut the next connection that sends the marker.
func (p *cutProxy) arm() { p.armed.Store(true) }

// TestFaultLostBeforeCommit: the connection of a Transact transaction is
// ended by another connection (pg_terminate_backend, KILL CONNECTION) after
// its INSERT and before COMMIT: the server rolls it back, Transact runs it
// again, and its row is there exactly once.
func TestFaultLostBeforeCommit(t *testing.T) {
	networkBackends(t, func(t *testing.T, b dbtest.Backend) {
		db, err := Open(b.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		table := dbtest.Name("hosts_lost")
		if _, err := db.Exec("CREATE TABLE " + table + " (id int)"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Exec("DROP TABLE " + table) })
		idQuery, kill := "SELECT pg_backend_pid()", "SELECT pg_terminate_backend(%d)"
		if b.Dialect == "mysql" {
			idQuery, kill = "SELECT CONNECTION_ID()", "KILL CONNECTION %d"
		}
		dialect := b.Dialect
		var runs atomic.Int32
		var errs []string
		err = Transact(context.Background(), db, nil, func(ctx context.Context, tx *sql.Tx) error {
			runs.Add(1)
			var id int64
			if err := tx.QueryRowContext(ctx, idQuery).Scan(&id); err != nil {
				errs = append(errs, err.Error())
				return err
			}
			if _, err := tx.ExecContext(ctx, "INSERT INTO "+table+" VALUES (1)"); err != nil {
				errs = append(errs, err.Error())
				return err
			}
			if runs.Load() == 1 {
				if _, err := db.ExecContext(WithoutTransaction(ctx), fmt.Sprintf(kill, id)); err != nil {
					t.Fatal(err)
				}
				waitSessionGone(t, db, dialect, id)
			}
			_, err := tx.ExecContext(ctx, "UPDATE "+table+" SET id = id")
			if err != nil {
				errs = append(errs, err.Error())
			}
			return err
		})
		if err != nil {
			t.Fatalf("Transact: %v", err)
		}
		var n int
		if err := db.QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if runs.Load() != 2 || n != 1 {
			t.Errorf("ran %d times, %d rows; want 2 runs and the row once", runs.Load(), n)
		}
		t.Logf("first attempt failed with %q; the second committed", errs)
	})
}

// TestFaultPostgresShutdownMarksBad: a connection whose backend was
// terminated (57P01, admin shutdown) is marked bad by the statement that
// meets the error, and database/sql closes it instead of handing it out
// again: the next query on a pool of one runs on a new backend.
func TestFaultPostgresShutdownMarksBad(t *testing.T) {
	b := dbtest.Backends()[1]
	b.Require(t)
	db, err := Open(withQuery(b.URL, "max_open_conns=1"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	admin, err := Open(b.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()

	c, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var pid int
	if err := c.QueryRowContext(context.Background(), "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec("SELECT pg_terminate_backend(?)", pid); err != nil {
		t.Fatal(err)
	}
	waitSessionGone(t, admin, "postgres", int64(pid))
	_, err = c.ExecContext(context.Background(), "SELECT 1")
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "57P01" {
		t.Fatalf("query on a terminated backend: %v; want 57P01", err)
	}
	var bad bool
	c.Raw(func(dc any) error {
		bad = wrappedConn(dc).bad
		return nil
	})
	if !bad {
		t.Error("the connection is not marked bad after 57P01")
	}
	c.Close()
	var again int
	if err := db.QueryRow("SELECT pg_backend_pid()").Scan(&again); err != nil {
		t.Fatalf("next query: %v", err)
	}
	if again == pid {
		t.Errorf("the next query ran on the terminated backend %d", pid)
	}
}

// wrappedConn returns the *conn inside what wrapConn built.
func wrappedConn(dc any) *conn {
	if c, ok := dc.(*conn); ok {
		return c
	}
	return (*conn)(unsafe.Pointer(reflect.ValueOf(dc).Elem().Field(0).UnsafeAddr()))
}

var _ driver.Conn = (*conn)(nil)

// TestReliabilityTargetSessionAttrsMariaDB: a private MariaDB with
// read_only ON (a standby) and the shared one (a primary) in one list, in
// both orders: each target_session_attrs reaches the server it names,
// checked by @@port and by the server the middleware sees.
func TestReliabilityTargetSessionAttrsMariaDB(t *testing.T) {
	b := dbtest.Backends()[2]
	b.Require(t)
	quietMySQL(t)
	standby := mytemp.Start(t, "--read-only")
	primary := serverAddr(t, b.URL)
	_, primaryPort, _ := net.SplitHostPort(primary)
	for _, tt := range []struct {
		hosts  []string
		target string
		want   string // the server reached, "" for none
	}{
		{[]string{primary, standby.Addr()}, "standby", standby.Addr()},
		{[]string{primary, standby.Addr()}, "read-only", standby.Addr()},
		{[]string{primary, standby.Addr()}, "prefer-standby", standby.Addr()},
		{[]string{standby.Addr(), primary}, "read-write", primary},
		{[]string{standby.Addr(), primary}, "primary", primary},
		{[]string{standby.Addr(), primary}, "any", standby.Addr()},
		{[]string{standby.Addr()}, "prefer-standby", standby.Addr()},
		{[]string{standby.Addr()}, "read-write", ""},
	} {
		t.Run(strings.Join(tt.hosts, ",")+"/"+tt.target, func(t *testing.T) {
			var seen connects
			db, err := Open(withQuery(withHosts(t, b.URL, "", tt.hosts...), "target_session_attrs="+tt.target), WithMiddleware(seen.middleware()))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			var port string
			err = db.QueryRow("SELECT @@port").Scan(&port)
			if tt.want == "" {
				if err == nil || !strings.Contains(err.Error(), standby.Addr()+": read_only is ON, target_session_attrs="+tt.target+" wants OFF") {
					t.Fatalf("error %v; want one that says %s is read-only", err, standby.Addr())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			wantPort := primaryPort
			if tt.want == standby.Addr() {
				wantPort = fmt.Sprint(standby.Port)
			}
			if port != wantPort {
				t.Errorf("@@port = %s, want %s (%s)", port, wantPort, tt.want)
			}
			if got := seen.count(); got[tt.want] != 1 || len(got) != 1 {
				t.Errorf("connections by server %v, want one to %s", got, tt.want)
			}
		})
	}
}

// TestReliabilityGaleraNotReady: a one-node Galera cluster first in a host
// list, the shared MariaDB second. While the node is in the Primary
// component new connections go to it; once it is moved to a cluster
// address where nobody answers (wsrep_ready OFF, outside the Primary
// component) they skip it like a dead host, and with the node alone the
// error says why.
func TestReliabilityGaleraNotReady(t *testing.T) {
	b := dbtest.Backends()[2]
	b.Require(t)
	dbtest.RequireClusters(t)
	if _, err := os.Stat(cluster.GaleraProvider); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skipf("Galera is not installed: %v", err)
	}
	mytemp.Require(t)
	quietMySQL(t)
	var ports [2]int
	for i := range ports {
		var err error
		if ports[i], err = mytemp.FreePort(); err != nil {
			t.Fatal(err)
		}
	}
	node, err := mytemp.New("--wsrep-on=ON", "--wsrep-provider="+cluster.GaleraProvider,
		"--wsrep-cluster-address=gcomm://", fmt.Sprintf("--wsrep-provider-options=gmcast.listen_addr=tcp://127.0.0.1:%d;pc.wait_prim_timeout=PT1S", ports[0]),
		"--binlog-format=ROW", "--innodb-autoinc-lock-mode=2")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(node.Close)
	if err := node.Run("--wsrep-new-cluster"); err != nil {
		t.Fatal(err)
	}
	primary := serverAddr(t, b.URL)
	_, primaryPort, _ := net.SplitHostPort(primary)
	u := withHosts(t, b.URL, "", node.Addr(), primary)
	port := func() (string, error) {
		db, err := Open(u)
		if err != nil {
			return "", err
		}
		defer db.Close()
		var p string
		return p, db.QueryRow("SELECT @@port").Scan(&p)
	}
	if p, err := port(); err != nil || p != fmt.Sprint(node.Port) {
		t.Fatalf("with the node ready: @@port %s, %v; want the node's %d", p, err, node.Port)
	}

	admin, err := sql.Open("mysql", node.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	start := time.Now()
	if _, err := admin.Exec(fmt.Sprintf("SET GLOBAL wsrep_cluster_address = 'gcomm://127.0.0.1:%d'", ports[1])); err != nil {
		t.Fatal(err)
	}
	t.Logf("node moved out of its cluster in %v", time.Since(start).Round(time.Millisecond))
	if p, err := port(); err != nil || p != primaryPort {
		t.Fatalf("with the node out of the Primary component: @@port %s, %v; want the shared server's %s", p, err, primaryPort)
	}
	alone, err := Open(withHosts(t, b.URL, "", node.Addr(), closedPort(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer alone.Close()
	err = alone.Ping()
	if err == nil || !strings.Contains(err.Error(), node.Addr()+": wsrep_") {
		t.Fatalf("error %v; want one that says the Galera node %s does not serve", err, node.Addr())
	}
	t.Log(err)
}

// waitSessionGone waits until the server no longer lists the session id
// (a PostgreSQL backend pid, a MySQL connection id) that another
// connection ended: the server ends it asynchronously, and a statement
// sent before it is gone would still run. A condition, not a sleep.
func waitSessionGone(t *testing.T, db *sql.DB, dialect string, id int64) {
	t.Helper()
	q := "SELECT COUNT(*) FROM pg_stat_activity WHERE pid = ?"
	if dialect == "mysql" {
		q = "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = ?"
	}
	var n int
	if !eventually(drillBound, func() bool {
		if err := db.QueryRow(q, id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n == 0
	}) {
		t.Fatalf("session %d still there %v after it was ended", id, drillBound)
	}
}
