package databases

import (
	"fmt"
	"log/slog"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/go-databases/databases/sqlscan"
)

// config is a parsed database URL: the backend, the DSN its real driver
// receives, and the options the wrapper owns.
type config struct {
	dialect    *dialect
	driverName string // name the real driver is registered under in database/sql
	dsn        string // connection string handed to the real driver
	redacted   string // the URL with its password masked, for messages

	user        string
	password    string // decoded, only to scrub it from the real driver's messages
	rawPassword string // as written in the URL
	host        string // first host, without port; "" for SQLite
	port        int    // 0 when the URL gives none
	database    string // database name, or the SQLite file path
	memory      bool   // sqlite:///:memory:

	native        bool   // placeholders=native: send queries as written
	forceRollback bool   // force_rollback=true: the test mode
	txlock        string // SQLite: BEGIN mode of read-write transactions
	pool          poolOptions

	logLevel *slog.Level   // log=LEVEL: log calls to slog.Default() from this level; nil: off
	slow     time.Duration // slow=DURATION: warn about calls at least this long
	trace    bool          // trace=on: trace with the global OpenTelemetry providers

	mysqlMode sqlscan.Mode // MySQL: the lexing flags of the sql_mode the URL sets
}

// poolOptions are the database/sql pool settings a URL can carry; nil means
// "not given". Only Open can apply them.
type poolOptions struct {
	maxOpen, maxIdle       *int
	maxLifetime, maxIdleTm *time.Duration
}

func (p poolOptions) given() []string {
	var names []string
	if p.maxOpen != nil {
		names = append(names, "max_open_conns")
	}
	if p.maxIdle != nil {
		names = append(names, "max_idle_conns")
	}
	if p.maxLifetime != nil {
		names = append(names, "conn_max_lifetime")
	}
	if p.maxIdleTm != nil {
		names = append(names, "conn_max_idle_time")
	}
	return names
}

// urlOption is one option the wrapper reads from the URL query instead of
// passing it to the real driver.
type urlOption struct {
	canonical string // the name an alias stands for
	apply     func(p *urlParse, value string) error
}

// urlOptions is the table of wrapper options. Everything else in the query
// string goes to the real driver unchanged.
var urlOptions = map[string]urlOption{
	"placeholders":       {apply: setPlaceholders},
	"txlock":             {apply: setTxLock},
	"_txlock":            {canonical: "txlock", apply: setTxLock},
	"ssl":                {apply: setSSL},
	"max_open_conns":     {apply: setInt(func(p *poolOptions) **int { return &p.maxOpen })},
	"max_size":           {canonical: "max_open_conns", apply: setInt(func(p *poolOptions) **int { return &p.maxOpen })},
	"max_idle_conns":     {apply: setInt(func(p *poolOptions) **int { return &p.maxIdle })},
	"min_size":           {canonical: "max_idle_conns", apply: setInt(func(p *poolOptions) **int { return &p.maxIdle })},
	"conn_max_lifetime":  {apply: setDuration(func(p *poolOptions) **time.Duration { return &p.maxLifetime })},
	"conn_max_idle_time": {apply: setDuration(func(p *poolOptions) **time.Duration { return &p.maxIdleTm })},
	"unix_socket":        {apply: setUnixSocket},
	"log":                {apply: setLog},
	"slow":               {apply: setSlow},
	"trace":              {apply: setTrace},
	"force_rollback":     {apply: setForceRollback},
}

// urlParse carries the state of one parse.
type urlParse struct {
	cfg        *config
	passthru   []string // raw key=value pairs for the real driver, in order
	seen       map[string]string
	txlock     string
	ssl        *bool
	unixSocket string
}

// memoryDBs numbers shared in-memory SQLite databases within the process.
var memoryDBs atomic.Uint64

