package databases

// Host lists: a URL may name several servers (mysql://u@h1:3306,h2,h3/db,
// postgres://u@h1,h2:5433/db). Each new connection tries them in order, or
// in a random order with load_balance_hosts=random, and takes the first
// that answers within connect_timeout and fits target_session_attrs, with
// libpq's meaning of both on every backend. A Galera node that is not ready
// to serve is skipped like a dead host. When none fits, the error names
// every host tried and why. The connection remembers the host it reached,
// so that middleware (Call.ServerAddress) names the server of each call.

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/go-databases/databases/internal/dberr"
	"github.com/go-databases/databases/internal/dsn"
)

// hostEntry is one host of a list, with the real connector that reaches it.
type hostEntry struct {
	dsn.Server
	raw driver.Connector
}

// hostList is the real connector of a URL with several hosts, or with
// target_session_attrs or connect_timeout on MySQL: it picks the host of
// each new connection.
type hostList struct {
	entries []hostEntry
	pick    dsn.HostPick
	cfg     *dsn.Config
	// check: ask each server what target_session_attrs and Galera need
	// (with one host and no target there is nothing to ask).
	check bool
	// perServer: credentials come from WithCredentials, per server, so
	// a login one host refuses another may take.
	perServer bool
}

var _ driver.Connector = (*hostList)(nil)

// newMySQLHosts builds the host list of a MySQL URL: one real connector per
// host, from the DSN of each, getting creds at each connection when given.
func newMySQLHosts(cfg *dsn.Config, real driver.Driver, creds *credentials) (*hostList, error) {
	l := &hostList{pick: cfg.Pick, cfg: cfg, check: len(cfg.Hosts) > 1 || cfg.Pick.Target != "", perServer: creds != nil && creds.provider != nil}
	hosts, dsns := cfg.Hosts, cfg.HostDSNs
	if len(hosts) == 0 { // a socket, or go-sql-driver's default host
		hosts, dsns = []dsn.Server{{Host: cfg.Host, Port: cfg.Port}}, []string{cfg.DSN}
	}
	for i, s := range hosts {
		e := hostEntry{Server: s}
		if creds != nil {
			var err error
			if e.raw, err = creds.mysqlConnector(cfg, dsns[i]); err != nil {
				return nil, err
			}
		} else if dc, ok := real.(driver.DriverContext); ok {
			raw, err := dc.OpenConnector(dsns[i])
			if err != nil {
				return nil, cfg.DriverError(err)
			}
			e.raw = boxConnector(raw)
		} else {
			e.raw = &dsnConnector{driver: real, dsn: dsns[i]}
		}
		l.entries = append(l.entries, e)
	}
	return l, nil
}

// newPostgresHosts builds the host list of a PostgreSQL URL from pgx's
// parsed config: one pgx connector per host, each with the TLS and plain
// variants pgx made of that host (sslmode=prefer), and none of pgx's own
// target_session_attrs check, which the list makes itself; each gets
// creds at each connection when given.
func newPostgresHosts(cfg *dsn.Config, pc *pgx.ConnConfig, creds *credentials) *hostList {
	l := &hostList{pick: cfg.Pick, cfg: cfg, check: cfg.Pick.Target != "", perServer: creds != nil && creds.provider != nil}
	all := append([]*pgconn.FallbackConfig{{Host: pc.Host, Port: pc.Port, TLSConfig: pc.TLSConfig}}, pc.Fallbacks...)
	for i := 0; i < len(all); {
		j := i + 1
		for j < len(all) && all[j].Host == all[i].Host && all[j].Port == all[i].Port {
			j++
		}
		c := *pc
		c.Host, c.Port, c.TLSConfig = all[i].Host, all[i].Port, all[i].TLSConfig
		c.Fallbacks = all[i+1 : j]
		c.ValidateConnect = nil
		l.entries = append(l.entries, hostEntry{
			Server: dsn.Server{Host: all[i].Host, Port: int(all[i].Port)},
			raw:    creds.pgConnector(c),
		})
		i = j
	}
	return l
}

