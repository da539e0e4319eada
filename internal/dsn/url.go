// Package dsn reads a database URL into a Config: the dialect and real
// driver its scheme selects (dialect.go), the package's own options with
// their table and setters (url.go; host lists in url_hosts.go, replicas in
// replica_url.go, password_file in credentials_url.go), the DSN each real
// driver receives (dsn.go), URLWithOption's edit (urloption.go), and the
// masking of credentials in URLs and in the real driver's messages
// (redact_url.go). It knows nothing of connections, the connector or the
// middleware, which package databases builds on a Config; its exported
// names are for that package alone (it is internal).
package dsn

import (
	"database/sql"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-databases/databases/sqlscan"
)

// Config is a parsed database URL: the backend, the DSN its real driver
// receives, and the options the wrapper owns.
type Config struct {
	Dialect    *Dialect
	DriverName string   // name the real driver is registered under in database/sql
	DSN        string   // connection string handed to the real driver
	Redacted   string   // the URL with its password masked, for messages
	secrets    []string // what redactMessage scrubs from the real driver's messages
	Ambiguous  bool     // an '@' after the host: messages quote no part of the URL

	user     string
	Host     string // first host, without port; "" for SQLite
	Port     int    // 0 when the URL gives none
	Database string // database name, or the SQLite file path
	Memory   bool   // sqlite:///:memory:

	Native        bool   // placeholders=native: send queries as written
	ForceRollback bool   // force_rollback=true: the test mode
	StmtCache     *int   // stmt_cache=N: prepared statements kept per connection; nil: the dialect's default
	TxLock        string // SQLite: BEGIN mode of read-write transactions
	Pool          poolOptions

	BusyTimeout time.Duration // SQLite: how long a statement waits for another connection's lock
	SharedCache bool          // SQLite: cache=shared, whose lock waits busy_timeout does not bound

	TransactAttempts int // transact_attempts=N: runs of a Transact; 0: DefaultTransactAttempts

	LogLevel *slog.Level   // log=LEVEL: log calls to slog.Default() from this level; nil: off
	Slow     time.Duration // slow=DURATION: warn about calls at least this long
	Trace    bool          // trace=on: trace with the global OpenTelemetry providers
	Literals bool          // sanitize=off: log and trace query text with its literals
	Insights bool          // insights=on: aggregate queries and report N+1 (middleware/insights)

	HasPassword   bool          // the URL gives a password (user:password@, or pgx's password=)
	PasswordFile  string        // password_file=PATH: the password of each new connection (credentials.go)
	LeakThreshold time.Duration // leak_threshold=DURATION: report rows and transactions held longer (holds.go)
	LeakSet       bool          // the URL gives leak_threshold, off included: it wins over WithLeakThreshold

	MySQLMode sqlscan.Mode // MySQL: the lexing flags of the sql_mode the URL sets

	// The hosts of the URL and how to pick one of them (hosts.go).
	Hosts    []Server // every host of the URL, in order; nil for SQLite and sockets
	HostDSNs []string // MySQL: the DSN of each host
	Pick     HostPick
	Replicas ReplicaOptions // read replicas (replica_url.go)
}

// poolOptions are the database/sql pool settings a URL can carry; nil means
// "not given". Only Open can apply them.
type poolOptions struct {
	MaxOpen, MaxIdle       *int
	maxLifetime, maxIdleTm *time.Duration
}