// parseURL parses a database URL. Errors name the problem and show the URL
// only with its password masked.
func parseURL(raw string) (*config, error) {
	cfg := &config{redacted: RedactURL(raw)}
	fail := func(format string, args ...any) error {
		return fmt.Errorf("databases: bad URL %q: %s", cfg.redacted, fmt.Sprintf(format, args...))
	}
	if strings.TrimSpace(raw) == "" {
		return nil, fmt.Errorf("databases: empty URL; want e.g. sqlite:///app.db, postgres://user@host/db or mysql://user@host/db")
	}
	schemeEnd := strings.Index(raw, "://")
	if schemeEnd <= 0 {
		// Without a scheme there is no telling a password from a host, so
		// the input is not quoted.
		return nil, fmt.Errorf("databases: bad URL: missing scheme://; want sqlite://, postgres:// or mysql://")
	}
	scheme := strings.ToLower(raw[:schemeEnd])
	base, driverName, hasDriver := strings.Cut(scheme, "+")
	d, ok := schemes[base]
	if !ok {
		return nil, fail("unknown scheme %q; known: %s", base, strings.Join(knownSchemes(), ", "))
	}
	cfg.dialect = d
	cfg.driverName = d.defaultDriver
	if hasDriver {
		if driverName == "" {
			return nil, fail("empty driver name after %q", base+"+")
		}
		if alias, ok := driverAliases[driverName]; ok {
			driverName = alias
		}
		cfg.driverName = driverName
	}

	rest := raw[schemeEnd+3:]
	if i := strings.IndexByte(rest, '#'); i >= 0 {
		return nil, fail("unexpected '#' at offset %d; percent-encode it as %%23", schemeEnd+3+i)
	}
	rest, rawQuery, _ := strings.Cut(rest, "?")
	authority, rawPath := rest, ""
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		authority, rawPath = rest[:i], rest[i:]
	}
	rawUser, hostPart := "", authority
	if i := strings.LastIndexByte(authority, '@'); i >= 0 {
		rawUser, hostPart = authority[:i], authority[i+1:]
	}
	if rawUser != "" {
		u, pw, hasPW := strings.Cut(rawUser, ":")
		var err error
		if cfg.user, err = url.PathUnescape(u); err != nil {
			return nil, fail("invalid percent-escape in user name")
		}
		if hasPW {
			if cfg.password, err = url.PathUnescape(pw); err != nil {
				return nil, fail("invalid percent-escape in password")
			}
			cfg.rawPassword = pw
		}
	}

	p := &urlParse{cfg: cfg, seen: map[string]string{}}
	if err := p.parseQuery(rawQuery); err != nil {
		return nil, fail("%v", err)
	}

	var err error
	switch d {
	case dialectSQLite:
		err = p.sqlite(authority, rawPath)
	case dialectPostgres:
		err = p.postgres(authority, hostPart, rawPath)
	case dialectMySQL:
		err = p.mysql(rawUser, hostPart, rawPath)
	}
	if err != nil {
		return nil, fail("%v", err)
	}
	return cfg, nil
}

func knownSchemes() []string {
	names := make([]string, 0, len(schemes))
	for s := range schemes {
		names = append(names, s)
	}
	sort.Strings(names)
	return names
}

// parseQuery takes the wrapper's options out of the query string and keeps
// every other pair, byte for byte, for the real driver.
func (p *urlParse) parseQuery(rawQuery string) error {
	if rawQuery == "" {
		return nil
	}
	for pair := range strings.SplitSeq(rawQuery, "&") {
		if pair == "" {
			continue
		}
		rawKey, rawValue, _ := strings.Cut(pair, "=")
		key, err := url.QueryUnescape(rawKey)
		if err != nil {
			return fmt.Errorf("invalid percent-escape in option name %q", rawKey)
		}
		value, err := url.QueryUnescape(rawValue)
		if err != nil {
			return fmt.Errorf("option %s: invalid percent-escape", key)
		}
		opt, ok := urlOptions[key]
		if !ok {
			p.passthru = append(p.passthru, pair)
			continue
		}
		name := key
		if opt.canonical != "" {
			name = opt.canonical
		}
		if prev, dup := p.seen[name]; dup {
			return fmt.Errorf("option %s given twice (also as %s)", key, prev)
		}
		p.seen[name] = key
		if err := opt.apply(p, value); err != nil {
			return fmt.Errorf("option %s: %w", key, err)
		}
	}
	return nil
}