// Connect opens a connection to the first host that fits.
func (l *hostList) Connect(ctx context.Context) (driver.Conn, error) {
	raw, _, err := l.connect(ctx)
	return raw, err
}

// Driver returns the real driver.
func (l *hostList) Driver() driver.Driver { return l.entries[0].raw.Driver() }

// connect tries the hosts in order (a random one with
// load_balance_hosts=random) and returns the first connection that fits,
// with the host it reached. prefer-standby keeps the first server that is
// not a standby while it looks further, and takes it when none is.
func (l *hostList) connect(ctx context.Context) (driver.Conn, *dsn.Server, error) {
	order := make([]int, len(l.entries))
	for i := range order {
		order[i] = i
	}
	if l.pick.Random {
		rand.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	}
	var fallback driver.Conn
	var fallbackAt *dsn.Server
	var tried []hostAttempt
	for _, i := range order {
		e := &l.entries[i]
		raw, err := l.try(ctx, e)
		if err == nil {
			if fallback != nil {
				fallback.Close()
			}
			return raw, &e.Server, nil
		}
		var m *mismatch
		if errors.As(err, &m) && l.pick.Target == "prefer-standby" && fallback == nil {
			fallback, fallbackAt = raw, &e.Server
			continue
		}
		if raw != nil {
			raw.Close()
		}
		tried = append(tried, hostAttempt{at: e.Server, err: err})
		if ctx.Err() != nil || dberr.LoginRefused(err) && !l.perServer {
			break // another host would be refused the same way, or the caller gave up
		}
	}
	if fallback != nil {
		return fallback, fallbackAt, nil
	}
	return nil, nil, &hostsError{cfg: l.cfg, target: l.pick.Target, tried: tried}
}

// try connects to one host within connect_timeout and checks that it fits.
// A server that answers but does not fit comes back with a *mismatch error
// and its connection, which the caller closes or keeps.
func (l *hostList) try(ctx context.Context, e *hostEntry) (driver.Conn, error) {
	hctx := ctx
	if l.pick.Timeout > 0 {
		var cancel context.CancelFunc
		hctx, cancel = context.WithTimeout(ctx, l.pick.Timeout)
		defer cancel()
	}
	raw, err := e.raw.Connect(hctx)
	if err == nil && l.check {
		err = l.fits(hctx, raw)
		var m *mismatch
		if err != nil && !errors.As(err, &m) {
			raw.Close()
			raw = nil
		}
	}
	if err != nil && ctx.Err() == nil && hctx.Err() != nil {
		if errors.Is(err, hctx.Err()) {
			err = fmt.Errorf("no answer within connect_timeout=%d: %w", int(l.pick.Timeout/time.Second), err)
		} else {
			err = fmt.Errorf("no answer within connect_timeout=%d (%w): %w", int(l.pick.Timeout/time.Second), hctx.Err(), err)
		}
	}
	return raw, err
}

// mismatch is the error of a server that answered but does not fit
// target_session_attrs.
type mismatch struct{ why string }

func (m *mismatch) Error() string { return m.why }

// fits asks the server what target_session_attrs needs to know, and on
// MySQL whether it is a Galera node ready to serve.
func (l *hostList) fits(ctx context.Context, raw driver.Conn) error {
	target := l.pick.Target
	if target == "prefer-standby" {
		target = "standby"
	}
	if sc, ok := raw.(*stdlib.Conn); ok {
		return pgFits(ctx, sc.Conn().PgConn(), target)
	}
	return mysqlFits(ctx, raw, target)
}

