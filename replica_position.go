package databases

// Replication positions, per backend: reading the primary's, waiting on a
// replica until it has replayed one, the token WritePosition hands out, and
// how far behind a replica is.
//
//	backend     primary's position          wait on the replica
//	PostgreSQL  pg_current_wal_insert_lsn() pg_last_wal_replay_lsn(), polled
//	MariaDB     @@GLOBAL.gtid_binlog_pos    MASTER_GTID_WAIT(pos, timeout)
//	MySQL 8     @@GLOBAL.gtid_executed      WAIT_FOR_EXECUTED_GTID_SET(set, timeout)
//
// PostgreSQL's insert position is at or after every commit already
// acknowledged, with synchronous_commit off too. The position is read
// only when a replica read follows writes the replica was not yet seen to
// have: a write itself costs no round trip. Positions are written into the
// statements as literals, after checking they hold only the characters a
// position has, so that MySQL needs no prepared statement.

import (
	"context"
	"database/sql/driver"
	"encoding/base64"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-databases/databases/internal/dsn"
)

// flavor is the replication scheme of a server.
type flavor uint32

const (
	flavorUnknown flavor = iota
	flavorPostgres
	flavorMariaDB
	flavorMySQL
)

var flavorNames = map[flavor]string{flavorPostgres: "pg", flavorMariaDB: "mariadb", flavorMySQL: "mysql"}

// position is a replication position of one flavor.
type position struct {
	flavor flavor
	value  string
}

func (p position) empty() bool { return p.value == "" }

// token is the position as WritePosition returns it: opaque, and safe in a
// cookie or header.
func (p position) token() string {
	if p.empty() {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte(flavorNames[p.flavor] + ":" + p.value))
}

// badPositionError is a token AfterPosition was given that cannot be read.
type badPositionError struct {
	token, why string
}

func (e *badPositionError) Error() string {
	return fmt.Sprintf("databases: AfterPosition token %q: %s", e.token, e.why)
}

// lagStopped is the lag of a replica whose replication is not running.
const lagStopped = time.Duration(math.MaxInt64)

// positionReader reads and waits for positions in one dialect; for MySQL
// it learns, on its first use, whether the server is MariaDB.
type positionReader struct {
	dialect *dsn.Dialect
	fixed   flavor // the backend's flavor; flavorUnknown: ask the server
	none    error  // why the backend has no positions; nil when it has
	flavor  atomic.Uint32
}

func newPositionReader(d *dsn.Dialect, b backend) *positionReader {
	pr := &positionReader{dialect: d}
	pr.fixed, pr.none = b.positions()
	pr.flavor.Store(uint32(pr.fixed))
	return pr
}

// flavorOf returns the flavor of the servers, asking rc the first time.
func (pr *positionReader) flavorOf(ctx context.Context, rc *realConn) (flavor, error) {
	if f := flavor(pr.flavor.Load()); f != flavorUnknown {
		return f, nil
	}
	if pr.none != nil {
		return flavorUnknown, pr.none
	}
	v, err := queryValue(ctx, rc, "SELECT @@version")
	if err != nil {
		return flavorUnknown, err
	}
	f := flavorMySQL
	if strings.Contains(strings.ToLower(asString(v)), "mariadb") {
		f = flavorMariaDB
	}
	pr.flavor.Store(uint32(f))
	return f, nil
}

// read reads the primary's current position on rc.
func (pr *positionReader) read(ctx context.Context, rc *realConn) (position, error) {
	f, err := pr.flavorOf(ctx, rc)
	if err != nil {
		return position{}, err
	}
	var q string
	switch f {
	case flavorPostgres:
		q = "SELECT pg_current_wal_insert_lsn()::text"
	case flavorMariaDB:
		q = "SELECT @@GLOBAL.gtid_binlog_pos"
	default:
		q = "SELECT @@GLOBAL.gtid_executed"
	}
	v, err := queryValue(ctx, rc, q)
	if err != nil {
		return position{}, err
	}
	p := position{flavor: f, value: strings.Join(strings.Fields(asString(v)), "")}
	if !validPosition(f, p.value) {
		return position{}, fmt.Errorf("unexpected position %q from the primary", p.value)
	}
	return p, nil
}

// parse reads a token of WritePosition.
func (pr *positionReader) parse(token string) (position, error) {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return position{}, &badPositionError{token, "not a token of databases.WritePosition"}
	}
	name, value, _ := strings.Cut(string(raw), ":")
	var f flavor
	for k, v := range flavorNames {
		if v == name {
			f = k
		}
	}
	switch {
	case f == flavorUnknown:
		return position{}, &badPositionError{token, "not a token of databases.WritePosition"}
	case (f == flavorPostgres) != (pr.fixed == flavorPostgres):
		return position{}, &badPositionError{token, fmt.Sprintf("a %s position, and this DB is %s", name, pr.dialect)}
	case !validPosition(f, value):
		return position{}, &badPositionError{token, fmt.Sprintf("%q is not a %s position", value, name)}
	}
	return position{flavor: f, value: value}, nil
}

// validPosition reports whether v has the form of a position of f, and so
// can be written into a statement as a literal.
func validPosition(f flavor, v string) bool {
	ok := func(extra string) bool {
		for i := 0; i < len(v); i++ {
			c := v[i]
			if !(c >= '0' && c <= '9' || strings.IndexByte(extra, c) >= 0) {
				return false
			}
		}
		return true
	}
	switch f {
	case flavorPostgres:
		hi, lo, found := strings.Cut(v, "/")
		_, err1 := strconv.ParseUint(hi, 16, 32)
		_, err2 := strconv.ParseUint(lo, 16, 32)
		return found && err1 == nil && err2 == nil
	case flavorMariaDB:
		return ok("-,")
	case flavorMySQL:
		return ok("-,:abcdefABCDEF_ghijklmnopqrstuvwxyz")
	}
	return false
}