// hasParam reports whether the driver-bound query string sets key.
func (p *urlParse) hasParam(key string) bool {
	for _, pair := range p.passthru {
		k, _, _ := strings.Cut(pair, "=")
		if k, _ := url.QueryUnescape(k); k == key {
			return true
		}
	}
	return false
}

func (p *urlParse) query() string {
	if len(p.passthru) == 0 {
		return ""
	}
	return "?" + strings.Join(p.passthru, "&")
}

// sqliteDefaults are the PRAGMAs every SQLite connection gets unless the URL
// sets the same PRAGMA through _pragma.
var sqliteDefaults = []struct {
	pragma, value string
	fileOnly      bool
}{
	{"busy_timeout", "5000", false},
	{"foreign_keys", "1", false},
	{"journal_mode", "WAL", true},
}

func (p *urlParse) sqlite(authority, rawPath string) error {
	if authority != "" {
		host := authority[strings.LastIndexByte(authority, '@')+1:]
		return fmt.Errorf("a SQLite URL has no host or user (got %q); use sqlite:///:memory:, sqlite:///relative.db or sqlite:////abs/path.db", host)
	}
	if p.ssl != nil {
		return fmt.Errorf("option ssl: SQLite has no network connection to encrypt")
	}
	if p.unixSocket != "" {
		return fmt.Errorf("option unix_socket: SQLite has no server socket")
	}
	if len(rawPath) < 2 {
		return fmt.Errorf("missing database file; use sqlite:///:memory:, sqlite:///relative.db or sqlite:////abs/path.db")
	}
	file, err := url.PathUnescape(rawPath[1:])
	if err != nil {
		return fmt.Errorf("invalid percent-escape in file path")
	}
	cfg := p.cfg
	cfg.database = file
	cfg.memory = file == ":memory:"

	set := map[string]bool{}
	for _, pair := range p.passthru {
		k, v, _ := strings.Cut(pair, "=")
		if k != "_pragma" {
			continue
		}
		v, _ = url.QueryUnescape(v)
		name, _, _ := strings.Cut(v, "(")
		name, _, _ = strings.Cut(name, "=")
		set[strings.ToLower(strings.TrimSpace(name))] = true
	}
	cfg.txlock = "immediate"
	if p.txlock != "" {
		cfg.txlock = p.txlock
	}
	for _, d := range sqliteDefaults {
		if set[d.pragma] || (d.fileOnly && cfg.memory) {
			continue
		}
		p.passthru = append(p.passthru, "_pragma="+url.QueryEscape(d.pragma+"("+d.value+")"))
	}

	if cfg.memory {
		// The memdb VFS gives one database per name that every connection
		// of the process can open, with ordinary locking (no shared cache).
		name := fmt.Sprintf("/databases-memory-%d", memoryDBs.Add(1))
		p.passthru = append([]string{"vfs=memdb"}, p.passthru...)
		cfg.dsn = "file:" + name + p.query()
		return nil
	}
	cfg.dsn = "file:" + escapeFilePath(file) + p.query()
	return nil
}

// escapeFilePath escapes the bytes a SQLite file: URI path cannot hold.
func escapeFilePath(path string) string {
	r := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23")
	return r.Replace(path)
}

func (p *urlParse) postgres(authority, hostPart, rawPath string) error {
	cfg := p.cfg
	if p.txlock != "" {
		return fmt.Errorf("option txlock: only SQLite has transaction lock modes")
	}
	if p.unixSocket != "" {
		return fmt.Errorf("option unix_socket: use ?host=/path/to/socket/dir for PostgreSQL")
	}
	if hostPart != "" {
		for i, h := range strings.Split(hostPart, ",") {
			host, port, err := splitHostPort(h)
			if err != nil {
				return err
			}
			if i == 0 {
				cfg.host, cfg.port = host, port
			}
		}
	}
	if db, err := url.PathUnescape(strings.TrimPrefix(rawPath, "/")); err != nil {
		return fmt.Errorf("invalid percent-escape in database name")
	} else {
		cfg.database = db
	}
	if p.ssl != nil {
		if p.hasParam("sslmode") {
			return fmt.Errorf("options ssl and sslmode both given")
		}
		mode := "disable"
		if *p.ssl {
			mode = "require"
		}
		p.passthru = append(p.passthru, "sslmode="+mode)
	}
	cfg.dsn = "postgres://" + authority + rawPath + p.query()
	return nil
}

