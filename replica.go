package databases

// Read replicas: routing. A connection of a DB with replicas holds its
// primary connection and at most one replica connection, opened on first
// use through the replica's own connector and closed with it. A
// transaction begun ReadOnly runs on the replica from BEGIN to COMMIT; a
// statement outside a transaction whose context comes from ReadReplica runs
// there too, and so does a statement prepared under ReadReplica (which is
// also how database/sql runs a MySQL query with arguments); everything
// else runs on the primary. Before a replica read,
// read-your-writes makes the replica catch up with the writes this DB
// acknowledged (replica_position.go); health and fallback are in
// replica_health.go.

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-databases/databases/internal/dsn"
	"github.com/go-databases/databases/middleware"
)

type readReplicaKey struct{}
type afterPositionKey struct{}

// ReadReplica returns a context under which statements run outside a
// transaction go to a read replica. On a DB without replicas they run on
// the primary, so code written for replicas works on one server.
func ReadReplica(ctx context.Context) context.Context {
	return context.WithValue(ctx, readReplicaKey{}, true)
}

// AfterPosition returns a context under which replica reads wait until the
// replica has replayed the write position token, from WritePosition
// (possibly of another process), as they wait for this DB's own writes. An
// empty token waits for nothing; a token that cannot be read fails the
// read. On a DB without replicas the token is not needed, and not read.
func AfterPosition(ctx context.Context, token string) context.Context {
	if token == "" {
		return ctx
	}
	return context.WithValue(ctx, afterPositionKey{}, token)
}

// WithReplicas adds read replicas given by URLs of their own, for replicas
// that differ from the primary in more than host and port (another user,
// TLS settings). Each must select the primary's backend and real driver.
func WithReplicas(urls ...string) Option {
	return func(o *options) { o.replicaURLs = append(o.replicaURLs, urls...) }
}

// WritePosition returns an opaque token for the position of the last write
// db acknowledged, read on the primary, or "" when db has written nothing.
// Hand it to another process (a cookie, a header), whose AfterPosition
// makes its replica reads see the write.
func WritePosition(ctx context.Context, db *sql.DB) (string, error) {
	sc, err := db.Conn(ctx)
	if err != nil {
		return "", err
	}
	defer sc.Close()
	var token string
	err = sc.Raw(func(dc any) error {
		s, ok := dc.(interface{ self() *conn })
		if !ok {
			return fmt.Errorf("databases.WritePosition: the DB was not opened by package databases, or is in force_rollback mode")
		}
		c := s.self()
		if set := c.connector.replicas; set != nil && set.writes.Load() == 0 {
			return nil
		}
		p, err := c.connector.positions().read(ctx, &c.realConn)
		if err != nil {
			return fmt.Errorf("databases.WritePosition: %w", err)
		}
		token = p.token()
		return nil
	})
	return token, err
}

// replicaSet is what a connector with replicas shares among its
// connections: the replicas, and the count of writes acknowledged, which
// read-your-writes compares with what each replica was seen to have.
type replicaSet struct {
	opts dsn.ReplicaOptions
	list []*replica
	next atomic.Uint32 // the replica a new replica connection tries first

	// writes counts the writes acknowledged on the primary. pos is a
	// position of the primary read when writes was posSeq: it covers
	// every write counted up to posSeq.
	writes atomic.Uint64
	posMu  sync.Mutex
	pos    position
	posSeq uint64

	// reads and waits count the primary positions read and the waits on
	// a replica, the round trips read-your-writes adds (for benchmarks).
	reads, waits atomic.Uint64

	pos0    *positionReader // reads and waits for positions in the dialect
	metrics *replicaMetrics // nil without WithMeterProvider
}

// replica is one replica server.
type replica struct {
	addr     dsn.ReplicaAddr
	conn     *connector    // opens and wraps connections to it
	caughtUp atomic.Uint64 // the writes count it was last seen to have replayed

	health replicaHealth // replica_health.go
}

