package databases

// SQLite's waits for another connection's lock: the error that says what
// was waited for, and the bound on the waits busy_timeout does not bound
// (those of a shared cache, on SQLite's unlock-notify).

import (
	"context"
	"errors"
	"fmt"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/go-databases/databases/internal/dsn"
)

// lockError is a SQLite wait for a lock that gave up: SQLITE_BUSY after
// busy_timeout, or a shared-cache wait that reached it. errors.As reaches
// the driver's error, when there is one.
type lockError struct {
	what    string        // what waited: "BEGIN IMMEDIATE", "COMMIT", "a statement"
	timeout time.Duration // busy_timeout
	err     error         // the driver's error; nil when this package ended the wait
}

func (e *lockError) Error() string {
	msg := fmt.Sprintf("databases: SQLite %s gave up waiting for a lock after busy_timeout (%v): another connection of this DB holds it (one in a transaction, or with rows open); inside Transact use its *sql.Tx, not the *sql.DB, and close rows before writing", e.what, e.timeout)
	if e.err != nil {
		msg += ": " + e.err.Error()
	}
	return msg
}

func (e *lockError) Unwrap() error { return e.err }

// explainSQLiteLock names the cause of a SQLite error that says "database
// is locked" after busy_timeout (SQLITE_BUSY, but SQLITE_BUSY_SNAPSHOT,
// which is a serialization failure that waited for nothing); other errors
// come back as they are.
func explainSQLiteLock(cfg *dsn.Config, what string, err error) error {
	if err == nil {
		return err
	}
	var lite *sqlite.Error
	if !errors.As(err, &lite) || lite.Code()&0xff != sqlite3.SQLITE_BUSY || lite.Code() == sqlite3.SQLITE_BUSY_SNAPSHOT {
		return err
	}
	var le *lockError
	if errors.As(err, &le) {
		return err
	}
	return &lockError{what: what, timeout: cfg.BusyTimeout, err: err}
}

// boundWait gives ctx a deadline of busy_timeout on a shared-cache
// database, where modernc waits for a lock until the context ends. done
// turns an error of the wait that the bound ended into a lockError, and
// frees the timer.
func boundWait(ctx context.Context, cfg *dsn.Config, what string) (context.Context, func(error) error) {
	if !cfg.SharedCache || cfg.BusyTimeout <= 0 {
		return ctx, func(err error) error { return explainSQLiteLock(cfg, what, err) }
	}
	if d, ok := ctx.Deadline(); ok && time.Until(d) <= cfg.BusyTimeout {
		return ctx, func(err error) error { return explainSQLiteLock(cfg, what, err) }
	}
	bounded, cancel := context.WithTimeout(ctx, cfg.BusyTimeout)
	return bounded, func(err error) error {
		cancel()
		if err != nil && ctx.Err() == nil && bounded.Err() != nil && errors.Is(err, context.DeadlineExceeded) {
			return &lockError{what: what, timeout: cfg.BusyTimeout}
		}
		return explainSQLiteLock(cfg, what, err)
	}
}