// Given names the pool options the URL gave, for the error that says they
// need Open.
func (p poolOptions) Given() []string {
	var names []string
	if p.MaxOpen != nil {
		names = append(names, "max_open_conns")
	}
	if p.MaxIdle != nil {
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

// Apply sets the pool options the URL gave on db.
func (p poolOptions) Apply(db *sql.DB) {
	if p.MaxOpen != nil {
		db.SetMaxOpenConns(*p.MaxOpen)
	}
	if p.MaxIdle != nil {
		db.SetMaxIdleConns(*p.MaxIdle)
	}
	if p.maxLifetime != nil {
		db.SetConnMaxLifetime(*p.maxLifetime)
	}
	if p.maxIdleTm != nil {
		db.SetConnMaxIdleTime(*p.maxIdleTm)
	}
}

// urlOption is one option the wrapper reads from the URL query instead of
// passing it to the real driver.
type urlOption struct {
	Canonical string // the name an alias stands for
	apply     func(p *urlParse, value string) error
}

// Options is the table of wrapper options. Everything else in the query
// string goes to the real driver unchanged.
var Options = map[string]urlOption{
	"placeholders":       {apply: setPlaceholders},
	"txlock":             {apply: setTxLock},
	"_txlock":            {Canonical: "txlock", apply: setTxLock},
	"ssl":                {apply: setSSL},
	"max_open_conns":     {apply: setInt(func(p *poolOptions) **int { return &p.MaxOpen })},
	"max_size":           {Canonical: "max_open_conns", apply: setInt(func(p *poolOptions) **int { return &p.MaxOpen })},
	"max_idle_conns":     {apply: setInt(func(p *poolOptions) **int { return &p.MaxIdle })},
	"min_size":           {Canonical: "max_idle_conns", apply: setInt(func(p *poolOptions) **int { return &p.MaxIdle })},
	"conn_max_lifetime":  {apply: setDuration(func(p *poolOptions) **time.Duration { return &p.maxLifetime })},
	"conn_max_idle_time": {apply: setDuration(func(p *poolOptions) **time.Duration { return &p.maxIdleTm })},
	"unix_socket":        {apply: setUnixSocket},
	"log":                {apply: setLog},
	"slow":               {apply: setSlow},
	"trace":              {apply: setTrace},
	"sanitize":           {apply: setSanitize},
	"force_rollback":     {apply: setForceRollback},
	"replicas":           {apply: setReplicas},
	"read_your_writes":   {apply: setReadYourWrites},
	"max_replica_wait":   {apply: setMaxReplicaWait},
	"max_replica_lag":    {apply: setMaxReplicaLag},
	"replica_fallback":   {apply: setReplicaFallback},
	"stmt_cache":         {apply: setStmtCache},
	"insights":           {apply: setInsights},
	"password_file":      {apply: setPasswordFile},
	"leak_threshold":     {apply: setLeakThreshold},
	"transact_attempts":  {apply: setTransactAttempts},

	"load_balance_hosts":   {apply: setLoadBalance},
	"target_session_attrs": {apply: setTargetAttrs},
	"connect_timeout":      {apply: setConnectTimeout},
}

// setPlaceholders reads the placeholders option: native sends queries as
// written.
func setPlaceholders(p *urlParse, v string) error {
	switch v {
	case "portable":
		p.cfg.Native = false
	case "native":
		p.cfg.Native = true
	default:
		return fmt.Errorf("%q is not portable or native", v)
	}
	return nil
}

// setTxLock reads the txlock option, SQLite's BEGIN mode; the other dialects
// refuse it when their DSN is built.
func setTxLock(p *urlParse, v string) error {
	switch strings.ToLower(v) {
	case "deferred", "immediate", "exclusive":
		p.txlock = strings.ToLower(v)
		return nil
	}
	return fmt.Errorf("%q is not deferred, immediate or exclusive", v)
}

// setSSL reads the ssl option, which becomes sslmode or tls in the DSN.
func setSSL(p *urlParse, v string) error {
	b, err := parseBool(v)
	if err != nil {
		return err
	}
	p.ssl = &b
	return nil
}

// boolWords is the one vocabulary of every boolean option, in any case.
var boolWords = map[string]bool{
	"true": true, "on": true, "yes": true, "1": true,
	"false": false, "off": false, "no": false, "0": false,
}

// parseBool reads the value of a boolean option.
func parseBool(v string) (bool, error) {
	b, ok := boolWords[strings.ToLower(v)]
	if !ok {
		return false, fmt.Errorf("%q is not a boolean: use true/false, on/off, yes/no or 1/0", v)
	}
	return b, nil
}

// setTransactAttempts reads the transact_attempts option: how many times
// Transact runs a transaction that fails with a retryable error.
func setTransactAttempts(p *urlParse, v string) error {
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return fmt.Errorf("%q is not a number of attempts (1 or more; 1 never retries)", v)
	}
	p.cfg.TransactAttempts = n
	return nil
}

// setForceRollback reads the force_rollback option, the test mode.
func setForceRollback(p *urlParse, v string) error {
	b, err := parseBool(v)
	if err != nil {
		return err
	}
	p.cfg.ForceRollback = b
	return nil
}

// setUnixSocket reads the unix_socket option, MySQL's socket path.
func setUnixSocket(p *urlParse, v string) error {
	if !strings.HasPrefix(v, "/") {
		return fmt.Errorf("%q is not an absolute socket path", v)
	}
	p.unixSocket = v
	return nil
}

// setInt reads a pool option that is a count into the field of
// poolOptions that field returns.
func setInt(field func(*poolOptions) **int) func(*urlParse, string) error {
	return func(p *urlParse, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return fmt.Errorf("%q is not a whole number >= 0", v)
		}
		*field(&p.cfg.Pool) = &n
		return nil
	}
}