// pgFits checks a PostgreSQL server as libpq does: read-write and
// read-only by transaction_read_only, primary and standby by
// pg_is_in_recovery().
func pgFits(ctx context.Context, pg *pgconn.PgConn, target string) error {
	query, want := "SHOW transaction_read_only", "off"
	switch target {
	case "":
		return nil
	case "read-only":
		want = "on"
	case "primary":
		query, want = "SELECT pg_is_in_recovery()", "f"
	case "standby":
		query, want = "SELECT pg_is_in_recovery()", "t"
	}
	res := pg.ExecParams(ctx, query, nil, nil, nil, nil).Read()
	if res.Err != nil {
		return res.Err
	}
	if len(res.Rows) != 1 || len(res.Rows[0]) != 1 {
		return fmt.Errorf("%s returned no value", query)
	}
	if got := string(res.Rows[0][0]); got != want {
		return &mismatch{fmt.Sprintf("%s is %s, target_session_attrs=%s wants %s", query, got, target, want)}
	}
	return nil
}

// mysqlFits checks a MySQL server: a Galera node (wsrep_on) must be ready
// and in the Primary component, whatever the target; read_only says
// whether the server is a standby (ON) or a primary (OFF).
func mysqlFits(ctx context.Context, raw driver.Conn, target string) error {
	vars, err := showVars(ctx, raw, "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('read_only', 'wsrep_on')")
	if err != nil {
		return err
	}
	if strings.EqualFold(vars["wsrep_on"], "ON") {
		status, err := showVars(ctx, raw, "SHOW GLOBAL STATUS WHERE Variable_name IN ('wsrep_ready', 'wsrep_cluster_status')")
		if err != nil {
			return err
		}
		if v := status["wsrep_ready"]; !strings.EqualFold(v, "ON") {
			return fmt.Errorf("wsrep_ready is %s: the Galera node is not ready to serve", orUnset(v))
		}
		if v := status["wsrep_cluster_status"]; v != "Primary" {
			return fmt.Errorf("wsrep_cluster_status is %s: the Galera node is outside the Primary component", orUnset(v))
		}
	}
	readOnly := strings.EqualFold(vars["read_only"], "ON") || vars["read_only"] == "1"
	switch {
	case target == "":
	case (target == "read-write" || target == "primary") && readOnly:
		return &mismatch{"read_only is ON, target_session_attrs=" + target + " wants OFF"}
	case (target == "read-only" || target == "standby") && !readOnly:
		return &mismatch{"read_only is OFF, target_session_attrs=" + target + " wants ON"}
	}
	return nil
}

func orUnset(v string) string {
	if v == "" {
		return "not set"
	}
	return v
}

// showVars runs a SHOW … VARIABLES or STATUS statement on a real
// connection and returns its name/value pairs, names in lower case.
func showVars(ctx context.Context, raw driver.Conn, query string) (map[string]string, error) {
	r := newRealConn(raw)
	rows, st, err := r.queryOrPrepare(ctx, query, nil)
	if err != nil {
		return nil, err
	}
	if st != nil {
		defer st.Close()
	}
	defer rows.Close()
	out := map[string]string{}
	row := make([]driver.Value, len(rows.Columns()))
	for {
		if err := rows.Next(row); err == io.EOF {
			return out, nil
		} else if err != nil {
			return nil, err
		}
		if len(row) == 2 {
			out[strings.ToLower(asString(row[0]))] = asString(row[1])
		}
	}
}

// hostAttempt is one host tried and why it was not taken.
type hostAttempt struct {
	at  dsn.Server
	err error
}

// hostsError is the error of a connection for which no host of the list
// fitted. It names every host tried and why, with the URL's secrets
// masked; errors.As reaches each host's error.
type hostsError struct {
	cfg    *dsn.Config
	target string
	tried  []hostAttempt
}

func (e *hostsError) Error() string {
	var b strings.Builder
	b.WriteString("databases: no host of the list could serve a connection")
	if e.target != "" {
		b.WriteString(" with target_session_attrs=" + e.target)
	}
	for i, t := range e.tried {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(t.at.String() + ": ")
		if e.cfg.Ambiguous {
			b.WriteString("(its message is not shown, since it could quote part of the password)")
		} else {
			b.WriteString(e.cfg.RedactMessage(t.err.Error()))
		}
	}
	return b.String()
}

func (e *hostsError) Unwrap() []error {
	errs := make([]error, len(e.tried))
	for i, t := range e.tried {
		errs[i] = t.err
	}
	return errs
}
