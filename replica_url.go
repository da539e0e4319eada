package databases

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

// replicaOptions are what a URL says about read replicas.
type replicaOptions struct {
	hosts []string // replicas=, each "host:port" as given
	addrs []replicaAddr
	dsns  []string // the DSN of each of addrs, built with the primary's
	// primaries is the host part of the primary's URL, which no replica
	// may name.
	primaries string

	readYourWrites bool          // read_your_writes, true unless set false
	ryWGiven       bool          // read_your_writes was given
	maxWait        time.Duration // max_replica_wait; 0: not given
	maxLag         time.Duration // max_replica_lag; 0: no limit
	fallbackError  bool          // replica_fallback=error
}

// replicaAddr is the host and port of a replica: a server, as a host of
// the URL is (url_hosts.go).
type replicaAddr = server

// wait returns max_replica_wait or its default.
func (o *replicaOptions) wait() time.Duration {
	if o.maxWait > 0 {
		return o.maxWait
	}
	return defaultReplicaWait
}

// ryw reports whether read_your_writes is on (the default).
func (o *replicaOptions) ryw() bool { return !o.ryWGiven || o.readYourWrites }

// setReplicas reads the replicas option: host:port entries separated by
// commas, each a server that replicates the primary.
func setReplicas(p *urlParse, v string) error {
	if p.cfg.dialect == dialectSQLite {
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
			port = defaultPort(p.cfg.dialect)
		}
		p.cfg.replicas.hosts = append(p.cfg.replicas.hosts, entry)
		p.cfg.replicas.addrs = append(p.cfg.replicas.addrs, replicaAddr{host, port})
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
	p.cfg.replicas.readYourWrites, p.cfg.replicas.ryWGiven = b, true
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
	p.cfg.replicas.maxWait = d
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
	p.cfg.replicas.maxLag = d
	return nil
}

// setReplicaFallback reads replica_fallback.
func setReplicaFallback(p *urlParse, v string) error {
	if err := noReplicasOnSQLite(p); err != nil {
		return err
	}
	switch v {
	case "primary":
		p.cfg.replicas.fallbackError = false
	case "error":
		p.cfg.replicas.fallbackError = true
	default:
		return fmt.Errorf("%q is not primary or error", v)
	}
	return nil
}

func noReplicasOnSQLite(p *urlParse) error {
	if p.cfg.dialect == dialectSQLite {
		return fmt.Errorf("SQLite has no replicas")
	}
	return nil
}

// defaultPort is the port a server of the dialect listens on by default.
func defaultPort(d *dialect) int {
	if d == dialectMySQL {
		return 3306
	}
	return 5432
}

// replicaDSNs builds the DSN of each replica with dsn, which returns the
// DSN of the primary's URL with its host part replaced, after refusing a
// replica that is one of primaries (the host part of the URL, split at
// commas).
func (p *urlParse) replicaDSNs(primaries string, dsn func(hostPart string) string) error {
	ro := &p.cfg.replicas
	ro.primaries = primaries
	for i, a := range ro.addrs {
		if err := notPrimary(p.cfg.dialect, primaries, a); err != nil {
			return fmt.Errorf("option replicas: entry %d %q: %w", i+1, ro.hosts[i], err)
		}
		ro.dsns = append(ro.dsns, dsn(a.String()))
	}
	return nil
}

// notPrimary refuses a replica address that is one of the primary's hosts.
func notPrimary(d *dialect, primaries string, a replicaAddr) error {
	for hp := range strings.SplitSeq(primaries, ",") {
		host, port, err := splitHostPort(hp)
		if err != nil || hp == "" {
			continue
		}
		if port == 0 {
			port = defaultPort(d)
		}
		if strings.EqualFold(host, a.host) && port == a.port {
			return fmt.Errorf("is the primary %s itself; a replica must be another server", a)
		}
	}
	return nil
}

// replicaFromURL reads a replica URL given to WithReplicas: it must select
// the primary's backend and real driver and name another server. creds
// tells whether the DB takes its passwords from WithCredentials or the
// primary's password_file, which then apply to the replica too: a password
// in the replica's URL would be a second source, so it is refused, and so
// is a password_file of the replica's own, which is not read.
func replicaFromURL(primary *config, raw string, creds bool) (replicaAddr, string, error) {
	cfg, err := parseURL(raw)
	if err != nil {
		return replicaAddr{}, "", fmt.Errorf("databases.WithReplicas: %w", err)
	}
	if cfg.dialect != primary.dialect || cfg.driverName != primary.driverName {
		return replicaAddr{}, "", fmt.Errorf("databases.WithReplicas: replica %q is %s through %q; the primary is %s through %q", cfg.redacted, cfg.dialect, cfg.driverName, primary.dialect, primary.driverName)
	}
	if cfg.host == "" {
		return replicaAddr{}, "", fmt.Errorf("databases.WithReplicas: replica %q names no host", cfg.redacted)
	}
	if len(cfg.replicas.addrs) > 0 {
		return replicaAddr{}, "", fmt.Errorf("databases.WithReplicas: replica %q has replicas of its own", cfg.redacted)
	}
	if cfg.passwordFile != "" {
		return replicaAddr{}, "", fmt.Errorf("databases.WithReplicas: replica %q: option password_file: a replica takes the primary's credentials (WithCredentials or the primary's password_file); give password_file in the primary's URL", cfg.redacted)
	}
	if creds && cfg.hasPassword {
		return replicaAddr{}, "", fmt.Errorf("databases.WithReplicas: replica %q gives a password, and the DB takes its passwords from WithCredentials or password_file; give one or the other", cfg.redacted)
	}
	a := replicaAddr{cfg.host, cfg.port}
	if a.port == 0 {
		a.port = defaultPort(cfg.dialect)
	}
	if err := notPrimary(primary.dialect, primary.replicas.primaries, a); err != nil {
		return replicaAddr{}, "", fmt.Errorf("databases.WithReplicas: replica %q %w", cfg.redacted, err)
	}
	return a, cfg.dsn, nil
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