// setDuration reads a pool option that is a duration into the field of
// poolOptions that field returns.
func setDuration(field func(*poolOptions) **time.Duration) func(*urlParse, string) error {
	return func(p *urlParse, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return fmt.Errorf("%q is not a duration such as 30s or 5m", v)
		}
		*field(&p.cfg.Pool) = &d
		return nil
	}
}

// setLog reads the log URL option.
func setLog(p *urlParse, v string) error {
	var l slog.Level
	if on, ok := boolWords[strings.ToLower(v)]; ok || strings.EqualFold(v, "none") {
		if !on {
			p.cfg.LogLevel = nil
			return nil
		}
		l = slog.LevelInfo
	} else if err := l.UnmarshalText([]byte(v)); err != nil {
		return fmt.Errorf("%q is not debug, info, warn, error or off", v)
	}
	p.cfg.LogLevel = &l
	return nil
}

// setSlow reads the slow URL option; without log it turns logging on at
// warn, so that slow calls show.
func setSlow(p *urlParse, v string) error {
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return fmt.Errorf("%q is not a duration such as 200ms", v)
	}
	p.cfg.Slow = d
	if p.cfg.LogLevel == nil {
		if _, logGiven := p.seen["log"]; !logGiven {
			l := slog.LevelWarn
			p.cfg.LogLevel = &l
		}
	}
	return nil
}

// setStmtCache reads the stmt_cache option: how many prepared statements
// each connection keeps; 0 turns the cache off.
func setStmtCache(p *urlParse, v string) error {
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return fmt.Errorf("%q is not a number of statements (0 or more)", v)
	}
	p.cfg.StmtCache = &n
	return nil
}

// setSanitize reads the sanitize URL option: off records query text with
// its literals in the logs and spans of the built-in middleware.
func setSanitize(p *urlParse, v string) error {
	on, err := parseBool(v)
	if err != nil {
		return err
	}
	p.cfg.Literals = !on
	return nil
}

// setTrace reads the trace URL option: on traces every call with the
// global OpenTelemetry providers.
func setTrace(p *urlParse, v string) error {
	b, err := parseBool(v)
	if err != nil {
		return err
	}
	p.cfg.Trace = b
	return nil
}

// setInsights reads the insights URL option: on aggregates every query
// and reports N+1 queries with middleware/insights.
func setInsights(p *urlParse, v string) error {
	b, err := parseBool(v)
	if err != nil {
		return err
	}
	p.cfg.Insights = b
	return nil
}

// setLeakThreshold reads the leak_threshold URL option: a duration, or 0
// or off for none (holds.go).
func setLeakThreshold(p *urlParse, v string) error {
	if v == "off" || v == "0" {
		p.cfg.LeakThreshold, p.cfg.LeakSet = 0, true
		return nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return fmt.Errorf("%q is not a duration such as 30s, nor off", v)
	}
	p.cfg.LeakThreshold, p.cfg.LeakSet = d, true
	return nil
}

// urlParse carries the state of one parse.
type urlParse struct {
	cfg        *Config
	passthru   []string // raw key=value pairs for the real driver, in order
	seen       map[string]string
	txlock     string
	ssl        *bool
	unixSocket string
}

