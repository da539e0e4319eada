package databases

// Credentials that change while a DB is open: a provider given with
// WithCredentials, or a file named by the URL option password_file. They
// are asked at each new connection to each server (the primary, every host
// of a list, every replica), never for connections already open, so that a
// short-lived token or a rotated secret reaches new connections without
// flushing the pool. The real drivers' BeforeConnect hooks (pgx's
// stdlib.OptionBeforeConnect, go-sql-driver's mysql.BeforeConnect) put the
// user and password into the configuration of that one connection. Errors
// name the server and the user and never the password, even when the
// provider's own error quotes it.

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/go-databases/databases/internal/dsn"
)

// CredentialsFunc returns the user and password of a new connection to
// server, the host:port it connects to (for a Unix socket, the socket's
// path), as the URL, its host list or its replicas name it. An empty user
// keeps the URL's. It is called for every new connection, from several
// goroutines at once: a provider that fetches a token should cache it until
// shortly before it expires (docs/credentials.md).
type CredentialsFunc func(ctx context.Context, server string) (user, password string, err error)

// WithCredentials asks f for the user and password of each new connection
// to each server, instead of taking a fixed password from the URL: for
// tokens that expire (AWS RDS IAM, Cloud SQL IAM) and secrets that rotate
// (Vault). Connections already open are kept. The URL must give no
// password and no password_file; SQLite has no credentials, so there it is
// an error. An error of f fails that connection attempt, wrapped (errors.Is
// reaches it) with the server and user named and every password f gave
// masked; a host list then tries its next host.
func WithCredentials(f CredentialsFunc) Option {
	return func(o *options) { o.credentials = f }
}

// credentials are where a connector's new connections get their user and
// password: the provider of WithCredentials, or else the URL's
// password_file. A nil *credentials is the URL's own.
type credentials struct {
	provider CredentialsFunc
	file     string

	// given holds, per server, the last password the provider gave, which
	// its later errors could quote (a token it failed to refresh). It is
	// reached only through pointers, which fmt prints as addresses.
	mu    sync.Mutex
	given map[string]string
}

// newCredentials returns the credentials of cfg and provider, nil when
// there are none, or an error when they cannot apply: SQLite, a driver
// without a BeforeConnect hook, or a password given twice.
func newCredentials(cfg *dsn.Config, provider CredentialsFunc) (*credentials, error) {
	if provider == nil && cfg.PasswordFile == "" {
		return nil, nil
	}
	fail := func(format string, args ...any) error {
		return fmt.Errorf("databases: bad URL %q: databases.WithCredentials: "+format, append([]any{cfg.Redacted}, args...)...)
	}
	switch {
	case backendOf(cfg.Dialect).inProcess():
		return nil, fail("SQLite has no user or password; it opens a file")
	case cfg.DriverName != cfg.Dialect.DefaultDriver:
		return nil, fmt.Errorf("databases: bad URL %q: credentials (WithCredentials, password_file) need the driver %q, whose BeforeConnect hook sets them per connection; the URL selects %q", cfg.Redacted, cfg.Dialect.DefaultDriver, cfg.DriverName)
	case provider != nil && cfg.PasswordFile != "":
		return nil, fail("the URL also gives option password_file; give one or the other")
	case provider != nil && cfg.HasPassword:
		return nil, fail("the URL also gives a password; give one or the other")
	}
	return &credentials{provider: provider, file: cfg.PasswordFile, given: map[string]string{}}, nil
}

// get returns the user and password of a new connection to server; user
// is the URL's, which the provider may replace.
func (cr *credentials) get(ctx context.Context, server, user string) (string, string, error) {
	if cr.provider == nil {
		pw, err := readPasswordFile(cr.file)
		if err != nil {
			return user, "", &credentialsError{op: "reading the password for", server: server, user: user, msg: err.Error(), err: err}
		}
		return user, pw, nil
	}
	u, pw, err := cr.provider(ctx, server)
	if u == "" {
		u = user
	}
	if err != nil {
		return u, "", &credentialsError{op: "getting credentials for", server: server, user: u, msg: cr.redact(err.Error(), pw), err: err}
	}
	cr.mu.Lock()
	cr.given[server] = pw
	cr.mu.Unlock()
	return u, pw, nil
}

// redact masks in msg the password pw and every password the provider
// gave before, as written and as Go quotes or a URL escapes it.
func (cr *credentials) redact(msg, pw string) string {
	secrets := []string{pw}
	cr.mu.Lock()
	for _, s := range cr.given {
		secrets = append(secrets, s)
	}
	cr.mu.Unlock()
	// Longest first: a password that is part of another must not mask
	// that one's part and leave the rest showing.
	slices.SortFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	for _, s := range secrets {
		if s == "" {
			continue
		}
		q := strconv.Quote(s)
		for _, form := range []string{s, q[1 : len(q)-1], url.QueryEscape(s), url.PathEscape(s)} {
			msg = strings.ReplaceAll(msg, form, dsn.Mask)
		}
	}
	return msg
}