func (p *urlParse) mysql(rawUser, hostPart, rawPath string) error {
	cfg := p.cfg
	if p.txlock != "" {
		return fmt.Errorf("option txlock: only SQLite has transaction lock modes")
	}
	mc := mysql.NewConfig()
	if rawUser != "" {
		u, pw, _ := strings.Cut(rawUser, ":")
		mc.User, _ = url.PathUnescape(u)
		mc.Passwd, _ = url.PathUnescape(pw)
	}
	if strings.Contains(hostPart, ",") {
		return fmt.Errorf("MySQL takes one host, got %d", strings.Count(hostPart, ",")+1)
	}
	switch {
	case p.unixSocket != "" && hostPart != "":
		return fmt.Errorf("option unix_socket: the URL also names host %q", hostPart)
	case p.unixSocket != "":
		mc.Net, mc.Addr = "unix", p.unixSocket
	case hostPart != "":
		host, port, err := splitHostPort(hostPart)
		if err != nil {
			return err
		}
		cfg.host, cfg.port = host, port
		mc.Net, mc.Addr = "tcp", hostPart
	}
	db, err := url.PathUnescape(strings.TrimPrefix(rawPath, "/"))
	if err != nil {
		return fmt.Errorf("invalid percent-escape in database name")
	}
	if strings.Contains(db, "/") {
		return fmt.Errorf("database name %q contains '/'", db)
	}
	mc.DBName, cfg.database = db, db
	// go-sql-driver sets sql_mode for the session; the rewriter lexes by it.
	sqlMode := ""
	for _, pair := range p.passthru {
		k, v, _ := strings.Cut(pair, "=")
		if k, _ = url.QueryUnescape(k); !strings.EqualFold(k, "sql_mode") {
			continue
		}
		if sqlMode != "" {
			return fmt.Errorf("option %s given twice (also as %s)", k, sqlMode)
		}
		sqlMode = k
		v, _ = url.QueryUnescape(v)
		if cfg.mysqlMode, err = sqlscan.ParseMySQLMode(v); err != nil {
			return fmt.Errorf("option %s: %w", k, err)
		}
	}
	if p.ssl != nil {
		if p.hasParam("tls") {
			return fmt.Errorf("options ssl and tls both given")
		}
		p.passthru = append(p.passthru, "tls="+strconv.FormatBool(*p.ssl))
	}
	// Every statement outside a transaction commits on its own.
	if p.hasParam("autocommit") {
		return fmt.Errorf("option autocommit: databases keeps MySQL in autocommit outside transactions; use BeginTx or Transact")
	}
	p.passthru = append(p.passthru, "autocommit=1")
	dsn := mc.FormatDSN()
	if q := p.query(); q != "" {
		if strings.Contains(dsn, "?") {
			q = "&" + q[1:]
		}
		dsn += q
	}
	cfg.dsn = dsn
	return nil
}