// Parse parses a database URL. Errors name the problem and show the URL
// only with its password masked.
func Parse(raw string) (*Config, error) {
	cfg := &Config{Redacted: RedactURL(raw), secrets: secretsOf(raw)}
	fail := func(format string, args ...any) error {
		detail := fmt.Sprintf(format, args...)
		if cfg.Ambiguous {
			detail = withoutQuotes(detail)
		}
		return fmt.Errorf("databases: bad URL %q: %s", cfg.Redacted, detail)
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
	base, _, hasDriver := strings.Cut(scheme, "+")
	// The driver part keeps its case: database/sql looks driver names up
	// case-sensitively, so sqlite+MyLite names a driver registered as
	// "MyLite", not "mylite".
	_, driverName, _ := strings.Cut(raw[:schemeEnd], "+")
	d, ok := Schemes[base]
	if !isName(scheme) {
		// Not quoted: what comes before :// is not a scheme, and could be
		// anything, a password included.
		return nil, fail("what comes before :// is not a scheme; known: %s", strings.Join(knownSchemes(), ", "))
	}
	if !ok {
		return nil, fail("unknown scheme %q; known: %s", base, strings.Join(knownSchemes(), ", "))
	}
	cfg.Dialect = d
	cfg.DriverName = d.DefaultDriver
	if hasDriver {
		if driverName == "" {
			return nil, fail("empty driver name after %q", base+"+")
		}
		if alias, ok := driverAliases[driverName]; ok {
			driverName = alias
		}
		cfg.DriverName = driverName
	}

	rest := raw[schemeEnd+3:]
	if i := strings.IndexByte(rest, '#'); i >= 0 {
		return nil, fail("unexpected '#' at offset %d; percent-encode it as %%23", schemeEnd+3+i)
	}
	if end := strings.IndexAny(rest, "/?"); d != SQLite && end >= 0 && strings.LastIndexByte(rest, '@') > end {
		// The user info ends at the first '/' or '?', and an '@' after
		// it could end a user name or password that has an unescaped '/'
		// or '?' (postgres://app:Zx9/Qp2@db/shop). Such an '@' is an
		// error, with no part of the URL quoted, unless the URL has user
		// info before the first '/' or '?' and the '@' is in an option
		// value (sql_mode=CONCAT(@@sql_mode, ...)); then messages quote
		// nothing either, since RedactURL masks up to that '@'.
		if at := strayAt(rest, end); at >= 0 {
			return nil, fail("unescaped '@' at offset %d, after the host; in a user name or password percent-encode '/', '?', '#' and '@' (%%2F, %%3F, %%23, %%40), elsewhere '@' as %%40", schemeEnd+3+at)
		}
		cfg.Ambiguous = true
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
	if after := raw[schemeEnd+3:]; d == SQLite && (authority != "" || !strings.HasPrefix(after, "/") && strings.Contains(after, "@")) {
		// Checked first and not quoted: it may hold a user name and
		// password, and a password with an unescaped '?' would make the
		// query options quote part of it (sqlite://?x@h, too, has what
		// RedactURL takes for user info).
		return nil, fail("a SQLite URL has no host or user; use sqlite:///:memory:, sqlite:///relative.db or sqlite:////abs/path.db")
	}
	var user, password string
	var hasPassword bool
	if rawUser != "" {
		u, pw, hasPW := strings.Cut(rawUser, ":")
		var err error
		if user, err = url.PathUnescape(u); err != nil {
			return nil, fail("invalid percent-escape in user name")
		}
		if password, err = url.PathUnescape(pw); err != nil {
			return nil, fail("invalid percent-escape in password")
		}
		cfg.user, hasPassword = user, hasPW
	}

	p := &urlParse{cfg: cfg, seen: map[string]string{}}
	if err := p.parseQuery(rawQuery); err != nil {
		return nil, fail("%v", err)
	}
	cfg.HasPassword = hasPassword || p.hasParam("password")
	if err := p.checkPasswordFile(hasPassword); err != nil {
		return nil, fail("%v", err)
	}

	var err error
	switch d {
	case SQLite:
		err = p.sqlite(rawPath)
	case Postgres:
		err = p.postgres(UserInfo(rawUser != "", user, password, hasPassword), hostPart, rawPath)
	case MySQL:
		err = p.mysql(user, password, hostPart, rawPath)
	}
	if err != nil {
		return nil, fail("%v", err)
	}
	return cfg, nil
}

// isName reports whether a lower-cased scheme, with its +driver, is made
// of letters, digits, '+', '-', '.' and '_' only.
func isName(scheme string) bool {
	return !strings.ContainsFunc(scheme, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune("+-._", r))
	})
}

