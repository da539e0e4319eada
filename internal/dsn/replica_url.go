package dsn

// The URL options of read replicas (replicas, read_your_writes,
// max_replica_wait, max_replica_lag, replica_fallback) and the DSN of each
// replica: the primary's DSN with the host replaced, built by the dialect's
// DSN builder in dsn.go. Replicas given in code (WithReplicas) are checked
// here too.

import (
	"fmt"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
)

// defaultReplicaWait is how long a replica read waits, by default, for the
// replica to replay the writes it must see before it runs on the primary.
const defaultReplicaWait = time.Second

// ReplicaOptions are what a URL says about read replicas.
type ReplicaOptions struct {
	hosts []string // replicas=, each "host:port" as given
	Addrs []ReplicaAddr
	DSNs  []string // the DSN of each of addrs, built with the primary's
	// primaries is the host part of the primary's URL, which no replica
	// may name.
	primaries string

	readYourWrites bool          // read_your_writes, true unless set false
	ryWGiven       bool          // read_your_writes was given
	maxWait        time.Duration // max_replica_wait; 0: not given
	MaxLag         time.Duration // max_replica_lag; 0: no limit
	FallbackError  bool          // replica_fallback=error
}

// ReplicaAddr is the host and port of a replica: a server, as a host of
// the URL is (url_hosts.go).
type ReplicaAddr = Server

// Wait returns max_replica_wait or its default.
func (o *ReplicaOptions) Wait() time.Duration {
	if o.maxWait > 0 {
		return o.maxWait
	}
	return defaultReplicaWait
}

// ReadYourWrites reports whether read_your_writes is on (the default).
func (o *ReplicaOptions) ReadYourWrites() bool { return !o.ryWGiven || o.readYourWrites }

// setReplicas reads the replicas option: host:port entries separated by
// commas, each a server that replicates the primary.
func setReplicas(p *urlParse, v string) error {
	if p.cfg.Dialect == SQLite {
		return fmt.Errorf("SQLite has no server to replicate")
	}
	for i, entry := range strings.Split(v, ",") {
		if strings.TrimSpace(entry) == "" {
			return fmt.Errorf("entry %d is empty; want host:port,host:port", i+1)
		}
		if strings.Contains(entry, "@") {
			// Quoted nowhere: what stands before the @ may be a password.
			return fmt.Errorf("entry %d names a user or password (an @); replicas take the primary's user and password, so give host:port", i+1)
		}
		host, port, err := splitHostPort(entry)
		if err != nil {
			return fmt.Errorf("entry %d: %w", i+1, err)
		}
		if host == "" {
			return fmt.Errorf("entry %d %q has no host", i+1, entry)
		}
		if port == 0 {
			port = defaultPort(p.cfg.Dialect)
		}
		p.cfg.Replicas.hosts = append(p.cfg.Replicas.hosts, entry)
		p.cfg.Replicas.Addrs = append(p.cfg.Replicas.Addrs, ReplicaAddr{host, port})
	}
	return nil
}

// setReadYourWrites reads read_your_writes: whether a replica read waits for
// the writes this DB acknowledged.
func setReadYourWrites(p *urlParse, v string) error {
	if err := noReplicasOnSQLite(p); err != nil {
		return err
	}
	b, err := parseBool(v)
	if err != nil {
		return err
	}
	p.cfg.Replicas.readYourWrites, p.cfg.Replicas.ryWGiven = b, true
	return nil
}

// setMaxReplicaWait reads max_replica_wait.
func setMaxReplicaWait(p *urlParse, v string) error {
	if err := noReplicasOnSQLite(p); err != nil {
		return err
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return fmt.Errorf("%q is not a duration such as 500ms", v)
	}
	p.cfg.Replicas.maxWait = d
	return nil
}

// setMaxReplicaLag reads max_replica_lag.
func setMaxReplicaLag(p *urlParse, v string) error {
	if err := noReplicasOnSQLite(p); err != nil {
		return err
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return fmt.Errorf("%q is not a duration such as 5s", v)
	}
	p.cfg.Replicas.MaxLag = d
	return nil
}

// setReplicaFallback reads replica_fallback.
func setReplicaFallback(p *urlParse, v string) error {
	if err := noReplicasOnSQLite(p); err != nil {
		return err
	}
	switch v {
	case "primary":
		p.cfg.Replicas.FallbackError = false
	case "error":
		p.cfg.Replicas.FallbackError = true
	default:
		return fmt.Errorf("%q is not primary or error", v)
	}
	return nil
}

