package databases

// The connector: what sql.OpenDB receives. It holds the parsed URL and the
// real driver's connector (found by the name the URL selects), opens real
// connections, or in force_rollback mode views of the shared one (its
// mode, connmode.go), through the middleware, and wraps them; it keeps a
// shared in-memory SQLite database alive until it closes. Its middleware
// and pool metrics are built from the options in options.go.

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/metric"

	"github.com/go-databases/databases/internal/dsn"
	"github.com/go-databases/databases/middleware"
	"github.com/go-databases/databases/rewrite"
)

// rewriteCacheSize bounds the number of distinct queries whose rewrite is
// remembered per connector.
const rewriteCacheSize = 1024

// connector opens connections of the real driver and wraps them. It is what
// sql.OpenDB receives.
type connector struct {
	cfg     *dsn.Config
	backend backend // what the server does differently (backend.go)
	raw     driver.Connector
	driver  driver.Driver // what Driver() returns
	opts    options
	cache   *rewrite.Cache       // nil: queries are sent as written
	chain   *middleware.Pipeline // nil: calls go straight to the real driver
	db      *middleware.Database
	mode    connMode    // how its connections behave: ownConns, or force_rollback's *shared (connmode.go)
	hosts   *hostList   // the real connector when the URL has a host list (hosts.go); nil otherwise
	server  *dsn.Server // the one host of a URL without a list
	stmts   int         // prepared statements each connection keeps (stmtcache.go)
	// replicas are the read replicas (replica.go); nil without. parent is,
	// in the connector of one replica, the primary's.
	replicas *replicaSet
	parent   *connector
	connID   atomic.Uint64
	txID     atomic.Uint64
	creds    *credentials               // WithCredentials or password_file (credentials.go); nil: the URL's password
	ddl      atomic.Uint64              // schema changes run through the DB (ddl.go)
	budget   atomic.Pointer[stmtBudget] // MySQL: the caches of its connections (stmtcache_budget.go)
	holds    *holds                     // open rows and transactions (holds.go); nil when no option needs them

	mu          sync.Mutex
	keeper      driver.Conn // keeps a shared in-memory SQLite database alive
	poolMetrics metric.Registration
	closed      bool
}

// closingConnector is a connector that holds resources: database/sql calls
// Close when the *sql.DB closes.
type closingConnector struct{ *connector }

var (
	_ driver.Connector = (*connector)(nil)
	_ io.Closer        = closingConnector{}
)

// NewConnector parses a database URL and returns a connector for sql.OpenDB.
// Pool options in the URL are an error here, since a connector cannot size
// its pool; use Open for them.
func NewConnector(url string, opts ...Option) (driver.Connector, error) {
	d := &Driver{}
	c, err := newConnector(url, d, opts)
	if err != nil {
		return nil, err
	}
	if err := c.refusePoolOptions("sql.OpenDB"); err != nil {
		return nil, err
	}
	d.insights = c.opts.insights
	return c.public(), nil
}

func newConnector(url string, d *Driver, opts []Option) (*connector, error) {
	cfg, err := dsn.Parse(url)
	if err != nil {
		return nil, err
	}
	c := &connector{cfg: cfg, backend: backendOf(cfg.Dialect), mode: ownConns{}, driver: d, opts: newOptions(d, opts), server: &dsn.Server{Host: cfg.Host, Port: cfg.Port}}
	if c.stmts, err = stmtCacheSize(cfg); err != nil {
		return nil, err
	}
	c.chain = c.opts.pipeline(cfg)
	c.holds = newHolds(c)
	c.db = &middleware.Database{
		Dialect:   cfg.Dialect.Name,
		Namespace: cfg.Database,
		Address:   cfg.Host,
		Port:      cfg.Port,
		URL:       cfg.Redacted,
		SQLMode:   cfg.MySQLMode,
	}
	if !cfg.Native && !c.opts.native {
		c.cache = c.backend.rewriteCache(cfg)
	}
	if cfg.ForceRollback || c.opts.forceRollback {
		// Every connection is a view of one (forcerollback.go), whose
		// statements are savepoint-guarded: none is kept.
		c.mode = newShared(c)
		c.stmts = 0
	}
	if c.creds, err = newCredentials(cfg, c.opts.credentials); err != nil {
		return nil, err
	}
	if c.hosts, err = hostsConnector(cfg, c.creds); err != nil {
		return nil, err
	}
	if c.hosts != nil {
		c.raw = c.hosts
	} else if c.raw, err = rawConnector(cfg, cfg.DSN, c.creds); err != nil {
		return nil, err
	}
	if err := c.openReplicas(); err != nil {
		return nil, err
	}
	return c, nil
}

