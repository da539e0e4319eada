package dsn

// The DSN each real driver receives, built per dialect from a parsed URL,
// as go-sql-driver/mysql's dsn.go builds its own: modernc's file: URI with
// the default PRAGMAs (and the memdb VFS for :memory:), pgx's URL with the
// user info escaped as pgx reads it, go-sql-driver's DSN from its Config.
// Each builder also refuses the package options its dialect cannot honour.
// DriverOptions lists the options each real driver reads.

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/go-databases/databases/sqlscan"
)

// memoryDBs numbers shared in-memory SQLite databases within the process.
var memoryDBs atomic.Uint64

// sqliteShorthands are modernc's options that set a PRAGMA of
// sqliteDefaults. modernc runs _busy_timeout before every _pragma, so the
// default must give way to it, not only to a _pragma of its own.
var sqliteShorthands = map[string]string{
	"_busy_timeout": "busy_timeout", "_timeout": "busy_timeout",
	"_foreign_keys": "foreign_keys", "_fk": "foreign_keys",
	"_journal_mode": "journal_mode", "_journal": "journal_mode",
}

// sqliteDefaults are the PRAGMAs every SQLite connection gets unless the URL
// sets the same PRAGMA through _pragma or one of sqliteShorthands.
var sqliteDefaults = []struct {
	pragma, value string
	fileOnly      bool
}{
	{"busy_timeout", "5000", false},
	{"foreign_keys", "1", false},
	{"journal_mode", "WAL", true},
}

func (p *urlParse) sqlite(rawPath string) error {
	if p.ssl != nil {
		return fmt.Errorf("option ssl: SQLite has no network connection to encrypt")
	}
	if p.unixSocket != "" {
		return fmt.Errorf("option unix_socket: SQLite has no server socket")
	}
	if err := p.refuseHostOptions("SQLite has no server hosts"); err != nil {
		return err
	}
	if len(rawPath) < 2 {
		return fmt.Errorf("missing database file; use sqlite:///:memory:, sqlite:///relative.db or sqlite:////abs/path.db")
	}
	file, err := url.PathUnescape(rawPath[1:])
	if err != nil {
		return fmt.Errorf("invalid percent-escape in file path")
	}
	cfg := p.cfg
	cfg.Database = file
	cfg.Memory = file == ":memory:"

	set := map[string]string{} // PRAGMA name: the value the URL sets
	for _, pair := range p.passthru {
		k, v, _ := strings.Cut(pair, "=")
		k, _ = url.QueryUnescape(k)
		v, _ = url.QueryUnescape(v)
		if pragma, ok := sqliteShorthands[k]; ok {
			set[pragma] = v
			continue
		}
		if k == "cache" && strings.EqualFold(v, "shared") {
			cfg.SharedCache = true
		}
		if k != "_pragma" {
			continue
		}
		name, value, _ := strings.Cut(v, "(")
		if n, val, ok := strings.Cut(name, "="); ok {
			name, value = n, val
		}
		set[strings.ToLower(strings.TrimSpace(name))] = strings.TrimSpace(strings.TrimSuffix(value, ")"))
	}
	// In a shared cache SQLite locks tables and finds deadlocks among the
	// connections that wait (unlock-notify): a deferred BEGIN cannot
	// deadlock unseen there, while BEGIN IMMEDIATE would wait for every
	// write transaction of the DB, one that waits for this connection too.
	cfg.TxLock = "immediate"
	if cfg.SharedCache {
		cfg.TxLock = "deferred"
	}
	if p.txlock != "" {
		cfg.TxLock = p.txlock
	}
	for _, d := range sqliteDefaults {
		if v, ok := set[d.pragma]; ok || (d.fileOnly && cfg.Memory) {
			if d.pragma == "busy_timeout" {
				cfg.BusyTimeout = sqliteMillis(v)
			}
			continue
		}
		if d.pragma == "busy_timeout" {
			cfg.BusyTimeout = sqliteMillis(d.value)
		}
		p.passthru = append(p.passthru, "_pragma="+url.QueryEscape(d.pragma+"("+d.value+")"))
	}

	if cfg.Memory {
		// The memdb VFS gives one database per name that every connection
		// of the process can open, with ordinary locking (no shared cache).
		name := fmt.Sprintf("/databases-memory-%d", memoryDBs.Add(1))
		p.passthru = append([]string{"vfs=memdb"}, p.passthru...)
		cfg.DSN = "file:" + name + p.query()
		return nil
	}
	cfg.DSN = "file:" + escapeFilePath(file) + p.query()
	return nil
}