// splitHostPort splits "host", "host:port", "[v6]" or "[v6]:port" and
// checks the port.
func splitHostPort(hp string) (host string, port int, err error) {
	host, rawPort := hp, ""
	if strings.HasPrefix(hp, "[") {
		end := strings.IndexByte(hp, ']')
		if end < 0 {
			return "", 0, fmt.Errorf("unclosed '[' in host %q", hp)
		}
		host, rawPort = hp[1:end], hp[end+1:]
		if rawPort != "" && rawPort[0] != ':' {
			return "", 0, fmt.Errorf("unexpected %q after IPv6 host [%s]", rawPort, host)
		}
		rawPort = strings.TrimPrefix(rawPort, ":")
	} else if i := strings.LastIndexByte(hp, ':'); i >= 0 {
		host, rawPort = hp[:i], hp[i+1:]
		if strings.Contains(host, ":") {
			return "", 0, fmt.Errorf("IPv6 host %q must be written in brackets, e.g. [::1]:5432", hp)
		}
	}
	if rawPort != "" || strings.HasSuffix(hp, ":") {
		n, err := strconv.Atoi(rawPort)
		if err != nil || n < 1 || n > 65535 || rawPort[0] == '+' {
			return "", 0, fmt.Errorf("bad port %q in host %q; want 1-65535", rawPort, hp)
		}
		port = n
	}
	host, err = url.PathUnescape(host)
	if err != nil {
		return "", 0, fmt.Errorf("invalid percent-escape in host %q", hp)
	}
	return host, port, nil
}

func setPlaceholders(p *urlParse, v string) error {
	switch v {
	case "portable":
		p.cfg.native = false
	case "native":
		p.cfg.native = true
	default:
		return fmt.Errorf("%q is not portable or native", v)
	}
	return nil
}

func setTxLock(p *urlParse, v string) error {
	switch strings.ToLower(v) {
	case "deferred", "immediate", "exclusive":
		p.txlock = strings.ToLower(v)
		return nil
	}
	return fmt.Errorf("%q is not deferred, immediate or exclusive", v)
}

func setSSL(p *urlParse, v string) error {
	b, err := strconv.ParseBool(v)
	if err != nil {
		return fmt.Errorf("%q is not true or false", v)
	}
	p.ssl = &b
	return nil
}

func setForceRollback(p *urlParse, v string) error {
	b, err := strconv.ParseBool(v)
	if err != nil {
		return fmt.Errorf("%q is not true or false", v)
	}
	p.cfg.forceRollback = b
	return nil
}

func setUnixSocket(p *urlParse, v string) error {
	if !strings.HasPrefix(v, "/") {
		return fmt.Errorf("%q is not an absolute socket path", v)
	}
	p.unixSocket = v
	return nil
}

func setInt(field func(*poolOptions) **int) func(*urlParse, string) error {
	return func(p *urlParse, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return fmt.Errorf("%q is not a whole number >= 0", v)
		}
		*field(&p.cfg.pool) = &n
		return nil
	}
}

func setDuration(field func(*poolOptions) **time.Duration) func(*urlParse, string) error {
	return func(p *urlParse, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return fmt.Errorf("%q is not a duration such as 30s or 5m", v)
		}
		*field(&p.cfg.pool) = &d
		return nil
	}
}

// RedactURL returns the database URL with any password replaced by "***",
// in the user info and in password= query options. It works on malformed
// URLs too, so that error messages can quote them safely.
func RedactURL(raw string) string {
	s := raw
	if i := strings.Index(s, "://"); i >= 0 {
		start := i + 3
		end := len(s)
		if j := strings.IndexAny(s[start:], "/?"); j >= 0 {
			end = start + j
		}
		if at := strings.LastIndexByte(s[start:end], '@'); at >= 0 {
			userinfo := s[start : start+at]
			if c := strings.IndexByte(userinfo, ':'); c >= 0 {
				s = s[:start+c+1] + "***" + s[start+at:]
			}
		}
	} else if at := strings.LastIndexByte(s, '@'); at >= 0 {
		// A driver-native DSN such as user:pass@tcp(host)/db.
		if c := strings.IndexByte(s[:at], ':'); c >= 0 {
			s = s[:c+1] + "***" + s[at:]
		}
	}
	q := strings.IndexByte(s, '?')
	if q < 0 {
		return s
	}
	pairs := strings.Split(s[q+1:], "&")
	for i, pair := range pairs {
		k, _, hasValue := strings.Cut(pair, "=")
		switch strings.ToLower(k) {
		case "password", "passwd", "pass", "sslpassword":
			if hasValue {
				pairs[i] = k + "=***"
			}
		}
	}
	return s[:q+1] + strings.Join(pairs, "&")
}