// openReplicas builds the connector of each replica: the primary's, with
// the replica's real connector and a middleware.Database naming it. In
// force_rollback mode replicas are ignored: every call runs in the one
// transaction on the primary, which sees the test's own writes.
func (c *connector) openReplicas() error {
	ro := c.cfg.Replicas
	addrs, dsns := ro.Addrs, ro.DSNs
	urls := make([]string, len(addrs))
	for _, u := range c.opts.replicaURLs {
		if c.backend.inProcess() {
			return fmt.Errorf("databases.WithReplicas: SQLite has no server to replicate")
		}
		a, replicaDSN, err := dsn.ReplicaFromURL(c.cfg, u, c.creds != nil)
		if err != nil {
			return err
		}
		addrs, dsns, urls = append(addrs, a), append(dsns, replicaDSN), append(urls, RedactURL(u))
	}
	if len(addrs) == 0 || !c.mode.routesReplicas() {
		return nil
	}
	for i, a := range addrs {
		for _, b := range addrs[:i] {
			if strings.EqualFold(a.Host, b.Host) && a.Port == b.Port {
				return fmt.Errorf("databases: bad URL %q: option replicas: replica %s is named twice", c.cfg.Redacted, a)
			}
		}
	}
	set := &replicaSet{opts: ro, pos0: newPositionReader(c.cfg.Dialect, c.backend)}
	for i, a := range addrs {
		raw, err := rawConnector(c.cfg, dsns[i], c.creds)
		if err != nil {
			return err
		}
		db := *c.db
		db.Address, db.Port, db.Replica, db.URL = a.Host, a.Port, true, urls[i]
		at := a
		set.list = append(set.list, &replica{addr: a, conn: &connector{
			cfg: c.cfg, backend: c.backend, mode: c.mode, raw: raw, driver: c.driver, opts: c.opts, cache: c.cache, chain: c.chain, db: &db, stmts: c.stmts, parent: c,
			server: &at,
		}})
	}
	if c.opts.meterProvider != nil {
		m, err := newReplicaMetrics(c.opts.meterProvider, c.cfg.Dialect, set)
		if err != nil {
			return err
		}
		set.metrics = m
	}
	c.replicas = set
	return nil
}

// positions returns the connector's position reader; a connector without
// replicas makes one per call (WritePosition).
func (c *connector) positions() *positionReader {
	if c.replicas != nil {
		return c.replicas.pos0
	}
	return newPositionReader(c.cfg.Dialect, c.backend)
}

// close closes what the replicas hold.
func (s *replicaSet) close() error {
	var errs []error
	if s.metrics != nil {
		errs = append(errs, s.metrics.close())
	}
	for _, r := range s.list {
		if cl, ok := r.conn.raw.(interface{ Close() error }); ok {
			errs = append(errs, cl.Close())
		}
	}
	return errors.Join(errs...)
}

// replicaConn is a connection's routing state.
type replicaConn struct {
	r     *replica // the replica rconn is connected to
	rconn *conn    // the replica connection; nil until a replica read needs it

	txWrote bool // the primary's open transaction ran a write
	pending bool // a write ran through a query whose rows were still open
	unsure  bool // rconn ran code the text does not show: its session is made read-only again before its next use (keepReadOnly)
}

// inTx reports whether a transaction is open on the replica connection:
// every statement of the connection then goes there.
func (rp *replicaConn) inTx() bool { return rp.rconn != nil && rp.rconn.tx.id != 0 }

