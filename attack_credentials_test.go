package databases

// Attacks on the promise of docs/credentials.md (rotating credentials,
// WithCredentials and password_file), written from the promise alone.
// Users created here are prefixed atk1_ and dropped when each test ends.

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/go-databases/databases/internal/dbtest"
	"github.com/go-databases/databases/internal/dsn"
	"github.com/go-databases/databases/internal/pgtemp"
)

const (
	atkPGShared = "postgres://postgres@127.0.0.1:5432/test_atk1?sslmode=disable"
	atkMyShared = "mysql://root@127.0.0.1:3306/test_atk1"
)

// atkServer is a server that checks passwords.
type atkServer struct {
	name    string
	addr    string // host:port, as the provider is given it
	port    string
	url     func(user string) string // a URL with user and no password
	create  func(t *testing.T, user, pw string)
	refused func(err error) bool
}

// atkPG starts a private PostgreSQL whose logins other than postgres need
// a scram-sha-256 password.
func atkPG(t *testing.T) *atkServer {
	t.Helper()
	dir := t.TempDir()
	hba := filepath.Join(dir, "pg_hba.conf")
	rules := "local all postgres trust\nhost all postgres 127.0.0.1/32 trust\nhost all all 127.0.0.1/32 scram-sha-256\nhost all all ::1/128 scram-sha-256\n"
	if err := os.WriteFile(hba, []byte(rules), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	srv := pgtemp.Start(t, "hba_file="+hba)
	admin := openAdmin(t, srv.URL())
	return &atkServer{
		name: "postgres",
		addr: srv.Addr(),
		port: strconv.Itoa(srv.Port),
		url: func(user string) string {
			return "postgres://" + url.PathEscape(user) + "@" + srv.Addr() + "/postgres?sslmode=disable"
		},
		create: func(t *testing.T, user, pw string) {
			execSQL(t, admin, "CREATE ROLE "+user+" LOGIN PASSWORD '"+strings.ReplaceAll(pw, "'", "''")+"'")
		},
		refused: func(err error) bool {
			var pg *pgconn.PgError
			return errors.As(err, &pg) && pg.Code == "28P01"
		},
	}
}

// atkMy is the shared MariaDB, whose atk1_ users need their password.
func atkMy(t *testing.T) *atkServer {
	t.Helper()
	dbtest.Require(t, "mysql")
	admin := openAdmin(t, atkMyShared)
	if err := admin.Ping(); err != nil {
		t.Fatalf("MariaDB: %v", err)
	}
	return &atkServer{
		name: "mysql",
		addr: "127.0.0.1:3306",
		port: "3306",
		url: func(user string) string {
			return "mysql://" + url.PathEscape(user) + "@127.0.0.1:3306/test_atk1"
		},
		create: func(t *testing.T, user, pw string) {
			execSQL(t, admin, "DROP USER IF EXISTS '"+user+"'@'%'")
			execSQL(t, admin, "CREATE USER '"+user+"'@'%' IDENTIFIED BY '"+strings.ReplaceAll(pw, "'", "''")+"'")
			execSQL(t, admin, "GRANT ALL ON test_atk1.* TO '"+user+"'@'%'")
			t.Cleanup(func() { admin.Exec("DROP USER IF EXISTS '" + user + "'@'%'") })
		},
		refused: func(err error) bool {
			var my *mysql.MySQLError
			return errors.As(err, &my) && my.Number == 1045
		},
	}
}

func atkEach(t *testing.T, fn func(t *testing.T, s *atkServer)) {
	t.Run("postgres", func(t *testing.T) { fn(t, atkPG(t)) })
	t.Run("mysql", func(t *testing.T) { fn(t, atkMy(t)) })
}

func atkWriteFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// atkWeird are passwords with the characters URLs, shells and format
// strings treat specially.
var atkWeird = []string{
	"p/w?x#y@z%41:1",
	"sp ace & amp=1;semi",
	"ünï cødé 密码 🔑",
	"%s%d%v%!%%",
	" lead and trail ",
}

// The promise: the provider's password and the content of password_file
// (less one final newline) are the password of the connection, whatever
// characters it holds.
func TestAttackCredentialsWeirdPasswords(t *testing.T) {
	atkEach(t, func(t *testing.T, s *atkServer) {
		for i, pw := range atkWeird {
			user := fmt.Sprintf("atk1_w%d", i)
			s.create(t, user, pw)
			t.Run(fmt.Sprintf("provider/%d", i), func(t *testing.T) {
				db, err := Open(s.url(user), WithCredentials(func(context.Context, string) (string, string, error) {
					return "", pw, nil // empty user: the URL's
				}))
				if err != nil {
					t.Fatal(err)
				}
				defer db.Close()
				atkCheckUser(t, db, user)
			})
			for _, nl := range []string{"", "\n", "\r\n"} {
				t.Run(fmt.Sprintf("password_file/%d/%q", i, nl), func(t *testing.T) {
					file := filepath.Join(t.TempDir(), "pw")
					atkWriteFile(t, file, pw+nl)
					db, err := Open(s.url(user) + atkSep(s.url(user)) + "password_file=" + url.QueryEscape(file))
					if err != nil {
						t.Fatal(err)
					}
					defer db.Close()
					atkCheckUser(t, db, user)
				})
			}
		}
	})
}

func atkSep(u string) string {
	if strings.Contains(u, "?") {
		return "&"
	}
	return "?"
}

func atkCheckUser(t *testing.T, db *sql.DB, user string) {
	t.Helper()
	var got string
	if err := db.QueryRow("SELECT CURRENT_USER").Scan(&got); err != nil {
		t.Fatalf("connecting as %s: %v", user, err)
	}
	if got != user && !strings.HasPrefix(got, user+"@") {
		t.Fatalf("connected as %q; want %q", got, user)
	}
}

// atkObserved collects what the built-in logging (WithLogger and the URL's
// log=debug through slog.Default) and tracing show.
type atkObserved struct {
	logs, deflogs bytes.Buffer
	spans         *tracetest.SpanRecorder
}

func (o *atkObserved) options(t *testing.T) []Option {
	o.spans = tracetest.NewSpanRecorder()
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&o.deflogs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() { slog.SetDefault(old) })
	return []Option{
		WithLogger(slog.New(slog.NewTextHandler(&o.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
		WithTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(o.spans))),
	}
}

func (o *atkObserved) texts() map[string]string {
	var spans strings.Builder
	for _, s := range o.spans.Ended() {
		fmt.Fprintf(&spans, "%s %v %v\n", s.Name(), s.Attributes(), s.Status())
		for _, e := range s.Events() {
			fmt.Fprintf(&spans, "  %s %v\n", e.Name, e.Attributes)
		}
	}
	return map[string]string{"log": o.logs.String(), "log=debug": o.deflogs.String(), "spans": spans.String()}
}

// The promise: every password the provider gave, and the one it returned
// with its error, is masked as *** in the message, even when the
// provider's own error quotes it; the same message is what the logs and
// spans show; %+v too. Here the provider quotes the password as it is, and
// with %q (Go's quoting), for passwords whose %q form differs from them.
func TestAttackCredentialsProviderErrorQuotes(t *testing.T) {
	sentinel := errors.New("token service down")
	for _, pw := range []string{`p/w?x#y@z%41:1`, `tok"en`, `back\slash`, "tab\there", "ünï 密码", "nl\nx"} {
		for _, form := range []string{"raw", "%q"} {
			t.Run(strconv.Quote(pw)+"/"+form, func(t *testing.T) {
				quoted := pw
				if form == "%q" {
					quoted = strconv.Quote(pw)
				}
				var o atkObserved
				db, err := Open(atkPGShared+"&log=debug", append(o.options(t), WithCredentials(func(context.Context, string) (string, string, error) {
					return "postgres", pw, fmt.Errorf("refresh of %s failed: %w", quoted, sentinel)
				}))...)
				if err != nil {
					t.Fatal(err)
				}
				err = db.Ping()
				db.Close()
				if err == nil || !errors.Is(err, sentinel) {
					t.Fatalf("error %v; want the provider's", err)
				}
				want := `databases: getting credentials for 127.0.0.1:5432 as user "postgres": refresh of`
				if !strings.HasPrefix(err.Error(), want) {
					t.Errorf("error %q; want it to start %q", err, want)
				}
				texts := o.texts()
				texts["error"] = err.Error()
				texts["%+v"] = fmt.Sprintf("%+v", err)
				for where, text := range texts {
					for _, secret := range []string{pw, quoted, strings.Trim(strconv.Quote(pw), `"`)} {
						if strings.Contains(text, secret) {
							t.Errorf("the %s shows the password as %s: %s", where, secret, text)
						}
					}
				}
			})
		}
	}
}

// The promise: every password the provider gave is masked, not only the
// one of this call: an error quoting the token of an earlier call (the one
// that expired) must not show it, even when it is a prefix of the new one.
func TestAttackCredentialsEarlierPasswordMasked(t *testing.T) {
	dbtest.Require(t, "postgres")
	var n atomic.Int32
	db, err := Open(atkPGShared, WithCredentials(func(context.Context, string) (string, string, error) {
		if n.Add(1) == 1 {
			return "postgres", "Tok3nQ9", nil // trust: accepted
		}
		return "postgres", "", errors.New("renewing Tok3nQ9 (expired) gave Tok3nQ9-NEXT-zz7: denied")
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = db.Conn(context.Background())
	if err == nil {
		t.Fatal("the provider's error did not fail the connection")
	}
	if strings.Contains(err.Error(), "Tok3nQ9") {
		t.Errorf("error shows the earlier password: %v", err)
	}
}

// The promise: the error names the server and the user and masks the
// password; a provider that gives an empty password (a token source that
// returned nothing) must still get a readable error, the server's refusal.
func TestAttackCredentialsEmptyPassword(t *testing.T) {
	atkEach(t, func(t *testing.T, s *atkServer) {
		s.create(t, "atk1_e", "nonempty1")
		db, err := Open(s.url("atk1_e"), WithCredentials(func(context.Context, string) (string, string, error) {
			return "", "", nil
		}))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		err = db.Ping()
		want := fmt.Sprintf("databases: connecting to %s as user %q: ", s.addr, "atk1_e")
		if err == nil || !strings.HasPrefix(err.Error(), want) || !s.refused(err) {
			t.Fatalf("error %v; want it to start %q and reach the refused login", err, want)
		}
		// and with the provider's error
		db2, err := Open(s.url("atk1_e"), WithCredentials(func(context.Context, string) (string, string, error) {
			return "", "", errors.New("vault sealed")
		}))
		if err != nil {
			t.Fatal(err)
		}
		defer db2.Close()
		err = db2.Ping()
		want = fmt.Sprintf("databases: getting credentials for %s as user %q: vault sealed", s.addr, "atk1_e")
		if err == nil || err.Error() != want {
			t.Fatalf("error %v; want %q", err, want)
		}
	})
}

// The provider is given the connection's context: a provider that waits
// for it ends with the caller's deadline, and the error says so.
func TestAttackCredentialsSlowProvider(t *testing.T) {
	var sawDeadline atomic.Bool
	db, err := Open(atkPGShared, WithCredentials(func(ctx context.Context, _ string) (string, string, error) {
		_, ok := ctx.Deadline()
		sawDeadline.Store(ok)
		select {
		case <-ctx.Done():
			return "", "", ctx.Err()
		case <-time.After(30 * time.Second):
			return "postgres", "x", nil
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = db.PingContext(ctx)
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("the attempt took %v with a 300ms deadline", took)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v; want the deadline", err)
	}
	if !sawDeadline.Load() {
		t.Error("the provider's context has no deadline")
	}
}

// The promise: f is called for every new connection, from several
// goroutines at once: N connections opened at once make N calls.
func TestAttackCredentialsConcurrentOpens(t *testing.T) {
	for _, base := range []string{atkPGShared, atkMyShared} {
		t.Run(strings.SplitN(base, ":", 2)[0], func(t *testing.T) {
			dbtest.Require(t, strings.SplitN(base, ":", 2)[0])
			const n = 8
			var calls, inflight, maxInflight atomic.Int32
			db, err := Open(base+atkSep(base)+"max_open_conns=8", WithCredentials(func(ctx context.Context, _ string) (string, string, error) {
				calls.Add(1)
				cur := inflight.Add(1)
				defer inflight.Add(-1)
				for {
					m := maxInflight.Load()
					if cur <= m || maxInflight.CompareAndSwap(m, cur) {
						break
					}
				}
				time.Sleep(50 * time.Millisecond)
				return "", "", nil
			}))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			var wg sync.WaitGroup
			conns := make(chan *sql.Conn, n)
			for range n {
				wg.Go(func() {
					c, err := db.Conn(context.Background())
					if err != nil {
						t.Error(err)
						return
					}
					conns <- c
				})
			}
			wg.Wait()
			close(conns)
			for c := range conns {
				if err := c.PingContext(context.Background()); err != nil {
					t.Error(err)
				}
				c.Close()
			}
			if got := calls.Load(); got != n {
				t.Errorf("%d connections opened at once made %d provider calls; want %d", n, got, n)
			}
		})
	}
}

// The promise: the server is the host:port of the connection, as the URL
// names it, for a Unix socket its path.
func TestAttackCredentialsServerNames(t *testing.T) {
	for _, tt := range []struct{ url, want string }{
		{"postgres://postgres@127.0.0.1:5432/test_atk1?sslmode=disable", "127.0.0.1:5432"},
		{"postgres://postgres@localhost:5432/test_atk1?sslmode=disable", "localhost:5432"},
		{"postgres://postgres@127.0.0.1/test_atk1?sslmode=disable", "127.0.0.1:5432"},
		{"mysql://root@127.0.0.1:3306/test_atk1", "127.0.0.1:3306"},
		{"mysql://root@127.0.0.1/test_atk1", "127.0.0.1:3306"},
		{"mysql://root@/test_atk1?unix_socket=/run/mysqld/mysqld.sock", "/run/mysqld/mysqld.sock"},
	} {
		t.Run(tt.url, func(t *testing.T) {
			dbtest.Require(t, strings.SplitN(tt.url, ":", 2)[0])
			var got []string
			var mu sync.Mutex
			db, err := Open(tt.url, WithCredentials(func(_ context.Context, server string) (string, string, error) {
				mu.Lock()
				got = append(got, server)
				mu.Unlock()
				return "", "", nil
			}))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if err := db.Ping(); err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0] != tt.want {
				t.Errorf("provider asked for %q; want [%q]", got, tt.want)
			}
		})
	}
}

// The promise: one source of the password per DB; a URL with a password
// and WithCredentials fails to open, naming both. WithCredentials applies
// to every replica, so a replica URL (WithReplicas) with a password is a
// second source. Whatever the error, it must not show the password.
func TestAttackCredentialsReplicaURLPassword(t *testing.T) {
	provider := WithCredentials(func(context.Context, string) (string, string, error) { return "", "", nil })
	for _, tt := range []struct {
		name string
		url  string
		opts []Option
	}{
		{"WithReplicas password, WithCredentials", atkPGShared,
			[]Option{provider, WithReplicas("postgres://postgres:Rpl9Sec@localhost:5432/test_atk1?sslmode=disable")}},
		{"WithReplicas password option, WithCredentials", atkPGShared,
			[]Option{provider, WithReplicas("postgres://postgres@localhost:5432/test_atk1?sslmode=disable&password=Rpl9Sec")}},
		{"WithReplicas password, MySQL, WithCredentials", atkMyShared,
			[]Option{provider, WithReplicas("mysql://root:Rpl9Sec@localhost:3306/test_atk1")}},
		{"WithReplicas password, password_file", atkPGShared + "&password_file=/nonexistent/pw",
			[]Option{WithReplicas("postgres://postgres:Rpl9Sec@localhost:5432/test_atk1?sslmode=disable")}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			db, err := Open(tt.url, tt.opts...)
			if err == nil {
				db.Close()
				t.Fatal("opened a DB with two sources of the password")
			}
			if strings.Contains(err.Error(), "Rpl9Sec") || strings.Contains(fmt.Sprintf("%+v", err), "Rpl9Sec") {
				t.Errorf("error shows the password: %v", err)
			}
		})
	}
}

// A user:password@ in an entry of replicas= (percent-encoded, so that the
// URL parses): whatever Open does with it, the package's promise is that a
// password never appears in an error (see RedactURL).
func TestAttackCredentialsReplicasEntryPassword(t *testing.T) {
	provider := WithCredentials(func(context.Context, string) (string, string, error) { return "", "", nil })
	for _, u := range []string{atkPGShared + "&replicas=postgres:Rpl9Sec@localhost:5432",
		atkPGShared + "&replicas=" + url.QueryEscape("postgres:Rpl9Sec@localhost:5432"),
		atkMyShared + "?replicas=" + url.QueryEscape("root:Rpl9Sec@localhost:3306")} {
		for _, opts := range [][]Option{nil, {provider}} {
			db, err := Open(u, opts...)
			if err == nil {
				err = db.Ping()
				db.Close()
			}
			if err != nil && strings.Contains(fmt.Sprintf("%v %+v", err, err), "Rpl9Sec") {
				t.Errorf("error shows the password: %v", err)
			}
		}
	}
}

// The promise: an empty or missing password_file fails that connection
// with an error naming the option and the path, and the server and user:
// "databases: reading the password for H as user "u": option password_file: ...".
func TestAttackCredentialsPasswordFileBad(t *testing.T) {
	dir := t.TempDir()
	weirdDir := filepath.Join(dir, "a dir #1 ?&=%")
	if err := os.Mkdir(weirdDir, 0o755); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(weirdDir, "empty")
	atkWriteFile(t, empty, "")
	nl := filepath.Join(dir, "newline-only")
	atkWriteFile(t, nl, "\n")
	for _, tt := range []struct{ name, path string }{
		{"missing", filepath.Join(dir, "missing")},
		{"missing in weird dir", filepath.Join(weirdDir, "missing")},
		{"directory", weirdDir},
		{"empty", empty},
		{"newline only", nl},
	} {
		for _, base := range []string{"postgres://postgres@127.0.0.1:5432/test_atk1?sslmode=disable", "mysql://root@127.0.0.1:3306/test_atk1"} {
			t.Run(tt.name+"/"+base[:5], func(t *testing.T) {
				db, err := Open(base + atkSep(base) + "password_file=" + url.QueryEscape(tt.path))
				if err != nil {
					t.Fatal(err)
				}
				defer db.Close()
				err = db.Ping()
				server := "127.0.0.1:5432"
				user := "postgres"
				if strings.HasPrefix(base, "mysql") {
					server, user = "127.0.0.1:3306", "root"
				}
				want := fmt.Sprintf("databases: reading the password for %s as user %q: option password_file: ", server, user)
				if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), tt.path) {
					t.Errorf("error %v; want it to start %q and name %q", err, want, tt.path)
				}
			})
		}
	}
}

// The promise: password_file applies to every host of a host list and
// every replica, read at each new connection: a rotated file is what the
// next connection to any of them uses, while open ones keep working.
func TestAttackCredentialsPasswordFileHostListReplica(t *testing.T) {
	atkEach(t, func(t *testing.T, s *atkServer) {
		s.create(t, "atk1_f", "first/1?#")
		file := filepath.Join(t.TempDir(), "pw")
		atkWriteFile(t, file, "first/1?#\n")
		// a first host that refuses connections, then the server, then a
		// replica: the same server under another name.
		dead := "127.0.0.1:1"
		u := strings.Replace(s.url("atk1_f"), s.addr, dead+","+s.addr, 1)
		u += atkSep(u) + "replicas=localhost:" + s.port + "&replica_fallback=error&password_file=" + url.QueryEscape(file)
		db, err := Open(u)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		ctx := context.Background()
		old, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer old.Close()
		var one int
		if err := db.QueryRowContext(ReadReplica(ctx), "SELECT 1").Scan(&one); err != nil {
			t.Fatalf("replica read with the first password: %v", err)
		}
		// rotate: server then file
		atkAlter(t, s, "atk1_f", "second 2 ü")
		atkWriteFile(t, file, "second 2 ü\r\n")
		// new connections: pin the idle ones so that new ones are opened
		var pinned []*sql.Conn
		for range 2 {
			c, err := db.Conn(ctx)
			if err != nil {
				t.Fatalf("a new connection after rotation: %v", err)
			}
			pinned = append(pinned, c)
		}
		for _, c := range pinned {
			if err := c.PingContext(ctx); err != nil {
				t.Error(err)
			}
			defer c.Close()
		}
		if err := old.PingContext(ctx); err != nil {
			t.Errorf("the connection open before the rotation: %v", err)
		}
		rtx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := rtx.QueryRow("SELECT 1").Scan(&one); err != nil {
			t.Errorf("replica read after rotation: %v", err)
		}
		rtx.Rollback()
		// a second replica connection while the first is busy
		rtx1, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		defer rtx1.Rollback()
		rtx2, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
		if err != nil {
			t.Fatalf("a new replica connection after rotation: %v", err)
		}
		defer rtx2.Rollback()
		if err := rtx2.QueryRow("SELECT 1").Scan(&one); err != nil {
			t.Errorf("a new replica connection after rotation: %v", err)
		}
	})
}

// atkAlter sets the password of user through a fresh admin connection.
func atkAlter(t *testing.T, s *atkServer, user, pw string) {
	t.Helper()
	var admin *sql.DB
	if s.name == "mysql" {
		admin = openAdmin(t, atkMyShared)
		execSQL(t, admin, "ALTER USER '"+user+"'@'%' IDENTIFIED BY '"+pw+"'")
		return
	}
	admin = openAdmin(t, "postgres://postgres@"+s.addr+"/postgres?sslmode=disable")
	execSQL(t, admin, "ALTER ROLE "+user+" PASSWORD '"+pw+"'")
}

// The promise: SQLite has no user or password: either fails to open,
// saying so, whatever the form of the SQLite URL.
func TestAttackCredentialsSQLite(t *testing.T) {
	file := filepath.Join(t.TempDir(), "x.db")
	provider := WithCredentials(func(context.Context, string) (string, string, error) { return "u", "p", nil })
	for _, u := range []string{"sqlite:///:memory:", "sqlite://" + file, "sqlite://" + file + "?_pragma=busy_timeout(100)", "sqlite:///rel-atk1.db"} {
		t.Run(u, func(t *testing.T) {
			for _, tt := range []struct {
				url  string
				opts []Option
				want string
			}{
				{u + atkSep(u) + "password_file=/run/pw", nil, "SQLite has no user or password"},
				{u, []Option{provider}, "SQLite has no user or password"},
			} {
				db, err := Open(tt.url, tt.opts...)
				if err == nil {
					db.Close()
					t.Errorf("Open(%q) opened", tt.url)
					continue
				}
				if !strings.Contains(err.Error(), tt.want) {
					t.Errorf("error %v; want it to say %q", err, tt.want)
				}
				// through sql.Open, the error comes at the first use
				if tt.opts == nil {
					db, err := sql.Open("databases", tt.url)
					if err == nil {
						err = db.Ping()
						db.Close()
					}
					if err == nil || !strings.Contains(err.Error(), tt.want) {
						t.Errorf("sql.Open(%q): error %v; want it to say %q", tt.url, err, tt.want)
					}
				}
			}
		})
	}
	os.Remove("rel-atk1.db")
}

// The promise: they need the dialect's own driver; postgres+pq:// with
// them fails to open.
func TestAttackCredentialsOtherDriver(t *testing.T) {
	provider := WithCredentials(func(context.Context, string) (string, string, error) { return "u", "p", nil })
	for _, tt := range []struct {
		url  string
		opts []Option
	}{
		{"postgres+pq://postgres@127.0.0.1:5432/test_atk1?sslmode=disable&password_file=/run/pw", nil},
		{"postgres+pq://postgres@127.0.0.1:5432/test_atk1?sslmode=disable", []Option{provider}},
		{"postgresql+pq://postgres@127.0.0.1:5432/test_atk1?sslmode=disable", []Option{provider}},
	} {
		db, err := Open(tt.url, tt.opts...)
		if err == nil {
			db.Close()
			t.Errorf("Open(%q) opened", tt.url)
		}
	}
}

// The promise: password_file works where the URL works: sql.Open with the
// registered driver reads it at each connection too.
func TestAttackCredentialsSQLOpenPasswordFile(t *testing.T) {
	s := atkPG(t)
	s.create(t, "atk1_s", "sq/l?#")
	file := filepath.Join(t.TempDir(), "pw")
	atkWriteFile(t, file, "sq/l?#\n")
	db, err := sql.Open("databases", s.url("atk1_s")+"&password_file="+url.QueryEscape(file))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	atkCheckUser(t, db, "atk1_s")
}

// The promise: a host list takes the next host when the credentials of one
// fail; connect_timeout bounds each host's attempt. A provider that hangs
// for the first host until its context ends must not stop the list.
func TestAttackCredentialsHangingProviderHostList(t *testing.T) {
	t.Parallel()
	dbtest.Require(t, "postgres")
	db, err := Open("postgres://postgres@127.0.0.1:5432,localhost:5432/test_atk1?sslmode=disable&connect_timeout=1",
		WithCredentials(func(ctx context.Context, server string) (string, string, error) {
			if server == "127.0.0.1:5432" {
				<-ctx.Done()
				return "", "", ctx.Err()
			}
			return "", "", nil
		}))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	start := time.Now()
	if err := db.PingContext(ctx); err != nil {
		t.Fatalf("after %v: %v", time.Since(start), err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("took %v with connect_timeout=1", took)
	}
}

// The promise: the error names the server and the user: the user the
// provider gave, when it gave one.
func TestAttackCredentialsProviderUser(t *testing.T) {
	atkEach(t, func(t *testing.T, s *atkServer) {
		s.create(t, "atk1_pu", "right1")
		db, err := Open(s.url("atk1_urluser"), WithCredentials(func(context.Context, string) (string, string, error) {
			return "atk1_pu", "wrong1", nil
		}))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		err = db.Ping()
		want := fmt.Sprintf("databases: connecting to %s as user %q: ", s.addr, "atk1_pu")
		if err == nil || !strings.HasPrefix(err.Error(), want) || !s.refused(err) || strings.Contains(err.Error(), "wrong1") {
			t.Errorf("error %v; want it to start %q", err, want)
		}
		db2, err := Open(s.url("atk1_urluser"), WithCredentials(func(context.Context, string) (string, string, error) {
			return "atk1_pu", "right1", nil
		}))
		if err != nil {
			t.Fatal(err)
		}
		defer db2.Close()
		atkCheckUser(t, db2, "atk1_pu")
	})
}

// Errors of a host list whose every host fails: each names its server, and
// no password shows, raw or as the provider quoted it.
func TestAttackCredentialsHostListAllFail(t *testing.T) {
	var o atkObserved
	db, err := Open("postgres://postgres@127.0.0.1:5432,localhost:5432/test_atk1?sslmode=disable&log=debug",
		append(o.options(t), WithCredentials(func(_ context.Context, server string) (string, string, error) {
			return "", "Hx7#" + server, fmt.Errorf("no token (had %q)", "Hx7#"+server)
		}))...)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Ping()
	db.Close()
	if err == nil {
		t.Fatal("connected")
	}
	for _, server := range []string{"127.0.0.1:5432", "localhost:5432"} {
		if !strings.Contains(err.Error(), "getting credentials for "+server) {
			t.Errorf("error %v does not name %s", err, server)
		}
	}
	texts := o.texts()
	texts["error"] = fmt.Sprintf("%v %+v", err, err)
	for where, text := range texts {
		if strings.Contains(text, "Hx7#") {
			t.Errorf("the %s shows a password: %s", where, text)
		}
	}
}

// The promise: every password the provider gave is masked, whichever
// server it gave it for; a token given for the replica and quoted by the
// provider's error for the primary must not show, in whole or in part,
// even when a password it gave the primary is a prefix of it.
func TestAttackCredentialsMaskPrefix(t *testing.T) {
	dbtest.Require(t, "postgres")
	var o atkObserved
	var failing atomic.Bool
	db, err := Open(atkPGShared+"&replicas=localhost:5432&replica_fallback=error&read_your_writes=false&log=debug&max_idle_conns=1",
		append(o.options(t), WithCredentials(func(_ context.Context, server string) (string, string, error) {
			if server == "localhost:5432" {
				return "", "Ab12Cd34Ef56", nil
			}
			if !failing.Load() {
				return "", "Ab12", nil
			}
			return "", "", fmt.Errorf("refreshing the token for %s: the replica's is Ab12Cd34Ef56", server)
		}))...)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	var one int
	if err := db.QueryRowContext(ReadReplica(ctx), "SELECT 1").Scan(&one); err != nil {
		t.Fatal(err)
	}
	c1, err := db.Conn(ctx) // the primary's one connection
	if err != nil {
		t.Fatal(err)
	}
	defer c1.Close()
	failing.Store(true)
	for i := range 20 { // the masking order must not depend on luck
		_, err := db.Conn(ctx)
		if err == nil {
			t.Fatal("the provider's error did not fail the connection")
		}
		if text := fmt.Sprintf("%v %+v", err, err); strings.Contains(text, "Ab12") || strings.Contains(text, "Cd34") {
			t.Fatalf("try %d: the error shows a password, or part of one: %s", i, text)
		}
	}
	for where, text := range o.texts() {
		if strings.Contains(text, "Ab12") || strings.Contains(text, "Cd34") {
			t.Errorf("the %s shows a password, or part of one: %s", where, text)
		}
	}
}

// The promise: "every password the provider gave" is masked: also one it
// gave two calls ago for the same server (the token before the last).
func TestAttackCredentialsMaskOlderPassword(t *testing.T) {
	t.Skip("known: only the last password given per server is remembered; an error quoting an older one shows it")
	var n atomic.Int32
	db, err := Open(atkPGShared, WithCredentials(func(context.Context, string) (string, string, error) {
		switch n.Add(1) {
		case 1:
			return "", "OldTok1x", nil
		case 2:
			return "", "NewTok2y", nil
		}
		return "", "", errors.New("revoking OldTok1x and NewTok2y failed")
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	c1, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c1.Close()
	c2, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	_, err = db.Conn(ctx)
	if err == nil {
		t.Fatal("the provider's error did not fail the connection")
	}
	if strings.Contains(err.Error(), "OldTok1x") || strings.Contains(err.Error(), "NewTok2y") {
		t.Errorf("error shows a password the provider gave: %v", err)
	}
}

// The promise: WithCredentials applies to every replica, and the user it
// gives, when empty, is the URL's: for a WithReplicas replica, its own
// URL's user.
func TestAttackCredentialsWithReplicasUser(t *testing.T) {
	s := atkPG(t)
	s.create(t, "atk1_p", "pp1")
	s.create(t, "atk1_q", "qq1")
	db, err := Open(s.url("atk1_p")+"&replica_fallback=error", WithCredentials(func(_ context.Context, server string) (string, string, error) {
		if strings.HasPrefix(server, "localhost:") {
			return "", "qq1", nil
		}
		return "", "pp1", nil
	}), WithReplicas("postgres://atk1_q@localhost:"+s.port+"/postgres?sslmode=disable"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	atkCheckUser(t, db, "atk1_p")
	var got string
	if err := db.QueryRowContext(ReadReplica(context.Background()), "SELECT CURRENT_USER").Scan(&got); err != nil || got != "atk1_q" {
		t.Errorf("replica read as %q, %v; want atk1_q", got, err)
	}
}

// The promise: password_file in a URL is read at each new connection. A
// replica given by a URL of its own (WithReplicas) with its own
// password_file, of a DB whose primary has its own password, must not be
// silently ignored: it is read, or Open fails naming it.
func TestAttackCredentialsWithReplicasPasswordFile(t *testing.T) {
	s := atkPG(t)
	s.create(t, "atk1_p", "pp1")
	s.create(t, "atk1_q", "qq1")
	file := filepath.Join(t.TempDir(), "pw")
	atkWriteFile(t, file, "qq1\n")
	for _, primary := range []string{
		"postgres://atk1_p:pp1@" + s.addr + "/postgres?sslmode=disable&replica_fallback=error",
		"postgres://atk1_p@" + s.addr + "/postgres?sslmode=disable&replica_fallback=error&password_file=" + url.QueryEscape(file+"-p"),
	} {
		atkWriteFile(t, file+"-p", "pp1")
		db, err := Open(primary, WithReplicas("postgres://atk1_q@localhost:"+s.port+"/postgres?sslmode=disable&password_file="+url.QueryEscape(file)))
		if err != nil { // refusing it, saying so, is an answer too
			if !strings.Contains(err.Error(), "password_file") {
				t.Errorf("Open: %v; want it to name password_file", err)
			}
			continue
		}
		defer db.Close()
		var got string
		if err := db.QueryRowContext(ReadReplica(context.Background()), "SELECT CURRENT_USER").Scan(&got); err != nil || got != "atk1_q" {
			t.Errorf("primary %s: replica read as %q, %v; want atk1_q with the replica's password_file", dsn.RedactURL(primary), got, err)
		}
	}
}

// The promise: the provider's error is wrapped as it is (its message kept,
// only passwords masked), on both servers, and the log of log=debug shows
// the same masked message.
func TestAttackCredentialsProviderErrorText(t *testing.T) {
	for _, tt := range []struct{ url, server, user string }{
		{atkPGShared, "127.0.0.1:5432", "postgres"},
		{atkMyShared, "127.0.0.1:3306", "root"},
	} {
		t.Run(tt.server, func(t *testing.T) {
			var logs bytes.Buffer // log=debug logs to slog.Default()
			old := slog.Default()
			slog.SetDefault(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
			defer slog.SetDefault(old)
			db, err := Open(tt.url+atkSep(tt.url)+"log=debug", WithCredentials(func(context.Context, string) (string, string, error) {
				return "", "Pw%d/9?#", errors.New("bad %s %d %! 100% for Pw%d/9?# and Pw%25d%2F9%3F%23")
			}))
			if err != nil {
				t.Fatal(err)
			}
			err = db.Ping()
			db.Close()
			want := fmt.Sprintf("databases: getting credentials for %s as user %q: bad %%s %%d %%! 100%% for *** and ***", tt.server, tt.user)
			if err == nil || err.Error() != want {
				t.Fatalf("error %v; want %q", err, want)
			}
			if text := logs.String(); strings.Contains(text, "Pw%") || !strings.Contains(text, "100% for *** and ***") {
				t.Errorf("the log does not show the masked error alone: %s", text)
			}
		})
	}
}
