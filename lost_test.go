package databases

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
)

// TestLostConnectionRules: which COMMIT errors become ErrCommitUnknown, and
// which failed transactions Transact may run again.
func TestLostConnectionRules(t *testing.T) {
	admin := &pgconn.PgError{Severity: "FATAL", Code: "57P01"}
	deadlock := &mysql.MySQLError{Number: 1213}
	t.Run("commit", func(t *testing.T) {
		for _, tt := range []struct {
			err     error
			unknown bool
		}{
			{nil, false},
			{mysql.ErrInvalidConn, true}, // COMMIT sent, no answer
			{admin, true},                // the server ended the session instead of answering
			{driver.ErrBadConn, false},   // nothing sent: rolled back
			{deadlock, false},            // the server's answer: not committed
			{errors.New("no such table"), false},
		} {
			c := &conn{connector: &connector{backend: mysqlBackend{}, mode: ownConns{}}}
			err := c.commitFailed(tt.err)
			if got := errors.Is(err, ErrCommitUnknown); got != tt.unknown {
				t.Errorf("%v: ErrCommitUnknown %v, want %v", tt.err, got, tt.unknown)
			}
			if tt.err != nil && !errors.Is(err, tt.err) {
				t.Errorf("%v: the driver's error is not in the chain of %v", tt.err, err)
			}
			if c.bad != (tt.unknown || errors.Is(tt.err, driver.ErrBadConn)) {
				t.Errorf("%v: bad = %v", tt.err, c.bad)
			}
		}
	})
	t.Run("retry", func(t *testing.T) {
		for _, tt := range []struct {
			name       string
			err, rbErr error
			retry      bool
		}{
			{"the server ended the session", admin, fmt.Errorf("conn closed: %w", driver.ErrBadConn), true},
			{"killed: rollback finds the connection gone", mysql.ErrInvalidConn, mysql.ErrInvalidConn, true},
			{"Galera node left the cluster", &mysql.MySQLError{Number: 1047}, nil, true},
			{"COMMIT not sent", driver.ErrBadConn, nil, true},
			{"COMMIT of unknown outcome", &commitUnknownError{cause: mysql.ErrInvalidConn}, nil, false},
			{"the function's own EOF, rollback fine", fmt.Errorf("reading input: %w", io.EOF), nil, false},
			{"a deadline the caller set", context.DeadlineExceeded, mysql.ErrInvalidConn, false},
			{"an error of the server", &pgconn.PgError{Code: "23505"}, nil, false},
		} {
			if got := lostBeforeCommit(tt.err, tt.rbErr); got != tt.retry {
				t.Errorf("%s: retry %v, want %v", tt.name, got, tt.retry)
			}
		}
	})
}