// routed is the route stage of an exec or a query (op OpExec or OpQuery)
// of a connection with replicas: it runs on the replica or the primary
// (call.go), and a write on the primary is counted for read-your-writes.
func (c *conn) routed(ctx context.Context, op middleware.Op, query string, args []driver.NamedValue) (driver.Result, driver.Rows, error) {
	c.rep.settle(c)
	rconn, err := c.route(ctx, query)
	if err != nil {
		return nil, nil, err
	}
	if rconn != nil {
		if err := c.replicaMay(query); err != nil {
			return nil, nil, err
		}
		res, r, err := rconn.here(ctx, op, nil, query, args)
		if err == nil || !c.replicaBroke(ctx, rconn, err) || c.mayWrite(query) || c.connector.replicas.opts.FallbackError {
			return res, r, err
		}
	}
	res, r, err := c.here(ctx, op, nil, query, args)
	if op == middleware.OpQuery {
		c.noteQueryWrite(query)
	} else {
		c.noteWrite(query)
	}
	return res, r, err
}

// route returns the replica connection a statement runs on, or nil for the
// primary: the replica's while a read-only transaction is open there, a
// ready replica's for a ReadReplica statement outside a transaction. A
// statement that runs others the text does not show (CALL, DO, EXECUTE, a
// MySQL BEGIN NOT ATOMIC block), or names one for EXECUTE (PREPARE,
// DEALLOCATE), runs on the primary even under ReadReplica: outside a
// transaction a procedure or block may commit, make the session writable
// and write in the same call, which no check before or after it could
// stop on a replica. So does a text in which a statement that may change
// the session is followed by another (primaryOnly).
func (c *conn) route(ctx context.Context, query string) (*conn, error) {
	if c.rep.inTx() {
		return c.rep.rconn, nil
	}
	if c.tx.id != 0 || c.rawTx || ctx.Value(readReplicaKey{}) == nil {
		return nil, nil
	}
	if ts := c.classify(query); ts.primaryOnly() {
		return nil, nil
	}
	return c.replicaReady(ctx)
}

// beginReplica begins a read-only transaction on a ready replica; routed
// is false when it must run on the primary.
func (c *conn) beginReplica(ctx context.Context, opts driver.TxOptions) (t driver.Tx, err error, routed bool) {
	c.rep.settle(c)
	if c.tx.id != 0 || c.rawTx {
		return nil, nil, false
	}
	rconn, err := c.replicaReady(ctx)
	if err != nil {
		return nil, err, true
	}
	if rconn == nil {
		return nil, nil, false
	}
	t, err = rconn.begin(ctx, opts, rconn.beginNative)
	if err != nil && c.replicaBroke(ctx, rconn, err) && !c.connector.replicas.opts.FallbackError {
		return nil, nil, false
	}
	return t, err, true
}

// replicaReady returns a replica connection that is healthy and has
// replayed what the read must see, opening one when needed; nil (run on
// the primary) or an error (replica_fallback=error) when there is none.
func (c *conn) replicaReady(ctx context.Context) (*conn, error) {
	set := c.connector.replicas
	var skipped []string
	for range len(set.list) + 1 {
		rp := c.rep
		now := time.Now()
		if rp.r != nil {
			if why := rp.r.health.skip(now, set.opts.MaxLag); why != "" {
				c.closeReplica()
			}
		}
		if rp.r == nil {
			r, why := set.pick(now)
			if r == nil {
				return nil, set.fallback(ctx, append(skipped, why...))
			}
			rp.r = r
		}
		r := rp.r
		if rp.rconn == nil {
			rconn, err := r.connect(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return nil, err
				}
				skipped = append(skipped, r.addr.String()+": "+r.health.failed(time.Now(), err))
				rp.r = nil
				continue
			}
			rp.rconn = rconn
		} else if err := c.keepReadOnly(ctx, rp.rconn); err != nil {
			c.closeReplica()
			if ctx.Err() != nil {
				return nil, err
			}
			skipped = append(skipped, r.addr.String()+": making its session read-only again: "+err.Error())
			continue
		}
		if err := set.checkLag(ctx, r, rp.rconn); err != nil {
			broke := c.replicaBroke(ctx, rp.rconn, err)
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if broke {
				skipped = append(skipped, r.addr.String()+": "+r.health.lastReason())
				continue
			}
		}
		if why := r.health.skip(time.Now(), set.opts.MaxLag); why != "" {
			skipped = append(skipped, r.addr.String()+": "+why)
			c.closeReplica()
			continue
		}
		ok, why, err := c.catchUp(ctx, r, rp.rconn)
		if err != nil {
			var bad *badPositionError
			if errors.As(err, &bad) {
				return nil, err
			}
			broke := c.replicaBroke(ctx, rp.rconn, err) // a cancelled wait may leave the connection closed
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if broke {
				skipped = append(skipped, r.addr.String()+": "+r.health.lastReason())
				continue
			}
			return nil, set.fallback(ctx, append(skipped, r.addr.String()+": "+err.Error()))
		}
		if !ok {
			return nil, set.fallback(ctx, append(skipped, r.addr.String()+": "+why))
		}
		return rp.rconn, nil
	}
	return nil, set.fallback(ctx, skipped)
}