func noReplicasOnSQLite(p *urlParse) error {
	if p.cfg.Dialect == SQLite {
		return fmt.Errorf("SQLite has no replicas")
	}
	return nil
}

// defaultPort is the port a server of the dialect listens on by default.
func defaultPort(d *Dialect) int {
	if d == MySQL {
		return 3306
	}
	return 5432
}

// replicaDSNs builds the DSN of each replica with dsn, which returns the
// DSN of the primary's URL with its host part replaced, after refusing a
// replica that is one of primaries (the host part of the URL, split at
// commas).
func (p *urlParse) replicaDSNs(primaries string, dsn func(hostPart string) string) error {
	ro := &p.cfg.Replicas
	ro.primaries = primaries
	for i, a := range ro.Addrs {
		if err := notPrimary(p.cfg.Dialect, primaries, a); err != nil {
			return fmt.Errorf("option replicas: entry %d %q: %w", i+1, ro.hosts[i], err)
		}
		ro.DSNs = append(ro.DSNs, dsn(a.String()))
	}
	return nil
}

// notPrimary refuses a replica address that is one of the primary's hosts.
func notPrimary(d *Dialect, primaries string, a ReplicaAddr) error {
	for hp := range strings.SplitSeq(primaries, ",") {
		host, port, err := splitHostPort(hp)
		if err != nil || hp == "" {
			continue
		}
		if port == 0 {
			port = defaultPort(d)
		}
		if strings.EqualFold(host, a.Host) && port == a.Port {
			return fmt.Errorf("is the primary %s itself; a replica must be another server", a)
		}
	}
	return nil
}

// ReplicaFromURL reads a replica URL given to WithReplicas: it must select
// the primary's backend and real driver and name another server. creds
// tells whether the DB takes its passwords from WithCredentials or the
// primary's password_file, which then apply to the replica too: a password
// in the replica's URL would be a second source, so it is refused, and so
// is a password_file of the replica's own, which is not read.
func ReplicaFromURL(primary *Config, raw string, creds bool) (ReplicaAddr, string, error) {
	cfg, err := Parse(raw)
	if err != nil {
		return ReplicaAddr{}, "", fmt.Errorf("databases.WithReplicas: %w", err)
	}
	if cfg.Dialect != primary.Dialect || cfg.DriverName != primary.DriverName {
		return ReplicaAddr{}, "", fmt.Errorf("databases.WithReplicas: replica %q is %s through %q; the primary is %s through %q", cfg.Redacted, cfg.Dialect, cfg.DriverName, primary.Dialect, primary.DriverName)
	}
	if cfg.Host == "" {
		return ReplicaAddr{}, "", fmt.Errorf("databases.WithReplicas: replica %q names no host", cfg.Redacted)
	}
	if len(cfg.Replicas.Addrs) > 0 {
		return ReplicaAddr{}, "", fmt.Errorf("databases.WithReplicas: replica %q has replicas of its own", cfg.Redacted)
	}
	if cfg.PasswordFile != "" {
		return ReplicaAddr{}, "", fmt.Errorf("databases.WithReplicas: replica %q: option password_file: a replica takes the primary's credentials (WithCredentials or the primary's password_file); give password_file in the primary's URL", cfg.Redacted)
	}
	if creds && cfg.HasPassword {
		return ReplicaAddr{}, "", fmt.Errorf("databases.WithReplicas: replica %q gives a password, and the DB takes its passwords from WithCredentials or password_file; give one or the other", cfg.Redacted)
	}
	a := ReplicaAddr{cfg.Host, cfg.Port}
	if a.Port == 0 {
		a.Port = defaultPort(cfg.Dialect)
	}
	if err := notPrimary(primary.Dialect, primary.Replicas.primaries, a); err != nil {
		return ReplicaAddr{}, "", fmt.Errorf("databases.WithReplicas: replica %q %w", cfg.Redacted, err)
	}
	return a, cfg.DSN, nil
}

// mysqlReplicaDSN returns the go-sql-driver DSN dsn with its address
// replaced by the replica's, over TCP.
func mysqlReplicaDSN(dsn, hostPort string) string {
	mc, err := mysql.ParseDSN(dsn)
	if err != nil {
		// dsn was built by FormatDSN; it parses.
		panic("databases: the DSN built for MySQL does not parse: " + err.Error())
	}
	mc.Net, mc.Addr = "tcp", hostPort
	return mc.FormatDSN()
}