// wait waits until the replica on rc has replayed p, at most limit (and no
// longer than ctx allows); it reports whether it got there.
func (pr *positionReader) wait(ctx context.Context, rc *realConn, p position, limit time.Duration) (bool, error) {
	if d, ok := ctx.Deadline(); ok && time.Until(d) < limit {
		limit = max(time.Until(d), 0)
	}
	switch p.flavor {
	case flavorPostgres:
		return pgWait(ctx, rc, p.value, limit)
	case flavorMariaDB:
		v, err := queryValue(ctx, rc, fmt.Sprintf("SELECT MASTER_GTID_WAIT('%s', %.3f)", p.value, limit.Seconds()))
		return err == nil && asInt(v) == 0, err
	default:
		v, err := queryValue(ctx, rc, fmt.Sprintf("SELECT WAIT_FOR_EXECUTED_GTID_SET('%s', %.3f)", p.value, limit.Seconds()))
		return err == nil && asInt(v) == 0, err
	}
}

// pgWait polls the standby's replay position: PostgreSQL has no function
// that waits for one. The first check is at once; later ones back off from
// 100µs (a synchronous standby replays a commit a fraction of a millisecond
// after flushing it) to 20ms.
func pgWait(ctx context.Context, rc *realConn, lsn string, limit time.Duration) (bool, error) {
	q := "SELECT coalesce(pg_last_wal_replay_lsn() >= '" + lsn + "'::pg_lsn, true)"
	deadline := time.Now().Add(limit)
	sleep := 100 * time.Microsecond
	for {
		v, err := queryValue(ctx, rc, q)
		if err != nil {
			return false, err
		}
		if b, _ := v.(bool); b {
			return true, nil
		}
		left := time.Until(deadline)
		if left <= 0 {
			return false, nil
		}
		t := time.NewTimer(min(sleep, left))
		select {
		case <-ctx.Done():
			t.Stop()
			return false, ctx.Err()
		case <-t.C:
		}
		sleep = min(sleep*2, 20*time.Millisecond)
	}
}

// lag reads how far the replica on rc is behind its primary: lagStopped
// when replication is not running, 0 when it is not a replica.
func (pr *positionReader) lag(ctx context.Context, rc *realConn) (time.Duration, error) {
	f, err := pr.flavorOf(ctx, rc)
	if err != nil {
		return 0, err
	}
	if f == flavorPostgres {
		// Nothing received and not replayed: caught up. Otherwise the age
		// of the last transaction replayed, which overstates the lag of a
		// replica whose primary was idle before its last write.
		v, err := queryValue(ctx, rc, `SELECT CASE WHEN pg_last_wal_receive_lsn() IS NULL OR pg_last_wal_receive_lsn() <= pg_last_wal_replay_lsn()
			THEN 0 ELSE coalesce(extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp()), 0) END::float8`)
		if err != nil {
			return 0, err
		}
		s, _ := v.(float64)
		return time.Duration(max(s, 0) * float64(time.Second)), nil
	}
	q, col := "SHOW SLAVE STATUS", "Seconds_Behind_Master"
	if f == flavorMySQL {
		q, col = "SHOW REPLICA STATUS", "Seconds_Behind_Source"
	}
	rows, stmt, err := rc.queryOrPrepare(ctx, q, nil)
	if err != nil {
		return 0, err
	}
	defer closeRows(rows, stmt)
	cols := rows.Columns()
	at := -1
	for i, c := range cols {
		if c == col {
			at = i
		}
	}
	var lag time.Duration
	dest := make([]driver.Value, len(cols))
	for {
		err := rows.Next(dest)
		if err == io.EOF {
			return lag, nil
		}
		if err != nil {
			return 0, err
		}
		if at < 0 || dest[at] == nil {
			return lagStopped, nil
		}
		lag = max(lag, time.Duration(asInt(dest[at]))*time.Second)
	}
}

// queryValue runs a query of one value on the real connection, outside the
// middleware, and returns that value (nil for no row or NULL).
func queryValue(ctx context.Context, rc *realConn, query string) (driver.Value, error) {
	rows, stmt, err := rc.queryOrPrepare(ctx, query, nil)
	if err != nil {
		return nil, err
	}
	defer closeRows(rows, stmt)
	dest := make([]driver.Value, len(rows.Columns()))
	if err := rows.Next(dest); err != nil {
		if err == io.EOF {
			return nil, nil
		}
		return nil, err
	}
	if len(dest) == 0 {
		return nil, nil
	}
	return dest[0], nil
}

func closeRows(rows driver.Rows, stmt driver.Stmt) {
	rows.Close()
	if stmt != nil {
		stmt.Close()
	}
}

func asString(v driver.Value) string {
	switch v := v.(type) {
	case string:
		return v
	case []byte:
		return string(v)
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

// asInt reads an integer the driver returned as a number or as text; -1
// when it is neither.
func asInt(v driver.Value) int64 {
	switch v := v.(type) {
	case int64:
		return v
	case float64:
		return int64(v)
	}
	n, err := strconv.ParseInt(strings.TrimSpace(asString(v)), 10, 64)
	if err != nil {
		return -1
	}
	return n
}