// connect opens a connection to the replica, refusing writes in its
// session: the server refuses them even for a user whom read_only does not
// bind (MySQL's SUPER).
func (r *replica) connect(ctx context.Context) (*conn, error) {
	w, err := r.conn.open(ctx)
	if err != nil {
		return nil, err
	}
	rconn := &w
	if err := rconn.setReadOnly(ctx); err != nil {
		rconn.raw.Close()
		return nil, err
	}
	r.health.connected()
	return rconn, nil
}

// setReadOnly makes the session of the replica connection c refuse
// writes in every transaction that does not ask for READ WRITE.
func (c *conn) setReadOnly(ctx context.Context) error {
	_, err := c.execOrPrepare(ctx, c.connector.backend.readOnlySession(), nil)
	return err
}

// keepReadOnly runs before each use of the replica connection rconn outside a
// transaction: a session that code the text does not show may have made
// writable (a function not known to be read-only, a procedure run in a
// read-only transaction, which cannot write itself but may change the
// session for what follows) is made read-only again. On PostgreSQL the
// server reports default_transaction_read_only with every change
// (version 14 and later), so the check costs nothing and sees every
// change; on MySQL, which does not report it to the driver, the session
// is set read-only again after each statement that ran such code.
func (c *conn) keepReadOnly(ctx context.Context, rconn *conn) error {
	rp := c.rep
	if rconn.pg != nil {
		switch rconn.pg.ParameterStatus("default_transaction_read_only") {
		case "on":
			rp.unsure = false
			return nil
		case "off":
			rp.unsure = true
		}
	}
	if !rp.unsure {
		return nil
	}
	if err := rconn.setReadOnly(ctx); err != nil {
		return err
	}
	rp.unsure = false
	return nil
}

// replicaBroke reports whether err from the replica connection rconn means the
// connection is gone; if so the replica is marked down, with backoff, and
// the connection closed. A cancelled context marks nothing.
func (c *conn) replicaBroke(ctx context.Context, rconn *conn, err error) bool {
	broken := errors.Is(err, driver.ErrBadConn) || rconn.realConn.closed()
	if !broken {
		return false
	}
	if ctx.Err() == nil && c.rep.r != nil {
		c.rep.r.health.failed(time.Now(), err)
	}
	if c.rep.rconn == rconn {
		c.closeReplica()
	}
	return true
}

// closeReplica closes the replica connection, if there is one.
func (c *conn) closeReplica() {
	rp := c.rep
	if rp.rconn != nil {
		rp.rconn.Close()
	}
	rp.rconn, rp.r = nil, nil
}

// resetReplica runs as the connection is reused: a replica connection that
// cannot be reused is closed, and the next replica read opens another.
func (c *conn) resetReplica(ctx context.Context) {
	rp := c.rep
	rp.settle(c)
	if rp.rconn == nil {
		return
	}
	err := rp.rconn.reusable(ctx)
	if err == nil && rp.rconn.resetter != nil {
		err = rp.rconn.resetSession(ctx)
	}
	if err != nil {
		c.closeReplica()
	}
}

