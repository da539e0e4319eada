package databases

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/go-databases/databases/internal/dbtest"
	"github.com/go-databases/databases/internal/dsn"
	"github.com/go-databases/databases/internal/pgtemp"
	"github.com/go-databases/databases/middleware"
)

// credsUser is the user the credentials tests create on each server, and
// drop when they end.
const credsUser = "test_creds_user"

// TestCredentialsRefused: what cannot take credentials fails to open,
// saying why and naming both sources when two give a password, without
// showing the password.
func TestCredentialsRefused(t *testing.T) {
	provider := WithCredentials(func(context.Context, string) (string, string, error) { return "u", "Zx9Qp2", nil })
	tests := []struct {
		name string
		url  string
		opts []Option
		want []string
	}{
		{"password and password_file, PostgreSQL", "postgres://u:Zx9Qp2@h/db?password_file=/run/pw", nil,
			[]string{"option password_file: the URL also gives a password (user:password@)"}},
		{"password and password_file, MySQL", "mysql://u:Zx9Qp2@h/db?password_file=/run/pw", nil,
			[]string{"option password_file: the URL also gives a password (user:password@)"}},
		{"option password and password_file", "postgres://u@h/db?password=Zx9Qp2&password_file=/run/pw", nil,
			[]string{"option password_file: the URL also gives option password"}},
		{"password_file on SQLite", "sqlite:///:memory:?password_file=/run/pw", nil,
			[]string{"option password_file: SQLite has no user or password"}},
		{"empty password_file", "postgres://u@h/db?password_file=", nil,
			[]string{"option password_file: empty path"}},
		{"WithCredentials on SQLite", "sqlite:///:memory:", []Option{provider},
			[]string{"databases.WithCredentials: SQLite has no user or password"}},
		{"WithCredentials and a password", "mysql://u:Zx9Qp2@h/db", []Option{provider},
			[]string{"databases.WithCredentials: the URL also gives a password"}},
		{"WithCredentials and password_file", "postgres://u@h/db?password_file=/run/pw", []Option{provider},
			[]string{"databases.WithCredentials: the URL also gives option password_file"}},
		{"another driver", "postgres+pq://u@h/db", []Option{provider},
			[]string{`need the driver "pgx"`, `the URL selects "postgres"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := Open(tt.url, tt.opts...)
			if err == nil {
				db.Close()
				t.Fatalf("Open(%q) succeeded", tt.url)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q; want it to say %q", err, w)
				}
			}
			if strings.Contains(fmt.Sprintf("%+v", err), "Zx9Qp2") {
				t.Errorf("error shows the password: %v", err)
			}
		})
	}
	// The file's path is no secret: messages show it.
	if got := dsn.RedactURL("postgres://u@h/db?password_file=/run/pw&sslpassword=x"); got != "postgres://u@h/db?password_file=/run/pw&sslpassword=***" {
		t.Errorf("RedactURL = %q", got)
	}
}

// TestReadPasswordFile: the content less one final newline; an empty or
// missing file is an error naming the option and the path.
func TestReadPasswordFile(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		content, want, err string
	}{
		{"s3cret", "s3cret", ""},
		{"s3cret\n", "s3cret", ""},
		{"s3cret\r\n", "s3cret", ""},
		{"s3cret\n\n", "s3cret\n", ""},
		{" s3cret \n", " s3cret ", ""},
		{"", "", "is empty"},
		{"\n", "", "is empty"},
	} {
		path := filepath.Join(dir, "pw")
		if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := readPasswordFile(path)
		if got != tt.want || (err == nil) != (tt.err == "") || err != nil && !strings.Contains(err.Error(), tt.err) {
			t.Errorf("content %q: %q, %v; want %q, error %q", tt.content, got, err, tt.want, tt.err)
		}
	}
	missing := filepath.Join(dir, "missing")
	if _, err := readPasswordFile(missing); err == nil || !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "option password_file: open "+missing) {
		t.Errorf("missing file: %v", err)
	}
}

// TestCredentialsRedact: a provider's error that quotes the password it
// returns, or one it gave before, shows neither; errors.Is reaches it.
func TestCredentialsRedact(t *testing.T) {
	sentinel := errors.New("vault sealed")
	var fail bool
	cr := &credentials{given: map[string]string{}, provider: func(_ context.Context, server string) (string, string, error) {
		if fail {
			return "", "n3w/t0ken", fmt.Errorf("token old+t0ken %q expired, n3w%%2Ft0ken refused: %w", "n3w/t0ken", sentinel)
		}
		return "app", "old+t0ken", nil
	}}
	if u, pw, err := cr.get(context.Background(), "db1:5432", "url-user"); u != "app" || pw != "old+t0ken" || err != nil {
		t.Fatalf("get = %q, %q, %v", u, pw, err)
	}
	fail = true
	_, _, err := cr.get(context.Background(), "db1:5432", "url-user")
	want := `databases: getting credentials for db1:5432 as user "url-user": token *** "***" expired, *** refused: vault sealed`
	if err == nil || err.Error() != want || !errors.Is(err, sentinel) {
		t.Errorf("error %q; want %q wrapping the provider's", err, want)
	}
}

// credsServer is a server with a user of the test's own whose password
// the test rotates.
type credsServer struct {
	name   string
	url    func(password string) string // the user's URL, with password when not ""
	server string                       // host:port as the provider is given it
	port   string
	// rotate sets the password of credsUser on the server.
	rotate func(t *testing.T, password string)
	// addUser creates another user with password, who can run queries,
	// and drops it when the test ends; setPassword sets a user's password.
	addUser     func(t *testing.T, user, password string)
	setPassword func(t *testing.T, user, password string)
	// loginRefused is the driver error of a wrong password.
	loginRefused func(err error) bool
}

// credsServers starts, for each backend, a server that checks passwords
// and creates credsUser on it with password pw1: a private PostgreSQL with
// scram-sha-256 for every user but postgres (the shared one trusts every
// login from 127.0.0.1), and the shared MariaDB, whose test database the
// user is granted.
func credsServers(t *testing.T) []func(t *testing.T) *credsServer {
	return []func(t *testing.T) *credsServer{
		func(t *testing.T) *credsServer {
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
			setPassword := func(t *testing.T, user, pw string) {
				execSQL(t, admin, "ALTER ROLE "+user+" PASSWORD '"+pw+"'")
			}
			execSQL(t, admin, "CREATE ROLE "+credsUser+" LOGIN PASSWORD 'pw1'")
			port := fmt.Sprint(srv.Port)
			return &credsServer{
				setPassword: setPassword,
				addUser: func(t *testing.T, user, pw string) {
					execSQL(t, admin, "CREATE ROLE "+user+" LOGIN PASSWORD '"+pw+"'")
				},
				name:   "postgres",
				server: srv.Addr(),
				port:   port,
				url: func(pw string) string {
					return "postgres://" + dsn.UserInfo(true, credsUser, pw, pw != "") + srv.Addr() + "/postgres?sslmode=disable"
				},
				rotate: func(t *testing.T, pw string) { setPassword(t, credsUser, pw) },
				loginRefused: func(err error) bool {
					var pg *pgconn.PgError
					return errors.As(err, &pg) && pg.Code == "28P01"
				},
			}
		},
		func(t *testing.T) *credsServer {
			b := dbtest.Backends()[2]
			b.Require(t)
			admin := openAdmin(t, b.URL)
			u, err := url.Parse(b.URL)
			if err != nil {
				t.Fatal(err)
			}
			addUser := func(t *testing.T, user, pw string) {
				execSQL(t, admin, "DROP USER IF EXISTS '"+user+"'@'%'")
				execSQL(t, admin, "CREATE USER '"+user+"'@'%' IDENTIFIED BY '"+pw+"'")
				execSQL(t, admin, "GRANT ALL ON `"+strings.TrimPrefix(u.Path, "/")+"`.* TO '"+user+"'@'%'")
				t.Cleanup(func() { admin.Exec("DROP USER IF EXISTS '" + user + "'@'%'") })
			}
			setPassword := func(t *testing.T, user, pw string) {
				execSQL(t, admin, "ALTER USER '"+user+"'@'%' IDENTIFIED BY '"+pw+"'")
			}
			addUser(t, credsUser, "pw1")
			host := u.Host
			if u.Port() == "" {
				host += ":3306"
			}
			return &credsServer{
				name:   "mysql",
				server: host,
				port:   u.Port(),
				url: func(pw string) string {
					v := *u
					v.User = url.User(credsUser)
					if pw != "" {
						v.User = url.UserPassword(credsUser, pw)
					}
					return v.String()
				},
				addUser:     addUser,
				setPassword: setPassword,
				rotate:      func(t *testing.T, pw string) { setPassword(t, credsUser, pw) },
				loginRefused: func(err error) bool {
					var my *mysql.MySQLError
					return errors.As(err, &my) && my.Number == 1045
				},
			}
		},
	}
}

// forEachCredsServer runs fn on each server of credsServers. The
// PostgreSQL subtest, whose server is its own, runs in parallel
// (parallelServers); the MySQL subtests of all callers, which create and
// change the same users on the shared server, hold credsMySQL, so that
// the callers may be parallel too.
func forEachCredsServer(t *testing.T, fn func(t *testing.T, s *credsServer)) {
	for i, start := range credsServers(t) {
		t.Run([]string{"postgres", "mysql"}[i], func(t *testing.T) {
			if i == 0 {
				parallelServers(t)
			} else {
				credsMySQL.Lock()
				t.Cleanup(credsMySQL.Unlock) // after the users are dropped
			}
			fn(t, start(t))
		})
	}
}

// credsMySQL is held by a credentials test while it uses its users on the
// shared MySQL server.
var credsMySQL sync.Mutex

func openAdmin(t *testing.T, url string) *sql.DB {
	t.Helper()
	db, err := Open(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// testProvider is a CredentialsFunc whose password the test sets, per
// server when it wants, and which records the servers it is asked for.
type testProvider struct {
	mu       sync.Mutex
	password string
	per      map[string]string // server → password, over password
	err      map[string]error  // server → error
	calls    []string
}

func (p *testProvider) get(_ context.Context, server string) (string, string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, server)
	if err := p.err[server]; err != nil {
		return "", "", err
	}
	if pw, ok := p.per[server]; ok {
		return credsUser, pw, nil
	}
	return credsUser, p.password, nil
}

func (p *testProvider) set(pw string) {
	p.mu.Lock()
	p.password = pw
	p.mu.Unlock()
}

func (p *testProvider) called() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.calls)
}

// observed is what the built-in logging, tracing and insights of a DB
// show: every text in which a password must not be.
type observed struct {
	logs  bytes.Buffer
	spans *tracetest.SpanRecorder
	db    *sql.DB
}

func (o *observed) options() []Option {
	o.spans = tracetest.NewSpanRecorder()
	return []Option{
		WithLogger(slog.New(slog.NewTextHandler(&o.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
		WithTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(o.spans))),
		WithInsights(),
	}
}

// texts returns the log, every span's name, attributes, status and
// events, the insights page and the DB as fmt prints it.
func (o *observed) texts() map[string]string {
	var spans strings.Builder
	for _, s := range o.spans.Ended() {
		fmt.Fprintf(&spans, "%s %v %v\n", s.Name(), s.Attributes(), s.Status())
		for _, e := range s.Events() {
			fmt.Fprintf(&spans, "  %s %v\n", e.Name, e.Attributes)
		}
	}
	page := httptest.NewRecorder()
	Insights(o.db).Handler().ServeHTTP(page, httptest.NewRequest("GET", "/", nil))
	return map[string]string{"log": o.logs.String(), "spans": spans.String(), "insights page": page.Body.String(),
		"printed DB": fmt.Sprintf("%v %+v %#v", o.db, o.db, o.db)}
}

// checkLoginError checks the error of a new connection made with a wrong
// password: it names the server and the user, reaches the driver's error,
// and shows no password, in its message or %+v.
func checkLoginError(t *testing.T, s *credsServer, err error, passwords ...string) {
	t.Helper()
	if err == nil {
		t.Fatal("a new connection with the old password succeeded")
	}
	want := fmt.Sprintf("databases: connecting to %s as user %q: ", s.server, credsUser)
	if !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %q; want it to start %q", err, want)
	}
	if !s.loginRefused(err) {
		t.Errorf("error %v (%T) does not reach the driver's refused login", err, err)
	}
	for _, pw := range passwords {
		for _, text := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
			if strings.Contains(text, pw) {
				t.Errorf("error shows password %q: %s", pw, text)
			}
		}
	}
}

// TestCredentialsRotate opens a DB whose password comes from a provider or
// from password_file, rotates the password on the server and at the
// source, and checks that a connection open before the rotation keeps
// working without asking again, a new one uses the new password, and the
// old password then fails with an error that names the server and user
// only; no password shows in the log, spans or insights page.
func TestCredentialsRotate(t *testing.T) {
	t.Parallel()
	forEachCredsServer(t, func(t *testing.T, s *credsServer) {
		for _, source := range []string{"provider", "password_file"} {
			t.Run(source, func(t *testing.T) {
				s.rotate(t, "pw1")
				p := &testProvider{password: "pw1"}
				file := filepath.Join(t.TempDir(), "password")
				setPassword := p.set
				u := s.url("")
				var o observed
				opts := o.options()
				if source == "provider" {
					opts = append(opts, WithCredentials(p.get))
				} else {
					setPassword = func(pw string) {
						if err := os.WriteFile(file, []byte(pw+"\n"), 0o600); err != nil {
							t.Fatal(err)
						}
					}
					u += "&password_file=" + url.QueryEscape(file)
				}
				setPassword("pw1")
				db, err := Open(u, opts...)
				if err != nil {
					t.Fatal(err)
				}
				defer db.Close()
				o.db = db
				ctx := context.Background()
				before, err := db.Conn(ctx)
				if err != nil {
					t.Fatal(err)
				}
				defer before.Close()
				checkUser(t, before)

				s.rotate(t, "pw2")
				setPassword("pw2")
				calls := len(p.called())
				checkUser(t, before) // open before the rotation: still works
				if source == "provider" && len(p.called()) != calls {
					t.Errorf("the provider was asked again for an open connection: %q", p.called())
				}
				after, err := db.Conn(ctx) // a new connection, since before is held
				if err != nil {
					t.Fatalf("a new connection with the new password: %v", err)
				}
				checkUser(t, after)
				if source == "provider" {
					if got := p.called(); len(got) != calls+1 || got[len(got)-1] != s.server {
						t.Errorf("provider calls %q; want one more, for %s", got, s.server)
					}
				}

				setPassword("pw1") // the old password, after the rotation
				_, err = db.Conn(ctx)
				checkLoginError(t, s, err, "pw1", "pw2")
				after.Close()
				before.Close()
				db.Close()
				for where, text := range o.texts() {
					for _, pw := range []string{"pw1", "pw2"} {
						if strings.Contains(text, pw) {
							t.Errorf("the %s shows password %q:\n%s", where, pw, text)
						}
					}
				}
				if !strings.Contains(o.logs.String(), s.server) {
					t.Errorf("the log does not name the server of the failed connection:\n%s", o.logs.String())
				}
			})
		}
	})
}

// checkUser checks that the connection works and is credsUser's.
func checkUser(t *testing.T, c *sql.Conn) {
	t.Helper()
	var user string
	if err := c.QueryRowContext(context.Background(), "SELECT CURRENT_USER").Scan(&user); err != nil {
		t.Fatal(err)
	}
	if user, _, _ = strings.Cut(user, "@"); user != credsUser {
		t.Errorf("connected as %q; want %q", user, credsUser)
	}
}

// TestCredentialsProviderError: an error of the provider fails the
// connection, wrapped (errors.Is), naming the server, with the password it
// quotes masked everywhere it shows.
func TestCredentialsProviderError(t *testing.T) {
	t.Parallel()
	sentinel := errors.New("token service unavailable")
	forEachCredsServer(t, func(t *testing.T, s *credsServer) {
		p := &testProvider{password: "pw1"}
		var o observed
		db, err := Open(s.url(""), append(o.options(), WithCredentials(p.get))...)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		o.db = db
		if err := db.Ping(); err != nil {
			t.Fatal(err)
		}
		p.mu.Lock()
		p.err = map[string]error{s.server: fmt.Errorf("refreshing token pw1: %w", sentinel)}
		p.mu.Unlock()
		c, err := db.Conn(context.Background()) // the idle one
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_, err = db.Conn(context.Background())
		want := fmt.Sprintf("databases: getting credentials for %s as user %q: refreshing token ***: token service unavailable", s.server, credsUser)
		if err == nil || err.Error() != want || !errors.Is(err, sentinel) {
			t.Fatalf("error %v; want %q wrapping the provider's", err, want)
		}
		if text := fmt.Sprintf("%+v", err); strings.Contains(text, "pw1") {
			t.Errorf("%%+v shows the password: %s", text)
		}
		c.Close()
		db.Close()
		for where, text := range o.texts() {
			if strings.Contains(text, "pw1") {
				t.Errorf("the %s shows the password:\n%s", where, text)
			}
			if (where == "log" || where == "spans") && !strings.Contains(text, "refreshing token ***") {
				t.Errorf("the %s does not show the masked error:\n%s", where, text)
			}
		}
	})
}

// TestCredentialsHostList: a host list whose first host's credentials fail
// (a wrong password, or an error of the provider) connects to the second,
// each asked for with its own server name; a password_file, the same for
// every host, stops at the first refused login, as a URL's password does.
// The two hosts are two addresses of one server.
func TestCredentialsHostList(t *testing.T) {
	t.Parallel()
	forEachCredsServer(t, func(t *testing.T, s *credsServer) {
		first, second := s.server, "localhost:"+s.port
		for _, tt := range []struct {
			name string
			set  func(p *testProvider)
		}{
			{"wrong password", func(p *testProvider) { p.per = map[string]string{first: "wrong"} }},
			{"provider error", func(p *testProvider) { p.err = map[string]error{first: errors.New("no token")} }},
		} {
			t.Run(tt.name, func(t *testing.T) {
				p := &testProvider{password: "pw1"}
				tt.set(p)
				u := strings.Replace(s.url(""), first, first+","+second, 1)
				var reached []string
				db, err := Open(u, WithCredentials(p.get), WithMiddleware(middleware.Func(func(ctx context.Context, call *middleware.Call, next middleware.Handler) error {
					err := next(ctx, call)
					if call.Op == middleware.OpConnect {
						reached = append(reached, call.ServerAddress)
					}
					return err
				})))
				if err != nil {
					t.Fatal(err)
				}
				defer db.Close()
				if err := db.Ping(); err != nil {
					t.Fatalf("the second host was not taken: %v", err)
				}
				if got, want := p.called(), []string{first, second}; !slices.Equal(got, want) {
					t.Errorf("provider calls %q; want %q", got, want)
				}
				if !slices.Equal(reached, []string{"localhost"}) {
					t.Errorf("connections reached %q; want [localhost]", reached)
				}
			})
		}
		// password_file is the same for every host: a login the first
		// refuses, the list does not try on the next.
		t.Run("password_file refused", func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "password")
			if err := os.WriteFile(file, []byte("wrong"), 0o600); err != nil {
				t.Fatal(err)
			}
			u := strings.Replace(s.url(""), first, first+","+second, 1) + "&password_file=" + url.QueryEscape(file)
			db, err := Open(u)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			err = db.Ping()
			if err == nil || !strings.Contains(err.Error(), first+": ") || strings.Contains(err.Error(), second+": ") || !s.loginRefused(err) {
				t.Errorf("error %v; want the refused login of %s alone", err, first)
			}
		})
	})
}

// TestCredentialsReplica: a replica's connection gets its own call, with
// the replica's server name. The replica is the primary server under
// another name.
func TestCredentialsReplica(t *testing.T) {
	t.Parallel()
	forEachCredsServer(t, func(t *testing.T, s *credsServer) {
		replica := "localhost:" + s.port
		p := &testProvider{password: "pw1", per: map[string]string{}}
		u := s.url("") + "&replica_fallback=error&replicas=" + replica
		db, err := Open(u, WithCredentials(p.get))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if err := db.Ping(); err != nil {
			t.Fatal(err)
		}
		var one int
		if err := db.QueryRowContext(ReadReplica(context.Background()), "SELECT 1").Scan(&one); err != nil {
			t.Fatalf("a read on the replica: %v", err)
		}
		if got, want := p.called(), []string{s.server, replica}; !slices.Equal(got, want) {
			t.Errorf("provider calls %q; want %q", got, want)
		}
	})
}

func execSQL(t *testing.T, db *sql.DB, query string) {
	t.Helper()
	if _, err := db.Exec(query); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// TestCredentialsDocExample: the token cache docs/credentials.md shows is
// the code of example_credentials_test.go, byte for byte, so the copy
// people take is the one ExampleWithCredentials runs.
func TestCredentialsDocExample(t *testing.T) {
	doc, err := os.ReadFile("docs/credentials.md")
	if err != nil {
		t.Fatal(err)
	}
	example, err := os.ReadFile("example_credentials_test.go")
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, m := range regexp.MustCompile("(?s)```go\n(.*?)```").FindAllStringSubmatch(string(doc), -1) {
		if strings.Contains(m[1], "type tokenCache struct") {
			if found || !strings.Contains(string(example), m[1]) {
				t.Fatalf("docs/credentials.md's token cache is not the code of example_credentials_test.go:\n%s", m[1])
			}
			found = true
		}
	}
	if !found {
		t.Fatal("docs/credentials.md shows no token cache")
	}
}