// sqliteMillis reads a busy_timeout in milliseconds; modernc refuses one
// that is not a number when it connects.
func sqliteMillis(v string) time.Duration {
	n, _ := strconv.Atoi(v)
	return time.Duration(max(n, 0)) * time.Millisecond
}

// escapeFilePath escapes the bytes a SQLite file: URI path cannot hold.
func escapeFilePath(path string) string {
	r := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23")
	return r.Replace(path)
}

// UserInfo writes the user info of a DSN from its decoded parts, escaped
// so that the real driver reads the same parts: pgx, like libpq, ends the
// user info at the first '@', where this package takes the last.
func UserInfo(given bool, user, password string, hasPassword bool) string {
	if !given {
		return ""
	}
	s := escapeUserInfo(user)
	if hasPassword {
		s += ":" + escapeUserInfo(password)
	}
	return s + "@"
}

// escapeUserInfo percent-encodes every byte of s but letters, digits and
// -._~!$&'()*+,;= (RFC 3986 unreserved and sub-delims).
func escapeUserInfo(s string) string {
	const upperhex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._~!$&'()*+,;=", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(upperhex[c>>4])
		b.WriteByte(upperhex[c&15])
	}
	return b.String()
}

func (p *urlParse) postgres(userInfo, hostPart, rawPath string) error {
	cfg := p.cfg
	if p.txlock != "" {
		return fmt.Errorf("option txlock: only SQLite has transaction lock modes")
	}
	if p.unixSocket != "" {
		return fmt.Errorf("option unix_socket: use ?host=/path/to/socket/dir for PostgreSQL")
	}
	if hostPart != "" {
		hosts, err := parseHosts(hostPart, 5432)
		if err != nil {
			return err
		}
		cfg.Host, cfg.Port, _ = splitHostPort(strings.Split(hostPart, ",")[0])
		cfg.Hosts = hosts
	}
	if key, ok := p.seen["load_balance_hosts"]; ok && cfg.DriverName != Postgres.DefaultDriver {
		return fmt.Errorf("option %s: databases picks the hosts of a PostgreSQL list only through pgx, not the driver %q", key, cfg.DriverName)
	}
	p.passHostOptions()
	if db, err := url.PathUnescape(strings.TrimPrefix(rawPath, "/")); err != nil {
		return fmt.Errorf("invalid percent-escape in database name")
	} else {
		cfg.Database = db
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
	q := p.query()
	if rawPath == "" && q != "" {
		rawPath = "/" // pgx looks for the user info up to the first '/'
	}
	cfg.DSN = "postgres://" + userInfo + hostPart + rawPath + q
	return p.replicaDSNs(hostPart, func(h string) string { return "postgres://" + userInfo + h + rawPath + q })
}

func (p *urlParse) mysql(user, password, hostPart, rawPath string) error {
	cfg := p.cfg
	if p.txlock != "" {
		return fmt.Errorf("option txlock: only SQLite has transaction lock modes")
	}
	mc := mysql.NewConfig()
	mc.User, mc.Passwd = user, password
	var addrs []string // the hosts as written, for the DSN of each
	switch {
	case p.unixSocket != "" && hostPart != "":
		return fmt.Errorf("option unix_socket: the URL also names host %q", hostPart)
	case p.unixSocket != "":
		mc.Net, mc.Addr = "unix", p.unixSocket
	case hostPart != "":
		hosts, err := parseHosts(hostPart, 3306)
		if err != nil {
			return err
		}
		addrs = strings.Split(hostPart, ",")
		cfg.Host, cfg.Port, _ = splitHostPort(addrs[0])
		cfg.Hosts = hosts
		mc.Net, mc.Addr = "tcp", addrs[0]
	}
	db, err := url.PathUnescape(strings.TrimPrefix(rawPath, "/"))
	if err != nil {
		return fmt.Errorf("invalid percent-escape in database name")
	}
	if strings.Contains(db, "/") {
		return fmt.Errorf("database name %q contains '/'", db)
	}
	mc.DBName, cfg.Database = db, db
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
		if cfg.MySQLMode, err = sqlscan.ParseMySQLMode(v); err != nil {
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
	// DATE, DATETIME and TIMESTAMP scan into time.Time, as on PostgreSQL
	// and SQLite; parseTime=false in the URL keeps go-sql-driver's []byte.
	if !p.hasParam("parseTime") {
		p.passthru = append(p.passthru, "parseTime=true")
	}
	q := p.query()
	dsnOf := func() string {
		dsn := mc.FormatDSN()
		if q != "" && strings.Contains(dsn, "?") {
			return dsn + "&" + q[1:]
		}
		return dsn + q
	}
	cfg.DSN = dsnOf()
	for _, addr := range addrs {
		mc.Addr = addr
		cfg.HostDSNs = append(cfg.HostDSNs, dsnOf())
	}
	return p.replicaDSNs(hostPart, func(h string) string { return mysqlReplicaDSN(cfg.DSN, h) })
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

// DriverOptions are the query options the default real driver of each
// dialect reads: the one list of them, which checkUnknown holds a misspelt
// name against. Those of modernc.org/sqlite (and SQLite's own URI
// parameters) are all of them, since SQLite ignores any other. pgx's are
// the libpq connection parameters it reads (pgconn's notRuntimeParams, and
// pgx's three statement options); go-sql-driver's are its DSN parameters
// (its dsn.go). Both send any other name to the server, as a run-time
// parameter or a session variable.
var DriverOptions = map[*Dialect][]string{
	SQLite: {
		"_pragma", "_busy_timeout", "_timeout", "_foreign_keys", "_fk", "_journal_mode", "_journal",
		"_synchronous", "_sync", "_auto_vacuum", "_vacuum", "_query_only", "_time_format",
		"_time_integer_format", "_inttotime", "_texttotime", "_timezone", "_dqs", "_defensive", "_error_rc",
		"vfs", "mode", "cache", "immutable", "nolock", "psow", "modeof",
	},
	Postgres: {
		"host", "port", "database", "dbname", "user", "password", "passfile", "connect_timeout",
		"sslmode", "sslkey", "sslcert", "sslcertmode", "sslrootcert", "sslnegotiation", "sslpassword",
		"sslsni", "krbspn", "krbsrvname", "target_session_attrs", "service", "servicefile",
		"min_protocol_version", "max_protocol_version", "channel_binding", "require_auth",
		"load_balance_hosts", "statement_cache_capacity", "description_cache_capacity",
		"default_query_exec_mode", "application_name", "options", "search_path",
	},
	MySQL: {
		"allowAllFiles", "allowCleartextPasswords", "allowFallbackToPlaintext", "allowNativePasswords",
		"allowOldPasswords", "checkConnLiveness", "clientFoundRows", "charset", "collation",
		"columnsWithAlias", "compress", "interpolateParams", "loc", "multiStatements", "parseTime",
		"timeTruncate", "readTimeout", "rejectReadOnly", "serverPubKey", "strict", "timeout", "tls",
		"writeTimeout", "maxAllowedPacket", "connectionAttributes",
	},
}

// serverSettings are server settings (PostgreSQL run-time parameters,
// MySQL and MariaDB system variables, in lower case) that checkUnknown
// passes to the server on any backend although they look like a misspelt
// driver parameter: every setting within its edit distance of a name in
// DriverOptions (walked from PostgreSQL 15's pg_settings and MariaDB
// 10.11's SHOW VARIABLES; TestDriverParamTypoServerSettings walks the
// server it runs against), and settings URLs commonly carry.
var serverSettings = map[*Dialect][]string{
	Postgres: {"port", "application_name", "search_path", "timezone", "datestyle", "client_encoding",
		"statement_timeout", "lock_timeout", "idle_in_transaction_session_timeout", "work_mem"},
	MySQL: {"max_allowed_packet", "wait_timeout", "sql_mode", "time_zone", "autocommit",
		"transaction_isolation", "innodb_lock_wait_timeout", "net_read_timeout", "net_write_timeout",
		"max_execution_time"},
}