// readPasswordFile reads a password_file: its content without a final
// newline ("\n" or "\r\n"). An empty file is an error: a secret not yet
// mounted, rather than an empty password.
func readPasswordFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("option password_file: %w", err)
	}
	s := string(b)
	if t, ok := strings.CutSuffix(s, "\n"); ok {
		s = strings.TrimSuffix(t, "\r")
	}
	if s == "" {
		return "", fmt.Errorf("option password_file: %s is empty", path)
	}
	return s, nil
}

// credentialsError is the error of a new connection made with
// credentials: getting them failed, or the server refused or did not
// answer the connection made with them. It names the server and the user;
// msg is the message of err with the password masked. errors.Is and
// errors.As reach err.
type credentialsError struct {
	op           string // what failed, before the server
	server, user string
	msg          string
	err          error
}

func (e *credentialsError) Error() string {
	user := ""
	if e.user != "" {
		user = " as user " + strconv.Quote(e.user)
	}
	return "databases: " + e.op + " " + e.server + user + ": " + e.msg
}

func (e *credentialsError) Unwrap() error { return e.err }

// loginKey is the context key under which credConnector hands the user and
// password of one connection to the real driver's BeforeConnect hook.
type loginKey struct{}

type login struct{ user, password string }

// errNoLogin is what a BeforeConnect hook returns when it was called
// without a credConnector, which would be a bug of this package.
var errNoLogin = errors.New("databases: a connection with credentials was opened without them")

// credConnector is the real connector of one server when the connector
// has credentials: it gets them for each new connection and hands them to
// raw, whose BeforeConnect hook sets them.
type credConnector struct {
	creds  *credentials
	server string           // as the provider is given it
	user   string           // the URL's user, when the provider names none
	raw    driver.Connector // the real driver's, with the hook
}

var _ driver.Connector = (*credConnector)(nil)

// Connect opens a connection to the server with the credentials of this
// moment; an error names the server and user and masks the password.
func (c *credConnector) Connect(ctx context.Context) (driver.Conn, error) {
	user, pw, err := c.creds.get(ctx, c.server, c.user)
	if err != nil {
		return nil, err
	}
	raw, err := c.raw.Connect(context.WithValue(ctx, loginKey{}, &login{user: user, password: pw}))
	if err != nil {
		return nil, &credentialsError{op: "connecting to", server: c.server, user: user, msg: c.creds.redact(err.Error(), pw), err: err}
	}
	return raw, nil
}

// Driver returns the real driver.
func (c *credConnector) Driver() driver.Driver { return c.raw.Driver() }

// pgConnector returns pgx's connector for pc: with credentials, one that
// gets them at each new connection.
func (cr *credentials) pgConnector(pc pgx.ConnConfig) driver.Connector {
	if cr == nil {
		return boxConnector(stdlib.GetConnector(pc))
	}
	port := strconv.Itoa(int(pc.Port))
	server := net.JoinHostPort(pc.Host, port)
	if strings.HasPrefix(pc.Host, "/") {
		server = filepath.Join(pc.Host, ".s.PGSQL."+port) // the socket pgconn dials
	}
	raw := stdlib.GetConnector(pc, stdlib.OptionBeforeConnect(func(ctx context.Context, cc *pgx.ConnConfig) error {
		l, ok := ctx.Value(loginKey{}).(*login)
		if !ok {
			return errNoLogin
		}
		cc.User, cc.Password = l.user, l.password
		return nil
	}))
	return &credConnector{creds: cr, server: server, user: pc.User, raw: boxConnector(raw)}
}

// mysqlConnector returns go-sql-driver's connector for dsn, which gets the
// credentials at each new connection.
func (cr *credentials) mysqlConnector(cfg *dsn.Config, dsn string) (driver.Connector, error) {
	mc, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, cfg.DriverError(err)
	}
	err = mc.Apply(mysql.BeforeConnect(func(ctx context.Context, c *mysql.Config) error {
		l, ok := ctx.Value(loginKey{}).(*login)
		if !ok {
			return errNoLogin
		}
		c.User, c.Passwd = l.user, l.password
		return nil
	}))
	if err != nil {
		return nil, cfg.DriverError(err)
	}
	raw, err := mysql.NewConnector(mc)
	if err != nil {
		return nil, cfg.DriverError(err)
	}
	return &credConnector{creds: cr, server: mc.Addr, user: mc.User, raw: raw}, nil
}