// mayWrite reports whether a statement may write (effWrite): anything not
// known to be a read, writes dressed as reads included (a data-modifying
// CTE, SELECT … INTO, EXPLAIN ANALYZE INSERT, MariaDB's SET STATEMENT …
// FOR INSERT, CALL, DO, a call of a function not known to be read-only).
// Writes are counted for read-your-writes, and so is the end of a
// transaction (COMMIT of a raw BEGIN), which makes its writes visible.
func (c *conn) mayWrite(query string) bool {
	ts := c.classify(query)
	return ts.does&effWrite != 0 || ts.effect&effEnd != 0
}

// replicaMay refuses, before it reaches the replica session, a statement
// that would change or override the session's read-only state (effReadOnly:
// SET default_transaction_read_only, SET SESSION TRANSACTION READ WRITE,
// BEGIN READ WRITE, RESET ALL, …): the replica session refuses writes even
// for a user that read_only does not bind, and must stay so. On MySQL it
// also refuses a statement that runs others in a read-only transaction on
// the replica: a procedure may COMMIT, leaving the read-only transaction,
// make the session writable and write, all in one call. A statement that
// runs code the text does not show has the session checked before the
// connection's next use (keepReadOnly).
func (c *conn) replicaMay(query string) error {
	ts := c.classify(query)
	if ts.does&effReadOnly != 0 {
		return ts.refuse("", "would make the read replica's session writable; it is refused under ReadReplica and in a read-only transaction on a replica")
	}
	if ts.does&effCalls != 0 && c.connector.backend.implicitCommits() {
		return ts.refuse("", "runs statements databases cannot read, which may commit the read-only transaction, make the replica's session writable and write on the replica; "+
			"it is refused in a read-only transaction on a replica: run it outside the transaction (under ReadReplica it then runs on the primary) or in a transaction that is not ReadOnly")
	}
	if ts.opaque() {
		c.rep.unsure = true
	}
	return nil
}

// prepareReplica prepares a statement on the replica connection rconn. Each
// execution of it then checks, as a statement run under ReadReplica does,
// that the replica has replayed what the read must see (replicaExec).
func (c *conn) prepareReplica(ctx context.Context, rconn *conn, query string) (driver.Stmt, error) {
	if err := c.replicaMay(query); err != nil {
		return nil, err
	}
	st, err := rconn.prepareHere(ctx, query)
	if err != nil {
		return nil, err
	}
	st.primary = c
	return wrapStmt(st), nil
}

// replicaExec runs before each execution of a statement prepared on the
// replica connection rconn: outside a transaction, the replica must have
// replayed this DB's acknowledged writes (and an AfterPosition token)
// first, as at prepare. A replica that does not catch up in time fails the
// execution with the fallback's error: the statement is the replica's and
// cannot move to the primary.
func (c *conn) replicaExec(ctx context.Context, rconn *conn, ts *txStatement) error {
	rp := c.rep
	if rp.rconn != rconn || rp.r == nil {
		return nil // a statement of a replica connection since closed
	}
	if rconn.tx.id != 0 {
		rp.unsure = rp.unsure || ts.opaque()
		return nil // a statement of a read-only transaction
	}
	if err := c.keepReadOnly(ctx, rconn); err != nil {
		return fmt.Errorf("databases: making the read replica's session read-only again before a statement prepared on it: %w", err)
	}
	rp.unsure = ts.opaque()
	rp.settle(c)
	ok, why, err := c.catchUp(ctx, rp.r, rconn)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w for a statement prepared on it: %s: %s", ErrNoReplica, rp.r.addr, why)
	}
	return nil
}

// noteWrite counts a statement that ran on the primary and may have
// written: at once outside a transaction, at its end inside one.
func (c *conn) noteWrite(query string) {
	if !c.mayWrite(query) {
		return
	}
	if c.tx.id != 0 {
		c.rep.txWrote = true
		return
	}
	c.connector.replicas.writes.Add(1)
}

