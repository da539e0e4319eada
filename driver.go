package databases

// The driver registered with database/sql as "databases", and the ways to
// get a DB from a URL: sql.Open, Open (which also applies the pool options),
// Register for a name with fixed options; DriverConn reaches the real
// connection behind one of the package's.

import (
	"context"
	"database/sql"
	"database/sql/driver"

	"github.com/go-databases/databases/middleware/insights"

	// The real drivers behind the default schemes.
	_ "github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"
)

//go:generate go run ./internal/genwrap

// driverName is the name the package registers with database/sql.
const driverName = "databases"

func init() {
	sql.Register(driverName, &Driver{})
}

// Driver is the database/sql driver registered as "databases". Its data
// source names are database URLs; options set by Register apply to every
// connection it opens.
type Driver struct {
	opts []Option
	// insights is what Insights returns for a DB whose driver this is: a
	// DB from Open or from sql.OpenDB of NewConnector's connector, which
	// have a Driver of their own.
	insights *insights.Insights
}

var (
	_ driver.Driver        = (*Driver)(nil)
	_ driver.DriverContext = (*Driver)(nil)
)

// Open opens one connection outside any pool. A sqlite:///:memory: URL gives
// that connection a database of its own.
func (d *Driver) Open(url string) (driver.Conn, error) {
	c, err := newConnector(url, d, nil)
	if err != nil {
		return nil, err
	}
	if err := c.refusePoolOptions("sql.Open"); err != nil {
		return nil, err
	}
	return c.connect(context.Background())
}

// OpenConnector parses the URL once for a *sql.DB; sql.Open calls it.
func (d *Driver) OpenConnector(url string) (driver.Connector, error) {
	c, err := newConnector(url, d, nil)
	if err != nil {
		return nil, err
	}
	if err := c.refusePoolOptions("sql.Open"); err != nil {
		return nil, err
	}
	return c.public(), nil
}

// Open opens a *sql.DB for the database URL and applies the URL's pool
// options (max_open_conns, max_idle_conns, conn_max_lifetime,
// conn_max_idle_time and their aliases). Like sql.Open it does not connect;
// call PingContext to check the server.
func Open(url string, opts ...Option) (*sql.DB, error) {
	d := &Driver{opts: opts}
	c, err := newConnector(url, d, nil)
	if err != nil {
		return nil, err
	}
	d.insights = c.opts.insights
	db := sql.OpenDB(c.public())
	if err := c.registerPoolMetrics(db); err != nil {
		db.Close()
		return nil, err
	}
	c.cfg.Pool.Apply(db)
	c.holds.watchPool(db)
	return db, nil
}

// Insights returns the middleware/insights of a DB opened with the URL
// option insights=on or with WithInsights, by Open or through
// NewConnector; nil when insights are off.
func Insights(db *sql.DB) *insights.Insights {
	if d, ok := db.Driver().(*Driver); ok {
		return d.insights
	}
	return nil
}

// Register registers a driver under name whose connections all get opts,
// for tools that can only call sql.Open(name, url), such as migration tools.
// Like sql.Register it panics if the name is taken.
func Register(name string, opts ...Option) {
	sql.Register(name, &Driver{opts: opts})
}

// DriverConn returns the real driver's connection behind a connection of
// this package, for use inside sql.Conn.Raw. In force_rollback mode it can
// return an error in its place (see below), so check for one before the type
// assertion, and use the two-value form of the assertion, which does not
// panic:
//
//	conn.Raw(func(dc any) error {
//		raw := databases.DriverConn(dc)
//		if err, ok := raw.(error); ok {
//			return err
//		}
//		c, ok := raw.(*stdlib.Conn)
//		if !ok {
//			return fmt.Errorf("not a pgx connection: %T", raw)
//		}
//		pgxConn := c.Conn()
//		...
//	})
//
// A value that is not one of this package's connections is returned as is.
//
// In force_rollback mode it is the one real connection the DB shares: the
// sql.Conn keeps it, and other connections of the DB wait, until the
// sql.Conn's next call or until it is closed; on PostgreSQL what the caller
// does runs in a savepoint, so a failed CopyFrom leaves the outer
// transaction usable. If another connection holds it with a transaction for
// 5 s, DriverConn returns an error (a value of type error) instead.
func DriverConn(driverConn any) any {
	if s, ok := driverConn.(interface{ self() *conn }); ok {
		c := s.self()
		return c.connector.mode.driverConn(c)
	}
	return driverConn
}