// rawConnector returns the real driver's connector for dsn, which is the
// URL's or one of its replicas'; with creds, one that gets them at each
// new connection.
func rawConnector(cfg *dsn.Config, dsn string, creds *credentials) (driver.Connector, error) {
	if c, ok, err := backendOf(cfg.Dialect).connector(cfg, dsn, creds); ok {
		return c, err
	}
	real, err := lookupDriver(cfg)
	if err != nil {
		return nil, err
	}
	if dc, ok := real.(driver.DriverContext); ok {
		raw, err := dc.OpenConnector(dsn)
		if err != nil {
			return nil, cfg.DriverError(err)
		}
		return boxConnector(raw), nil
	}
	return &dsnConnector{driver: real, dsn: dsn}, nil
}

// hostsConnector returns the connector of a URL's host list (hosts.go):
// with more than one host, or with an option that picks among hosts on
// MySQL; nil for a URL that names one server.
func hostsConnector(cfg *dsn.Config, creds *credentials) (*hostList, error) {
	return backendOf(cfg.Dialect).hostList(cfg, creds)
}

// public returns the connector as database/sql should see it: an io.Closer
// only when closing it frees something.
func (c *connector) public() driver.Connector {
	if _, ok := c.raw.(io.Closer); ok || c.cfg.Memory || c.mode.keepsOpen() || c.opts.meterProvider != nil || c.replicas != nil || c.holds != nil {
		return closingConnector{c}
	}
	return c
}

func (c *connector) refusePoolOptions(via string) error {
	if via == "sql.Open" && c.opts.insights != nil {
		// The driver is shared by every DB of its name: no DB could find
		// its own insights (Insights).
		return fmt.Errorf("databases: insights (option insights=on or WithInsights) for %q need databases.Open or sql.OpenDB(databases.NewConnector(...)): %s shares one driver among DBs, so databases.Insights could not tell whose they are", c.cfg.Redacted, via)
	}
	if names := c.cfg.Pool.Given(); len(names) > 0 {
		return fmt.Errorf("databases: bad URL %q: option %s needs databases.Open: %s gives a driver no access to its pool", c.cfg.Redacted, strings.Join(names, ", "), via)
	}
	return nil
}

// Connect opens a connection of the real driver and wraps it.
func (c *connector) Connect(ctx context.Context) (driver.Conn, error) {
	if c.cfg.Memory {
		if err := c.keepMemory(ctx); err != nil {
			return nil, err
		}
	}
	return c.connect(ctx)
}

// interest returns what the middleware needs to see of a call of op; None
// when there is no middleware.
func (c *connector) interest(ctx context.Context, op middleware.Op) middleware.Interest {
	if c.chain == nil {
		return middleware.None
	}
	return c.chain.Interest(ctx, op)
}

// connect opens and wraps one real connection, through the chain.
func (c *connector) connect(ctx context.Context) (driver.Conn, error) {
	w, err := c.open(ctx)
	if err != nil {
		return nil, err
	}
	return wrapConn(w), nil
}