// noteQueryWrite is noteWrite for a query, whose write (INSERT …
// RETURNING) commits only as its rows are read: it is counted again when
// the connection goes back to the pool or runs its next statement.
func (c *conn) noteQueryWrite(query string) {
	c.noteWrite(query)
	if c.tx.id == 0 && c.mayWrite(query) {
		c.rep.pending = true
	}
}

// settle counts a write whose rows were open when it was first counted.
func (rp *replicaConn) settle(c *conn) {
	if rp.pending {
		rp.pending = false
		c.connector.replicas.writes.Add(1)
	}
}

// txEnded counts the writes of a primary transaction as it ends.
func (rp *replicaConn) txEnded(c *conn) {
	if rp.txWrote {
		rp.txWrote = false
		c.connector.replicas.writes.Add(1)
	}
}

// catchUp makes sure the replica has replayed what a read must see: the
// position of an AfterPosition token, and with read_your_writes every write
// this DB acknowledged. When the replica was already seen to have replayed
// them it costs nothing; otherwise the primary's position is read on c
// (once for any number of reads that follow the same writes) and the
// replica waits for it, at most max_replica_wait. ok is false, with the
// reason, when it did not get there in time.
func (c *conn) catchUp(ctx context.Context, r *replica, rconn *conn) (ok bool, why string, err error) {
	set := c.connector.replicas
	if token, _ := ctx.Value(afterPositionKey{}).(string); token != "" {
		p, err := set.pos0.parse(token)
		if err != nil {
			return false, "", err
		}
		if ok, why, err := set.wait(ctx, r, rconn, p); !ok || err != nil {
			return ok, why, err
		}
	}
	if !set.opts.ReadYourWrites() {
		return true, "", nil
	}
	need := set.writes.Load()
	if need <= r.caughtUp.Load() {
		return true, "", nil
	}
	p, seq, err := set.primaryPosition(ctx, c, need)
	if err != nil {
		return false, "reading the primary's position: " + err.Error(), nil
	}
	ok, why, err = set.wait(ctx, r, rconn, p)
	if ok {
		for {
			old := r.caughtUp.Load()
			if old >= seq || r.caughtUp.CompareAndSwap(old, seq) {
				break
			}
		}
	}
	return ok, why, err
}

// primaryPosition returns a position of the primary that covers the first
// need writes: the last one read when it does, else one read now on c.
func (s *replicaSet) primaryPosition(ctx context.Context, c *conn, need uint64) (position, uint64, error) {
	s.posMu.Lock()
	if s.posSeq >= need {
		p, seq := s.pos, s.posSeq
		s.posMu.Unlock()
		return p, seq, nil
	}
	s.posMu.Unlock()
	seq := s.writes.Load()
	s.reads.Add(1)
	p, err := s.pos0.read(ctx, &c.realConn)
	if err != nil {
		return position{}, 0, err
	}
	s.posMu.Lock()
	if seq > s.posSeq {
		s.pos, s.posSeq = p, seq
	}
	s.posMu.Unlock()
	return p, seq, nil
}

// wait waits until the replica has replayed p, at most max_replica_wait,
// and records the wait.
func (s *replicaSet) wait(ctx context.Context, r *replica, rconn *conn, p position) (bool, string, error) {
	if p.empty() {
		return true, "", nil
	}
	limit := s.opts.Wait()
	start := time.Now()
	s.waits.Add(1)
	ok, err := s.pos0.wait(ctx, &rconn.realConn, p, limit)
	s.metrics.recordWait(ctx, r, time.Since(start), ok, err)
	if err != nil {
		return false, "", err
	}
	if !ok {
		return false, fmt.Sprintf("did not replay the primary's position %s within max_replica_wait %s", p.value, limit), nil
	}
	return true, "", nil
}