func knownSchemes() []string {
	names := make([]string, 0, len(Schemes))
	for s := range Schemes {
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
			if p.cfg.Ambiguous {
				return fmt.Errorf("invalid percent-escape in the value of an option")
			}
			return fmt.Errorf("option %s: invalid percent-escape", key)
		}
		opt, ok := Options[key]
		if !ok {
			if err := p.checkUnknown(key); err != nil {
				return err
			}
			p.passthru = append(p.passthru, pair)
			continue
		}
		name := key
		if opt.Canonical != "" {
			name = opt.Canonical
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

// strayAt returns the offset in rest (a URL after "://") of an '@' after
// end, the end of the user info and host, that could end the user info:
// any, when there is no user info before end; otherwise one in the path or
// in an option name. It returns -1 when every such '@' is in an option
// value.
func strayAt(rest string, end int) int {
	if strings.IndexByte(rest[:end], '@') < 0 {
		return strings.IndexByte(rest[end:], '@') + end
	}
	path, query, _ := strings.Cut(rest[end:], "?")
	if i := strings.IndexByte(path, '@'); i >= 0 {
		return end + i
	}
	offset := end + len(path) + 1
	for pair := range strings.SplitSeq(query, "&") {
		key, _, _ := strings.Cut(pair, "=")
		if i := strings.IndexByte(key, '@'); i >= 0 {
			return offset + i
		}
		offset += len(pair) + 1
	}
	return -1
}

// withoutQuotes returns msg with every Go-quoted string in it replaced by
// "…".
func withoutQuotes(msg string) string {
	var b strings.Builder
	for i := 0; i < len(msg); i++ {
		if msg[i] == '"' {
			if q, err := strconv.QuotedPrefix(msg[i:]); err == nil {
				b.WriteString(`"…"`)
				i += len(q) - 1
				continue
			}
		}
		b.WriteByte(msg[i])
	}
	return b.String()
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

// checkUnknown refuses a query option that neither the package nor the real
// driver reads and that looks like a misspelling: one or two edits (one for
// names of up to four letters) from an option of the package, or, with the
// dialect's own driver, from one of that driver's parameters
// (DriverOptions), or any unknown name with modernc's leading '_'. pgx and
// go-sql-driver send a name they do not read to the server, as a run-time
// parameter or a system variable: such a name near a driver parameter is
// refused only when it is not a server setting (serverSettings), so that
// sslmod and parseTim fail here and wait_timeout still reaches the server.
// Other names go to the real driver, whose server refuses the ones it does
// not know when connecting.
func (p *urlParse) checkUnknown(key string) error {
	d := p.cfg.Dialect
	ownDriver := p.cfg.DriverName == d.DefaultDriver
	if ownDriver && slices.Contains(DriverOptions[d], key) {
		return nil
	}
	modernc := ownDriver && d == SQLite
	candidates := make([]string, 0, len(Options)+len(DriverOptions[d]))
	for name := range Options {
		candidates = append(candidates, name)
	}
	if ownDriver && !knownElsewhere(key) {
		candidates = append(candidates, DriverOptions[d]...)
	}
	slices.Sort(candidates)
	if best := closestName(key, candidates); best != "" {
		return fmt.Errorf("unknown option %q; did you mean %s?", key, best)
	}
	if modernc && strings.HasPrefix(key, "_") {
		var names []string
		for _, name := range DriverOptions[d] {
			if strings.HasPrefix(name, "_") {
				names = append(names, name)
			}
		}
		return fmt.Errorf("unknown option %q: modernc.org/sqlite reads %s (SQLite ignores any other)", key, strings.Join(names, ", "))
	}
	return nil
}

// knownElsewhere reports whether key is a name some backend knows as it is:
// a parameter of a real driver, or a server setting (in any case). Such a
// name is not a misspelling of a driver parameter, even where it is
// wrong: sql_mode on PostgreSQL is two edits from sslmode, and the server
// is the one to refuse it.
func knownElsewhere(key string) bool {
	lower := strings.ToLower(key)
	for d, names := range DriverOptions {
		if slices.Contains(names, key) || slices.Contains(serverSettings[d], lower) {
			return true
		}
	}
	return false
}

// closestName returns the candidate nearest to key, ignoring case, when it
// is near enough to be what key meant: at most two edits away, one for
// candidates of up to four bytes. It returns "" when none is.
func closestName(key string, candidates []string) string {
	lower := strings.ToLower(key)
	best, bestDist := "", 3
	for _, c := range candidates {
		limit := 2
		if len(c) <= 4 {
			limit = 1
		}
		if d := editDistance(lower, strings.ToLower(c), limit); d <= limit && d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// editDistance returns the optimal string alignment distance between a and
// b (insertions, deletions, substitutions and swaps of two neighbouring
// bytes), or limit+1 when it is more than limit.
func editDistance(a, b string, limit int) int {
	if abs(len(a)-len(b)) > limit {
		return limit + 1
	}
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
			rowMin = min(rowMin, cur[j])
		}
		if rowMin > limit {
			return limit + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