// open opens one real connection through the chain and returns it as a
// conn, before wrapConn.
func (c *connector) open(ctx context.Context) (conn, error) {
	in := c.interest(ctx, middleware.OpConnect)
	if in == middleware.None {
		raw, at, err := c.rawConnect(ctx)
		if err != nil {
			return conn{}, err
		}
		return c.wrap(ctx, raw, at, c.connID.Add(1)), nil
	}
	call := &middleware.Call{Op: middleware.OpConnect, DB: c.db, ConnID: c.connID.Add(1), Start: time.Now(), RowsAffected: -1}
	var raw driver.Conn
	var at *dsn.Server
	err := c.chain.Observe(ctx, in, call, func(ctx context.Context, call *middleware.Call) error {
		var err error
		raw, at, err = c.rawConnect(ctx)
		if at != nil {
			call.ServerAddress, call.ServerPort = at.Host, at.Port
		}
		return err
	})
	if err != nil {
		if raw != nil {
			raw.Close()
		}
		return conn{}, err
	}
	return c.wrap(ctx, raw, at, call.ConnID), nil
}

// wrap is the connection to the host at, before wrapConn; on MySQL its
// statement cache is sized from the server's limit.
func (c *connector) wrap(ctx context.Context, raw driver.Conn, at *dsn.Server, id uint64) conn {
	w := newConn(raw, c, id)
	w.server = at
	c.fitStmtCache(ctx, &w.realConn)
	return w
}

// rawConnect opens a real connection, or in force_rollback mode a view of
// the shared one (connMode.connect), and says which host it reached.
func (c *connector) rawConnect(ctx context.Context) (driver.Conn, *dsn.Server, error) {
	return c.mode.connect(ctx, c)
}

// dial opens a real connection and says which host it reached.
func (c *connector) dial(ctx context.Context) (driver.Conn, *dsn.Server, error) {
	if c.hosts != nil {
		return c.hosts.connect(ctx)
	}
	raw, err := c.raw.Connect(ctx)
	if err != nil {
		err = c.backend.connectError(c.cfg, err)
	}
	return raw, c.server, err
}

// keepMemory opens one extra connection that holds a shared in-memory SQLite
// database open until the connector closes, so the database outlives idle
// pool connections being closed.
func (c *connector) keepMemory(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return errors.New("databases: connector is closed")
	}
	if c.keeper != nil {
		return nil
	}
	k, err := c.raw.Connect(ctx)
	if err != nil {
		return err
	}
	c.keeper = k
	return nil
}

// Driver returns the databases driver that made this connector.
func (c *connector) Driver() driver.Driver { return c.driver }

// Close frees the in-memory database and closes the real connector if it
// has a Close. database/sql calls it from DB.Close.
func (c closingConnector) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	c.holds.close()
	var errs []error
	if c.poolMetrics != nil {
		errs = append(errs, c.poolMetrics.Unregister())
	}
	errs = append(errs, c.mode.close())
	if c.replicas != nil {
		errs = append(errs, c.replicas.close())
	}
	if c.keeper != nil {
		errs = append(errs, c.keeper.Close())
		c.keeper = nil
	}
	if cl, ok := c.raw.(io.Closer); ok {
		errs = append(errs, cl.Close())
	}
	return errors.Join(errs...)
}

// dsnConnector is the connector of a driver that has no OpenConnector.
type dsnConnector struct {
	driver driver.Driver
	dsn    string
}

func (d dsnConnector) Connect(context.Context) (driver.Conn, error) { return d.driver.Open(d.dsn) }
func (d dsnConnector) Driver() driver.Driver                        { return d.driver }

// lookupDriver finds the real driver registered in database/sql under the
// name the URL selects.
func lookupDriver(cfg *dsn.Config) (driver.Driver, error) {
	name := cfg.DriverName
	if name == driverName {
		return nil, fmt.Errorf("databases: bad URL %q: the databases driver cannot wrap itself", cfg.Redacted)
	}
	if !slices.Contains(sql.Drivers(), name) {
		return nil, fmt.Errorf("databases: bad URL %q: no database/sql driver is registered as %q (registered: %s); import the package that registers it",
			cfg.Redacted, name, strings.Join(slices.DeleteFunc(sql.Drivers(), func(s string) bool { return s == driverName }), ", "))
	}
	// database/sql has no lookup by name; a *sql.DB built without
	// connecting hands out its driver.
	db, err := sql.Open(name, cfg.DSN)
	if err != nil {
		return nil, cfg.DriverError(err)
	}
	defer db.Close()
	return db.Driver(), nil
}
